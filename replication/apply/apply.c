/*
 * apply.c
 *	  The apply engine.  One target connection in pipeline mode:
 *
 *	    B        open a group (BEGIN) unless one is open
 *	    I/U/D    prepared statement per (table, action, column set), sent
 *	             without waiting; results read at every sync point
 *	    T        collected, sent as one TRUNCATE at the next other change
 *	    DDL      (captured on the source) a barrier: the rows before it are
 *	             sent and checked, it runs with the source's search_path,
 *	             cached table shapes are dropped, and the group commits with
 *	             this source transaction
 *	    C        the source transaction is complete; the group commits when
 *	             it is large or old enough, or when apply_flush() says the
 *	             stream is idle
 *
 *	  A change whose row is found (or identified) by a float/numeric value
 *	  that wal2json printed as null, maybe NaN or +-Infinity, names a class
 *	  of rows: it is not sent as a statement, its class is replaced from the
 *	  source before the commit (apply_ambiguous.c, nanfix.h).
 *
 *	  Commit of a group: sync and check every result (an UPDATE or DELETE
 *	  that hit no row means the target diverged: stop), resolve NaN and
 *	  Infinity (row classes, then values), then advance the slot's applied position (progress.h) and COMMIT in
 *	  the same transaction.  A source transaction whose end LSN is not beyond the
 *	  durable position is skipped whole, so nothing is applied twice.  Commits
 *	  do not wait for the target's disk (synchronous_commit = off): the
 *	  caller confirms to the source only what the target has flushed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "apply_int.h"
#include "apply_sql.h"
#include "log.h"
#include "nanfix.h"
#include "outcome.h"
#include "pgconn.h"
#include "progress.h"
#include "alloc.h"
#include "strbuf.h"
#include "tablemeta.h"


bool
apply_fail(Apply *a, Outcome outcome, const char *fmt,...)
{
	va_list		ap;
	char	   *msg;

	if (a->error)
		return false;			/* keep the first cause */
	va_start(ap, fmt);
	msg = pvsprintf(fmt, ap);
	va_end(ap);
	a->error = log_redact(msg);
	free(msg);
	a->outcome = outcome;
	return false;
}

Pending *
apply_push_pending(Apply *a, int expect_rows, const char *what, const char *table)
{
	Pending    *p;

	if (a->npending == a->cap_pending)
	{
		a->cap_pending = a->cap_pending ? a->cap_pending * 2 : 1024;
		a->pending = pg_realloc(a->pending, sizeof(Pending) * a->cap_pending);
	}
	p = &a->pending[a->npending++];
	p->expect_rows = expect_rows;
	snprintf(p->what, sizeof(p->what), "%s%s%s", what, table ? " " : "", table ? table : "");
	return p;
}

/* Sends a sync and reads every outstanding result; checks row counts. */
bool
apply_sync_results(Apply *a)
{
	int			next = 0;
	bool		ok = a->error == NULL;

	if (PQpipelineSync(a->tgt) != 1)
		return apply_fail(a, OUTCOME_CONNECTION, "target connection lost: %s", PQerrorMessage(a->tgt));
	for (;;)
	{
		PGresult   *res = PQgetResult(a->tgt);
		ExecStatusType st;

		if (res == NULL)
		{
			if (PQstatus(a->tgt) != CONNECTION_OK)
				return apply_fail(a, OUTCOME_CONNECTION, "target connection lost: %s", PQerrorMessage(a->tgt));
			continue;
		}
		st = PQresultStatus(res);
		if (st == PGRES_PIPELINE_SYNC)
		{
			PQclear(res);
			break;
		}
		if (next < a->npending)
		{
			Pending    *p = &a->pending[next++];

			if (st == PGRES_FATAL_ERROR)
			{
				const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
				const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
				const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
				/* a lost or shut down server is a connection problem: follow reconnects */
				bool		lost = PQstatus(a->tgt) != CONNECTION_OK || state == NULL ||
					strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0;

				/* a deadlock with another session: the group is simply applied again */
				bool		transient = state && (strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0);
				bool		full = state && strncmp(state, "53", 2) == 0;

				/* text the target cannot take: a rerun meets the same change */
				bool		untranslatable = state && strcmp(state, "22P05") == 0;
				bool		invalid_bytes = state && strcmp(state, "22021") == 0;

				ok = apply_fail(a, lost || transient ? OUTCOME_CONNECTION : OUTCOME_SQL, "%s failed on the target: %s%s%s; fix: %s",
								p->what, msg ? msg : PQerrorMessage(a->tgt), detail ? " " : "", detail ? detail : "",
								lost ? "none needed: follow reconnects by itself and resumes from the last applied transaction"
								: transient ? "none needed: follow applies the transactions again by itself"
								: full ? "free disk space on the target (or grow it), then rerun follow: it resumes from the last applied transaction"
								: untranslatable ? "the target database's encoding cannot hold this source text and a rerun meets the same change: migrate into a target database with ENCODING 'UTF8' ('pgcutover cleanup', then copy again); 'pgcutover check' names such rows before a copy"
								: invalid_bytes ? "the source wrote bytes that are not UTF-8 (a SQL_ASCII source) and a rerun meets the same change: make them UTF-8 on the source, then 'pgcutover cleanup' and copy again; 'pgcutover check' names such rows before a copy"
								: "correct the cause on the target, then rerun follow: it resumes from the last applied transaction");
			}
			else if (st == PGRES_COMMAND_OK && p->expect_rows >= 0 &&
					 atoi(PQcmdTuples(res)) != p->expect_rows)
				ok = apply_fail(a, OUTCOME_MISMATCH,
						  "%s changed %s rows on the target instead of %d: the target has diverged from the source; fix: find who wrote to the target, then re-copy (pgcutover cleanup, copy)",
						  p->what, PQcmdTuples(res), p->expect_rows);
		}
		PQclear(res);
	}
	a->npending = 0;
	return ok;
}

bool
apply_send_query(Apply *a, const char *sql, int nparams, const char *const *params, const char *what)
{
	if (PQsendQueryParams(a->tgt, sql, nparams, NULL, params, NULL, NULL, 0) != 1)
		return apply_fail(a, OUTCOME_CONNECTION, "cannot send to the target: %s", PQerrorMessage(a->tgt));
	apply_push_pending(a, -1, what, NULL);
	return true;
}

bool
apply_maybe_sync(Apply *a)
{
	return a->npending < SYNC_EVERY || apply_sync_results(a);
}

/*
 * The encoding of the stream's text: wal2json writes values, names and
 * messages in the source database's encoding, and the walsender sends them
 * unconverted.  Every session of the apply declares it, so that the target
 * converts each value once, and the source session's NaN re-reads come
 * back in it.  A SQL_ASCII source's bytes are taken as UTF-8, as copy
 * takes them (check refuses those that are not).
 */
static const char *
stream_encoding(PGconn *src)
{
	const char *enc = db_server_encoding(src);

	return strcmp(enc, "SQL_ASCII") == 0 ? "UTF8" : enc;
}

bool
apply_ensure_source(Apply *a)
{
	char	   *err = NULL;

	if (a->source->conn && PQstatus(a->source->conn) == CONNECTION_OK)
		return true;
	PQfinish(a->source->conn);
	a->source->conn = db_connect(a->cfg.source_dsn, "source", CONN_NORMAL, &err);
	if (a->source->conn != NULL &&
		!db_set_client_encoding(a->source->conn, stream_encoding(a->source->conn), "source", &err))
	{
		PQfinish(a->source->conn);
		a->source->conn = NULL;
	}
	if (a->source->conn == NULL)
	{
		apply_fail(a, OUTCOME_CONNECTION, "%s", err);
		free(err);
		return false;
	}
	return true;
}

/* The target sessions declare the stream's encoding (after apply_ensure_source). */
static bool
declare_stream_encoding(Apply *a)
{
	char	   *err = NULL;
	const char *enc = stream_encoding(a->source->conn);

	snprintf(a->encoding, sizeof(a->encoding), "%s", enc);
	if (!db_set_client_encoding(a->tgt, enc, "target", &err) ||
		!db_set_client_encoding(a->meta, enc, "target", &err))
	{
		apply_fail(a, OUTCOME_SQL, "%s", err);
		free(err);
		return false;
	}
	if (strcmp(enc, "UTF8") != 0)
		log_debug("the source's text is in %s: the apply sessions say so", enc);
	return true;
}

static bool
rollback_group(Apply *a)
{
	PGresult   *res;

	a->npending = 0;
	a->ddl_in_group = false;
	nanfix_clear(a->nanfix);
	keytrack_discard(a);
	if (PQstatus(a->tgt) != CONNECTION_OK)
		return false;
	PQsendQueryParams(a->tgt, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0);
	PQpipelineSync(a->tgt);
	while ((res = PQgetResult(a->tgt)) != NULL || PQstatus(a->tgt) == CONNECTION_OK)
	{
		bool		done = res && PQresultStatus(res) == PGRES_PIPELINE_SYNC;

		PQclear(res);
		if (done)
			break;
	}
	a->group_open = false;
	return true;
}

static bool
commit_group(Apply *a)
{
	if (!a->group_open)
		return true;
	/* first prove every statement did what it should */
	if (!apply_flush_rows(a) || !apply_sync_results(a) || !apply_resolve_nans(a))
		return false;
	/* the keys it changed (an online verification), and */
	if (!keytrack_send(a))
		return false;
	/* the position advances in this transaction and pipeline: exactly once */
	if (!progress_send_advance(a->tgt, a->cfg.slot, a->group_end_lsn,
							   a->group_commit_time[0] ? a->group_commit_time : NULL,
							   a->group_txns, a->group_rows))
		return apply_fail(a, OUTCOME_CONNECTION, "cannot send to the target: %s", PQerrorMessage(a->tgt));
	apply_push_pending(a, -1, "recording the applied position", NULL);
	if (!apply_send_query(a, "COMMIT", 0, NULL, "COMMIT") ||
		!apply_sync_results(a))
		return false;

	a->group_open = false;
	a->ddl_in_group = false;
	a->totals.groups++;
	a->totals.txns += a->group_txns;
	a->totals.rows += a->group_rows;
	a->totals.durable_lsn = a->group_end_lsn;
	memcpy(a->totals.last_commit_time, a->group_commit_time, sizeof(a->group_commit_time));
	return true;
}

static bool
open_group(Apply *a)
{
	if (a->group_open)
		return true;
	if (!apply_send_query(a, "BEGIN", 0, NULL, "BEGIN"))
		return false;
	a->group_open = true;
	a->group_rows = 0;
	a->group_txns = 0;
	a->group_started = now_seconds();
	return true;
}

/* Checks, once per table, that the source can decode its UPDATEs and DELETEs. */
static bool
check_source_identity(Apply *a, TableMeta *t)
{
	const char *params[2] = {t->schema, t->table};
	PGresult   *res;
	bool		ok;

	if (t->source_checked)
		return true;
	if (!apply_ensure_source(a))
		return false;
	res = db_query_params(a->source->conn,
						  "SELECT c.relreplident = 'f' OR c.relreplident = 'i' OR "
						  "  (c.relreplident = 'd' AND EXISTS (SELECT 1 FROM pg_catalog.pg_index i "
						  "                                    WHERE i.indrelid = c.oid AND i.indisprimary AND i.indimmediate)), "
						  "  c.relreplident = 'f' "
						  "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
						  "WHERE n.nspname = $1 AND c.relname = $2", 2, params);
	if (res == NULL)
		return apply_fail(a, OUTCOME_SQL, "cannot read the replica identity of %s on the source", t->qualname);
	ok = PQntuples(res) == 0 || PQgetvalue(res, 0, 0)[0] == 't';
	t->source_identity_full = PQntuples(res) == 1 && PQgetvalue(res, 0, 1)[0] == 't';
	PQclear(res);
	if (!ok)
		return apply_fail(a, OUTCOME_DRIFT,
					"%s has no primary key and no replica identity on the source: its UPDATEs and DELETEs are not decoded and would be lost; fix: ALTER TABLE %s REPLICA IDENTITY FULL (or add a primary key) on the source, then re-copy the table",
					t->qualname, t->qualname);
	t->source_checked = true;
	return true;
}

/*
 * After DDL in the open group only the group's own connection sees the new
 * catalog: leave pipeline mode for the lookup (results drained first).
 */
static TableMeta *
lookup_in_group(Apply *a, const char *schema, const char *table, bool *missing)
{
	TableMeta  *t;

	*missing = false;
	if (!apply_sync_results(a))
		return NULL;
	if (PQexitPipelineMode(a->tgt) != 1)
	{
		apply_fail(a, OUTCOME_BUG, "cannot leave pipeline mode on the target: %s", PQerrorMessage(a->tgt));
		return NULL;
	}
	t = tablecache_get(a->tables, a->tgt, schema, table, missing);
	if (PQenterPipelineMode(a->tgt) != 1)
	{
		apply_fail(a, OUTCOME_BUG, "cannot enter pipeline mode on the target: %s", PQerrorMessage(a->tgt));
		return NULL;
	}
	return t;
}

/*
 * Finds a table's shape: NULL with *missing when the target has no such
 * table, NULL with the error set when its catalog cannot be read.
 */
static TableMeta *
find_table(Apply *a, const char *schema, const char *table, bool *missing)
{
	TableMeta  *t = a->ddl_in_group ? lookup_in_group(a, schema, table, missing)
		: tablecache_get(a->tables, a->meta, schema, table, missing);

	if (a->error)
	{
		*missing = false;
		return NULL;
	}
	if (t == NULL && !*missing)
		apply_fail(a, OUTCOME_SQL, "cannot read the target's catalog for \"%s\".\"%s\"", schema, table);
	return t;
}

/*
 * Is (schema, table) a materialized view on the source?  One the target
 * lacks (created after the copy, without DDL replay).
 */
static bool
source_has_matview(Apply *a, const char *schema, const char *table, bool *is_matview)
{
	const char *params[2] = {schema, table};
	PGresult   *res;

	*is_matview = false;
	if (!apply_ensure_source(a))
		return false;
	res = db_query_params(a->source->conn,
						  "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
						  "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'm'", 2, params);
	if (res == NULL)
		return apply_fail(a, OUTCOME_SQL, "cannot read the source's catalog for \"%s\".\"%s\"", schema, table);
	*is_matview = PQntuples(res) == 1;
	PQclear(res);
	return true;
}

/*
 * A table's shape; NULL after a failure.  A materialized view (relkind 'm')
 * is returned as such: REFRESH ... CONCURRENTLY writes its rows as changes,
 * which the caller skips (with DDL capture the REFRESH itself is replayed;
 * the switchover refreshes the target's views).  By the target's catalog at
 * this point of the stream, not by name at decoding: a table later made
 * under a view's name is applied.
 */
TableMeta *
apply_lookup_table(Apply *a, const Change *c)
{
	bool		missing;
	bool		is_matview;
	TableMeta  *t = find_table(a, c->schema, c->table, &missing);

	if (t == NULL && missing)
	{
		if (!source_has_matview(a, c->schema, c->table, &is_matview))
			return NULL;
		if (is_matview)
			return tablecache_add_matview(a->tables, c->schema, c->table);
	}
	if (t != NULL && t->relkind == 'm')
		return t;
	if (t == NULL)
	{
		if (missing)
			apply_fail(a, OUTCOME_DRIFT,
				 "table \"%s\".\"%s\" has changes on the source but does not exist on the target (created after the copy, or by CREATE TABLE AS / SELECT INTO, whose rows come before the command); fix: create it on the target like on the source (pg_dump --schema-only -t), then follow again",
				 c->schema, c->table);
		return NULL;
	}
	return check_source_identity(a, t) ? t : NULL;
}

/*
 * The values of c's new row as written, when a null in it is in a NOT NULL
 * float/numeric column: that null is NaN or +-Infinity, and written as NULL
 * (for the re-read before the commit to fix, nanfix.h) it would break the
 * constraint.  It is written as NaN instead, which the re-read replaces
 * with the source's value all the same.  NULL when c has no such null.
 */
static ChangeColumn *
not_null_as_nan(const TableMeta *t, const Change *c)
{
	ChangeColumn *cols = NULL;

	for (int i = 0; i < c->ncolumns; i++)
	{
		int			idx;

		if (c->columns[i].value != NULL)
			continue;
		idx = tablemeta_column(t, c->columns[i].name);
		if (idx < 0 || !t->cols[idx].maybe_special || !t->cols[idx].not_null)
			continue;
		if (cols == NULL)
		{
			cols = pg_malloc0(sizeof(ChangeColumn) * (c->ncolumns + 1));
			memcpy(cols, c->columns, sizeof(ChangeColumn) * c->ncolumns);
		}
		cols[i].value = "NaN";
		cols[i].value_len = 3;
	}
	return cols;
}

/*
 * Plans and buffers one row change.  values_exact: its values were read on
 * the source (a row class), a NULL there is NULL.
 */
bool
apply_buffer_change(Apply *a, TableMeta *t, const Change *c, bool values_exact)
{
	bool		inexact = c->action != CHANGE_DELETE && t->any_special && !values_exact;
	ChangeColumn *written = inexact ? not_null_as_nan(t, c) : NULL;
	Change		as_written = *c;
	PreparedStmt *shape;
	bool		ok = false;

	if (written)
		as_written.columns = written;
	if ((shape = apply_plan_shape(a, t, &as_written)) == NULL)
		goto done;
	if (inexact && !nanfix_remember(a->nanfix, t, c))
		log_warn("%s has no key on the target: a NULL in a float/numeric column cannot be told from NaN/Infinity there; verify the table after switchover",
				 t->qualname);
	if (!values_exact && !keytrack_note_row(a, t, c))
		goto done;
	apply_buffer_row(a, t, shape);
	ok = a->nrows < BUFFER_ROWS || apply_flush_rows(a);
done:
	free(written);
	return ok;
}

/*
 * One row change.  Its bytea values are completed first (ByteaFix), so the
 * statement, the NaN re-read keys and the keys recorded for an online
 * verification all see the value the source has.
 */
static bool
apply_row(Apply *a, const Change *change)
{
	TableMeta  *t = apply_lookup_table(a, change);
	const Change *c;

	if (t != NULL && t->relkind == 'm')
		return true;			/* a materialized view: refreshed at switchover */
	c = t ? byteafix_apply(&a->bytea, t, change) : change;
	if (t == NULL)
		return false;
	if (c != change && !a->bytea_noted)
	{
		log_info("the source's wal2json names no column types (before 2.5): bytea values of %s and other tables get their \\x from the target's column types",
				 t->qualname);
		a->bytea_noted = true;
	}
	a->group_rows++;
	if (t->any_ambiguous)
	{
		bool		routed = false;
		bool		ok = apply_route_ambiguous(a, t, c, &routed);

		if (routed || !ok)
			return ok;
	}
	if (!apply_buffer_change(a, t, c, false))
		return false;
	/* bound the memory a huge transaction can take */
	if (nanfix_pending(a->nanfix) >= 10000)
		return apply_flush_rows(a) && apply_sync_results(a) && apply_resolve_nans(a);
	return true;
}

/*
 * A leaf written through its root (partroute.h) holds other rows on the
 * target than on the source: its TRUNCATE is exact only as part of one
 * that empties every leaf of the root, sent then as "TRUNCATE root".
 */
static void
collect_routed_truncate(Apply *a, const TableMeta *t)
{
	int			seen = 1;

	for (int i = 0; i < a->truncate_routed.count; i++)
		seen += strcmp(a->truncate_routed.items[i], t->qualname) == 0;
	strlist_add(&a->truncate_routed, t->qualname);
	if (seen == t->route_leaves)
	{
		strbuf_printf(&a->truncate, "%s%s", a->ntruncate ? ", " : "TRUNCATE ", t->qualname);
		a->ntruncate++;
		a->truncate_routed_whole += seen;
	}
	a->group_rows++;
}

/* Collects one table of a TRUNCATE; sent as one statement by flush_truncate. */
static bool
collect_truncate(Apply *a, const Change *c)
{
	TableMeta  *t = apply_lookup_table(a, c);

	if (t == NULL || !keytrack_note_whole(a, t, "truncated"))
		return false;
	if (t->leaf_qualname)
	{
		collect_routed_truncate(a, t);
		return true;
	}
	strbuf_printf(&a->truncate, "%s%s%s", a->ntruncate ? ", " : "TRUNCATE ",
				  t->relkind == 'p' ? "" : "ONLY ", t->qualname);
	a->ntruncate++;
	a->group_rows++;
	return true;
}

static bool
flush_truncate(Apply *a)
{
	bool		ok;

	if (a->truncate_routed.count != a->truncate_routed_whole)
		return apply_fail(a, OUTCOME_DRIFT,
						  "a TRUNCATE on the source empties some partitions of %s but not all: its leaves hash their rows differently on the target (the partition key's hash differs between databases), so it cannot be applied exactly; fix: re-copy with 'pgcutover cleanup' and 'pgcutover copy', and truncate such a table only whole",
						  a->truncate_routed.items[0]);
	strlist_free(&a->truncate_routed);
	a->truncate_routed_whole = 0;
	if (a->ntruncate == 0)
		return true;
	/* the rows buffered before the TRUNCATE go first */
	ok = apply_flush_rows(a) && apply_send_query(a, a->truncate.data, 0, NULL, "TRUNCATE");
	strbuf_reset(&a->truncate);
	a->ntruncate = 0;
	return ok;
}

static bool
group_is_due(const Apply *a)
{
	return a->group_rows >= a->cfg.group_max_rows ||
		now_seconds() - a->group_started >= a->cfg.group_max_seconds;
}

bool
apply_change(Apply *a, const Change *c)
{
	if (a->error)
		return false;
	switch (c->action)
	{
		case CHANGE_BEGIN:
			a->in_txn = true;
			a->skip_txn = c->nextlsn != INVALID_LSN && c->nextlsn <= a->totals.durable_lsn;
			if (!a->skip_txn && !open_group(a))
				return false;
			a->txn_start_rows = a->group_rows;
			return true;
		case CHANGE_COMMIT:
			if (!a->in_txn)
				return apply_fail(a, OUTCOME_BUG, "commit without begin in the stream");
			a->in_txn = false;
			if (a->skip_txn)
			{
				a->skip_txn = false;
				return true;
			}
			if (!flush_truncate(a))
				return false;
			a->group_txns++;
			a->group_end_lsn = c->nextlsn;
			snprintf(a->group_commit_time, sizeof(a->group_commit_time), "%s",
					 c->timestamp ? c->timestamp : "");
			return !(group_is_due(a) || a->ddl_in_group) || commit_group(a);
		case CHANGE_INSERT:
		case CHANGE_UPDATE:
		case CHANGE_DELETE:
			if (a->skip_txn)
				return true;
			return flush_truncate(a) && apply_row(a, c);
		case CHANGE_TRUNCATE:
			return a->skip_txn || collect_truncate(a, c);
		default:
			return apply_fail(a, OUTCOME_BUG, "unexpected change action '%c'", c->action);
	}
}

/*
 * Captured DDL arrives in UTF-8 whatever the source's encoding (the capture
 * emits it so, sql/ddl_capture.sql, for follow reads it as JSON), unlike the
 * rows: around it the target session says UTF-8, then the stream's
 * encoding again.
 */
static bool
ddl_encoding(Apply *a, bool utf8)
{
	char	   *sql;
	bool		ok;

	if (strcmp(a->encoding, "UTF8") == 0)
		return true;
	sql = psprintf("SET client_encoding = '%s'", utf8 ? "UTF8" : a->encoding);
	ok = apply_send_query(a, sql, 0, NULL, "setting the client encoding around the DDL");
	free(sql);
	return ok;
}

bool
apply_ddl(Apply *a, const char *sql, const char *after_sql, const char *search_path,
		  const DdlMissing *missing, int nmissing)
{
	const char *params[1];

	if (a->error)
		return false;
	if (a->skip_txn)
		return true;
	if (!a->in_txn)
		return apply_fail(a, OUTCOME_BUG, "DDL outside a source transaction");
	/*
	 * Everything before it goes first, and nothing may point at old shapes.
	 * The transactions grouped before this one commit now if this one has
	 * changed nothing yet: should the DDL fail, a rerun starts right here.
	 */
	if (!apply_commit_before_current(a) || !flush_truncate(a) || !apply_flush_rows(a) || !apply_sync_results(a) || !apply_resolve_nans(a))
		return false;
	if (!ddl_encoding(a, true))
		return false;
	params[0] = search_path;
	if (!apply_send_query(a, "SELECT pg_catalog.set_config('search_path', $1, true)", 1, params,
					"setting the DDL's search_path"))
		return false;
	if (PQsendQueryParams(a->tgt, sql, 0, NULL, NULL, NULL, NULL, 0) != 1)
		return apply_fail(a, OUTCOME_CONNECTION, "cannot send to the target: %s", PQerrorMessage(a->tgt));
	apply_push_pending(a, -1, "the DDL", NULL);
	if (after_sql && !apply_send_query(a, after_sql, 0, NULL, after_sql))
		return false;
	params[0] = a->search_path;
	if (!apply_send_query(a, "SELECT pg_catalog.set_config('search_path', $1, true)", 1, params,
					"restoring search_path"))
		return false;
	for (int i = 0; i < nmissing; i++)
	{
		if (!progress_send_ddl_fix_missing(a->tgt, missing[i].schema, missing[i].table,
										   missing[i].column, missing[i].value))
			return apply_fail(a, OUTCOME_CONNECTION, "cannot send to the target: %s", PQerrorMessage(a->tgt));
		apply_push_pending(a, -1, "setting the source's default on existing rows", NULL);
	}
	if (!ddl_encoding(a, false))
		return false;
	if (!progress_send_relax_identity(a->tgt, a->cfg.slot))
		return apply_fail(a, OUTCOME_CONNECTION, "cannot send to the target: %s", PQerrorMessage(a->tgt));
	apply_push_pending(a, -1, "relaxing identity columns", NULL);
	if (!apply_send_query(a, "DEALLOCATE ALL", 0, NULL, "DEALLOCATE") ||
		!apply_send_query(a, "DEALLOCATE ALL", 0, NULL, "DEALLOCATE") ||
		!apply_sync_results(a))
		return false;
	tablecache_invalidate(a->tables);
	a->ddl_in_group = true;
	a->totals.ddl++;
	return true;
}

bool
apply_has_table(Apply *a, const char *schema, const char *table, bool *exists)
{
	bool		missing;
	TableMeta  *t = find_table(a, schema, table, &missing);

	*exists = t != NULL;
	return t != NULL || missing;
}

bool
apply_commit_before_current(Apply *a)
{
	if (a->error || !a->in_txn || a->skip_txn || a->group_txns == 0 ||
		a->group_rows != a->txn_start_rows || a->ntruncate > 0)
		return a->error == NULL;
	/* the current transaction has sent nothing: the group ends before it */
	if (!commit_group(a) || !open_group(a))
		return false;
	a->txn_start_rows = 0;
	return true;
}

bool
apply_skipping(const Apply *a)
{
	return a->in_txn && a->skip_txn;
}

bool
apply_flush(Apply *a)
{
	if (a->error)
		return false;
	if (a->in_txn || !a->group_open)
		return true;
	return commit_group(a);
}

bool
apply_in_transaction(const Apply *a)
{
	return a->in_txn;
}

bool
apply_group_open(const Apply *a)
{
	return a->group_open;
}

bool
apply_footprint(Apply *a, const Change *c, Footprint *fp)
{
	TableMeta  *t = NULL;

	memset(fp, 0, sizeof(*fp));
	if (a->error)
		return false;
	if ((c->action == CHANGE_INSERT || c->action == CHANGE_UPDATE || c->action == CHANGE_DELETE) &&
		(t = apply_lookup_table(a, c)) == NULL)
		return false;
	if (t != NULL || c->action == CHANGE_TRUNCATE)
		footprint_of(t, c, fp);
	return true;
}

int64_t
apply_group_rows(const Apply *a)
{
	return a->group_open ? a->group_rows : 0;
}

bool
apply_send_buffered(Apply *a)
{
	if (a->error)
		return false;
	if (a->in_txn)
		return true;
	if (!apply_flush_rows(a))
		return false;
	if (PQflush(a->tgt) != 0)
		return apply_fail(a, OUTCOME_CONNECTION, "cannot send to the target: %s", PQerrorMessage(a->tgt));
	return true;
}

void
apply_forget_tables(Apply *a)
{
	if (!a->group_open)
		tablecache_invalidate(a->tables);
}

const ApplyTotals *
apply_totals(const Apply *a)
{
	return &a->totals;
}

const char *
apply_error(const Apply *a)
{
	return a->error ? a->error : "no error";
}

Outcome
apply_outcome(const Apply *a)
{
	return a->error ? a->outcome : OUTCOME_OK;
}

/* Session settings and the durable position; false with a->error set. */
static bool
prepare_target(Apply *a)
{
	AppliedPosition pos;

	if (!db_exec(a->tgt, "SET session_replication_role = replica"))
		return apply_fail(a, OUTCOME_PREFLIGHT,
					"cannot SET session_replication_role = replica on the target (needs superuser or your cloud's equivalent role); without it triggers and foreign keys would fire twice; fix: run follow as such a role");
	/*
	 * pgcutover.role: the target-write triggers of an online verification
	 * pass us.  synchronous_commit = off: a group's commit does not wait for
	 * the target's disk; follow confirms to the source only what the target
	 * has flushed (follow.c, TargetFlush), as native apply does.
	 */
	if (!db_exec(a->tgt, "SET synchronous_commit = off; SET lock_timeout = '60s'; SET statement_timeout = 0; "
				 "SET idle_in_transaction_session_timeout = 0; SET pgcutover.role = 'follower'"))
		return apply_fail(a, OUTCOME_SQL, "cannot configure the target session");
	if ((a->search_path = db_scalar(a->tgt, "SHOW search_path")) == NULL)
		return apply_fail(a, OUTCOME_SQL, "cannot read search_path on the target");
	if (!progress_ensure_row(a->tgt, a->cfg.slot))
		return apply_fail(a, OUTCOME_SQL, "cannot record the apply position on the target");
	if (!progress_read_applied(a->tgt, a->cfg.slot, &pos))
		return apply_fail(a, OUTCOME_STATE, "no migration for slot %s on the target; fix: run 'pgcutover copy' first", a->cfg.slot);
	a->totals.durable_lsn = pos.applied_lsn;
	snprintf(a->totals.last_commit_time, sizeof(a->totals.last_commit_time), "%s", pos.commit_time);
	return true;
}

/*
 * GENERATED ALWAYS identity columns cannot be set by an UPDATE: while the
 * target is a replica they are BY DEFAULT, recorded so that switchover and
 * cleanup restore them.
 */
static bool
relax_identity_columns(Apply *a)
{
	int			relaxed = progress_relax_identity(a->tgt, a->cfg.slot);

	if (relaxed < 0)
		return apply_fail(a, OUTCOME_SQL, "cannot relax the GENERATED ALWAYS identity columns on the target");
	if (relaxed > 0)
		log_info("%d GENERATED ALWAYS identity column(s) are BY DEFAULT on the target while it follows; switchover restores them",
				 relaxed);
	return true;
}

int
apply_source_pid(const Apply *a)
{
	return a && a->source->conn && PQstatus(a->source->conn) == CONNECTION_OK ? PQbackendPID(a->source->conn) : 0;
}

Apply *
apply_open(const ApplyConfig *cfg, Apply *sibling, char **errmsg, Outcome *outcome)
{
	Apply	   *a = pg_malloc0(sizeof(Apply));

	a->cfg = *cfg;
	a->source = sibling ? sibling->source : pg_malloc0(sizeof(SourceSession));
	a->source->refs++;
	a->tables = tablecache_create();
	a->nanfix = nanfix_create();
	rowstmt_init(&a->rs);
	byteafix_init(&a->bytea);
	strbuf_init(&a->truncate);
	strbuf_init(&a->arena);
	strbuf_init(&a->batch_sql);
	strbuf_init(&a->track.keys);
	*errmsg = NULL;
	if ((a->tgt = db_connect(cfg->target_dsn, "target", CONN_NORMAL, errmsg)) == NULL ||
		(a->meta = db_connect(cfg->target_dsn, "target", CONN_NORMAL, errmsg)) == NULL)
	{
		*outcome = OUTCOME_CONNECTION;
		apply_close(a);
		return NULL;
	}
	/*
	 * A pool's later sessions open while others hold ranges: the start-up
	 * work that writes (identity columns, triggers) is the first session's.
	 * The source session is opened now, not at the first NaN or new table:
	 * the switchover's fence spares the follower's sessions it knows of, and
	 * refuses new ones.
	 */
	if (!apply_ensure_source(a) || !declare_stream_encoding(a) || !prepare_target(a) ||
		(sibling == NULL && !relax_identity_columns(a)) ||
		PQenterPipelineMode(a->tgt) != 1)
	{
		*errmsg = pg_strdup(a->error ? a->error : "cannot enter pipeline mode on the target");
		*outcome = a->error ? a->outcome : OUTCOME_BUG;
		apply_close(a);
		return NULL;
	}
	return a;
}

void
apply_close(Apply *a)
{
	if (a == NULL)
		return;
	if (a->tgt && a->group_open)
		rollback_group(a);
	PQfinish(a->tgt);
	PQfinish(a->meta);
	if (--a->source->refs == 0)
	{
		PQfinish(a->source->conn);
		free(a->source);
	}
	tablecache_destroy(a->tables);
	nanfix_destroy(a->nanfix);
	rowstmt_free(&a->rs);
	byteafix_free(&a->bytea);
	strbuf_free(&a->truncate);
	strlist_free(&a->truncate_routed);
	strbuf_free(&a->arena);
	strbuf_free(&a->batch_sql);
	strbuf_free(&a->track.keys);
	free(a->rows);
	free(a->param_off);
	free(a->buf_tables);
	free(a->batch_params);
	free(a->pending);
	free(a->image);
	free(a->search_path);
	free(a->error);
	free(a);
}
