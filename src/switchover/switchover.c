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
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "compare.h"
#include "cutover.h"
#include "fence.h"
#include "log.h"
#include "lo_state.h"
#include "lo_sync.h"
#include "lsn.h"
#include "outcome.h"
#include "pgbouncer.h"
#include "pgconn.h"
#include "sequences.h"
#include "signals.h"
#include "state.h"
#include "status.h"
#include "subprocess.h"
#include "switchover.h"
#include "triggers.h"
#include "incremental.h"
#include "verification.h"
#include "verify.h"

/* One run: its connections, what it holds, and what it reports. */
typedef struct Switchover
{
	const Options *opts;		/* the command's, or &selection once read */
	Options		selection;		/* the command's options with the copy's
								 * table filters added (only the four
								 * lists are this run's own) */
	PGconn	   *src;
	PGconn	   *tgt;
	PGconn	   *maintenance;	/* the source server's "postgres" database,
								 * opened before the fence: the fenced
								 * database refuses new sessions, even ours */
	char	   *dbname;			/* the source database */
	bool		fenced;
	bool		fenced_by_command;	/* the fence is --fence-command's (this or a killed run) */
	FencePrior	prior;			/* what the default fence changes, as it was */
	bool		have_prior;
	double		t_fence;
	char	   *reverse_slot;	/* created or reused by this run: dropped on abort */
	PgBouncerSet bouncers;		/* --pgbouncer: paused around the fence */
	ComparePair *verify_pairs;	/* verify's sessions besides src and tgt,
								 * opened before the fence */
	int			nverify_pairs;
	IncrementalInfo incremental;	/* the online verification to build on */
	bool		triggers_restored;	/* quieted triggers enabled again: an
									 * abort quiets them again, as the
									 * follower goes on */
	SwitchoverResult *result;
} Switchover;

static void
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

/* Lifts the fence and says so; returns outcome. */
static Outcome
abort_switchover(Switchover *sw, Outcome outcome, const char *fmt,...) __attribute__((format(printf, 3, 4)));

static Outcome
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

static bool
interrupted(void)
{
	return signals_interrupts() > 0;
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

static bool
uses_fence_command(const Switchover *sw)
{
	return sw->opts->fence && strcmp(sw->opts->fence, "none") == 0;
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
 * Step 4: every sequence on the target made to hand out what the source's
 * would next (last_value and is_called both, so a sequence never used or
 * setval(s, n, false)'d is carried too), moved --sequence-gap units its own
 * way within its bounds; never backwards from where the target already is.
 */
static Outcome
sync_sequences(Switchover *sw)
{
	double		t0 = now_seconds();
	SequenceList src,
				tgt;
	Outcome		rc = OUTCOME_OK;

	if (!sequences_read(sw->src, sw->opts, &src))
		return abort_switchover(sw, OUTCOME_SQL, "cannot read the source's sequences");
	if (!sequences_read(sw->tgt, sw->opts, &tgt))
	{
		sequences_free(&src);
		return abort_switchover(sw, OUTCOME_SQL, "cannot read the target's sequences");
	}
	for (int i = 0; i < src.count && rc == OUTCOME_OK; i++)
	{
		const SequenceState *s = &src.items[i];
		const SequenceState *t = sequences_find(&tgt, s->qualname);
		SequenceState aligned;
		SequenceSetting set;
		char	   *lit;
		char	   *sql;

		if (t == NULL)
		{
			log_warn("sequence %s is not on the target (left out of the copy by a filter?); its value is not carried", s->qualname);
			continue;
		}
		if (!sequence_same_shape(s, t))
		{
			/* altered on the source since the copy, without DDL capture */
			/*
			 * START and RESTART too: PostgreSQL refuses new bounds that leave
			 * the sequence's start or current value outside them; the
			 * setval below then sets the value the plan says.
			 */
			sql = psprintf("ALTER SEQUENCE %s AS %s INCREMENT BY %lld MINVALUE %lld MAXVALUE %lld %sCYCLE "
						   "START WITH %lld RESTART WITH %lld",
						   s->qualname, s->type_name, (long long) s->increment, (long long) s->min_value,
						   (long long) s->max_value, s->cycle ? "" : "NO ",
						   (long long) s->start_value, (long long) s->last_value);
			log_warn("sequence %s was altered on the source since the copy (type, increment, bounds or CYCLE): the target's is altered the same way", s->qualname);
			if (!run_or_print(sw->tgt, "target", sql, sw->opts->dry_run))
				rc = abort_switchover(sw, OUTCOME_SQL, "cannot alter sequence %s on the target as on the source", s->qualname);
			free(sql);
			if (rc != OUTCOME_OK)
				break;
			aligned = *t;
			aligned.increment = s->increment;
			aligned.min_value = s->min_value;
			aligned.max_value = s->max_value;
			aligned.cycle = s->cycle;
			t = &aligned;
		}
		sequence_plan(s, t, sw->opts->sequence_gap, &set);
		if (set.keep_target)
		{
			log_info("sequence %s: the target is already further along than the source; left as it is", s->qualname);
			continue;
		}
		if (sw->opts->sequence_gap > 0 && set.gap_applied < sw->opts->sequence_gap)
			log_warn("sequence %s: only %lld of --sequence-gap %lld fit before its %s (%lld)", s->qualname,
					 (long long) set.gap_applied, (long long) sw->opts->sequence_gap,
					 s->increment > 0 ? "MAXVALUE" : "MINVALUE",
					 (long long) (s->increment > 0 ? s->max_value : s->min_value));
		lit = db_quote_literal(sw->tgt, s->qualname);
		sql = psprintf("SELECT pg_catalog.setval(%s, %lld, %s)", lit, (long long) set.value,
					   set.is_called ? "true" : "false");
		if (!run_or_print(sw->tgt, "target", sql, sw->opts->dry_run))
			rc = abort_switchover(sw, OUTCOME_SQL, "cannot set sequence %s on the target", s->qualname);
		free(sql);
		free(lit);
	}
	sequences_free(&src);
	sequences_free(&tgt);
	if (rc == OUTCOME_OK)
		step_done(sw, "sequences", t0);
	return rc;
}

/* {created, changed, deleted, bytes_moved, ms} of one large-object pass. */
static json_t *
lo_pass_json(const LargeObjectSyncResult *r)
{
	return json_pack("{s:i, s:i, s:i, s:I, s:f}", "created", r->created, "changed", r->changed,
					 "deleted", r->deleted, "bytes_moved", (json_int_t) r->bytes_moved,
					 "ms", r->seconds * 1000);
}

/*
 * Before anything changes: a source past the large objects' limits, or with
 * objects this role cannot read, is refused (lo_sync.h).
 */
static Outcome
refuse_large_objects(Switchover *sw)
{
	LargeObjectCensus census;
	const char *fix;
	char	   *refusal;
	Outcome		rc;

	if (!lo_census(sw->src, &census))
		return abort_switchover(sw, OUTCOME_SQL, "cannot count the source's large objects");
	if ((refusal = lo_census_refusal(&census, &fix)) != NULL)
	{
		rc = abort_switchover(sw, OUTCOME_PREFLIGHT, "%s; fix: %s (nothing was fenced)", refusal, fix);
		free(refusal);
		return rc;
	}
	return OUTCOME_OK;
}

/*
 * Large objects are not in logical decoding: a pass compares the source's
 * with what the target holds and moves the difference (lo_sync.h).  Just
 * before the fence (inside == false) it moves what changed since the copy
 * while the source still takes writes; inside the fence, once more, what
 * changed since that pass: exact, since nothing writes.  A source without
 * any, now or at the copy, adds no step.
 */
static Outcome
carry_large_objects(Switchover *sw, bool inside)
{
	double		t0 = now_seconds();
	LargeObjectSyncResult r;

	if (!inside && sw->opts->dry_run)
		return OUTCOME_OK;		/* the pass inside the fence prints the plan */
	/* a migration copied by a pgcutover without table pgcutover.large_object */
	if (!inside && !lo_state_exists(sw->tgt) && !state_install(sw->tgt))
		return abort_switchover(sw, OUTCOME_SQL, "cannot add table pgcutover.large_object on the target");
	if (sw->opts->dry_run && !lo_state_exists(sw->tgt))
	{
		printf("[source->target] -- large objects: every one the source has (table pgcutover.large_object is added first)\n");
		return OUTCOME_OK;
	}
	if (!lo_sync(sw->src, sw->tgt, sw->opts->slot, sw->opts->dry_run, signals_interrupt_flag(), &r))
		return interrupted()
			? abort_switchover(sw, OUTCOME_INTERRUPTED, "interrupted while moving large objects")
			: abort_switchover(sw, OUTCOME_SQL, "cannot move the source's large objects to the target (above)");
	if (r.objects == 0 && r.deleted == 0)
		return OUTCOME_OK;
	if (sw->result->large_objects == NULL)
		sw->result->large_objects = json_object();
	json_object_set_new(sw->result->large_objects, "objects", json_integer(r.objects));
	json_object_set_new(sw->result->large_objects, "bytes", json_integer(r.source_bytes));
	json_object_set_new(sw->result->large_objects, inside ? "inside_fence" : "before_fence", lo_pass_json(&r));
	log_info("large objects %s: %lld on the source; %s %d new and %d changed, %s %d on the target",
			 inside ? "inside the fence" : "before the fence", (long long) r.objects,
			 sw->opts->dry_run ? "would write" : "wrote", r.created, r.changed,
			 sw->opts->dry_run ? "would unlink" : "unlinked", r.deleted);
	step_done(sw, inside ? "large_objects" : "lo_prepass", t0);
	return OUTCOME_OK;
}

/*
 * Before the fence: which verify runs inside it.  --verify incremental needs
 * a passing online verification and refuses without one, before anything
 * changes; by default it is incremental when there is one, else full.
 */
static Outcome
choose_verify(Switchover *sw)
{
	const char *asked = sw->opts->verify_mode;

	if (sw->opts->skip_verify)
	{
		sw->result->verify_mode = "none";
		return OUTCOME_OK;
	}
	if (!incremental_prepare(sw->tgt, sw->opts->slot, &sw->incremental))
		return abort_switchover(sw, OUTCOME_SQL, "cannot read the online verifications on the target (the server's message is above); fix: rerun with --verify full");
	if (asked && strcmp(asked, "incremental") == 0 && !sw->incremental.available)
		return abort_switchover(sw, OUTCOME_STATE, "--verify incremental needs a passing online verification (%s); fix: run 'pgcutover verify --online' first, or use --verify full",
								sw->incremental.unavailable);
	if (asked ? strcmp(asked, "incremental") == 0 : sw->incremental.available)
	{
		char		lsn[LSN_FORMAT_LEN];

		sw->result->verify_mode = "incremental";
		log_info("verify inside the fence: incremental, what changed since online verification %lld at %s",
				 (long long) sw->incremental.verification_id, lsn_format(sw->incremental.lsn, lsn));
	}
	else
	{
		sw->result->verify_mode = "full";
		if (asked)
			log_info("verify inside the fence: full, every row");
		else
			log_info("verify inside the fence: full, every row (%s; a 'pgcutover verify --online' shortly before the switchover lets it compare only what changed since)",
					 sw->incremental.unavailable);
	}
	return OUTCOME_OK;
}

/*
 * Before the fence, the sessions verify compares on besides src and tgt
 * (--jobs pairs in all): the fence closes the source database to new
 * sessions and spares these (raise_default_fence); they only read.  Fewer
 * when some cannot be opened (connection limits, a rerun finding the source
 * fenced already): verify runs on what there is.
 */
static Outcome
open_verify_sessions(Switchover *sw)
{
	int			want = (sw->opts->jobs > COMPARE_MAX_PAIRS ? COMPARE_MAX_PAIRS : sw->opts->jobs) - 1;
	char	   *err = NULL;

	if (sw->opts->skip_verify || sw->opts->dry_run || want <= 0)
		return OUTCOME_OK;
	sw->verify_pairs = pg_malloc0(sizeof(ComparePair) * want);
	while (sw->nverify_pairs < want)
	{
		ComparePair *p = &sw->verify_pairs[sw->nverify_pairs];

		if ((p->source = db_connect(sw->opts->source, "source", CONN_NORMAL, &err)) == NULL ||
			(p->target = db_connect(sw->opts->target, "target", CONN_NORMAL, &err)) == NULL)
		{
			log_info("verify will compare on %d session pair(s), not %d: %s",
					 sw->nverify_pairs + 1, want + 1, err);
			PQfinish(p->source);
			p->source = NULL;
			free(err);
			break;
		}
		sw->nverify_pairs++;
	}
	return OUTCOME_OK;
}

/* Step 5: verify, exact now that the source is fenced and drained. */
static Outcome
verify_fenced(Switchover *sw)
{
	double		t0 = now_seconds();
	VerifyResult *verify = &sw->result->verify;
	CompareConfig cfg = verify_compare_config(sw->opts);
	bool		incremental = strcmp(sw->result->verify_mode, "incremental") == 0;
	ComparePair *pairs;
	char		lsn[LSN_FORMAT_LEN];
	bool		ok;

	if (sw->opts->skip_verify)
		return OUTCOME_OK;
	if (sw->opts->dry_run)
	{
		printf("[source+target] -- verify: row count and checksum of %s on both sides at once, and no target sequence behind (--verify %s; --verify none leaves it out)\n",
			   incremental
			   ? "the rows whose keys follow applied since the last online verification (and, whole, the tables it could not track by key)"
			   : "every table", sw->result->verify_mode);
		return OUTCOME_OK;
	}
	pairs = pg_malloc0(sizeof(ComparePair) * (sw->nverify_pairs + 1));
	pairs[0].source = sw->src;
	pairs[0].target = sw->tgt;
	if (sw->nverify_pairs > 0)
		memcpy(pairs + 1, sw->verify_pairs, sizeof(ComparePair) * sw->nverify_pairs);
	ok = incremental
		? incremental_run(pairs, sw->nverify_pairs + 1, sw->tgt, sw->opts, &cfg, &sw->incremental, verify)
		: verify_run(pairs, sw->nverify_pairs + 1, sw->opts, verify);
	free(pairs);
	compare_pairs_close(sw->verify_pairs, sw->nverify_pairs);
	sw->verify_pairs = NULL;
	sw->nverify_pairs = 0;
	if (!ok)
		return interrupted()
			? abort_switchover(sw, OUTCOME_INTERRUPTED, "interrupted during verify")
			: abort_switchover(sw, OUTCOME_SQL, "verification failed to run");
	sw->result->verified = true;
	if (incremental)
		sw->result->incremental = json_pack("{s:I, s:s, s:i, s:i, s:I, s:O}",
											"verification_id", (json_int_t) sw->incremental.verification_id,
											"lsn", lsn_format(sw->incremental.lsn, lsn),
											"tables_by_key", sw->incremental.tables_by_key,
											"tables_whole", sw->incremental.tables_whole,
											"keys", (json_int_t) sw->incremental.keys,
											"whole", sw->incremental.whole);
	step_done(sw, "verify", t0);
	if (verify->mismatches == 0 && verify->sequences_behind == 0)
		return OUTCOME_OK;
	/* stderr, before the verdict: the differences are part of the error */
	verify_print(verify, stderr);
	if (sw->opts->abort_on_mismatch)
		return abort_switchover(sw, OUTCOME_MISMATCH, "%d table(s) differ after the drain", verify->mismatches);
	log_error("VERIFICATION FOUND %d DIFFERENT TABLE(S): the source STAYS FENCED (read-only) so you can inspect; fix: investigate, then either 'pgcutover cleanup' (lifts the fence) or rerun with --abort-on-mismatch",
			  verify->mismatches);
	return OUTCOME_MISMATCH;
}

/*
 * --reverse: while the source is still fenced and the target has not taken
 * a single write, create a slot on the target and record on the old source a
 * migration that starts exactly there.  `follow --source TARGET --target
 * SOURCE --slot <slot>_reverse` then keeps the old database current.
 */
static Outcome
prepare_reverse(Switchover *sw)
{
	double		t0 = now_seconds();
	char	   *slot = psprintf("%s_reverse", sw->opts->slot);
	char	   *lit = db_quote_literal(sw->tgt, slot);
	char	   *sql = psprintf("SELECT lsn::text FROM pg_catalog.pg_create_logical_replication_slot(%s, 'wal2json')", lit);
	char	   *lsn = NULL;
	char	   *prior = NULL;
	Outcome		rc = OUTCOME_OK;

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
	/* switching back over lifts the rest fence this run leaves: as it was before */
	if (sw->have_prior && !uses_fence_command(sw))
		prior = fence_prior_to_json(&sw->prior);
	if (!cutover_record_reverse_migration(sw->tgt, sw->opts->slot, sw->src, slot, lsn, prior))
		rc = abort_switchover(sw, OUTCOME_SQL, "cannot record the reverse migration on the old source");
	if (rc == OUTCOME_OK)
		step_done(sw, "reverse", t0);
done:
	free(prior);
	free(lsn);
	free(sql);
	free(lit);
	free(slot);
	return rc;
}

/*
 * Switching back over (the migration --reverse recorded on the old source):
 * the target is the database an earlier switchover left fenced at rest, and
 * takes writes again once it is the primary: its pgcutover_fence goes and
 * its settings are as before that fence.  Any other target has no record.
 * Run once the switchover is recorded (an abort must not leave both sides
 * writable), and again by a rerun after a kill; a failure is a warning:
 * the switchover stands, the target is still read-only.
 */
static void
lift_target_rest_fence(Switchover *sw)
{
	char	   *prior = NULL;

	if (!cutover_read_rest_fence_prior(sw->tgt, sw->opts->slot, &prior))
		return;
	if (prior == NULL)
	{
		char	   *fenced = db_scalar(sw->tgt, "SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = 'pgcutover_fence'");

		/* fenced by a --fence-command run, or by hand: not ours to lift */
		if (fenced && strcmp(fenced, "0") != 0 && !sw->opts->dry_run)
			log_warn("the target is the primary now but carries a rest fence (schema pgcutover_fence) this migration did not record; fix: if it is the old fence of a switchover away from it, there: SET default_transaction_read_only = off; DROP SCHEMA pgcutover_fence CASCADE; ALTER DATABASE %s RESET default_transaction_read_only",
					 PQdb(sw->tgt));
		free(fenced);
		return;
	}
	if (fence_rest_lift(sw->tgt, PQdb(sw->tgt), prior, sw->opts->dry_run) &&
		(sw->opts->dry_run || cutover_forget_rest_fence_prior(sw->tgt, sw->opts->slot)))
	{
		if (!sw->opts->dry_run)
			log_info("the target, switched away from earlier, takes writes again: its rest fence is lifted");
	}
	else
		log_warn("the target is the primary but still refuses writes: the rest fence an earlier switchover left there is not lifted (above); fix: there, SET default_transaction_read_only = off; DROP SCHEMA pgcutover_fence CASCADE; ALTER DATABASE %s RESET default_transaction_read_only; then rerun this switchover to record it",
				 PQdb(sw->tgt));
	free(prior);
}

bool
restore_quieted_triggers(PGconn *src, PGconn *tgt, const char *slot, bool dry_run)
{
	StrList		statements = {0};
	char	   *source_states = src ? triggers_source_states(src) : NULL;
	int			restored = 0;
	bool		ok = true;

	if (src && source_states == NULL)
		log_warn("cannot read the source's trigger states: the quieted triggers get the state they had at the copy");
	if (dry_run)
	{
		if (triggers_restore_statements(tgt, slot, source_states, &statements))
			for (int i = 0; i < statements.count; i++)
				printf("[target] %s;\n", statements.items[i]);
		strlist_free(&statements);
	}
	else if ((restored = triggers_restore(tgt, slot, source_states)) < 0)
		ok = false;
	else if (restored > 0)
		log_info("%d ENABLE ALWAYS/REPLICA trigger(s) and rule(s) quieted while the target followed are in the source's state again",
				 restored);
	free(source_states);
	return ok;
}

/* Steps 6 and 7. */
static Outcome
finish_switchover(Switchover *sw)
{
	double		t0 = now_seconds();

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
	if (!restore_quieted_triggers(sw->src, sw->tgt, sw->opts->slot, sw->opts->dry_run))
		return abort_switchover(sw, OUTCOME_SQL, "cannot enable the ALWAYS/REPLICA triggers and rules on the target again");
	sw->triggers_restored = !sw->opts->dry_run;
	if (sw->opts->dry_run)
	{
		char	   *sql = cutover_mark_switched_over_sql(sw->opts->slot);

		printf("[target] %s;\n", sql);
		free(sql);
		lift_target_rest_fence(sw);
		return OUTCOME_OK;
	}
	if (!cutover_mark_switched_over(sw->tgt, sw->opts->slot))
		return abort_switchover(sw, OUTCOME_SQL, "cannot record the switchover on the target");
	lift_target_rest_fence(sw);
	return OUTCOME_OK;
}

/*
 * The target's materialized views in dependency order (a view over another,
 * also through plain views, comes after it), with the statement that gives
 * each the source's state: REFRESH where the source's is populated
 * (CONCURRENTLY where the target's is populated and has the unique index
 * that needs, so readers are not blocked), REFRESH ... WITH NO DATA where
 * the source's is not and the target's is; none where both are not.
 * $1: the source's populated views, $2 its unpopulated ones, as
 * "schema.name" texts of quote_ident'd parts.
 */
static const char refresh_matviews_sql[] =
	"WITH RECURSIVE rel AS ("
	"  SELECT c.oid, c.relkind, c.relispopulated, "
	"    pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS name "
	"  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	"  WHERE c.relkind IN ('m', 'v') AND n.nspname NOT IN ('pg_catalog', 'information_schema')), "
	"edge AS ("
	"  SELECT DISTINCT r.ev_class AS rel, d.refobjid AS dep "
	"  FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_depend d "
	"    ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = r.oid "
	"    AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
	"  WHERE r.ev_class IN (SELECT oid FROM rel) AND d.refobjid IN (SELECT oid FROM rel) "
	"    AND d.refobjid <> r.ev_class), "
	"depth(oid, depth) AS ("
	"  SELECT oid, 0 FROM rel "
	"  UNION ALL SELECT e.rel, depth.depth + 1 FROM edge e JOIN depth ON depth.oid = e.dep WHERE depth.depth < 100) "
	"SELECT rel.name, CASE "
	"  WHEN rel.name = ANY ($1::text[]) THEN 'REFRESH MATERIALIZED VIEW ' || "
	"    CASE WHEN rel.relispopulated AND EXISTS (SELECT 1 FROM pg_catalog.pg_index i "
	"        WHERE i.indrelid = rel.oid AND i.indisunique AND i.indisvalid AND i.indpred IS NULL "
	"        AND i.indexprs IS NULL) THEN 'CONCURRENTLY ' ELSE '' END || rel.name "
	"  WHEN rel.name = ANY ($2::text[]) AND rel.relispopulated THEN "
	"    'REFRESH MATERIALIZED VIEW ' || rel.name || ' WITH NO DATA' END, "
	"  rel.relispopulated "
	"FROM rel JOIN (SELECT oid, max(depth) AS depth FROM depth GROUP BY oid) d ON d.oid = rel.oid "
	"WHERE rel.relkind = 'm' ORDER BY d.depth, rel.name";

/*
 * Do the source's and the target's view name hold the same rows?  Then the
 * target's is left as it is: the source did not refresh it since the copy,
 * or follow replayed its refreshes (DDL capture), and a refresh here would
 * make it differ from the source's.  Any failure counts as "not the same".
 */
static bool
same_matview_rows(Switchover *sw, const char *name)
{
	char	   *sql = psprintf("SELECT count(*), pg_catalog.md5(coalesce(pg_catalog.string_agg(r::text, E'\\n' "
							   "ORDER BY r::text COLLATE \"C\"), '')) FROM %s r", name);
	PGresult   *src = PQexec(sw->src, sql);
	PGresult   *tgt = PQexec(sw->tgt, sql);
	bool		same = PQresultStatus(src) == PGRES_TUPLES_OK && PQresultStatus(tgt) == PGRES_TUPLES_OK &&
		PQntuples(src) == 1 && PQntuples(tgt) == 1 &&
		strcmp(PQgetvalue(src, 0, 0), PQgetvalue(tgt, 0, 0)) == 0 &&
		strcmp(PQgetvalue(src, 0, 1), PQgetvalue(tgt, 0, 1)) == 0;

	PQclear(src);
	PQclear(tgt);
	free(sql);
	return same;
}

/*
 * After the target is open (outside the write downtime: writes go on while
 * the views are refreshed, like between two refreshes on the source):
 * its materialized views are given the source's state; one whose rows are
 * the source's already is left alone.  Follow skipped
 * their rows (a replica's views are refreshed here, once).  A view that
 * cannot be refreshed is a warning: the switchover is done.
 */
static void
refresh_matviews(Switchover *sw)
{
	double		t0 = now_seconds();
	PGresult   *src = PQexec(sw->src,
							 "SELECT pg_catalog.array_agg(name) FILTER (WHERE relispopulated)::text, "
							 "  pg_catalog.array_agg(name) FILTER (WHERE NOT relispopulated)::text "
							 "FROM (SELECT c.relispopulated, pg_catalog.quote_ident(n.nspname) || '.' || "
							 "  pg_catalog.quote_ident(c.relname) AS name FROM pg_catalog.pg_class c "
							 "  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'm') m");
	PGresult   *plan = NULL;
	const char *params[2];

	if (PQresultStatus(src) != PGRES_TUPLES_OK || PQntuples(src) != 1)
	{
		char	   *e = db_error(sw->src);

		log_warn("cannot read the source's materialized views (%s): the target's are as copy left them; fix: REFRESH MATERIALIZED VIEW each on the target", e);
		free(e);
		goto done;
	}
	/* a rerun after a kill in this step does it again (refresh_matviews_after_kill) */
	if (!sw->opts->dry_run)
		(void) state_phase_begin(sw->tgt, sw->opts->slot, "refresh_matviews");
	if (PQgetisnull(src, 0, 0) && PQgetisnull(src, 0, 1))
	{
		if (!sw->opts->dry_run)
			(void) state_phase_end(sw->tgt, sw->opts->slot, "refresh_matviews");
		goto done;				/* none: no step */
	}
	params[0] = PQgetisnull(src, 0, 0) ? "{}" : PQgetvalue(src, 0, 0);
	params[1] = PQgetisnull(src, 0, 1) ? "{}" : PQgetvalue(src, 0, 1);
	if ((plan = db_query_params(sw->tgt, refresh_matviews_sql, 2, params)) == NULL)
	{
		log_warn("cannot read the target's materialized views: they are as copy left them; fix: REFRESH MATERIALIZED VIEW each on the target, views over other views last");
		goto done;
	}
	for (int i = 0; i < PQntuples(plan); i++)
	{
		const char *name = PQgetvalue(plan, i, 0);
		const char *sql = PQgetvalue(plan, i, 1);

		bool		populated = PQgetvalue(plan, i, 2)[0] == 't';

		if (PQgetisnull(plan, i, 1))
			continue;			/* WITH NO DATA on both sides, or not on the source */
		if (populated && strstr(sql, "WITH NO DATA") == NULL && !sw->opts->dry_run &&
			same_matview_rows(sw, name))
		{
			sw->result->matviews_equal++;
			continue;
		}
		if (run_or_print(sw->tgt, "target", sql, sw->opts->dry_run))
			sw->result->matviews_refreshed++;
		else
			log_warn("materialized view %s could not be refreshed on the target (above): it is as copy left it; fix: %s; there", name, sql);
	}
	step_done(sw, "refresh_matviews", t0);
	if (!sw->opts->dry_run)
		(void) state_phase_end(sw->tgt, sw->opts->slot, "refresh_matviews");
	if (!sw->opts->dry_run)
		log_info("materialized views on the target: %d refreshed, %d already equal to the source's",
				 sw->result->matviews_refreshed, sw->result->matviews_equal);
done:
	PQclear(plan);
	PQclear(src);
}

/*
 * A rerun of a switchover that was killed once the target was the primary
 * (the migration is switched over) but before its refresh_matviews step had
 * ended: the views that run left are refreshed now (those whose rows are
 * the source's already are left alone, as in the step).
 */
static void
refresh_matviews_after_kill(Switchover *sw)
{
	char	   *err = NULL;

	if (sw->opts->dry_run || state_phase_finished(sw->tgt, sw->opts->slot, "refresh_matviews"))
		return;
	if ((sw->src = db_connect(sw->opts->source, "source", CONN_NORMAL, &err)) == NULL)
	{
		log_warn("the interrupted switchover had not refreshed every materialized view of the target, and the old source cannot be read to compare them (%s); fix: REFRESH MATERIALIZED VIEW each on the target, views over other views last",
				 err);
		free(err);
		return;
	}
	log_info("the interrupted switchover had not ended its refresh_matviews step: it is done now");
	refresh_matviews(sw);
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
