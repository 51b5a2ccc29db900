/*
 * cmd_verify.c
 *	  `pgcutover verify`: compare every table and sequence of source and
 *	  target.  Exact once the source is fenced; while follow applies a live
 *	  source it says the result may be in flux.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "pgconn.h"
#include "verify.h"

static bool
source_is_live(PGconn *src)
{
	char	   *ro = db_scalar(src,
							   "SELECT coalesce((SELECT s.setting FROM pg_catalog.pg_db_role_setting d, "
							   "  LATERAL pg_catalog.unnest(d.setconfig) c, LATERAL (SELECT split_part(c, '=', 2) AS setting "
							   "  WHERE split_part(c, '=', 1) = 'default_transaction_read_only') s "
							   "  WHERE d.setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()) "
							   "  AND d.setrole = 0), 'off')");
	bool		live = ro == NULL || strcmp(ro, "on") != 0;

	free(ro);
	return live;
}

int
cmd_verify(Options *opts)
{
	PGconn	   *src = NULL,
			   *tgt = NULL;
	VerifyResult r;
	int			rc;
	bool		live;

	if (opts->source == NULL || opts->target == NULL)
	{
		log_error("verify needs both databases; fix: pass --source and --target");
		return EXIT_USAGE;
	}
	if (!db_connect_both(opts, &src, &tgt))
		return EXIT_CONNECTION;
	live = source_is_live(src);
	if (!verify_run(src, tgt, opts, &r))
		rc = EXIT_SQL;
	else
	{
		rc = r.mismatches || r.sequences_behind || r.foreign_key_violations ? EXIT_MISMATCH : EXIT_OK;
		if (rc != EXIT_OK && live)
			log_warn("the source is not fenced and may still be written: differences can be changes in flight (in flux); verify again after switchover for an exact answer");
		if (opts->json)
		{
			json_t	   *doc = verify_json(&r);

			json_object_set_new(doc, "command", json_string("verify"));
			json_object_set_new(doc, "exit_code", json_integer(rc));
			json_object_set_new(doc, "source_live", json_boolean(live));
			json_dumpf(doc, stdout, JSON_INDENT(2));
			fputc('\n', stdout);
			json_decref(doc);
		}
		else
			verify_print(&r, stdout);
		if (rc != EXIT_OK)
			log_error("verify found %d different table(s), %d sequence(s) behind and %d foreign key(s) with orphans on the target; fix: %s",
					  r.mismatches, r.sequences_behind, r.foreign_key_violations,
					  live ? "let follow catch up and verify again (sequences are synced at switchover); a table that keeps differing needs a new copy"
					  : "compare the rows of the tables listed (MISMATCH/MISSING/ORPHANS), repair them on the target or copy again");
	}
	verify_free(&r);
	PQfinish(src);
	PQfinish(tgt);
	return rc;
}
