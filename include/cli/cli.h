/*
 * cli.h
 *	  The command line: `pgcutover [options] COMMAND [options]`.
 *	  Parsing is pure (argv in, Options out) so it can be unit-tested.
 */
#ifndef PGCUTOVER_CLI_H
#define PGCUTOVER_CLI_H

#include <stdio.h>

#include "exitcode.h"
#include "options.h"

typedef int (*CommandFn) (Options *opts);

struct CliTerm;

typedef struct Command
{
	const char *name;
	const char *summary;
	CommandFn	run;
	const char *usage;			/* what it does, for --help and the man page */
	const char *words;			/* its words besides options ("install|remove|status"), or NULL */
	const struct CliTerm *terms;	/* words its output uses (status states), or NULL */
} Command;

typedef enum CliResult
{
	CLI_RUN,					/* run opts->command */
	CLI_EXIT_OK,				/* --help or --version was printed */
	CLI_EXIT_USAGE				/* error already printed */
} CliResult;

/*
 * Parses argv into opts, PGCUTOVER_SOURCE/_TARGET from the environment.
 * --help, --version and the hidden --generate=man|bash-completion write to
 * out; errors are one line on err.
 */
CliResult	cli_parse(int argc, char **argv, Options *opts, FILE *out, FILE *err);

const Command *cli_find_command(const char *name);
void		cli_print_help(FILE *out, const Command *cmd);
void		options_free(Options *opts);

/* Command entry points (src/cmd_*.c) */
int			cmd_check(Options *opts);
int			cmd_copy(Options *opts);
int			cmd_follow(Options *opts);
int			cmd_status(Options *opts);
int			cmd_verify(Options *opts);
int			cmd_cleanup(Options *opts);
int			cmd_switchover(Options *opts);
int			cmd_migrate(Options *opts);
int			cmd_ddl_capture(Options *opts);

#endif
