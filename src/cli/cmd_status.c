/*
 * cmd_status.c
 *	  `pgcutover status`: prints what the migration of one slot is doing
 *	  (src/switchover/status.c reads it), once, again every --watch-interval
 *	  with --watch, or once the lag is small enough with --wait-lag.  Human
 *	  lines in human units (with the catch-up estimate and the lag history as
 *	  a sparkline; --watch adds a clock header), or one JSON document per
 *	  reading with --json.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "json_output.h"
#include "log.h"
#include "pgconn.h"
#include "sparkline.h"
#include "status.h"
#include "units.h"

#define SPARKLINE_WIDTH 60			/* bars of lag history */

/*
 * The lag history in at most SPARKLINE_WIDTH steps (the largest lag of
 * each step), oldest first; null without history.
 */
static json_t *
lag_history_json(const Status *s)
{
	const LagHistory *h = &s->history;
	double		secs[STATUS_HISTORY_SECONDS];
	double		bytes[STATUS_HISTORY_SECONDS];
	double		step_secs[SPARKLINE_WIDTH];
	double		step_bytes[SPARKLINE_WIDTH];
	size_t		n = h->count < STATUS_HISTORY_SECONDS ? h->count : STATUS_HISTORY_SECONDS;
	size_t		skip = h->count - n;
	size_t		steps;
	char		from[40],
				to[40];
	json_t	   *o;
	json_t	   *ls = json_array();
	json_t	   *lb = json_array();

	if (h->count == 0)
	{
		json_decref(ls);
		json_decref(lb);
		return json_null();
	}
	for (size_t i = 0; i < n; i++)
	{
		secs[i] = h->points[skip + i].lag_seconds;
		bytes[i] = (double) h->points[skip + i].lag_bytes;
	}
	steps = sparkline_buckets(secs, n, SPARKLINE_WIDTH, step_secs);
	(void) sparkline_buckets(bytes, n, SPARKLINE_WIDTH, step_bytes);
	for (size_t i = 0; i < steps; i++)
	{
		json_array_append_new(ls, step_secs[i] >= 0 ? json_real(step_secs[i]) : json_null());
		json_array_append_new(lb, json_integer((json_int_t) step_bytes[i]));
	}
	o = json_pack("{s:s, s:s, s:i, s:f}",
				  "from", format_rfc3339(h->points[skip].at, from, sizeof(from)),
				  "to", format_rfc3339(h->points[h->count - 1].at, to, sizeof(to)),
				  "samples", (int) n,
				  "step_seconds", steps > 0 ? (h->points[h->count - 1].at - h->points[skip].at) / (double) steps : 0.0);
	json_object_set_new(o, "lag_seconds", ls);
	json_object_set_new(o, "lag_bytes", lb);
	return o;
}

static json_t *
catch_up_json(const CatchUp *c)
{
	json_t	   *o = json_pack("{s:s}", "state", catch_up_state_name(c->state));

	json_object_set_new(o, "eta_seconds", c->eta_seconds >= 0 ? json_real(c->eta_seconds) : json_null());
	json_object_set_new(o, "apply_bytes_per_sec", c->apply_bytes_per_sec >= 0 ? json_real(c->apply_bytes_per_sec) : json_null());
	json_object_set_new(o, "source_wal_bytes_per_sec", c->source_wal_bytes_per_sec >= 0
						? json_real(c->source_wal_bytes_per_sec) : json_null());
	json_object_set_new(o, "window_seconds", json_real(c->window_seconds));
	return o;
}

static json_t *
status_json(const Status *s, const char *slot)
{
	json_t	   *doc = json_pack("{s:s, s:s}", "state", s->state, "slot", slot);

	json_object_set_new(doc, "phase", json_string(s->phase));
	json_object_set_new(doc, "source_lsn", s->source_lsn ? json_string(s->source_lsn) : json_null());
	json_object_set_new(doc, "applied_lsn", s->applied_lsn ? json_string(s->applied_lsn) : json_null());
	json_object_set_new(doc, "lag_bytes", json_integer(s->lag_bytes));
	json_object_set_new(doc, "lag_seconds", s->lag_seconds >= 0 ? json_real(s->lag_seconds) : json_null());
	json_object_set_new(doc, "txn_per_sec", json_real(s->txn_per_sec));
	json_object_set_new(doc, "rows_per_sec", json_real(s->rows_per_sec));
	json_object_set_new(doc, "follower_pid", s->follower_pid ? json_integer(s->follower_pid) : json_null());
	json_object_set_new(doc, "follower_alive", json_boolean(s->follower_alive));
	json_object_set_new(doc, "follower_last_seen", json_timestamp_from_pg(s->last_seen));
	/* unknown stays unknown: null, never false */
	json_object_set_new(doc, "slot_exists", s->source_known ? json_boolean(s->slot_exists) : json_null());
	json_object_set_new(doc, "slot_active", s->source_known ? json_boolean(s->slot_active) : json_null());
	json_object_set_new(doc, "source_reachable", s->source_known ? json_true()
						: s->source_given ? json_false() : json_null());
	json_object_set_new(doc, "switched_over_at", json_timestamp_from_pg(s->switched_over_at));
	json_object_set_new(doc, "next_step", s->next_step ? json_string(s->next_step) : json_null());
	json_object_set_new(doc, "online_verification", s->verification ? json_incref(s->verification) : json_null());
	json_object_set_new(doc, "copy_progress", s->copy_progress ? json_incref(s->copy_progress) : json_null());
	json_object_set_new(doc, "switchover_verify", s->switchover_verify ? json_string(s->switchover_verify) : json_null());
	json_object_set_new(doc, "slot_retained_wal_bytes", json_integer(s->retained));
	json_object_set_new(doc, "wal_status", s->wal_status ? json_string(s->wal_status) : json_null());
	json_object_set_new(doc, "last_error", s->last_error ? json_string(s->last_error) : json_null());
	json_object_set_new(doc, "catch_up", catch_up_json(&s->catch_up));
	json_object_set_new(doc, "lag_history", lag_history_json(s));
	json_object_set_new(doc, "warnings", json_incref(s->warnings));
	return doc;
}

/* The catch-up estimate as one line: what, when, from which rates. */
static void
print_catch_up(const CatchUp *c, FILE *out)
{
	char		eta[32],
				apply[32],
				source[32],
				window[32];

	fprintf(out, "catch-up        ");
	switch (c->state)
	{
		case CATCH_UP_CAUGHT_UP:
			fprintf(out, "caught up");
			break;
		case CATCH_UP_CATCHING_UP:
			fprintf(out, "catching up, caught up in about %s", format_duration(c->eta_seconds, eta, sizeof(eta)));
			break;
		case CATCH_UP_FALLING_BEHIND:
			fprintf(out, "FALLING BEHIND: the source writes WAL at least as fast as the target applies it, it will not catch up at this rate");
			break;
		case CATCH_UP_UNKNOWN:
			fprintf(out, "unknown (needs a running follower and %.0f s of recent lag history)", CATCH_UP_MIN_WINDOW);
			break;
	}
	if (c->apply_bytes_per_sec >= 0 && c->state != CATCH_UP_CAUGHT_UP)
		fprintf(out, " (applies %s, source writes %s, over the last %s)",
				format_rate(c->apply_bytes_per_sec, apply, sizeof(apply)),
				c->source_wal_bytes_per_sec >= 0 ? format_rate(c->source_wal_bytes_per_sec, source, sizeof(source)) : "?",
				format_duration(c->window_seconds, window, sizeof(window)));
	fputc('\n', out);
}

/* The lag history as bars (seconds, or bytes when seconds are unknown). */
static void
print_lag_history(const LagHistory *h, FILE *out)
{
	double		values[STATUS_HISTORY_SECONDS];
	char		bars[SPARKLINE_WIDTH * 4 + 1];
	char		span[32],
				max[32];
	size_t		n = h->count < STATUS_HISTORY_SECONDS ? h->count : STATUS_HISTORY_SECONDS;
	size_t		skip = h->count - n;
	bool		seconds = true;
	double		top = 0;
	bool		utf8 = sparkline_locale_is_utf8(getenv("LC_ALL"), getenv("LC_CTYPE"), getenv("LANG"));

	if (n == 0)
	{
		fprintf(out, "lag history     none yet (a follower records a point a second)\n");
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (h->points[skip + i].lag_seconds < 0)
			seconds = false;
	for (size_t i = 0; i < n; i++)
	{
		values[i] = seconds ? h->points[skip + i].lag_seconds : (double) h->points[skip + i].lag_bytes;
		if (values[i] > top)
			top = values[i];
	}
	fprintf(out, "lag history     %s  last %s, max %s\n",
			sparkline_render(values, n, SPARKLINE_WIDTH, utf8, bars, sizeof(bars)),
			format_duration(h->points[h->count - 1].at - h->points[skip].at, span, sizeof(span)),
			seconds ? format_duration(top, max, sizeof(max)) : format_bytes((int64_t) top, max, sizeof(max)));
}

static void
print_human(const Status *s, const char *slot, FILE *out)
{
	char		lag[32],
				bytes[32],
				retained[32];

	if (s->lag_seconds >= 0)
		format_duration(s->lag_seconds, lag, sizeof(lag));
	else
		snprintf(lag, sizeof(lag), "unknown");
	fprintf(out, "slot            %s\nstate           %s (phase %s)\n", slot, s->state, s->phase);
	fprintf(out, "follower        %s", s->follower_alive ? "running" : "not running");
	if (s->follower_pid)
		fprintf(out, ", pid %d, last seen %s", s->follower_pid, s->last_seen ? s->last_seen : "?");
	fprintf(out, "\nsource lsn      %s\napplied lsn     %s\n", s->source_lsn ? s->source_lsn : "?",
			s->applied_lsn ? s->applied_lsn : "-");
	fprintf(out, "lag             %s, %s\nrate            %.0f txn/s, %.0f rows/s\n",
			format_bytes(s->lag_bytes, bytes, sizeof(bytes)), lag, s->txn_per_sec, s->rows_per_sec);
	if (strcmp(s->phase, "switched_over") != 0)
	{
		print_catch_up(&s->catch_up, out);
		print_lag_history(&s->history, out);
	}
	if (s->source_known)
		fprintf(out, "slot on source  %s, %s, retains %s of WAL\n",
				s->slot_exists ? (s->slot_active ? "active" : "inactive") : "MISSING",
				s->wal_status ? s->wal_status : "-", format_bytes(s->retained, retained, sizeof(retained)));
	else
		fprintf(out, "slot on source  unknown (%s)\n", s->source_given ? "the source did not answer" : "no --source given");
	if (s->copy_progress)
		status_copy_print(s->copy_progress, out);
	if (s->verification)
	{
		json_t	   *v = s->verification;
		const char *state = json_string_value(json_object_get(v, "state"));
		bool		done = state && strcmp(state, "done") == 0;

		fprintf(out, "online verify   #%lld at %s: %s", (long long) json_integer_value(json_object_get(v, "id")),
				json_string_value(json_object_get(v, "lsn")) ? json_string_value(json_object_get(v, "lsn")) : "-",
				!done ? (state ? state : "?") : json_is_true(json_object_get(v, "ok")) ? "equal" : "DIFFERENT");
		if (done)
			fprintf(out, " (%lld rows, %.0f s ago)", (long long) json_integer_value(json_object_get(v, "rows_compared")),
					json_number_value(json_object_get(v, "seconds_ago")));
		fputc('\n', out);
	}
	if (s->switchover_verify)
		fprintf(out, "switchover      would verify %s\n", strcmp(s->switchover_verify, "incremental") == 0
				? "incremental (what changed since the online verification)"
				: "full (every row: run 'pgcutover verify --online' first for an incremental one)");
	if (s->switched_over_at)
		fprintf(out, "switched over   %s\n", s->switched_over_at);
	if (s->next_step)
		fprintf(out, "next            %s\n", s->next_step);
	if (s->last_error)
		fprintf(out, "last error      %s\n", s->last_error);
	for (size_t i = 0; i < json_array_size(s->warnings); i++)
		fprintf(out, "WARNING         %s\n", json_string_value(json_array_get(s->warnings, i)));
}

/* Prints one reading, taken with the given outcome. */
static void
print_reading(const Options *opts, const Status *s, Outcome outcome)
{
	if (opts->json)				/* --watch: one compact line per reading (NDJSON) */
		json_output_print(status_json(s, opts->slot), "status", exit_code_for(outcome),
						  opts->watch ? JSON_LINE : JSON_DOCUMENT);
	else if (outcome == OUTCOME_STATE && s->next_step)
		printf("no migration state for slot %s on the target: %s\n", opts->slot, s->next_step);
	else if (outcome == OUTCOME_STATE)
		printf("no migration for slot %s on the target: never started there, or cleaned up after its switchover; to start one, run 'pgcutover copy' into an empty target\n",
			   opts->slot);
	else
		print_human(s, opts->slot, stdout);
	fflush(stdout);
}

/* --wait-lag: the engine waits, the last reading is printed. */
static Outcome
wait_lag(const Options *opts, PGconn *src, PGconn *tgt)
{
	Status		last;
	Outcome		outcome = status_wait_lag(src, tgt, opts->slot, opts->source != NULL, opts->wait_lag,
										  opts->timeout, &last);

	if (outcome == OUTCOME_OK || outcome == OUTCOME_STATE || outcome == OUTCOME_TIMEOUT)
		print_reading(opts, &last, outcome);
	status_free(&last);
	return outcome;
}

/* --watch: the time of the reading, the slot and its state, above it. */
static void
print_clock_header(const Options *opts, const Status *s, Outcome outcome)
{
	time_t		now = time(NULL);
	struct tm	tm;
	char		clock[64];
	char		every[32];

	strftime(clock, sizeof(clock), "%Y-%m-%d %H:%M:%S %Z", localtime_r(&now, &tm));
	printf("%s  slot %s  %s  (every %s; Ctrl-C to stop)\n\n", clock, opts->slot,
		   outcome == OUTCOME_OK || outcome == OUTCOME_STATE ? s->state : "unreadable",
		   format_duration(opts->watch_interval, every, sizeof(every)));
}

/* One reading, or with --watch one every --watch-interval until a failure. */
static Outcome
read_and_print(const Options *opts, PGconn *src, PGconn *tgt)
{
	Outcome		outcome;

	do
	{
		Status		s;

		outcome = status_read(src, tgt, opts->slot, opts->source != NULL, &s);
		if (opts->watch && !opts->json && isatty(STDOUT_FILENO))
			printf("\033[H\033[2J");
		if (opts->watch && !opts->json)
			print_clock_header(opts, &s, outcome);
		print_reading(opts, &s, outcome);
		status_free(&s);
		if (opts->watch)
			usleep((useconds_t) (opts->watch_interval * 1e6));
	} while (opts->watch && (outcome == OUTCOME_OK || outcome == OUTCOME_STATE));
	return outcome;
}

int
cmd_status(Options *opts)
{
	char	   *err = NULL;
	PGconn	   *tgt;
	PGconn	   *src = NULL;
	Outcome		outcome;

	if (opts->target == NULL)
	{
		log_error("status reads the target's state; fix: pass --target (and --source for slot details)");
		return exit_code_for(OUTCOME_USAGE);
	}
	if ((tgt = db_connect(opts->target, "target", CONN_NORMAL, &err)) == NULL)
	{
		log_error("%s", err);
		free(err);
		return exit_code_for(OUTCOME_CONNECTION);
	}
	if (opts->source && (src = db_connect(opts->source, "source", CONN_NORMAL, &err)) == NULL)
	{
		log_warn("%s (showing the target's view only)", err);
		free(err);
	}
	if (opts->wait_lag >= 0)
		outcome = wait_lag(opts, src, tgt);
	else
		outcome = read_and_print(opts, src, tgt);
	PQfinish(src);
	PQfinish(tgt);
	return exit_code_for(outcome);
}
