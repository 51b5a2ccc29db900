/*
 * apply_sql.c
 *	  Statement shapes for row changes:
 *
 *	    INSERT INTO t (cols) [OVERRIDING SYSTEM VALUE] VALUES ($1, ...)
 *	    UPDATE ONLY t SET c = $n, ... WHERE <row>
 *	    DELETE FROM ONLY t WHERE <row>
 *
 *	  <row> is "k = $n AND ..." over the target's primary key (or replica
 *	  identity index) when the change carries it, else "ctid = (SELECT ctid
 *	  FROM ONLY t WHERE <every old column matches> LIMIT 1)", so that with
 *	  REPLICA IDENTITY FULL and duplicate rows exactly one row changes.
 *	  A leaf written through its partition root (partroute.h) is written as
 *	  the root, without ONLY, and a row is "(tableoid, ctid)" there.
 *	  Parameters are sent as text with no declared type, so the server reads
 *	  each value with the column's own input function.  A match on a column
 *	  casts where the type needs it (ColumnMeta.match_type): the reg* types
 *	  use oid's "=" and a composite record's, which would read a regclass's
 *	  name as an oid; an enum's "=" takes no domain over it, so a domain
 *	  compares as its base type.
 *
 *	  Also what the target's column types say about the values: which columns
 *	  are generated, and the "\x" of bytea values the decoder could not
 *	  restore (ByteaFix).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_sql.h"
#include "alloc.h"

/* The index of column name in t, or -1 (declared in tablemeta.h). */
int
tablemeta_column(const TableMeta *t, const char *name)
{
	for (int i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return i;
	return -1;
}

/* "ONLY " but for a root written in its leaves' stead (ONLY would find no row). */
static const char *
only(const TableMeta *t)
{
	return t->leaf_qualname ? "" : "ONLY ";
}

/*
 * What names one row of what the statement writes (ctid alone repeats
 * across leaves), as a row to compare or as a select list.
 */
static const char *
row_id(const TableMeta *t, bool as_row)
{
	if (t->leaf_qualname == NULL)
		return "ctid";
	return as_row ? "(tableoid, ctid)" : "tableoid, ctid";
}

void
rowstmt_init(RowStatement *rs)
{
	memset(rs, 0, sizeof(*rs));
	strbuf_init(&rs->key);
	strbuf_init(&rs->sql);
}

void
rowstmt_free(RowStatement *rs)
{
	strbuf_free(&rs->key);
	strbuf_free(&rs->sql);
	free(rs->params);
	free(rs->colidx);
}

static void
add_colidx(RowStatement *rs, int idx)
{
	if (rs->ncols == rs->colcap)
	{
		rs->colcap = rs->colcap ? rs->colcap * 2 : 32;
		rs->colidx = pg_realloc(rs->colidx, sizeof(int) * rs->colcap);
	}
	rs->colidx[rs->ncols++] = idx;
}

/* Appends to the SQL text only when the caller wants it (a cache miss). */
static void
sql_printf(RowStatement *rs, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static void
sql_printf(RowStatement *rs, const char *fmt,...)
{
	va_list		ap;
	char	   *text;

	if (!rs->want_sql)
		return;
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		abort();
	va_end(ap);
	strbuf_append(&rs->sql, text);
	free(text);
}

/* Appends "<n><suffix>" to the shape key without printf (hot path). */
static void
key_int(RowStatement *rs, int n, const char *suffix)
{
	char		digits[16];
	int			len = 0;

	do
	{
		digits[sizeof(digits) - 1 - len++] = (char) ('0' + n % 10);
		n /= 10;
	} while (n > 0);
	strbuf_append_len(&rs->key, digits + sizeof(digits) - len, len);
	strbuf_append(&rs->key, suffix);
}

static int
add_param(RowStatement *rs, const char *value)
{
	if (rs->nparams == rs->cap)
	{
		rs->cap = rs->cap ? rs->cap * 2 : 32;
		rs->params = pg_realloc(rs->params, sizeof(char *) * rs->cap);
	}
	rs->params[rs->nparams++] = value;
	return rs->nparams;
}

/*
 * "<prefix>col = <value>", with the casts col's type needs to find the row
 * (match_type).  The caller frees it.
 */
char *
match_sql(const char *prefix, const ColumnMeta *col, const char *value)
{
	const char *type = col->match_type ? col->match_type : "";
	const char *cast = col->match_type ? "::" : "";

	return psprintf("%s%s%s%s = %s%s%s", prefix, col->quoted, col->match_casts_column ? cast : "",
					col->match_casts_column ? type : "", value, cast, type);
}

/* Names of the common built-in types, for messages (OIDs are fixed). */
static const char *
builtin_type_name(uint32_t oid)
{
	static const struct
	{
		uint32_t	oid;
		const char *name;
	}			names[] = {
		{16, "boolean"}, {17, "bytea"}, {20, "bigint"}, {21, "smallint"}, {23, "integer"},
		{25, "text"}, {114, "json"}, {700, "real"}, {701, "double precision"},
		{1042, "character"}, {1043, "character varying"}, {1082, "date"},
		{1114, "timestamp without time zone"}, {1184, "timestamp with time zone"},
		{1186, "interval"}, {1700, "numeric"}, {2950, "uuid"}, {3802, "jsonb"}, {0, NULL}
	};

	for (int i = 0; names[i].name; i++)
		if (names[i].oid == oid)
			return names[i].name;
	return "another type";
}

/* Checks that a change column exists on the target with the same type. */
static int
target_column(const TableMeta *t, const ChangeColumn *cc, int hint, char **drift)
{
	int			idx = hint >= 0 && hint < t->ncols && strcmp(t->cols[hint].name, cc->name) == 0
		? hint : tablemeta_column(t, cc->name);

	if (idx < 0)
	{
		*drift = psprintf("column \"%s\" of %s exists on the source but not on the target; fix: run ALTER TABLE %s ADD COLUMN ... (as on the source) on the target, then follow again",
						  cc->name, t->qualname, t->qualname);
		return -1;
	}
	/* built-in types have the same OID everywhere: a different one is a type change */
	if (cc->typeoid != 0 && cc->typeoid < 16384 && cc->typeoid != t->cols[idx].typeoid)
	{
		const char *type = cc->type ? cc->type : builtin_type_name(cc->typeoid);

		*drift = psprintf("column \"%s\" of %s is %s on the source but %s on the target; fix: run ALTER TABLE %s ALTER COLUMN %s TYPE %s on the target, then follow again",
						  cc->name, t->qualname, type, t->cols[idx].type,
						  t->qualname, t->cols[idx].quoted, type);
		return -1;
	}
	/* user-defined type OIDs differ between clusters; built-in vs not is a change */
	if (cc->typeoid >= 16384 && t->cols[idx].typeoid < 16384)
	{
		*drift = psprintf("column \"%s\" of %s has a user-defined type (enum, domain, composite or extension type) on the source but %s on the target; fix: create that type on the target and run ALTER TABLE %s ALTER COLUMN %s TYPE <the source's type> there, then follow again",
						  cc->name, t->qualname, t->cols[idx].type, t->qualname, t->cols[idx].quoted);
		return -1;
	}
	return idx;
}

/* Appends "c1 = $1, c2 = $2" (UPDATE) or collects INSERT columns. */
static bool
plan_new_values(RowStatement *rs, const TableMeta *t, const Change *c, StrBuf *cols, char **drift)
{
	bool		first = true;

	for (int i = 0; i < c->ncolumns; i++)
	{
		int			idx = target_column(t, &c->columns[i], i, drift);
		int			param;

		if (idx < 0)
			return false;
		if (t->cols[idx].generated)
			continue;
		key_int(rs, idx, ",");
		add_colidx(rs, idx);
		param = add_param(rs, c->columns[i].value);
		if (!rs->want_sql)
			continue;
		if (!first)
			strbuf_append(cols, ", ");
		first = false;
		if (c->action == CHANGE_UPDATE)
			strbuf_printf(cols, "%s = $%d", t->cols[idx].quoted, param);
		else
			strbuf_append(cols, t->cols[idx].quoted);
	}
	return true;
}

/* Appends the WHERE clause that finds the changed row. */
static bool
plan_row_match(RowStatement *rs, const TableMeta *t, const Change *c, char **drift)
{
	/* a FULL old row with every column NULL comes empty from wal2json < 2.5 */
	bool		old_row = c->nidentity > 0 || (t->source_identity_full && c->action != CHANGE_INSERT);
	const ChangeColumn *ident = old_row ? c->identity : c->columns;
	int			nident = old_row ? c->nidentity : c->ncolumns;
	bool		by_key = t->nkey > 0;
	int			nconds = 0;

	for (int k = 0; k < t->nkey && by_key; k++)
		by_key = change_column(ident, nident, t->cols[t->key[k]].name) != NULL;

	rs->by_key = by_key;
	if (by_key)
	{
		strbuf_append(&rs->key, "|K");
		rs->key_unchanged = true;
		for (int k = 0; k < t->nkey && c->action == CHANGE_UPDATE; k++)
		{
			const ChangeColumn *old = change_column(ident, nident, t->cols[t->key[k]].name);
			const ChangeColumn *new = change_column(c->columns, c->ncolumns, t->cols[t->key[k]].name);

			if (new && (old->value == NULL || new->value == NULL || strcmp(old->value, new->value) != 0))
				rs->key_unchanged = false;
		}
		sql_printf(rs, " WHERE ");
		for (int k = 0; k < t->nkey; k++)
		{
			const ColumnMeta *col = &t->cols[t->key[k]];
			const ChangeColumn *v = change_column(ident, nident, col->name);
			int			param = add_param(rs, v->value);
			char		value[16];
			char	   *match;

			if (!rs->want_sql)
				continue;
			snprintf(value, sizeof(value), "$%d", param);
			match = match_sql("", col, value);
			sql_printf(rs, "%s%s", k ? " AND " : "", match);
			free(match);
		}
		return true;
	}
	if (t->ncols == 0)
	{
		/* a table without columns: any row is the row */
		sql_printf(rs, " WHERE %s = (SELECT %s FROM %s%s LIMIT 1)", row_id(t, true), row_id(t, false), only(t), t->qualname);
		return true;
	}
	if (c->nidentity == 0 && !t->source_identity_full)
	{
		*drift = psprintf("%s has no primary key on the target and the change carries no old row; fix: give the table the same primary key or replica identity on both sides",
						  t->qualname);
		return false;
	}
	strbuf_append(&rs->key, "|F");
	sql_printf(rs, " WHERE %s = (SELECT %s FROM %s%s WHERE ", row_id(t, true), row_id(t, false), only(t), t->qualname);
	for (int i = 0; i < nident; i++)
	{
		int			idx = target_column(t, &ident[i], i, drift);
		int			param;
		const ColumnMeta *col;

		if (idx < 0)
			return false;
		col = &t->cols[idx];

		/*
		 * A generated column is a function of the others: nothing to match.
		 * A virtual one (PostgreSQL 18) is not even in the old row (NULL).
		 */
		if (col->generated)
			continue;
		if (nconds++ > 0)
			sql_printf(rs, " AND ");
		if (ident[i].value == NULL && column_null_ambiguous(col))
		{
			/*
			 * NULL from the plugin may have been NaN or +-Infinity.  apply
			 * sends such old rows of FULL tables to nanfix.h's row classes;
			 * only a table keyless on both sides, whose identity names
			 * columns, still comes here, and takes any row of the candidates.
			 */
			key_int(rs, idx, "S,");
			sql_printf(rs, "(%s IS NULL OR %s::text IN ('NaN', 'Infinity', '-Infinity'))",
					   col->quoted, col->quoted);
		}
		else if (ident[i].value == NULL)
		{
			key_int(rs, idx, "N,");
			sql_printf(rs, "%s IS NULL", col->quoted);
		}
		else if (col->has_equality)
		{
			key_int(rs, idx, "E,");
			param = add_param(rs, ident[i].value);
			if (rs->want_sql)
			{
				char		value[16];
				char	   *match;

				snprintf(value, sizeof(value), "$%d", param);
				match = match_sql("", col, value);
				sql_printf(rs, "%s", match);
				free(match);
			}
		}
		else
		{
			/* json, xml, point...: no equality operator, compare the text */
			key_int(rs, idx, "T,");
			param = add_param(rs, ident[i].value);
			sql_printf(rs, "%s::text = $%d", col->quoted, param);
		}
	}
	/* wal2json < 2.5 leaves the NULL columns out of a FULL old row */
	for (int i = 0; i < t->ncols && t->source_identity_full; i++)
	{
		if (t->cols[i].generated || change_column(ident, nident, t->cols[i].name) != NULL)
			continue;
		key_int(rs, i, "M,");
		sql_printf(rs, "%s%s IS NULL", nconds++ > 0 ? " AND " : "", t->cols[i].quoted);
	}
	if (nconds == 0)
		sql_printf(rs, "true");
	sql_printf(rs, " LIMIT 1)");
	return true;
}

static bool
has_identity_always(const TableMeta *t)
{
	for (int i = 0; i < t->ncols; i++)
		if (t->cols[i].identity_always)
			return true;
	return false;
}

/* An INSERT must carry every column the target will not compute itself. */
static bool
check_insert_complete(const TableMeta *t, const RowStatement *rs, const Change *c, char **drift)
{
	int			writable = 0;

	for (int i = 0; i < t->ncols; i++)
		writable += !t->cols[i].generated;
	if (rs->ncols == writable)
		return true;			/* every change column maps to a distinct target column */
	for (int i = 0; i < t->ncols; i++)
		if (!t->cols[i].generated && change_column(c->columns, c->ncolumns, t->cols[i].name) == NULL)
		{
			*drift = psprintf("column \"%s\" of %s exists on the target but not on the source (dropped there?); fix: run ALTER TABLE %s DROP COLUMN %s on the target, then follow again",
							  t->cols[i].name, t->qualname, t->qualname, t->cols[i].quoted);
			return false;
		}
	return true;
}

bool
rowstmt_plan(RowStatement *rs, const TableMeta *t, const Change *c, char **drift)
{
	StrBuf		cols;
	bool		ok = true;

	strbuf_reset(&rs->key);
	strbuf_reset(&rs->sql);
	rs->nparams = 0;
	rs->ncols = 0;
	rs->by_key = false;
	rs->key_unchanged = false;
	rs->action = (char) c->action;
	rs->expect_one_row = c->action != CHANGE_INSERT;
	*drift = NULL;
	strbuf_init(&cols);
	{
		char		action[3] = {(char) c->action, '|', '\0'};

		strbuf_append(&rs->key, action);
	}

	switch (c->action)
	{
		case CHANGE_INSERT:
			ok = plan_new_values(rs, t, c, &cols, drift) && check_insert_complete(t, rs, c, drift);
			if (ok && rs->want_sql)
			{
				StrBuf		vals;

				strbuf_init(&vals);
				for (int i = 1; i <= rs->nparams; i++)
					strbuf_printf(&vals, "%s$%d", i > 1 ? ", " : "", i);
				if (rs->nparams == 0)
					strbuf_printf(&rs->sql, "INSERT INTO %s DEFAULT VALUES", t->qualname);
				else
					strbuf_printf(&rs->sql, "INSERT INTO %s (%s)%s VALUES (%s)", t->qualname, cols.data,
								  has_identity_always(t) ? " OVERRIDING SYSTEM VALUE" : "", vals.data);
				strbuf_free(&vals);
			}
			break;
		case CHANGE_UPDATE:
			ok = plan_new_values(rs, t, c, &cols, drift);
			for (int i = 0; ok && rs->ncols == 0 && i < t->ncols; i++)
			{
				/* nothing writable in the change: a no-op that still finds the row */
				if (!t->cols[i].generated)
				{
					strbuf_printf(&cols, "%s = %s", t->cols[i].quoted, t->cols[i].quoted);
					key_int(rs, i, "=,");
					break;
				}
			}
			if (ok)
			{
				sql_printf(rs, "UPDATE %s%s SET %s", only(t), t->qualname, cols.data);
				ok = plan_row_match(rs, t, c, drift);
			}
			break;
		case CHANGE_DELETE:
			sql_printf(rs, "DELETE FROM %s%s", only(t), t->qualname);
			ok = plan_row_match(rs, t, c, drift);
			break;
		default:
			*drift = psprintf("internal error: cannot plan change action '%c'", c->action);
			ok = false;
	}
	strbuf_free(&cols);
	return ok;
}

bool
rowstmt_batchable(const RowStatement *rs, const TableMeta *t)
{
	switch (rs->action)
	{
		case CHANGE_INSERT:
			return rs->ncols > 0;
		case CHANGE_UPDATE:
			/* other unique indexes could see a transient duplicate mid-statement */
			return rs->by_key && rs->key_unchanged && rs->ncols > 0 && !t->other_unique;
		case CHANGE_DELETE:
			return rs->by_key;
		default:
			return false;
	}
}

/* Appends "(VALUES ($1::t1, ...), (...)) AS v(p1, ...)" for nrows rows. */
static void
append_values(StrBuf *out, const int *colidx, int ncols, const TableMeta *t, int nrows, bool with_cols)
{
	int			per_row = (with_cols ? ncols : 0) + t->nkey;
	int			param = 1;

	strbuf_append(out, "(VALUES ");
	for (int r = 0; r < nrows; r++)
	{
		strbuf_append(out, r ? ", (" : "(");
		for (int i = 0; i < per_row; i++)
		{
			int			col = i < (with_cols ? ncols : 0) ? colidx[i]
				: t->key[i - (with_cols ? ncols : 0)];

			strbuf_printf(out, "%s$%d::%s", i ? ", " : "", param++, t->cols[col].typename_nomod);
		}
		strbuf_append(out, ")");
	}
	strbuf_append(out, ") AS v(");
	for (int i = 0; i < per_row; i++)
		strbuf_printf(out, "%sp%d", i ? ", " : "", i + 1);
	strbuf_append(out, ")");
}

static void
append_key_join(StrBuf *out, int ncols, const TableMeta *t)
{
	for (int k = 0; k < t->nkey; k++)
	{
		char		value[16];
		char	   *match;

		snprintf(value, sizeof(value), "v.p%d", ncols + k + 1);
		match = match_sql("x.", &t->cols[t->key[k]], value);
		strbuf_printf(out, "%s%s", k ? " AND " : " WHERE ", match);
		free(match);
	}
}

void
rowstmt_batch_sql(char action, const int *colidx, int ncols, const TableMeta *t, int nrows,
				  StrBuf *out)
{
	strbuf_reset(out);
	if (action == CHANGE_INSERT)
	{
		int			param = 1;

		strbuf_printf(out, "INSERT INTO %s (", t->qualname);
		for (int i = 0; i < ncols; i++)
			strbuf_printf(out, "%s%s", i ? ", " : "", t->cols[colidx[i]].quoted);
		strbuf_printf(out, ")%s VALUES ", has_identity_always(t) ? " OVERRIDING SYSTEM VALUE" : "");
		for (int r = 0; r < nrows; r++)
		{
			strbuf_append(out, r ? ", (" : "(");
			for (int i = 0; i < ncols; i++)
				strbuf_printf(out, "%s$%d::%s", i ? ", " : "", param++, t->cols[colidx[i]].typename_nomod);
			strbuf_append(out, ")");
		}
	}
	else if (action == CHANGE_UPDATE)
	{
		strbuf_printf(out, "UPDATE %s%s AS x SET ", only(t), t->qualname);
		for (int i = 0; i < ncols; i++)
			strbuf_printf(out, "%s%s = v.p%d", i ? ", " : "", t->cols[colidx[i]].quoted, i + 1);
		strbuf_append(out, " FROM ");
		append_values(out, colidx, ncols, t, nrows, true);
		append_key_join(out, ncols, t);
	}
	else
	{
		strbuf_printf(out, "DELETE FROM %s%s AS x USING ", only(t), t->qualname);
		append_values(out, colidx, 0, t, nrows, false);
		append_key_join(out, 0, t);
	}
}

bool
attgenerated_never_written(char attgenerated)
{
	return attgenerated == 's' || attgenerated == 'v';
}

void
byteafix_init(ByteaFix *bf)
{
	memset(bf, 0, sizeof(*bf));
}

void
byteafix_free(ByteaFix *bf)
{
	free(bf->columns);
	free(bf->identity);
	free(bf->text);
	memset(bf, 0, sizeof(*bf));
}

bool
bytea_value_needs_prefix(const ColumnMeta *col, const ChangeColumn *v)
{
	if (v->value == NULL || !col->is_bytea)
		return false;
	/* a decoder that saw the type restored the prefix already */
	if (v->typeoid != 0 || v->type != NULL)
		return false;
	return !(v->value_len >= 2 && v->value[0] == '\\' && v->value[1] == 'x');
}

/* The target column of change column i of list, or NULL. */
static const ColumnMeta *
column_of(const TableMeta *t, const ChangeColumn *list, int i)
{
	int			idx = i < t->ncols && strcmp(t->cols[i].name, list[i].name) == 0
		? i : tablemeta_column(t, list[i].name);

	return idx >= 0 ? &t->cols[idx] : NULL;
}

/* Bytes the corrected values of list need in ByteaFix.text. */
static size_t
fix_size(const TableMeta *t, const ChangeColumn *list, int n)
{
	size_t		need = 0;

	for (int i = 0; i < n; i++)
	{
		const ColumnMeta *col = column_of(t, list, i);

		if (col && bytea_value_needs_prefix(col, &list[i]))
			need += list[i].value_len + 3;
	}
	return need;
}

/* Copies list into *out (grown as needed), the values needing it prefixed. */
static ChangeColumn *
fix_list(ByteaFix *bf, const TableMeta *t, ChangeColumn *list, int n,
		 ChangeColumn **out, int *cap, size_t *pos)
{
	if (n == 0)
		return list;
	if (*cap < n)
	{
		*cap = n;
		*out = pg_realloc(*out, sizeof(ChangeColumn) * n);
	}
	memcpy(*out, list, sizeof(ChangeColumn) * n);
	for (int i = 0; i < n; i++)
	{
		const ColumnMeta *col = column_of(t, list, i);
		char	   *dst = bf->text + *pos;

		if (col == NULL || !bytea_value_needs_prefix(col, &list[i]))
			continue;
		dst[0] = '\\';
		dst[1] = 'x';
		memcpy(dst + 2, list[i].value, list[i].value_len);
		dst[list[i].value_len + 2] = '\0';
		(*out)[i].value = dst;
		(*out)[i].value_len = list[i].value_len + 2;
		*pos += list[i].value_len + 3;
	}
	return *out;
}

const Change *
byteafix_apply(ByteaFix *bf, const TableMeta *t, const Change *c)
{
	size_t		need;
	size_t		pos = 0;

	if (!t->any_bytea)
		return c;
	need = fix_size(t, c->columns, c->ncolumns) + fix_size(t, c->identity, c->nidentity);
	if (need == 0)
		return c;
	if (bf->textcap < need)
	{
		bf->textcap = need;
		bf->text = pg_realloc(bf->text, need);
	}
	bf->change = *c;
	bf->change.columns = fix_list(bf, t, c->columns, c->ncolumns, &bf->columns, &bf->capcolumns, &pos);
	bf->change.identity = fix_list(bf, t, c->identity, c->nidentity, &bf->identity, &bf->capidentity, &pos);
	return &bf->change;
}

/* The class columns of t: its key, or every written column (FULL, keyless). */
static int
class_column(const TableMeta *t, bool by_key, int i)
{
	return by_key ? t->key[i] : i;
}

static int
class_ncolumns(const TableMeta *t, bool by_key)
{
	return by_key ? t->nkey : t->ncols;
}

bool
rowclass_ambiguous(const TableMeta *t, const ChangeColumn *img, int n, bool by_key)
{
	for (int i = 0; i < class_ncolumns(t, by_key); i++)
	{
		const ColumnMeta *col = &t->cols[class_column(t, by_key, i)];
		const ChangeColumn *v;

		if (!column_null_ambiguous(col) || col->generated)
			continue;
		v = change_column(img, n, col->name);
		if (v == NULL || v->value == NULL)
			return true;
	}
	return false;
}

void
rowclass_predicate(StrBuf *sql, const TableMeta *t, const ChangeColumn *img, int n,
				   bool by_key, bool numeric_infinity, const char **params, int *nparams)
{
	int			nconds = 0;

	strbuf_append(sql, "(");
	for (int i = 0; i < class_ncolumns(t, by_key); i++)
	{
		const ColumnMeta *col = &t->cols[class_column(t, by_key, i)];
		const ChangeColumn *v = change_column(img, n, col->name);
		const char *value = v ? v->value : NULL;	/* wal2json < 2.5 leaves NULLs out */

		if (col->generated)
			continue;
		strbuf_append(sql, nconds++ ? " AND " : "");
		if (value == NULL && column_null_ambiguous(col))
		{
			/*
			 * NULL, NaN, Infinity or -Infinity.  A key column is NOT NULL.
			 * The literals take the column's type, so an index serves;
			 * numeric has no infinities before PostgreSQL 14.
			 */
			bool		infinities = col->typeoid != 1700 || numeric_infinity;

			if (by_key)
				strbuf_printf(sql, "%s IN ('NaN'%s)", col->quoted,
							  infinities ? ", 'Infinity', '-Infinity'" : "");
			else
				strbuf_printf(sql, "(%s IS NULL OR %s IN ('NaN'%s))", col->quoted, col->quoted,
							  infinities ? ", 'Infinity', '-Infinity'" : "");
		}
		else if (value == NULL)
			strbuf_printf(sql, "%s IS NULL", col->quoted);
		else
		{
			params[(*nparams)++] = value;
			if (col->has_equality)
			{
				char		ref[16];
				char	   *match;

				snprintf(ref, sizeof(ref), "$%d", *nparams);
				match = match_sql("", col, ref);
				strbuf_append(sql, match);
				free(match);
			}
			else
				strbuf_printf(sql, "%s::text = $%d", col->quoted, *nparams);
		}
	}
	strbuf_append(sql, nconds ? ")" : "true)");
}

void
rowclass_select_list(StrBuf *sql, const TableMeta *t)
{
	int			n = 0;

	strbuf_append(sql, "SELECT ");
	for (int i = 0; i < t->ncols; i++)
		if (!t->cols[i].generated)
			strbuf_printf(sql, "%s%s::text", n++ ? ", " : "", t->cols[i].quoted);
	if (n == 0)
		strbuf_append(sql, "NULL");
	/* read on the source: a leaf written through its root is there as the leaf */
	if (t->leaf_qualname)
		strbuf_printf(sql, " FROM ONLY %s WHERE ", t->leaf_qualname);
	else
		strbuf_printf(sql, " FROM %s%s WHERE ", t->relkind == 'p' ? "" : "ONLY ", t->qualname);
}
