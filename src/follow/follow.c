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
 *	  (TargetFlush in follow_int.h; native apply tracks its remote flush position the
 *	  same way), or, when everything applied is flushed and nothing is
 *	  pending, the server's position: no commit can precede it.  A target
 *	  crash can lose the last commits, but then the slot still holds them
 *	  and their applied position is lost with them: nothing twice, nothing
 *	  lost.
 *
 *	  The engine's state, Follow, and who may touch what: follow_int.h.
 *	  One attempt's start and end (connecting, the state, the stream;
 *	  teardown, reconnect): follow_attempt.c.
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

#include "follow_int.h"

/* Are this attempt's connections up and usable? */
bool
attempt_live(const Follow *f)
{
	return !f->conns.doomed && f->conns.stream != NULL && f->conns.apply != NULL;
}

void
follow_finish(Follow *f, Outcome outcome)
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
void
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
		attempt_schedule_reconnect(f);
		return;
	}
	log_error("%s", msg);
	if (f->stop.first_error == NULL)
		f->stop.first_error = log_redact(msg);
	free(msg);
	follow_finish(f, outcome);
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
bool
target_flush_read(PGconn *conn, TargetFlush *t, Lsn applied, char **err)
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

	if (target_flush_read(f->conns.state, &f->conns.target_flush,
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
void
follow_flush_target(Follow *f)
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
			follow_finish(f, OUTCOME_OK);	/* stopped while reconnecting */
		return;
	}
	if (!nothing_pending(f))
		return;
	pos = applied_lsn(f);
	if (f->stop.stopping ||
		(f->stop.caught_up_lsn != INVALID_LSN && pos >= f->stop.caught_up_lsn) ||
		(f->cfg.endpos != INVALID_LSN && pos >= f->cfg.endpos))
		follow_finish(f, OUTCOME_OK);
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
void
follow_read_stream(Follow *f)
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
			follow_read_stream(f);
			/* the server sent everything up to the LSN, and it is applied */
			if (!applypool_in_transaction(apply) &&
				stream_server_wal_end(f->conns.stream) >= barrier_lsn(b))
				return export_at_barrier(f);
			/* an idle source sends nothing more: ask it where it is */
			return send_feedback(f, true);
		case BARRIER_IDLE:
		case BARRIER_EXPORTED:
			follow_read_stream(f);		/* given up while standing still */
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
 * (fail_follow said so) or follow is done (follow_finish).
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
		follow_finish(f, OUTCOME_OK);	/* this transaction ends beyond --endpos */
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
bool
follow_check_identities(Follow *f)
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
	if (now_seconds() - f->progress.last_identity_check >= IDENTITY_CHECK_SECONDS && !follow_check_identities(f))
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
		follow_finish(f, OUTCOME_INTERRUPTED);
		return;
	}
	log_info("signal received: stopping after the current transaction");
	service_notify_stopping("stopping after the current transaction (signal received)");
	f->stop.stopping = true;
	if (!attempt_live(f) ||
		(!applypool_in_transaction(f->conns.apply) && applypool_flush(f->conns.apply)))
		check_stop(f);
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
	ev_init(&w->reconnect, attempt_reconnect_cb);
	ev_prepare_init(&w->teardown, attempt_teardown_cb);
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
	/* only the four filter lists are follow's own (follow_load_selection) */
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
	outcome = attempt_prepare_state(&f);
	if (outcome != OUTCOME_OK || f.stop.nothing_to_do)
		goto done;
	if ((outcome = follow_load_selection(&f)) != OUTCOME_OK ||
		(outcome = attempt_start_streaming(&f)) != OUTCOME_OK)
		goto done;

	run_loop(&f);
	outcome = f.stop.outcome;
	if (f.conns.doomed)
		attempt_release_connections(&f);	/* the loop ended while reconnecting */
	if (attempt_live(&f))
	{
		if (outcome == OUTCOME_OK && !applypool_in_transaction(f.conns.apply) && !applypool_flush(f.conns.apply))
		{
			log_error("%s", applypool_error(f.conns.apply));
			outcome = applypool_outcome(f.conns.apply);
		}
		if (PQstatus(f.conns.state) == CONNECTION_OK)
		{
			follow_flush_target(&f);
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
	attempt_release_connections(&f);
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
