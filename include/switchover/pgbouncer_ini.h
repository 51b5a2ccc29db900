/*
 * pgbouncer_ini.h
 *	  Finding and rewriting a [databases] entry of PgBouncer's ini file.
 */
#ifndef PGCUTOVER_PGBOUNCER_INI_H
#define PGCUTOVER_PGBOUNCER_INI_H

#include <stdbool.h>

#include "alloc.h"

/*
 * Whether [databases] entry name is defined in ini_path or a file it
 * %includes; *defined_in (malloc'd) is that file.  An unreadable file is
 * logged with its fix.
 */
bool		pgbouncer_ini_find_entry(const char *ini_path, const char *name, char **defined_in);

/*
 * Points [databases] entry name at host/port/dbname.  The first change to a
 * file in this run (backed_up lists them) keeps its text in
 * PATH.pgcutover-backup.  False, logged with its fix, on failure.
 */
bool		pgbouncer_ini_repoint_entry(const char *ini_path, const char *name, const char *host,
										const char *port, const char *dbname, StrList *backed_up);

#endif							/* PGCUTOVER_PGBOUNCER_INI_H */
