/*
 * apply_ambiguous.c
 *	  Row changes wal2json cannot name exactly: a float/numeric null in
 *	  what finds or identifies a row may be NULL, NaN, Infinity or
 *	  -Infinity (wal2json prints them alike).  Such a change names a class
 *	  of rows: it is routed through nanfix.h's row classes, which are
 *	  replaced from the source before the group commits, together with the
 *	  remembered NaN/Infinity values (apply_resolve_nans).  Where the null
 *	  is in columns the target has no key on, follow stops.
 *
 *	  Called by apply.c (apply_row, commit_group, apply_ddl); the row
 *	  buffer and the pipeline are apply.c's and apply_batch.c's.
 */
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "apply_int.h"
#include "apply_sql.h"
#include "log.h"
#include "nanfix.h"
#include "pgconn.h"
#include "strbuf.h"
#include "tablemeta.h"

/*
 * A statement of nanfix.c: after every row buffered before it.  (Two
 * remembered classes can be one, e.g. numeric keys 1.0 and 1.00: the
 * second one's DELETE must come after the first one's INSERTs.)
 */
static bool
nanfix_send(void *arg, const char *sql, int nparams, const char *const *params)
{
	return apply_flush_rows(arg) && apply_send_query(arg, sql, nparams, params, "NaN/Infinity fix");
}

/* A row of a class read on the source: an INSERT like any other, its values exact. */
static bool
nanclass_insert(void *arg, TableMeta *t, const ChangeColumn *cols, int ncols)
{
	Change		c = {.action = CHANGE_INSERT, .columns = (ChangeColumn *) cols, .ncolumns = ncols};

	return apply_buffer_change(arg, t, &c, true);
}

/*
 * Replaces the remembered row classes (nanfix.h), then re-reads the
 * remembered NaN/Infinity candidates and sends their fixes.  Every row
 * buffered before has been sent: a class's DELETE follows them.
 */
bool
apply_resolve_nans(Apply *a)
{
	int			nfixed = 0;
	char	   *err = NULL;

	if (nanfix_pending(a->nanfix) == 0 && nanfix_pending_classes(a->nanfix) == 0)
		return true;
	if (!apply_ensure_source(a))
		return false;
	if (nanfix_pending_classes(a->nanfix) > 0)
	{
		int			nrows = 0;

		if (!nanfix_resolve_classes(a->nanfix, a->source->conn, PQserverVersion(a->tgt) >= 140000,
									nanfix_send, nanclass_insert, a, &nrows, &err))
		{
			apply_fail(a, OUTCOME_SQL, "%s; fix: see the source's message, then rerun follow: it resumes from the last applied transaction", err);
			free(err);
			return false;
		}
		log_debug("replaced the row classes of NaN/Infinity identities: %d row(s) from the source", nrows);
		if (!apply_flush_rows(a))
			return false;
	}
	if (nanfix_pending(a->nanfix) == 0)
		return true;
	if (!nanfix_resolve(a->nanfix, a->source->conn, nanfix_send, a, &nfixed, &err))
	{
		apply_fail(a, OUTCOME_SQL, "%s", err);
		free(err);
		return false;
	}
	if (nfixed > 0)
		log_debug("resolved %d NaN/Infinity value(s) from the source", nfixed);
	return true;
}

/* Does c's old row, when it has one, carry every column of t's key? */
static bool
identity_has_key(const TableMeta *t, const Change *c)
{
	for (int k = 0; k < t->nkey; k++)
	{
		bool		found = false;

		for (int i = 0; i < c->nidentity && !found; i++)
			found = strcmp(c->identity[i].name, t->cols[t->key[k]].name) == 0;
		if (!found)
			return c->nidentity == 0;
	}
	return t->nkey > 0;
}

/*
 * Can the rows of c be told apart by nanfix.h's row classes: a key of t
 * that may hold NaN finds them (*by_key), or they are whole rows of a
 * REPLICA IDENTITY FULL table without a key that has a float/numeric column?
 */
static bool
row_classes(const TableMeta *t, const Change *c, bool *by_key)
{
	*by_key = t->nkey > 0;
	if (*by_key)
	{
		/* the key finds the row, unless the source's identity is another one */
		return t->key_ambiguous && (c->action == CHANGE_INSERT || identity_has_key(t, c));
	}
	return t->source_identity_full && t->any_ambiguous;
}

/* Has c's old row (not found through nanfix.h's classes) a null that may be NaN? */
static bool
ambiguous_identity(const TableMeta *t, const Change *c)
{
	for (int i = 0; i < c->nidentity; i++)
	{
		int			idx = tablemeta_column(t, c->identity[i].name);

		if (c->identity[i].value == NULL && idx >= 0 && column_null_ambiguous(&t->cols[idx]))
			return true;
	}
	return false;
}

/* The first written column of t that img lacks, or NULL. */
static const ColumnMeta *
missing_column(const TableMeta *t, const ChangeColumn *img, int n)
{
	for (int i = 0; i < t->ncols; i++)
	{
		bool		found = t->cols[i].generated;

		for (int j = 0; j < n && !found; j++)
			found = strcmp(img[j].name, t->cols[i].name) == 0;
		if (!found)
			return &t->cols[i];
	}
	return NULL;
}

/*
 * The new row of an UPDATE that takes a row from a NaN/Infinity key to a
 * finite one is inserted.  A column wal2json left out of it (an unchanged
 * TOAST value) cannot come from the old row, which the target cannot tell
 * from its class: it is read on the source by the new key.  Exact: the
 * value there is the one the change kept, unless a later change wrote it,
 * and that change is still to be applied.
 */
static bool
insert_new_row(Apply *a, TableMeta *t, const Change *c, bool by_key, const ChangeColumn *img, int n)
{
	Change		ins = {.action = CHANGE_INSERT, .schema = c->schema, .table = c->table,
	.columns = (ChangeColumn *) img, .ncolumns = n};
	const ColumnMeta *missing = missing_column(t, img, n);
	const char **params;
	ChangeColumn *full;
	StrBuf		sql;
	PGresult   *res;
	int			nparams = 0,
				nfull = n;
	bool		ok;

	if (missing == NULL || !by_key)
		return apply_buffer_change(a, t, &ins, false);
	if (!apply_ensure_source(a))
		return false;
	params = pg_malloc0(sizeof(char *) * (t->ncols + 1));
	full = pg_malloc0(sizeof(ChangeColumn) * (t->ncols + n + 1));
	memcpy(full, img, sizeof(ChangeColumn) * n);
	strbuf_init(&sql);
	rowclass_select_list(&sql, t);
	rowclass_predicate(&sql, t, img, n, true, PQserverVersion(a->source->conn) >= 140000, params, &nparams);
	res = db_query_params(a->source->conn, sql.data, nparams, params);
	ok = res != NULL && PQntuples(res) == 1;
	if (!ok)
		apply_fail(a, res ? OUTCOME_DRIFT : OUTCOME_SQL,
				   "UPDATE of %s moved a row from a NaN/Infinity key to another and left column \"%s\" out (an unchanged TOAST value), and the source %s, so follow cannot pass this change; fix: ALTER TABLE %s REPLICA IDENTITY FULL on the source (the old row then carries every column) so that it cannot recur, then re-copy (pgcutover cleanup, copy)",
				   t->qualname, missing->name,
				   res ? "no longer has a row with the new key to read it from" : "cannot be read for it",
				   t->qualname);
	for (int i = 0, col = 0; ok && i < t->ncols; i++)
	{
		if (t->cols[i].generated)
			continue;
		if (missing_column(t, full, nfull) == &t->cols[i])
		{
			full[nfull].name = t->cols[i].name;
			full[nfull].value = PQgetisnull(res, 0, col) ? NULL : PQgetvalue(res, 0, col);
			full[nfull].value_len = full[nfull].value ? (size_t) PQgetlength(res, 0, col) : 0;
			nfull++;
		}
		col++;
	}
	if (ok)
	{
		ins.columns = full;
		ins.ncolumns = nfull;
		ok = apply_buffer_change(a, t, &ins, false);
	}
	PQclear(res);
	strbuf_free(&sql);
	free(params);
	free(full);
	return ok;
}

/*
 * A change whose old or new row is ambiguous (a null that may be NaN or
 * +-Infinity in what identifies the row): the ambiguous rows are replaced
 * by class from the source before the commit (nanfix.h), the exact side is
 * applied as usual: the old row deleted, or the new row inserted.
 */
static bool
apply_ambiguous(Apply *a, TableMeta *t, const Change *c, bool by_key,
				const ChangeColumn *old_img, int nold, bool old_ambiguous,
				const ChangeColumn *new_img, int nnew, bool new_ambiguous)
{
	if (!keytrack_note_whole(a, t, "a NaN/Infinity in a row's identity"))
		return false;
	if (c->action != CHANGE_INSERT)
	{
		if (old_ambiguous)
			nanfix_remember_class(a->nanfix, t, old_img, nold, by_key);
		else
		{
			Change		del = *c;

			del.action = CHANGE_DELETE;
			del.columns = NULL;
			del.ncolumns = 0;
			if (!apply_buffer_change(a, t, &del, false))
				return false;
		}
	}
	if (c->action != CHANGE_DELETE)
	{
		if (new_ambiguous)
			nanfix_remember_class(a->nanfix, t, new_img, nnew, by_key);
		else if (!insert_new_row(a, t, c, by_key, new_img, nnew))
			return false;
	}
	/* bound the memory a huge transaction can take */
	if (nanfix_pending_classes(a->nanfix) >= 1000)
		return apply_flush_rows(a) && apply_sync_results(a) && apply_resolve_nans(a);
	return true;
}

/*
 * The new row of an UPDATE of a REPLICA IDENTITY FULL table, completed
 * from the old row where wal2json left a column out (unchanged TOAST, or
 * NULL before 2.5); the new row itself elsewhere.  Valid until the next call.
 */
static const ChangeColumn *
new_row_image(Apply *a, const TableMeta *t, const Change *c, int *n)
{
	int			cap = c->ncolumns + c->nidentity + 1;

	*n = c->ncolumns;
	if (c->action != CHANGE_UPDATE || !t->source_identity_full || c->nidentity == 0)
		return c->columns;
	if (a->capimage < cap)
	{
		a->capimage = cap;
		a->image = pg_realloc(a->image, sizeof(ChangeColumn) * cap);
	}
	memcpy(a->image, c->columns, sizeof(ChangeColumn) * c->ncolumns);
	for (int i = 0; i < c->nidentity; i++)
	{
		bool		present = false;

		for (int j = 0; j < c->ncolumns && !present; j++)
			present = strcmp(c->columns[j].name, c->identity[i].name) == 0;
		if (!present)
			a->image[(*n)++] = c->identity[i];
	}
	return a->image;
}

/*
 * Applies c through nanfix.h's row classes (*routed) when a null that may be
 * NaN or +-Infinity is in what finds its old row or identifies its new one;
 * stops follow where that null is in columns the target has no key on.
 * Otherwise leaves c to the ordinary path.
 */
bool
apply_route_ambiguous(Apply *a, TableMeta *t, const Change *c, bool *routed)
{
	bool		has_old = c->action != CHANGE_INSERT;
	/* the old row as apply_sql.c finds it: an UPDATE without one keeps its key */
	bool		old_given = c->nidentity > 0 || (t->source_identity_full && has_old) ||
		c->action == CHANGE_DELETE;
	const ChangeColumn *old_img = old_given ? c->identity : c->columns;
	int			nold = old_given ? c->nidentity : c->ncolumns;
	const ChangeColumn *new_img = NULL;
	int			nnew = 0;
	bool		by_key,
				old_ambiguous,
				new_ambiguous;

	*routed = false;
	if (!row_classes(t, c, &by_key))
	{
		if (c->nidentity > 0 && !identity_has_key(t, c) && !t->source_identity_full &&
			ambiguous_identity(t, c))
			return apply_fail(a, OUTCOME_DRIFT,
							  "%s of %s: the source finds the row by columns the target has no key on, and a float/numeric one of them arrived as null (NULL, NaN or +-Infinity: wal2json prints them alike), so the target cannot tell which row (a re-copy is not needed); fix: give the table the same primary key (or replica identity index) on the target as on the source, then follow again",
							  c->action == CHANGE_UPDATE ? "UPDATE" : "DELETE", t->qualname);
		return true;
	}
	if (c->action != CHANGE_DELETE)
		new_img = new_row_image(a, t, c, &nnew);
	old_ambiguous = has_old && rowclass_ambiguous(t, old_img, nold, by_key);
	new_ambiguous = new_img && rowclass_ambiguous(t, new_img, nnew, by_key);
	if (!old_ambiguous && !new_ambiguous)
		return true;
	*routed = true;
	return apply_ambiguous(a, t, c, by_key, old_img, nold, old_ambiguous,
						   new_img, nnew, new_ambiguous);
}
