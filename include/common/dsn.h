/*
 * dsn.h
 *	  Connection strings: normalising what users paste (libpq keyword form,
 *	  postgresql:// URIs, SQLAlchemy URLs) and redacting passwords from any
 *	  text.  Pure string code, no connections.
 */
#ifndef PGCUTOVER_DSN_H
#define PGCUTOVER_DSN_H

#include <stdbool.h>

/*
 * Returns a malloc'd libpq-compatible DSN.  SQLAlchemy URLs such as
 * postgresql+psycopg2://u:p@h/db are rewritten to postgresql://u:p@h/db and
 * *was_sqlalchemy is set.
 */
char	   *dsn_normalize(const char *dsn, bool *was_sqlalchemy);

/* Returns a malloc'd copy of text with every DSN password replaced by ***. */
char	   *dsn_redact(const char *text);

/*
 * Overwrites every DSN password in text with '*' in place, keeping its
 * length: for argv, which ps and /proc/PID/cmdline show to every user.
 */
void		dsn_mask_in_place(char *text);

/* Returns the malloc'd password a DSN carries, or NULL (uses libpq's parser). */
char	   *dsn_password(const char *dsn);



/* Returns a malloc'd "host=.. port=.. dbname=.. user=.." summary, no password. */
char	   *dsn_describe(const char *dsn);

/*
 * Splits a DSN into a keyword DSN without the password (safe to put on a
 * command line) and the password (malloc'd, NULL if none), for handing to
 * child processes through PGPASSWORD.
 */
char	   *dsn_without_password(const char *dsn, char **password);
/* Returns the DSN with its dbname replaced (keyword form, malloc'd). */
char	   *dsn_with_dbname(const char *dsn, const char *dbname);

#endif
