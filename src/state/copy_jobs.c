/*
 * copy_jobs.c
 *	  The copy's rows in the pgcutover state schema on the target: the
 *	  migration row through copy_init .. copied, copy_job, post_step,
 *	  copy_sequence, the totals and per-table summary of the copy's report,
 *	  and its progress for `status`.  The only code that
 *	  names those tables for the copy; see copy_jobs.h for the transaction
 *	  rule (none here: the caller's transaction holds the statement).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copy_jobs.h"
#include "log.h"
#include "pgconn.h"

static char *
dup_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : pg_strdup(PQgetvalue(res, row, col));
}

/* --- the migration row ------------------------------------------------- */

bool
copy_state_begin(PGconn *tgt, const char *slot, const char *keeper_socket,
				 const char *source_dbname)
{
	const char *params[3] = {slot, keeper_socket, source_dbname};

	return db_exec_params(tgt,
						  "INSERT INTO pgcutover.migration (slot_name, run_id, phase, keeper_socket, source_dbname, copy_started_at) "
						  "VALUES ($1, md5(random()::text || clock_timestamp()::text), 'copy_init', $2, $3, now())",
						  3, params);
}

bool
copy_state_discard_start(PGconn *tgt, const char *slot)
{
	const char *params[1] = {slot};

	return db_exec_params(tgt,
						  "DELETE FROM pgcutover.migration WHERE slot_name = $1 AND phase = 'copy_init'",
						  1, params);
}

bool
copy_state_record_snapshot(PGconn *tgt, const char *slot, const CopySnapshotRecord *rec)
{
	char		pid[16];
	char		version[16];
	char	   *arrays[4];
	const char *params[12];
	PGresult   *res;
	bool		ok;

	snprintf(pid, sizeof(pid), "%d", rec->keeper_pid);
	snprintf(version, sizeof(version), "%d", rec->source_version);
	params[0] = slot;
	params[1] = rec->consistent_lsn;
	params[2] = rec->snapshot_name;
	params[3] = rec->keeper_socket;
	params[4] = pid;
	params[5] = rec->source_sysid;
	params[6] = rec->source_dbname;
	params[7] = version;
	params[8] = arrays[0] = db_text_array(&rec->filters->include_schema);
	params[9] = arrays[1] = db_text_array(&rec->filters->exclude_schema);
	params[10] = arrays[2] = db_text_array(&rec->filters->include_table);
	params[11] = arrays[3] = db_text_array(&rec->filters->exclude_table);
	res = db_query_params(tgt,
						  "UPDATE pgcutover.migration SET phase = 'copy_schema', consistent_lsn = $2, snapshot_name = $3, "
						  "  keeper_socket = $4, keeper_pid = $5, source_sysid = $6, source_dbname = $7, source_version = $8, "
						  "  include_schema = $9, exclude_schema = $10, include_table = $11, exclude_table = $12, "
						  "  updated_at = now() "
						  "WHERE slot_name = $1 AND phase = 'copy_init' RETURNING 1",
						  12, params);
	ok = res != NULL && PQntuples(res) == 1;
	PQclear(res);
	for (int i = 0; i < 4; i++)
		free(arrays[i]);
	return ok;
}

bool
copy_state_finish(PGconn *tgt, const char *slot)
{
	const char *params[1] = {slot};

	return db_exec_params(tgt,
						  "UPDATE pgcutover.migration SET phase = 'copied', copy_finished_at = now(), "
						  "snapshot_name = NULL, keeper_socket = NULL, keeper_pid = NULL, updated_at = now() "
						  "WHERE slot_name = $1", 1, params);
}

bool
copy_state_totals(PGconn *tgt, const char *slot, CopyTotals *totals)
{
	const char *params[1] = {slot};
	PGresult   *res;
	bool		found;

	memset(totals, 0, sizeof(*totals));
	/* PQexecParams, not db_query_params: a missing state is no error to log here */
	res = PQexecParams(tgt,
					   "SELECT m.consistent_lsn::text, "
					   "  (SELECT count(DISTINCT (nspname, relname)) FROM pgcutover.copy_job j WHERE j.slot_name = m.slot_name), "
					   "  (SELECT count(*) FROM pgcutover.copy_job j WHERE j.slot_name = m.slot_name), "
					   "  (SELECT coalesce(sum(rows_copied), 0) FROM pgcutover.copy_job j WHERE j.slot_name = m.slot_name AND j.status = 'done'), "
					   "  (SELECT coalesce(sum(bytes_copied), 0) FROM pgcutover.copy_job j WHERE j.slot_name = m.slot_name AND j.status = 'done'), "
					   "  (SELECT count(*) FROM pgcutover.post_step p WHERE p.slot_name = m.slot_name AND p.step > 0), "
					   "  (SELECT count(*) FROM pgcutover.copy_sequence s WHERE s.slot_name = m.slot_name), "
					   "  extract(epoch FROM coalesce(m.copy_finished_at, now()) - m.copy_started_at) "
					   "FROM pgcutover.migration m WHERE m.slot_name = $1", 1, NULL, params, NULL, NULL, 0);
	found = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
	if (found)
	{
		totals->consistent_lsn = dup_or_null(res, 0, 0);
		totals->tables = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		totals->jobs = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
		totals->rows = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
		totals->bytes = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
		totals->post_steps = strtoll(PQgetvalue(res, 0, 5), NULL, 10);
		totals->sequences = strtoll(PQgetvalue(res, 0, 6), NULL, 10);
		totals->seconds_total = atof(PQgetvalue(res, 0, 7));
	}
	PQclear(res);
	return found;
}

void
copy_totals_free(CopyTotals *totals)
{
	free(totals->consistent_lsn);
	memset(totals, 0, sizeof(*totals));
}

/* --- data jobs ---------------------------------------------------------- */

bool
copy_job_add(PGconn *tgt, const char *slot, const CopyJob *job)
{
	char		part[16],
				parts[16],
				est[24];
	const char *params[10] = {slot, job->nspname, job->relname, part, parts,
		job->block_from, job->block_to, est, job->binary ? "t" : "f", job->columns};

	snprintf(part, sizeof(part), "%d", job->part);
	snprintf(parts, sizeof(parts), "%d", job->parts);
	snprintf(est, sizeof(est), "%lld", (long long) job->est_bytes);

	return db_exec_params(tgt,
						  "INSERT INTO pgcutover.copy_job (slot_name, nspname, relname, part, parts, "
						  "  block_from, block_to, est_bytes, binary_copy, columns) "
						  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", 10, params);
}

bool
copy_jobs_load_pending(PGconn *tgt, const char *slot, CopyJobList *list)
{
	const char *params[1] = {slot};
	PGresult   *res = db_query_params(tgt,
									  "SELECT nspname, relname, pg_catalog.quote_ident(nspname) || '.' || pg_catalog.quote_ident(relname), "
									  "  columns, part, parts, block_from, block_to, binary_copy, est_bytes "
									  "FROM pgcutover.copy_job WHERE slot_name = $1 AND status <> 'done' "
									  "ORDER BY est_bytes DESC, nspname, relname, part", 1, params);

	memset(list, 0, sizeof(*list));
	if (res == NULL)
		return false;
	list->count = PQntuples(res);
	list->jobs = pg_malloc0(sizeof(CopyJob) * (list->count + 1));
	for (int i = 0; i < list->count; i++)
	{
		CopyJob    *j = &list->jobs[i];

		j->nspname = pg_strdup(PQgetvalue(res, i, 0));
		j->relname = pg_strdup(PQgetvalue(res, i, 1));
		j->qualname = pg_strdup(PQgetvalue(res, i, 2));
		j->columns = pg_strdup(PQgetvalue(res, i, 3));
		j->part = atoi(PQgetvalue(res, i, 4));
		j->parts = atoi(PQgetvalue(res, i, 5));
		j->block_from = dup_or_null(res, i, 6);
		j->block_to = dup_or_null(res, i, 7);
		j->binary = PQgetvalue(res, i, 8)[0] == 't';
		j->est_bytes = strtoll(PQgetvalue(res, i, 9), NULL, 10);
	}
	PQclear(res);
	return true;
}

void
copy_job_list_free(CopyJobList *list)
{
	for (int i = 0; i < list->count; i++)
	{
		free(list->jobs[i].nspname);
		free(list->jobs[i].relname);
		free(list->jobs[i].qualname);
		free(list->jobs[i].columns);
		free(list->jobs[i].block_from);
		free(list->jobs[i].block_to);
	}
	free(list->jobs);
	memset(list, 0, sizeof(*list));
}

bool
copy_job_mark_done(PGconn *tgt, const char *slot, const CopyJob *job, int64_t rows, int64_t bytes)
{
	char		part[16],
				rowsbuf[24],
				bytesbuf[24];
	const char *params[6] = {slot, job->nspname, job->relname, part, rowsbuf, bytesbuf};

	snprintf(part, sizeof(part), "%d", job->part);
	snprintf(rowsbuf, sizeof(rowsbuf), "%lld", (long long) rows);
	snprintf(bytesbuf, sizeof(bytesbuf), "%lld", (long long) bytes);

	return db_exec_params(tgt,
						  "UPDATE pgcutover.copy_job SET status = 'done', rows_copied = $5, "
						  "bytes_copied = $6, started_at = now(), finished_at = clock_timestamp() "
						  "WHERE slot_name = $1 AND nspname = $2 AND relname = $3 AND part = $4",
						  6, params);
}

bool
copy_jobs_reset_running(PGconn *tgt, const char *slot)
{
	const char *params[1] = {slot};

	return db_exec_params(tgt,
						  "UPDATE pgcutover.copy_job SET status = 'pending', rows_copied = NULL, "
						  "bytes_copied = NULL, started_at = NULL "
						  "WHERE slot_name = $1 AND status = 'running'", 1, params);
}

bool
copy_jobs_done_totals(PGconn *tgt, const char *slot, CopyDoneTotals *totals)
{
	const char *params[1] = {slot};
	PGresult   *res = db_query_params(tgt,
									  "SELECT count(*), coalesce(sum(rows_copied), 0), coalesce(sum(bytes_copied), 0), "
									  "  coalesce(sum(est_bytes), 0) "
									  "FROM pgcutover.copy_job WHERE slot_name = $1 AND status = 'done'",
									  1, params);

	memset(totals, 0, sizeof(*totals));
	if (res == NULL)
		return false;
	totals->jobs = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	totals->rows = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	totals->bytes = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	totals->est_bytes = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	PQclear(res);
	return true;
}

bool
copy_progress_publish(PGconn *tgt, const char *slot, const char *phase,
					  const CopyJobRunning *running, int nrunning, const char *detail_json)
{
	json_t	   *list = json_array();
	char	   *jobs;
	const char *params[4];
	bool		ok;

	for (int i = 0; i < nrunning; i++)
		json_array_append_new(list, json_pack("{s:s, s:s, s:i, s:I, s:I}",
											  "nspname", running[i].job->nspname,
											  "relname", running[i].job->relname,
											  "part", running[i].job->part,
											  "rows", (json_int_t) running[i].rows,
											  "bytes", (json_int_t) running[i].bytes));
	jobs = json_dumps(list, JSON_COMPACT);
	params[0] = slot;
	params[1] = phase;
	params[2] = jobs;
	params[3] = detail_json;
	/* the CTE always runs; its WHERE skips a job done meanwhile */
	ok = db_exec_params(tgt,
					"WITH running AS ("
					"  UPDATE pgcutover.copy_job j SET status = 'running', rows_copied = r.rows, bytes_copied = r.bytes, "
					"    started_at = CASE WHEN j.status = 'running' THEN j.started_at ELSE now() END "
					"  FROM jsonb_to_recordset($3::jsonb) AS r(nspname text, relname text, part int, rows bigint, bytes bigint) "
					"  WHERE j.slot_name = $1 AND j.nspname = r.nspname AND j.relname = r.relname "
					"    AND j.part = r.part AND j.status <> 'done' RETURNING 1) "
					"UPDATE pgcutover.phase_log SET detail = coalesce($4::jsonb, '{}') "
					"  || jsonb_build_object('updated_at', now()) "
					"WHERE slot_name = $1 AND phase = $2",
					4, params);
	free(jobs);
	json_decref(list);
	return ok;
}

bool
copy_table_summary(PGconn *tgt, const char *slot, CopyTableSummaryList *list)
{
	const char *params[1] = {slot};
	PGresult   *res;

	memset(list, 0, sizeof(*list));

	/*
	 * A stage-1 step belongs to a table through the target's catalog: an
	 * INDEX step is named after its index, a CONSTRAINT step "table name".
	 */
	res = PQexecParams(tgt,
					   "WITH steps AS ("
					   "  SELECT coalesce(ic.nspname, cc.nspname) AS nspname, coalesce(ic.relname, cc.relname) AS relname, "
					   "         p.seconds "
					   "  FROM pgcutover.post_step p "
					   "  LEFT JOIN LATERAL (SELECT n.nspname::text, t.relname::text FROM pg_catalog.pg_class i "
					   "      JOIN pg_catalog.pg_index x ON x.indexrelid = i.oid "
					   "      JOIN pg_catalog.pg_class t ON t.oid = x.indrelid "
					   "      JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace "
					   "      WHERE p.kind = 'INDEX' AND i.relname = p.name LIMIT 1) ic ON true "
					   "  LEFT JOIN LATERAL (SELECT n.nspname::text, t.relname::text FROM pg_catalog.pg_constraint c "
					   "      JOIN pg_catalog.pg_class t ON t.oid = c.conrelid "
					   "      JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace "
					   "      WHERE p.kind = 'CONSTRAINT' AND t.relname || ' ' || c.conname = p.name LIMIT 1) cc ON true "
					   "  WHERE p.slot_name = $1 AND p.stage = 1 AND p.status = 'done') "
					   "SELECT j.nspname, j.relname, count(*), coalesce(sum(j.rows_copied), 0), "
					   "  coalesce(sum(j.bytes_copied), 0), "
					   "  coalesce(extract(epoch FROM max(j.finished_at) - min(j.started_at)), 0), "
					   "  (SELECT count(*) FROM steps s WHERE s.nspname = j.nspname AND s.relname = j.relname), "
					   "  (SELECT coalesce(sum(s.seconds), 0) FROM steps s WHERE s.nspname = j.nspname AND s.relname = j.relname) "
					   "FROM pgcutover.copy_job j WHERE j.slot_name = $1 AND j.status = 'done' "
					   "GROUP BY j.nspname, j.relname ORDER BY j.nspname, j.relname",
					   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		PQclear(res);
		return false;
	}
	list->count = PQntuples(res);
	list->tables = pg_malloc0(sizeof(CopyTableSummary) * (list->count + 1));
	for (int i = 0; i < list->count; i++)
	{
		CopyTableSummary *t = &list->tables[i];

		t->nspname = pg_strdup(PQgetvalue(res, i, 0));
		t->relname = pg_strdup(PQgetvalue(res, i, 1));
		t->parts = atoi(PQgetvalue(res, i, 2));
		t->rows = strtoll(PQgetvalue(res, i, 3), NULL, 10);
		t->bytes = strtoll(PQgetvalue(res, i, 4), NULL, 10);
		t->seconds = atof(PQgetvalue(res, i, 5));
		t->indexes = atoi(PQgetvalue(res, i, 6));
		t->index_seconds = atof(PQgetvalue(res, i, 7));
	}
	PQclear(res);
	return true;
}

void
copy_table_summary_free(CopyTableSummaryList *list)
{
	for (int i = 0; i < list->count; i++)
	{
		free(list->tables[i].nspname);
		free(list->tables[i].relname);
	}
	free(list->tables);
	memset(list, 0, sizeof(*list));
}

json_t *
copy_progress_json(PGconn *tgt, const char *slot)
{
	const char *params[1] = {slot};
	PGresult   *res;
	json_t	   *doc = NULL;

	/*
	 * A table is done when all its jobs are, waiting while none has started,
	 * in progress otherwise; "indexes" are the post-data steps of stages 1-2
	 * (indexes, keys, index attach), "post_steps" all of them.
	 */
	res = PQexecParams(tgt,
					   "WITH t AS ("
					   "  SELECT nspname, relname, count(*) AS parts, "
					   "    count(*) FILTER (WHERE status = 'done') AS parts_done, "
					   "    count(*) FILTER (WHERE status = 'running') AS parts_running, "
					   "    coalesce(sum(rows_copied), 0) AS rows, coalesce(sum(bytes_copied), 0) AS bytes, "
					   "    sum(est_bytes) AS est_bytes, "
					   "    extract(epoch FROM now() - min(started_at)) AS seconds "
					   "  FROM pgcutover.copy_job WHERE slot_name = $1 GROUP BY nspname, relname), "
					   "p AS (SELECT * FROM pgcutover.post_step WHERE slot_name = $1 AND step > 0), "
					   "counts AS (SELECT "
					   "  count(*) AS total, count(*) FILTER (WHERE status = 'done') AS done, "
					   "  count(*) FILTER (WHERE status = 'running') AS running FROM p WHERE stage <= 2), "
					   "all_counts AS (SELECT "
					   "  count(*) AS total, count(*) FILTER (WHERE status = 'done') AS done, "
					   "  count(*) FILTER (WHERE status = 'running') AS running FROM p), "
					   "est AS (SELECT detail FROM pgcutover.phase_log "
					   "  WHERE slot_name = $1 AND phase IN ('copy_data', 'copy_post') AND detail IS NOT NULL "
					   "  ORDER BY (detail->>'updated_at')::timestamptz DESC LIMIT 1) "
					   "SELECT jsonb_build_object("
					   "  'phase', m.phase, "
					   "  'tables', jsonb_build_object("
					   "    'total', (SELECT count(*) FROM t), "
					   "    'done', (SELECT count(*) FROM t WHERE parts_done = parts), "
					   "    'in_progress', (SELECT count(*) FROM t WHERE parts_done < parts AND parts_done + parts_running > 0), "
					   "    'waiting', (SELECT count(*) FROM t WHERE parts_done + parts_running = 0)), "
					   "  'indexes', (SELECT jsonb_build_object('total', total, 'done', done, 'in_progress', running, "
					   "    'waiting', total - done - running) FROM counts), "
					   "  'post_steps', (SELECT jsonb_build_object('total', total, 'done', done, 'in_progress', running, "
					   "    'waiting', total - done - running) FROM all_counts), "
					   "  'rows', (SELECT coalesce(sum(rows), 0) FROM t), "
					   "  'bytes', (SELECT coalesce(sum(bytes), 0) FROM t), "
					   "  'bytes_planned', (SELECT coalesce(sum(est_bytes), 0) FROM t), "
					   "  'tables_in_progress', (SELECT coalesce(jsonb_agg(jsonb_build_object("
					   "       'schema', nspname, 'table', relname, 'parts', parts, 'parts_done', parts_done, "
					   "       'rows', rows, 'bytes', bytes, 'bytes_planned', est_bytes, "
					   "       'seconds', round(seconds::numeric, 1)) ORDER BY nspname, relname), '[]') "
					   "     FROM t WHERE parts_done < parts AND parts_done + parts_running > 0), "
					   "  'indexes_in_progress', (SELECT coalesce(jsonb_agg(jsonb_build_object("
					   "       'kind', kind, 'name', name, "
					   "       'seconds', round(extract(epoch FROM now() - started_at)::numeric, 1)) ORDER BY step), '[]') "
					   "     FROM p WHERE status = 'running'), "
					   "  'estimate', (SELECT detail - 'updated_at' FROM est), "
					   "  'seconds_since_update', (SELECT round(extract(epoch FROM now() - (detail->>'updated_at')::timestamptz)::numeric, 1) FROM est)"
					   ")::text "
					   "FROM pgcutover.migration m "
					   "WHERE m.slot_name = $1 AND EXISTS (SELECT 1 FROM t)",
					   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		doc = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	PQclear(res);
	return doc;
}

/* --- post-data steps ---------------------------------------------------- */

bool
post_step_add(PGconn *tgt, const char *slot, const PostStep *step)
{
	char		stepbuf[16],
				stagebuf[16];
	const char *params[6] = {slot, stepbuf, stagebuf, step->kind, step->name, step->sql};

	snprintf(stepbuf, sizeof(stepbuf), "%d", step->step);
	snprintf(stagebuf, sizeof(stagebuf), "%d", step->stage);

	return db_exec_params(tgt,
						  "INSERT INTO pgcutover.post_step (slot_name, step, stage, kind, name, sql) "
						  "VALUES ($1, $2, $3, $4, $5, $6)", 6, params);
}

bool
post_steps_load_preamble(PGconn *tgt, const char *slot, char **preamble)
{
	const char *params[1] = {slot};
	PGresult   *res = db_query_params(tgt,
									  "SELECT sql FROM pgcutover.post_step WHERE slot_name = $1 AND stage = 0",
									  1, params);

	*preamble = NULL;
	if (res == NULL)
		return false;
	if (PQntuples(res) > 0)
		*preamble = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return true;
}

bool
post_steps_load_stage(PGconn *tgt, const char *slot, int stage, PostStepList *list)
{
	char		stagebuf[16];
	const char *params[2] = {slot, stagebuf};
	PGresult   *res;

	memset(list, 0, sizeof(*list));
	snprintf(stagebuf, sizeof(stagebuf), "%d", stage);
	res = db_query_params(tgt,
						  "SELECT step, kind, name, sql FROM pgcutover.post_step "
						  "WHERE slot_name = $1 AND stage = $2 AND status <> 'done' ORDER BY step",
						  2, params);
	if (res == NULL)
		return false;
	list->count = PQntuples(res);
	list->steps = pg_malloc0(sizeof(PostStep) * (list->count + 1));
	for (int i = 0; i < list->count; i++)
	{
		list->steps[i].step = atoi(PQgetvalue(res, i, 0));
		list->steps[i].stage = stage;
		list->steps[i].kind = pg_strdup(PQgetvalue(res, i, 1));
		list->steps[i].name = pg_strdup(PQgetvalue(res, i, 2));
		list->steps[i].sql = pg_strdup(PQgetvalue(res, i, 3));
	}
	PQclear(res);
	return true;
}

void
post_step_list_free(PostStepList *list)
{
	for (int i = 0; i < list->count; i++)
	{
		free(list->steps[i].kind);
		free(list->steps[i].name);
		free(list->steps[i].sql);
	}
	free(list->steps);
	memset(list, 0, sizeof(*list));
}

bool
post_step_mark_running(PGconn *conn, const char *slot, int step)
{
	char		stepbuf[16];
	const char *params[2] = {slot, stepbuf};

	snprintf(stepbuf, sizeof(stepbuf), "%d", step);

	return db_exec_params(conn,
						  "UPDATE pgcutover.post_step SET status = 'running', started_at = now() "
						  "WHERE slot_name = $1 AND step = $2 AND status <> 'done'", 2, params);
}

bool
post_steps_reset_running(PGconn *tgt, const char *slot)
{
	const char *params[1] = {slot};

	return db_exec_params(tgt,
						  "UPDATE pgcutover.post_step SET status = 'pending', started_at = NULL "
						  "WHERE slot_name = $1 AND status = 'running'", 1, params);
}

bool
post_step_mark_done(PGconn *tgt, const char *slot, int step, double seconds)
{
	char		stepbuf[16],
				secs[32];
	const char *params[3] = {slot, stepbuf, secs};

	snprintf(stepbuf, sizeof(stepbuf), "%d", step);
	snprintf(secs, sizeof(secs), "%.3f", seconds);

	return db_exec_params(tgt,
						  "UPDATE pgcutover.post_step SET status = 'done', seconds = $3 "
						  "WHERE slot_name = $1 AND step = $2", 3, params);
}

/* --- sequences ---------------------------------------------------------- */

bool
copy_sequence_add(PGconn *tgt, const char *slot, const char *nspname, const char *relname,
				  const char *last_value, bool is_called)
{
	const char *params[5] = {slot, nspname, relname, last_value, is_called ? "true" : "false"};

	return db_exec_params(tgt,
						  "INSERT INTO pgcutover.copy_sequence (slot_name, nspname, relname, last_value, is_called) "
						  "VALUES ($1, $2, $3, $4, $5)", 5, params);
}

bool
copy_sequences_apply(PGconn *tgt, const char *slot, int *count)
{
	const char *params[1] = {slot};
	PGresult   *res = db_query_params(tgt,
									  "SELECT pg_catalog.setval(pg_catalog.format('%I.%I', nspname, relname)::pg_catalog.regclass, last_value, is_called) "
									  "FROM pgcutover.copy_sequence s "
									  "WHERE slot_name = $1 AND pg_catalog.to_regclass(pg_catalog.format('%I.%I', nspname, relname)) IS NOT NULL",
									  1, params);

	*count = 0;
	if (res == NULL)
		return false;
	*count = PQntuples(res);
	PQclear(res);
	return true;
}
