/*
 * cli_table.h
 *	  The shape of the command-line contract (private to src/cli): the
 *	  command table and the option table in cli.c are the one source that
 *	  the parser, --help, the man page and the bash completion (clidoc.c)
 *	  are all made from, so none of them can list what the others do not.
 */
#ifndef PGCUTOVER_CLI_TABLE_H
#define PGCUTOVER_CLI_TABLE_H

#include <stdbool.h>

#include "cli.h"

/* Bit of each command in OptSpec.commands, in the order of the command table. */
enum
{
	C_CHECK = 1 << 0,
	C_COPY = 1 << 1,
	C_FOLLOW = 1 << 2,
	C_STATUS = 1 << 3,
	C_SWITCHOVER = 1 << 4,
	C_VERIFY = 1 << 5,
	C_CLEANUP = 1 << 6,
	C_MIGRATE = 1 << 7,
	C_DDL_CAPTURE = 1 << 8,
	C_ALL = 0x1ff
};

typedef enum ArgKind
{
	ARG_NONE,
	ARG_REQUIRED,
	ARG_OPTIONAL				/* --opt, --opt=VALUE, or --opt VALUE when
								 * VALUE parses as the option's kind */
} ArgKind;

/* What an option's value is: how it is checked and completed. */
typedef enum ValueKind
{
	VAL_TEXT,					/* anything; completion offers nothing */
	VAL_FILE,					/* a path; completion offers files */
	VAL_DIR,					/* a directory; completion offers directories */
	VAL_INT,					/* an integer from min to max */
	VAL_DURATION,				/* GUC units (500ms, 5min, 2h); bare: seconds */
	VAL_SIZE,					/* 64MB, 1GB */
	VAL_MODE					/* one word of arg, "a|b|c" */
} ValueKind;

/* What an option means for some of its commands, when that differs. */
typedef struct OptMeaning
{
	int			code;			/* the option's O_*; 0 ends the table */
	unsigned	commands;		/* C_* bits it means this for */
	const char *help;			/* one line for --help */
	const char *more;			/* added in the man page, or NULL */
} OptMeaning;

typedef struct OptSpec
{
	const char *name;			/* long name, without -- */
	char		short_name;		/* -x, or 0 */
	int			code;			/* O_* */
	unsigned	commands;		/* C_* bits where the option is accepted; 0:
								 * hidden (--generate) */
	ArgKind		has_arg;
	ValueKind	kind;
	const char *arg;			/* placeholder (N, DSN, DURATION) or the
								 * modes "a|b" */
	double		min;			/* VAL_INT, VAL_DURATION: accepted range */
	double		max;
	const char *help;			/* one line for --help */
	const char *more;			/* added in the man page, or NULL */
} OptSpec;

/* A documented word and what it means: status states. */
typedef struct CliTerm
{
	const char *word;
	const char *meaning;
} CliTerm;

/* The tables (cli.c). */
const OptSpec *cli_optspecs(void);
const Command *cli_commands(void);
const CliTerm *cli_status_states(void);

/* The C_* bit of a command of the table. */
unsigned	cli_command_bit(const Command *cmd);

/* help and more of o as it applies to the commands in bits. */
void		cli_option_text(const OptSpec *o, unsigned bits, const char **help, const char **more);

/* Writes "man" or "bash-completion" (clidoc.c); false for an unknown name. */
bool		cli_generate(FILE *out, const char *what);

#endif							/* PGCUTOVER_CLI_TABLE_H */
