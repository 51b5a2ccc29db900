/*
 * cmd_follow.c
 *	  `pgcutover follow`: runs the follow engine (src/follow/follow.c) and
 *	  reports: the exit code for its outcome and, with --json, a summary.
 *	  With --dry-run it reads the migration's state and the slot (status's
 *	  reading, which changes nothing) and says what follow would do, or why
 *	  it would refuse, with the exit code follow would have.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "follow.h"
#include "json_output.h"
#include "log.h"
#include "pgconn.h"
#include "status.h"

static void
print_json_summary(const Options *opts, Outcome outcome, ExitCode code, const FollowResult *r)
{
	char		lsn[LSN_FORMAT_LEN];
	json_t	   *doc = json_pack("{s:s, s:b}", "slot", opts->slot, "dry_run", opts->dry_run);

	if (r->applied_known)
	{
		json_object_set_new(doc, "applied_lsn", json_string(lsn_format(r->applied_lsn, lsn)));
		json_object_set_new(doc, "transactions", json_integer(r->transactions));
		json_object_set_new(doc, "rows", json_integer(r->rows));
		json_object_set_new(doc, "groups", json_integer(r->groups));
		json_object_set_new(doc, "ddl_replayed", json_integer(r->ddl_replayed));
		json_object_set_new(doc, "apply_jobs", json_integer(r->apply_jobs));
		json_object_set_new(doc, "apply_conflicts", json_integer(r->apply_conflicts));
		json_object_set_new(doc, "seconds", json_real(r->seconds));
	}
	if (outcome == OUTCOME_OK)
		json_object_set_new(doc, "error", json_null());
	else
	{
		/* the engine's own error, or else the one it logged last */
		char	   *logged = r->error ? NULL : log_last_error();

		json_object_set_new(doc, "error", r->error || logged ? json_error_object(r->error ? r->error : logged)
							: json_null());
		free(logged);
	}
	json_output_print(doc, "follow", code, JSON_DOCUMENT);
}

/* What follow would do now: nothing is streamed, the slot does not move. */
static Outcome
follow_dry_run(const Options *opts, FollowResult *result)
{
	char	   *err = NULL;
	PGconn	   *tgt = NULL;
	PGconn	   *src = NULL;
	Status		s;
	Outcome		outcome;

	memset(result, 0, sizeof(*result));
	memset(&s, 0, sizeof(s));
	if (opts->source == NULL || opts->target == NULL)
	{
		log_error("follow needs both databases; fix: pass --source and --target (or set PGCUTOVER_SOURCE/PGCUTOVER_TARGET)");
		return OUTCOME_USAGE;
	}
	if ((tgt = db_connect(opts->target, "target", CONN_NORMAL, &err)) == NULL ||
		(src = db_connect(opts->source, "source", CONN_NORMAL, &err)) == NULL)
	{
		log_error("%s", err);
		outcome = OUTCOME_CONNECTION;
		goto done;
	}
	outcome = status_read(src, tgt, opts->slot, true, &s);
	if (outcome == OUTCOME_STATE || strcmp(s.state, "never_started") == 0 || strcmp(s.state, "copying") == 0)
	{
		log_error("dry run: follow would refuse: no completed copy for slot %s on the target%s; fix: run 'pgcutover copy' first (or pass the right --slot)",
				  opts->slot, strcmp(s.state, "copying") == 0 ? " (the copy is not finished)" : "");
		outcome = OUTCOME_STATE;
	}
	else if (outcome != OUTCOME_OK)
		;						/* status_read said why */
	else if (strcmp(s.state, "switched_over") == 0)
	{
		log_error("dry run: follow would refuse: the migration of slot %s was already switched over; fix: nothing to follow (run 'pgcutover cleanup' when done)",
				  opts->slot);
		outcome = OUTCOME_STATE;
	}
	else if (s.follower_alive)
	{
		log_error("dry run: follow would refuse: another pgcutover follow (pid %d) is already running for slot %s; fix: stop it first (only one follower per slot)",
				  s.follower_pid, opts->slot);
		outcome = OUTCOME_STATE;
	}
	else if (!s.source_known)
	{
		log_error("dry run: the source did not answer, so the slot's state is unknown; fix: check that the source is up and reachable, then rerun");
		outcome = OUTCOME_CONNECTION;
	}
	else if (!s.slot_exists || strcmp(s.state, "slot_lost") == 0)
	{
		log_error("dry run: follow would fail: slot %s is %s (state %s); fix: see 'pgcutover status'",
				  opts->slot, s.slot_exists ? "invalidated (its WAL is gone)" : "not on the source", s.state);
		outcome = OUTCOME_STATE;
	}
	else
	{
		char		lag[32];

		fprintf(opts->json ? stderr : stdout, "dry run: follow would stream slot %s from the target's applied position %s (the source is at %s, %s behind) and apply every later change to the target%s; nothing was streamed or written\n",
			   opts->slot, s.applied_lsn ? s.applied_lsn : "(none yet: the copy's snapshot)",
			   s.source_lsn ? s.source_lsn : "?", format_bytes(s.lag_bytes, lag, sizeof(lag)),
			   opts->until_caught_up ? ", then exit once everything committed on the source at start is applied"
			   : opts->endpos ? ", then stop at --endpos" : ", until SIGINT/SIGTERM");
	}
done:
	if (err)
		free(err);
	status_free(&s);
	PQfinish(src);
	PQfinish(tgt);
	return outcome;
}

int
cmd_follow(Options *opts)
{
	FollowResult result;
	Outcome		outcome = opts->dry_run ? follow_dry_run(opts, &result) : follow_run(opts, &result);
	ExitCode	code = exit_code_for(outcome);

	if (opts->json)
		print_json_summary(opts, outcome, code, &result);
	follow_result_free(&result);
	return code;
}
