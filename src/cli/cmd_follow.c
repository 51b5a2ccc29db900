/*
 * cmd_follow.c
 *	  `pgcutover follow`: runs the follow engine (src/follow/follow.c) and
 *	  reports: the exit code for its outcome and, with --json, a summary.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "cli.h"
#include "follow.h"
#include "json_output.h"
#include "log.h"

static void
print_json_summary(const Options *opts, Outcome outcome, ExitCode code, const FollowResult *r)
{
	char		lsn[LSN_FORMAT_LEN];
	json_t	   *doc = json_pack("{s:s}", "slot", opts->slot);

	if (r->applied_known)
	{
		json_object_set_new(doc, "applied_lsn", json_string(lsn_format(r->applied_lsn, lsn)));
		json_object_set_new(doc, "transactions", json_integer(r->transactions));
		json_object_set_new(doc, "rows", json_integer(r->rows));
		json_object_set_new(doc, "groups", json_integer(r->groups));
		json_object_set_new(doc, "ddl_replayed", json_integer(r->ddl_replayed));
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

int
cmd_follow(Options *opts)
{
	FollowResult result;
	Outcome		outcome = follow_run(opts, &result);
	ExitCode	code = exit_code_for(outcome);

	if (opts->json)
		print_json_summary(opts, outcome, code, &result);
	follow_result_free(&result);
	return code;
}
