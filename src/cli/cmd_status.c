/*
 * cmd_status.c
 *	  `pgcutover status`: prints what the migration of one slot is doing
 *	  (src/switchover/status.c reads it), once, again every --watch-interval
 *	  with --watch, or once the lag is small enough with --wait-lag.  Human
 *	  lines, or one JSON document per reading with --json.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "log.h"
#include "pgconn.h"
#include "status.h"

static json_t *
status_json(const Status *s, const char *slot, ExitCode code)
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
	/* unknown stays unknown: null, never false */
	json_object_set_new(doc, "slot_exists", s->source_known ? json_boolean(s->slot_exists) : json_null());
	json_object_set_new(doc, "slot_active", s->source_known ? json_boolean(s->slot_active) : json_null());
	json_object_set_new(doc, "source_reachable", s->source_known ? json_true()
						: s->source_given ? json_false() : json_null());
	json_object_set_new(doc, "switched_over_at", s->switched_over_at ? json_string(s->switched_over_at) : json_null());
	json_object_set_new(doc, "next_step", s->next_step ? json_string(s->next_step) : json_null());
	json_object_set_new(doc, "online_verification", s->verification ? json_incref(s->verification) : json_null());
	json_object_set_new(doc, "copy_progress", s->copy_progress ? json_incref(s->copy_progress) : json_null());
	json_object_set_new(doc, "switchover_verify", s->switchover_verify ? json_string(s->switchover_verify) : json_null());
	json_object_set_new(doc, "slot_retained_wal_bytes", json_integer(s->retained));
	json_object_set_new(doc, "wal_status", s->wal_status ? json_string(s->wal_status) : json_null());
	json_object_set_new(doc, "last_error", s->last_error ? json_string(s->last_error) : json_null());
	json_object_set_new(doc, "warnings", json_incref(s->warnings));
	json_object_set_new(doc, "exit_code", json_integer(code));
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
	if (s->source_known)
		fprintf(out, "slot on source  %s, %s, retains %lld kB of WAL\n",
				s->slot_exists ? (s->slot_active ? "active" : "inactive") : "MISSING",
				s->wal_status ? s->wal_status : "-", (long long) (s->retained / 1024));
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
	if (opts->json)
	{
		json_t	   *doc = status_json(s, opts->slot, exit_code_for(outcome));

		json_dumpf(doc, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(doc);
	}
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

/* One reading, or with --watch one every --watch-interval until a failure. */
static Outcome
read_and_print(const Options *opts, PGconn *src, PGconn *tgt)
{
	Outcome		outcome;

	do
	{
		Status		s;

		outcome = status_read(src, tgt, opts->slot, opts->source != NULL, &s);
		if (opts->watch && isatty(STDOUT_FILENO))
			printf("\033[H\033[2J");
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
