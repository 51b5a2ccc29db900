/*
 * nanfix.c
 *	  NaN / Infinity resolution by keyed re-read on the source, batched per
 *	  table: one source query per table and batch, one target UPDATE per
 *	  row that really held NaN or Infinity.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "nanfix.h"
#include "pgconn.h"
#include "alloc.h"
#include "strbuf.h"

typedef struct NanRow
{
	TableMeta  *table;
	char	  **key;			/* key values as text, t->nkey of them */
} NanRow;

struct NanFixer
{
	NanRow	   *rows;
	int			nrows;
	int			cap;
};

NanFixer *
nanfix_create(void)
{
	return pg_malloc0(sizeof(NanFixer));
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
}

void
nanfix_destroy(NanFixer *nf)
{
	if (nf == NULL)
		return;
	nanfix_clear(nf);
	free(nf->rows);
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
		if (PQgetisnull(res, row, col) || t->nkey > 32)
		{
			col++;
			continue;
		}
		strbuf_init(&sql);
		strbuf_printf(&sql, "UPDATE %s%s SET %s = $1 WHERE %s IS NULL", t->leaf_qualname ? "" : "ONLY ", t->qualname,
					  t->cols[i].quoted, t->cols[i].quoted);
		params[0] = PQgetvalue(res, row, col);
		for (int k = 0; k < t->nkey; k++)
		{
			strbuf_printf(&sql, " AND %s::text = $%d", t->cols[t->key[k]].quoted, k + 2);
			params[k + 1] = PQgetvalue(res, row, k);
		}
		if (strcmp(params[0], "NaN") == 0 || strcmp(params[0], "Infinity") == 0 ||
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
