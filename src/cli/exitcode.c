/*
 * exitcode.c
 *	  Outcome -> exit code: the one place that numbers what went wrong.
 */
#include "exitcode.h"

ExitCode
exit_code_for(Outcome o)
{
	switch (o)
	{
		case OUTCOME_OK:
			return EXIT_OK;
		case OUTCOME_BUG:
			return EXIT_INTERNAL;
		case OUTCOME_USAGE:
			return EXIT_USAGE;
		case OUTCOME_CONNECTION:
			return EXIT_CONNECTION;
		case OUTCOME_PREFLIGHT:
			return EXIT_PREFLIGHT;
		case OUTCOME_MISMATCH:
			return EXIT_MISMATCH;
		case OUTCOME_STATE:
			return EXIT_STATE;
		case OUTCOME_DRIFT:
			return EXIT_SCHEMA_DRIFT;
		case OUTCOME_TIMEOUT:
			return EXIT_TIMEOUT;
		case OUTCOME_INTERRUPTED:
			return EXIT_INTERRUPTED;
		case OUTCOME_SQL:
			return EXIT_SQL;
	}
	return EXIT_INTERNAL;
}
