/*
 * cmd_ddl_capture.c
 *	  `pgcutover ddl-capture install|remove|status`: the command around
 *	  ddl_capture.c (what is installed: sql/ddl_capture.sql; its use:
 *	  follow_ddl.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ddl_capture.h"
#include "json_output.h"
#include "log.h"
#include "pgconn.h"

static int
install(PGconn *src, const Options *opts)
{
	char	   *state = NULL;
	char	   *e = NULL;
	int			rc = EXIT_OK;

	if (!ddl_capture_install(src, opts->dry_run, &state, &e))
	{
		if (e == NULL)
			e = pg_strdup("internal error");

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
		json_output_print(json_pack("{s:s, s:b, s:o}", "action", opts->ddl_action, "dry_run", opts->dry_run,
									"installed", count == 4 ? json_true() : count < 0 ? json_null() : json_false()),
						  "ddl-capture", rc, JSON_DOCUMENT);
	PQfinish(src);
	return rc;
}
