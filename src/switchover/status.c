/*
 * status.c
 *	  What the migration of one slot is doing, read from the target's state
 *	  (the follower writes its live state there once a second and holds an
 *	  advisory lock while alive) and from the source's slot.  Works while
 *	  follow runs, after it died, and before anything started.  Also the
 *	  wait until the lag is small enough (status --wait-lag), the recent lag
 *	  history and whether (and when) the target catches up.  For `status`,
 *	  `switchover` and `migrate`; src/cli/cmd_status.c prints the readings.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cutover.h"
#include "log.h"
#include "outcome.h"
#include "pgconn.h"
#include "progress.h"
#include "state.h"
#include "incremental.h"
#include "status.h"
#include "verification.h"

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
	free(s->switched_over_at);
	json_decref(s->warnings);
	json_decref(s->verification);
	progress_free_lag_history(&s->history);
	json_decref(s->copy_progress);
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

/*
 * Reads the target's view: migration, applied position, follower.  False
 * on SQL error; true with found false when the migration row is gone.
 */
static bool
read_target(PGconn *tgt, const char *slot, Status *s, bool *found)
{
	CutoverProgress p;

	if (!cutover_read_progress(tgt, slot, &p))
		return false;
	*found = p.found;
	if (!p.found)
		goto done;
	snprintf(s->phase, sizeof(s->phase), "%s", p.phase);
	s->applied_lsn = p.applied_lsn ? pg_strdup(p.applied_lsn) : NULL;
	s->follower_pid = p.follower_pid;
	s->follower_alive = p.follower_alive;
	s->lag_seconds = p.lag_seconds;
	s->txn_per_sec = s->follower_alive ? p.txn_per_sec : 0;
	s->rows_per_sec = s->follower_alive ? p.rows_per_sec : 0;
	s->last_seen = p.last_seen ? pg_strdup(p.last_seen) : NULL;
	s->last_error = p.last_error ? pg_strdup(p.last_error) : NULL;
	s->behind_seconds = p.behind_seconds;
	s->lag_bytes = p.lag_bytes;
	s->source_lsn = p.source_lsn ? pg_strdup(p.source_lsn) : NULL;
	s->since_seen = p.since_seen;
	if (p.follower_phase)
		snprintf(s->state, sizeof(s->state), "%s", s->follower_alive ? "following" : p.follower_phase);
	else
		snprintf(s->state, sizeof(s->state), "%s", strncmp(s->phase, "copy_", 5) == 0 ? "copying" : "copied");
	if (!s->follower_alive && strcmp(s->state, "following") == 0)
		snprintf(s->state, sizeof(s->state), "stopped");	/* died without saying so */
done:
	cutover_progress_free(&p);
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
	s->source_known = true;
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
	if (strcmp(s->phase, "switched_over") == 0)
	{
		snprintf(s->state, sizeof(s->state), "switched_over");
		s->next_step = "the application runs on the target and the old source stays fenced; then 'pgcutover cleanup' drops the slot and this state";
		return;
	}
	if (!s->source_known)
	{
		/* unknown is not missing: nothing here may advise a re-copy */
		if (s->source_given)
		{
			snprintf(s->state, sizeof(s->state), "source_unreachable");
			warn(s, "the source did not answer: the slot's state is unknown (lag is the follower's last report); fix: check the source server and the network, then run status again");
		}
		if (!s->follower_alive && (strcmp(s->state, "stopped") == 0 || strcmp(s->state, "failed") == 0 || strcmp(s->state, "copied") == 0))
			warn(s, "no follower is running for slot %s; fix: start 'pgcutover follow'", slot);
		return;
	}
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

/*
 * The lag history of the last STATUS_HISTORY_SECONDS, and from its newest
 * CATCH_UP_WINDOW_SECONDS the catch-up estimate (catchup.h).  A history
 * that cannot be read leaves both empty: status goes on without them.
 */
static void
read_catch_up(PGconn *tgt, const char *slot, Status *s)
{
	CatchUpInput in;

	memset(&in, 0, sizeof(in));
	if (strcmp(s->phase, "switched_over") != 0)
		(void) progress_read_lag_history(tgt, slot, STATUS_HISTORY_SECONDS, &s->history);
	catch_up_rates(s->history.points, s->history.count, CATCH_UP_WINDOW_SECONDS, s->history.now, &in);
	/* a history that stopped (no live follower) says nothing about now */
	in.follower_alive = s->follower_alive;
	in.lag_bytes = s->lag_bytes;
	in.lag_seconds = s->lag_seconds;
	s->catch_up = catch_up_assess(&in);
}

Outcome
status_read(PGconn *src, PGconn *tgt, const char *slot, bool source_wanted, Status *s)
{
	MigrationState st;
	bool		found;

	memset(s, 0, sizeof(*s));
	s->warnings = json_array();
	s->lag_seconds = -1;
	s->catch_up.state = CATCH_UP_UNKNOWN;
	s->catch_up.eta_seconds = -1;
	s->catch_up.apply_bytes_per_sec = s->catch_up.source_wal_bytes_per_sec = -1;
	if (!state_load(tgt, slot, &st))
		return OUTCOME_SQL;
	if (!st.found)
	{
		char	   *fenced = src ? db_scalar(src, "SELECT pg_catalog.to_regnamespace('pgcutover_fence') IS NOT NULL") : NULL;

		/* the state is gone; a switched-over source says what happened */
		if (fenced && fenced[0] == 't')
		{
			snprintf(s->state, sizeof(s->state), "cleaned_up");
			s->next_step = "nothing: this migration was switched over and cleaned up; the old source keeps its write fence (schema pgcutover_fence)";
		}
		else
			snprintf(s->state, sizeof(s->state), "never_started");
		free(fenced);
		state_free(&st);
		return OUTCOME_STATE;
	}
	state_free(&st);
	if (!read_target(tgt, slot, s, &found))
		return OUTCOME_SQL;
	if (!found)
	{
		/* cleaned up since state_load looked */
		snprintf(s->state, sizeof(s->state), "never_started");
		return OUTCOME_STATE;
	}
	s->source_given = src != NULL || source_wanted;
	s->copy_progress = status_copy_read(tgt, slot);
	read_source(src, slot, s);
	if (strcmp(s->phase, "switched_over") == 0)
	{
		CutoverRecord rec;

		if (cutover_read_record(tgt, slot, &rec) && rec.switched_over_at)
			s->switched_over_at = pg_strdup(rec.switched_over_at);
		cutover_record_free(&rec);
	}
	add_warnings(s, slot);
	if (strcmp(s->phase, "switched_over") != 0)
	{
		IncrementalInfo incr;

		s->verification = verification_latest_json(tgt, slot);
		s->switchover_verify = incremental_prepare(tgt, slot, &incr) && incr.available ? "incremental" : "full";
		incremental_free(&incr);
	}
	/*
	 * A live follower's lag is a second old at most.  Without one: caught up
	 * if no byte is missing, else at least its last lag plus the time since
	 * it was last seen.
	 */
	if (!s->follower_alive && s->lag_bytes == 0 && s->slot_exists)
		s->lag_seconds = 0;
	else if (!s->follower_alive && s->since_seen >= 0)
		s->lag_seconds = (s->lag_seconds > 0 ? s->lag_seconds : 0) + s->since_seen;
	read_catch_up(tgt, slot, s);
	return OUTCOME_OK;
}

Outcome
status_wait_lag(PGconn *src, PGconn *tgt, const char *slot, bool source_wanted,
				double max_lag, double timeout, Status *last)
{
	double		start = now_seconds();
	bool		told = false;

	for (;;)
	{
		Outcome		rc = status_read(src, tgt, slot, source_wanted, last);

		if (rc != OUTCOME_OK && rc != OUTCOME_STATE)
		{
			status_free(last);
			return rc;
		}
		if (rc == OUTCOME_OK && (strcmp(last->state, "slot_missing") == 0 || strcmp(last->state, "slot_lost") == 0))
		{
			/* the lag can never come down: say so now, not at --timeout */
			log_error("%s", json_string_value(json_array_get(last->warnings, 0)));
			return OUTCOME_STATE;
		}
		if (rc == OUTCOME_OK && last->follower_alive && last->lag_seconds >= 0 && last->lag_seconds <= max_lag)
			return OUTCOME_OK;
		if (!last->follower_alive && !told)
		{
			log_warn("waiting for lag <= %g s, but no follower is running for slot %s", max_lag, slot);
			told = true;
		}
		if (timeout > 0 && now_seconds() - start >= timeout)
		{
			log_error("lag still %s after %g s (wanted <= %g s); fix: check the follower, or wait longer with --timeout",
					  last->lag_seconds >= 0 ? "above the limit" : "unknown", timeout, max_lag);
			return OUTCOME_TIMEOUT;
		}
		status_free(last);
		usleep(100 * 1000);
	}
}
