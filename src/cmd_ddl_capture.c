/*
 * cmd_ddl_capture.c
 *	  `pgcutover ddl-capture install|remove|status`: the event triggers on
 *	  the source that put every DDL command into the stream (see
 *	  sql/ddl_capture.sql for what they emit, follow_ddl.c for its use).
 *	  Each action runs in one transaction; install and remove are
 *	  idempotent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ddl_capture.h"
#include "log.h"
#include "pgconn.h"
#include "sqlfiles.h"

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

/* Runs an embedded SQL file in one transaction; false with the error logged. */
static bool
run_file(PGconn *src, const char *name, bool dry_run, char **sqlstate)
{
	const char *sql = sql_file(name);
	PGresult   *res;
	bool		ok;

	*sqlstate = NULL;
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
		log_debug("sql/%s failed: %s", name, PQerrorMessage(src));
	}
	PQclear(res);
	res = PQexec(src, ok ? "COMMIT" : "ROLLBACK");
	ok = ok && PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	return ok;
}

bool
ddl_capture_remove(PGconn *src, bool dry_run)
{
	char	   *state = NULL;
	bool		ok = run_file(src, "ddl_capture_remove.sql", dry_run, &state);

	if (!ok)
	{
		char	   *e = db_error(src);

		log_error("cannot remove DDL capture from the source: %s; fix: run 'pgcutover ddl-capture remove' as a superuser", e);
		free(e);
	}
	free(state);
	return ok;
}

static int
install(PGconn *src, const Options *opts)
{
	char	   *state = NULL;
	int			rc = EXIT_OK;

	if (!run_file(src, "ddl_capture.sql", opts->dry_run, &state))
	{
		char	   *e = db_error(src);

		if (state && strcmp(state, "42501") == 0)
		{
			log_error("installing DDL capture needs superuser on the source (event triggers do): %s; fix: run 'pgcutover ddl-capture install' as a superuser (on a managed service, its admin role if it may create event triggers), or follow without capture: it stops at each schema change with the DDL to run on the target",
					  e);
			rc = EXIT_PREFLIGHT;
		}
		else
		{
			log_error("cannot install DDL capture on the source: %s; fix: see the message", e);
			rc = EXIT_SQL;
		}
		free(e);
	}
	else if (!opts->dry_run)
		log_info("DDL capture installed on the source database %s: follow replays schema changes on the target", PQdb(src));
	free(state);
	return rc;
}

int
cmd_ddl_capture(Options *opts)
{
	PGconn	   *src;
	char	   *err = NULL;
	int			rc = EXIT_OK;
	int			count = -1;

	if (opts->source == NULL)
	{
		log_error("ddl-capture works on the source; fix: pass --source (or set PGCUTOVER_SOURCE)");
		return EXIT_USAGE;
	}
	if ((src = db_connect(opts->source, "source", CONN_NORMAL, &err)) == NULL)
	{
		log_error("%s", err);
		free(err);
		return EXIT_CONNECTION;
	}
	if (strcmp(opts->ddl_action, "install") == 0)
		rc = install(src, opts);
	else if (strcmp(opts->ddl_action, "remove") == 0)
	{
		if (!ddl_capture_remove(src, opts->dry_run))
			rc = EXIT_SQL;
		else if (!opts->dry_run)
			log_info("DDL capture removed from the source database %s", PQdb(src));
	}
	if (rc == EXIT_OK && !opts->dry_run)
	{
		if ((count = ddl_capture_count(src)) < 0)
			rc = EXIT_SQL;
		else if (strcmp(opts->ddl_action, "status") == 0 && !opts->json)
			printf("DDL capture is %s on the source database %s\n",
				   count == 4 ? "installed" : count == 0 ? "not installed" : "partly installed (run install again)",
				   PQdb(src));
	}
	if (opts->json)
		printf("{\"command\": \"ddl-capture\", \"action\": \"%s\", \"ok\": %s, \"exit_code\": %d, \"installed\": %s}\n",
			   opts->ddl_action, rc == EXIT_OK ? "true" : "false", rc,
			   count == 4 ? "true" : count < 0 ? "null" : "false");
	PQfinish(src);
	return rc;
}
