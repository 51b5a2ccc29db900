/*
 * state.c
 *	  Reading and writing the pgcutover state schema on the target.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pgconn.h"
#include "options.h"
#include "sqlfiles.h"
#include "state.h"

bool
state_install(PGconn *tgt)
{
	const char *sql = sql_file("state.sql");

	if (sql == NULL)
	{
		log_error("internal error: sql/state.sql is not compiled in");
		return false;
	}
	/* concurrent installs would race on CREATE ... IF NOT EXISTS */
	return db_exec(tgt, "SELECT pg_catalog.pg_advisory_lock(7236012)") &&
		db_exec(tgt, sql) &&
		db_exec(tgt, "SELECT pg_catalog.pg_advisory_unlock(7236012)");
}

static char *
dup_or_null(PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? NULL : pg_strdup(PQgetvalue(res, 0, col));
}

bool
state_load(PGconn *tgt, const char *slot, MigrationState *st)
{
	const char *params[1] = {slot};
	PGresult   *res;
	char	   *exists;

	memset(st, 0, sizeof(*st));
	exists = db_scalar(tgt, "SELECT pg_catalog.to_regclass('pgcutover.migration') IS NOT NULL");
	if (exists == NULL)
		return false;
	if (strcmp(exists, "t") != 0)
	{
		free(exists);
		return true;
	}
	free(exists);
	res = db_query_params(tgt,
						  "SELECT phase, run_id, snapshot_name, keeper_socket, keeper_pid, "
						  "consistent_lsn::text, source_sysid, source_dbname "
						  "FROM pgcutover.migration WHERE slot_name = $1", 1, params);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1)
	{
		st->found = true;
		st->phase = dup_or_null(res, 0);
		st->run_id = dup_or_null(res, 1);
		st->snapshot_name = dup_or_null(res, 2);
		st->keeper_socket = dup_or_null(res, 3);
		st->keeper_pid = PQgetisnull(res, 0, 4) ? 0 : atoi(PQgetvalue(res, 0, 4));
		if (!PQgetisnull(res, 0, 5))
			lsn_parse(PQgetvalue(res, 0, 5), &st->consistent_lsn);
		st->source_sysid = dup_or_null(res, 6);
		st->source_dbname = dup_or_null(res, 7);
	}
	PQclear(res);
	return true;
}

void
state_free(MigrationState *st)
{
	free(st->phase);
	free(st->run_id);
	free(st->snapshot_name);
	free(st->keeper_socket);
	free(st->source_sysid);
	free(st->source_dbname);
	memset(st, 0, sizeof(*st));
}

bool
state_set_phase(PGconn *tgt, const char *slot, const char *phase)
{
	const char *params[2] = {slot, phase};

	return db_exec_params(tgt,
						  "UPDATE pgcutover.migration SET phase = $2, updated_at = now() "
						  "WHERE slot_name = $1", 2, params);
}

bool
state_phase_begin(PGconn *tgt, const char *slot, const char *phase)
{
	const char *params[2] = {slot, phase};

	return db_exec_params(tgt,
						  "INSERT INTO pgcutover.phase_log (slot_name, phase, started_at) "
						  "VALUES ($1, $2, now()) ON CONFLICT (slot_name, phase) DO NOTHING",
						  2, params);
}

bool
state_phase_end(PGconn *tgt, const char *slot, const char *phase)
{
	const char *params[2] = {slot, phase};

	return db_exec_params(tgt,
						  "UPDATE pgcutover.phase_log SET finished_at = now() "
						  "WHERE slot_name = $1 AND phase = $2", 2, params);
}

bool
state_phase_finished(PGconn *tgt, const char *slot, const char *phase)
{
	const char *params[2] = {slot, phase};
	PGresult   *res = db_query_params(tgt,
									  "SELECT 1 FROM pgcutover.phase_log "
									  "WHERE slot_name = $1 AND phase = $2 AND finished_at IS NOT NULL", 2, params);
	bool		finished = res != NULL && PQntuples(res) == 1;

	PQclear(res);
	return finished;
}

void
state_free_filters(CopyFilters *filters)
{
	strlist_free(&filters->include_schema);
	strlist_free(&filters->exclude_schema);
	strlist_free(&filters->include_table);
	strlist_free(&filters->exclude_table);
	memset(filters, 0, sizeof(*filters));
}

bool
state_load_filters(PGconn *tgt, const char *slot, CopyFilters *filters)
{
	const char *params[1] = {slot};
	StrList    *lists[4] = {&filters->include_schema, &filters->exclude_schema,
	&filters->include_table, &filters->exclude_table};
	PGresult   *res;

	state_free_filters(filters);
	/* no state schema: no migration, so no filters (the caller says what is missing) */
	res = db_query(tgt, "SELECT pg_catalog.to_regclass('pgcutover.migration') IS NULL");
	if (res == NULL)
		return false;
	if (PQgetvalue(res, 0, 0)[0] == 't')
	{
		PQclear(res);
		return true;
	}
	PQclear(res);
	res = db_query_params(tgt,
						  "SELECT 0, unnest(include_schema) FROM pgcutover.migration WHERE slot_name = $1 "
						  "UNION ALL SELECT 1, unnest(exclude_schema) FROM pgcutover.migration WHERE slot_name = $1 "
						  "UNION ALL SELECT 2, unnest(include_table) FROM pgcutover.migration WHERE slot_name = $1 "
						  "UNION ALL SELECT 3, unnest(exclude_table) FROM pgcutover.migration WHERE slot_name = $1",
						  1, params);
	if (res == NULL)
		return false;
	for (int i = 0; i < PQntuples(res); i++)
		strlist_add(lists[atoi(PQgetvalue(res, i, 0))], PQgetvalue(res, i, 1));
	PQclear(res);
	return true;
}

bool
state_add_copy_filters(PGconn *tgt, const char *slot, Options *opts)
{
	CopyFilters copied = {0};

	if (!state_load_filters(tgt, slot, &copied))
		return false;
	strlist_add_missing(&opts->include_schema, &copied.include_schema);
	strlist_add_missing(&opts->exclude_schema, &copied.exclude_schema);
	strlist_add_missing(&opts->include_table, &copied.include_table);
	strlist_add_missing(&opts->exclude_table, &copied.exclude_table);
	state_free_filters(&copied);
	return true;
}

bool
state_selection(PGconn *tgt, const Options *opts, Options *selection)
{
	*selection = *opts;
	memset(&selection->include_schema, 0, sizeof(StrList));
	memset(&selection->exclude_schema, 0, sizeof(StrList));
	memset(&selection->include_table, 0, sizeof(StrList));
	memset(&selection->exclude_table, 0, sizeof(StrList));
	strlist_add_missing(&selection->include_schema, &opts->include_schema);
	strlist_add_missing(&selection->exclude_schema, &opts->exclude_schema);
	strlist_add_missing(&selection->include_table, &opts->include_table);
	strlist_add_missing(&selection->exclude_table, &opts->exclude_table);
	return state_add_copy_filters(tgt, opts->slot, selection);
}

void
state_free_selection(Options *selection)
{
	strlist_free(&selection->include_schema);
	strlist_free(&selection->exclude_schema);
	strlist_free(&selection->include_table);
	strlist_free(&selection->exclude_table);
}
