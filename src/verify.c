/*
 * verify.c
 *	  Table and sequence comparison.  The two sides run the same statement at
 *	  the same time (asynchronous libpq), one table after the other.  The
 *	  row text depends on session settings, which db_connect makes equal on
 *	  both sides (DateStyle, IntervalStyle, extra_float_digits, TimeZone).
 */
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "log.h"
#include "pgconn.h"
#include "verify.h"

static PGresult *
wait_result(PGconn *conn)
{
	PGresult   *res = PQgetResult(conn);
	PGresult   *extra;

	while ((extra = PQgetResult(conn)) != NULL)
		PQclear(extra);
	return res;
}

/* Runs sql on both sides concurrently; false when either fails. */
static bool
both(PGconn *src, PGconn *tgt, const char *sql, PGresult **sres, PGresult **tres)
{
	bool		ok = PQsendQuery(src, sql) == 1 && PQsendQuery(tgt, sql) == 1;

	*sres = wait_result(src);
	*tres = wait_result(tgt);
	return ok && PQresultStatus(*sres) == PGRES_TUPLES_OK;
}

static void
compare_table(PGconn *src, PGconn *tgt, const TableInfo *t, TableVerdict *v)
{
	char	   *sql = psprintf("SELECT count(*), coalesce(sum(pg_catalog.hashtextextended(r::text, 0)), 0)::text "
							   "FROM ONLY %s r", t->qualname);
	PGresult   *sres,
			   *tres;

	v->qualname = pg_strdup(t->qualname);
	if (both(src, tgt, sql, &sres, &tres))
	{
		v->source_rows = atoll(PQgetvalue(sres, 0, 0));
		v->source_sum = pg_strdup(PQgetvalue(sres, 0, 1));
	}
	if (PQresultStatus(tres) == PGRES_TUPLES_OK)
	{
		v->target_rows = atoll(PQgetvalue(tres, 0, 0));
		v->target_sum = pg_strdup(PQgetvalue(tres, 0, 1));
	}
	else
		v->missing = true;
	v->match = !v->missing && v->source_sum && v->source_rows == v->target_rows &&
		strcmp(v->source_sum, v->target_sum) == 0;
	PQclear(sres);
	PQclear(tres);
	free(sql);
}

static bool
compare_sequences(PGconn *src, PGconn *tgt, VerifyResult *r)
{
	PGresult   *sres = db_query(src,
								"SELECT format('%I.%I', schemaname, sequencename), coalesce(last_value, 0) "
								"FROM pg_catalog.pg_sequences WHERE schemaname <> 'pgcutover' ORDER BY 1");

	if (sres == NULL)
		return false;
	r->sequence_problems = json_array();
	for (int i = 0; i < PQntuples(sres); i++)
	{
		const char *params[2] = {PQgetvalue(sres, i, 0), PQgetvalue(sres, i, 1)};
		PGresult   *tres = db_query_params(tgt,
										   "SELECT coalesce(last_value, 0) >= $2::bigint FROM pg_catalog.pg_sequences "
										   "WHERE format('%I.%I', schemaname, sequencename) = $1", 2, params);

		r->sequences++;
		if (tres == NULL || PQntuples(tres) == 0 || PQgetvalue(tres, 0, 0)[0] != 't')
		{
			r->sequences_behind++;
			json_array_append_new(r->sequence_problems, json_string(params[0]));
		}
		PQclear(tres);
	}
	PQclear(sres);
	return true;
}

bool
verify_run(PGconn *src, PGconn *tgt, const Options *opts, VerifyResult *r)
{
	TableList	tables;
	double		t0 = now_seconds();

	memset(r, 0, sizeof(*r));
	if (!catalog_list_tables(src, opts, &tables))
		return false;
	r->tables = pg_malloc0(sizeof(TableVerdict) * (tables.count + 1));
	for (int i = 0; i < tables.count; i++)
	{
		TableVerdict *v;

		if (tables.tables[i].relkind != 'r')
			continue;
		v = &r->tables[r->ntables++];
		compare_table(src, tgt, &tables.tables[i], v);
		if (!v->match)
			r->mismatches++;
	}
	catalog_free_tables(&tables);
	if (!compare_sequences(src, tgt, r))
		return false;
	r->seconds = now_seconds() - t0;
	return true;
}

void
verify_print(const VerifyResult *r, FILE *out)
{
	for (int i = 0; i < r->ntables; i++)
	{
		const TableVerdict *v = &r->tables[i];

		if (v->missing)
			fprintf(out, "MISSING   %-40s not on the target\n", v->qualname);
		else
			fprintf(out, "%-8s  %-40s %lld rows%s", v->match ? "ok" : "MISMATCH", v->qualname,
					v->source_rows, v->match ? "\n" : "");
		if (!v->match && !v->missing)
			fprintf(out, " on the source, %lld on the target, checksum %s vs %s\n",
					v->target_rows, v->source_sum ? v->source_sum : "?", v->target_sum ? v->target_sum : "?");
	}
	fprintf(out, "%d tables: %d match, %d differ; %d sequences, %d behind on the target (%.2f s)\n",
			r->ntables, r->ntables - r->mismatches, r->mismatches, r->sequences, r->sequences_behind,
			r->seconds);
}

json_t *
verify_json(const VerifyResult *r)
{
	json_t	   *tables = json_array();

	for (int i = 0; i < r->ntables; i++)
	{
		const TableVerdict *v = &r->tables[i];

		json_array_append_new(tables, json_pack("{s:s, s:b, s:b, s:I, s:I, s:s?, s:s?}",
												"table", v->qualname, "match", v->match, "missing", v->missing,
												"source_rows", (json_int_t) v->source_rows,
												"target_rows", (json_int_t) v->target_rows,
												"source_checksum", v->source_sum, "target_checksum", v->target_sum));
	}
	return json_pack("{s:b, s:i, s:i, s:i, s:i, s:O, s:f, s:o}", "ok",
					 r->mismatches == 0 && r->sequences_behind == 0, "tables_checked", r->ntables,
					 "mismatches", r->mismatches, "sequences", r->sequences,
					 "sequences_behind", r->sequences_behind,
					 "sequences_behind_names", r->sequence_problems ? r->sequence_problems : json_array(),
					 "seconds", r->seconds, "tables", tables);
}

void
verify_free(VerifyResult *r)
{
	for (int i = 0; i < r->ntables; i++)
	{
		free(r->tables[i].qualname);
		free(r->tables[i].source_sum);
		free(r->tables[i].target_sum);
	}
	free(r->tables);
	json_decref(r->sequence_problems);
	memset(r, 0, sizeof(*r));
}
