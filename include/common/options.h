/*
 * pgcutover.h
 *	  Exit codes, the parsed command line, and small helpers every command
 *	  shares.  Exit codes and option names are part of the CLI contract:
 *	  scripts depend on them, so add new ones, never renumber or rename.
 */
#ifndef PGCUTOVER_H
#define PGCUTOVER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef PGCUTOVER_VERSION
#define PGCUTOVER_VERSION "0.0.0"
#endif

/* Exit codes (documented in README.md and --help). */
typedef enum ExitCode
{
	EXIT_OK = 0,
	EXIT_INTERNAL = 1,			/* unexpected error, a bug or an OS failure */
	EXIT_USAGE = 2,				/* bad command line */
	EXIT_CONNECTION = 3,		/* could not connect to source or target */
	EXIT_PREFLIGHT = 4,			/* a prerequisite is missing (check FAIL) */
	EXIT_MISMATCH = 5,			/* verification found differences */
	EXIT_NOT_IMPLEMENTED = 6,	/* command not available in this version */
	EXIT_STATE = 7,				/* migration state forbids this (slot exists,
								 * resume impossible, nothing to resume) */
	EXIT_SCHEMA_DRIFT = 8,		/* source schema changed under the stream */
	EXIT_TIMEOUT = 9,			/* a --timeout expired */
	EXIT_INTERRUPTED = 10,		/* stopped by SIGINT/SIGTERM before done */
	EXIT_SQL = 11				/* a statement failed on source or target */
} ExitCode;

typedef struct StrList
{
	char	  **items;
	int			count;
} StrList;

void		strlist_add(StrList *list, const char *s);
bool		strlist_contains(const StrList *list, const char *s);
void		strlist_free(StrList *list);

typedef struct Options
{
	const char *command;		/* check, copy, follow, ... */
	char	   *source;			/* normalised libpq DSN (may be NULL) */
	char	   *target;
	bool		json;
	bool		dry_run;
	bool		yes;
	bool		allow_nonempty_target;
	int			log_level;		/* LogLevel */
	bool		log_json;

	/* copy */
	char	   *slot;
	int			jobs;
	int			index_jobs;
	int64_t		split_threshold;	/* bytes */
	StrList		include_schema;
	StrList		exclude_schema;
	StrList		include_table;
	StrList		exclude_table;
	char	   *backup_dir;
	char	   *pg_bin_dir;
	int			snapshot_hold;	/* seconds the snapshot keeper waits for a
								 * resume after the copy process died */

	/* follow */
	bool		until_caught_up;
	char	   *endpos;
	char	   *ddl_mode;		/* apply, stop; NULL: apply when capture is installed */
	char	   *ddl_exclude;	/* regex of object names whose DDL is skipped */
	bool		resume_after_ddl;

	/* ddl-capture */
	char	   *ddl_action;		/* install, remove, status */

	double		heartbeat_interval; /* seconds, 0: no heartbeats */
	char	   *metrics_listen;
	bool		metrics_allow_public;

	/* migrate */
	StrList		databases;
	bool		switchover;

	/* switchover */
	char	   *fence;			/* default, none */
	char	   *fence_command;
	char	   *post_command;
	int64_t		sequence_gap;
	bool		skip_verify;
	bool		abort_on_mismatch;
	bool		reverse;
	bool		check_constraints;	/* verify --constraints */

	/* status / switchover */
	double		wait_lag;
	double		timeout;
	double		max_lag;
	bool		watch;
	double		watch_interval;
	bool		keep_state;
} Options;

/* misc.c */
void	   *pg_malloc0(size_t size);
void	   *pg_realloc(void *ptr, size_t size);
char	   *pg_strdup(const char *s);
char	   *psprintf(const char *fmt,...) __attribute__((format(printf, 1, 2)));
char	   *pvsprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
double		now_seconds(void);	/* monotonic */
double		epoch_seconds(void);	/* wall clock */
char	   *format_bytes(int64_t bytes, char *buf, size_t len);
bool		parse_size(const char *s, int64_t *out);

#endif							/* PGCUTOVER_H */
