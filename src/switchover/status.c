/*
 * cmd_status.c
 *	  `pgcutover status`: what the migration of one slot is doing, read from
 *	  the target's pgcutover schema (the follower writes its live state there
 *	  once a second and holds an advisory lock while alive) and from the
 *	  source's slot.  Works while follow runs, after it died, and before
 *	  anything started.  --wait-lag blocks until the lag is small enough.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "log.h"
#include "outcome.h"
#include "pgconn.h"
#include "state.h"
#include "status.h"

#define RETAINED_WAL_WARN (1024LL * 1024 * 1024)
#define LAG_GROWING_WARN_SECONDS 300

static char *
col(PGresult *res, int c)
{
	return PQgetisnull(res, 0, c) ? NULL : pg_strdup(PQgetvalue(res, 0, c));
}

void
status_free(Status *s)
{
	free(s->source_lsn);
	free(s->applied_lsn);
	free(s->last_seen);
	free(s->wal_status);
	free(s->last_error);
	json_decref(s->warnings);
	memset(s, 0, sizeof(*s));
}

static void
warn(Status *s, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static void
warn(Status *s, const char *fmt,...)
{
	va_list		ap;
	char	   *msg;

	va_start(ap, fmt);
	msg = pvsprintf(fmt, ap);
	va_end(ap);
	json_array_append_new(s->warnings, json_string(msg));
	free(msg);
}

/* Reads the target's view: migration, applied position, follower. */
static bool
read_target(PGconn *tgt, const char *slot, Status *s)
{
	const char *params[1] = {slot};
	PGresult   *res = db_query_params(tgt,
									  "SELECT m.phase, GREATEST(p.applied_lsn, f.applied_lsn)::text, f.pid, f.phase, f.lag_seconds, f.txn_per_sec, f.rows_per_sec, "
									  "  f.updated_at::text, f.last_error, "
									  "  EXISTS (SELECT 1 FROM pg_catalog.pg_locks l WHERE l.locktype = 'advisory' AND l.objsubid = 1 "
									  "          AND ((l.classid::bigint << 32) | l.objid::bigint) = "
									  "              pg_catalog.hashtext('pgcutover follow ' || m.slot_name)::bigint AND l.granted), "
									  "  extract(epoch FROM pg_catalog.now() - f.behind_since), f.lag_bytes, f.source_lsn::text, "
									  "  extract(epoch FROM pg_catalog.now() - f.updated_at) "
									  "FROM pgcutover.migration m "
									  "LEFT JOIN pgcutover.apply_progress p ON p.slot_name = m.slot_name "
									  "LEFT JOIN pgcutover.follower f ON f.slot_name = m.slot_name "
									  "WHERE m.slot_name = $1", 1, params);

	if (res == NULL)
		return false;
	snprintf(s->phase, sizeof(s->phase), "%s", PQgetvalue(res, 0, 0));
	s->applied_lsn = col(res, 1);
	s->follower_pid = PQgetisnull(res, 0, 2) ? 0 : atoi(PQgetvalue(res, 0, 2));
	s->follower_alive = PQgetvalue(res, 0, 9)[0] == 't';
	s->lag_seconds = PQgetisnull(res, 0, 4) ? -1 : atof(PQgetvalue(res, 0, 4));
	s->txn_per_sec = s->follower_alive && !PQgetisnull(res, 0, 5) ? atof(PQgetvalue(res, 0, 5)) : 0;
	s->rows_per_sec = s->follower_alive && !PQgetisnull(res, 0, 6) ? atof(PQgetvalue(res, 0, 6)) : 0;
	s->last_seen = col(res, 7);
	s->last_error = col(res, 8);
	s->behind_seconds = PQgetisnull(res, 0, 10) ? 0 : atof(PQgetvalue(res, 0, 10));
	s->lag_bytes = PQgetisnull(res, 0, 11) ? 0 : atoll(PQgetvalue(res, 0, 11));
	s->source_lsn = col(res, 12);
	s->since_seen = PQgetisnull(res, 0, 13) ? -1 : atof(PQgetvalue(res, 0, 13));
	if (!PQgetisnull(res, 0, 3))
		snprintf(s->state, sizeof(s->state), "%s", s->follower_alive ? "following" : PQgetvalue(res, 0, 3));
	else
		snprintf(s->state, sizeof(s->state), "%s", strncmp(s->phase, "copy_", 5) == 0 ? "copying" : "copied");
	if (!s->follower_alive && strcmp(s->state, "following") == 0)
		snprintf(s->state, sizeof(s->state), "stopped");	/* died without saying so */
	PQclear(res);
	return true;
}

/* Reads the source's slot; the source's clock gives lag when no follower runs. */
static void
read_source(PGconn *src, const char *slot, Status *s)
{
	const char *params[1] = {slot};
	PGresult   *res;

	if (src == NULL)
		return;
	res = db_query_params(src,
						  "SELECT pg_catalog.pg_current_wal_lsn()::text, s.active, s.wal_status, "
						  "  pg_catalog.pg_current_wal_lsn() - s.restart_lsn "
						  "FROM (SELECT 1) x LEFT JOIN pg_catalog.pg_replication_slots s ON s.slot_name = $1",
						  1, params);
	if (res == NULL)
		return;
	free(s->source_lsn);
	s->source_lsn = col(res, 0);
	s->slot_exists = !PQgetisnull(res, 0, 1);
	s->slot_active = PQgetvalue(res, 0, 1)[0] == 't';
	s->wal_status = col(res, 2);
	s->retained = PQgetisnull(res, 0, 3) ? 0 : atoll(PQgetvalue(res, 0, 3));
	PQclear(res);
	if (s->source_lsn && s->applied_lsn)
	{
		const char *p2[2] = {s->source_lsn, s->applied_lsn};

		res = db_query_params(src, "SELECT GREATEST($1::pg_lsn - $2::pg_lsn, 0)::bigint", 2, p2);
		if (res)
			s->lag_bytes = atoll(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
}

static void
add_warnings(Status *s, const char *slot)
{
	if (!s->slot_exists && strncmp(s->phase, "copy_", 5) != 0)
	{
		snprintf(s->state, sizeof(s->state), "slot_missing");
		warn(s, "slot %s is gone from the source: changes since it was dropped are lost; fix: 'pgcutover cleanup' and copy again", slot);
	}
	else if (s->wal_status && strcmp(s->wal_status, "lost") == 0 && strcmp(s->phase, "switched_over") != 0)
	{
		snprintf(s->state, sizeof(s->state), "slot_lost");
		warn(s, "slot %s was invalidated by the source (wal_status lost, max_slot_wal_keep_size exceeded): the WAL it needed is gone and nothing more can be streamed; fix: 'pgcutover cleanup' and copy again", slot);
	}
	else if (s->wal_status && strcmp(s->wal_status, "reserved") != 0)
		warn(s, "slot %s wal_status is %s: the source may remove WAL the slot still needs; fix: keep follow running, raise max_slot_wal_keep_size", slot, s->wal_status);
	if (s->retained > RETAINED_WAL_WARN)
		warn(s, "the slot retains %lld MB of WAL on the source; fix: keep follow running and caught up", (long long) (s->retained >> 20));
	if (!s->follower_alive && (strcmp(s->state, "stopped") == 0 || strcmp(s->state, "failed") == 0 || strcmp(s->state, "copied") == 0))
		warn(s, "no follower is running for slot %s; fix: start 'pgcutover follow'", slot);
	if (s->follower_alive && s->behind_seconds > LAG_GROWING_WARN_SECONDS)
		warn(s, "lag has not reached zero for %.0f minutes: the target cannot keep up or a long transaction is open on the source", s->behind_seconds / 60);
}

static json_t *
status_json(const Status *s, const char *slot)
{
	json_t	   *doc = json_pack("{s:s, s:s, s:s}", "command", "status", "state", s->state, "slot", slot);

	json_object_set_new(doc, "phase", json_string(s->phase));
	json_object_set_new(doc, "source_lsn", s->source_lsn ? json_string(s->source_lsn) : json_null());
	json_object_set_new(doc, "applied_lsn", s->applied_lsn ? json_string(s->applied_lsn) : json_null());
	json_object_set_new(doc, "lag_bytes", json_integer(s->lag_bytes));
	json_object_set_new(doc, "lag_seconds", s->lag_seconds >= 0 ? json_real(s->lag_seconds) : json_null());
	json_object_set_new(doc, "txn_per_sec", json_real(s->txn_per_sec));
	json_object_set_new(doc, "rows_per_sec", json_real(s->rows_per_sec));
	json_object_set_new(doc, "follower_pid", s->follower_pid ? json_integer(s->follower_pid) : json_null());
	json_object_set_new(doc, "follower_alive", json_boolean(s->follower_alive));
	json_object_set_new(doc, "follower_last_seen", s->last_seen ? json_string(s->last_seen) : json_null());
	json_object_set_new(doc, "slot_exists", json_boolean(s->slot_exists));
	json_object_set_new(doc, "slot_active", json_boolean(s->slot_active));
	json_object_set_new(doc, "slot_retained_wal_bytes", json_integer(s->retained));
	json_object_set_new(doc, "wal_status", s->wal_status ? json_string(s->wal_status) : json_null());
	json_object_set_new(doc, "last_error", s->last_error ? json_string(s->last_error) : json_null());
	json_object_set_new(doc, "warnings", json_incref(s->warnings));
	return doc;
}

static void
print_human(const Status *s, const char *slot, FILE *out)
{
	char		lag[32];

	if (s->lag_seconds >= 0)
		snprintf(lag, sizeof(lag), "%.3f s", s->lag_seconds);
	else
		snprintf(lag, sizeof(lag), "unknown");
	fprintf(out, "slot            %s\nstate           %s (phase %s)\n", slot, s->state, s->phase);
	fprintf(out, "follower        %s", s->follower_alive ? "running" : "not running");
	if (s->follower_pid)
		fprintf(out, ", pid %d, last seen %s", s->follower_pid, s->last_seen ? s->last_seen : "?");
	fprintf(out, "\nsource lsn      %s\napplied lsn     %s\n", s->source_lsn ? s->source_lsn : "?",
			s->applied_lsn ? s->applied_lsn : "-");
	fprintf(out, "lag             %lld bytes, %s\nrate            %.0f txn/s, %.0f rows/s\n",
			(long long) s->lag_bytes, lag, s->txn_per_sec, s->rows_per_sec);
	fprintf(out, "slot on source  %s, %s, retains %lld kB of WAL\n",
			s->slot_exists ? (s->slot_active ? "active" : "inactive") : "MISSING",
			s->wal_status ? s->wal_status : "-", (long long) (s->retained / 1024));
	if (s->last_error)
		fprintf(out, "last error      %s\n", s->last_error);
	for (size_t i = 0; i < json_array_size(s->warnings); i++)
		fprintf(out, "WARNING         %s\n", json_string_value(json_array_get(s->warnings, i)));
}

/* One full reading; returns an exit code (7 when nothing was ever started). */
int
status_read(PGconn *src, PGconn *tgt, const char *slot, Status *s)
{
	MigrationState st;

	memset(s, 0, sizeof(*s));
	s->warnings = json_array();
	s->lag_seconds = -1;
	if (!state_load(tgt, slot, &st))
		return OUTCOME_SQL;
	if (!st.found)
	{
		snprintf(s->state, sizeof(s->state), "never_started");
		state_free(&st);
		return OUTCOME_STATE;
	}
	state_free(&st);
	if (!read_target(tgt, slot, s))
		return OUTCOME_SQL;
	read_source(src, slot, s);
	add_warnings(s, slot);
	/*
	 * A live follower's lag is a second old at most.  Without one: caught up
	 * if no byte is missing, else at least its last lag plus the time since
	 * it was last seen.
	 */
	if (!s->follower_alive && s->lag_bytes == 0 && s->slot_exists)
		s->lag_seconds = 0;
	else if (!s->follower_alive && s->since_seen >= 0)
		s->lag_seconds = (s->lag_seconds > 0 ? s->lag_seconds : 0) + s->since_seen;
	return OUTCOME_OK;
}

static void
emit(const Options *opts, const Status *s, int rc)
{
	if (opts->json)
	{
		json_t	   *doc = status_json(s, opts->slot);

		json_object_set_new(doc, "exit_code", json_integer(rc));
		json_dumpf(doc, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(doc);
	}
	else if (rc == OUTCOME_STATE)
		printf("no migration for slot %s on the target (never started); run 'pgcutover copy' first\n", opts->slot);
	else
		print_human(s, opts->slot, stdout);
	fflush(stdout);
}

/* --wait-lag: polls until the lag is small enough or the timeout passes. */
static int
wait_lag(const Options *opts, PGconn *src, PGconn *tgt)
{
	double		start = now_seconds();
	bool		told = false;

	for (;;)
	{
		Status		s;
		int			rc = status_read(src, tgt, opts->slot, &s);

		if (rc != OUTCOME_OK && rc != OUTCOME_STATE)
			return rc;
		if (rc == OUTCOME_OK && (strcmp(s.state, "slot_missing") == 0 || strcmp(s.state, "slot_lost") == 0))
		{
			/* the lag can never come down: say so now, not at --timeout */
			log_error("%s", json_string_value(json_array_get(s.warnings, 0)));
			emit(opts, &s, OUTCOME_STATE);
			status_free(&s);
			return OUTCOME_STATE;
		}
		if (rc == OUTCOME_OK && s.follower_alive && s.lag_seconds >= 0 && s.lag_seconds <= opts->wait_lag)
		{
			emit(opts, &s, OUTCOME_OK);
			status_free(&s);
			return OUTCOME_OK;
		}
		if (!s.follower_alive && !told)
		{
			log_warn("waiting for lag <= %g s, but no follower is running for slot %s", opts->wait_lag, opts->slot);
			told = true;
		}
		if (opts->timeout > 0 && now_seconds() - start >= opts->timeout)
		{
			log_error("lag still %s after %g s (wanted <= %g s); fix: check the follower, or wait longer with --timeout",
					  s.lag_seconds >= 0 ? "above the limit" : "unknown", opts->timeout, opts->wait_lag);
			emit(opts, &s, OUTCOME_TIMEOUT);
			status_free(&s);
			return OUTCOME_TIMEOUT;
		}
		status_free(&s);
		usleep(100 * 1000);
	}
}

int
cmd_status(Options *opts)
{
	char	   *err = NULL;
	PGconn	   *tgt;
	PGconn	   *src = NULL;
	int			rc;

	if (opts->target == NULL)
	{
		log_error("status reads the target's state; fix: pass --target (and --source for slot details)");
		return OUTCOME_USAGE;
	}
	if ((tgt = db_connect(opts->target, "target", CONN_NORMAL, &err)) == NULL)
	{
		log_error("%s", err);
		free(err);
		return OUTCOME_CONNECTION;
	}
	if (opts->source && (src = db_connect(opts->source, "source", CONN_NORMAL, &err)) == NULL)
	{
		log_warn("%s (showing the target's view only)", err);
		free(err);
	}
	if (opts->wait_lag >= 0)
		rc = wait_lag(opts, src, tgt);
	else
	{
		do
		{
			Status		s;

			rc = status_read(src, tgt, opts->slot, &s);
			if (opts->watch && isatty(STDOUT_FILENO))
				printf("\033[H\033[2J");
			emit(opts, &s, rc);
			status_free(&s);
			if (opts->watch)
				usleep((useconds_t) (opts->watch_interval * 1e6));
		} while (opts->watch && (rc == OUTCOME_OK || rc == OUTCOME_STATE));
	}
	PQfinish(src);
	PQfinish(tgt);
	return rc;
}
