/*
 * fence.h
 *	  Stopping writes on the source for the switchover, and lifting that.
 *	  Every statement goes through one function that can print it instead
 *	  (--dry-run).
 */
#ifndef PGCUTOVER_FENCE_H
#define PGCUTOVER_FENCE_H

#include <stdbool.h>
#include <libpq-fe.h>

/* Runs sql on conn, or prints it (prefixed with who) when dry_run. */
bool		run_or_print(PGconn *conn, const char *who, const char *sql, bool dry_run);

/*
 * Default fence: the database becomes read-only for new sessions and every
 * other client session of it is terminated (walsenders and pgcutover's own
 * sessions are spared).  Returns the number of sessions terminated, -1 on error.
 */
int			fence_database(PGconn *src, bool dry_run);

/* Lifts the fence (new sessions may write again). */
bool		unfence_database(PGconn *src, bool dry_run);

/* Runs a user command through /bin/sh; false unless it exits 0. */
bool		run_shell_command(const char *what, const char *command, bool dry_run);

/* Restores the GENERATED ALWAYS identity columns follow relaxed. */
bool		restore_identity_columns(PGconn *tgt, const char *slot, bool dry_run);

#endif
