/*
 * cmd_verify.c
 *	  `pgcutover verify`: compare every table and sequence of source and
 *	  target, on --jobs session pairs (at most COMPARE_MAX_PAIRS).  Exact once
 *	  the source is fenced; while follow applies a live source it warns,
 *	  before comparing, that the result is in flux.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "compare.h"
#include "log.h"
#include "pgconn.h"
#include "signals.h"
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
	ComparePair *pairs = NULL;
	int			npairs = opts->jobs < 1 ? 1 : opts->jobs > COMPARE_MAX_PAIRS ? COMPARE_MAX_PAIRS : opts->jobs;
	VerifyResult r;
	int			rc;
	bool		live;

	if (opts->source == NULL || opts->target == NULL)
	{
		log_error("verify needs both databases; fix: pass --source and --target");
		return EXIT_USAGE;
	}
	if (!compare_pairs_open(opts, npairs, &pairs))
		return EXIT_CONNECTION;
	signals_install();
	live = source_is_live(pairs[0].source);
	if (live)
		log_warn("the source is live and not fenced: the result is in flux (changes in flight look like differences); fix: run 'pgcutover verify --online' while follow runs, for an exact comparison at one LSN");
	if (!verify_run(pairs, npairs, opts, &r))
		rc = signals_interrupts() > 0 ? EXIT_INTERRUPTED : EXIT_SQL;
	else
	{
		rc = r.mismatches || r.sequences_behind || r.foreign_key_violations ? EXIT_MISMATCH : EXIT_OK;
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
	compare_pairs_close(pairs, npairs);
	return rc;
}
