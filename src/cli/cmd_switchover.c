/*
 * cmd_switchover.c
 *	  `pgcutover switchover`: runs the switchover engine
 *	  (src/switchover/switchover.c) and prints its report, as one JSON
 *	  document with --json or as human lines.
 */
#include <stdio.h>

#include <jansson.h>

#include "cli.h"
#include "json_output.h"
#include "switchover.h"

int
cmd_switchover(Options *opts)
{
	SwitchoverResult result;
	Outcome		outcome = switchover_run(opts, &result);
	ExitCode	code = exit_code_for(outcome);

	if (opts->json)
	{
		json_t	   *report = switchover_report_json(&result);

		/* not connected: main prints the failure document */
		if (report)
			json_output_print(report, "switchover", code, JSON_DOCUMENT);
	}
	else
		switchover_report_print(&result, stdout);
	switchover_result_free(&result);
	return code;
}
