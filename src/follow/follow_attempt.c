/*
 * follow_attempt.c
 *	  One attempt of the follow engine (follow_int.h): its connections,
 *	  the migration's state checked and marked, the slot's start position
 *	  and the stream; and its end, a failed attempt's connections freed on
 *	  the loop's next pass and a new attempt after a backoff.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "follow_int.h"
#include "log.h"
#include "pgconn.h"
#include "progress.h"
#include "state.h"
#include "verification.h"
#include "wal2json_options.h"

/* A connection that failed: an error at start, a warning while reconnecting (it is retried). */
static void
log_attempt_failed(Follow *f, const char *err)
{
	if (f->reconnect.streamed)
		log_warn("%s", err);
	else
		log_error("%s", err);
}

/* Is --endpos at or before what the target has applied already? */
static bool
endpos_applied(Follow *f)
{
	Lsn			applied = progress_applied_or_consistent(f->conns.state, f->cfg.opts->slot);
	char		a[LSN_FORMAT_LEN];

	if (applied == INVALID_LSN || f->cfg.endpos > applied)
		return false;
	log_info("--endpos %s is already applied (the target is at %s): nothing to do; fix: give a later LSN, or leave --endpos out to keep following",
			 f->cfg.opts->endpos, lsn_format(applied, a));
	return true;
}

/*
 * Checks the state and takes the follower lock.  Sets stop.nothing_to_do
 * (with OUTCOME_OK) when --endpos is behind us, stop.switched_over when the
 * migration was switched over during a reconnect.
 */
Outcome
attempt_prepare_state(Follow *f)
{
	const Options *opts = f->cfg.opts;
	char	   *err = NULL;
	MigrationState st;
	char	   *sql;
	char	   *locked;
	Outcome		outcome = OUTCOME_OK;

	if ((f->conns.state = db_connect(opts->target, "target", CONN_NORMAL, &err)) == NULL)
	{
		log_attempt_failed(f, err);
		free(err);
		return OUTCOME_CONNECTION;
	}
	/*
	 * The follower's bookkeeping on this session (its row and lag history
	 * each second, the online verification's handshake, a DDL stop) is
	 * visible to others at commit and rewritten by a rerun after a target
	 * crash: it does not wait for the target's disk, which would stall the
	 * loop, and the lag, at every tick.  (What must be durable, the applied
	 * position, commits on apply's sessions; flush_target forces the disk.)
	 */
	if (!db_exec(f->conns.state, "SET synchronous_commit = off"))
	{
		char	   *e = db_error(f->conns.state);

		log_attempt_failed(f, e);
		free(e);
		return OUTCOME_CONNECTION;
	}
	if (!state_load(f->conns.state, opts->slot, &st))
		return OUTCOME_SQL;
	if (st.found && strcmp(st.phase, "switched_over") == 0 && f->reconnect.streamed)
	{
		log_info("the migration of slot %s was switched over while follow reconnected: the follower stops", opts->slot);
		f->stop.switched_over = true;
		outcome = OUTCOME_STATE;
	}
	else if (st.found && strcmp(st.phase, "switched_over") == 0)
	{
		log_error("the migration of slot %s was already switched over: the target is the primary now; fix: nothing to follow (run 'pgcutover cleanup' when done)",
				  opts->slot);
		outcome = OUTCOME_STATE;
	}
	else if (!st.found || strncmp(st.phase, "copy_", 5) == 0)
	{
		log_error("no completed copy for slot %s on the target%s; fix: run 'pgcutover copy' first (or pass the right --slot)",
				  opts->slot, st.found ? " (the copy is not finished)" : "");
		outcome = OUTCOME_STATE;
	}
	state_free(&st);
	if (outcome != OUTCOME_OK)
		return outcome;
	if (f->cfg.endpos != INVALID_LSN && !f->reconnect.streamed && endpos_applied(f))
	{
		f->stop.nothing_to_do = true;
		return OUTCOME_OK;
	}
	sql = psprintf("SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtext('pgcutover follow %s'))",
				   opts->slot);
	locked = db_scalar(f->conns.state, sql);
	free(sql);
	if (locked == NULL || strcmp(locked, "t") != 0)
	{
		log_error("another pgcutover follow is already running for slot %s on this target; fix: stop it first (only one follower per slot)",
				  opts->slot);
		outcome = OUTCOME_STATE;
	}
	free(locked);
	if (outcome == OUTCOME_OK &&
		(!state_install(f->conns.state) || !progress_mark_following(f->conns.state, opts->slot) ||
		 !db_exec(f->conns.state, "LISTEN " VERIFICATION_CHANNEL)))
		outcome = OUTCOME_SQL;
	return outcome;
}

/*
 * Builds cfg.selection, once, before the loop: the command line's table
 * filters and those the copy was made with (read from the target).
 */
Outcome
follow_load_selection(Follow *f)
{
	return state_selection(f->conns.state, f->cfg.opts, &f->cfg.selection) ? OUTCOME_OK : OUTCOME_SQL;
}

/* Connects apply and the stream, and reads the --until-caught-up target. */
Outcome
attempt_start_streaming(Follow *f)
{
	const Options *opts = f->cfg.opts;
	const Options *sel = &f->cfg.selection;
	char	   *err = NULL;
	Outcome		outcome = OUTCOME_OK;
	char		lsn[LSN_FORMAT_LEN];
	Wal2jsonOptions po;

	log_debug("table filters: %d included schema(s), %d excluded schema(s), %d included table(s), %d excluded table(s)",
			  sel->include_schema.count, sel->exclude_schema.count, sel->include_table.count,
			  sel->exclude_table.count);
	if ((f->conns.apply = applypool_open(&f->cfg.apply, opts->apply_jobs, &err, &outcome)) == NULL)
	{
		if (outcome == OUTCOME_CONNECTION)
			log_attempt_failed(f, err);
		else
			log_error("%s", err);
		free(err);
		return outcome;
	}
	{
		/* an online verification before a restart: keep recording its keys */
		VerificationRow tracked;

		if (!verification_read_tracked(f->conns.state, opts->slot, &tracked))
			return OUTCOME_SQL;
		if (tracked.id != 0)
			applypool_track_keys(f->conns.apply, tracked.id);
	}
	if ((f->conns.source = db_connect(opts->source, "source", CONN_NORMAL, &err)) == NULL)
	{
		log_attempt_failed(f, err);
		free(err);
		return OUTCOME_CONNECTION;
	}
	if (!follow_check_identities(f))
		return OUTCOME_DRIFT;
	if (!follow_ddl_prepare(f->stages.ddl, f->conns.source, f->conns.state))
		return OUTCOME_SQL;
	f->conns.heartbeats = opts->heartbeat_interval > 0;
	if (opts->metrics_listen && f->progress.metrics == NULL)
	{
		if (f->progress.board == NULL)
		{
			f->progress.board = metrics_board_create(1);
			f->progress.own_board = true;
			metrics_board_set_labels(f->progress.board, 0, opts->slot, PQdb(f->conns.source));
		}
		if ((f->progress.metrics = metrics_start(opts->metrics_listen, opts->metrics_allow_public,
												 f->progress.board, &err)) == NULL)
		{
			log_error("%s", err);
			free(err);
			return OUTCOME_USAGE;
		}
	}
	if (f->progress.metrics && !f->reconnect.streamed)
		log_info("serving metrics on http://%s/metrics", opts->metrics_listen);
	if (opts->until_caught_up && f->stop.caught_up_lsn == INVALID_LSN)
	{
		char	   *cur = db_scalar(f->conns.source, "SELECT pg_catalog.pg_current_wal_insert_lsn()::text");

		if (cur == NULL || !lsn_parse(cur, &f->stop.caught_up_lsn))
		{
			log_error("cannot read the source's current WAL position");
			free(cur);
			return OUTCOME_CONNECTION;
		}
		free(cur);
		log_info("following until caught up with source position %s", lsn_format(f->stop.caught_up_lsn, lsn));
	}
	wal2json_options_build(&po, &sel->include_schema, &sel->include_table,
						   &sel->exclude_schema, &sel->exclude_table);
	if (po.add_tables.len > 0 || po.filter_tables.len > 0)
		log_debug("wal2json add-tables '%s', filter-tables '%s'",
				  po.add_tables.len ? po.add_tables.data : "", po.filter_tables.len ? po.filter_tables.data : "");
	f->conns.stream = stream_start(opts->source, opts->slot, applypool_totals(f->conns.apply)->durable_lsn,
								   po.pairs, &err);
	wal2json_options_free(&po);
	if (f->conns.stream == NULL)
	{
		const char *e = err ? err : "";

		/* right after a restart the old walsender may still hold the slot */
		outcome = strstr(e, "cannot connect") || (f->reconnect.streamed && strstr(e, "in use"))
			? OUTCOME_CONNECTION : OUTCOME_STATE;
		f->stop.slot_gone = strstr(e, "does not exist") || strstr(e, "invalidated");
		log_error("%s", e);
		free(err);
		return outcome;
	}
	/* nothing is confirmed beyond what the target is known to have flushed */
	f->conns.confirmed = INVALID_LSN;
	if (!target_flush_read(f->conns.state, &f->conns.target_flush,
						   applypool_totals(f->conns.apply)->durable_lsn, &err))
	{
		log_attempt_failed(f, err);
		free(err);
		return OUTCOME_CONNECTION;
	}
	log_info("streaming slot %s from %s", opts->slot,
			 lsn_format(applypool_totals(f->conns.apply)->durable_lsn, lsn));
	return OUTCOME_OK;
}

/*
 * Frees the connections of the attempt.  Only from the top of the loop
 * (attempt_teardown_cb, attempt_reconnect_cb) or after it: never under a caller that may
 * still use them.
 */
void
attempt_release_connections(Follow *f)
{
	FollowConnections *c = &f->conns;

	stream_close(c->stream);
	applypool_close(c->apply);
	PQfinish(c->state);
	PQfinish(c->source);
	memset(c, 0, sizeof(*c));
}

/*
 * The attempt failed: its connections become unusable now (the watchers
 * that would read them stop) and are freed on the loop's next pass.
 */
void
attempt_mark_for_teardown(Follow *f)
{
	if (f->conns.doomed)
		return;
	f->conns.doomed = true;
	ev_io_stop(f->w.loop, &f->w.stream);
	ev_io_stop(f->w.loop, &f->w.notify);
	/* a snapshot at the verification's LSN can no longer be promised */
	barrier_abandon(f->stages.barrier, NULL, "the follower lost a connection");
	ev_timer_stop(f->w.loop, &f->w.idle);
	ev_prepare_start(f->w.loop, &f->w.teardown);
}

void
attempt_teardown_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	Follow	   *f = w->data;

	(void) revents;
	ev_prepare_stop(loop, w);
	if (f->conns.doomed)
		attempt_release_connections(f);
}

/* Gives up this attempt and tries again after the backoff (once per failure). */
void
attempt_schedule_reconnect(Follow *f)
{
	if (f->conns.doomed && ev_is_active(&f->w.reconnect))
		return;					/* this failure is being handled already */
	attempt_mark_for_teardown(f);
	f->progress.reconnects++;
	f->progress.snap.up = false;
	f->progress.snap.phase = METRICS_RECONNECTING;
	f->progress.snap.errors = f->progress.errors;
	f->progress.snap.reconnects = f->progress.reconnects;
	metrics_board_update(f->progress.board, f->progress.board_entry, &f->progress.snap);
	log_warn("reconnecting in %.0f s (nothing is lost: follow resumes from the last applied transaction)",
			 f->reconnect.backoff);
	ev_timer_set(&f->w.reconnect, f->reconnect.backoff, 0.0);
	ev_timer_start(f->w.loop, &f->w.reconnect);
	f->reconnect.backoff = f->reconnect.backoff * 2 > RECONNECT_MAX_SECONDS
		? RECONNECT_MAX_SECONDS : f->reconnect.backoff * 2;
}

void
attempt_reconnect_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	Follow	   *f = w->data;
	Outcome		outcome;

	(void) revents;
	ev_timer_stop(loop, w);
	if (f->conns.doomed)
		attempt_release_connections(f); /* the loop's top: nobody holds them */
	if ((outcome = attempt_prepare_state(f)) == OUTCOME_OK)
		outcome = attempt_start_streaming(f);
	if (outcome == OUTCOME_OK)
	{
		log_info("reconnected");
		f->reconnect.backoff = 1;
		ev_io_set(&f->w.stream, stream_socket(f->conns.stream), EV_READ);
		follow_read_stream(f);
		ev_io_set(&f->w.notify, PQsocket(f->conns.state), EV_READ);
		ev_io_start(loop, &f->w.notify);
	}
	else if (outcome == OUTCOME_CONNECTION ||
			 (outcome == OUTCOME_STATE && !f->stop.slot_gone && !f->stop.switched_over))
	{
		f->progress.errors++;
		attempt_schedule_reconnect(f);	/* servers coming back, locks and slots being freed */
	}
	else
	{
		attempt_mark_for_teardown(f);
		follow_finish(f, f->stop.switched_over ? OUTCOME_OK : outcome);
	}
}
