/*
 * cmd_check.c
 *	  `pgcutover check`: connect to both servers, run the preflight, print
 *	  one line per finding (or JSON), exit 0 only when nothing FAILed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json_output.h"
#include "log.h"
#include "pgconn.h"
#include "preflight.h"

/* Connects one side, recording the outcome as a finding. */
static PGconn *
connect_side(const char *dsn, const char *who, Findings *f)
{
	char	   *err = NULL;
	PGconn	   *conn;
	const char *check = who[0] == 's' ? "connect_source" : "connect_target";

	if (dsn == NULL)
	{
		findings_add(f, FINDING_FAIL, check,
					 who[0] == 's' ? "pass --source DSN or set PGCUTOVER_SOURCE" : "pass --target DSN or set PGCUTOVER_TARGET",
					 "no %s database given", who);
		return NULL;			/* a usage error, not a connection failure */
	}
	conn = db_connect(dsn, who, CONN_NORMAL, &err);
	if (conn == NULL)
	{
		char	   *fix = strstr(err, "; fix: ");

		if (fix)
			*fix = '\0';
		findings_add(f, FINDING_FAIL, check, fix ? fix + 7 : NULL, "%s", err);
		f->connection_failed = true;
		free(err);
		return NULL;
	}
	findings_add(f, FINDING_OK, check, NULL, "connected to %s %s (PostgreSQL %s)", who,
				 PQdb(conn), PQparameterStatus(conn, "server_version"));
	return conn;
}

/* --log-json: each finding is also a log line, with its check's name. */
static void
log_findings(const Findings *f)
{
	for (int i = 0; i < f->count; i++)
	{
		const Finding *it = &f->items[i];
		LogLevel	level = it->status == FINDING_FAIL ? LOG_ERROR : it->status == FINDING_WARN ? LOG_WARN : LOG_INFO;

		if (it->fix)
			log_check(level, it->check, "%s; fix: %s", it->message, it->fix);
		else
			log_check(level, it->check, "%s", it->message);
	}
}

int
cmd_check(Options *opts)
{
	Findings	f = {0};
	PGconn	   *src = connect_side(opts->source, "source", &f);
	PGconn	   *tgt = connect_side(opts->target, "target", &f);
	int			rc;

	preflight_run(src, tgt, opts, &f);

	rc = opts->source == NULL || opts->target == NULL ? EXIT_USAGE
		: f.connection_failed ? EXIT_CONNECTION : f.nfail > 0 ? EXIT_PREFLIGHT : EXIT_OK;
	if (opts->log_json)
		log_findings(&f);
	if (opts->json)
		json_output_print(json_pack("{s:i, s:i, s:o}", "failures", f.nfail, "warnings", f.nwarn,
									"findings", findings_to_json(&f)),
						  "check", rc, JSON_DOCUMENT);
	else
		findings_print(&f, stdout);

	findings_free(&f);
	PQfinish(src);
	PQfinish(tgt);
	return rc;
}
