/*
 * copy.c
 *	  The copy engine, stage 1 of a migration.  Creates the slot with an
 *	  exported snapshot (held by the snapshot keeper), then runs the phases
 *	  recorded as the migration's phase in the state on the target:
 *
 *	    copy_schema -> copy_data (tables, then large objects) -> copy_post -> copied
 *
 *	  A rerun looks at the phase and continues from there, in the same
 *	  snapshot; if the snapshot is gone while it is still needed, it says so
 *	  and never mixes snapshots.  It prints nothing but log lines: what it
 *	  did goes into a CopyResult, which src/cli/cmd_copy.c reports.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "copy.h"
#include "copy_jobs.h"
#include "copy_lo.h"
#include "dsn.h"
#include "log.h"
#include "outcome.h"
#include "pgconn.h"
#include "pgdump.h"
#include "preflight.h"
#include "signals.h"
#include "state.h"
#include "subprocess.h"

static void
install_signal_handlers(void)
{
	signals_install();
	signal(SIGPIPE, SIG_IGN);
}

/* Runs the preflight; logs each FAIL and returns false if any. */
static int
preflight_for_copy(CopyContext *ctx)
{
	Findings	f = {0};
	int			rc = OUTCOME_OK;

	preflight_run(ctx->src, ctx->tgt, ctx->opts, &f);
	for (int i = 0; i < f.count; i++)
		if (f.items[i].status == FINDING_FAIL)
			log_error("preflight %s: %s; fix: %s", f.items[i].check, f.items[i].message,
					  f.items[i].fix ? f.items[i].fix : "see 'pgcutover check'");
	if (f.nfail > 0)
	{
		log_error("copy refused: %d preflight check(s) failed; fix: resolve them (see 'pgcutover check')", f.nfail);
		rc = OUTCOME_PREFLIGHT;
	}
	findings_free(&f);
	return rc;
}

/* Creates slot + snapshot and the migration row. */
static int
start_new_copy(CopyContext *ctx)
{
	char	   *err = NULL;
	char		lsn[LSN_FORMAT_LEN];
	char	   *sysid;
	CopySnapshotRecord rec;
	bool		recorded;

	char		sock[108];

	/* a slot of another migration: refuse before anything is written to the target */
	{
		const char *sp[1] = {ctx->slot};
		PGresult   *sr = db_query_params(ctx->src,
										 "SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
										 1, sp);
		bool		taken = sr == NULL || PQntuples(sr) > 0;

		PQclear(sr);
		if (sr == NULL)
			return OUTCOME_SQL;
		if (taken)
		{
			log_error("replication slot \"%s\" already exists on the source but this target has no migration for it; fix: pass another --slot, or drop it with 'pgcutover cleanup --slot %s' if it is left over",
					  ctx->slot, ctx->slot);
			return OUTCOME_STATE;
		}
	}
	if (!state_install(ctx->tgt))
		return OUTCOME_SQL;
	/*
	 * Record the intent first (phase copy_init, the keeper's socket): a copy
	 * killed between creating the slot and recording it leaves a row that
	 * says the slot is ours, so the rerun can drop it and start over.
	 */
	if (!snapshot_socket_path(ctx->slot, sock, sizeof(sock), &err))
	{
		log_error("%s", err);
		free(err);
		return OUTCOME_USAGE;
	}
	if (!copy_state_begin(ctx->tgt, ctx->slot, sock, PQdb(ctx->src)))
		return OUTCOME_SQL;
	log_info("creating replication slot %s (wal2json) with an exported snapshot", ctx->slot);
	if (!snapshot_create(ctx->opts->source, ctx->slot, ctx->opts->snapshot_hold, &ctx->lease,
						 &ctx->stats.seconds_slot, &err))
	{
		log_error("%s", err);
		free(err);
		(void) copy_state_discard_start(ctx->tgt, ctx->slot);
		return signals_interrupts() > 0 ? OUTCOME_INTERRUPTED : OUTCOME_STATE;
	}
	sysid = db_scalar(ctx->src, "SELECT system_identifier::text FROM pg_catalog.pg_control_system()");
	rec = (CopySnapshotRecord)
	{
		.consistent_lsn = lsn_format(ctx->lease.consistent_lsn, lsn),
			.snapshot_name = ctx->lease.snapshot,
			.keeper_socket = ctx->lease.socket_path,
			.keeper_pid = ctx->lease.keeper_pid,
			.source_sysid = sysid,
			.source_dbname = PQdb(ctx->src),
			.source_version = PQserverVersion(ctx->src),
			.filters = ctx->opts,
	};
	recorded = copy_state_record_snapshot(ctx->tgt, ctx->slot, &rec);
	free(sysid);
	if (!recorded)
	{
		log_error("cannot record the migration on the target; the slot %s exists on the source: drop it with 'pgcutover cleanup --slot %s'",
				  ctx->slot, ctx->slot);
		return OUTCOME_SQL;
	}
	log_info("slot %s created at consistent point %s, snapshot %s", ctx->slot, lsn, ctx->lease.snapshot);
	return OUTCOME_OK;
}

/*
 * A copy killed while it created its slot (phase copy_init): nothing was
 * copied yet.  Ends that run's keeper, drops the half-made slot and the row,
 * so the caller can start over.
 */
static int
discard_unfinished_start(CopyContext *ctx, const MigrationState *st)
{
	const char *params[1] = {ctx->slot};
	SnapshotLease old = {.fd = -1};
	PGresult   *res = NULL;
	bool		active = false;

	log_warn("an earlier copy of slot %s was stopped while it created the slot; nothing was copied: starting over",
			 ctx->slot);
	if (st->keeper_socket && snapshot_attach(st->keeper_socket, &old))
		snapshot_release(&old);
	/* that run's keeper may still be creating the slot: it drops it itself then */
	for (int tries = 0; tries < 100; tries++)
	{
		PQclear(res);
		res = db_query_params(ctx->src,
							  "SELECT s.active OR EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a "
							  "  WHERE a.backend_type = 'walsender' AND a.state = 'active' "
							  "  AND a.query LIKE 'CREATE\\_REPLICATION\\_SLOT \"' || $1 || '\"%') "
							  "FROM (SELECT $1::text AS slot_name) x "
							  "LEFT JOIN pg_catalog.pg_replication_slots s USING (slot_name) "
							  "WHERE s.slot_name IS NOT NULL OR EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a "
							  "  WHERE a.backend_type = 'walsender' AND a.state = 'active' "
							  "  AND a.query LIKE 'CREATE\\_REPLICATION\\_SLOT \"' || $1 || '\"%')",
							  1, params);
		active = res && PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
		if (!active)
			break;
		usleep(100 * 1000);
	}
	if (res == NULL)
		return OUTCOME_SQL;
	if (active)
	{
		PQclear(res);
		log_error("slot %s is still in use on the source; fix: stop the process that uses it (see pg_replication_slots.active_pid), then rerun copy",
				  ctx->slot);
		return OUTCOME_STATE;
	}
	if (PQntuples(res) == 1)
	{
		PQclear(res);
		res = db_query_params(ctx->src, "SELECT pg_catalog.pg_drop_replication_slot(slot_name) "
							  "FROM pg_catalog.pg_replication_slots WHERE slot_name = $1 AND NOT active", 1, params);
		if (res == NULL)
			return OUTCOME_SQL;
		log_info("dropped the half-made slot %s", ctx->slot);
	}
	PQclear(res);
	return copy_state_discard_start(ctx->tgt, ctx->slot) ? OUTCOME_OK : OUTCOME_SQL;
}

/* Re-attaches to the snapshot of an interrupted copy, or explains why not. */
static int
resume_copy(CopyContext *ctx, const MigrationState *st)
{
	const char *params[1] = {ctx->slot};
	PGresult   *res = db_query_params(ctx->src,
									  "SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
									  1, params);
	bool		slot_exists = res && PQntuples(res) == 1;

	PQclear(res);
	if (res == NULL)
		return OUTCOME_SQL;
	if (!slot_exists)
	{
		log_error("slot %s of the interrupted copy no longer exists on the source, so a consistent resume is impossible; fix: run 'pgcutover cleanup --slot %s' and start the copy again",
				  ctx->slot, ctx->slot);
		return OUTCOME_STATE;
	}
	if (!snapshot_attach(st->keeper_socket, &ctx->lease) ||
		strcmp(ctx->lease.snapshot, st->snapshot_name ? st->snapshot_name : "") != 0)
	{
		if (strcmp(st->phase, "copy_post") == 0)
			return OUTCOME_OK;		/* the snapshot is not needed any more */
		log_error("the exported snapshot %s of the interrupted copy is gone (its keeper process ended), so a consistent resume is impossible; fix: run 'pgcutover cleanup --slot %s' and start the copy again",
				  st->snapshot_name ? st->snapshot_name : "?", ctx->slot);
		return OUTCOME_STATE;
	}
	log_info("resuming the copy of slot %s in phase %s, snapshot %s", ctx->slot, st->phase,
			 ctx->lease.snapshot);
	return OUTCOME_OK;
}

/* pg_dump -Fc of the whole source in the same snapshot, with a .sha256. */
static int
write_backup(CopyContext *ctx, char **path_out)
{
	char	   *password;
	char	   *dsn = dsn_without_password(ctx->opts->source, &password);
	char	   *path = psprintf("%s/%s-%s.dump", ctx->opts->backup_dir, PQdb(ctx->src), ctx->slot);
	char	   *sumpath = psprintf("%s.sha256", path);
	char	   *dump = psprintf("%s/pg_dump", ctx->pg_bin);
	char	   *dbarg = psprintf("--dbname=%s", dsn);
	char	   *snap = psprintf("--snapshot=%s", ctx->lease.snapshot);
	char	   *filearg = psprintf("--file=%s", path);
	char	   *argv[] = {dump, dbarg, snap, "--format=custom", filearg, NULL};
	char	   *sumv[] = {"sha256sum", path, NULL};
	SubprocessOutput res;
	int			rc = OUTCOME_OK;

	if (password == NULL)		/* typed on the terminal */
		password = db_known_password(ctx->opts->source);
	log_info("writing backup %s in the same snapshot", path);
	if (!subprocess_run(argv, password, false, NULL, &res))
	{
		log_error("backup with pg_dump failed: %s; fix: check --backup %s is writable and has room",
				  res.err, ctx->opts->backup_dir);
		rc = OUTCOME_BUG;
	}
	subprocess_output_free(&res);
	if (rc == OUTCOME_OK && !subprocess_run(sumv, NULL, false, sumpath, &res))
	{
		log_error("sha256sum of the backup failed: %s", res.err);
		rc = OUTCOME_BUG;
	}
	subprocess_output_free(&res);
	*path_out = rc == OUTCOME_OK ? path : NULL;
	if (rc != OUTCOME_OK)
		free(path);
	free(sumpath);
	free(dump);
	free(dbarg);
	free(snap);
	free(filearg);
	free(dsn);
	free(password);
	return rc;
}

static int
finish_copy(CopyContext *ctx)
{
	int			rc = copy_sequences_run(ctx);

	if (rc != OUTCOME_OK)
		return rc;
	return copy_state_finish(ctx->tgt, ctx->slot) ? OUTCOME_OK : OUTCOME_SQL;
}

/* Runs the phases from where the state says we are. */
static int
run_phases(CopyContext *ctx, const char *phase, char **backup_path)
{
	int			rc = OUTCOME_OK;
	char	   *err = NULL;

	if (strcmp(phase, "copy_schema") == 0 || strcmp(phase, "copy_data") == 0)
	{
		PQfinish(ctx->src);
		if ((ctx->src = copy_connect_snapshot(ctx, &err)) == NULL)
		{
			log_error("%s", err);
			free(err);
			return OUTCOME_STATE;
		}
	}
	if (strcmp(phase, "copy_schema") == 0)
	{
		if ((rc = copy_schema_run(ctx)) != OUTCOME_OK)
			return rc;
		phase = "copy_data";
	}
	if (strcmp(phase, "copy_data") == 0)
	{
		if ((rc = copy_data_run(ctx)) != OUTCOME_OK ||
			(rc = copy_large_objects_run(ctx)) != OUTCOME_OK)
			return rc;
		if (ctx->opts->backup_dir && (rc = write_backup(ctx, backup_path)) != OUTCOME_OK)
			return rc;
		if (!state_phase_end(ctx->tgt, ctx->slot, "copy_data") ||
			!state_set_phase(ctx->tgt, ctx->slot, "copy_post"))
			return OUTCOME_SQL;
		snapshot_release(&ctx->lease);
		phase = "copy_post";
	}
	if (strcmp(phase, "copy_post") == 0)
	{
		snapshot_release(&ctx->lease);
		if ((rc = copy_post_run(ctx)) != OUTCOME_OK)
			return rc;
		rc = finish_copy(ctx);
	}
	return rc;
}

/*
 * Fills what the report needs: this run's phase times and, from the state so
 * that resumed runs add up, the totals.
 */
static void
collect_result(CopyContext *ctx, Outcome rc, CopyResult *result)
{
	struct rusage ru;

	result->seconds_slot = ctx->stats.seconds_slot;
	result->seconds_schema = ctx->stats.seconds_schema;
	result->seconds_data = ctx->stats.seconds_data;
	result->seconds_post = ctx->stats.seconds_post;
	if (rc == OUTCOME_OK || rc == OUTCOME_STATE)
		result->have_totals = copy_state_totals(ctx->tgt, ctx->slot, &result->totals);
	if (result->have_totals)
		(void) copy_table_summary(ctx->tgt, ctx->slot, &result->tables);
	getrusage(RUSAGE_SELF, &ru);
	result->peak_rss_kb = ru.ru_maxrss;
}

void
copy_result_free(CopyResult *result)
{
	copy_totals_free(&result->totals);
	copy_table_summary_free(&result->tables);
	free(result->backup_path);
	free(result->pg_bin);
	memset(result, 0, sizeof(*result));
}

Outcome
copy_run(const Options *opts, CopyResult *result)
{
	CopyContext ctx = {.opts = opts, .slot = opts->slot, .interrupted = signals_interrupt_flag()};
	MigrationState st = {0};
	char	   *err = NULL;
	Outcome		rc;

	memset(result, 0, sizeof(*result));
	ctx.lease.fd = -1;
	if (opts->source == NULL || opts->target == NULL)
	{
		log_error("copy needs both databases; fix: pass --source and --target (or set PGCUTOVER_SOURCE/PGCUTOVER_TARGET)");
		return OUTCOME_USAGE;
	}
	install_signal_handlers();
	if (!db_connect_both(opts, &ctx.src, &ctx.tgt))
	{
		rc = OUTCOME_CONNECTION;
		goto done;
	}
	/* a pg_dump the pair accepts, before any slot exists */
	if ((ctx.pg_bin = pgdump_find(opts->pg_bin_dir, db_major_version(ctx.src),
								  db_major_version(ctx.tgt), NULL, &err)) == NULL)
	{
		log_error("%s", err);
		rc = OUTCOME_PREFLIGHT;
		goto done;
	}
	if (!state_load(ctx.tgt, ctx.slot, &st))
	{
		rc = OUTCOME_SQL;
		goto done;
	}
	if (st.found && strncmp(st.phase, "copy_", 5) != 0)
	{
		log_info("the copy for slot %s is already complete (phase %s); next: pgcutover follow", ctx.slot, st.phase);
		rc = OUTCOME_OK;
		goto done;
	}
	if (opts->dry_run)
	{
		/* a resume skips the new copy's preflight (its target is not empty) */
		rc = st.found ? OUTCOME_OK : preflight_for_copy(&ctx);
		result->dry_run = true;
		result->dry_run_resumes = st.found;
		result->pg_bin = pg_strdup(ctx.pg_bin);
		goto done;
	}
	if (st.found && strcmp(st.phase, "copy_init") == 0)
	{
		if ((rc = discard_unfinished_start(&ctx, &st)) != OUTCOME_OK)
			goto done;
		st.found = false;
	}
	if (st.found)
	{
		result->resumed = true;
		/* a copy begun by an older pgcutover may lack the newer columns */
		rc = state_install(ctx.tgt) ? resume_copy(&ctx, &st) : OUTCOME_SQL;
	}
	else if ((rc = preflight_for_copy(&ctx)) == OUTCOME_OK)
	{
		rc = start_new_copy(&ctx);
		free(st.phase);
		st.phase = pg_strdup("copy_schema");
	}
	if (rc == OUTCOME_OK)
		rc = run_phases(&ctx, st.phase, &result->backup_path);
	/* a phase after the data failed: the index builds in hand end, no more start */
	(void) index_builder_finish(&ctx, false);
	if (rc == OUTCOME_INTERRUPTED)
		log_error("copy interrupted; the snapshot is kept for %g s: rerun 'pgcutover copy' to resume",
				  opts->snapshot_hold);
	result->attempted = true;
	collect_result(&ctx, rc, result);
done:
	if (ctx.lease.fd >= 0)
		close(ctx.lease.fd);	/* keeps the snapshot for a resume */
	state_free(&st);
	free(err);
	free(ctx.pg_bin);
	PQfinish(ctx.src);
	PQfinish(ctx.tgt);
	return rc;
}
