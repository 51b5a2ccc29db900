/*
 * cli_int.h
 *	  What the files of src/cli share and nobody else uses: the shape of
 *	  the command-line contract and the steps of parsing it.
 *
 *	  The command table and the option table (cli.c) are the one source that
 *	  the parser (cli_parse.c, cli_options.c, cli_config.c), --help
 *	  (cli_help.c), the man page and the bash completion (clidoc.c) are all
 *	  made from, so none of them can list what the others do not.
 */
#ifndef PGCUTOVER_CLI_INT_H
#define PGCUTOVER_CLI_INT_H

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

/* The code of each option (OptSpec.code): getopt_long returns it. */
enum
{
	O_SOURCE = 1000, O_TARGET, O_JSON, O_DRY_RUN, O_VERBOSE, O_QUIET, O_LOG_JSON,
	O_YES, O_HELP, O_VERSION, O_NO_PASSWORD, O_GENERATE, O_ALLOW_NONEMPTY, O_SLOT,
	O_JOBS, O_INDEX_JOBS, O_APPLY_JOBS, O_SPLIT, O_INC_SCHEMA, O_EXC_SCHEMA, O_INC_TABLE,
	O_EXC_TABLE, O_BACKUP, O_PG_BIN, O_SNAPSHOT_HOLD, O_UNTIL_CAUGHT_UP, O_ENDPOS,
	O_WAIT_LAG, O_TIMEOUT, O_WATCH, O_MAX_LAG, O_KEEP_STATE, O_HEARTBEAT, O_METRICS,
	O_METRICS_PUBLIC, O_FENCE, O_FENCE_COMMAND, O_POST_COMMAND, O_SEQ_GAP,
	O_SKIP_VERIFY, O_ABORT_MISMATCH, O_DATABASE, O_SWITCHOVER, O_REVERSE,
	O_CONSTRAINTS, O_CONFIG, O_DDL, O_DDL_EXCLUDE, O_RESUME_AFTER_DDL, O_PGBOUNCER,
	O_PGBOUNCER_INI, O_REPOINT_COMMAND, O_ONLINE, O_VERIFY, O_MAX_RATE, O_ROLES,
	O_ROLE_PASSWORDS, O_KEEP_ACL,
	O_END						/* not an option: one past the last */
};

/* Rows of the option table: one per O_* code (cli.c asserts it). */
#define CLI_NOPTS		(O_END - O_SOURCE)

#define SECS_PER_DAY	86400.0

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

/* The tables (cli.c), each ending with a row whose name is NULL. */
const OptSpec *cli_optspecs(void);
const Command *cli_commands(void);
const CliTerm *cli_status_states(void);

/* The C_* bit of a command of the table. */
unsigned	cli_command_bit(const Command *cmd);

/* help and more of o as it applies to the commands in bits. */
void		cli_option_text(const OptSpec *o, unsigned bits, const char **help, const char **more);

/* Writes "man" or "bash-completion" (clidoc.c); false for an unknown name. */
bool		cli_generate(FILE *out, const char *what);

/*
 * One option's value (cli_options.c).  cli_parse_value checks arg against
 * o's kind and range, *num being the number (integers, durations in
 * seconds); with err NULL it only says whether arg parses.
 * cli_take_option checks and stores an option with its value (NULL for
 * flags) in opts.  Both print one error line on err and return false.
 */
bool		cli_parse_value(const OptSpec *o, const char *arg, double *num, FILE *err);
bool		cli_take_option(const OptSpec *o, const char *arg, Options *opts, FILE *err);
void		cli_set_defaults(Options *opts);

/* Applies --config path for cmd (NULL: not known yet) (cli_config.c). */
bool		cli_apply_config(const char *path, const Command *cmd, Options *opts, FILE *err);

#endif							/* PGCUTOVER_CLI_INT_H */
