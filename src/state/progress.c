/*
 * progress.c
 *	  The run-time rows of follow and apply in schema pgcutover on the
 *	  target: apply_progress (the applied position, the stop on a captured
 *	  DDL), follower (what status and the operator read), the migration's
 *	  phase as follow sees it, the follower's lag history (lag_history),
 *	  and the schema functions apply calls.  Only
 *	  this file and state.c name the schema's tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pgconn.h"
#include "progress.h"

bool
progress_ensure_row(PGconn *tgt, const char *slot)
{
	const char *params[1] = {slot};

	return db_exec_params(tgt,
						  "INSERT INTO pgcutover.apply_progress (slot_name, applied_lsn) "
						  "SELECT slot_name, consistent_lsn FROM pgcutover.migration WHERE slot_name = $1 "
						  "ON CONFLICT (slot_name) DO NOTHING", 1, params);
}

bool
progress_read_applied(PGconn *tgt, const char *slot, AppliedPosition *pos)
{
	const char *params[1] = {slot};
	PGresult   *res = db_query_params(tgt,
									  "SELECT applied_lsn::text, coalesce(source_commit_time::text, '') "
									  "FROM pgcutover.apply_progress WHERE slot_name = $1", 1, params);
	bool		found = false;

	memset(pos, 0, sizeof(*pos));
	if (res != NULL && PQntuples(res) == 1 && lsn_parse(PQgetvalue(res, 0, 0), &pos->applied_lsn))
	{
		snprintf(pos->commit_time, sizeof(pos->commit_time), "%s", PQgetvalue(res, 0, 1));
		found = true;
	}
	PQclear(res);
	return found;
}

Lsn
progress_applied_or_consistent(PGconn *tgt, const char *slot)
{
	const char *params[1] = {slot};
	PGresult   *res = db_query_params(tgt,
									  "SELECT coalesce((SELECT applied_lsn FROM pgcutover.apply_progress WHERE slot_name = $1), "
									  "  consistent_lsn)::text FROM pgcutover.migration WHERE slot_name = $1", 1, params);
	Lsn			applied = INVALID_LSN;

	if (res != NULL && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		lsn_parse(PQgetvalue(res, 0, 0), &applied);
	PQclear(res);
	return applied;
}

bool
progress_send_advance(PGconn *tgt, const char *slot, Lsn end_lsn, const char *commit_time,
					  int64_t txns, int64_t rows)
{
	char		lsn[LSN_FORMAT_LEN];
	char		txns_text[24];
	char		rows_text[24];
	const char *params[5];

	snprintf(txns_text, sizeof(txns_text), "%lld", (long long) txns);
	snprintf(rows_text, sizeof(rows_text), "%lld", (long long) rows);
	params[0] = slot;
	params[1] = lsn_format(end_lsn, lsn);
	params[2] = commit_time;
	params[3] = txns_text;
	params[4] = rows_text;
	return PQsendQueryParams(tgt,
							 "UPDATE pgcutover.apply_progress SET applied_lsn = $2, source_commit_time = $3, "
							 "txns = txns + $4, rows = rows + $5, updated_at = now() WHERE slot_name = $1",
							 5, NULL, params, NULL, NULL, 0) == 1;
}

bool
progress_send_relax_identity(PGconn *tgt, const char *slot)
{
	const char *params[1] = {slot};

	return PQsendQueryParams(tgt, "SELECT pgcutover.relax_identity($1)", 1, NULL, params,
							 NULL, NULL, 0) == 1;
}

int
progress_relax_identity(PGconn *tgt, const char *slot)
{
	const char *params[1] = {slot};
	PGresult   *res = db_query_params(tgt, "SELECT pgcutover.relax_identity($1)", 1, params);
	int			relaxed = -1;

	if (res != NULL && PQntuples(res) == 1)
		relaxed = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return relaxed;
}

bool
progress_send_ddl_fix_missing(PGconn *tgt, const char *schema, const char *table,
							  const char *column, const char *source_value)
{
	const char *params[4] = {schema, table, column, source_value};

	return PQsendQueryParams(tgt, "SELECT pgcutover.ddl_fix_missing($1, $2, $3, $4)", 4, NULL,
							 params, NULL, NULL, 0) == 1;
}

bool
progress_read_ddl_stop(PGconn *tgt, const char *slot, Lsn *stop_lsn, bool *found)
{
	const char *params[1] = {slot};
	PGresult   *res = db_query_params(tgt,
									  "SELECT ddl_stop_lsn::text FROM pgcutover.apply_progress "
									  "WHERE slot_name = $1 AND ddl_stop_lsn IS NOT NULL", 1, params);

	*found = false;
	*stop_lsn = INVALID_LSN;
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1 && lsn_parse(PQgetvalue(res, 0, 0), stop_lsn))
		*found = true;
	PQclear(res);
	return true;
}

bool
progress_record_ddl_stop(PGconn *tgt, const char *slot, Lsn stop_lsn)
{
	char		lsn[LSN_FORMAT_LEN];
	const char *params[2] = {slot, lsn_format(stop_lsn, lsn)};

	return db_exec_params(tgt,
						  "UPDATE pgcutover.apply_progress SET ddl_stop_lsn = $2 WHERE slot_name = $1",
						  2, params);
}

bool
progress_mark_following(PGconn *tgt, const char *slot)
{
	const char *params[1] = {slot};

	return db_exec_params(tgt,
						  "UPDATE pgcutover.migration SET phase = 'following', updated_at = now() "
						  "WHERE slot_name = $1 AND phase = 'copied'", 1, params) &&
		db_exec_params(tgt,
					   "UPDATE pgcutover.follower SET lag_seconds = NULL, updated_at = now() "
					   "WHERE slot_name = $1", 1, params);
}

bool
progress_switched_over(PGconn *tgt, const char *slot)
{
	const char *params[1] = {slot};
	PGresult   *res = PQexecParams(tgt, "SELECT phase FROM pgcutover.migration WHERE slot_name = $1",
								   1, NULL, params, NULL, NULL, 0);
	bool		switched = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		strcmp(PQgetvalue(res, 0, 0), "switched_over") == 0;

	PQclear(res);
	return switched;
}

bool
progress_publish_follower(PGconn *tgt, const FollowerRow *row)
{
	char		pid[16],
				started[32],
				applied[LSN_FORMAT_LEN],
				source[LSN_FORMAT_LEN],
				lag_bytes[24],
				lag_seconds[32],
				txns[24],
				rows[24],
				txn_rate[32],
				row_rate[32],
				retained[24],
				behind[32];
	const char *params[18];
	PGresult   *res;
	bool		ok;

	snprintf(pid, sizeof(pid), "%d", row->pid);
	snprintf(started, sizeof(started), "%.6f", row->started_epoch);
	snprintf(lag_bytes, sizeof(lag_bytes), "%lld", (long long) row->lag_bytes);
	snprintf(lag_seconds, sizeof(lag_seconds), "%.6f", row->lag_seconds);
	snprintf(txns, sizeof(txns), "%lld", (long long) row->txns);
	snprintf(rows, sizeof(rows), "%lld", (long long) row->rows);
	snprintf(txn_rate, sizeof(txn_rate), "%.1f", row->txn_per_sec);
	snprintf(row_rate, sizeof(row_rate), "%.1f", row->rows_per_sec);
	snprintf(retained, sizeof(retained), "%lld", (long long) row->slot_retained_wal_bytes);
	snprintf(behind, sizeof(behind), "%.6f", row->behind_since_epoch);
	params[0] = row->slot;
	params[1] = pid;
	params[2] = started;
	params[3] = row->phase;
	params[4] = lsn_format(row->applied_lsn, applied);
	params[5] = row->source_lsn != INVALID_LSN ? lsn_format(row->source_lsn, source) : NULL;
	params[6] = lag_bytes;
	params[7] = row->lag_seconds >= 0 ? lag_seconds : NULL;
	params[8] = txns;
	params[9] = rows;
	params[10] = txn_rate;
	params[11] = row_rate;
	params[12] = retained;
	params[13] = row->wal_status;
	params[14] = row->heartbeat ? "true" : "false";
	params[15] = row->behind_since_epoch > 0 ? behind : NULL;
	params[16] = row->last_error;
	params[17] = row->source_pids;
	/*
	 * One statement: the row, a second of lag history while following, and
	 * once a minute (when the oldest row is over 61 minutes old) the history
	 * older than an hour goes; the min() is one probe of the primary key.
	 */
	res = PQexecParams(tgt,
					   "WITH history AS ("
					   "  INSERT INTO pgcutover.lag_history (slot_name, at, lag_bytes, lag_seconds, applied_lsn, source_lsn, "
					   "    txn_per_sec, rows_per_sec) "
					   "  SELECT $1, pg_catalog.now(), $7, $8, $5, $6, $11, $12 WHERE $4 = 'following' "
					   "  ON CONFLICT DO NOTHING), "
					   "pruned AS ("
					   "  DELETE FROM pgcutover.lag_history WHERE slot_name = $1 AND at < pg_catalog.now() - interval '1 hour' "
					   "  AND (SELECT min(at) FROM pgcutover.lag_history WHERE slot_name = $1) < pg_catalog.now() - interval '61 minutes') "
					   "INSERT INTO pgcutover.follower AS f (slot_name, pid, host, started_at, phase, applied_lsn, source_lsn, "
					   "  lag_bytes, lag_seconds, txns, rows, txn_per_sec, rows_per_sec, slot_retained_wal_bytes, wal_status, "
					   "  heartbeat, behind_since, last_error, source_pids, updated_at) "
					   "VALUES ($1, $2, pg_catalog.inet_client_addr()::text, pg_catalog.to_timestamp($3), $4, $5, $6, $7, $8, $9, $10, "
					   "  $11, $12, $13, $14, $15, pg_catalog.to_timestamp($16), $17, $18::int[], pg_catalog.now()) "
					   "ON CONFLICT (slot_name) DO UPDATE SET pid = EXCLUDED.pid, host = EXCLUDED.host, "
					   "  started_at = EXCLUDED.started_at, phase = EXCLUDED.phase, applied_lsn = EXCLUDED.applied_lsn, "
					   "  source_lsn = EXCLUDED.source_lsn, lag_bytes = EXCLUDED.lag_bytes, lag_seconds = EXCLUDED.lag_seconds, "
					   "  txns = EXCLUDED.txns, rows = EXCLUDED.rows, txn_per_sec = EXCLUDED.txn_per_sec, "
					   "  rows_per_sec = EXCLUDED.rows_per_sec, slot_retained_wal_bytes = EXCLUDED.slot_retained_wal_bytes, "
					   "  wal_status = EXCLUDED.wal_status, heartbeat = EXCLUDED.heartbeat, behind_since = EXCLUDED.behind_since, "
					   "  last_error = coalesce(EXCLUDED.last_error, CASE WHEN EXCLUDED.phase = 'following' THEN NULL ELSE f.last_error END), "
					   "  source_pids = EXCLUDED.source_pids, updated_at = EXCLUDED.updated_at",
					   18, NULL, params, NULL, NULL, 0);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	return ok;
}

bool
progress_read_lag_history(PGconn *tgt, const char *slot, double window_seconds, LagHistory *h)
{
	char		window[32];
	const char *params[2] = {slot, window};
	PGresult   *res;
	bool		ok = true;

	memset(h, 0, sizeof(*h));
	snprintf(window, sizeof(window), "%.0f", window_seconds);
	res = PQexecParams(tgt,
					   "SELECT extract(epoch FROM h.at)::float8, h.lag_bytes, h.lag_seconds, "
					   "  (h.applied_lsn - '0/0'::pg_lsn)::bigint, coalesce((h.source_lsn - '0/0'::pg_lsn)::bigint, 0), "
					   "  coalesce(h.txn_per_sec, 0), extract(epoch FROM pg_catalog.now())::float8 "
					   "FROM pgcutover.lag_history h "
					   "WHERE h.slot_name = $1 AND h.at > pg_catalog.now() - pg_catalog.make_interval(secs => $2::float8) "
					   "ORDER BY h.at", 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
	{
		int			n = PQntuples(res);

		h->points = n > 0 ? pg_malloc0(sizeof(LagPoint) * (size_t) n) : NULL;
		h->count = (size_t) n;
		for (int i = 0; i < n; i++)
		{
			LagPoint   *p = &h->points[i];

			p->at = strtod(PQgetvalue(res, i, 0), NULL);
			p->lag_bytes = strtoll(PQgetvalue(res, i, 1), NULL, 10);
			p->lag_seconds = PQgetisnull(res, i, 2) ? -1 : strtod(PQgetvalue(res, i, 2), NULL);
			p->applied_lsn = strtoull(PQgetvalue(res, i, 3), NULL, 10);
			p->source_lsn = strtoull(PQgetvalue(res, i, 4), NULL, 10);
			p->txn_per_sec = strtod(PQgetvalue(res, i, 5), NULL);
		}
		if (n > 0)
			h->now = strtod(PQgetvalue(res, 0, 6), NULL);
	}
	else
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		/* a schema from before lag_history: no history, not an error */
		if (state == NULL || strcmp(state, "42P01") != 0)
		{
			char	   *e = db_error(tgt);

			log_warn("cannot read the lag history of slot %s: %s", slot, e);
			free(e);
			ok = false;
		}
	}
	PQclear(res);
	return ok;
}

void
progress_free_lag_history(LagHistory *h)
{
	free(h->points);
	memset(h, 0, sizeof(*h));
}
