/*
 * follow.c
 *	  The follow engine: owns the libev loop and wires the stream, the
 *	  decoder and apply together.
 *
 *	    replication socket readable -> stream_read -> decoder -> apply;
 *	                                   drained and nothing more on the
 *	                                   socket: commit the open group now
 *	    idle timer (stream quiet)   -> commit the open group, feedback
 *	    feedback timer              -> the target's WAL flush position,
 *	                                   standby status update, progress log
 *	    heartbeat timer             -> a logical message on the source
 *	    interrupt pipe (signals.h)  -> stop after the current transaction
 *	    target notification         -> an online verification moved on
 *	                                   (verify_barrier.h: hold, export)
 *	    reconnect timer             -> a new attempt after a lost connection
 *	    teardown (ev_prepare)       -> frees a failed attempt's connections
 *
 *	  Apply commits with synchronous_commit = off (a commit does not wait
 *	  for the target's disk, so the next transaction starts at once), and
 *	  the applied position commits in the same target transaction as the
 *	  changes.  Feedback only ever confirms what the target has flushed
 *	  (TargetFlush below; native apply tracks its remote flush position the
 *	  same way), or, when everything applied is flushed and nothing is
 *	  pending, the server's position: no commit can precede it.  A target
 *	  crash can lose the last commits, but then the slot still holds them
 *	  and their applied position is lost with them: nothing twice, nothing
 *	  lost.
 *
 *	  The engine's state, Follow, is split by concern; who may touch what:
 *
 *	    cfg        derived from Options before the loop starts (the table
 *	               selection included: the copy's filters are loaded once);
 *	               read-only in every callback.
 *	    conns      the connections of one attempt.  Used by stream_cb,
 *	               idle_cb, feedback_cb, heartbeat_cb and signal_cb only
 *	               while attempt_live(); created by reconnect_cb; freed only
 *	               by teardown_cb (or after the loop), never under a caller:
 *	               a failure anywhere marks them (mark_for_teardown), which
 *	               stops the stream and idle watchers, and the next pass of
 *	               the loop frees them.  This is what keeps stream_read and
 *	               apply from running on freed memory when one of their
 *	               callbacks loses a connection.
 *	    stages     the decoder, the DDL policy and the online verification's
 *	               barrier: live across attempts; used from stream_cb
 *	               (on_data), and the barrier from notify_cb, feedback_cb,
 *	               idle_cb (barrier_step, barrier_act).
 *	    w          the watchers; started and stopped by run_loop,
 *	               mark_for_teardown, schedule_reconnect and reconnect_cb.
 *	    stop       stop conditions and the outcome: written by finish,
 *	               fail_follow and signal_cb; read everywhere.
 *	    progress   lag, rates, metrics, log pacing: written by on_data
 *	               (message count, heartbeats), feedback_cb (publish_state,
 *	               log_progress, identity checks).
 *	    reconnect  backoff: schedule_reconnect and reconnect_cb only.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <jansson.h>

#include "apply_pool.h"
#include "catalog.h"
#include "ddl.h"
#include "decoder.h"
#include "follow.h"
#include "follow_ddl.h"
#include "lagtrack.h"
#include "log.h"
#include "metrics.h"
#include "outcome.h"
#include "pgconn.h"
#include "pgversion.h"
#include "progress.h"
#include "service_notify.h"
#include "signals.h"
#include "state.h"
#include "stream.h"
#include "strbuf.h"
#include "verification.h"
#include "verify_barrier.h"
#include "wal2json_options.h"

#define IDLE_COMMIT_SECONDS 0.001	/* stream quiet this long: commit the group */
#define FEEDBACK_SECONDS 1.0
#define LOG_SECONDS 10.0
#define IDENTITY_CHECK_SECONDS 10.0	/* how often tables are checked for a lost key */
#define RECONNECT_MAX_SECONDS 30.0

/* Derived from Options before the loop; read-only afterwards. */
typedef struct FollowConfig
{
	const Options *opts;
	/*
	 * What is replicated: a copy of opts whose four table filters are the
	 * command line's and the copy's (read from the target once, at the
	 * start).  The catalog's filter functions take Options, hence the type.
	 */
	Options		selection;
	Lsn			endpos;			/* --endpos, or INVALID_LSN */
	ApplyConfig apply;
} FollowConfig;

/*
 * How far the target has flushed what apply committed (asynchronously).
 * Each feedback tick reads the target's WAL flush and insert positions:
 * every commit apply has completed ends before that insert position, so
 * once the flush position passes it, the applied position read with it is
 * durable.
 */
typedef struct TargetFlush
{
	Lsn			flushed;		/* applied source position known on disk */
	Lsn			mark_insert;	/* the target's insert position at a tick */
	Lsn			mark_applied;	/* ... and the applied position then */
} TargetFlush;

/* The connections of one attempt. */
typedef struct FollowConnections
{
	PGconn	   *state;			/* target: holds the follower lock */
	PGconn	   *source;			/* source: positions, identity checks, heartbeats */
	Stream	   *stream;
	ApplyPool  *apply;			/* --apply-jobs sessions on the target */
	bool		heartbeats;		/* emitting heartbeats on this source connection */
	Lsn			confirmed;		/* last position sent as feedback on stream */
	TargetFlush target_flush;
	bool		doomed;			/* marked for teardown: unusable, freed on the
								 * loop's next pass */
} FollowConnections;

/* What outlives attempts and turns the stream into applied changes. */
typedef struct FollowStages
{
	Decoder    *decoder;
	FollowDdl  *ddl;			/* captured DDL: apply, skip or stop */
	VerifyBarrier *barrier;		/* verify --online: hold and export */
} FollowStages;

typedef struct FollowWatchers
{
	struct ev_loop *loop;		/* NULL until run_loop */
	ev_io		stream;			/* the replication socket */
	ev_io		signal;			/* the interrupt pipe of signals.h */
	ev_io		notify;			/* the state connection: NOTIFY of verify --online */
	ev_timer	idle;
	ev_timer	feedback;
	ev_timer	heartbeat;
	ev_timer	reconnect;
	ev_timer	service;		/* systemd: status line and watchdog (service_notify.h) */
	ev_prepare	teardown;		/* frees doomed connections */
} FollowWatchers;

typedef struct FollowStop
{
	Lsn			caught_up_lsn;	/* --until-caught-up: source LSN at start */
	int			signals_seen;	/* interrupts counted so far */
	bool		stopping;		/* leave once no transaction is open */
	bool		slot_gone;		/* the slot was dropped or invalidated: no retry */
	bool		switched_over;	/* switched over while we reconnected */
	bool		nothing_to_do;	/* --endpos is applied already */
	Outcome		outcome;		/* the first failure, or OUTCOME_OK */
	char	   *first_error;	/* redacted, for the follower's row */
} FollowStop;

typedef struct FollowProgress
{
	LagTracker	lag;
	MetricsServer *metrics;		/* --metrics-listen: our own endpoint */
	MetricsBoard *board;		/* where the snapshot goes: ours, or migrate's */
	int			board_entry;
	bool		own_board;
	MetricsSnapshot snap;		/* the last one published */
	int64_t		errors;			/* failures, for the metrics */
	int64_t		reconnects;
	double		started;		/* monotonic seconds */
	double		started_epoch;
	double		behind_since;	/* epoch seconds since lag has been > 0, or 0 */
	double		txn_rate;		/* smoothed per second */
	double		row_rate;
	int64_t		rate_txns;
	int64_t		rate_rows;
	double		rate_at;
	int64_t		retained_bytes;
	char		wal_status[32];
	uint64_t	messages;
	Lsn			begun_lsn;		/* end LSN of the last transaction begun (verify --online) */
	double		last_log;
	int64_t		last_log_txns;
	int64_t		last_log_rows;
	double		last_identity_check;
} FollowProgress;

typedef struct FollowReconnect
{
	bool		streamed;		/* streaming started once: connection losses are retried */
	double		backoff;		/* seconds before the next attempt */
} FollowReconnect;

typedef struct Follow
{
	FollowConfig cfg;
	FollowConnections conns;
	FollowStages stages;
	FollowWatchers w;
	FollowStop	stop;
	FollowProgress progress;
	FollowReconnect reconnect;
} Follow;

static void schedule_reconnect(Follow *f);

/* Are this attempt's connections up and usable? */
static bool
attempt_live(const Follow *f)
{
	return !f->conns.doomed && f->conns.stream != NULL && f->conns.apply != NULL;
}

static void
finish(Follow *f, Outcome outcome)
{
	if (f->stop.outcome == OUTCOME_OK)
		f->stop.outcome = outcome;
	if (f->w.loop)
		ev_break(f->w.loop, EVBREAK_ALL);
}

/*
 * Logs an error, remembers the first one, and leaves the loop with outcome;
 * a lost connection after streaming has started is retried instead.
 */
static void
fail_follow(Follow *f, Outcome outcome, const char *fmt,...) __attribute__((format(printf, 3, 4)));

static void
fail_follow(Follow *f, Outcome outcome, const char *fmt,...)
{
	va_list		ap;
	char	   *msg;

	va_start(ap, fmt);
	msg = pvsprintf(fmt, ap);
	va_end(ap);
	f->progress.errors++;
	if (outcome == OUTCOME_CONNECTION && f->reconnect.streamed && f->w.loop && f->stop.signals_seen == 0)
	{
		log_warn("%s", msg);
		free(msg);
		schedule_reconnect(f);
		return;
	}
	log_error("%s", msg);
	if (f->stop.first_error == NULL)
		f->stop.first_error = log_redact(msg);
	free(msg);
	finish(f, outcome);
}

static bool
nothing_pending(const Follow *f)
{
	return !applypool_in_transaction(f->conns.apply) && !applypool_group_open(f->conns.apply);
}

/*
 * How far the source is applied: committed on the target, or the server's
 * position if nothing is open.  Status, lag and the stop conditions.
 */
static Lsn
applied_lsn(const Follow *f)
{
	Lsn			lsn = applypool_totals(f->conns.apply)->durable_lsn;
	Lsn			wal_end = stream_server_wal_end(f->conns.stream);

	if (nothing_pending(f) && wal_end > lsn)
		lsn = wal_end;
	return lsn;
}

/*
 * The position safe to confirm to the source: flushed on the target, or
 * the server's if everything applied is flushed and nothing is open.
 */
static Lsn
confirmable_lsn(const Follow *f)
{
	Lsn			lsn = f->conns.target_flush.flushed;
	Lsn			wal_end = stream_server_wal_end(f->conns.stream);

	if (lsn >= applypool_totals(f->conns.apply)->durable_lsn && nothing_pending(f) && wal_end > lsn)
		lsn = wal_end;
	return lsn;
}

/*
 * Reads the target's WAL flush and insert positions on conn (any session
 * of the target: they are the cluster's) and moves t on, given the applied
 * position of commits apply has completed.  false with *err set.
 */
static bool
read_target_flush(PGconn *conn, TargetFlush *t, Lsn applied, char **err)
{
	Lsn			flush = INVALID_LSN;
	Lsn			insert = INVALID_LSN;
	PGresult   *res;
	bool		ok;

	if (t->flushed >= applied)
		return true;
	res = PQexec(conn, "SELECT pg_catalog.pg_current_wal_flush_lsn()::text, "
				 "pg_catalog.pg_current_wal_insert_lsn()::text");
	ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		lsn_parse(PQgetvalue(res, 0, 0), &flush) && lsn_parse(PQgetvalue(res, 0, 1), &insert);
	PQclear(res);
	if (!ok)
	{
		char	   *e = db_error(conn);

		*err = psprintf("cannot read the target's WAL flush position: %s; fix: rerun follow, it resumes from the last applied transaction", e);
		free(e);
		return false;
	}
	if (flush >= insert)
		t->flushed = applied;	/* every commit so far is on disk */
	else if (t->mark_applied > t->flushed && flush >= t->mark_insert)
		t->flushed = t->mark_applied;
	t->mark_insert = insert;
	t->mark_applied = applied;
	return true;
}

/* read_target_flush while following; false if that failed the attempt. */
static bool
track_target_flush(Follow *f)
{
	char	   *err = NULL;

	if (read_target_flush(f->conns.state, &f->conns.target_flush,
						  applypool_totals(f->conns.apply)->durable_lsn, &err))
		return true;
	fail_follow(f, OUTCOME_CONNECTION, "%s", err);
	free(err);
	return false;
}

/*
 * Before a clean stop: flushes the target's WAL, so that the slot is
 * confirmed up to the last commit.  A transaction with an xid commits
 * synchronously, which flushes every record before its own: every commit
 * apply completed is then on disk.
 */
static void
flush_target(Follow *f)
{
	Lsn			applied = applypool_totals(f->conns.apply)->durable_lsn;

	if (f->conns.target_flush.flushed >= applied)
		return;
	if (!db_exec(f->conns.state, "BEGIN; SET LOCAL synchronous_commit = on; "
				 "SELECT pg_catalog.pg_current_xact_id(); COMMIT"))
	{
		char	   *e = db_error(f->conns.state);

		log_warn("cannot flush the target's WAL: %s; the slot is confirmed up to what was flushed, and a rerun skips what was applied", e);
		free(e);
		(void) db_exec(f->conns.state, "ROLLBACK");
		return;
	}
	f->conns.target_flush.flushed = applied;
}

/* Sends a standby status update; false if that failed the attempt. */
static bool
send_feedback(Follow *f, bool request_reply)
{
	Lsn			lsn = confirmable_lsn(f);

	if (lsn < f->conns.confirmed)
		lsn = f->conns.confirmed;
	if (!stream_send_feedback(f->conns.stream, lsn, request_reply))
	{
		char	   *e = stream_error(f->conns.stream);

		fail_follow(f, OUTCOME_CONNECTION, "%s; fix: rerun follow, it resumes from the last applied transaction", e);
		free(e);
		return false;
	}
	f->conns.confirmed = lsn;
	return true;
}

/* Stops when --until-caught-up / --endpos is reached and nothing is open. */
static void
check_stop(Follow *f)
{
	Lsn			pos;

	if (!attempt_live(f))
	{
		if (f->stop.stopping)
			finish(f, OUTCOME_OK);	/* stopped while reconnecting */
		return;
	}
	if (!nothing_pending(f))
		return;
	pos = applied_lsn(f);
	if (f->stop.stopping ||
		(f->stop.caught_up_lsn != INVALID_LSN && pos >= f->stop.caught_up_lsn) ||
		(f->cfg.endpos != INVALID_LSN && pos >= f->cfg.endpos))
		finish(f, OUTCOME_OK);
}

static void
log_progress(Follow *f, bool force)
{
	FollowProgress *p = &f->progress;
	const ApplyTotals *t;
	double		now = now_seconds();
	double		span = now - p->last_log;
	char		applied[LSN_FORMAT_LEN];
	Lsn			wal_end;

	if (!attempt_live(f) || (!force && span < LOG_SECONDS))
		return;
	t = applypool_totals(f->conns.apply);
	wal_end = stream_server_wal_end(f->conns.stream);
	log_info("applied %s, %lld txns (%.0f/s), %lld rows (%.0f/s), %lld bytes behind the server",
			 lsn_format(t->durable_lsn, applied), (long long) t->txns,
			 span > 0 ? (t->txns - p->last_log_txns) / span : 0.0, (long long) t->rows,
			 span > 0 ? (t->rows - p->last_log_rows) / span : 0.0,
			 (long long) (wal_end > t->durable_lsn ? wal_end - t->durable_lsn : 0));
	p->last_log = now;
	p->last_log_txns = t->txns;
	p->last_log_rows = t->rows;
}

/* Handles one logical message (heartbeats, switchover markers). */
static void
on_logical_message(Follow *f, const Change *c)
{
	log_debug("logical message %s (%s): %.*s", c->prefix ? c->prefix : "",
			  c->transactional ? "transactional" : "immediate", (int) c->content_len,
			  c->content ? c->content : "");
	if (c->prefix && strcmp(c->prefix, "pgcutover") == 0 && c->content)
	{
		json_t	   *doc = json_loadb(c->content, c->content_len, 0, NULL);
		json_t	   *hb = doc ? json_object_get(doc, "heartbeat") : NULL;

		if (json_is_number(hb))
			lag_heartbeat(&f->progress.lag, c->lsn, json_number_value(hb), epoch_seconds());
		json_decref(doc);
	}
}

/* A DDL command captured on the source, at its place in a transaction. */
static bool
on_ddl_message(Follow *f, const Change *c)
{
	char	   *err = NULL;
	Outcome		outcome = follow_ddl_handle(f->stages.ddl, f->conns.apply, f->conns.state, c->lsn,
											c->content, c->content_len, &err);

	if (outcome != OUTCOME_OK)
	{
		fail_follow(f, outcome, "%s", err);
		free(err);
		return false;
	}
	return true;
}

/* Emits a heartbeat on the source; on a privilege error says what to GRANT. */
static void
heartbeat_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	Follow	   *f = w->data;
	const char *params[1] = {f->cfg.opts->slot};
	PGresult   *res;

	(void) revents;
	if (!f->conns.heartbeats || !attempt_live(f))
		return;
	res = PQexecParams(f->conns.source,
					   "SELECT pg_catalog.pg_logical_emit_message(false, 'pgcutover', "
					   "pg_catalog.json_build_object('heartbeat', extract(epoch FROM pg_catalog.clock_timestamp()), "
					   "'slot', $1::text)::text)", 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		char	   *e = db_error(f->conns.source);

		/* the signature the GRANT names changed in PostgreSQL 17 */
		log_warn("heartbeats are off, lag in seconds is less precise on an idle source: %s; fix: GRANT EXECUTE ON FUNCTION %s TO %s on the source",
				 e, emit_message_signature(db_major_version(f->conns.source)), PQuser(f->conns.source));
		free(e);
		f->conns.heartbeats = false;
		ev_timer_stop(loop, w);
		if (PQstatus(f->conns.source) != CONNECTION_OK)
			PQreset(f->conns.source);
	}
	PQclear(res);
}

/*
 * verify --online (verify_barrier.h): everything up to the verification's
 * LSN is committed, nothing after: export the target's snapshot there, and
 * from now on record the keys of what is applied.  false if that failed
 * the attempt.
 */
static bool
export_at_barrier(Follow *f)
{
	int64_t		id;

	if (!applypool_flush(f->conns.apply))
	{
		fail_follow(f, applypool_outcome(f->conns.apply), "%s", applypool_error(f->conns.apply));
		return false;
	}
	if ((id = barrier_export(f->stages.barrier, f->conns.state)) != 0)
		applypool_track_keys(f->conns.apply, id);
	return true;
}

/*
 * Reads the stream (again): libpq may hold messages already, which would
 * make no socket readable, so the watcher is fed once.
 */
static void
read_stream(Follow *f)
{
	if (ev_is_active(&f->w.stream))
		return;
	ev_io_start(f->w.loop, &f->w.stream);
	ev_feed_event(f->w.loop, &f->w.stream, EV_READ);
}

/*
 * Does what the online verification's barrier asks at this point, between
 * two messages of the stream.  Returns false when the stream must not be
 * read on now (standing still, or the attempt failed).
 */
static bool
barrier_act(Follow *f)
{
	VerifyBarrier *b = f->stages.barrier;
	ApplyPool  *apply = f->conns.apply;

	if (!attempt_live(f))
		return false;
	switch (barrier_phase(b))
	{
		case BARRIER_HOLD_WANTED:
			if (applypool_in_transaction(apply))
				return true;	/* at its commit */
			if (!applypool_flush(apply))
			{
				fail_follow(f, applypool_outcome(apply), "%s", applypool_error(apply));
				return false;
			}
			if (!barrier_hold(b, f->conns.state))
				return true;
			ev_io_stop(f->w.loop, &f->w.stream);
			ev_timer_stop(f->w.loop, &f->w.idle);
			return false;
		case BARRIER_HOLDING:
			return false;
		case BARRIER_RELEASED:
			read_stream(f);
			/* the server sent everything up to the LSN, and it is applied */
			if (!applypool_in_transaction(apply) &&
				stream_server_wal_end(f->conns.stream) >= barrier_lsn(b))
				return export_at_barrier(f);
			/* an idle source sends nothing more: ask it where it is */
			return send_feedback(f, true);
		case BARRIER_IDLE:
		case BARRIER_EXPORTED:
			read_stream(f);		/* given up while standing still */
			return true;
	}
	return true;
}

/* Reads the verification's row and acts on it (NOTIFY, each second). */
static void
barrier_step(Follow *f)
{
	Lsn			begun;

	if (!attempt_live(f))
		return;
	begun = applypool_totals(f->conns.apply)->durable_lsn;
	if (f->progress.begun_lsn > begun)
		begun = f->progress.begun_lsn;
	if (!barrier_poll(f->stages.barrier, f->conns.state, begun))
	{
		if (PQstatus(f->conns.state) != CONNECTION_OK)
		{
			char	   *e = db_error(f->conns.state);

			fail_follow(f, OUTCOME_CONNECTION, "target connection lost: %s", e);
			free(e);
		}
		return;
	}
	(void) barrier_act(f);
}

/* A notification on the state connection (verify --online moved on). */
static void
notify_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	Follow	   *f = w->data;
	PGnotify   *n;
	bool		any = false;

	(void) loop;
	(void) revents;
	if (!attempt_live(f))
		return;
	if (PQconsumeInput(f->conns.state) != 1)
	{
		char	   *e = db_error(f->conns.state);

		fail_follow(f, OUTCOME_CONNECTION, "target connection lost: %s", e);
		free(e);
		return;
	}
	while ((n = PQnotifies(f->conns.state)) != NULL)
	{
		any = true;
		PQfreemem(n);
	}
	if (any)
		barrier_step(f);
}

/* Is this row change one follow leaves out? */
static bool
change_filtered_out(const Follow *f, const Change *c)
{
	if (c->action != CHANGE_INSERT && c->action != CHANGE_UPDATE && c->action != CHANGE_DELETE &&
		c->action != CHANGE_TRUNCATE)
		return false;
	/* our own state (reverse direction), or excluded by the copy's filters */
	return strcmp(c->schema, "pgcutover") == 0 ||
		!catalog_table_selected(&f->cfg.selection, c->schema, c->table);
}

/*
 * One XLogData message.  Returns false to stop reading: the attempt failed
 * (fail_follow said so) or follow is done (finish).
 */
static bool
on_data(void *arg, Lsn wal_start, const char *data, size_t len)
{
	Follow	   *f = arg;
	ApplyPool  *apply = f->conns.apply;
	Change		c;
	const char *err;

	if (!decoder_decode(f->stages.decoder, data, len, &c, &err))
	{
		fail_follow(f, OUTCOME_BUG, "cannot decode a wal2json message at %X/%X: %s; fix: report this as a bug with the message",
					(unsigned) (wal_start >> 32), (unsigned) wal_start, err);
		return false;
	}
	if (c.action == CHANGE_MESSAGE)
	{
		if (c.transactional && c.prefix && strcmp(c.prefix, DDL_MESSAGE_PREFIX) == 0)
			return on_ddl_message(f, &c);
		on_logical_message(f, &c);
		/*
		 * A message outside a transaction (a heartbeat) is sent when decoded:
		 * every commit before it has been sent, so none before the online
		 * verification's LSN is still to come.
		 */
		if (!c.transactional && barrier_phase(f->stages.barrier) == BARRIER_RELEASED &&
			c.lsn > barrier_lsn(f->stages.barrier) && !applypool_in_transaction(apply))
			return export_at_barrier(f);
		return true;
	}
	if (c.action == CHANGE_BEGIN && f->cfg.endpos != INVALID_LSN && c.nextlsn > f->cfg.endpos &&
		!applypool_group_open(apply))
	{
		finish(f, OUTCOME_OK);	/* this transaction ends beyond --endpos */
		return false;
	}
	if (c.action == CHANGE_BEGIN)
		f->progress.begun_lsn = c.nextlsn;
	/* the first transaction after an online verification's LSN */
	if (c.action == CHANGE_BEGIN && barrier_phase(f->stages.barrier) == BARRIER_RELEASED &&
		c.nextlsn > barrier_lsn(f->stages.barrier) && !export_at_barrier(f))
		return false;
	if (change_filtered_out(f, &c))
		return true;
	if (!applypool_change(apply, &c))
	{
		fail_follow(f, applypool_outcome(apply), "%s", applypool_error(apply));
		return false;
	}
	/* an online verification waits for this transaction boundary */
	if (c.action == CHANGE_COMMIT && barrier_phase(f->stages.barrier) == BARRIER_HOLD_WANTED)
		return barrier_act(f);
	/* a long transaction must not starve the walsender of status updates */
	if (++f->progress.messages % 4096 == 0 && stream_reply_requested(f->conns.stream) &&
		!send_feedback(f, false))
		return false;
	if (c.action == CHANGE_COMMIT && f->cfg.endpos != INVALID_LSN && c.nextlsn >= f->cfg.endpos)
	{
		if (!applypool_flush(apply))
		{
			fail_follow(f, applypool_outcome(apply), "%s", applypool_error(apply));
			return false;
		}
		check_stop(f);
	}
	return true;
}

/* Commits the open group of a quiet stream, then feedback. */
static void
commit_quiet_group(Follow *f)
{
	ev_timer_stop(f->w.loop, &f->w.idle);
	if (!applypool_flush(f->conns.apply))
	{
		fail_follow(f, applypool_outcome(f->conns.apply), "%s", applypool_error(f->conns.apply));
		return;
	}
	if (barrier_phase(f->stages.barrier) != BARRIER_IDLE)
		(void) barrier_act(f);
	if (attempt_live(f) && send_feedback(f, false))
		check_stop(f);
}

static void
stream_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	Follow	   *f = w->data;
	StreamStatus st;

	(void) loop;
	(void) revents;
	st = stream_read(f->conns.stream, on_data, f);
	if (st == STREAM_STOPPED)
		return;					/* on_data failed the attempt, finished, or
								 * stands still for an online verification */
	if (st == STREAM_ERROR || st == STREAM_END)
	{
		char	   *e = stream_error(f->conns.stream);

		fail_follow(f, OUTCOME_CONNECTION, "%s; fix: rerun follow, it resumes from the last applied transaction", e);
		free(e);
		return;
	}
	if (stream_reply_requested(f->conns.stream) && !send_feedback(f, false))
		return;
	if (barrier_phase(f->stages.barrier) != BARRIER_IDLE && !barrier_act(f))
		return;
	/*
	 * Every complete message is applied.  With more on the socket (a
	 * backlog) the group grows on, for throughput, until it is due or the
	 * stream goes quiet; with nothing more the server has sent all it has
	 * decoded, and waiting would only add lag: commit now.
	 */
	if (applypool_group_open(f->conns.apply) && !applypool_in_transaction(f->conns.apply))
	{
		if (stream_input_pending(f->conns.stream))
			ev_timer_again(loop, &f->w.idle);
		else
		{
			commit_quiet_group(f);
			return;
		}
	}
	check_stop(f);
}

/* The stream has been quiet: commit the open group. Stopped with the stream watcher. */
static void
idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void) revents;
	(void) loop;
	commit_quiet_group(w->data);
}

/*
 * wal2json drops the UPDATEs and DELETEs of a table without a primary key or
 * replica identity, with only a WARNING in the source's log.  copy refuses
 * such tables; this notices one that lost its key later (or a new one).
 */
static bool
check_identities(Follow *f)
{
	TableList	tables;
	int			bad = -1;

	f->progress.last_identity_check = now_seconds();
	if (!catalog_list_tables(f->conns.source, &f->cfg.selection, &tables))
		return true;			/* a transient source error: the stream will say more */
	for (int i = 0; i < tables.count && bad < 0; i++)
		if (catalog_table_lacks_identity(&tables.tables[i]))
			bad = i;
	if (bad >= 0)
		fail_follow(f, OUTCOME_DRIFT, "table %s has no primary key and no replica identity on the source (any more): its UPDATEs and DELETEs are not decoded; fix: ALTER TABLE %s REPLICA IDENTITY FULL (or add the key back) on the source, then re-copy the table (its changes since the key was lost are missing)",
					tables.tables[bad].qualname, tables.tables[bad].qualname);
	catalog_free_tables(&tables);
	return bad < 0;
}

/* Reads the source's WAL position and what the slot retains. */
static void
refresh_source_position(Follow *f)
{
	FollowProgress *p = &f->progress;
	const char *params[1] = {f->cfg.opts->slot};
	PGresult   *res = PQexecParams(f->conns.source,
								   "SELECT pg_catalog.pg_current_wal_lsn()::text, "
								   "  (SELECT pg_catalog.pg_current_wal_lsn() - restart_lsn FROM pg_catalog.pg_replication_slots WHERE slot_name = $1), "
								   "  (SELECT wal_status FROM pg_catalog.pg_replication_slots WHERE slot_name = $1)",
								   1, NULL, params, NULL, NULL, 0);
	Lsn			cur;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && lsn_parse(PQgetvalue(res, 0, 0), &cur))
	{
		lag_source_position(&p->lag, cur);
		p->retained_bytes = PQgetisnull(res, 0, 1) ? 0 : strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		if (strcmp(p->wal_status, PQgetvalue(res, 0, 2)) != 0 && !PQgetisnull(res, 0, 2) &&
			strcmp(PQgetvalue(res, 0, 2), "reserved") != 0)
			log_warn("slot %s wal_status is now %s: the source may remove WAL it still needs (%lld MB retained); fix: keep follow caught up, raise max_slot_wal_keep_size",
					 f->cfg.opts->slot, PQgetvalue(res, 0, 2), (long long) (p->retained_bytes >> 20));
		snprintf(p->wal_status, sizeof(p->wal_status), "%s", PQgetvalue(res, 0, 2));
	}
	else if (PQstatus(f->conns.source) != CONNECTION_OK)
		PQreset(f->conns.source);
	PQclear(res);
}

static LagSample
current_lag(Follow *f)
{
	const ApplyTotals *t = applypool_totals(f->conns.apply);
	Lsn			pos = applied_lsn(f);
	bool		pending = !nothing_pending(f);

	lag_applied(&f->progress.lag, pos, lag_parse_timestamp(t->last_commit_time));
	return lag_compute(&f->progress.lag, pos, pending, epoch_seconds());
}

/*
 * Rewrites the follower's row on the target and the metrics snapshot (once
 * a second); false if the target connection was lost while following (the
 * attempt failed).
 */
static bool
publish_state(Follow *f, const char *phase, const char *error)
{
	FollowProgress *p = &f->progress;
	const ApplyTotals *t = applypool_totals(f->conns.apply);
	LagSample	lag = current_lag(f);
	double		now = now_seconds();
	FollowerRow row;
	MetricsSnapshot snap;
	char		source_pids[40];

	if (now > p->rate_at && p->rate_at > 0)
	{
		double		span = now - p->rate_at;

		p->txn_rate = 0.5 * p->txn_rate + 0.5 * (t->txns - p->rate_txns) / span;
		p->row_rate = 0.5 * p->row_rate + 0.5 * (t->rows - p->rate_rows) / span;
	}
	p->rate_at = now;
	p->rate_txns = t->txns;
	p->rate_rows = t->rows;
	if (lag.caught_up)
		p->behind_since = 0;
	else if (p->behind_since == 0)
		p->behind_since = epoch_seconds();

	memset(&row, 0, sizeof(row));
	row.slot = f->cfg.opts->slot;
	row.pid = (int) getpid();
	row.started_epoch = p->started_epoch;
	row.phase = phase;
	row.applied_lsn = applied_lsn(f);
	row.source_lsn = p->lag.source_lsn;
	row.lag_bytes = lag.bytes;
	row.lag_seconds = lag.seconds;
	row.txns = t->txns;
	row.rows = t->rows;
	row.txn_per_sec = p->txn_rate;
	row.rows_per_sec = p->row_rate;
	row.slot_retained_wal_bytes = p->retained_bytes;
	row.wal_status = p->wal_status[0] ? p->wal_status : NULL;
	row.heartbeat = f->conns.heartbeats;
	row.behind_since_epoch = p->behind_since;
	row.last_error = error;
	/* the fence spares these two: the stream's walsender it finds by the slot */
	snprintf(source_pids, sizeof(source_pids), "{%d,%d}",
			 f->conns.source && PQstatus(f->conns.source) == CONNECTION_OK ? PQbackendPID(f->conns.source) : 0,
			 applypool_source_pid(f->conns.apply));
	row.source_pids = source_pids;
	if (!progress_publish_follower(f->conns.state, &row))
	{
		char	   *e = db_error(f->conns.state);
		bool		lost = PQstatus(f->conns.state) != CONNECTION_OK && strcmp(phase, "following") == 0;

		if (lost)
			fail_follow(f, OUTCOME_CONNECTION, "target connection lost: %s", e);
		else
		{
			p->errors++;
			log_warn("cannot record the follower's state on the target: %s", e);
		}
		free(e);
		if (lost)
			return false;
	}

	memset(&snap, 0, sizeof(snap));
	snap.up = strcmp(phase, "following") == 0;
	snap.phase = !snap.up ? METRICS_STOPPED : f->stop.stopping ? METRICS_STOPPING : METRICS_FOLLOWING;
	snap.lag_bytes = lag.bytes;
	snap.lag_seconds = lag.seconds;
	snap.transactions = t->txns;
	snap.rows = t->rows;
	snap.groups = t->groups;
	snap.applied_lsn = row.applied_lsn;
	snap.source_lsn = p->lag.source_lsn;
	snap.slot_retained_wal_bytes = p->retained_bytes;
	snap.start_time = p->started_epoch;
	snap.last_commit_time = lag_parse_timestamp(t->last_commit_time);
	snap.errors = p->errors;
	snap.reconnects = p->reconnects;
	p->snap = snap;
	metrics_board_update(p->board, p->board_entry, &snap);
	return true;
}

static void
feedback_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	Follow	   *f = w->data;

	(void) loop;
	(void) revents;
	if (!attempt_live(f))
		return;					/* reconnecting */
	/* ask for a keepalive so an idle server tells us its position */
	if (!track_target_flush(f) ||
		!send_feedback(f, f->stop.caught_up_lsn != INVALID_LSN || f->cfg.endpos != INVALID_LSN))
		return;
	refresh_source_position(f);
	if (!publish_state(f, "following", NULL))
		return;
	log_progress(f, false);
	barrier_step(f);
	if (!attempt_live(f))
		return;
	if (now_seconds() - f->progress.last_identity_check >= IDENTITY_CHECK_SECONDS && !check_identities(f))
		return;
	if (progress_switched_over(f->conns.state, f->cfg.opts->slot))
	{
		log_info("the migration of slot %s was switched over: the follower stops", f->cfg.opts->slot);
		f->stop.stopping = true;
	}
	check_stop(f);
}

static void
signal_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	Follow	   *f = w->data;

	(void) loop;
	(void) revents;
	signals_drain();
	if (signals_interrupts() == f->stop.signals_seen)
		return;
	f->stop.signals_seen = signals_interrupts();
	if (f->stop.signals_seen > 1)
	{
		log_warn("second signal: stopping now, the open transaction is rolled back and will be applied again");
		finish(f, OUTCOME_INTERRUPTED);
		return;
	}
	log_info("signal received: stopping after the current transaction");
	service_notify_stopping("stopping after the current transaction (signal received)");
	f->stop.stopping = true;
	if (!attempt_live(f) ||
		(!applypool_in_transaction(f->conns.apply) && applypool_flush(f->conns.apply)))
		check_stop(f);
}

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
static Outcome
prepare_state(Follow *f)
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
static Outcome
load_selection(Follow *f)
{
	return state_selection(f->conns.state, f->cfg.opts, &f->cfg.selection) ? OUTCOME_OK : OUTCOME_SQL;
}

/* Connects apply and the stream, and reads the --until-caught-up target. */
static Outcome
start_streaming(Follow *f)
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
	if (!check_identities(f))
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
	if (!read_target_flush(f->conns.state, &f->conns.target_flush,
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
 * (teardown_cb, reconnect_cb) or after it: never under a caller that may
 * still use them.
 */
static void
release_connections(Follow *f)
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
static void
mark_for_teardown(Follow *f)
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

static void
teardown_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	Follow	   *f = w->data;

	(void) revents;
	ev_prepare_stop(loop, w);
	if (f->conns.doomed)
		release_connections(f);
}

/* Gives up this attempt and tries again after the backoff (once per failure). */
static void
schedule_reconnect(Follow *f)
{
	if (f->conns.doomed && ev_is_active(&f->w.reconnect))
		return;					/* this failure is being handled already */
	mark_for_teardown(f);
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

static void
reconnect_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	Follow	   *f = w->data;
	Outcome		outcome;

	(void) revents;
	ev_timer_stop(loop, w);
	if (f->conns.doomed)
		release_connections(f); /* the loop's top: nobody holds them */
	if ((outcome = prepare_state(f)) == OUTCOME_OK)
		outcome = start_streaming(f);
	if (outcome == OUTCOME_OK)
	{
		log_info("reconnected");
		f->reconnect.backoff = 1;
		ev_io_set(&f->w.stream, stream_socket(f->conns.stream), EV_READ);
		read_stream(f);
		ev_io_set(&f->w.notify, PQsocket(f->conns.state), EV_READ);
		ev_io_start(loop, &f->w.notify);
	}
	else if (outcome == OUTCOME_CONNECTION ||
			 (outcome == OUTCOME_STATE && !f->stop.slot_gone && !f->stop.switched_over))
	{
		f->progress.errors++;
		schedule_reconnect(f);	/* servers coming back, locks and slots being freed */
	}
	else
	{
		mark_for_teardown(f);
		finish(f, f->stop.switched_over ? OUTCOME_OK : outcome);
	}
}

/*
 * systemd's view of the follower, when it runs as a Type=notify service:
 * a status line for `systemctl status` and, since the loop turns, the
 * watchdog's keepalive (a loop stuck for WatchdogSec gets the unit killed).
 */
static void
service_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	Follow	   *f = w->data;
	char		status[256];

	(void) loop;
	(void) revents;
	if (f->stop.stopping)
		snprintf(status, sizeof(status), "stopping after the current transaction (slot %s)",
				 f->cfg.opts->slot);
	else if (attempt_live(f))
	{
		LagSample	lag = current_lag(f);
		ServiceProgress p = {
			.lag_bytes = lag.bytes,
			.lag_seconds = lag.seconds,
			.caught_up = lag.caught_up,
			.txn_per_sec = f->progress.txn_rate,
			.applied_lsn = applypool_totals(f->conns.apply)->durable_lsn,
		};

		service_status_line(f->cfg.opts->slot, &p, status, sizeof(status));
	}
	else
		snprintf(status, sizeof(status), "reconnecting (slot %s): follow resumes from the last applied transaction",
				 f->cfg.opts->slot);
	service_notify_tick(status);
}

static void
run_loop(Follow *f)
{
	FollowWatchers *w = &f->w;

	w->loop = ev_default_loop(EVFLAG_AUTO);
	ev_io_init(&w->stream, stream_cb, stream_socket(f->conns.stream), EV_READ);
	ev_init(&w->idle, idle_cb);
	w->idle.repeat = IDLE_COMMIT_SECONDS;
	ev_timer_init(&w->feedback, feedback_cb, FEEDBACK_SECONDS, FEEDBACK_SECONDS);
	ev_timer_init(&w->heartbeat, heartbeat_cb, 0.0, f->cfg.opts->heartbeat_interval);
	ev_init(&w->reconnect, reconnect_cb);
	ev_prepare_init(&w->teardown, teardown_cb);
	f->reconnect.backoff = 1;
	f->reconnect.streamed = true;
	signals_install();
	ev_io_init(&w->signal, signal_cb, signals_fd(), EV_READ);
	ev_io_init(&w->notify, notify_cb, PQsocket(f->conns.state), EV_READ);
	w->stream.data = w->idle.data = w->feedback.data = w->heartbeat.data = f;
	w->reconnect.data = w->teardown.data = w->signal.data = w->notify.data = f;
	ev_io_start(w->loop, &w->stream);
	ev_timer_start(w->loop, &w->feedback);
	if (f->conns.heartbeats)
		ev_timer_start(w->loop, &w->heartbeat);
	ev_io_start(w->loop, &w->signal);
	ev_io_start(w->loop, &w->notify);
	/* data may already be buffered by libpq; a signal may have come first */
	ev_feed_event(w->loop, &w->stream, EV_READ);
	if (signals_interrupts() > 0)
		ev_feed_event(w->loop, &w->signal, EV_READ);
	if (service_notify_wanted())
	{
		ev_timer_init(&w->service, service_cb, 0.0, service_notify_period());
		w->service.data = f;
		ev_timer_start(w->loop, &w->service);
		service_notify_ready("streaming");
	}
	ev_run(w->loop, 0);
}

/* What the run leaves for the caller to print. */
static void
fill_result(Follow *f, Outcome outcome, FollowResult *result)
{
	const ApplyTotals *t;

	if (f->conns.apply == NULL)
		return;
	t = applypool_totals(f->conns.apply);
	result->applied_known = true;
	result->applied_lsn = t->durable_lsn;
	result->transactions = t->txns;
	result->rows = t->rows;
	result->groups = t->groups;
	result->ddl_replayed = t->ddl;
	result->apply_jobs = applypool_sessions_opened(f->conns.apply);
	result->apply_conflicts = applypool_conflicts(f->conns.apply);
	result->seconds = now_seconds() - f->progress.started;
	if (outcome != OUTCOME_OK)
		result->error = pg_strdup(applypool_error(f->conns.apply));
}

/* Checks what the options ask for; OUTCOME_OK or OUTCOME_USAGE (logged). */
static Outcome
configure(Follow *f, const Options *opts)
{
	char	   *err = NULL;

	f->cfg.opts = opts;
	/* only the four filter lists are follow's own (load_selection) */
	f->cfg.selection = *opts;
	memset(&f->cfg.selection.include_schema, 0, sizeof(StrList));
	memset(&f->cfg.selection.exclude_schema, 0, sizeof(StrList));
	memset(&f->cfg.selection.include_table, 0, sizeof(StrList));
	memset(&f->cfg.selection.exclude_table, 0, sizeof(StrList));
	/* a group commits after 10k rows or 10 ms: big enough to catch up fast,
	 * short enough to keep live lag in milliseconds */
	f->cfg.apply = (ApplyConfig) {opts->target, opts->source, opts->slot, 10000, 0.010};
	if (opts->source == NULL || opts->target == NULL)
	{
		log_error("follow needs both databases; fix: pass --source and --target (or set PGCUTOVER_SOURCE/PGCUTOVER_TARGET)");
		return OUTCOME_USAGE;
	}
	if (opts->endpos && !lsn_parse(opts->endpos, &f->cfg.endpos))
	{
		log_error("invalid --endpos \"%s\"; fix: give a WAL position like 0/16B3748", opts->endpos);
		return OUTCOME_USAGE;
	}
	if (opts->metrics_listen && !metrics_check_listen(opts->metrics_listen, opts->metrics_allow_public, &err))
	{
		log_error("%s", err);
		free(err);
		return OUTCOME_USAGE;
	}
	if ((f->stages.ddl = follow_ddl_create(opts, &f->cfg.selection, &err)) == NULL)
	{
		log_error("%s", err);
		free(err);
		return OUTCOME_USAGE;
	}
	return OUTCOME_OK;
}

Outcome
follow_run(const Options *opts, FollowResult *result)
{
	return follow_run_into(opts, NULL, 0, result);
}

Outcome
follow_run_into(const Options *opts, MetricsBoard *board, int entry, FollowResult *result)
{
	Follow		f;
	Outcome		outcome;

	memset(&f, 0, sizeof(f));
	memset(result, 0, sizeof(*result));
	f.progress.board = board;
	f.progress.board_entry = entry;
	if ((outcome = configure(&f, opts)) != OUTCOME_OK)
		goto done;
	signal(SIGPIPE, SIG_IGN);
	f.progress.started = f.progress.last_log = now_seconds();
	f.progress.started_epoch = epoch_seconds();
	f.stages.decoder = decoder_create();
	f.stages.barrier = barrier_create(opts->target, opts->slot);
	outcome = prepare_state(&f);
	if (outcome != OUTCOME_OK || f.stop.nothing_to_do)
		goto done;
	if ((outcome = load_selection(&f)) != OUTCOME_OK ||
		(outcome = start_streaming(&f)) != OUTCOME_OK)
		goto done;

	run_loop(&f);
	outcome = f.stop.outcome;
	if (f.conns.doomed)
		release_connections(&f);	/* the loop ended while reconnecting */
	if (attempt_live(&f))
	{
		if (outcome == OUTCOME_OK && !applypool_in_transaction(f.conns.apply) && !applypool_flush(f.conns.apply))
		{
			log_error("%s", applypool_error(f.conns.apply));
			outcome = applypool_outcome(f.conns.apply);
		}
		if (PQstatus(f.conns.state) == CONNECTION_OK)
		{
			flush_target(&f);
			send_feedback(&f, false);
		}
		log_progress(&f, true);
	}

done:
	service_notify_leaving(f.stop.first_error ? f.stop.first_error
						   : outcome == OUTCOME_OK ? "stopped" : "failed: the journal has the error");
	if (attempt_live(&f) && f.conns.state && PQstatus(f.conns.state) == CONNECTION_OK)
	{
		bool		clean = outcome == OUTCOME_OK || outcome == OUTCOME_INTERRUPTED;

		barrier_abandon(f.stages.barrier, f.conns.state, "the follower stopped");
		publish_state(&f, clean ? "stopped" : "failed", clean ? NULL : f.stop.first_error);
	}
	fill_result(&f, outcome, result);
	release_connections(&f);
	decoder_destroy(f.stages.decoder);
	barrier_destroy(f.stages.barrier);
	follow_ddl_destroy(f.stages.ddl);
	metrics_stop(f.progress.metrics);
	if (f.progress.own_board)
		metrics_board_destroy(f.progress.board);
	else
		metrics_board_set_phase(f.progress.board, f.progress.board_entry, METRICS_STOPPED);
	state_free_selection(&f.cfg.selection);
	free(f.stop.first_error);
	if (f.w.loop)
		ev_loop_destroy(f.w.loop);
	return outcome;
}

void
follow_result_free(FollowResult *result)
{
	free(result->error);
	result->error = NULL;
}
