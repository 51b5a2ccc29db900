/*
 * cmd_verify.c
 *	  `pgcutover verify`: compare every table and sequence of source and
 *	  target, on --jobs session pairs (at most COMPARE_MAX_PAIRS).  Exact once
 *	  the source is fenced; while follow applies a live source it warns,
 *	  before comparing, that the result is in flux.  With --online, exact
 *	  while follow runs: both sides at one LSN (online.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "compare.h"
#include "json_output.h"
#include "log.h"
#include "online.h"
#include "pgconn.h"
#include "signals.h"
#include "state.h"
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

/* --json: the verdicts, with the command's own fields. */
static void
print_json(const VerifyResult *r, int rc, bool live, const OnlineVerification *online)
{
	json_t	   *doc = verify_json(r);

	json_object_set_new(doc, "source_live", json_boolean(live));
	if (online)
	{
		char		lsn[LSN_FORMAT_LEN];

		json_object_set_new(doc, "online",
							json_pack("{s:I, s:s, s:f, s:f, s:i}",
									  "verification_id", (json_int_t) online->id,
									  "lsn", lsn_format(online->lsn, lsn),
									  "pause_ms", online->pause_ms,
									  "snapshot_ms", online->snapshot_ms,
									  "triggers_added", online->triggers_added));
	}
	else
		json_object_set_new(doc, "online", json_null());
	json_output_print(doc, "verify", rc, JSON_DOCUMENT);
}

/* verify --online: both sides at one LSN, while follow runs. */
static int
verify_online_command(Options *opts)
{
	CompareConfig cfg = verify_compare_config(opts);
	OnlineVerification online;
	VerifyResult r;
	Outcome		outcome;
	int			rc;

	if (opts->check_constraints)
	{
		log_error("--constraints does not go with --online (the target's foreign keys are checked once writes have stopped); fix: run 'pgcutover verify --constraints' after the switchover");
		return EXIT_USAGE;
	}
	outcome = verify_online(opts, &cfg, &r, &online);
	if (outcome != OUTCOME_OK)
	{
		verify_free(&r);
		return exit_code_for(outcome);
	}
	rc = r.mismatches ? EXIT_MISMATCH : EXIT_OK;
	/* logged first: the --json document carries it as its error */
	if (rc != EXIT_OK)
		log_error("verify found %d different table(s) at the same LSN on both sides; fix: repair the rows listed (MISMATCH/MISSING) on the target, or find what wrote them there, then run verify --online again",
				  r.mismatches);
	if (opts->json)
		print_json(&r, rc, true, &online);
	else
	{
		char		lsn[LSN_FORMAT_LEN];

		verify_print(&r, stdout);
		printf("compared at source LSN %s on both sides (online verification %lld; the follower stood still %.1f ms)\n",
			   lsn_format(online.lsn, lsn), (long long) online.id, online.pause_ms);
	}
	verify_free(&r);
	return rc;
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
	if (opts->online)
		return verify_online_command(opts);
	if (!compare_pairs_open(opts, npairs, &pairs))
		return EXIT_CONNECTION;
	signals_install();
	/* a migration of --slot on the target: compare what its copy selected */
	if (!state_add_copy_filters(pairs[0].target, opts->slot, opts))
	{
		compare_pairs_close(pairs, npairs);
		return EXIT_SQL;
	}
	live = source_is_live(pairs[0].source);
	if (live)
		log_warn("the source is live and not fenced: the result is in flux (changes in flight look like differences); fix: run 'pgcutover verify --online' while follow runs, for an exact comparison at one LSN");
	if (!verify_run(pairs, npairs, opts, &r))
		rc = signals_interrupts() > 0 ? EXIT_INTERRUPTED : EXIT_SQL;
	else
	{
		rc = r.mismatches || r.sequences_behind || r.foreign_key_violations ? EXIT_MISMATCH : EXIT_OK;
		if (rc != EXIT_OK)
			log_error("verify found %d different table(s), %d sequence(s) behind and %d foreign key(s) with orphans on the target; fix: %s",
					  r.mismatches, r.sequences_behind, r.foreign_key_violations,
					  live ? "let follow catch up and verify again (sequences are synced at switchover); a table that keeps differing needs a new copy"
					  : "compare the rows of the tables listed (MISMATCH/MISSING/ORPHANS), repair them on the target or copy again");
		if (opts->json)
			print_json(&r, rc, live, NULL);
		else
			verify_print(&r, stdout);
	}
	verify_free(&r);
	compare_pairs_close(pairs, npairs);
	return rc;
}
