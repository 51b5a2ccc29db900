/*
 * cmd_switchover.c
 *	  `pgcutover switchover`: runs the switchover engine
 *	  (src/switchover/switchover.c) and prints its report, as one JSON
 *	  document with --json or as human lines.
 */
#include <stdio.h>

#include <jansson.h>

#include "cli.h"
#include "switchover.h"

int
cmd_switchover(Options *opts)
{
	SwitchoverResult result;
	Outcome		outcome = switchover_run(opts, &result);
	ExitCode	code = exit_code_for(outcome);

	if (opts->json)
	{
		json_t	   *report = switchover_report_json(&result, code);

		if (report)
		{
			json_dumpf(report, stdout, JSON_INDENT(2));
			fputc('\n', stdout);
		}
		json_decref(report);
	}
	else
		switchover_report_print(&result, stdout);
	switchover_result_free(&result);
	return code;
}
