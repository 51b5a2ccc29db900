/*
 * nanfix.c
 *	  NaN / Infinity resolution by re-read on the source (nanfix.h).  Values:
 *	  a keyed re-read batched per table, one source query per table and
 *	  batch, one target UPDATE per row that really held NaN or Infinity.
 *	  Row classes: one source SELECT and one target DELETE per table and up
 *	  to CLASS_CHUNK classes, the source's rows inserted through apply.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "nanfix.h"
#include "pgconn.h"
#include "alloc.h"
#include "apply_sql.h"
#include "strbuf.h"

#define CLASS_CHUNK 64			/* classes in one statement */

typedef struct NanRow
{
	TableMeta  *table;
	char	  **key;			/* key values as text, t->nkey of them */
} NanRow;

/* A remembered row class: the image's values of its class columns. */
typedef struct NanClass
{
	TableMeta  *table;
	bool		by_key;
	ChangeColumn *img;			/* names point into table, values are ours */
	int			nimg;
} NanClass;

struct NanFixer
{
	NanRow	   *rows;
	int			nrows;
	int			cap;
	NanClass   *classes;
	int			nclasses;
	int			capclasses;
};

NanFixer *
nanfix_create(void)
{
	return pg_malloc0(sizeof(NanFixer));
}

static void
clear_classes(NanFixer *nf)
{
	for (int i = 0; i < nf->nclasses; i++)
	{
		for (int k = 0; k < nf->classes[i].nimg; k++)
			free((char *) nf->classes[i].img[k].value);
		free(nf->classes[i].img);
	}
	nf->nclasses = 0;
}

void
nanfix_clear(NanFixer *nf)
{
	for (int i = 0; i < nf->nrows; i++)
	{
		for (int k = 0; k < nf->rows[i].table->nkey; k++)
			free(nf->rows[i].key[k]);
		free(nf->rows[i].key);
	}
	nf->nrows = 0;
	clear_classes(nf);
}

void
nanfix_destroy(NanFixer *nf)
{
	if (nf == NULL)
		return;
	nanfix_clear(nf);
	free(nf->rows);
	free(nf->classes);
	free(nf);
}

int
nanfix_pending(const NanFixer *nf)
{
	return nf->nrows;
}

bool
nanfix_remember(NanFixer *nf, TableMeta *t, const Change *c)
{
	bool		ambiguous = false;
	NanRow		row;

	for (int i = 0; i < c->ncolumns && !ambiguous; i++)
	{
		int			idx;

		if (c->columns[i].value != NULL)
			continue;
		idx = tablemeta_column(t, c->columns[i].name);
		ambiguous = idx >= 0 && t->cols[idx].maybe_special;
	}
	if (!ambiguous)
		return true;
	if (t->nkey == 0)
		return false;

	row.table = t;
	row.key = pg_malloc0(sizeof(char *) * t->nkey);
	for (int k = 0; k < t->nkey; k++)
		for (int i = 0; i < c->ncolumns; i++)
			if (strcmp(c->columns[i].name, t->cols[t->key[k]].name) == 0 && c->columns[i].value)
				row.key[k] = pg_strdup(c->columns[i].value);
	for (int k = 0; k < t->nkey; k++)
		if (row.key[k] == NULL)
			row.key[k] = pg_strdup("");
	if (nf->nrows == nf->cap)
	{
		nf->cap = nf->cap ? nf->cap * 2 : 64;
		nf->rows = pg_realloc(nf->rows, sizeof(NanRow) * nf->cap);
	}
	nf->rows[nf->nrows++] = row;
	return true;
}

/* Appends s as an element of a text[] literal. */
static void
append_array_element(StrBuf *b, const char *s)
{
	strbuf_append(b, b->len > 1 ? ",\"" : "\"");
	for (const char *p = s; *p; p++)
	{
		if (*p == '"' || *p == '\\')
			strbuf_append_len(b, "\\", 1);
		strbuf_append_len(b, p, 1);
	}
	strbuf_append(b, "\"");
}

/* Builds the source query for table t: keys in, rows holding NaN/Inf out. */
static void
build_reread(StrBuf *sql, const TableMeta *t)
{
	int			n = 0;

	strbuf_append(sql, "SELECT ");
	for (int k = 0; k < t->nkey; k++)
		strbuf_printf(sql, "%s::text, ", t->cols[t->key[k]].quoted);
	for (int i = 0; i < t->ncols; i++)
		if (t->cols[i].maybe_special)
			strbuf_printf(sql, "%s%s::text", n++ ? ", " : "", t->cols[i].quoted);
	strbuf_printf(sql, " FROM ONLY %s WHERE (", t->leaf_qualname ? t->leaf_qualname : t->qualname);
	for (int k = 0; k < t->nkey; k++)
		strbuf_printf(sql, "%s%s::text", k ? ", " : "", t->cols[t->key[k]].quoted);
	strbuf_append(sql, ") IN (SELECT * FROM ROWS FROM (");
	for (int k = 0; k < t->nkey; k++)
		strbuf_printf(sql, "%spg_catalog.unnest($%d::text[])", k ? ", " : "", k + 1);
	strbuf_append(sql, ")) AND (");
	n = 0;
	for (int i = 0; i < t->ncols; i++)
		if (t->cols[i].maybe_special)
			strbuf_printf(sql, "%s%s::text IN ('NaN', 'Infinity', '-Infinity')", n++ ? " OR " : "",
						  t->cols[i].quoted);
	/* NOT NULL only on the target: the source's NULL must not stay NaN (send_fixes) */
	for (int i = 0; i < t->ncols; i++)
		if (t->cols[i].maybe_special && t->cols[i].not_null)
			strbuf_printf(sql, " OR %s IS NULL", t->cols[i].quoted);
	strbuf_append(sql, ")");
}

/* Sends UPDATEs for every NaN/Inf value of one re-read result row. */
static bool
send_fixes(const TableMeta *t, PGresult *res, int row, NanFixSendFn send, void *arg, int *nfixed)
{
	int			col = t->nkey;

	for (int i = 0; i < t->ncols; i++)
	{
		const char *params[33];
		StrBuf		sql;
		bool		ok;

		if (!t->cols[i].maybe_special)
			continue;
		/* a NULL for a NOT NULL column (written as NaN): the target refuses it, loudly */
		if ((PQgetisnull(res, row, col) && !t->cols[i].not_null) || t->nkey > 32)
		{
			col++;
			continue;
		}
		strbuf_init(&sql);
		/* a NOT NULL column's null was written as NaN (apply.c) */
		strbuf_printf(&sql, "UPDATE %s%s SET %s = $1 WHERE %s %s", t->leaf_qualname ? "" : "ONLY ", t->qualname,
					  t->cols[i].quoted, t->cols[i].quoted, t->cols[i].not_null ? "= 'NaN'" : "IS NULL");
		params[0] = PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
		for (int k = 0; k < t->nkey; k++)
		{
			strbuf_printf(&sql, " AND %s::text = $%d", t->cols[t->key[k]].quoted, k + 2);
			params[k + 1] = PQgetvalue(res, row, k);
		}
		if (params[0] == NULL || strcmp(params[0], "NaN") == 0 || strcmp(params[0], "Infinity") == 0 ||
			strcmp(params[0], "-Infinity") == 0)
		{
			ok = send(arg, sql.data, t->nkey + 1, params);
			*nfixed += ok;
		}
		else
			ok = true;
		strbuf_free(&sql);
		if (!ok)
			return false;
		col++;
	}
	return true;
}

/* Resolves the remembered rows of one table (marked by table pointer). */
static bool
resolve_table(NanFixer *nf, const TableMeta *t, PGconn *src, NanFixSendFn send, void *arg,
			  int *nfixed, char **errmsg)
{
	StrBuf		sql;
	StrBuf	   *arrays = pg_malloc0(sizeof(StrBuf) * t->nkey);
	const char **params = pg_malloc0(sizeof(char *) * t->nkey);
	PGresult   *res;
	bool		ok = true;

	for (int k = 0; k < t->nkey; k++)
	{
		strbuf_init(&arrays[k]);
		strbuf_append(&arrays[k], "{");
	}
	for (int i = 0; i < nf->nrows; i++)
		if (nf->rows[i].table == t)
			for (int k = 0; k < t->nkey; k++)
				append_array_element(&arrays[k], nf->rows[i].key[k]);
	for (int k = 0; k < t->nkey; k++)
	{
		strbuf_append(&arrays[k], "}");
		params[k] = arrays[k].data;
	}
	strbuf_init(&sql);
	build_reread(&sql, t);
	res = PQexecParams(src, sql.data, t->nkey, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		char	   *e = db_error(src);

		*errmsg = psprintf("re-reading %s on the source to resolve NaN/Infinity failed: %s", t->qualname, e);
		free(e);
		ok = false;
	}
	for (int r = 0; ok && r < PQntuples(res); r++)
		ok = send_fixes(t, res, r, send, arg, nfixed);
	PQclear(res);
	strbuf_free(&sql);
	for (int k = 0; k < t->nkey; k++)
		strbuf_free(&arrays[k]);
	free(arrays);
	free(params);
	return ok;
}

bool
nanfix_resolve(NanFixer *nf, PGconn *src, NanFixSendFn send, void *arg, int *nfixed, char **errmsg)
{
	bool		ok = true;

	*nfixed = 0;
	*errmsg = NULL;
	for (int i = 0; i < nf->nrows && ok; i++)
	{
		const TableMeta *t = nf->rows[i].table;
		bool		seen = false;

		for (int j = 0; j < i && !seen; j++)
			seen = nf->rows[j].table == t;
		if (!seen)
			ok = resolve_table(nf, t, src, send, arg, nfixed, errmsg);
	}
	nanfix_clear(nf);
	return ok;
}

int
nanfix_pending_classes(const NanFixer *nf)
{
	return nf->nclasses;
}

static bool
same_class(const NanClass *a, const NanClass *b)
{
	if (a->table != b->table || a->by_key != b->by_key || a->nimg != b->nimg)
		return false;
	for (int i = 0; i < a->nimg; i++)
		if ((a->img[i].value == NULL) != (b->img[i].value == NULL) ||
			(a->img[i].value && strcmp(a->img[i].value, b->img[i].value) != 0))
			return false;
	return true;
}

void
nanfix_remember_class(NanFixer *nf, TableMeta *t, const ChangeColumn *img, int n, bool by_key)
{
	NanClass	c = {t, by_key, NULL, 0};
	int			ncols = by_key ? t->nkey : t->ncols;

	/* the class columns only, in t's order: equal classes compare equal */
	c.img = pg_malloc0(sizeof(ChangeColumn) * (ncols + 1));
	for (int i = 0; i < ncols; i++)
	{
		const ColumnMeta *col = &t->cols[by_key ? t->key[i] : i];

		c.img[c.nimg].name = col->name;
		for (int j = 0; j < n; j++)
			if (strcmp(img[j].name, col->name) == 0 && img[j].value != NULL)
			{
				c.img[c.nimg].value = pg_strdup(img[j].value);
				c.img[c.nimg].value_len = img[j].value_len;
			}
		c.nimg++;
	}
	for (int i = 0; i < nf->nclasses; i++)
		if (same_class(&nf->classes[i], &c))
		{
			for (int k = 0; k < c.nimg; k++)
				free((char *) c.img[k].value);
			free(c.img);
			return;
		}
	if (nf->nclasses == nf->capclasses)
	{
		nf->capclasses = nf->capclasses ? nf->capclasses * 2 : 16;
		nf->classes = pg_realloc(nf->classes, sizeof(NanClass) * nf->capclasses);
	}
	nf->classes[nf->nclasses++] = c;
}

/*
 * Replaces classes[0..n-1], all of one table: their rows on the target
 * deleted, the source's inserted.  The two predicates take the same values
 * in the same order, so they share the parameters.
 */
static bool
replace_classes(const NanClass *classes, int n, PGconn *src, bool target_numeric_infinity,
				NanFixSendFn send, NanClassInsertFn insert, void *arg, int *nrows, char **errmsg)
{
	TableMeta  *t = classes[0].table;
	bool		source_numeric_infinity = PQserverVersion(src) >= 140000;
	const char **params = pg_malloc0(sizeof(char *) * ((size_t) (t->ncols + 1) * n));
	ChangeColumn *cols = pg_malloc0(sizeof(ChangeColumn) * (t->ncols + 1));
	StrBuf		select,
				del;
	int			nparams = 0,
				ntgt = 0;
	PGresult   *res;
	bool		ok = true;

	strbuf_init(&select);
	strbuf_init(&del);
	rowclass_select_list(&select, t);
	/* on the target a leaf written through its root (partroute.h) is the root's */
	strbuf_printf(&del, "DELETE FROM %s%s WHERE ",
				  t->relkind == 'p' || t->leaf_qualname ? "" : "ONLY ", t->qualname);
	for (int i = 0; i < n; i++)
	{
		strbuf_append(&select, i ? " OR " : "");
		strbuf_append(&del, i ? " OR " : "");
		rowclass_predicate(&select, t, classes[i].img, classes[i].nimg, classes[i].by_key,
						   source_numeric_infinity, params, &nparams);
		rowclass_predicate(&del, t, classes[i].img, classes[i].nimg, classes[i].by_key,
						   target_numeric_infinity, params, &ntgt);
	}
	res = PQexecParams(src, select.data, nparams, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		char	   *e = db_error(src);

		*errmsg = psprintf("re-reading rows of %s on the source to resolve a NaN/Infinity in their identity failed: %s",
						   t->qualname, e);
		free(e);
		ok = false;
	}
	/* the target's rows of these classes go first, then the source's come */
	if (ok)
		ok = send(arg, del.data, ntgt, params);
	for (int r = 0; ok && r < PQntuples(res); r++)
	{
		int			ncols = 0;

		for (int i = 0; i < t->ncols; i++)
		{
			if (t->cols[i].generated)
				continue;
			cols[ncols].name = t->cols[i].name;
			cols[ncols].value = PQgetisnull(res, r, ncols) ? NULL : PQgetvalue(res, r, ncols);
			cols[ncols].value_len = cols[ncols].value ? (size_t) PQgetlength(res, r, ncols) : 0;
			ncols++;
		}
		ok = insert(arg, t, cols, ncols);
		*nrows += ok;
	}
	PQclear(res);
	strbuf_free(&select);
	strbuf_free(&del);
	free(params);
	free(cols);
	return ok;
}

bool
nanfix_resolve_classes(NanFixer *nf, PGconn *src, bool target_numeric_infinity,
					   NanFixSendFn send, NanClassInsertFn insert, void *arg,
					   int *nrows, char **errmsg)
{
	NanClass   *chunk = pg_malloc0(sizeof(NanClass) * (CLASS_CHUNK + 1));
	bool	   *done = pg_malloc0(sizeof(bool) * (nf->nclasses + 1));
	bool		ok = true;

	*nrows = 0;
	*errmsg = NULL;
	for (int i = 0; i < nf->nclasses && ok; i++)
	{
		int			n = 0;
		int			max;

		if (done[i])
			continue;
		/* the classes of one table, in chunks within the protocol's 65535 parameters */
		max = 60000 / (nf->classes[i].table->ncols + 1);
		if (max > CLASS_CHUNK)
			max = CLASS_CHUNK;
		for (int j = i; j < nf->nclasses && (n < max || n == 0); j++)
			if (!done[j] && nf->classes[j].table == nf->classes[i].table)
			{
				chunk[n++] = nf->classes[j];
				done[j] = true;
			}
		ok = replace_classes(chunk, n, src, target_numeric_infinity, send, insert, arg, nrows, errmsg);
	}
	free(chunk);
	free(done);
	clear_classes(nf);
	return ok;
}
