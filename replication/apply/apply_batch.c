/*
 * apply_batch.c
 *	  The row buffer of apply: row changes wait here until a flush, then go
 *	  out table by table, runs of rows of one statement shape as a single
 *	  multi-row statement (prepared per shape and batch size).  Changes of
 *	  different tables commute with triggers and foreign keys off (replica
 *	  role), so only the order within a table is kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_int.h"
#include "apply_sql.h"
#include "keydedup.h"
#include "alloc.h"
#include "outcome.h"

/*
 * Plans change c into a->rs and returns its shape, created on first use:
 * the SQL text is only built then, the hot path compares shape keys.
 */
PreparedStmt *
apply_plan_shape(Apply *a, TableMeta *t, const Change *c)
{
	PreparedStmt *ps;
	char	   *drift = NULL;

	a->rs.want_sql = false;
	if (!rowstmt_plan(&a->rs, t, c, &drift))
	{
		apply_fail(a, OUTCOME_DRIFT, "%s", drift);
		free(drift);
		return NULL;
	}
	for (ps = t->stmts; ps; ps = ps->next)
		if (strcmp(ps->key, a->rs.key.data) == 0)
			return ps;
	a->rs.want_sql = true;
	if (!rowstmt_plan(&a->rs, t, c, &drift))
	{
		apply_fail(a, OUTCOME_DRIFT, "%s", drift);
		free(drift);
		return NULL;
	}
	ps = pg_malloc0(sizeof(PreparedStmt));
	ps->key = pg_strdup(a->rs.key.data);
	snprintf(ps->name, sizeof(ps->name), "s%d", ++a->stmt_seq);
	ps->sql = pg_strdup(a->rs.sql.data);
	ps->action = a->rs.action;
	ps->ncols = a->rs.ncols;
	ps->colidx = pg_malloc0(sizeof(int) * (a->rs.ncols + 1));
	if (a->rs.ncols > 0)		/* a DELETE writes no column: colidx may be NULL */
		memcpy(ps->colidx, a->rs.colidx, sizeof(int) * a->rs.ncols);
	ps->nparams = a->rs.nparams;
	ps->batchable = rowstmt_batchable(&a->rs, t);
	ps->expect_one_row = a->rs.expect_one_row;
	ps->next = t->stmts;
	t->stmts = ps;
	return ps;
}

/* Finds or creates the server statement for nrows rows of shape. */
static PreparedStmt *
batch_statement(Apply *a, TableMeta *t, const PreparedStmt *shape, int nrows)
{
	char		key[64];
	PreparedStmt *ps;
	size_t		klen = strlen(shape->key) + sizeof(key);
	char	   *fullkey = pg_malloc0(klen);

	snprintf(key, sizeof(key), "#%d", nrows);
	snprintf(fullkey, klen, "%s%s", shape->key, key);
	for (ps = t->stmts; ps; ps = ps->next)
		if (strcmp(ps->key, fullkey) == 0)
			break;
	if (ps == NULL)
	{
		ps = pg_malloc0(sizeof(PreparedStmt));
		ps->key = fullkey;
		fullkey = NULL;
		snprintf(ps->name, sizeof(ps->name), "s%d", ++a->stmt_seq);
		rowstmt_batch_sql(shape->action, shape->colidx, shape->ncols, t, nrows, &a->batch_sql);
		ps->sql = pg_strdup(a->batch_sql.data);
		ps->nparams = shape->nparams * nrows;
		ps->next = t->stmts;
		t->stmts = ps;
	}
	free(fullkey);
	return ps;
}

/* Sends one execution of ps with params, preparing it first if needed. */
static bool
send_prepared(Apply *a, TableMeta *t, PreparedStmt *ps, const char *const *params,
			  int expect_rows, const char *what)
{
	if (!ps->prepared)
	{
		if (PQsendPrepare(a->tgt, ps->name, ps->sql, 0, NULL) != 1)
			return apply_fail(a, OUTCOME_CONNECTION, "cannot send to the target: %s", PQerrorMessage(a->tgt));
		apply_push_pending(a, -1, "preparing", ps->sql);
		ps->prepared = true;
	}
	if (PQsendQueryPrepared(a->tgt, ps->name, ps->nparams, params, NULL, NULL, 0) != 1)
		return apply_fail(a, OUTCOME_CONNECTION, "cannot send to the target: %s", PQerrorMessage(a->tgt));
	apply_push_pending(a, expect_rows, what, t->qualname);
	return apply_maybe_sync(a);
}

static const char *
what_of(char action)
{
	return action == CHANGE_INSERT ? "INSERT into" : action == CHANGE_UPDATE ? "UPDATE of" : "DELETE from";
}

/* Pointers to the parameters of buffered rows idx[0..n-1], row after row. */
static const char **
gather_params(Apply *a, const int *idx, int n)
{
	int			per_row = a->rows[idx[0]].shape->nparams;

	if (a->capbatch_params < per_row * n)
	{
		a->capbatch_params = per_row * n;
		a->batch_params = pg_realloc(a->batch_params, sizeof(char *) * a->capbatch_params);
	}
	for (int r = 0; r < n; r++)
		for (int p = 0; p < per_row; p++)
		{
			int			off = a->param_off[a->rows[idx[r]].first_param + p];

			a->batch_params[r * per_row + p] = off < 0 ? NULL : a->arena.data + off;
		}
	return a->batch_params;
}

/* Hash of the key of buffered UPDATE row i (its last nkey parameters). */
static unsigned
key_hash(void *arg, int i)
{
	const Apply *a = arg;
	const PreparedStmt *shape = a->rows[i].shape;
	unsigned	h = 2166136261u;

	for (int k = shape->nparams - a->rows[i].table->nkey; k < shape->nparams; k++)
	{
		int			off = a->param_off[a->rows[i].first_param + k];

		for (const char *p = off < 0 ? "" : a->arena.data + off; *p; p++)
			h = (h ^ (unsigned char) *p) * 16777619u;
		h = (h ^ 0x1f) * 16777619u;
	}
	return h;
}

static bool
same_key(void *arg, int i, int j)
{
	const Apply *a = arg;
	const PreparedStmt *shape = a->rows[i].shape;

	for (int k = shape->nparams - a->rows[i].table->nkey; k < shape->nparams; k++)
	{
		int			oi = a->param_off[a->rows[i].first_param + k];
		int			oj = a->param_off[a->rows[j].first_param + k];

		if (oi < 0 || oj < 0 || strcmp(a->arena.data + oi, a->arena.data + oj) != 0)
			return false;
	}
	return true;
}

/*
 * Sends a run of buffered rows of one batchable shape.  For UPDATE, a key
 * updated twice keeps only its last values (same columns, so the last row
 * says everything), or one statement would see two source rows for it.
 */
static bool
send_run(Apply *a, int *idx, int n)
{
	TableMeta  *t = a->rows[idx[0]].table;
	PreparedStmt *shape = a->rows[idx[0]].shape;
	int			max_batch = MAX_BATCH;

	if (shape->action == CHANGE_UPDATE && n > 1)
		n = keep_last_per_key(idx, n, key_hash, same_key, a);
	while (shape->nparams * max_batch > 65535)
		max_batch /= 2;
	for (int done = 0; done < n;)
	{
		int			size = n - done;

		if (size >= 4)
		{
			int			b = 4;

			while (b * 2 <= size && b * 2 <= max_batch)
				b *= 2;
			size = b;
			if (!send_prepared(a, t, batch_statement(a, t, shape, size), gather_params(a, idx + done, size),
							   shape->action == CHANGE_INSERT ? -1 : size, what_of(shape->action)))
				return false;
		}
		else
		{
			size = 1;
			if (!send_prepared(a, t, shape, gather_params(a, idx + done, 1),
							   shape->expect_one_row ? 1 : -1, what_of(shape->action)))
				return false;
		}
		done += size;
	}
	return true;
}

/*
 * Sends every buffered row change.  Tables are sent one after the other and
 * each table's rows in their order: with triggers and foreign keys off
 * (replica role), changes of different tables commute, so only the order
 * within a table matters.  Consecutive rows of one batchable shape go out as
 * one statement.
 */
bool
apply_flush_rows(Apply *a)
{
	int		   *run = NULL;
	bool		ok = true;

	if (a->nrows == 0)
		return true;
	run = pg_malloc0(sizeof(int) * a->nrows);
	for (int ti = 0; ti < a->nbuf_tables && ok; ti++)
	{
		TableMeta  *t = a->buf_tables[ti];
		int			i = t->buf_head;

		while (i >= 0 && ok)
		{
			PreparedStmt *shape = a->rows[i].shape;
			int			n = 0;

			if (!shape->batchable)
			{
				run[0] = i;
				ok = send_run(a, run, 1);
				i = a->rows[i].next;
				continue;
			}
			while (i >= 0 && a->rows[i].shape == shape)
			{
				run[n++] = i;
				i = a->rows[i].next;
			}
			ok = send_run(a, run, n);
		}
		t->buf_head = t->buf_tail = -1;
	}
	free(run);
	a->nrows = 0;
	a->nparam_off = 0;
	a->nbuf_tables = 0;
	strbuf_reset(&a->arena);
	return ok;
}

/* Buffers the statement planned in a->rs for table t. */
void
apply_buffer_row(Apply *a, TableMeta *t, PreparedStmt *shape)
{
	BufRow	   *row;

	if (a->nrows == a->caprows)
	{
		a->caprows = a->caprows ? a->caprows * 2 : 1024;
		a->rows = pg_realloc(a->rows, sizeof(BufRow) * a->caprows);
	}
	if (a->nparam_off + a->rs.nparams > a->capparam_off)
	{
		a->capparam_off = (a->nparam_off + a->rs.nparams) * 2;
		a->param_off = pg_realloc(a->param_off, sizeof(int) * a->capparam_off);
	}
	row = &a->rows[a->nrows];
	row->table = t;
	row->shape = shape;
	row->first_param = a->nparam_off;
	row->next = -1;
	for (int p = 0; p < a->rs.nparams; p++)
	{
		const char *v = a->rs.params[p];

		a->param_off[a->nparam_off++] = v ? (int) a->arena.len : -1;
		if (v)
			strbuf_append_len(&a->arena, v, strlen(v) + 1);
	}
	if (t->buf_head < 0)
	{
		if (a->nbuf_tables == a->capbuf_tables)
		{
			a->capbuf_tables = a->capbuf_tables ? a->capbuf_tables * 2 : 16;
			a->buf_tables = pg_realloc(a->buf_tables, sizeof(TableMeta *) * a->capbuf_tables);
		}
		a->buf_tables[a->nbuf_tables++] = t;
		t->buf_head = a->nrows;
	}
	else
		a->rows[t->buf_tail].next = a->nrows;
	t->buf_tail = a->nrows;
	a->nrows++;
}

