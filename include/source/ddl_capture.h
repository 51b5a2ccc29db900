/*
 * ddl_capture.h
 *	  Installing and removing DDL capture on the source (sql/ddl_capture.sql,
 *	  sql/ddl_capture_remove.sql): `pgcutover ddl-capture`, and cleanup.
 */
#ifndef PGCUTOVER_DDL_CAPTURE_H
#define PGCUTOVER_DDL_CAPTURE_H

#include <stdbool.h>
#include <libpq-fe.h>

/* How many of the four capture event triggers exist (enabled) on conn; -1 on error. */
int			ddl_capture_count(PGconn *src);

/* Installs capture in one transaction (or prints it); false with *sqlstate, *errmsg (malloc'd). */
bool		ddl_capture_install(PGconn *src, bool dry_run, char **sqlstate, char **errmsg);

/* Removes capture in one transaction (or prints it with dry_run). */
bool		ddl_capture_remove(PGconn *src, bool dry_run);

#endif							/* PGCUTOVER_DDL_CAPTURE_H */
