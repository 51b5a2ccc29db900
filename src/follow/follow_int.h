/*
 * follow_int.h
 *	  The follow engine's state, shared by follow.c (the loop and its
 *	  callbacks) and follow_attempt.c (one attempt: connecting, the state,
 *	  the stream; teardown and reconnect).  Not for other modules.
 *
 *	  The engine's state, Follow, is split by concern; who may touch what:
 *
 *	    cfg        derived from Options before the loop starts (the table
 *	               selection included: the copy's filters are loaded once);
 *	               read-only in every callback.
 *	    conns      the connections of one attempt.  Used by stream_cb,
 *	               idle_cb, feedback_cb, heartbeat_cb and signal_cb only
 *	               while attempt_live(); created by attempt_reconnect_cb;
 *	               freed only by attempt_teardown_cb (or after the loop),
 *	               never under a caller: a failure anywhere marks them
 *	               (attempt_mark_for_teardown), which stops the stream and
 *	               idle watchers, and the next pass of the loop frees them.
 *	               This is what keeps stream_read and apply from running on
 *	               freed memory when one of their callbacks loses a
 *	               connection.
 *	    stages     the decoder, the DDL policy and the online verification's
 *	               barrier: live across attempts; used from stream_cb
 *	               (on_data), and the barrier from notify_cb, feedback_cb,
 *	               idle_cb (barrier_step, barrier_act).
 *	    w          the watchers; started and stopped by run_loop,
 *	               attempt_mark_for_teardown, attempt_schedule_reconnect and
 *	               attempt_reconnect_cb.
 *	    stop       stop conditions and the outcome: written by
 *	               follow_finish, fail_follow and signal_cb; read everywhere.
 *	    progress   lag, rates, metrics, log pacing: written by on_data
 *	               (message count, heartbeats), feedback_cb (publish_state,
 *	               log_progress, identity checks).
 *	    reconnect  backoff: attempt_schedule_reconnect and
 *	               attempt_reconnect_cb only.
 */
#ifndef PGCUTOVER_FOLLOW_INT_H
#define PGCUTOVER_FOLLOW_INT_H

#include <ev.h>
#include <libpq-fe.h>

#include "apply_pool.h"
#include "decoder.h"
#include "follow.h"
#include "follow_ddl.h"
#include "lagtrack.h"
#include "metrics.h"
#include "options.h"
#include "outcome.h"
#include "stream.h"
#include "verify_barrier.h"

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

/* follow.c */
bool		attempt_live(const Follow *f);
void		follow_finish(Follow *f, Outcome outcome);
void		fail_follow(Follow *f, Outcome outcome, const char *fmt,...) __attribute__((format(printf, 3, 4)));
void		follow_read_stream(Follow *f);
bool		follow_check_identities(Follow *f);
bool		target_flush_read(PGconn *conn, TargetFlush *t, Lsn applied, char **err);
void		follow_flush_target(Follow *f);

/* follow_attempt.c */
Outcome		follow_load_selection(Follow *f);
Outcome		attempt_prepare_state(Follow *f);
Outcome		attempt_start_streaming(Follow *f);
void		attempt_release_connections(Follow *f);
void		attempt_mark_for_teardown(Follow *f);
void		attempt_schedule_reconnect(Follow *f);
void		attempt_teardown_cb(struct ev_loop *loop, ev_prepare *w, int revents);
void		attempt_reconnect_cb(struct ev_loop *loop, ev_timer *w, int revents);

#endif
