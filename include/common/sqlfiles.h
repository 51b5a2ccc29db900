/*
 * sqlfiles.h
 *	  The sql/ files files, compiled into the binary by cmake/embed_sql.cmake.
 */
#ifndef PGCUTOVER_SQLFILES_H
#define PGCUTOVER_SQLFILES_H

typedef struct SqlFile
{
	const char *name;			/* e.g. "state.sql" */
	const char *text;
} SqlFile;

extern const SqlFile pgcutover_sql_files[];

/* Returns the text of sql/<name>, or NULL. */
const char *sql_file(const char *name);

#endif
