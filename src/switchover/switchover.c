/*
 * switchover.c
 *	  The switchover engine, the moment the application moves; run by
 *	  `pgcutover switchover` and by `migrate --switchover`.  With a follower
 *	  running (another process or migrate's child):
 *
 *	    0. refuse while the source has prepared transactions
 *	    1. refuse past the large objects' limits (lo_sync.h); wait until
 *	       lag <= --max-lag; move the large objects changed since the copy
 *	    2. fence the source airtight (fence.h): no session but ours and the
 *	       follower's walsender, none can start          <- downtime starts
 *	    3. emit a transactional fence marker, wait until the follower has
 *	       durably applied it: nothing committed before the fence is missing
 *	    4. set every sequence on the target to the source's state (+ gap,
 *	       the sequence's way, within its bounds); carry the large objects
 *	       changed since the pass before the fence (lo_sync.h)
 *	    5. verify every table (unless --skip-verify)
 *	    6. run --post-command, restore identity columns and the ENABLE
 *	       ALWAYS/REPLICA triggers and rules (triggers.h)   <- target ready
 *	    7. mark the migration switched over; the follower exits 0
 *	    8. refresh the target's materialized views (follow skips their
 *	       rows), in dependency order, as populated as the source's: after
 *	       the downtime, the target takes writes meanwhile
 *
 *	  Any failure, timeout or SIGINT before the end lifts the fence, restoring
 *	  exactly what was there, and leaves the follower running.  After the
 *	  end the old source stays fenced: readable again, every write refused by
 *	  a trigger per table (the reverse follower, in replica role, passes);
 *	  closed to connections when the role cannot make the triggers (fence.h).
 *	  --dry-run prints every statement
 *	  of that sequence.  What the run did is returned in a SwitchoverResult;
 *	  src/cli/ prints it.
 *
 *	  This file owns the run: its connections (also into a killed run's
 *	  fence), steps 0 to 3, aborting, the order of the steps, the fence left
 *	  at rest.  The steps behind the fence are in switchover_steps.c, step 8
 *	  in switchover_matviews.c (switchover_int.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cutover.h"
#include "log.h"
#include "pgconn.h"
#include "state.h"
#include "status.h"
#include "subprocess.h"
#include "switchover_int.h"
#include "triggers.h"
#include "verification.h"

/* A step ended that began at t0: its time goes to the result and the log. */
void
step_done(Switchover *sw, const char *name, double t0)
{
	double		ms = (now_seconds() - t0) * 1000;

	json_array_append_new(sw->result->steps, json_pack("{s:s, s:f}", "step", name, "ms", ms));
	log_info("switchover step %-10s %8.1f ms", name, ms);
}

static void
set_fenced_state(Switchover *sw, bool fenced)
{
	bool		recorded;

	if (sw->opts->dry_run)
		return;
	if (fenced)
	{
		char	   *prior = sw->have_prior ? fence_prior_to_json(&sw->prior) : NULL;

		recorded = cutover_record_fence(sw->tgt, sw->opts->slot,
										sw->opts->fence ? sw->opts->fence : "default", prior);
		free(prior);
	}
	else
		recorded = cutover_record_unfence(sw->tgt, sw->opts->slot);
	if (!recorded)
	{
		char	   *e = db_error(sw->tgt);

		log_warn("cannot record the fence state on the target: %s", e);
		free(e);
	}
}

/*
 * Restores what the default fence changed.  Our session on the fenced
 * database may be gone (a kill, a lost connection): then through the
 * server's maintenance database, since the fenced one refuses new sessions.
 */
static bool
lift_fence(Switchover *sw)
{
	FencePrior	unknown = {.allow_connections = true};
	const FencePrior *prior = sw->have_prior ? &sw->prior : &unknown;
	PGconn	   *conn = sw->src;
	PGconn	   *maintenance = NULL;
	bool		ok;

	if (sw->maintenance && PQstatus(sw->maintenance) == CONNECTION_OK &&
		PQtransactionStatus(sw->maintenance) == PQTRANS_IDLE)
		conn = sw->maintenance;
	else if (conn == NULL || PQstatus(conn) != CONNECTION_OK || PQtransactionStatus(conn) != PQTRANS_IDLE)
	{
		char	   *err = NULL;

		if ((maintenance = fence_connect_maintenance(sw->opts->source, "source", &err)) == NULL)
		{
			log_error("%s", err);
			free(err);
			return false;
		}
		conn = maintenance;
	}
	ok = fence_lift(conn, sw->dbname, prior, sw->opts->dry_run);
	PQfinish(maintenance);
	return ok;
}

/*
 * Ends the run before its end: says why, drops the reverse slot, quiets
 * the restored triggers again and lifts the fence.  Returns outcome.
 */
Outcome
abort_switchover(Switchover *sw, Outcome outcome, const char *fmt,...)
{
	va_list		ap;
	char	   *msg;

	va_start(ap, fmt);
	msg = pvsprintf(fmt, ap);
	va_end(ap);
	log_error("switchover aborted: %s", msg);
	free(msg);
	if (sw->reverse_slot && !sw->opts->dry_run)
	{
		/* the source takes writes again: a rollback slot from here would replay them */
		const char *params[1] = {sw->reverse_slot};
		PGresult   *res = db_query_params(sw->tgt, "SELECT pg_catalog.pg_drop_replication_slot($1)", 1, params);

		if (res)
			log_info("dropped the reverse slot %s on the target", sw->reverse_slot);
		PQclear(res);
		free(sw->reverse_slot);
		sw->reverse_slot = NULL;
	}
	/* a killed run this one took over (fenced) may have restored them too */
	if ((sw->triggers_restored || (sw->fenced && !sw->opts->dry_run)) &&
		triggers_quiet(sw->tgt, sw->opts->slot) < 0)
		log_error("cannot disable the ENABLE ALWAYS/REPLICA triggers on the target again: they would fire on the rows the follower applies; fix: stop the follower, then SELECT pgcutover.quiet_triggers('%s') on the target",
				  sw->opts->slot);
	if (!sw->fenced)
		return outcome;
	if (sw->fenced_by_command)
		log_error("the source was fenced by your --fence-command: UNDO IT NOW so the application can write again; the follower keeps running");
	else if (lift_fence(sw))
	{
		set_fenced_state(sw, false);
		sw->fenced = false;
		log_warn("the fence is lifted: the source accepts writes again and the follower keeps applying them");
	}
	else
		log_error("THE SOURCE IS STILL FENCED (it refuses connections) and lifting it failed; fix: as the database owner, from another database of the source server: ALTER DATABASE %s ALLOW_CONNECTIONS true; ALTER DATABASE %s RESET default_transaction_read_only",
				  sw->dbname, sw->dbname);
	return outcome;
}

/*
 * A rerun after a switchover that was killed (SIGKILL, a crash, a lost
 * terminal): the state on the target says how far it got.  Returns true
 * with *outcome set to stop there, false to go on.
 */
static bool
take_over_killed_run(Switchover *sw, Outcome *outcome)
{
	CutoverRecord rec;
	bool		stop = false;

	if (!cutover_read_record(sw->tgt, sw->opts->slot, &rec) || !rec.found)
		goto done;				/* no state: wait_for_lag says so */
	if (rec.switched_over)
	{
		log_info("the migration of slot %s was already switched over (at %s): nothing to do; the old source stays fenced",
				 sw->opts->slot, rec.switched_over_at ? rec.switched_over_at : "");
		sw->result->already_switched_over = true;
		sw->result->switched_over_at = pg_strdup(rec.switched_over_at ? rec.switched_over_at : "");
		*outcome = OUTCOME_OK;
		stop = true;
	}
	else if (rec.fenced)
	{
		/* a killed run's fence: this run owns it now, and lifts it if it fails */
		sw->fenced = true;
		sw->fenced_by_command = rec.fenced_by_command;
		/* what was there before is what that run saw, not today's fenced state */
		sw->have_prior = rec.fence_prior && fence_prior_from_json(rec.fence_prior, &sw->prior);
		log_warn("a previous switchover of slot %s was interrupted with the source fenced (since %s): this run takes over and lifts the fence if it fails",
				 sw->opts->slot, rec.fenced_at ? rec.fenced_at : "");
	}
done:
	cutover_record_free(&rec);
	return stop;
}

/* Step 1: polls the follower's state until lag <= --max-lag. */
static Outcome
wait_for_lag(Switchover *sw, double deadline)
{
	for (;;)
	{
		Status		s;
		Outcome		rc = status_read(sw->src, sw->tgt, sw->opts->slot, true, &s);
		bool		alive = s.follower_alive;
		double		lag = s.lag_seconds;
		bool		slot_gone = rc == OUTCOME_OK && (strcmp(s.state, "slot_missing") == 0 || strcmp(s.state, "slot_lost") == 0);

		status_free(&s);
		if (slot_gone && !sw->opts->dry_run)
			return abort_switchover(sw, OUTCOME_STATE, "slot %s is gone from the source or invalidated: changes since then are lost; fix: 'pgcutover cleanup' and copy again",
									sw->opts->slot);
		if (rc == OUTCOME_STATE)
			return abort_switchover(sw, OUTCOME_STATE, "no migration for slot %s on the target; fix: run copy and follow first", sw->opts->slot);
		if (rc != OUTCOME_OK)
			return abort_switchover(sw, rc, "cannot read the migration's state");
		if (!alive && !sw->opts->dry_run)
			return abort_switchover(sw, OUTCOME_STATE, "no follower is running for slot %s; fix: start 'pgcutover follow' and retry", sw->opts->slot);
		if ((lag >= 0 && lag <= sw->opts->max_lag) || sw->opts->dry_run)
		{
			sw->result->lag_at_fence = lag;
			return OUTCOME_OK;
		}
		if (interrupted())
			return abort_switchover(sw, OUTCOME_INTERRUPTED, "interrupted while waiting for lag");
		if (now_seconds() > deadline)
			return abort_switchover(sw, OUTCOME_TIMEOUT, "lag did not reach %g s within --timeout", sw->opts->max_lag);
		usleep(20 * 1000);
	}
}

/*
 * Step 0, and again behind the fence: a prepared transaction could be
 * committed on the old source after the switchover by anyone the database
 * is opened to again.  Refused, not handled: only its owner knows whether
 * it should commit.
 */
static Outcome
refuse_prepared_transactions(Switchover *sw, bool behind_fence)
{
	char	   *what = NULL;
	int			n;
	Outcome		rc = OUTCOME_OK;

	if (sw->opts->dry_run)
	{
		if (!behind_fence)
			printf("[source] -- refuse while pg_prepared_xacts holds a transaction of this database\n");
		return OUTCOME_OK;
	}
	if ((n = fence_prepared_xacts(sw->src, &what)) < 0)
		rc = abort_switchover(sw, OUTCOME_SQL, "cannot read the source's prepared transactions");
	else if (n > 0)
		rc = abort_switchover(sw, OUTCOME_PREFLIGHT,
							  "the source database has %d prepared transaction(s) (%s)%s, which could commit on the old source after the switchover; fix: COMMIT PREPARED or ROLLBACK PREPARED them (their owner knows which), then run the switchover again",
							  n, what, behind_fence ? ", prepared while the fence went up" : "");
	free(what);
	return rc;
}

/*
 * The follower's sessions on the source, the only ones the fence spares: its
 * walsender (the slot's active pid) and the sessions it publishes in the
 * state.  An int[] literal, malloc'd.
 */
static char *
follower_session_pids(Switchover *sw)
{
	const char *params[1] = {sw->opts->slot};
	char	   *published = cutover_follower_source_pids(sw->tgt, sw->opts->slot);
	PGresult   *res = db_query_params(sw->src,
									  "SELECT coalesce(active_pid, 0) FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
									  1, params);
	int			walsender = res && PQntuples(res) == 1 ? atoi(PQgetvalue(res, 0, 0)) : 0;
	size_t		len = strlen(published);
	char	   *pids = len > 2
		? psprintf("{%d,%.*s}", walsender, (int) (len - 2), published + 1)
		: psprintf("{%d}", walsender);

	PQclear(res);
	free(published);
	return pids;
}

/* Step 2 with the default fence (fence.h); aborts (lifting it) on failure. */
static Outcome
raise_default_fence(Switchover *sw, double deadline)
{
	char	   *err = NULL;
	int			ended = 0;
	double		give_up = now_seconds() + 30;
	Outcome		rc;

	char	   *keep = sw->opts->dry_run ? pg_strdup("{}") : follower_session_pids(sw);

	/* and verify's own sessions (open_verify_sessions) */
	for (int i = 0; i < sw->nverify_pairs; i++)
	{
		char	   *more = psprintf("%.*s,%d}", (int) strlen(keep) - 1, keep,
									PQbackendPID(sw->verify_pairs[i].source));

		free(keep);
		keep = more;
	}
	sw->fenced = true;			/* from the first statement on, an abort lifts it */
	rc = fence_raise(sw->src, sw->maintenance, keep, give_up < deadline ? give_up : deadline,
					 sw->opts->dry_run, &ended, &err);
	free(keep);
	if (rc != OUTCOME_OK)
	{
		rc = abort_switchover(sw, rc, "%s", err);
		free(err);
		return rc;
	}
	sw->result->sessions_ended = ended;
	if (ended > 0)
		log_info("fence: ended %d session(s) of the source", ended);
	return refuse_prepared_transactions(sw, true);
}

/* Steps 2 and 3: fence, then wait until the marker is durably applied. */
static Outcome
fence_and_drain(Switchover *sw, double deadline)
{
	double		t0 = now_seconds();
	const char *marker_sql = "SELECT pg_catalog.pg_logical_emit_message(true, 'pgcutover', "
		"pg_catalog.json_build_object('fence', pg_catalog.clock_timestamp())::text)::text";
	char	   *lsn;

	/*
	 * The state says "fenced", with what the fence changes as it was, before
	 * the fence is up: a run killed in between leaves a record, and the next
	 * run (or cleanup) restores exactly that.
	 */
	if (!uses_fence_command(sw) && !sw->have_prior)
	{
		if (!fence_read_prior(sw->src, &sw->prior))
			return abort_switchover(sw, OUTCOME_SQL, "cannot read the source database's settings");
		sw->have_prior = true;
	}
	set_fenced_state(sw, true);
	if (uses_fence_command(sw))
	{
		sw->fenced_by_command = true;
		if (!run_shell_command("--fence-command", sw->opts->fence_command, sw->opts->dry_run))
		{
			if (!sw->fenced)
				set_fenced_state(sw, false);
			return interrupted()
				? abort_switchover(sw, OUTCOME_INTERRUPTED, "interrupted during --fence-command; it was stopped and may have fenced part of the source: check and undo it")
				: abort_switchover(sw, OUTCOME_BUG, "--fence-command failed, the source was not fenced");
		}
	}
	else
	{
		Outcome		rc = raise_default_fence(sw, deadline);

		if (rc != OUTCOME_OK)
			return rc;
	}
	sw->fenced = true;
	sw->t_fence = t0;
	step_done(sw, "fence", t0);

	t0 = now_seconds();
	if (sw->opts->dry_run)
	{
		printf("[source] %s;\n[target] %s\n", marker_sql, cutover_drain_wait_description());
		step_done(sw, "drain", t0);
		return OUTCOME_OK;
	}
	if ((lsn = db_scalar(sw->src, marker_sql)) == NULL)
		return abort_switchover(sw, OUTCOME_SQL, "cannot write the fence marker on the source");
	snprintf(sw->result->fence_marker_lsn, sizeof(sw->result->fence_marker_lsn), "%s", lsn);
	free(lsn);
	while (!cutover_applied_reached(sw->tgt, sw->opts->slot, sw->result->fence_marker_lsn))
	{
		if (interrupted())
			return abort_switchover(sw, OUTCOME_INTERRUPTED, "interrupted while draining");
		if (now_seconds() > deadline)
			return abort_switchover(sw, OUTCOME_TIMEOUT, "the follower did not apply the fence marker %s within --timeout",
									sw->result->fence_marker_lsn);
		usleep(1000);
	}
	step_done(sw, "drain", t0);
	return OUTCOME_OK;
}

/*
 * After the end the old source keeps a fence: write-refusing triggers on
 * every table, whoever asks, and connections allowed again so it can be read
 * (and, with --reverse, followed: the reverse follower writes in replica
 * role, which the triggers let pass).  If the triggers cannot be made, the
 * database simply stays closed to connections.
 */
static void
rest_fence(Switchover *sw)
{
	char	   *err = NULL;

	if (uses_fence_command(sw))
		return;
	if (fence_rest(sw->src, sw->dbname, &sw->prior, sw->opts->dry_run, &err))
	{
		if (!sw->opts->dry_run)
			log_info("the old source is readable again; every write there is refused (schema pgcutover_fence)");
		return;
	}
	log_warn("%s; the old source stays closed to connections instead%s; fix: to read it, ALTER DATABASE %s ALLOW_CONNECTIONS true (then only the read-only default stops writes)",
			 err, sw->opts->reverse ? ", so the reverse follower cannot start" : "", sw->dbname);
	free(err);
}

/*
 * The default fence closes the database to new sessions from another
 * database of the server, and lifts it from there if our own session is
 * lost: that session is opened now, before anything changes.
 */
static Outcome
connect_maintenance(Switchover *sw)
{
	char	   *err = NULL;

	if (uses_fence_command(sw) || sw->maintenance)
		return OUTCOME_OK;
	if ((sw->maintenance = fence_connect_maintenance(sw->opts->source, "source", &err)) != NULL)
		return OUTCOME_OK;
	log_error("the fence needs a session on the source server's \"postgres\" database (it closes %s to new sessions from there): %s",
			  sw->dbname, err);
	free(err);
	return OUTCOME_CONNECTION;
}

/*
 * A killed run's fence refuses our own new session too: come in through
 * fence_reenter, and raise the fence again before anything else.  Whoever
 * slipped in is ended, and what they committed precedes the marker this run
 * writes, so it is drained.
 */
static Outcome
reenter_fenced_source(Switchover *sw)
{
	char	   *err = NULL;
	char	   *keep = NULL;
	int			ended = 0;
	Outcome		rc;

	if ((sw->src = fence_reenter(sw->maintenance, sw->opts->source, sw->dbname)) == NULL)
		return OUTCOME_CONNECTION;
	keep = follower_session_pids(sw);
	rc = fence_raise(sw->src, sw->maintenance, keep, now_seconds() + 30, false, &ended, &err);
	if (rc != OUTCOME_OK)
		log_error("%s", err);
	else
		log_warn("the killed switchover's fence refused new sessions: this run came in (CONNECT revoked from every other role meanwhile) and raised it again at once (%d session(s) ended)",
				 ended);
	free(keep);
	free(err);
	return rc;
}

/*
 * The target first: a switchover completed earlier needs nothing of the
 * source, and a killed run's record says whether the source refusing us is
 * that run's fence.  Then the source; if the fence of a killed run keeps us
 * out, it is opened for this run, whose own fence goes up again at once.
 */
static Outcome
connect_databases(Switchover *sw)
{
	Outcome		rc = OUTCOME_OK;
	char	   *err = NULL;
	MigrationState st = {0};

	if ((sw->tgt = db_connect(sw->opts->target, "target", CONN_NORMAL, &err)) == NULL)
	{
		log_error("%s", err);
		rc = OUTCOME_CONNECTION;
		goto done;
	}
	if (!sw->opts->dry_run && take_over_killed_run(sw, &rc))
		goto done;				/* sw->src stays NULL */
	rc = OUTCOME_OK;
	if ((sw->src = db_connect(sw->opts->source, "source", CONN_NORMAL, &err)) != NULL)
	{
		sw->dbname = pg_strdup(PQdb(sw->src));
		rc = connect_maintenance(sw);
		goto done;
	}
	if (!(sw->fenced && !sw->fenced_by_command && fence_refused_connection(err)) ||
		!state_load(sw->tgt, sw->opts->slot, &st) || !st.found || st.source_dbname == NULL)
	{
		log_error("%s", err);
		rc = OUTCOME_CONNECTION;
		goto done;
	}
	free(err);
	err = NULL;
	sw->dbname = pg_strdup(st.source_dbname);
	if ((rc = connect_maintenance(sw)) != OUTCOME_OK)
		goto done;
	rc = reenter_fenced_source(sw);
done:
	state_free(&st);
	free(err);
	return rc;
}

/*
 * What the run compares and whose sequences it sets: the tables the copy
 * was made with (its filters, read from the target) as well as the command
 * line's.  Without them, a schema or table the copy left out would be
 * "missing on the target" to verify, and its sequences "behind": a
 * mismatch that keeps the source fenced.
 */
static Outcome
load_selection(Switchover *sw)
{
	bool		ok = state_selection(sw->tgt, sw->opts, &sw->selection);

	sw->opts = &sw->selection;
	return ok ? OUTCOME_OK
		: abort_switchover(sw, OUTCOME_SQL, "cannot read the copy's table filters on the target");
}

/*
 * --pgbouncer (pgbouncer.c): find the source's entries before anything
 * runs; PAUSE them after the lag check, just before the fence; once the
 * target is verified, repoint and RESUME them.  An abort RESUMEs them
 * against the source (switchover_run, after the fence is lifted).
 */
static Outcome
pgbouncer_preflight(Switchover *sw)
{
	Outcome		rc = pgbouncer_prepare(&sw->bouncers, sw->opts, sw->src, sw->tgt);

	return rc == OUTCOME_OK ? rc : abort_switchover(sw, rc, "the PgBouncer check failed (above); nothing was paused or fenced");
}

static Outcome
pause_clients(Switchover *sw, double deadline)
{
	double		t0 = now_seconds();
	Outcome		rc;

	if (sw->bouncers.count == 0)
		return OUTCOME_OK;
	if ((rc = pgbouncer_pause(&sw->bouncers, deadline)) != OUTCOME_OK)
		return abort_switchover(sw, rc, "cannot PAUSE PgBouncer (above); its entries are resumed, nothing was fenced");
	step_done(sw, "pause", t0);
	return OUTCOME_OK;
}

static Outcome
resume_clients(Switchover *sw)
{
	double		t0 = now_seconds();
	Outcome		rc;

	if (sw->bouncers.count == 0)
		return OUTCOME_OK;
	if ((rc = pgbouncer_repoint_and_resume(&sw->bouncers)) != OUTCOME_OK)
		return abort_switchover(sw, rc, "cannot point PgBouncer at the target (above)");
	step_done(sw, "resume", t0);
	return OUTCOME_OK;
}

/* Runs the steps in order; the first that fails ends the run. */
static Outcome
run_steps(Switchover *sw, double deadline)
{
	Outcome		rc;

	if ((rc = load_selection(sw)) != OUTCOME_OK ||
		(rc = refuse_prepared_transactions(sw, false)) != OUTCOME_OK ||
		(rc = pgbouncer_preflight(sw)) != OUTCOME_OK ||
		(rc = refuse_large_objects(sw)) != OUTCOME_OK ||
		(rc = wait_for_lag(sw, deadline)) != OUTCOME_OK ||
		(rc = choose_verify(sw)) != OUTCOME_OK ||
		(rc = open_verify_sessions(sw)) != OUTCOME_OK ||
		(rc = carry_large_objects(sw, false)) != OUTCOME_OK ||
		(rc = pause_clients(sw, deadline)) != OUTCOME_OK ||
		(rc = fence_and_drain(sw, deadline)) != OUTCOME_OK ||
		(rc = sync_sequences(sw)) != OUTCOME_OK ||
		(rc = carry_large_objects(sw, true)) != OUTCOME_OK ||
		(rc = verify_fenced(sw)) != OUTCOME_OK ||
		(sw->opts->reverse && (rc = prepare_reverse(sw)) != OUTCOME_OK) ||
		(rc = resume_clients(sw)) != OUTCOME_OK)
		return rc;
	return finish_switchover(sw);
}

Outcome
switchover_run(const Options *opts, SwitchoverResult *result)
{
	Switchover	sw = {.opts = opts, .result = result};
	double		t_start = now_seconds();
	double		deadline = t_start + (opts->timeout > 0 ? opts->timeout : 300);
	Outcome		rc;

	memset(result, 0, sizeof(*result));
	result->slot = pg_strdup(opts->slot);
	result->dry_run = opts->dry_run;
	result->reverse = opts->reverse;
	result->lag_at_fence = -1;
	result->steps = json_array();
	if (opts->source == NULL || opts->target == NULL)
	{
		log_error("switchover needs both databases; fix: pass --source and --target");
		rc = OUTCOME_USAGE;
		goto done;
	}
	signals_install();
	subprocess_set_cancel(signals_interrupt_flag());
	if ((rc = connect_databases(&sw)) != OUTCOME_OK)
		goto done;
	result->connected = true;
	if (sw.src == NULL)
	{
		/* switched over by an earlier run */
		if (result->already_switched_over)
		{
			lift_target_rest_fence(&sw);	/* a run killed before it did */
			refresh_matviews_after_kill(&sw);
		}
		goto done;
	}
	/* the marker must reach the walsender now, not at the next WAL writer round */
	db_exec(sw.src, "SET synchronous_commit = on");
	rc = run_steps(&sw, deadline);
	if (rc != OUTCOME_OK)
		(void) pgbouncer_resume_all(&sw.bouncers);	/* the fence is lifted by now */
	if (sw.bouncers.count > 0)
	{
		result->pgbouncer = pgbouncer_json(&sw.bouncers);
		result->max_client_pause_ms = pgbouncer_max_pause_ms(&sw.bouncers);
	}
	if (rc == OUTCOME_OK && sw.t_fence > 0)
		result->downtime_ms = (now_seconds() - sw.t_fence) * 1000;
	if (rc == OUTCOME_OK && sw.fenced)
		rest_fence(&sw);
	if (rc == OUTCOME_OK)
		refresh_matviews(&sw);
	/* the target is the primary now: its writes are nobody's to note */
	if (rc == OUTCOME_OK && !opts->dry_run && verification_unwatch_target_writes(sw.tgt) < 0)
		log_warn("cannot take the target-write triggers of verify --online off the target; fix: SELECT pgcutover.unwatch_target_writes() there");
done:
	result->source_fenced = (sw.fenced || result->already_switched_over) && !opts->dry_run;
	result->outcome = rc;
	result->total_ms = (now_seconds() - t_start) * 1000;
	subprocess_set_cancel(NULL);
	fence_prior_free(&sw.prior);
	state_free_selection(&sw.selection);
	free(sw.dbname);
	free(sw.reverse_slot);
	pgbouncer_finish(&sw.bouncers);
	compare_pairs_close(sw.verify_pairs, sw.nverify_pairs);
	incremental_free(&sw.incremental);
	PQfinish(sw.maintenance);
	PQfinish(sw.src);
	PQfinish(sw.tgt);
	return rc;
}

void
switchover_result_free(SwitchoverResult *result)
{
	free(result->slot);
	free(result->switched_over_at);
	json_decref(result->steps);
	json_decref(result->pgbouncer);
	verify_free(&result->verify);
	json_decref(result->incremental);
	json_decref(result->large_objects);
	memset(result, 0, sizeof(*result));
}
