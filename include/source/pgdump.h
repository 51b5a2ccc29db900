/*
 * pgdump.h
 *	  Which pg_dump dumps the source: one whose output the target accepts
 *	  (pg_dump_choose_major, pgversion.h), found under
 *	  /usr/lib/postgresql/N/bin or in --pg-bin-dir.  `check` reports the
 *	  choice; `copy` makes it before any slot exists.
 */
#ifndef PGCUTOVER_PGDUMP_H
#define PGCUTOVER_PGDUMP_H

/*
 * The bin directory holding the pg_dump to run (malloc'd), or NULL with
 * *errmsg set (malloc'd, one line naming the fix and the package to
 * install).  pg_bin_dir is --pg-bin-dir, or NULL to look under
 * /usr/lib/postgresql.  *major_out, when not NULL, is set to that
 * pg_dump's major version.
 */
char	   *pgdump_find(const char *pg_bin_dir, int source_major, int target_major,
						int *major_out, char **errmsg);

#endif
