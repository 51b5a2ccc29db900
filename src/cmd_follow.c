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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <jansson.h>

#include "apply.h"
#include "catalog.h"
#include "cli.h"
#include "decoder.h"
#include "log.h"
#include "pgconn.h"
#include "state.h"
#include "stream.h"

#define IDLE_COMMIT_SECONDS 0.005	/* stream quiet this long: commit the group */
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
	ev_signal	sigint_watcher;
	ev_signal	sigterm_watcher;

	PGconn	   *state;			/* target: holds the follower lock */
	PGconn	   *source;			/* source: positions, identity checks */
	Stream	   *stream;
	Decoder    *decoder;
	Apply	   *apply;

	Lsn			stop_lsn;		/* --until-caught-up: source LSN at start */
	Lsn			endpos;			/* --endpos */
	Lsn			confirmed;		/* last position sent as feedback */
	int			stop_requests;	/* signals received */
	bool		stopping;		/* leave once no transaction is open */
	int			exit_code;
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
	if (f->exit_code == EXIT_OK)
		f->exit_code = code;
	ev_break(f->loop, EVBREAK_ALL);
}

/* The position safe to confirm: durable, or the server's if nothing is open. */
static Lsn
confirmable_lsn(const Follow *f)
{
	Lsn			lsn = apply_totals(f->apply)->durable_lsn;
	Lsn			wal_end = stream_server_wal_end(f->stream);

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

		log_error("%s; fix: rerun follow, it resumes from the last applied transaction", e);
		free(e);
		finish(f, EXIT_CONNECTION);
		return;
	}
	f->confirmed = lsn;
}

/* Stops when --until-caught-up / --endpos is reached and nothing is open. */
static void
check_stop(Follow *f)
{
	Lsn			pos = confirmable_lsn(f);

	if (apply_in_transaction(f->apply) || apply_group_open(f->apply))
		return;
	if (f->stopping ||
		(f->stop_lsn != INVALID_LSN && pos >= f->stop_lsn) ||
		(f->endpos != INVALID_LSN && pos >= f->endpos))
		finish(f, f->stopping && f->stop_requests > 0 ? EXIT_OK : EXIT_OK);
}

static void
log_progress(Follow *f, bool force)
{
	const ApplyTotals *t = apply_totals(f->apply);
	double		now = now_seconds();
	double		span = now - f->last_log;
	char		applied[LSN_FORMAT_LEN];
	Lsn			wal_end = stream_server_wal_end(f->stream);

	if (!force && span < LOG_SECONDS)
		return;
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
	(void) f;
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
		log_error("cannot decode a wal2json message at %X/%X: %s; fix: report this as a bug with the message",
				  (unsigned) (wal_start >> 32), (unsigned) wal_start, err);
		finish(f, EXIT_INTERNAL);
		return false;
	}
	if (c.action == CHANGE_MESSAGE)
	{
		on_logical_message(f, &c);
		return true;
	}
	if (c.action == CHANGE_BEGIN && f->endpos != INVALID_LSN && c.nextlsn > f->endpos &&
		!apply_group_open(f->apply))
	{
		finish(f, EXIT_OK);		/* this transaction ends beyond --endpos */
		return false;
	}
	if ((c.action == CHANGE_INSERT || c.action == CHANGE_UPDATE || c.action == CHANGE_DELETE ||
		 c.action == CHANGE_TRUNCATE) && !catalog_table_selected(f->opts, c.schema, c.table))
		return true;			/* excluded from the migration by the copy's filters */
	if (!apply_change(f->apply, &c))
	{
		log_error("%s", apply_error(f->apply));
		finish(f, apply_exit_code(f->apply));
		return false;
	}
	/* a long transaction must not starve the walsender of status updates */
	if (++f->messages % 4096 == 0 && stream_reply_requested(f->stream))
		send_feedback(f, false);
	if (c.action == CHANGE_COMMIT && f->endpos != INVALID_LSN && c.nextlsn >= f->endpos)
	{
		if (!apply_flush(f->apply))
		{
			log_error("%s", apply_error(f->apply));
			finish(f, apply_exit_code(f->apply));
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
	if (st == STREAM_ERROR || st == STREAM_END)
	{
		char	   *e = stream_error(f->stream);

		log_error("%s; fix: rerun follow, it resumes from the last applied transaction", e);
		free(e);
		finish(f, EXIT_CONNECTION);
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
	if (!apply_flush(f->apply))
	{
		log_error("%s", apply_error(f->apply));
		finish(f, apply_exit_code(f->apply));
		return;
	}
	send_feedback(f, false);
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
		log_error("table %s has no primary key and no replica identity on the source (any more): its UPDATEs and DELETEs are not decoded; fix: ALTER TABLE %s REPLICA IDENTITY FULL (or add the key back) on the source, then re-copy the table (its changes since the key was lost are missing)",
				  tables.tables[bad].qualname, tables.tables[bad].qualname);
	catalog_free_tables(&tables);
	return bad < 0;
}

static void
feedback_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	Follow	   *f = w->data;

	(void) loop;
	(void) revents;
	/* ask for a keepalive so an idle server tells us its position */
	send_feedback(f, f->stop_lsn != INVALID_LSN || f->endpos != INVALID_LSN);
	log_progress(f, false);
	if (now_seconds() - f->last_identity_check >= IDENTITY_CHECK_SECONDS && !check_identities(f))
	{
		finish(f, EXIT_SCHEMA_DRIFT);
		return;
	}
	check_stop(f);
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	Follow	   *f = w->data;

	(void) loop;
	(void) revents;
	f->stop_requests++;
	if (f->stop_requests > 1)
	{
		log_warn("second signal: stopping now, the open transaction is rolled back and will be applied again");
		finish(f, EXIT_INTERRUPTED);
		return;
	}
	log_info("signal received: stopping after the current transaction");
	f->stopping = true;
	if (!apply_in_transaction(f->apply) && apply_flush(f->apply))
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

/* Checks the state, takes the follower lock; returns an exit code. */
static int
prepare_state(Follow *f)
{
	char	   *err = NULL;
	MigrationState st;
	char	   *sql;
	char	   *locked;
	int			rc = EXIT_OK;

	if ((f->state = db_connect(f->opts->target, "target", CONN_NORMAL, &err)) == NULL)
	{
		log_error("%s", err);
		free(err);
		return EXIT_CONNECTION;
	}
	if (!state_load(f->state, f->opts->slot, &st))
		return EXIT_SQL;
	if (!st.found || strncmp(st.phase, "copy_", 5) == 0)
	{
		log_error("no completed copy for slot %s on the target%s; fix: run 'pgcutover copy' first (or pass the right --slot)",
				  f->opts->slot, st.found ? " (the copy is not finished)" : "");
		state_free(&st);
		return EXIT_STATE;
	}
	state_free(&st);
	sql = psprintf("SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtext('pgcutover follow %s'))",
				   f->opts->slot);
	locked = db_scalar(f->state, sql);
	free(sql);
	if (locked == NULL || strcmp(locked, "t") != 0)
	{
		log_error("another pgcutover follow is already running for slot %s on this target; fix: stop it first (only one follower per slot)",
				  f->opts->slot);
		rc = EXIT_STATE;
	}
	free(locked);
	if (rc == EXIT_OK && (!state_install(f->state) ||
						  !state_load_filters(f->state, f->opts->slot, f->opts) ||
						  !db_exec(f->state, "UPDATE pgcutover.migration SET phase = 'following', updated_at = now() "
								   "WHERE phase = 'copied'")))
		rc = EXIT_SQL;
	return rc;
}

/* Connects apply and the stream, and reads the --until-caught-up target. */
static int
start_streaming(Follow *f)
{
	ApplyConfig cfg = {f->opts->target, f->opts->source, f->opts->slot, 10000, 0.05};
	char	   *err = NULL;
	int			code = EXIT_OK;
	char		lsn[LSN_FORMAT_LEN];

	if ((f->apply = apply_open(&cfg, &err, &code)) == NULL)
	{
		log_error("%s", err);
		free(err);
		return code;
	}
	if ((f->source = db_connect(f->opts->source, "source", CONN_NORMAL, &err)) == NULL)
	{
		log_error("%s", err);
		free(err);
		return EXIT_CONNECTION;
	}
	if (!check_identities(f))
		return EXIT_SCHEMA_DRIFT;
	if (f->opts->until_caught_up)
	{
		char	   *cur = db_scalar(f->source, "SELECT pg_catalog.pg_current_wal_insert_lsn()::text");

		if (cur == NULL || !lsn_parse(cur, &f->stop_lsn))
		{
			log_error("cannot read the source's current WAL position");
			free(cur);
			return EXIT_CONNECTION;
		}
		free(cur);
		log_info("following until caught up with source position %s", lsn_format(f->stop_lsn, lsn));
	}
	f->stream = stream_start(f->opts->source, f->opts->slot, apply_totals(f->apply)->durable_lsn,
							 plugin_options, &err);
	if (f->stream == NULL)
	{
		log_error("%s", err);
		free(err);
		return strstr(err ? err : "", "cannot connect") ? EXIT_CONNECTION : EXIT_STATE;
	}
	f->confirmed = apply_totals(f->apply)->durable_lsn;
	log_info("streaming slot %s from %s", f->opts->slot,
			 lsn_format(apply_totals(f->apply)->durable_lsn, lsn));
	return EXIT_OK;
}

static void
run_loop(Follow *f)
{
	f->loop = ev_default_loop(EVFLAG_AUTO);
	ev_io_init(&f->stream_watcher, stream_cb, stream_socket(f->stream), EV_READ);
	ev_init(&f->idle_timer, idle_cb);
	f->idle_timer.repeat = IDLE_COMMIT_SECONDS;
	ev_timer_init(&f->feedback_timer, feedback_cb, FEEDBACK_SECONDS, FEEDBACK_SECONDS);
	ev_signal_init(&f->sigint_watcher, signal_cb, SIGINT);
	ev_signal_init(&f->sigterm_watcher, signal_cb, SIGTERM);
	f->stream_watcher.data = f->idle_timer.data = f->feedback_timer.data = f;
	f->sigint_watcher.data = f->sigterm_watcher.data = f;
	ev_io_start(f->loop, &f->stream_watcher);
	ev_timer_start(f->loop, &f->feedback_timer);
	ev_signal_start(f->loop, &f->sigint_watcher);
	ev_signal_start(f->loop, &f->sigterm_watcher);
	/* data may already be buffered by libpq */
	ev_feed_event(f->loop, &f->stream_watcher, EV_READ);
	ev_run(f->loop, 0);
}

static void
print_json_summary(Follow *f, int rc)
{
	char		lsn[LSN_FORMAT_LEN];
	json_t	   *doc = json_pack("{s:s, s:s, s:b, s:i}", "command", "follow", "slot", f->opts->slot,
								"ok", rc == EXIT_OK, "exit_code", rc);

	if (f->apply)
	{
		const ApplyTotals *t = apply_totals(f->apply);

		json_object_set_new(doc, "applied_lsn", json_string(lsn_format(t->durable_lsn, lsn)));
		json_object_set_new(doc, "transactions", json_integer(t->txns));
		json_object_set_new(doc, "rows", json_integer(t->rows));
		json_object_set_new(doc, "groups", json_integer(t->groups));
		json_object_set_new(doc, "seconds", json_real(now_seconds() - f->started));
	}
	json_object_set_new(doc, "error", rc == EXIT_OK || f->apply == NULL ? json_null()
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

	if (opts->source == NULL || opts->target == NULL)
	{
		log_error("follow needs both databases; fix: pass --source and --target (or set PGCUTOVER_SOURCE/PGCUTOVER_TARGET)");
		return EXIT_USAGE;
	}
	if (opts->endpos && !lsn_parse(opts->endpos, &f.endpos))
	{
		log_error("invalid --endpos \"%s\"; fix: give a WAL position like 0/16B3748", opts->endpos);
		return EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	f.started = f.last_log = now_seconds();
	f.decoder = decoder_create();
	if ((rc = prepare_state(&f)) == EXIT_OK && (rc = start_streaming(&f)) == EXIT_OK)
	{
		run_loop(&f);
		rc = f.exit_code;
		if (rc == EXIT_OK && !apply_in_transaction(f.apply) && !apply_flush(f.apply))
		{
			log_error("%s", apply_error(f.apply));
			rc = apply_exit_code(f.apply);
		}
		if (PQstatus(f.state) == CONNECTION_OK && f.stream)
			send_feedback(&f, false);
		log_progress(&f, true);
	}
	if (opts->json)
		print_json_summary(&f, rc);
	stream_close(f.stream);
	apply_close(f.apply);
	decoder_destroy(f.decoder);
	PQfinish(f.state);
	PQfinish(f.source);
	if (f.loop)
		ev_loop_destroy(f.loop);
	return rc;
}
