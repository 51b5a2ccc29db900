/*
 * online.c
 *	  `verify --online`: both sides compared at one LSN while follow runs
 *	  (online.h).  The verifier's half of the protocol with the follower:
 *
 *	    settle     the transactions running on the source now finish (a
 *	               slot waits for them when it is created)
 *	    slot       CREATE_REPLICATION_SLOT ... TEMPORARY ... EXPORT_SNAPSHOT
 *	               on the source: snapshot S at consistent point L; every
 *	               source session imports S, then the replication
 *	               connection (and its slot) goes
 *	    ask at L   a verification row in state lsn_known at L: the
 *	               follower applies up to L and exports T ("exported"), or
 *	               answers "passed" when it has gone past L already; then a
 *	               new slot, at most OPTIMISTIC_ATTEMPTS times, and after
 *	               that the follower is asked to stand still first
 *	               ("requested", "holding") and the slot is created while
 *	               it does
 *	    imported   every target session imports T
 *	    compare    at leisure (compare.h), then done with the verdicts
 *
 *	  Any failure marks the row failed, which lets a holding follower go on.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "catalog.h"
#include "cutover.h"
#include "log.h"
#include "online.h"
#include "pgconn.h"
#include "signals.h"
#include "strbuf.h"
#include "verification.h"

#define SETTLE_SECONDS 60.0		/* for the source's running transactions */
#define HOLD_WAIT_SECONDS 20.0	/* for the follower to stop at a boundary */
#define EXPORT_WAIT_SECONDS 120.0	/* for it to reach L (it may lag) */
#define OPTIMISTIC_ATTEMPTS 10	/* slots made before asking it to stand still */

typedef struct Online
{
	const Options *opts;
	PGconn	   *tgt;			/* the verification's row */
	PGconn	   *repl;			/* the source's replication session (step 3) */
	ComparePair *pairs;
	int			npairs;
	int64_t		id;				/* 0 until requested */
} Online;

static Outcome fail(Online *o, Outcome rc, const char *fmt,...) __attribute__((format(printf, 3, 4)));

/* Logs the line and marks the verification failed (the follower goes on). */
static Outcome
fail(Online *o, Outcome rc, const char *fmt,...)
{
	va_list		ap;
	char	   *msg;

	va_start(ap, fmt);
	msg = pvsprintf(fmt, ap);
	va_end(ap);
	if (strstr(msg, "fix:") == NULL)
	{
		/* a statement failed (the server's line is logged above), or a signal */
		char	   *line = psprintf("%s; fix: %s", msg,
									rc == OUTCOME_INTERRUPTED ? "run verify --online again when you are ready"
									: rc == OUTCOME_BUG ? "report this as a bug, with the line above"
									: "see the server's message above, then run verify --online again");

		free(msg);
		msg = line;
	}
	log_error("%s", msg);
	if (o->id != 0 && o->tgt != NULL &&
		!verification_finish(o->tgt, o->id, false, msg, 0, 0, 0, NULL))
		log_warn("cannot mark online verification %lld failed on the target", (long long) o->id);
	free(msg);
	return rc;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Is the follower still running (its advisory lock held)? */
static bool
follower_alive(Online *o)
{
	CutoverProgress p;
	bool		alive;

	if (!cutover_read_progress(o->tgt, o->opts->slot, &p))
		return true;			/* unknown: the deadline still bounds the wait */
	alive = p.follower_alive;
	cutover_progress_free(&p);
	return alive;
}

/* Waits until the row reaches state 'want' (or 'passed'); *row holds it then. */
static Outcome
wait_for(Online *o, const char *want, double seconds, VerificationRow *row)
{
	double		deadline = now_seconds() + seconds;
	double		next_alive_check = now_seconds() + 1;

	for (;;)
	{
		if (!verification_read(o->tgt, o->id, row))
			return fail(o, OUTCOME_SQL, "cannot read online verification %lld on the target", (long long) o->id);
		if (strcmp(row->state, want) == 0 || strcmp(row->state, "passed") == 0)
			return OUTCOME_OK;
		if (row->finished)
			return fail(o, OUTCOME_TIMEOUT, "the follower gave online verification %lld up (its log says why); fix: run verify --online again",
						(long long) o->id);
		if (signals_interrupts() > 0)
			return fail(o, OUTCOME_INTERRUPTED, "interrupted: online verification %lld abandoned, the follower goes on",
						(long long) o->id);
		if (now_seconds() > next_alive_check)
		{
			if (!follower_alive(o))
				return fail(o, OUTCOME_STATE, "the follower stopped during online verification %lld (its log says why); fix: start 'pgcutover follow' again, then run verify --online again",
							(long long) o->id);
			next_alive_check = now_seconds() + 1;
		}
		if (now_seconds() > deadline)
			return strcmp(want, "holding") == 0
				? fail(o, OUTCOME_TIMEOUT, "the follower did not stop at a transaction boundary within %.0f s (a long transaction being applied?); fix: run verify --online again when it has caught up",
					   seconds)
				: fail(o, OUTCOME_TIMEOUT, "the follower did not reach the verification's LSN within %.0f s (it lags); fix: let it catch up ('pgcutover status'), then run verify --online again",
					   seconds);
		sleep_ms(2);
	}
}

/* The follower must be running: it is the one that exports the target's side. */
static Outcome
check_follower(Online *o)
{
	CutoverProgress p;
	Outcome		rc = OUTCOME_OK;

	if (!cutover_read_progress(o->tgt, o->opts->slot, &p))
		return fail(o, OUTCOME_SQL, "cannot read the migration of slot %s on the target", o->opts->slot);
	if (!p.found)
		rc = fail(o, OUTCOME_STATE, "no migration for slot %s on the target; fix: run 'pgcutover copy' and 'pgcutover follow' first (or pass the right --slot)",
				  o->opts->slot);
	else if (strcmp(p.phase, "switched_over") == 0)
		rc = fail(o, OUTCOME_STATE, "the migration of slot %s is switched over: nothing is followed any more; fix: run 'pgcutover verify' without --online",
				  o->opts->slot);
	else if (!p.follower_alive || p.follower_phase == NULL || strcmp(p.follower_phase, "following") != 0)
		rc = fail(o, OUTCOME_STATE, "verify --online needs 'pgcutover follow' running for slot %s (it exports the target's side at the verification's LSN); fix: start follow, then run verify --online again",
				  o->opts->slot);
	cutover_progress_free(&p);
	if (rc == OUTCOME_OK)
	{
		/* one at a time: the follower serves the newest request only */
		char	   *sql = psprintf("SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtext('pgcutover verify %s'))",
								   o->opts->slot);
		char	   *locked = db_scalar(o->tgt, sql);

		if (locked == NULL || strcmp(locked, "t") != 0)
			rc = fail(o, OUTCOME_STATE, "another verify --online is running for slot %s; fix: wait for it to finish",
					  o->opts->slot);
		free(locked);
		free(sql);
	}
	return rc;
}

/* Puts the target-write triggers on every table of the selection. */
static Outcome
watch_target(Online *o, OnlineVerification *info)
{
	TableList	tables;
	StrList		names = {0};
	bool		ok;

	if (!catalog_list_tables(o->pairs[0].source, o->opts, &tables))
		return fail(o, OUTCOME_SQL, "cannot list the source's tables");
	for (int i = 0; i < tables.count; i++)
		if (tables.tables[i].relkind == 'r' || tables.tables[i].relkind == 'p')
			strlist_add(&names, tables.tables[i].qualname);
	ok = verification_watch_target_writes(o->tgt, &names, &info->triggers_added);
	strlist_free(&names);
	catalog_free_tables(&tables);
	if (!ok)
		return fail(o, OUTCOME_SQL, "cannot put the target-write triggers on the target's tables (needs the tables' owner); fix: run verify --online as the role follow runs as");
	return OUTCOME_OK;
}

/*
 * Step 0: waits until the transactions running on the source now have
 * ended.  Creating the slot waits for every transaction running when it
 * starts, and the follower stands still until then: after this wait only
 * the ones begun in the last milliseconds remain.
 */
static Outcome
settle_source(Online *o)
{
	PGconn	   *src = o->pairs[0].source;
	char	   *snapshot = db_scalar(src, "SELECT pg_catalog.pg_current_snapshot()::text");
	const char *params[1] = {snapshot};
	double		deadline = now_seconds() + SETTLE_SECONDS;
	bool		said = false;
	Outcome		rc = OUTCOME_OK;

	if (snapshot == NULL)
		return fail(o, OUTCOME_SQL, "cannot read the source's running transactions");
	for (;;)
	{
		PGresult   *res = db_query_params(src,
										  "SELECT count(*), min(a.pid), min(a.xact_start)::text "
										  "FROM pg_catalog.pg_snapshot_xip($1::pg_snapshot) x "
										  "LEFT JOIN pg_catalog.pg_stat_activity a ON a.backend_xid::text = (x::text::bigint % 4294967296)::text "
										  "WHERE pg_catalog.pg_xact_status(x) = 'in progress'", 1, params);

		if (res == NULL)
		{
			rc = fail(o, OUTCOME_SQL, "cannot read the source's running transactions");
			break;
		}
		if (atoi(PQgetvalue(res, 0, 0)) == 0)
		{
			PQclear(res);
			break;
		}
		if (now_seconds() > deadline)
			rc = fail(o, OUTCOME_TIMEOUT, "%s transaction(s) on the source have run for more than %.0f s (pid %s, since %s): the verification's snapshot would wait for them, the follower standing still; fix: let them finish (or end them), then run verify --online again",
					  PQgetvalue(res, 0, 0), SETTLE_SECONDS,
					  PQgetisnull(res, 0, 1) ? "unknown" : PQgetvalue(res, 0, 1),
					  PQgetisnull(res, 0, 2) ? "unknown" : PQgetvalue(res, 0, 2));
		else if (!said && now_seconds() > deadline - SETTLE_SECONDS + 2)
		{
			log_info("waiting for %s transaction(s) running on the source to finish (pid %s, since %s) before the follower stands still",
					 PQgetvalue(res, 0, 0), PQgetisnull(res, 0, 1) ? "unknown" : PQgetvalue(res, 0, 1),
					 PQgetisnull(res, 0, 2) ? "unknown" : PQgetvalue(res, 0, 2));
			said = true;
		}
		PQclear(res);
		if (rc != OUTCOME_OK)
			break;
		if (signals_interrupts() > 0)
		{
			rc = fail(o, OUTCOME_INTERRUPTED, "interrupted: online verification abandoned");
			break;
		}
		sleep_ms(5);
	}
	free(snapshot);
	return rc;
}

/* Every session of one side enters a transaction showing snapshot name. */
static bool
import_snapshot(Online *o, bool source, const char *name)
{
	for (int i = 0; i < o->npairs; i++)
	{
		PGconn	   *conn = source ? o->pairs[i].source : o->pairs[i].target;
		char	   *lit = db_quote_literal(conn, name);
		char	   *sql = psprintf("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT %s", lit);
		bool		ok = db_exec(conn, sql);

		free(sql);
		free(lit);
		if (!ok)
			return false;
	}
	return true;
}

/* A replication session on the source, for the next slot. */
static Outcome
connect_replication(Online *o)
{
	char	   *err = NULL;

	if ((o->repl = db_connect(o->opts->source, "source", CONN_REPLICATION, &err)) == NULL)
	{
		Outcome		rc = fail(o, OUTCOME_CONNECTION, "%s", err);

		free(err);
		return rc;
	}
	return OUTCOME_OK;
}

/*
 * The source's snapshot at a temporary slot's consistent point L, imported
 * by every source session; o->repl (connected by the caller) is closed
 * after.  L is told to the follower as soon as it is known, before the
 * imports: a new verification row at L (ask_at_lsn), or the LSN of the
 * row the follower is holding for.
 */
static Outcome
source_snapshot(Online *o, bool ask_at_lsn, Lsn *lsn)
{
	char	   *sql;
	PGresult   *res;
	Outcome		rc = OUTCOME_OK;
	double		t0 = now_seconds();

	sql = psprintf("CREATE_REPLICATION_SLOT \"pgcutover_verify_%d\" TEMPORARY LOGICAL wal2json EXPORT_SNAPSHOT",
				   PQbackendPID(o->repl));
	res = PQexec(o->repl, sql);
	free(sql);
	log_debug("online verification: temporary slot created in %.1f ms", (now_seconds() - t0) * 1000);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		char	   *e = db_error(o->repl);

		rc = fail(o, OUTCOME_PREFLIGHT, "cannot create a temporary logical slot on the source for the verification: %s; fix: leave room for one more slot and WAL sender (max_replication_slots, max_wal_senders)",
				  e);
		free(e);
	}
	else if (!lsn_parse(PQgetvalue(res, 0, 1), lsn))
		rc = fail(o, OUTCOME_BUG, "the source returned an unreadable consistent point \"%s\"", PQgetvalue(res, 0, 1));
	else if (ask_at_lsn && !verification_begin_at(o->tgt, o->opts->slot, *lsn, &o->id))
		rc = fail(o, OUTCOME_SQL, "cannot record the online verification on the target");
	else if (!ask_at_lsn && !verification_set_lsn(o->tgt, o->id, *lsn))
		rc = fail(o, OUTCOME_TIMEOUT, "the follower gave online verification %lld up before it got the LSN (its log says why); fix: run verify --online again",
				  (long long) o->id);
	else if (!import_snapshot(o, true, PQgetvalue(res, 0, 2)))
		rc = fail(o, OUTCOME_SQL, "cannot import the verification's snapshot on the source");
	PQclear(res);
	/* the sessions hold the snapshot now: the slot may go */
	PQfinish(o->repl);
	o->repl = NULL;
	return rc;
}

/*
 * The follower's snapshot at the LSN, imported by every target session.
 * *passed: the follower had gone past it (nothing imported; try again).
 */
static Outcome
target_snapshot(Online *o, OnlineVerification *info, bool *passed)
{
	VerificationRow row;
	Outcome		rc;
	bool		moved;

	*passed = false;
	if ((rc = wait_for(o, "exported", EXPORT_WAIT_SECONDS, &row)) != OUTCOME_OK)
		return rc;
	if (strcmp(row.state, "passed") == 0)
	{
		*passed = true;
		return OUTCOME_OK;
	}
	if (!import_snapshot(o, false, row.target_snapshot))
		return fail(o, OUTCOME_SQL, "cannot import the follower's snapshot on the target");
	if (!verification_record_shapes(o->pairs[0].target, o->tgt, o->id))
		return fail(o, OUTCOME_SQL, "cannot record the target's table shapes for online verification %lld",
					(long long) o->id);
	if (!verification_move(o->tgt, o->id, "exported", "imported", &moved) || !moved)
		return fail(o, OUTCOME_SQL, "cannot record online verification %lld as imported", (long long) o->id);
	info->pause_ms = row.pause_ms;
	return OUTCOME_OK;
}

/* Ends the source sessions' snapshot transactions (a retry imports anew). */
static bool
rollback_sources(Online *o)
{
	for (int i = 0; i < o->npairs; i++)
		if (!db_exec(o->pairs[i].source, "ROLLBACK"))
			return false;
	return true;
}

/* Both snapshots at one LSN, in every session (the protocol at the top). */
static Outcome
take_snapshots(Online *o, OnlineVerification *info)
{
	VerificationRow row;
	Outcome		rc;
	bool		passed = false;
	/* the tests reach the second protocol with 0 */
	const char *forced = getenv("PGCUTOVER_TEST_OPTIMISTIC_ATTEMPTS");
	int			attempts = forced ? atoi(forced) : OPTIMISTIC_ATTEMPTS;

	for (int attempt = 1; attempt <= attempts; attempt++)
	{
		/* the slot first, then the follower asked at its LSN */
		if ((rc = connect_replication(o)) != OUTCOME_OK ||
			(rc = source_snapshot(o, true, &info->lsn)) != OUTCOME_OK)
			return rc;
		info->id = o->id;
		if ((rc = target_snapshot(o, info, &passed)) != OUTCOME_OK || !passed)
			return rc;
		log_debug("online verification %lld: the follower was past the LSN already (attempt %d)",
				  (long long) o->id, attempt);
		o->id = 0;
		if (!rollback_sources(o))
			return fail(o, OUTCOME_SQL, "cannot end the source sessions' snapshot");
	}
	/* it keeps getting ahead: it stands still while the slot is made */
	if ((rc = connect_replication(o)) != OUTCOME_OK)
		return rc;
	if (!verification_begin(o->tgt, o->opts->slot, "online", &o->id))
		return fail(o, OUTCOME_SQL, "cannot record the online verification on the target");
	info->id = o->id;
	if ((rc = wait_for(o, "holding", HOLD_WAIT_SECONDS, &row)) != OUTCOME_OK ||
		(rc = source_snapshot(o, false, &info->lsn)) != OUTCOME_OK)
		return rc;
	return target_snapshot(o, info, &passed);
}

/* Step 6, and the verdicts recorded. */
static Outcome
compare_at_lsn(Online *o, const CompareConfig *cfg, VerifyResult *r)
{
	TableList	tables;
	CompareTask *tasks;
	int			ntasks = 0;
	bool		ok;
	json_t	   *doc;
	char	   *verdicts;
	double		t0 = now_seconds();

	if (!catalog_list_tables(o->pairs[0].source, o->opts, &tables))
		return fail(o, OUTCOME_SQL, "cannot list the source's tables");
	tasks = pg_malloc0(sizeof(CompareTask) * (tables.count + 1));
	r->tables = pg_malloc0(sizeof(TableVerdict) * (tables.count + 1));
	for (int i = 0; i < tables.count; i++)
		if (catalog_compared_as_itself(&tables.tables[i]))
		{
			tasks[ntasks].table = &tables.tables[i];
			tasks[ntasks++].scope = COMPARE_ALL_ROWS;
		}
	r->jobs = o->npairs;
	ok = compare_tables(o->pairs, o->npairs, cfg, tasks, ntasks, r);
	r->seconds = now_seconds() - t0;
	free(tasks);
	catalog_free_tables(&tables);
	if (!ok)
		return fail(o, signals_interrupts() > 0 ? OUTCOME_INTERRUPTED : OUTCOME_SQL,
					"online verification %lld could not compare every table", (long long) o->id);
	doc = verify_json(r);
	verdicts = json_dumps(json_object_get(doc, "tables"), JSON_COMPACT);
	if (!verification_finish(o->tgt, o->id, r->mismatches == 0, NULL, r->ntables, r->mismatches,
							 r->rows_compared, verdicts))
		log_warn("cannot record the verdicts of online verification %lld on the target", (long long) o->id);
	free(verdicts);
	json_decref(doc);
	return OUTCOME_OK;
}

Outcome
verify_online(const Options *opts, const CompareConfig *cfg, VerifyResult *r,
			  OnlineVerification *info)
{
	Online		o = {.opts = opts};
	char	   *err = NULL;
	double		t0 = now_seconds();
	Outcome		rc;

	memset(r, 0, sizeof(*r));
	memset(info, 0, sizeof(*info));
	signals_install();
	o.npairs = opts->jobs < 1 ? 1 : opts->jobs > COMPARE_MAX_PAIRS ? COMPARE_MAX_PAIRS : opts->jobs;
	if ((o.tgt = db_connect(opts->target, "target", CONN_NORMAL, &err)) == NULL)
	{
		log_error("%s", err);
		free(err);
		return OUTCOME_CONNECTION;
	}
	if ((rc = check_follower(&o)) != OUTCOME_OK)
		goto done;
	if (!compare_pairs_open(opts, o.npairs, &o.pairs))
	{
		rc = OUTCOME_CONNECTION;
		o.npairs = 0;
		goto done;
	}
	if ((rc = watch_target(&o, info)) != OUTCOME_OK)
		goto done;
	if ((rc = settle_source(&o)) != OUTCOME_OK)
		goto done;
	if ((rc = take_snapshots(&o, info)) != OUTCOME_OK)
		goto done;
	info->snapshot_ms = (now_seconds() - t0) * 1000;
	{
		char		lsn[LSN_FORMAT_LEN];

		log_info("online verification %lld: both sides at %s (the follower stood still %.1f ms); comparing on %d session pair(s)",
				 (long long) o.id, lsn_format(info->lsn, lsn), info->pause_ms, o.npairs);
	}
	rc = compare_at_lsn(&o, cfg, r);
done:
	if (o.pairs)
		compare_pairs_close(o.pairs, o.npairs);
	PQfinish(o.repl);
	PQfinish(o.tgt);
	return rc;
}
