/*
 * pgdump.c
 *	  Finding the pg_dump to run (pgdump.h): the installed majors under
 *	  /usr/lib/postgresql, the rule of pg_dump_choose_major (pgversion.c),
 *	  and the same bounds for a pg_dump named with --pg-bin-dir.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "pgdump.h"
#include "pgversion.h"
#include "strbuf.h"
#include "subprocess.h"

#define PG_LIB_DIR "/usr/lib/postgresql"
#define MAX_INSTALLED 64

/*
 * Major version of DIR/pg_dump from its --version line ("pg_dump
 * (PostgreSQL) 15.4 (Debian ...)"), 0 if it does not run or says something else.
 */
static int
pg_dump_major(const char *dir)
{
	char	   *path = psprintf("%s/pg_dump", dir);
	char	   *argv[] = {path, "--version", NULL};
	SubprocessOutput out;
	int			major = 0;

	if (subprocess_run(argv, NULL, true, NULL, &out) && out.out)
	{
		const char *v = strstr(out.out, "(PostgreSQL) ");

		if (v)
			major = atoi(v + 13);
	}
	subprocess_output_free(&out);
	free(path);
	return major;
}

/* The N of every /usr/lib/postgresql/N/bin/pg_dump that may run. */
static int
installed_majors(int *majors, int max)
{
	DIR		   *dir = opendir(PG_LIB_DIR);
	struct dirent *de;
	int			n = 0;

	if (dir == NULL)
		return 0;
	while ((de = readdir(dir)) != NULL && n < max)
	{
		char	   *end;
		long		v = strtol(de->d_name, &end, 10);
		char	   *path;

		if (end == de->d_name || *end != '\0' || v < 1 || v > 1000)
			continue;
		path = psprintf("%s/%ld/bin/pg_dump", PG_LIB_DIR, v);
		if (access(path, X_OK) == 0)
			majors[n++] = (int) v;
		free(path);
	}
	closedir(dir);
	return n;
}

/* An explicit --pg-bin-dir: its pg_dump must fit the pair too. */
static char *
check_bin_dir(const char *dir, int source_major, int target_major, int *major_out, char **errmsg)
{
	char	   *path = psprintf("%s/pg_dump", dir);
	bool		runs = access(path, X_OK) == 0;
	int			major = runs ? pg_dump_major(dir) : 0;

	free(path);
	if (!runs)
		*errmsg = psprintf("no executable pg_dump in --pg-bin-dir %s; fix: point it at a PostgreSQL %d bin directory (apt-get install postgresql-client-%d)",
						   dir, target_major, target_major);
	else if (major == 0)
		*errmsg = psprintf("%s/pg_dump does not run or does not say its version (pg_dump --version); fix: point --pg-bin-dir at a PostgreSQL %d bin directory (apt-get install postgresql-client-%d)",
						   dir, target_major, target_major);
	else if (major < source_major)
		*errmsg = psprintf("pg_dump in --pg-bin-dir %s is version %d, older than the source server (%d), and would refuse to dump it; fix: point --pg-bin-dir at a PostgreSQL %d bin directory (apt-get install postgresql-client-%d)",
						   dir, major, source_major, target_major, target_major);
	else if (major > target_major)
		*errmsg = psprintf("pg_dump in --pg-bin-dir %s is version %d, newer than the target server (%d), whose restore may reject its output; fix: point --pg-bin-dir at a PostgreSQL %d bin directory (apt-get install postgresql-client-%d)",
						   dir, major, target_major, target_major, target_major);
	if (*errmsg)
		return NULL;
	if (major_out)
		*major_out = major;
	return pg_strdup(dir);
}

char	   *
pgdump_find(const char *pg_bin_dir, int source_major, int target_major, int *major_out, char **errmsg)
{
	int			majors[MAX_INSTALLED];
	int			n;
	int			best;
	StrBuf		list;

	*errmsg = NULL;
	if (major_out)
		*major_out = 0;
	if (target_major < source_major)
	{
		*errmsg = psprintf("target major version %d is older than source major version %d (downgrade); fix: use a target of the same or a newer major version",
						   target_major, source_major);
		return NULL;
	}
	if (pg_bin_dir)
		return check_bin_dir(pg_bin_dir, source_major, target_major, major_out, errmsg);

	n = installed_majors(majors, MAX_INSTALLED);
	best = pg_dump_choose_major(majors, n, source_major, target_major);
	if (best > 0)
	{
		if (major_out)
			*major_out = best;
		return psprintf("%s/%d/bin", PG_LIB_DIR, best);
	}
	strbuf_init(&list);
	for (int i = 0; i < n; i++)
		strbuf_printf(&list, "%s%d", i ? ", " : "", majors[i]);
	*errmsg = psprintf("no pg_dump of a version from %d (the source) to %d (the target) in %s/N/bin (installed: %s); fix: apt-get install postgresql-client-%d, or pass --pg-bin-dir",
					   source_major, target_major, PG_LIB_DIR, n ? list.data : "none",
					   target_major);
	strbuf_free(&list);
	return NULL;
}
