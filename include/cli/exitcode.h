/*
 * exitcode.h
 *	  The process exit codes: part of the CLI contract (--help, the man page
 *	  and README.md are made from exit_code_docs; docs/errors.md).  Scripts depend on them: add new ones, never renumber.
 *	  Only src/cli/ uses them; engines report an Outcome (outcome.h).
 */
#ifndef PGCUTOVER_EXITCODE_H
#define PGCUTOVER_EXITCODE_H

#include "outcome.h"

typedef enum ExitCode
{
	EXIT_OK = 0,
	EXIT_INTERNAL = 1,			/* unexpected error, a bug or an OS failure */
	EXIT_USAGE = 2,				/* bad command line */
	EXIT_CONNECTION = 3,		/* could not connect to source or target */
	EXIT_PREFLIGHT = 4,			/* a prerequisite is missing (check FAIL) */
	EXIT_MISMATCH = 5,			/* verification found differences */
	/* 6 was "not implemented"; retired, never reused */
	EXIT_STATE = 7,				/* migration state forbids this (slot exists,
								 * resume impossible, nothing to resume) */
	EXIT_SCHEMA_DRIFT = 8,		/* source schema changed under the stream */
	EXIT_TIMEOUT = 9,			/* a --timeout expired */
	EXIT_INTERRUPTED = 10,		/* stopped by SIGINT/SIGTERM before done */
	EXIT_SQL = 11				/* a statement failed on source or target */
} ExitCode;

/* What each code means, for --help, the man page and README (ends at meaning NULL). */
typedef struct ExitCodeDoc
{
	int			code;
	const char *meaning;
} ExitCodeDoc;

const ExitCodeDoc *exit_code_docs(void);

/* The exit code an engine's outcome is reported with. */
ExitCode	exit_code_for(Outcome o);

#endif							/* PGCUTOVER_EXITCODE_H */
