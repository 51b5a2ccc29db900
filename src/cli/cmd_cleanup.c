/*
 * cmd_cleanup.c
 *	  `pgcutover cleanup`: drop what a migration left behind.  Each step
 *	  looks before it acts, so cleanup is safe to run twice, after a crash,
 *	  or with half of the objects already gone:
 *	    1. release the snapshot keeper if one still runs here
 *	    2. lift the fence on the source if a switchover was aborted, restoring
 *	       what it changed (after a completed one the old source stays
 *	       fenced: no split brain; its slot is dropped through the server's
 *	       maintenance database, and DDL capture stays on the retired source)
 *	    3. drop the slot on the source (refused while a follower uses it)
 *	    4. restore GENERATED ALWAYS identity columns on the target, and the
 *	       ENABLE ALWAYS/REPLICA triggers and rules quieted while it followed
 *	    5. drop schema pgcutover on the target (unless --keep-state)
 *	    6. remove DDL capture from the source, unless another slot of this
 *	       database still streams
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cutover.h"
#include "ddl_capture.h"
#include "fence.h"
#include "json_output.h"
#include "log.h"
#include "pgconn.h"
#include "snapshot.h"
#include "state.h"
#include "switchover.h"
#include "verification.h"

static bool
confirm(const Options *opts)
{
	char		answer[16];

	if (opts->yes || opts->dry_run)
		return true;
	if (!isatty(STDIN_FILENO))
	{
		log_error("cleanup drops the slot %s and the migration state and asks first; fix: pass --yes to confirm without a terminal",
				  opts->slot);
		return false;
	}
	fprintf(stderr, "Drop slot %s on the source and the pgcutover state on the target? [y/N] ", opts->slot);
	return fgets(answer, sizeof(answer), stdin) && (answer[0] == 'y' || answer[0] == 'Y');
}

/*
 * Drops the slot unless a walsender uses it; returns an exit code.  After a
 * switchover the follower is about to exit by itself: give it a moment.
 */
static int
drop_slot(PGconn *src, const Options *opts, bool switched_over)
{
	const char *params[1] = {opts->slot};
	PGresult   *res = NULL;
	int			rc = EXIT_OK;

	for (int tries = 0; tries < (switched_over ? 150 : 1); tries++)
	{
		PQclear(res);
		res = db_query_params(src, "SELECT active FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
							  1, params);
		if (res == NULL || PQntuples(res) == 0 || PQgetvalue(res, 0, 0)[0] != 't')
			break;
		usleep(100 * 1000);
	}
	if (res == NULL)
		return EXIT_SQL;
	if (PQntuples(res) == 0)
		log_info("slot %s is already gone from the source", opts->slot);
	else if (PQgetvalue(res, 0, 0)[0] == 't')
	{
		log_error("slot %s is in use (a follower is running); fix: stop 'pgcutover follow' first, then run cleanup again",
				  opts->slot);
		rc = EXIT_STATE;
	}
	else
	{
		char	   *lit = db_quote_literal(src, opts->slot);
		char	   *sql = psprintf("SELECT pg_catalog.pg_drop_replication_slot(%s)", lit);

		if (!run_or_print(src, "source", sql, opts->dry_run))
			rc = EXIT_SQL;
		else if (!opts->dry_run)
			log_info("dropped slot %s on the source", opts->slot);
		free(sql);
		free(lit);
	}
	PQclear(res);
	return rc;
}

/* DDL capture goes with the last slot of the source database. */
static int
remove_capture(PGconn *src, const Options *opts)
{
	const char *params[1] = {opts->slot};
	PGresult   *res;
	int			others;

	if (ddl_capture_count(src) <= 0)
		return EXIT_OK;
	res = db_query_params(src, "SELECT count(*) FROM pg_catalog.pg_replication_slots "
						  "WHERE database = pg_catalog.current_database() AND slot_name <> $1", 1, params);
	if (res == NULL)
		return EXIT_SQL;
	others = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (others > 0)
	{
		log_info("DDL capture stays on the source: %d other slot(s) of this database may need it ('pgcutover ddl-capture remove' drops it)",
				 others);
		return EXIT_OK;
	}
	if (!ddl_capture_remove(src, opts->dry_run))
		return EXIT_SQL;
	if (!opts->dry_run)
		log_info("removed DDL capture from the source");
	return EXIT_OK;
}

/*
 * Connects to the source.  A fenced source refuses new sessions: an aborted
 * switchover's fence is lifted through the server's maintenance database
 * first; a switched-over source stays fenced, and *fenced_source says the
 * session is the maintenance database's (enough to drop the slot).
 */
static int
connect_source(const Options *opts, const MigrationState *st, const CutoverRecord *cutover,
			   PGconn **src, bool *fenced_source)
{
	char	   *err = NULL;
	int			rc = EXIT_OK;

	*fenced_source = false;
	if ((*src = db_connect(opts->source, "source", CONN_NORMAL, &err)) != NULL)
		return EXIT_OK;
	if (!fence_refused_connection(err) ||
		(st->found && (!cutover->fenced || cutover->fenced_by_command || st->source_dbname == NULL)))
	{
		log_error("%s", err);
		free(err);
		return EXIT_CONNECTION;
	}
	free(err);
	err = NULL;
	if ((*src = fence_connect_maintenance(opts->source, "source", &err)) == NULL)
	{
		log_error("%s", err);
		rc = EXIT_CONNECTION;
	}
	else if (!st->found || cutover->switched_over)
		*fenced_source = true;	/* a retired source: it stays closed */
	else if (!fence_lift_recorded(*src, st->source_dbname, cutover->fence_prior, opts->dry_run))
		rc = EXIT_SQL;
	else
	{
		PQfinish(*src);
		if ((*src = db_connect(opts->source, "source", CONN_NORMAL, &err)) == NULL)
		{
			log_error("%s", err);
			rc = EXIT_CONNECTION;
		}
	}
	free(err);
	return rc;
}

int
cmd_cleanup(Options *opts)
{
	PGconn	   *src = NULL,
			   *tgt = NULL;
	MigrationState st = {0};
	CutoverRecord cutover = {0};
	bool		fenced_source = false;
	char	   *err = NULL;
	int			rc = EXIT_OK;

	if (opts->source == NULL || opts->target == NULL)
	{
		log_error("cleanup needs both databases; fix: pass --source and --target");
		return EXIT_USAGE;
	}
	if (!confirm(opts))
		return EXIT_USAGE;
	if ((tgt = db_connect(opts->target, "target", CONN_NORMAL, &err)) == NULL)
	{
		log_error("%s", err);
		free(err);
		return EXIT_CONNECTION;
	}
	if (!state_load(tgt, opts->slot, &st))
	{
		rc = EXIT_SQL;
		goto done;
	}
	/* an unreadable record is one without a fence to lift */
	if (st.found && !cutover_read_record(tgt, opts->slot, &cutover))
		memset(&cutover, 0, sizeof(cutover));
	if ((rc = connect_source(opts, &st, &cutover, &src, &fenced_source)) != EXIT_OK)
		goto done;
	if (st.found && st.keeper_socket && !opts->dry_run)
	{
		SnapshotLease lease;

		if (snapshot_attach(st.keeper_socket, &lease))
		{
			snapshot_release(&lease);
			log_info("released the snapshot keeper (pid %d)", lease.keeper_pid);
		}
	}
	if (cutover.fenced && !cutover.switched_over && !fenced_source)
	{
		if (!fence_lift_recorded(src, PQdb(src), cutover.fence_prior, opts->dry_run))
			rc = EXIT_SQL;
		else if (!opts->dry_run)
			log_warn("the source database %s accepts writes again (the switchover fence is lifted)", PQdb(src));
	}
	if (rc == EXIT_OK)
		rc = drop_slot(src, opts, st.found && st.phase && strcmp(st.phase, "switched_over") == 0);
	if (rc == EXIT_OK && st.found && !restore_identity_columns(tgt, opts->slot, opts->dry_run))
		rc = EXIT_SQL;
	if (rc == EXIT_OK && st.found && !restore_quieted_triggers(src, tgt, opts->slot, opts->dry_run))
		rc = EXIT_SQL;
	/* verify --online's target-write triggers (dropping the schema drops them too) */
	if (rc == EXIT_OK && opts->keep_state)
	{
		if (opts->dry_run)
			printf("[target] SELECT pgcutover.unwatch_target_writes();\n");
		else if (verification_unwatch_target_writes(tgt) < 0)
			rc = EXIT_SQL;
	}
	if (rc == EXIT_OK && !opts->keep_state)
	{
		if (!run_or_print(tgt, "target", cutover_drop_state_statement(), opts->dry_run))
			rc = EXIT_SQL;
		else if (!opts->dry_run)
			log_info("dropped schema pgcutover on the target");
	}
	if (rc == EXIT_OK && fenced_source)
		log_info("DDL capture, if installed, stays on the old source: it refuses connections since the switchover (harmless there; 'pgcutover ddl-capture remove' drops it once you open it)");
	else if (rc == EXIT_OK)
		rc = remove_capture(src, opts);
	if (rc == EXIT_OK && opts->json)
		json_output_print(json_pack("{s:s, s:b}", "slot", opts->slot, "dry_run", opts->dry_run),
						  "cleanup", rc, JSON_DOCUMENT);
done:
	free(err);
	cutover_record_free(&cutover);
	state_free(&st);
	PQfinish(src);
	PQfinish(tgt);
	return rc;
}
