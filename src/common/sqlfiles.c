/*
 * sqlfiles.c
 *	  Looking up the SQL files compiled into the binary.
 */
#include <string.h>

#include "sqlfiles.h"

const char *
sql_file(const char *name)
{
	for (const SqlFile *f = pgcutover_sql_files; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f->text;
	return NULL;
}
