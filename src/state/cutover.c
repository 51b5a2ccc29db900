/*
 * cutover.c
 *	  The statements on schema pgcutover that the switchover, `status` and
 *	  `cleanup` need: the fence record and the switched-over mark on the
 *	  migration row, the drain's applied position, the relaxed identity
 *	  columns, the follower's live state, the reverse migration on the old
 *	  source, and dropping the schema.  Callers see functions and structs, never table names.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cutover.h"
#include "pgconn.h"
#include "state.h"

static char *
value_or_null(PGresult *res, int row, int column)
{
	return PQgetisnull(res, row, column) ? NULL : pg_strdup(PQgetvalue(res, row, column));
}

static double
double_or(PGresult *res, int column, double if_null)
{
	return PQgetisnull(res, 0, column) ? if_null : atof(PQgetvalue(res, 0, column));
}

bool
cutover_read_record(PGconn *tgt, const char *slot, CutoverRecord *rec)
{
	const char *params[1] = {slot};
	PGresult   *res;
	bool		ok = false;

	memset(rec, 0, sizeof(*rec));
	/* not db_query_params: a missing schema is an answer here, not an error */
	res = PQexecParams(tgt,
					   "SELECT phase = 'switched_over', fenced_at IS NOT NULL, "
					   "  coalesce(fence_mode, '') = 'none', switched_over_at::text, fenced_at::text, "
					   "  fence_prior "
					   "FROM pgcutover.migration WHERE slot_name = $1",
					   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		goto done;
	ok = true;
	if (PQntuples(res) != 1)
		goto done;
	rec->found = true;
	rec->switched_over = PQgetvalue(res, 0, 0)[0] == 't';
	rec->fenced = PQgetvalue(res, 0, 1)[0] == 't';
	rec->fenced_by_command = PQgetvalue(res, 0, 2)[0] == 't';
	rec->switched_over_at = value_or_null(res, 0, 3);
	rec->fenced_at = value_or_null(res, 0, 4);
	rec->fence_prior = value_or_null(res, 0, 5);
done:
	PQclear(res);
	return ok;
}

void
cutover_record_free(CutoverRecord *rec)
{
	free(rec->fenced_at);
	free(rec->switched_over_at);
	free(rec->fence_prior);
	memset(rec, 0, sizeof(*rec));
}

char *
cutover_follower_source_pids(PGconn *tgt, const char *slot)
{
	const char *params[1] = {slot};
	PGresult   *res = PQexecParams(tgt,
								   "SELECT coalesce(source_pids, '{}')::text FROM pgcutover.follower WHERE slot_name = $1",
								   1, NULL, params, NULL, NULL, 0);
	char	   *pids = pg_strdup(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
								 ? PQgetvalue(res, 0, 0) : "{}");

	PQclear(res);
	return pids;
}

bool
cutover_record_fence(PGconn *tgt, const char *slot, const char *fence_mode,
					 const char *prior_json)
{
	const char *params[3] = {slot, fence_mode, prior_json};
	PGresult   *res = PQexecParams(tgt,
								   "UPDATE pgcutover.migration SET fenced_at = now(), fence_mode = $2, "
								   "  fence_prior = coalesce(CASE WHEN fenced_at IS NOT NULL THEN fence_prior END, $3) "
								   "WHERE slot_name = $1",
								   3, NULL, params, NULL, NULL, 0);
	bool		ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	PQclear(res);
	return ok;
}

bool
cutover_record_unfence(PGconn *tgt, const char *slot)
{
	const char *params[1] = {slot};

	/*
	 * One parameter only: an unused "$2 IS NOT NULL" has no type the server
	 * can infer, the statement failed, and the state said "fenced" after an
	 * abort.
	 */
	PGresult   *res = PQexecParams(tgt,
								   "UPDATE pgcutover.migration SET fenced_at = NULL, fence_mode = NULL, fence_prior = NULL WHERE slot_name = $1",
								   1, NULL, params, NULL, NULL, 0);
	bool		ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	PQclear(res);
	return ok;
}

bool
cutover_applied_reached(PGconn *tgt, const char *slot, const char *lsn)
{
	const char *params[2] = {slot, lsn};
	PGresult   *res = db_query_params(tgt,
									  "SELECT applied_lsn >= $2::pg_lsn FROM pgcutover.apply_progress WHERE slot_name = $1",
									  2, params);
	bool		reached = res && PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';

	PQclear(res);
	return reached;
}

const char *
cutover_drain_wait_description(void)
{
	return "-- wait until pgcutover.apply_progress.applied_lsn >= that LSN";
}

bool
cutover_mark_switched_over(PGconn *tgt, const char *slot)
{
	const char *params[1] = {slot};

	return db_exec_params(tgt,
						  "UPDATE pgcutover.migration SET phase = 'switched_over', switched_over_at = now() WHERE slot_name = $1",
						  1, params);
}

char *
cutover_mark_switched_over_sql(const char *slot)
{
	return psprintf("UPDATE pgcutover.migration SET phase = 'switched_over' WHERE slot_name = '%s'", slot);
}

bool
cutover_record_reverse_migration(PGconn *new_source, const char *forward_slot,
								 PGconn *old_source, const char *reverse_slot,
								 const char *start_lsn, const char *rest_fence_prior)
{
	const char *forward_params[1] = {forward_slot};
	const char *params[7] = {reverse_slot, start_lsn, "{}", "{}", "{}", "{}", rest_fence_prior};
	PGresult   *filters;
	PGresult   *res = NULL;

	/* no filters readable: the reverse stream carries everything */
	filters = PQexecParams(new_source,
						   "SELECT include_schema::text, exclude_schema::text, include_table::text, exclude_table::text "
						   "FROM pgcutover.migration WHERE slot_name = $1",
						   1, NULL, forward_params, NULL, NULL, 0);
	if (PQresultStatus(filters) == PGRES_TUPLES_OK && PQntuples(filters) == 1)
		for (int i = 0; i < 4; i++)
			params[2 + i] = PQgetvalue(filters, 0, i);
	if (state_install(old_source))
		res = db_query_params(old_source,
							  "INSERT INTO pgcutover.migration (slot_name, run_id, phase, consistent_lsn, "
							  "  include_schema, exclude_schema, include_table, exclude_table, copy_finished_at, "
							  "  rest_fence_prior) "
							  "VALUES ($1, md5(random()::text), 'copied', $2, $3, $4, $5, $6, now(), $7) "
							  "ON CONFLICT (slot_name) DO UPDATE SET phase = 'copied', consistent_lsn = EXCLUDED.consistent_lsn, "
							  "  rest_fence_prior = coalesce(EXCLUDED.rest_fence_prior, pgcutover.migration.rest_fence_prior)",
							  7, params);
	PQclear(filters);
	PQclear(res);
	return res != NULL;
}

bool
cutover_read_rest_fence_prior(PGconn *tgt, const char *slot, char **prior_json)
{
	const char *params[1] = {slot};
	PGresult   *res = db_query_params(tgt,
									  "SELECT rest_fence_prior FROM pgcutover.migration WHERE slot_name = $1",
									  1, params);

	*prior_json = NULL;
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		*prior_json = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return true;
}

bool
cutover_forget_rest_fence_prior(PGconn *tgt, const char *slot)
{
	const char *params[1] = {slot};

	return db_exec_params(tgt,
						  "UPDATE pgcutover.migration SET rest_fence_prior = NULL WHERE slot_name = $1",
						  1, params);
}

bool
cutover_identity_restore_statements(PGconn *tgt, const char *slot, StrList *statements)
{
	const char *params[1] = {slot};
	PGresult   *res = PQexecParams(tgt,
								   "SELECT pg_catalog.format('ALTER TABLE %I.%I ALTER COLUMN %I SET GENERATED ALWAYS', "
								   "  nspname, relname, attname) FROM pgcutover.identity_always WHERE slot_name = $1",
								   1, NULL, params, NULL, NULL, 0);
	bool		ok = PQresultStatus(res) == PGRES_TUPLES_OK;

	for (int i = 0; ok && i < PQntuples(res); i++)
		strlist_add(statements, PQgetvalue(res, i, 0));
	PQclear(res);
	return ok;
}

bool
cutover_forget_relaxed_identities(PGconn *tgt, const char *slot)
{
	const char *params[1] = {slot};
	PGresult   *res = PQexecParams(tgt, "DELETE FROM pgcutover.identity_always WHERE slot_name = $1",
								   1, NULL, params, NULL, NULL, 0);
	bool		ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	PQclear(res);
	return ok;
}

const char *
cutover_drop_state_statement(void)
{
	return "DROP SCHEMA IF EXISTS pgcutover CASCADE";
}

bool
cutover_read_progress(PGconn *tgt, const char *slot, CutoverProgress *progress)
{
	const char *params[1] = {slot};
	PGresult   *res;

	memset(progress, 0, sizeof(*progress));
	progress->lag_seconds = -1;
	progress->since_seen = -1;
	res = db_query_params(tgt,
						  "SELECT m.phase, GREATEST(p.applied_lsn, f.applied_lsn)::text, f.pid, f.phase, f.lag_seconds, f.txn_per_sec, f.rows_per_sec, "
						  "  f.updated_at::text, f.last_error, "
						  "  EXISTS (SELECT 1 FROM pg_catalog.pg_locks l WHERE l.locktype = 'advisory' AND l.objsubid = 1 "
						  "          AND ((l.classid::bigint << 32) | l.objid::bigint) = "
						  "              pg_catalog.hashtext('pgcutover follow ' || m.slot_name)::bigint AND l.granted), "
						  "  extract(epoch FROM pg_catalog.now() - f.behind_since), f.lag_bytes, f.source_lsn::text, "
						  "  extract(epoch FROM pg_catalog.now() - f.updated_at) "
						  "FROM pgcutover.migration m "
						  "LEFT JOIN pgcutover.apply_progress p ON p.slot_name = m.slot_name "
						  "LEFT JOIN pgcutover.follower f ON f.slot_name = m.slot_name "
						  "WHERE m.slot_name = $1", 1, params);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1)
	{
		progress->found = true;
		progress->phase = pg_strdup(PQgetvalue(res, 0, 0));
		progress->applied_lsn = value_or_null(res, 0, 1);
		progress->follower_pid = PQgetisnull(res, 0, 2) ? 0 : atoi(PQgetvalue(res, 0, 2));
		progress->follower_phase = value_or_null(res, 0, 3);
		progress->lag_seconds = double_or(res, 4, -1);
		progress->txn_per_sec = double_or(res, 5, 0);
		progress->rows_per_sec = double_or(res, 6, 0);
		progress->last_seen = value_or_null(res, 0, 7);
		progress->last_error = value_or_null(res, 0, 8);
		progress->follower_alive = PQgetvalue(res, 0, 9)[0] == 't';
		progress->behind_seconds = double_or(res, 10, 0);
		progress->lag_bytes = PQgetisnull(res, 0, 11) ? 0 : atoll(PQgetvalue(res, 0, 11));
		progress->source_lsn = value_or_null(res, 0, 12);
		progress->since_seen = double_or(res, 13, -1);
	}
	PQclear(res);
	return true;
}

void
cutover_progress_free(CutoverProgress *progress)
{
	free(progress->phase);
	free(progress->applied_lsn);
	free(progress->follower_phase);
	free(progress->last_seen);
	free(progress->last_error);
	free(progress->source_lsn);
	memset(progress, 0, sizeof(*progress));
}
