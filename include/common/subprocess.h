/*
 * subprocess.h
 *	  Running helper programs (pg_dump, sha256sum) with fork/exec: no shell,
 *	  the password passed through PGPASSWORD rather than the command line,
 *	  and the child killed if pgcutover dies.
 */
#ifndef PGCUTOVER_SUBPROCESS_H
#define PGCUTOVER_SUBPROCESS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct SubprocessOutput
{
	char	   *out;			/* captured stdout (NUL-terminated), or NULL */
	size_t		out_len;
	char	   *err;			/* captured stderr, last few kB */
	int			exit_code;		/* -1 when it could not run or died by signal */
} SubprocessOutput;

/*
 * Runs argv[0] with argv, PGPASSWORD=password when not NULL.  Captures
 * stdout when capture_stdout, else stdout goes to stdout_path (may be NULL:
 * /dev/null).  Returns true when the program ran and exited 0.
 */
bool		subprocess_run(char *const argv[], const char *password, bool capture_stdout,
						   const char *stdout_path, SubprocessOutput *result);
void		subprocess_output_free(SubprocessOutput *result);

/*
 * While *flag is set (by a signal handler), subprocess_run ends the running
 * child (its own process group, SIGTERM) instead of waiting.  NULL: off.
 */
void		subprocess_set_cancel(volatile sig_atomic_t *flag);

#endif
