/*
 * ddl_capture.c
 *	  DDL capture on the source: installing and removing the event triggers
 *	  of sql/ddl_capture.sql (one transaction each, idempotent), and
 *	  whether they are there.  Used by `ddl-capture`, follow and cleanup.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddl_capture.h"
#include "log.h"
#include "pgconn.h"
#include "alloc.h"
#include "sqlfiles.h"

/*
 * Runs an embedded SQL file in one transaction; false with *sqlstate and
 * *errmsg (the server's message, read before the ROLLBACK clears it).
 */
static bool
run_file(PGconn *src, const char *name, bool dry_run, char **sqlstate, char **errmsg)
{
	const char *sql = sql_file(name);
	PGresult   *res;
	bool		ok;

	*sqlstate = NULL;
	*errmsg = NULL;
	if (sql == NULL)
	{
		log_error("internal error: sql/%s is not compiled in", name);
		return false;
	}
	if (dry_run)
	{
		printf("-- [source] sql/%s, in one transaction\n%s", name, sql);
		return true;
	}
	res = PQexec(src, "BEGIN");
	PQclear(res);
	res = PQexec(src, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		*sqlstate = state ? pg_strdup(state) : NULL;
		*errmsg = db_error(src);
	}
	PQclear(res);
	res = PQexec(src, ok ? "COMMIT" : "ROLLBACK");
	ok = ok && PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	return ok;
}

int
ddl_capture_count(PGconn *src)
{
	char	   *n = db_scalar(src,
							  "SELECT count(*) FROM pg_catalog.pg_event_trigger "
							  "WHERE evtname IN ('pgcutover_ddl_start', 'pgcutover_ddl_drop', "
							  "'pgcutover_ddl_rewrite', 'pgcutover_ddl_end') AND evtenabled <> 'D'");
	int			count = n ? atoi(n) : -1;

	free(n);
	return count;
}

bool
ddl_capture_install(PGconn *src, bool dry_run, char **sqlstate, char **errmsg)
{
	return run_file(src, "ddl_capture.sql", dry_run, sqlstate, errmsg);
}

bool
ddl_capture_remove(PGconn *src, bool dry_run)
{
	char	   *state = NULL;
	char	   *e = NULL;
	bool		ok = run_file(src, "ddl_capture_remove.sql", dry_run, &state, &e);

	if (!ok)
		log_error("cannot remove DDL capture from the source: %s; fix: run 'pgcutover ddl-capture remove' as a superuser",
				  e ? e : "internal error");
	free(state);
	free(e);
	return ok;
}
