/*
 * cmd_follow.c
 *	  `pgcutover follow`: owns the libev loop and wires the stream, the
 *	  decoder and apply together.
 *
 *	    replication socket readable -> stream_read -> decoder -> apply
 *	    idle timer (stream quiet)   -> commit the open group, feedback
 *	    feedback timer              -> standby status update, progress log
 *	    SIGINT / SIGTERM            -> stop after the current transaction
 *
 *	  Feedback only ever confirms what apply has durably committed (or, when
 *	  nothing is pending, the server's position: no commit can precede it).
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <jansson.h>

#include "apply.h"
#include "catalog.h"
#include "cli.h"
#include "ddl.h"
#include "decoder.h"
#include "follow_ddl.h"
#include "lagtrack.h"
#include "log.h"
#include "metrics.h"
#include "outcome.h"
#include "pgconn.h"
#include "signals.h"
#include "state.h"
#include "stream.h"

#define IDLE_COMMIT_SECONDS 0.001	/* stream quiet this long: commit the group */
#define FEEDBACK_SECONDS 1.0
#define LOG_SECONDS 10.0
#define IDENTITY_CHECK_SECONDS 10.0	/* how often tables are checked for a lost key */

typedef struct Follow
{
	Options    *opts;
	struct ev_loop *loop;
	ev_io		stream_watcher;
	ev_timer	idle_timer;
	ev_timer	feedback_timer;
	ev_timer	heartbeat_timer;
	ev_timer	reconnect_timer;
	ev_io		signal_watcher; /* the interrupt pipe of signals.h */

	PGconn	   *state;			/* target: holds the follower lock */
	PGconn	   *source;			/* source: positions, identity checks */
	Stream	   *stream;
	Decoder    *decoder;
	Apply	   *apply;
	FollowDdl  *ddl;			/* captured DDL: apply, skip or stop */
	LagTracker	lag;
	MetricsServer *metrics;
	bool		heartbeats;		/* emitting heartbeats on the source */
	bool		streamed;		/* streaming started once: connection losses are retried */
	bool		slot_gone;		/* the slot was dropped or invalidated: no retry */
	bool		done_elsewhere; /* switched over while we reconnected */
	double		backoff;		/* seconds before the next reconnect attempt */
	double		behind_since;	/* epoch seconds since lag has been > 0, or 0 */
	double		txn_rate;		/* smoothed per second */
	double		row_rate;
	int64_t		rate_txns;
	int64_t		rate_rows;
	double		rate_at;
	int64_t		retained_bytes;
	char		wal_status[32];
	double		started_epoch;

	Lsn			stop_lsn;		/* --until-caught-up: source LSN at start */
	Lsn			endpos;			/* --endpos */
	Lsn			confirmed;		/* last position sent as feedback */
	int			stop_requests;	/* signals received */
	bool		stopping;		/* leave once no transaction is open */
	int			exit_code;
	char	   *last_error;		/* first error, for pgcutover.follower */
	uint64_t	messages;
	double		started;
	double		last_log;
	double		last_identity_check;
	int64_t		last_log_txns;
	int64_t		last_log_rows;
} Follow;

static void
finish(Follow *f, int code)
{
	if (f->exit_code == OUTCOME_OK)
		f->exit_code = code;
	ev_break(f->loop, EVBREAK_ALL);
}

static void schedule_reconnect(Follow *f);

/*
 * Logs an error, remembers the first one, and leaves the loop with code; a
 * lost connection after streaming has started is retried instead.
 */
static void
fail_follow(Follow *f, int code, const char *fmt,...) __attribute__((format(printf, 3, 4)));

static void
fail_follow(Follow *f, int code, const char *fmt,...)
{
	va_list		ap;
	char	   *msg;

	va_start(ap, fmt);
	msg = pvsprintf(fmt, ap);
	va_end(ap);
	if (code == OUTCOME_CONNECTION && f->streamed && f->loop && f->stop_requests == 0)
	{
		log_warn("%s", msg);
		free(msg);
		schedule_reconnect(f);
		return;
	}
	log_error("%s", msg);
	if (f->last_error == NULL)
		f->last_error = log_redact(msg);
	free(msg);
	if (f->loop)
		finish(f, code);
	else if (f->exit_code == OUTCOME_OK)
		f->exit_code = code;
}

/* The position safe to confirm: durable, or the server's if nothing is open. */
static Lsn
confirmable_lsn(const Follow *f)
{
	Lsn			lsn = apply_totals(f->apply)->durable_lsn;
	Lsn			wal_end = f->stream ? stream_server_wal_end(f->stream) : INVALID_LSN;

	if (!apply_in_transaction(f->apply) && !apply_group_open(f->apply) && wal_end > lsn)
		lsn = wal_end;
	return lsn;
}

static void
send_feedback(Follow *f, bool request_reply)
{
	Lsn			lsn = confirmable_lsn(f);

	if (lsn < f->confirmed)
		lsn = f->confirmed;
	if (!stream_send_feedback(f->stream, lsn, request_reply))
	{
		char	   *e = stream_error(f->stream);

		fail_follow(f, OUTCOME_CONNECTION, "%s; fix: rerun follow, it resumes from the last applied transaction", e);
		free(e);
		return;
	}
	f->confirmed = lsn;
}

/* Stops when --until-caught-up / --endpos is reached and nothing is open. */
static void
check_stop(Follow *f)
{
	Lsn			pos;

	if (f->apply == NULL || f->stream == NULL)
	{
		if (f->stopping)
			finish(f, OUTCOME_OK);	/* stopped while reconnecting */
		return;
	}
	pos = confirmable_lsn(f);

	if (apply_in_transaction(f->apply) || apply_group_open(f->apply))
		return;
	if (f->stopping ||
		(f->stop_lsn != INVALID_LSN && pos >= f->stop_lsn) ||
		(f->endpos != INVALID_LSN && pos >= f->endpos))
		finish(f, f->stopping && f->stop_requests > 0 ? OUTCOME_OK : OUTCOME_OK);
}

static void
log_progress(Follow *f, bool force)
{
	const ApplyTotals *t;
	double		now = now_seconds();
	double		span = now - f->last_log;
	char		applied[LSN_FORMAT_LEN];
	Lsn			wal_end;

	if (f->stream == NULL || f->apply == NULL || (!force && span < LOG_SECONDS))
		return;
	t = apply_totals(f->apply);
	wal_end = stream_server_wal_end(f->stream);
	log_info("applied %s, %lld txns (%.0f/s), %lld rows (%.0f/s), %lld bytes behind the server",
			 lsn_format(t->durable_lsn, applied), (long long) t->txns,
			 span > 0 ? (t->txns - f->last_log_txns) / span : 0.0, (long long) t->rows,
			 span > 0 ? (t->rows - f->last_log_rows) / span : 0.0,
			 (long long) (wal_end > t->durable_lsn ? wal_end - t->durable_lsn : 0));
	f->last_log = now;
	f->last_log_txns = t->txns;
	f->last_log_rows = t->rows;
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
			lag_heartbeat(&f->lag, c->lsn, json_number_value(hb), epoch_seconds());
		json_decref(doc);
	}
}

/* A DDL command captured on the source, at its place in a transaction. */
static bool
on_ddl_message(Follow *f, const Change *c)
{
	char	   *err = NULL;
	int			rc = follow_ddl_handle(f->ddl, f->apply, f->state, c->lsn, c->content,
									   c->content_len, &err);

	if (rc != OUTCOME_OK)
	{
		fail_follow(f, rc, "%s", err);
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
	const char *params[1] = {f->opts->slot};
	PGresult   *res;

	(void) loop;
	(void) revents;
	if (!f->heartbeats || f->source == NULL)
		return;
	res = PQexecParams(f->source,
					   "SELECT pg_catalog.pg_logical_emit_message(false, 'pgcutover', "
					   "pg_catalog.json_build_object('heartbeat', extract(epoch FROM pg_catalog.clock_timestamp()), "
					   "'slot', $1::text)::text)", 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		char	   *e = db_error(f->source);

		log_warn("heartbeats are off, lag in seconds is less precise on an idle source: %s; fix: GRANT EXECUTE ON FUNCTION pg_catalog.pg_logical_emit_message(boolean, text, text) TO %s on the source",
				 e, PQuser(f->source));
		free(e);
		f->heartbeats = false;
		ev_timer_stop(f->loop, &f->heartbeat_timer);
		if (PQstatus(f->source) != CONNECTION_OK)
			PQreset(f->source);
	}
	PQclear(res);
}

static bool
on_data(void *arg, Lsn wal_start, const char *data, size_t len)
{
	Follow	   *f = arg;
	Change		c;
	const char *err;

	(void) wal_start;
	if (!decoder_decode(f->decoder, data, len, &c, &err))
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
		return true;
	}
	if (c.action == CHANGE_BEGIN && f->endpos != INVALID_LSN && c.nextlsn > f->endpos &&
		!apply_group_open(f->apply))
	{
		finish(f, OUTCOME_OK);		/* this transaction ends beyond --endpos */
		return false;
	}
	if ((c.action == CHANGE_INSERT || c.action == CHANGE_UPDATE || c.action == CHANGE_DELETE ||
		 c.action == CHANGE_TRUNCATE) &&
		(strcmp(c.schema, "pgcutover") == 0 || !catalog_table_selected(f->opts, c.schema, c.table)))
		return true;			/* our own state (reverse direction), or excluded by the copy's filters */
	if (!apply_change(f->apply, &c))
	{
		fail_follow(f, apply_exit_code(f->apply), "%s", apply_error(f->apply));
		return false;
	}
	/* a long transaction must not starve the walsender of status updates */
	if (++f->messages % 4096 == 0 && stream_reply_requested(f->stream))
		send_feedback(f, false);
	if (f->stream == NULL)
		return false;
	if (c.action == CHANGE_COMMIT && f->endpos != INVALID_LSN && c.nextlsn >= f->endpos)
	{
		if (!apply_flush(f->apply))
		{
			fail_follow(f, apply_exit_code(f->apply), "%s", apply_error(f->apply));
			return false;
		}
		check_stop(f);
	}
	return true;
}

static void
stream_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	Follow	   *f = w->data;
	StreamStatus st;

	(void) loop;
	(void) revents;
	st = stream_read(f->stream, on_data, f);
	if (f->stream == NULL)
		return;					/* a callback lost a connection: reconnecting */
	if (st == STREAM_ERROR || st == STREAM_END)
	{
		char	   *e = stream_error(f->stream);

		fail_follow(f, OUTCOME_CONNECTION, "%s; fix: rerun follow, it resumes from the last applied transaction", e);
		free(e);
		return;
	}
	if (stream_reply_requested(f->stream))
		send_feedback(f, false);
	/* the stream is quiet for now: commit soon unless more arrives */
	if (apply_group_open(f->apply) && !apply_in_transaction(f->apply))
		ev_timer_again(f->loop, &f->idle_timer);
	check_stop(f);
}

static void
idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	Follow	   *f = w->data;

	(void) revents;
	ev_timer_stop(loop, w);
	if (f->apply == NULL)
		return;
	if (!apply_flush(f->apply))
	{
		fail_follow(f, apply_exit_code(f->apply), "%s", apply_error(f->apply));
		return;
	}
	send_feedback(f, false);
	if (f->stream != NULL)
		check_stop(f);
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

	f->last_identity_check = now_seconds();
	if (!catalog_list_tables(f->source, f->opts, &tables))
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

/* Has switchover finished?  Then the target is the primary and we are done. */
static bool
switched_over(Follow *f)
{
	const char *params[1] = {f->opts->slot};
	PGresult   *res = PQexecParams(f->state, "SELECT phase FROM pgcutover.migration WHERE slot_name = $1",
								   1, NULL, params, NULL, NULL, 0);
	bool		done = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		strcmp(PQgetvalue(res, 0, 0), "switched_over") == 0;

	PQclear(res);
	return done;
}

/* Reads the source's WAL position and what the slot retains. */
static void
refresh_source_position(Follow *f)
{
	const char *params[1] = {f->opts->slot};
	PGresult   *res = PQexecParams(f->source,
								   "SELECT pg_catalog.pg_current_wal_lsn()::text, "
								   "  (SELECT pg_catalog.pg_current_wal_lsn() - restart_lsn FROM pg_catalog.pg_replication_slots WHERE slot_name = $1), "
								   "  (SELECT wal_status FROM pg_catalog.pg_replication_slots WHERE slot_name = $1)",
								   1, NULL, params, NULL, NULL, 0);
	Lsn			cur;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && lsn_parse(PQgetvalue(res, 0, 0), &cur))
	{
		lag_source_position(&f->lag, cur);
		f->retained_bytes = PQgetisnull(res, 0, 1) ? 0 : strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		if (strcmp(f->wal_status, PQgetvalue(res, 0, 2)) != 0 && !PQgetisnull(res, 0, 2) &&
			strcmp(PQgetvalue(res, 0, 2), "reserved") != 0)
			log_warn("slot %s wal_status is now %s: the source may remove WAL it still needs (%lld MB retained); fix: keep follow caught up, raise max_slot_wal_keep_size",
					 f->opts->slot, PQgetvalue(res, 0, 2), (long long) (f->retained_bytes >> 20));
		snprintf(f->wal_status, sizeof(f->wal_status), "%s", PQgetvalue(res, 0, 2));
	}
	else if (PQstatus(f->source) != CONNECTION_OK)
		PQreset(f->source);
	PQclear(res);
}

static LagSample
current_lag(Follow *f)
{
	const ApplyTotals *t = apply_totals(f->apply);
	Lsn			pos = confirmable_lsn(f);
	bool		pending = apply_in_transaction(f->apply) || apply_group_open(f->apply);

	lag_applied(&f->lag, pos, lag_parse_timestamp(t->last_commit_time));
	return lag_compute(&f->lag, pos, pending, epoch_seconds());
}

/* Rewrites pgcutover.follower and the metrics snapshot (once a second). */
static void
publish_state(Follow *f, const char *phase, const char *error)
{
	const ApplyTotals *t = apply_totals(f->apply);
	LagSample	lag = current_lag(f);
	double		now = now_seconds();
	char		pid[16], started[32], applied[LSN_FORMAT_LEN], source[LSN_FORMAT_LEN],
				bytes[24], seconds[32], txns[24], rows[24], trate[32], rrate[32], retained[24], behind[32];
	const char *params[18];
	MetricsSnapshot snap;
	PGresult   *res;

	if (now > f->rate_at && f->rate_at > 0)
	{
		double		span = now - f->rate_at;

		f->txn_rate = 0.5 * f->txn_rate + 0.5 * (t->txns - f->rate_txns) / span;
		f->row_rate = 0.5 * f->row_rate + 0.5 * (t->rows - f->rate_rows) / span;
	}
	f->rate_at = now;
	f->rate_txns = t->txns;
	f->rate_rows = t->rows;
	if (lag.caught_up)
		f->behind_since = 0;
	else if (f->behind_since == 0)
		f->behind_since = epoch_seconds();

	snprintf(pid, sizeof(pid), "%d", (int) getpid());
	snprintf(started, sizeof(started), "%.6f", f->started_epoch);
	snprintf(bytes, sizeof(bytes), "%lld", (long long) lag.bytes);
	snprintf(seconds, sizeof(seconds), "%.6f", lag.seconds);
	snprintf(txns, sizeof(txns), "%lld", (long long) t->txns);
	snprintf(rows, sizeof(rows), "%lld", (long long) t->rows);
	snprintf(trate, sizeof(trate), "%.1f", f->txn_rate);
	snprintf(rrate, sizeof(rrate), "%.1f", f->row_rate);
	snprintf(retained, sizeof(retained), "%lld", (long long) f->retained_bytes);
	snprintf(behind, sizeof(behind), "%.6f", f->behind_since);
	params[0] = f->opts->slot;
	params[1] = pid;
	params[2] = started;
	params[3] = phase;
	params[4] = lsn_format(confirmable_lsn(f), applied);
	params[5] = f->lag.source_lsn ? lsn_format(f->lag.source_lsn, source) : NULL;
	params[6] = bytes;
	params[7] = lag.seconds >= 0 ? seconds : NULL;
	params[8] = txns;
	params[9] = rows;
	params[10] = trate;
	params[11] = rrate;
	params[12] = retained;
	params[13] = f->wal_status[0] ? f->wal_status : NULL;
	params[14] = f->heartbeats ? "true" : "false";
	params[15] = f->behind_since > 0 ? behind : NULL;
	params[16] = error;
	params[17] = NULL;
	res = PQexecParams(f->state,
					   "INSERT INTO pgcutover.follower AS f (slot_name, pid, host, started_at, phase, applied_lsn, source_lsn, "
					   "  lag_bytes, lag_seconds, txns, rows, txn_per_sec, rows_per_sec, slot_retained_wal_bytes, wal_status, "
					   "  heartbeat, behind_since, last_error, updated_at) "
					   "VALUES ($1, $2, pg_catalog.inet_client_addr()::text, pg_catalog.to_timestamp($3), $4, $5, $6, $7, $8, $9, $10, "
					   "  $11, $12, $13, $14, $15, pg_catalog.to_timestamp($16), $17, pg_catalog.now()) "
					   "ON CONFLICT (slot_name) DO UPDATE SET pid = EXCLUDED.pid, host = EXCLUDED.host, "
					   "  started_at = EXCLUDED.started_at, phase = EXCLUDED.phase, applied_lsn = EXCLUDED.applied_lsn, "
					   "  source_lsn = EXCLUDED.source_lsn, lag_bytes = EXCLUDED.lag_bytes, lag_seconds = EXCLUDED.lag_seconds, "
					   "  txns = EXCLUDED.txns, rows = EXCLUDED.rows, txn_per_sec = EXCLUDED.txn_per_sec, "
					   "  rows_per_sec = EXCLUDED.rows_per_sec, slot_retained_wal_bytes = EXCLUDED.slot_retained_wal_bytes, "
					   "  wal_status = EXCLUDED.wal_status, heartbeat = EXCLUDED.heartbeat, behind_since = EXCLUDED.behind_since, "
					   "  last_error = coalesce(EXCLUDED.last_error, CASE WHEN EXCLUDED.phase = 'following' THEN NULL ELSE f.last_error END), "
					   "  updated_at = EXCLUDED.updated_at",
					   17, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		char	   *e = db_error(f->state);

		PQclear(res);
		if (PQstatus(f->state) != CONNECTION_OK && strcmp(phase, "following") == 0)
		{
			fail_follow(f, OUTCOME_CONNECTION, "target connection lost: %s", e);
			free(e);
			return;
		}
		log_warn("cannot record the follower's state on the target: %s", e);
		free(e);
		res = NULL;
	}
	PQclear(res);

	snap.up = strcmp(phase, "following") == 0;
	snap.lag_bytes = lag.bytes;
	snap.lag_seconds = lag.seconds;
	snap.transactions = t->txns;
	snap.rows = t->rows;
	snap.groups = t->groups;
	snap.applied_lsn = confirmable_lsn(f);
	snap.source_lsn = f->lag.source_lsn;
	snap.slot_retained_wal_bytes = f->retained_bytes;
	snap.start_time = f->started_epoch;
	metrics_update(f->metrics, &snap);
}

static void
feedback_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	Follow	   *f = w->data;

	(void) loop;
	(void) revents;
	if (f->stream == NULL)
		return;					/* reconnecting */
	/* ask for a keepalive so an idle server tells us its position */
	send_feedback(f, f->stop_lsn != INVALID_LSN || f->endpos != INVALID_LSN);
	if (f->stream == NULL)
		return;
	refresh_source_position(f);
	publish_state(f, "following", NULL);
	if (f->stream == NULL)
		return;
	log_progress(f, false);
	if (now_seconds() - f->last_identity_check >= IDENTITY_CHECK_SECONDS && !check_identities(f))
		return;
	if (switched_over(f))
	{
		log_info("the migration of slot %s was switched over: the follower stops", f->opts->slot);
		f->stopping = true;
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
	if (signals_interrupts() == f->stop_requests)
		return;
	f->stop_requests = signals_interrupts();
	if (f->stop_requests > 1)
	{
		log_warn("second signal: stopping now, the open transaction is rolled back and will be applied again");
		finish(f, OUTCOME_INTERRUPTED);
		return;
	}
	log_info("signal received: stopping after the current transaction");
	f->stopping = true;
	if (f->apply == NULL || (!apply_in_transaction(f->apply) && apply_flush(f->apply)))
		check_stop(f);
}

/*
 * What we ask wal2json for: commit LSNs and times, type OIDs (to notice a
 * changed column type).  Type names and the "pk" array are left out: they
 * cost the walsender catalog lookups per value and apply reads keys and
 * types from the target's catalog anyway.
 */
static const char *const plugin_options[] = {
	"format-version", "2",
	"include-xids", "1",
	"include-timestamp", "1",
	"include-lsn", "1",
	"include-transaction", "1",
	"include-types", "0",
	"include-type-oids", "1",
	"include-pk", "0",
	NULL
};

/* A connection that failed: an error at start, a warning while reconnecting (it is retried). */
static void
log_attempt_failed(Follow *f, const char *err)
{
	if (f->streamed)
		log_warn("%s", err);
	else
		log_error("%s", err);
}

#define FOLLOW_NOTHING_TO_DO (-1)		/* prepare_state: --endpos is behind us */

/* Is --endpos at or before what the target has applied already? */
static bool
endpos_applied(Follow *f)
{
	const char *params[1] = {f->opts->slot};
	PGresult   *res = db_query_params(f->state,
									  "SELECT coalesce((SELECT applied_lsn FROM pgcutover.apply_progress WHERE slot_name = $1), "
									  "  consistent_lsn)::text FROM pgcutover.migration WHERE slot_name = $1", 1, params);
	Lsn			applied = INVALID_LSN;
	char		a[LSN_FORMAT_LEN];

	if (res && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		lsn_parse(PQgetvalue(res, 0, 0), &applied);
	PQclear(res);
	if (applied == INVALID_LSN || f->endpos > applied)
		return false;
	log_info("--endpos %s is already applied (the target is at %s): nothing to do; fix: give a later LSN, or leave --endpos out to keep following",
			 f->opts->endpos, lsn_format(applied, a));
	return true;
}

/* Checks the state, takes the follower lock; returns an exit code. */
static int
prepare_state(Follow *f)
{
	char	   *err = NULL;
	MigrationState st;
	char	   *sql;
	char	   *locked;
	int			rc = OUTCOME_OK;

	if ((f->state = db_connect(f->opts->target, "target", CONN_NORMAL, &err)) == NULL)
	{
		log_attempt_failed(f, err);
		free(err);
		return OUTCOME_CONNECTION;
	}
	if (!state_load(f->state, f->opts->slot, &st))
		return OUTCOME_SQL;
	if (st.found && strcmp(st.phase, "switched_over") == 0 && f->streamed)
	{
		log_info("the migration of slot %s was switched over while follow reconnected: the follower stops", f->opts->slot);
		f->done_elsewhere = true;
		state_free(&st);
		return OUTCOME_STATE;
	}
	if (st.found && strcmp(st.phase, "switched_over") == 0)
	{
		log_error("the migration of slot %s was already switched over: the target is the primary now; fix: nothing to follow (run 'pgcutover cleanup' when done)",
				  f->opts->slot);
		state_free(&st);
		return OUTCOME_STATE;
	}
	if (!st.found || strncmp(st.phase, "copy_", 5) == 0)
	{
		log_error("no completed copy for slot %s on the target%s; fix: run 'pgcutover copy' first (or pass the right --slot)",
				  f->opts->slot, st.found ? " (the copy is not finished)" : "");
		state_free(&st);
		return OUTCOME_STATE;
	}
	state_free(&st);
	if (f->endpos != INVALID_LSN && !f->streamed && endpos_applied(f))
		return FOLLOW_NOTHING_TO_DO;
	sql = psprintf("SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtext('pgcutover follow %s'))",
				   f->opts->slot);
	locked = db_scalar(f->state, sql);
	free(sql);
	if (locked == NULL || strcmp(locked, "t") != 0)
	{
		log_error("another pgcutover follow is already running for slot %s on this target; fix: stop it first (only one follower per slot)",
				  f->opts->slot);
		rc = OUTCOME_STATE;
	}
	free(locked);
	if (rc == OUTCOME_OK && (!state_install(f->state) ||
						  !state_load_filters(f->state, f->opts->slot, f->opts) ||
						  !db_exec(f->state, "UPDATE pgcutover.migration SET phase = 'following', updated_at = now() "
								   "WHERE phase = 'copied'")))
		rc = OUTCOME_SQL;
	return rc;
}

/* Connects apply and the stream, and reads the --until-caught-up target. */
static int
start_streaming(Follow *f)
{
	/* a group commits after 10k rows or 10 ms: big enough to catch up fast,
	 * short enough to keep live lag in milliseconds */
	ApplyConfig cfg = {f->opts->target, f->opts->source, f->opts->slot, 10000, 0.010};
	char	   *err = NULL;
	int			code = OUTCOME_OK;
	char		lsn[LSN_FORMAT_LEN];

	if ((f->apply = apply_open(&cfg, &err, &code)) == NULL)
	{
		if (code == OUTCOME_CONNECTION)
			log_attempt_failed(f, err);
		else
			log_error("%s", err);
		free(err);
		return code;
	}
	if ((f->source = db_connect(f->opts->source, "source", CONN_NORMAL, &err)) == NULL)
	{
		log_attempt_failed(f, err);
		free(err);
		return OUTCOME_CONNECTION;
	}
	if (!check_identities(f))
		return OUTCOME_DRIFT;
	if (!follow_ddl_prepare(f->ddl, f->source, f->state))
		return OUTCOME_SQL;
	f->heartbeats = f->opts->heartbeat_interval > 0;
	if (f->opts->metrics_listen && f->metrics == NULL &&
		(f->metrics = metrics_start(f->opts->metrics_listen, f->opts->metrics_allow_public,
									f->opts->slot, &err)) == NULL)
	{
		log_error("%s", err);
		free(err);
		return OUTCOME_USAGE;
	}
	if (f->metrics && !f->streamed)
		log_info("serving metrics on http://%s/metrics", f->opts->metrics_listen);
	if (f->opts->until_caught_up && f->stop_lsn == INVALID_LSN)
	{
		char	   *cur = db_scalar(f->source, "SELECT pg_catalog.pg_current_wal_insert_lsn()::text");

		if (cur == NULL || !lsn_parse(cur, &f->stop_lsn))
		{
			log_error("cannot read the source's current WAL position");
			free(cur);
			return OUTCOME_CONNECTION;
		}
		free(cur);
		log_info("following until caught up with source position %s", lsn_format(f->stop_lsn, lsn));
	}
	f->stream = stream_start(f->opts->source, f->opts->slot, apply_totals(f->apply)->durable_lsn,
							 plugin_options, &err);
	if (f->stream == NULL)
	{
		const char *e = err ? err : "";
		/* right after a restart the old walsender may still hold the slot */
		int			rc = strstr(e, "cannot connect") || (f->streamed && strstr(e, "in use"))
			? OUTCOME_CONNECTION : OUTCOME_STATE;

		f->slot_gone = strstr(e, "does not exist") || strstr(e, "invalidated");
		log_error("%s", e);
		free(err);
		return rc;
	}
	f->confirmed = apply_totals(f->apply)->durable_lsn;
	log_info("streaming slot %s from %s", f->opts->slot,
			 lsn_format(apply_totals(f->apply)->durable_lsn, lsn));
	return OUTCOME_OK;
}

/* Closes every connection of this attempt; the loop and its timers stay. */
static void
disconnect_all(Follow *f)
{
	ev_io_stop(f->loop, &f->stream_watcher);
	ev_timer_stop(f->loop, &f->idle_timer);
	stream_close(f->stream);
	apply_close(f->apply);
	PQfinish(f->state);
	PQfinish(f->source);
	f->stream = NULL;
	f->apply = NULL;
	f->state = f->source = NULL;
}

static void
schedule_reconnect(Follow *f)
{
	disconnect_all(f);
	log_warn("reconnecting in %.0f s (nothing is lost: follow resumes from the last applied transaction)", f->backoff);
	ev_timer_set(&f->reconnect_timer, f->backoff, 0.0);
	ev_timer_start(f->loop, &f->reconnect_timer);
	f->backoff = f->backoff * 2 > 30 ? 30 : f->backoff * 2;
}

static void
reconnect_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	Follow	   *f = w->data;
	int			rc;

	(void) revents;
	ev_timer_stop(loop, w);
	if ((rc = prepare_state(f)) == OUTCOME_OK)
		rc = start_streaming(f);
	if (rc == OUTCOME_OK)
	{
		log_info("reconnected");
		f->backoff = 1;
		ev_io_set(&f->stream_watcher, stream_socket(f->stream), EV_READ);
		ev_io_start(loop, &f->stream_watcher);
		ev_feed_event(loop, &f->stream_watcher, EV_READ);
	}
	else if (rc == OUTCOME_CONNECTION || (rc == OUTCOME_STATE && !f->slot_gone && !f->done_elsewhere))
		schedule_reconnect(f);	/* servers coming back, locks and slots being freed */
	else if (rc == FOLLOW_NOTHING_TO_DO || f->done_elsewhere)
	{
		disconnect_all(f);
		finish(f, OUTCOME_OK);
	}
	else
	{
		disconnect_all(f);
		finish(f, rc);
	}
}

static void
run_loop(Follow *f)
{
	f->loop = ev_default_loop(EVFLAG_AUTO);
	ev_io_init(&f->stream_watcher, stream_cb, stream_socket(f->stream), EV_READ);
	ev_init(&f->idle_timer, idle_cb);
	f->idle_timer.repeat = IDLE_COMMIT_SECONDS;
	ev_timer_init(&f->feedback_timer, feedback_cb, FEEDBACK_SECONDS, FEEDBACK_SECONDS);
	ev_timer_init(&f->heartbeat_timer, heartbeat_cb, 0.0, f->opts->heartbeat_interval);
	ev_init(&f->reconnect_timer, reconnect_cb);
	f->reconnect_timer.data = f;
	f->backoff = 1;
	f->streamed = true;
	signals_install();
	ev_io_init(&f->signal_watcher, signal_cb, signals_fd(), EV_READ);
	f->stream_watcher.data = f->idle_timer.data = f->feedback_timer.data = f->heartbeat_timer.data = f;
	f->signal_watcher.data = f;
	ev_io_start(f->loop, &f->stream_watcher);
	ev_timer_start(f->loop, &f->feedback_timer);
	if (f->heartbeats)
		ev_timer_start(f->loop, &f->heartbeat_timer);
	ev_io_start(f->loop, &f->signal_watcher);
	/* data may already be buffered by libpq; a signal may have come first */
	ev_feed_event(f->loop, &f->stream_watcher, EV_READ);
	if (signals_interrupts() > 0)
		ev_feed_event(f->loop, &f->signal_watcher, EV_READ);
	ev_run(f->loop, 0);
}

static void
print_json_summary(Follow *f, int rc)
{
	char		lsn[LSN_FORMAT_LEN];
	json_t	   *doc = json_pack("{s:s, s:s, s:b, s:i}", "command", "follow", "slot", f->opts->slot,
								"ok", rc == OUTCOME_OK, "exit_code", rc);

	if (f->apply)
	{
		const ApplyTotals *t = apply_totals(f->apply);

		json_object_set_new(doc, "applied_lsn", json_string(lsn_format(t->durable_lsn, lsn)));
		json_object_set_new(doc, "transactions", json_integer(t->txns));
		json_object_set_new(doc, "rows", json_integer(t->rows));
		json_object_set_new(doc, "groups", json_integer(t->groups));
		json_object_set_new(doc, "ddl_replayed", json_integer(t->ddl));
		json_object_set_new(doc, "seconds", json_real(now_seconds() - f->started));
	}
	json_object_set_new(doc, "error", rc == OUTCOME_OK || f->apply == NULL ? json_null()
						: json_string(apply_error(f->apply)));
	json_dumpf(doc, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(doc);
}

int
cmd_follow(Options *opts)
{
	Follow		f = {.opts = opts};
	int			rc;
	char	   *err = NULL;

	if (opts->source == NULL || opts->target == NULL)
	{
		log_error("follow needs both databases; fix: pass --source and --target (or set PGCUTOVER_SOURCE/PGCUTOVER_TARGET)");
		return OUTCOME_USAGE;
	}
	if (opts->endpos && !lsn_parse(opts->endpos, &f.endpos))
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
	if ((f.ddl = follow_ddl_create(opts, &err)) == NULL)
	{
		log_error("%s", err);
		free(err);
		return OUTCOME_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	f.started = f.last_log = now_seconds();
	f.started_epoch = epoch_seconds();
	f.decoder = decoder_create();
	if ((rc = prepare_state(&f)) == FOLLOW_NOTHING_TO_DO)
		rc = OUTCOME_OK;
	else if (rc == OUTCOME_OK && (rc = start_streaming(&f)) == OUTCOME_OK)
	{
		run_loop(&f);
		rc = f.exit_code;
		if (rc == OUTCOME_OK && f.apply && !apply_in_transaction(f.apply) && !apply_flush(f.apply))
		{
			log_error("%s", apply_error(f.apply));
			rc = apply_exit_code(f.apply);
		}
		if (f.state && PQstatus(f.state) == CONNECTION_OK && f.stream)
			send_feedback(&f, false);
		log_progress(&f, true);
	}
	if (f.apply && f.stream && f.state && PQstatus(f.state) == CONNECTION_OK)
		publish_state(&f, rc == OUTCOME_OK || rc == OUTCOME_INTERRUPTED ? "stopped" : "failed",
					  rc == OUTCOME_OK || rc == OUTCOME_INTERRUPTED ? NULL : f.last_error);
	if (opts->json)
		print_json_summary(&f, rc);
	stream_close(f.stream);
	apply_close(f.apply);
	decoder_destroy(f.decoder);
	follow_ddl_destroy(f.ddl);
	PQfinish(f.state);
	PQfinish(f.source);
	metrics_stop(f.metrics);
	free(f.last_error);
	if (f.loop)
		ev_loop_destroy(f.loop);
	return rc;
}
