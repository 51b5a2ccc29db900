/*
 * outcome.h
 *	  What an engine (copy, follow, switchover, verify, ...) reports back to
 *	  the command line: done, or which kind of failure.  Engines never choose
 *	  exit codes; src/cli/exitcode.c maps each outcome to the documented exit
 *	  code, which is part of the CLI contract.  The values happen to equal
 *	  those exit codes; do not rely on it outside exitcode.c.
 */
#ifndef PGCUTOVER_OUTCOME_H
#define PGCUTOVER_OUTCOME_H

typedef enum Outcome
{
	OUTCOME_OK = 0,
	OUTCOME_BUG = 1,			/* unexpected: a bug or an OS failure */
	OUTCOME_USAGE = 2,			/* the options asked for something impossible */
	OUTCOME_CONNECTION = 3,		/* could not connect to source or target */
	OUTCOME_PREFLIGHT = 4,		/* a prerequisite is missing */
	OUTCOME_MISMATCH = 5,		/* verification found differences */
	OUTCOME_STATE = 7,			/* the migration's state forbids this */
	OUTCOME_DRIFT = 8,			/* the source schema changed under the stream */
	OUTCOME_TIMEOUT = 9,		/* a deadline passed */
	OUTCOME_INTERRUPTED = 10,	/* SIGINT/SIGTERM before done */
	OUTCOME_SQL = 11			/* a statement failed on source or target */
} Outcome;

#endif							/* PGCUTOVER_OUTCOME_H */
