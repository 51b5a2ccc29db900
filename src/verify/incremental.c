/*
 * incremental.c
 *	  The switchover's incremental verify (incremental.h): builds the
 *	  comparison tasks from what the target recorded since the newest online
 *	  verification, and runs them.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "catalog.h"
#include "incremental.h"
#include "log.h"
#include "pgconn.h"
#include "verification.h"

bool
incremental_prepare(PGconn *tgt, const char *slot, IncrementalInfo *info)
{
	VerificationRow row;

	memset(info, 0, sizeof(*info));
	if (!verification_read_tracked(tgt, slot, &row))
		return false;
	info->verification_id = row.id;
	info->lsn = row.lsn;
	if (row.id == 0)
		info->unavailable = "no online verification was run (verify --online)";
	else if (strcmp(row.state, "done") != 0)
		info->unavailable = "the newest online verification did not finish";
	else if (!row.ok)
		info->unavailable = "the newest online verification found differences";
	else
		info->available = true;
	return true;
}

/* Why table (schema, name) must be compared whole, or NULL. */
static const char *
whole_reason(PGresult *changes, const TableInfo *t, const StrList *parents_whole, int *keyrow)
{
	*keyrow = -1;
	for (int i = 0; i < PQntuples(changes); i++)
	{
		if (strcmp(PQgetvalue(changes, i, 0), t->nspname) != 0 ||
			strcmp(PQgetvalue(changes, i, 1), t->relname) != 0)
			continue;
		if (!PQgetisnull(changes, i, 3))
			return PQgetvalue(changes, i, 3);
		*keyrow = i;
	}
	if (t->is_partition && strlist_contains(parents_whole, t->qualname))
		return "its partitioned table was written on the target by another session";
	return NULL;
}

/*
 * Partitions (schema-qualified, quoted like TableInfo.qualname) of the
 * partitioned tables that changes name whole: a statement on the parent
 * is noted on the parent only.
 */
static bool
partitions_of_whole_parents(PGconn *src, PGresult *changes, StrList *out)
{
	for (int i = 0; i < PQntuples(changes); i++)
	{
		const char *params[2] = {PQgetvalue(changes, i, 0), PQgetvalue(changes, i, 1)};
		PGresult   *res;

		if (PQgetisnull(changes, i, 3))
			continue;
		res = db_query_params(src,
							  "SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) "
							  "FROM pg_catalog.pg_partition_tree(pg_catalog.to_regclass("
							  "  pg_catalog.quote_ident($1) || '.' || pg_catalog.quote_ident($2))) t "
							  "JOIN pg_catalog.pg_class c ON c.oid = t.relid "
							  "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE t.isleaf",
							  2, params);
		if (res == NULL)
			return false;
		for (int j = 0; j < PQntuples(res); j++)
			strlist_add(out, PQgetvalue(res, j, 0));
		PQclear(res);
	}
	return true;
}

bool
incremental_run(ComparePair *pairs, int npairs, PGconn *tgt, const Options *opts,
				const CompareConfig *cfg, IncrementalInfo *info, VerifyResult *r)
{
	TableList	tables = {0};
	StrList		verified = {0};
	StrList		parents_whole = {0};
	PGresult   *changes = NULL;
	CompareTask *tasks = NULL;
	int			ntasks = 0;
	double		t0 = now_seconds();
	bool		ok = false;

	memset(r, 0, sizeof(*r));
	info->whole = json_array();
	if (!verification_verdict_tables(tgt, info->verification_id, &verified) ||
		(changes = verification_changes(tgt, info->verification_id, INCREMENTAL_MAX_KEYS)) == NULL ||
		!catalog_list_tables(pairs[0].source, opts, &tables) ||
		!partitions_of_whole_parents(pairs[0].source, changes, &parents_whole))
	{
		log_error("cannot read what changed since online verification %lld (the server's message is above); fix: rerun the switchover with --verify full",
				  (long long) info->verification_id);
		goto done;
	}
	log_debug("incremental verify: what changed read in %.1f ms", (now_seconds() - t0) * 1000);
	tasks = pg_malloc0(sizeof(CompareTask) * (tables.count + 1));
	r->tables = pg_malloc0(sizeof(TableVerdict) * (tables.count + 1));
	for (int i = 0; i < tables.count; i++)
	{
		const TableInfo *t = &tables.tables[i];
		int			keyrow;
		const char *reason;

		if (!catalog_compared_as_itself(t))
			continue;
		reason = strlist_contains(&verified, t->qualname)
			? whole_reason(changes, t, &parents_whole, &keyrow)
			: "not found equal by the online verification (a new table?)";
		if (reason == NULL && t->is_route_root)
			reason = "its leaves load through it (hash partitioning that differs between databases)";
		if (reason != NULL)
		{
			tasks[ntasks].table = t;
			tasks[ntasks++].scope = COMPARE_ALL_ROWS;
			json_array_append_new(info->whole, json_pack("{s:s, s:s}", "table", t->qualname, "reason", reason));
			info->tables_whole++;
		}
		else if (keyrow >= 0)
		{
			json_t	   *keys = json_loads(PQgetvalue(changes, keyrow, 2), 0, NULL);

			if (keys == NULL)
			{
				log_error("cannot read the changed keys of %s on the target; fix: rerun the switchover with --verify full",
						  t->qualname);
				goto done;
			}
			tasks[ntasks].table = t;
			tasks[ntasks].scope = COMPARE_KEYS;
			tasks[ntasks++].keys = keys;
			info->tables_by_key++;
			info->keys += (long long) json_array_size(keys);
		}
	}
	r->jobs = npairs;
	if (!compare_tables(pairs, npairs, cfg, tasks, ntasks, r))
		goto done;
	log_debug("incremental verify: %d table(s) compared in %.1f ms since the start", ntasks,
			  (now_seconds() - t0) * 1000);
	if (!verify_sequences(pairs[0].source, pairs[0].target, opts, r))
		goto done;
	ok = true;
done:
	r->seconds = now_seconds() - t0;
	for (int i = 0; i < ntasks; i++)
		json_decref(tasks[i].keys);
	free(tasks);
	PQclear(changes);
	catalog_free_tables(&tables);
	strlist_free(&verified);
	strlist_free(&parents_whole);
	return ok;
}

void
incremental_free(IncrementalInfo *info)
{
	json_decref(info->whole);
	info->whole = NULL;
}
