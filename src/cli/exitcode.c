/*
 * exitcode.c
 *	  Outcome -> exit code: the one place that numbers what went wrong, and
 *	  says what each number means.
 */
#include <stddef.h>

#include "exitcode.h"

static const ExitCodeDoc docs[] = {
	{EXIT_OK, "success"},
	{EXIT_INTERNAL, "internal error"},
	{EXIT_USAGE, "usage error (bad option or value)"},
	{EXIT_CONNECTION, "connection failure (also a password that was needed and not given)"},
	{EXIT_PREFLIGHT, "preflight check failed"},
	{EXIT_MISMATCH, "verification mismatch (or a row that diverged during follow)"},
	{EXIT_STATE, "migration state forbids this (slot exists, resume impossible, nothing to resume, a second follower)"},
	{EXIT_SCHEMA_DRIFT, "the source schema changed under the stream"},
	{EXIT_TIMEOUT, "timeout"},
	{EXIT_INTERRUPTED, "interrupted (SIGINT/SIGTERM)"},
	{EXIT_SQL, "a statement failed on source or target"},
	{0, NULL}
};

const ExitCodeDoc *
exit_code_docs(void)
{
	return docs;
}

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
