/*
 * verification.c
 *	  The verification rows of schema pgcutover on the target, the keys and
 *	  tables follow records after an online verification, and the triggers
 *	  that note writes made on the target by others (verification.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "pgconn.h"
#include "verification.h"

#define ROW_COLUMNS \
	"id, state, coalesce(lsn::text, ''), coalesce(target_snapshot, ''), " \
	"coalesce(pause_ms, -1), coalesce(ok, false), " \
	"state IN ('done', 'failed', 'passed')"

#define NOTIFY_SQL "SELECT pg_catalog.pg_notify('" VERIFICATION_CHANNEL "', '')"

static void
fill_row(PGresult *res, VerificationRow *row)
{
	memset(row, 0, sizeof(*row));
	row->pause_ms = -1;
	if (res == NULL || PQntuples(res) == 0)
		return;
	row->id = atoll(PQgetvalue(res, 0, 0));
	snprintf(row->state, sizeof(row->state), "%s", PQgetvalue(res, 0, 1));
	if (PQgetvalue(res, 0, 2)[0] != '\0')
		lsn_parse(PQgetvalue(res, 0, 2), &row->lsn);
	snprintf(row->target_snapshot, sizeof(row->target_snapshot), "%s", PQgetvalue(res, 0, 3));
	row->pause_ms = atof(PQgetvalue(res, 0, 4));
	row->ok = PQgetvalue(res, 0, 5)[0] == 't';
	row->finished = PQgetvalue(res, 0, 6)[0] == 't';
}

static bool
read_one(PGconn *tgt, const char *sql, const char *param, VerificationRow *row)
{
	const char *params[1] = {param};
	PGresult   *res = db_query_params(tgt, sql, 1, params);

	fill_row(res, row);
	PQclear(res);
	return res != NULL;
}

bool
verification_read_pending(PGconn *tgt, const char *slot, VerificationRow *row)
{
	return read_one(tgt, "SELECT " ROW_COLUMNS " FROM pgcutover.verification "
					"WHERE slot_name = $1 AND mode = 'online' AND state NOT IN ('done', 'failed', 'passed') "
					"ORDER BY id DESC LIMIT 1", slot, row);
}

bool
verification_read(PGconn *tgt, int64_t id, VerificationRow *row)
{
	char		idtext[32];

	snprintf(idtext, sizeof(idtext), "%lld", (long long) id);
	return read_one(tgt, "SELECT " ROW_COLUMNS " FROM pgcutover.verification WHERE id = $1",
					idtext, row) && row->id != 0;
}

bool
verification_read_tracked(PGconn *tgt, const char *slot, VerificationRow *row)
{
	return read_one(tgt, "SELECT " ROW_COLUMNS " FROM pgcutover.verification "
					"WHERE slot_name = $1 AND mode = 'online' AND lsn IS NOT NULL "
					"AND target_snapshot IS NOT NULL ORDER BY id DESC LIMIT 1", slot, row);
}

bool
verification_verdict_tables(PGconn *tgt, int64_t id, StrList *tables)
{
	char		idtext[32];
	const char *params[1] = {idtext};
	PGresult   *res;

	snprintf(idtext, sizeof(idtext), "%lld", (long long) id);
	res = db_query_params(tgt,
						  "SELECT v->>'table' FROM pgcutover.verification, "
						  "pg_catalog.jsonb_array_elements(coalesce(verdicts, '[]')) v "
						  "WHERE id = $1 AND (v->>'match')::boolean", 1, params);
	for (int i = 0; res && i < PQntuples(res); i++)
		strlist_add(tables, PQgetvalue(res, i, 0));
	PQclear(res);
	return res != NULL;
}

/*
 * Runs update, an UPDATE of pgcutover.verification whose WHERE says in which
 * state the row must be, and notifies the other side in the same statement:
 * the number of rows it changed, or -1 on SQL error.
 */
static int
update_and_notify(PGconn *tgt, const char *update, int nparams, const char *const *params)
{
	char	   *sql = psprintf("WITH m AS (%s RETURNING 1) "
							   "SELECT count(*), pg_catalog.pg_notify('" VERIFICATION_CHANNEL "', '') FROM m",
							   update);
	PGresult   *res = db_query_params(tgt, sql, nparams, params);
	int			changed = res ? atoi(PQgetvalue(res, 0, 0)) : -1;

	PQclear(res);
	free(sql);
	return changed;
}

bool
verification_move(PGconn *tgt, int64_t id, const char *from, const char *to, bool *moved)
{
	char		idtext[32];
	const char *params[3] = {idtext, from, to};
	int			changed;

	snprintf(idtext, sizeof(idtext), "%lld", (long long) id);
	changed = update_and_notify(tgt,
								"UPDATE pgcutover.verification SET state = $3, updated_at = now(), "
								"  finished_at = CASE WHEN $3 IN ('done', 'failed', 'passed') THEN now() END "
								"  WHERE id = $1 AND (state = $2 OR ($2 IS NULL AND state NOT IN ('done', 'failed', 'passed')))",
								3, params);
	*moved = changed == 1;
	return changed >= 0;
}

bool
verification_begin(PGconn *tgt, const char *slot, const char *mode, int64_t *id)
{
	const char *params[3] = {slot, mode, strcmp(mode, "online") == 0 ? "requested" : "comparing"};
	PGresult   *res = db_query_params(tgt,
									  "WITH v AS (INSERT INTO pgcutover.verification (slot_name, mode, state) "
									  "  VALUES ($1, $2, $3) RETURNING id) "
									  "SELECT id, pg_catalog.pg_notify('" VERIFICATION_CHANNEL "', '') FROM v",
									  3, params);

	*id = res ? atoll(PQgetvalue(res, 0, 0)) : 0;
	PQclear(res);
	return res != NULL;
}

bool
verification_begin_at(PGconn *tgt, const char *slot, Lsn lsn, int64_t *id)
{
	char		lsntext[LSN_FORMAT_LEN];
	const char *params[2] = {slot, lsn_format(lsn, lsntext)};
	PGresult   *res = db_query_params(tgt,
									  "WITH v AS (INSERT INTO pgcutover.verification (slot_name, mode, state, lsn) "
									  "  VALUES ($1, 'online', 'lsn_known', $2::pg_lsn) RETURNING id) "
									  "SELECT id, pg_catalog.pg_notify('" VERIFICATION_CHANNEL "', '') FROM v",
									  2, params);

	*id = res ? atoll(PQgetvalue(res, 0, 0)) : 0;
	PQclear(res);
	return res != NULL;
}

bool
verification_set_lsn(PGconn *tgt, int64_t id, Lsn lsn)
{
	char		idtext[32],
				lsntext[LSN_FORMAT_LEN];
	const char *params[2] = {idtext, lsn_format(lsn, lsntext)};

	snprintf(idtext, sizeof(idtext), "%lld", (long long) id);
	return update_and_notify(tgt,
							 "UPDATE pgcutover.verification SET state = 'lsn_known', lsn = $2::pg_lsn, "
							 "  updated_at = now() WHERE id = $1 AND state = 'holding'",
							 2, params) == 1;
}

bool
verification_set_exported(PGconn *tgt, int64_t id, const char *snapshot,
						  const char *pg_snapshot, double pause_ms)
{
	char		idtext[32],
				pause[32];
	const char *params[4] = {idtext, snapshot, pg_snapshot, pause};

	snprintf(idtext, sizeof(idtext), "%lld", (long long) id);
	snprintf(pause, sizeof(pause), "%.3f", pause_ms);
	return update_and_notify(tgt,
							 "UPDATE pgcutover.verification SET state = 'exported', target_snapshot = $2, "
							 "  target_pg_snapshot = $3, pause_ms = $4::float8, updated_at = now() "
							 "  WHERE id = $1 AND state = 'lsn_known'",
							 4, params) == 1;
}

bool
verification_record_shapes(PGconn *snapshot, PGconn *tgt, int64_t id)
{
	char		idtext[32];
	char	   *shapes = db_scalar(snapshot,
								   "SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(nspname, relname, shape)), "
								   "'[]')::text FROM pgcutover.table_shapes()");
	const char *params[2] = {idtext, shapes};
	PGresult   *res;

	if (shapes == NULL)
		return false;
	snprintf(idtext, sizeof(idtext), "%lld", (long long) id);
	res = db_query_params(tgt, "UPDATE pgcutover.verification SET target_shapes = $2::jsonb WHERE id = $1::bigint",
						  2, params);
	PQclear(res);
	free(shapes);
	return res != NULL;
}

bool
verification_finish(PGconn *tgt, int64_t id, bool ok, const char *error,
					int tables_checked, int mismatches, int64_t rows_compared,
					const char *verdicts_json)
{
	char		idtext[32],
				tables[16],
				diff[16],
				rows[32];
	const char *params[8] = {idtext, error ? "failed" : "done", ok ? "true" : "false",
	tables, diff, rows, verdicts_json, error};

	snprintf(idtext, sizeof(idtext), "%lld", (long long) id);
	snprintf(tables, sizeof(tables), "%d", tables_checked);
	snprintf(diff, sizeof(diff), "%d", mismatches);
	snprintf(rows, sizeof(rows), "%lld", (long long) rows_compared);
	return update_and_notify(tgt,
							 "UPDATE pgcutover.verification SET state = $2, ok = CASE WHEN $2 = 'done' THEN $3::boolean END, "
							 "  tables_checked = $4::int, mismatches = $5::int, rows_compared = $6::bigint, "
							 "  verdicts = $7::jsonb, error = $8, updated_at = now(), finished_at = now() "
							 "  WHERE id = $1",
							 8, params) >= 0;
}

bool
verification_send_keys(PGconn *tgt, int64_t id, const char *keys_json)
{
	char		idtext[32];
	const char *params[2] = {idtext, keys_json};

	snprintf(idtext, sizeof(idtext), "%lld", (long long) id);
	return PQsendQueryParams(tgt,
							 "INSERT INTO pgcutover.changed_key (verification_id, nspname, relname, key) "
							 "SELECT $1::bigint, x->>0, x->>1, x->2 FROM pg_catalog.jsonb_array_elements($2::jsonb) x "
							 "ON CONFLICT DO NOTHING", 2, NULL, params, NULL, NULL, 0) == 1;
}

bool
verification_send_changed_table(PGconn *tgt, int64_t id, const char *schema,
								const char *table, const char *reason)
{
	char		idtext[32];
	const char *params[4] = {idtext, schema, table, reason};

	snprintf(idtext, sizeof(idtext), "%lld", (long long) id);
	return PQsendQueryParams(tgt,
							 "INSERT INTO pgcutover.changed_table (verification_id, nspname, relname, reason) "
							 "VALUES ($1::bigint, $2, $3, $4) ON CONFLICT DO NOTHING",
							 4, NULL, params, NULL, NULL, 0) == 1;
}

bool
verification_watch_target_writes(PGconn *tgt, const StrList *tables, int *added)
{
	*added = 0;
	for (int i = 0; i < tables->count; i++)
	{
		const char *params[1] = {tables->items[i]};
		PGresult   *res = db_query_params(tgt, "SELECT pgcutover.watch_target_write($1)", 1, params);

		if (res == NULL)
			return false;
		*added += PQgetvalue(res, 0, 0)[0] == 't';
		PQclear(res);
	}
	return true;
}

int
verification_unwatch_target_writes(PGconn *tgt)
{
	char	   *n = db_scalar(tgt,
							  "SELECT CASE WHEN pg_catalog.to_regproc('pgcutover.unwatch_target_writes') IS NULL "
							  "THEN 0 ELSE pgcutover.unwatch_target_writes() END");
	int			count = n ? atoi(n) : -1;

	free(n);
	return count;
}

PGresult   *
verification_changes(PGconn *tgt, int64_t id, int max_keys)
{
	char		idtext[32],
				maxtext[16];
	const char *params[2] = {idtext, maxtext};

	snprintf(idtext, sizeof(idtext), "%lld", (long long) id);
	snprintf(maxtext, sizeof(maxtext), "%d", max_keys);
	return db_query_params(tgt,
						   "WITH keyed AS ("
						   "  SELECT nspname, relname, count(*) AS nkeys, "
						   "         CASE WHEN count(*) <= $2::int THEN pg_catalog.jsonb_agg(key)::text END AS keys "
						   "  FROM pgcutover.changed_key WHERE verification_id = $1::bigint GROUP BY 1, 2), "
						   "whole AS ("
						   "  SELECT nspname, relname, (pg_catalog.array_agg(reason ORDER BY prio))[1] AS reason FROM ("
						   "    SELECT nspname, relname, reason, 1 AS prio FROM pgcutover.changed_table WHERE verification_id = $1::bigint "
						   "    UNION ALL "
						   "    SELECT nspname, relname, 'written on the target by another session', 2 FROM pgcutover.target_write "
						   "    WHERE NOT pg_catalog.pg_visible_in_snapshot(xid, (SELECT target_pg_snapshot::pg_snapshot "
						   "      FROM pgcutover.verification WHERE id = $1::bigint)) "
						   "    UNION ALL "
						   "    SELECT x->>0, x->>1, 'its definition or storage changed on the target since the online verification', 3 "
						   "    FROM pgcutover.verification v, pg_catalog.jsonb_array_elements(coalesce(v.target_shapes, '[]')) x "
						   "    LEFT JOIN pgcutover.table_shapes() s ON s.nspname = x->>0 AND s.relname = x->>1 "
						   "    WHERE v.id = $1::bigint AND s.shape IS DISTINCT FROM x->>2 "
						   "    UNION ALL "
						   "    SELECT nspname, relname, pg_catalog.format('more than %s changed keys', $2), 4 FROM keyed WHERE keys IS NULL"
						   "  ) w GROUP BY 1, 2) "
						   "SELECT coalesce(w.nspname, k.nspname), coalesce(w.relname, k.relname), "
						   "       CASE WHEN w.reason IS NULL THEN k.keys END, w.reason, coalesce(k.nkeys, 0) "
						   "FROM keyed k FULL JOIN whole w ON w.nspname = k.nspname AND w.relname = k.relname "
						   "ORDER BY 1, 2", 2, params);
}

json_t	   *
verification_latest_json(PGconn *tgt, const char *slot)
{
	const char *params[1] = {slot};
	char	   *exists = db_scalar(tgt, "SELECT pg_catalog.to_regclass('pgcutover.verification') IS NOT NULL");
	PGresult   *res = NULL;
	json_t	   *doc = NULL;

	/* a state schema installed by an older pgcutover has no verifications */
	if (exists && exists[0] == 't')
		res = db_query_params(tgt,
							  "SELECT pg_catalog.json_build_object('id', id, 'state', state, 'lsn', lsn::text, "
							  "  'ok', ok, 'mismatches', mismatches, 'rows_compared', rows_compared, "
							  "  'pause_ms', round(pause_ms::numeric, 1), "
							  "  'finished_at', pg_catalog.to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
							  "  'seconds_ago', round(extract(epoch FROM pg_catalog.now() - coalesce(finished_at, updated_at))::numeric, 1), "
							  "  'error', error)::text "
							  "FROM pgcutover.verification WHERE slot_name = $1 AND mode = 'online' "
							  "AND state <> 'passed' ORDER BY id DESC LIMIT 1", 1, params);
	if (res && PQntuples(res) == 1)
		doc = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	PQclear(res);
	free(exists);
	return doc;
}
