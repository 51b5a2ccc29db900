/*
 * cmd_switchover.c
 *	  `pgcutover switchover`: the moment the application moves.  With a
 *	  follower running (another process or migrate's child):
 *
 *	    1. wait until lag <= --max-lag
 *	    2. fence writes on the source                        <- downtime starts
 *	    3. emit a transactional fence marker, wait until the follower has
 *	       durably applied it: nothing committed before the fence is missing
 *	    4. set every sequence on the target to the source's value (+ gap)
 *	    5. verify every table (unless --skip-verify)
 *	    6. run --post-command, restore identity columns    <- target ready
 *	    7. mark the migration switched over; the follower exits 0
 *
 *	  Any failure, timeout or SIGINT before the end lifts the fence and
 *	  leaves the follower running.  --dry-run prints every statement.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "fence.h"
#include "log.h"
#include "lsn.h"
#include "outcome.h"
#include "pgconn.h"
#include "signals.h"
#include "state.h"
#include "status.h"
#include "subprocess.h"
#include "switchover.h"
#include "verify.h"

typedef struct Switchover
{
	Options    *opts;
	PGconn	   *src;
	PGconn	   *tgt;
	bool		fenced;
	bool		fenced_by_command;	/* the fence is --fence-command's (this or a killed run) */
	double		t_fence;
	double		lag_at_fence;
	char		marker[LSN_FORMAT_LEN + 8];
	json_t	   *steps;
	VerifyResult verify;
	bool		verified;
	bool		already_done;	/* a previous run completed the switchover */
	char	   *reverse_slot;	/* created or reused by this run: dropped on abort */
} Switchover;

static void
step_done(Switchover *sw, const char *name, double t0)
{
	double		ms = (now_seconds() - t0) * 1000;

	json_array_append_new(sw->steps, json_pack("{s:s, s:f}", "step", name, "ms", ms));
	log_info("switchover step %-10s %8.1f ms", name, ms);
}

static void
set_fenced_state(Switchover *sw, bool fenced)
{
	const char *params[2] = {sw->opts->slot, sw->opts->fence ? sw->opts->fence : "default"};
	PGresult   *res;

	if (sw->opts->dry_run)
		return;
	/* (the unfence statement used "$2 IS NOT NULL", whose type the server
	 * cannot infer: it failed, and the state said "fenced" after an abort) */
	res = fenced
		? PQexecParams(sw->tgt, "UPDATE pgcutover.migration SET fenced_at = now(), fence_mode = $2 WHERE slot_name = $1",
					   2, NULL, params, NULL, NULL, 0)
		: PQexecParams(sw->tgt, "UPDATE pgcutover.migration SET fenced_at = NULL, fence_mode = NULL WHERE slot_name = $1",
					   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		char	   *e = db_error(sw->tgt);

		log_warn("cannot record the fence state on the target: %s", e);
		free(e);
	}
	PQclear(res);
}

/* Lifts the fence and says so; returns code. */
static int
abort_switchover(Switchover *sw, int code, const char *fmt,...) __attribute__((format(printf, 3, 4)));

static int
abort_switchover(Switchover *sw, int code, const char *fmt,...)
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
	if (!sw->fenced)
		return code;
	if (sw->fenced_by_command)
		log_error("the source was fenced by your --fence-command: UNDO IT NOW so the application can write again; the follower keeps running");
	else if (unfence_database(sw->src, sw->opts->dry_run))
	{
		set_fenced_state(sw, false);
		sw->fenced = false;
		log_warn("the fence is lifted: the source accepts writes again and the follower keeps applying them");
	}
	else
		log_error("THE SOURCE IS STILL FENCED (read-only) and lifting it failed; fix: ALTER DATABASE %s RESET default_transaction_read_only",
				  PQdb(sw->src));
	return code;
}

static bool
interrupted(void)
{
	return signals_interrupts() > 0;
}

/*
 * A rerun after a switchover that was killed (SIGKILL, a crash, a lost
 * terminal): the state on the target says how far it got.  Returns -1 to go
 * on, or an exit code to stop with.
 */
static int
take_over_killed_run(Switchover *sw)
{
	const char *params[1] = {sw->opts->slot};
	PGresult   *res = PQexecParams(sw->tgt,
								   "SELECT phase, fenced_at IS NOT NULL, coalesce(fence_mode, ''), "
								   "  coalesce(switched_over_at::text, ''), coalesce(fenced_at::text, '') "
								   "FROM pgcutover.migration WHERE slot_name = $1",
								   1, NULL, params, NULL, NULL, 0);
	int			rc = -1;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		PQclear(res);
		return -1;				/* no state: wait_for_lag says so */
	}
	if (strcmp(PQgetvalue(res, 0, 0), "switched_over") == 0)
	{
		log_info("the migration of slot %s was already switched over (at %s): nothing to do; the source stays read-only",
				 sw->opts->slot, PQgetvalue(res, 0, 3));
		if (!sw->opts->json)
			printf("switchover already complete (slot %s, at %s): nothing to do\n", sw->opts->slot,
				   PQgetvalue(res, 0, 3));
		sw->already_done = true;
		rc = OUTCOME_OK;
	}
	else if (PQgetvalue(res, 0, 1)[0] == 't')
	{
		/* a killed run's fence: this run owns it now, and lifts it if it fails */
		sw->fenced = true;
		sw->fenced_by_command = strcmp(PQgetvalue(res, 0, 2), "none") == 0;
		log_warn("a previous switchover of slot %s was interrupted with the source fenced (since %s): this run takes over and lifts the fence if it fails",
				 sw->opts->slot, PQgetvalue(res, 0, 4));
	}
	PQclear(res);
	return rc;
}

/* Step 1: polls the follower's state until lag <= --max-lag. */
static int
wait_for_lag(Switchover *sw, double deadline)
{
	for (;;)
	{
		Status		s;
		int			rc = status_read(sw->src, sw->tgt, sw->opts->slot, &s);
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
			sw->lag_at_fence = lag;
			return OUTCOME_OK;
		}
		if (interrupted())
			return abort_switchover(sw, OUTCOME_INTERRUPTED, "interrupted while waiting for lag");
		if (now_seconds() > deadline)
			return abort_switchover(sw, OUTCOME_TIMEOUT, "lag did not reach %g s within --timeout", sw->opts->max_lag);
		usleep(20 * 1000);
	}
}

/* Steps 2 and 3: fence, then wait until the marker is durably applied. */
static int
fence_and_drain(Switchover *sw, double deadline)
{
	double		t0 = now_seconds();
	const char *marker_sql = "SELECT pg_catalog.pg_logical_emit_message(true, 'pgcutover', "
		"pg_catalog.json_build_object('fence', pg_catalog.clock_timestamp())::text)::text";
	char	   *lsn;

	/*
	 * The state says "fenced" before the fence is up: a run killed in
	 * between leaves a record, and the next run (or cleanup) lifts it.
	 */
	set_fenced_state(sw, true);
	if (sw->opts->fence && strcmp(sw->opts->fence, "none") == 0)
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
	else if (fence_database(sw->src, sw->opts->dry_run) < 0)
	{
		sw->fenced = true;		/* the ALTER may have committed: lift it */
		return abort_switchover(sw, OUTCOME_SQL, "cannot fence the source (error above); fix: the default fence needs the source role to own the database (ALTER DATABASE %s OWNER TO %s) and, to end other roles' sessions, GRANT pg_signal_backend TO %s; or fence elsewhere with --fence none --fence-command CMD",
								PQdb(sw->src), PQuser(sw->src), PQuser(sw->src));
	}
	sw->fenced = true;
	sw->t_fence = t0;
	step_done(sw, "fence", t0);

	t0 = now_seconds();
	if (sw->opts->dry_run)
	{
		printf("[source] %s;\n[target] -- wait until pgcutover.apply_progress.applied_lsn >= that LSN\n", marker_sql);
		step_done(sw, "drain", t0);
		return OUTCOME_OK;
	}
	if ((lsn = db_scalar(sw->src, marker_sql)) == NULL)
		return abort_switchover(sw, OUTCOME_SQL, "cannot write the fence marker on the source");
	snprintf(sw->marker, sizeof(sw->marker), "%s", lsn);
	free(lsn);
	for (;;)
	{
		const char *params[2] = {sw->opts->slot, sw->marker};
		PGresult   *res = db_query_params(sw->tgt,
										  "SELECT applied_lsn >= $2::pg_lsn FROM pgcutover.apply_progress WHERE slot_name = $1",
										  2, params);
		bool		done = res && PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';

		PQclear(res);
		if (done)
			break;
		if (interrupted())
			return abort_switchover(sw, OUTCOME_INTERRUPTED, "interrupted while draining");
		if (now_seconds() > deadline)
			return abort_switchover(sw, OUTCOME_TIMEOUT, "the follower did not apply the fence marker %s within --timeout", sw->marker);
		usleep(1000);
	}
	step_done(sw, "drain", t0);
	return OUTCOME_OK;
}

/* Step 4: every sequence on the target set to the source's value + gap. */
static int
sync_sequences(Switchover *sw)
{
	double		t0 = now_seconds();
	PGresult   *res = db_query(sw->src,
							   "SELECT format('%I.%I', schemaname, sequencename), last_value FROM pg_catalog.pg_sequences "
							   "WHERE last_value IS NOT NULL AND schemaname <> 'pgcutover'");
	int			rc = OUTCOME_OK;

	if (res == NULL)
		return abort_switchover(sw, OUTCOME_SQL, "cannot read the source's sequences");
	for (int i = 0; i < PQntuples(res) && rc == OUTCOME_OK; i++)
	{
		char	   *lit = db_quote_literal(sw->tgt, PQgetvalue(res, i, 0));
		char	   *sql = psprintf("SELECT pg_catalog.setval(%s, %lld + %lld, true)", lit,
								   atoll(PQgetvalue(res, i, 1)), (long long) sw->opts->sequence_gap);

		if (!run_or_print(sw->tgt, "target", sql, sw->opts->dry_run))
			rc = abort_switchover(sw, OUTCOME_SQL, "cannot set sequence %s on the target", PQgetvalue(res, i, 0));
		free(sql);
		free(lit);
	}
	PQclear(res);
	if (rc == OUTCOME_OK)
		step_done(sw, "sequences", t0);
	return rc;
}

/* Step 5: verify, exact now that the source is fenced and drained. */
static int
verify_fenced(Switchover *sw)
{
	double		t0 = now_seconds();

	if (sw->opts->skip_verify || sw->opts->dry_run)
		return OUTCOME_OK;
	if (!verify_run(sw->src, sw->tgt, sw->opts, &sw->verify))
		return abort_switchover(sw, OUTCOME_SQL, "verification failed to run");
	sw->verified = true;
	step_done(sw, "verify", t0);
	if (sw->verify.mismatches == 0 && sw->verify.sequences_behind == 0)
		return OUTCOME_OK;
	verify_print(&sw->verify, stderr);
	if (sw->opts->abort_on_mismatch)
		return abort_switchover(sw, OUTCOME_MISMATCH, "%d table(s) differ after the drain", sw->verify.mismatches);
	log_error("VERIFICATION FOUND %d DIFFERENT TABLE(S): the source STAYS FENCED (read-only) so you can inspect; fix: investigate, then either 'pgcutover cleanup' (lifts the fence) or rerun with --abort-on-mismatch",
			  sw->verify.mismatches);
	return OUTCOME_MISMATCH;
}

/*
 * --reverse: while the source is still fenced and the target has not taken
 * a single write, create a slot on the target and record on the old source a
 * migration that starts exactly there.  `follow --source TARGET --target
 * SOURCE --slot <slot>_reverse` then keeps the old database current.
 */
static int
prepare_reverse(Switchover *sw)
{
	double		t0 = now_seconds();
	char	   *slot = psprintf("%s_reverse", sw->opts->slot);
	char	   *lit = db_quote_literal(sw->tgt, slot);
	char	   *sql = psprintf("SELECT lsn::text FROM pg_catalog.pg_create_logical_replication_slot(%s, 'wal2json')", lit);
	char	   *lsn = NULL;
	int			rc = OUTCOME_OK;

	if (sw->opts->dry_run)
	{
		printf("[target] %s;\n[source] -- install schema pgcutover and record migration %s at that LSN\n", sql, slot);
		goto done;
	}
	{
		/* a killed run may have created it: it still starts at the fence point */
		const char *p1[1] = {slot};
		PGresult   *res = db_query_params(sw->tgt,
										  "SELECT confirmed_flush_lsn::text FROM pg_catalog.pg_replication_slots "
										  "WHERE slot_name = $1 AND NOT active AND confirmed_flush_lsn IS NOT NULL",
										  1, p1);

		if (res && PQntuples(res) == 1)
		{
			lsn = pg_strdup(PQgetvalue(res, 0, 0));
			log_info("reusing the reverse slot %s that an interrupted switchover created (at %s)", slot, lsn);
		}
		PQclear(res);
	}
	if (lsn == NULL && (lsn = db_scalar(sw->tgt, sql)) == NULL)
	{
		rc = abort_switchover(sw, OUTCOME_PREFLIGHT, "cannot create the reverse slot %s on the target (needs wal_level=logical, wal2json and REPLICATION there; see 'pgcutover check' with source and target swapped)", slot);
		goto done;
	}
	sw->reverse_slot = pg_strdup(slot);
	{
		const char *params[3] = {slot, lsn, sw->opts->slot};
		PGresult   *res = NULL;
		PGresult   *filters = PQexecParams(sw->tgt,
										   "SELECT include_schema::text, exclude_schema::text, include_table::text, exclude_table::text "
										   "FROM pgcutover.migration WHERE slot_name = $1", 1, NULL, params + 2, NULL, NULL, 0);
		const char *p7[7] = {slot, lsn, "{}", "{}", "{}", "{}", NULL};

		if (PQresultStatus(filters) == PGRES_TUPLES_OK && PQntuples(filters) == 1)
			for (int i = 0; i < 4; i++)
				p7[2 + i] = PQgetvalue(filters, 0, i);
		if (state_install(sw->src))
			res = db_query_params(sw->src,
								  "INSERT INTO pgcutover.migration (slot_name, run_id, phase, consistent_lsn, "
								  "  include_schema, exclude_schema, include_table, exclude_table, copy_finished_at) "
								  "VALUES ($1, md5(random()::text), 'copied', $2, $3, $4, $5, $6, now()) "
								  "ON CONFLICT (slot_name) DO UPDATE SET phase = 'copied', consistent_lsn = EXCLUDED.consistent_lsn",
								  6, p7);
		PQclear(filters);
		if (res == NULL)
			rc = abort_switchover(sw, OUTCOME_SQL, "cannot record the reverse migration on the old source");
		PQclear(res);
	}
	if (rc == OUTCOME_OK)
		step_done(sw, "reverse", t0);
done:
	free(lsn);
	free(sql);
	free(lit);
	free(slot);
	return rc;
}

/* Steps 6 and 7. */
static int
finish_switchover(Switchover *sw)
{
	double		t0 = now_seconds();
	const char *params[1] = {sw->opts->slot};
	PGresult   *res;

	if (sw->opts->post_command)
	{
		if (!run_shell_command("--post-command", sw->opts->post_command, sw->opts->dry_run))
			return interrupted()
				? abort_switchover(sw, OUTCOME_INTERRUPTED, "interrupted during --post-command (it was stopped)")
				: abort_switchover(sw, OUTCOME_BUG, "--post-command failed");
		step_done(sw, "post", t0);
	}
	if (interrupted())
		return abort_switchover(sw, OUTCOME_INTERRUPTED, "interrupted before the end");
	if (!restore_identity_columns(sw->tgt, sw->opts->slot, sw->opts->dry_run))
		return abort_switchover(sw, OUTCOME_SQL, "cannot restore identity columns on the target");
	if (sw->opts->dry_run)
	{
		printf("[target] UPDATE pgcutover.migration SET phase = 'switched_over' WHERE slot_name = '%s';\n", sw->opts->slot);
		return OUTCOME_OK;
	}
	res = db_query_params(sw->tgt,
						  "UPDATE pgcutover.migration SET phase = 'switched_over', switched_over_at = now() WHERE slot_name = $1",
						  1, params);
	PQclear(res);
	return res ? OUTCOME_OK : abort_switchover(sw, OUTCOME_SQL, "cannot record the switchover on the target");
}

static json_t *
report_json(Switchover *sw, int rc, double t_start, double downtime)
{
	json_t	   *doc = json_pack("{s:s, s:s, s:b, s:i, s:b, s:O, s:f, s:f}", "command", "switchover",
								"slot", sw->opts->slot, "ok", rc == OUTCOME_OK, "exit_code", rc,
								"dry_run", sw->opts->dry_run, "steps", sw->steps,
								"downtime_ms", rc == OUTCOME_OK ? downtime : 0.0,
								"total_ms", (now_seconds() - t_start) * 1000);

	json_object_set_new(doc, "lag_at_fence_seconds", sw->lag_at_fence >= 0 ? json_real(sw->lag_at_fence) : json_null());
	json_object_set_new(doc, "fence_marker_lsn", sw->marker[0] ? json_string(sw->marker) : json_null());
	json_object_set_new(doc, "source_fenced", json_boolean((sw->fenced || sw->already_done) && !sw->opts->dry_run));
	json_object_set_new(doc, "already_switched_over", json_boolean(sw->already_done));
	if (sw->verified)
		json_object_set_new(doc, "verify", verify_json(&sw->verify));
	return doc;
}

static void
print_report(Switchover *sw, int rc, double downtime)
{
	if (rc != OUTCOME_OK || sw->already_done)
		return;
	printf("switchover %s: write downtime %.1f ms (fence to target ready), lag at fence %.3f s\n",
		   sw->opts->dry_run ? "rehearsed (dry run, nothing changed)" : "complete", downtime,
		   sw->lag_at_fence > 0 ? sw->lag_at_fence : 0);
	for (size_t i = 0; i < json_array_size(sw->steps); i++)
	{
		json_t	   *st = json_array_get(sw->steps, i);

		printf("  %-10s %8.1f ms\n", json_string_value(json_object_get(st, "step")),
			   json_real_value(json_object_get(st, "ms")));
	}
	if (sw->verified)
		printf("  verified: %d tables identical, %d sequences not behind\n", sw->verify.ntables,
			   sw->verify.sequences - sw->verify.sequences_behind);
	if (!sw->opts->dry_run)
		printf("  the source stays read-only; the target is writable; the follower stops by itself\n");
	if (sw->opts->reverse && !sw->opts->dry_run)
		printf("  rollback path: run 'pgcutover follow --source <target> --target <old source> --slot %s_reverse' to keep the old database current\n",
			   sw->opts->slot);
}

int
switchover_run(Options *opts, json_t **report)
{
	Switchover	sw = {.opts = opts, .lag_at_fence = -1};
	double		t_start = now_seconds();
	double		deadline = t_start + (opts->timeout > 0 ? opts->timeout : 300);
	double		downtime;
	int			rc;

	*report = NULL;
	if (opts->source == NULL || opts->target == NULL)
	{
		log_error("switchover needs both databases; fix: pass --source and --target");
		return OUTCOME_USAGE;
	}
	signals_install();
	subprocess_set_cancel(signals_interrupt_flag());
	if (!db_connect_both(opts, &sw.src, &sw.tgt))
	{
		subprocess_set_cancel(NULL);
		return OUTCOME_CONNECTION;
	}
	/* the marker must reach the walsender now, not at the next WAL writer round */
	db_exec(sw.src, "SET synchronous_commit = on");
	sw.steps = json_array();
	if (!opts->dry_run && (rc = take_over_killed_run(&sw)) >= 0)
		;
	else if ((rc = wait_for_lag(&sw, deadline)) == OUTCOME_OK &&
		(rc = fence_and_drain(&sw, deadline)) == OUTCOME_OK &&
		(rc = sync_sequences(&sw)) == OUTCOME_OK &&
		(rc = verify_fenced(&sw)) == OUTCOME_OK &&
		(!opts->reverse || (rc = prepare_reverse(&sw)) == OUTCOME_OK))
		rc = finish_switchover(&sw);
	downtime = sw.t_fence > 0 ? (now_seconds() - sw.t_fence) * 1000 : 0;
	if (rc == OUTCOME_OK && sw.fenced && opts->dry_run)
		unfence_database(sw.src, true);
	*report = report_json(&sw, rc, t_start, downtime);
	if (!opts->json)
		print_report(&sw, rc, downtime);
	subprocess_set_cancel(NULL);
	json_decref(sw.steps);
	free(sw.reverse_slot);
	verify_free(&sw.verify);
	PQfinish(sw.src);
	PQfinish(sw.tgt);
	return rc;
}

int
cmd_switchover(Options *opts)
{
	json_t	   *report;
	int			rc = switchover_run(opts, &report);

	if (opts->json && report)
	{
		json_dumpf(report, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	}
	json_decref(report);
	return rc;
}
