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

/* Did the statement fail because the table is not there (42P01)? */
static bool
undefined_table(const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return state && strcmp(state, "42P01") == 0;
}

/*
 * Compares one table; a table absent from the target is a difference, any
 * other failure (a timeout, a lost connection) is an error: false, logged.
 */
static bool
compare_table(PGconn *src, PGconn *tgt, const TableInfo *t, TableVerdict *v)
{
	bool		ok = true;

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
	else if (undefined_table(tres))
		v->missing = true;
	if ((PQresultStatus(sres) != PGRES_TUPLES_OK && !undefined_table(sres)) ||
		(PQresultStatus(tres) != PGRES_TUPLES_OK && !undefined_table(tres)))
	{
		PGresult   *bad = PQresultStatus(sres) != PGRES_TUPLES_OK ? sres : tres;

		log_error("cannot compare %s on the %s: %s; fix: see the message (a statement_timeout or lock on that side?), then verify again",
				  t->qualname, bad == sres ? "source" : "target",
				  PQresultErrorField(bad, PG_DIAG_MESSAGE_PRIMARY) ? PQresultErrorField(bad, PG_DIAG_MESSAGE_PRIMARY) : "no result");
		ok = false;
	}
	v->match = !v->missing && v->source_sum && v->source_rows == v->target_rows &&
		strcmp(v->source_sum, v->target_sum) == 0;
	PQclear(sres);
	PQclear(tres);
	free(sql);
	return ok;
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

/*
 * follow applies with triggers and so foreign key checks off; this proves no
 * row on the target lost its parent (MATCH SIMPLE: rows with a NULL in the
 * key are exempt).
 */
static bool
check_foreign_keys(PGconn *tgt, VerifyResult *r)
{
	PGresult   *fks = db_query(tgt,
								"SELECT c.conname, format('%I.%I', n.nspname, t.relname), format('%I.%I', fn.nspname, ft.relname), "
								"  (SELECT string_agg(format('x.%I', a.attname), ', ' ORDER BY k.i) FROM unnest(c.conkey) WITH ORDINALITY k(att, i) "
								"     JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.att), "
								"  (SELECT string_agg(format('p.%I', a.attname), ', ' ORDER BY k.i) FROM unnest(c.confkey) WITH ORDINALITY k(att, i) "
								"     JOIN pg_catalog.pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.att), "
								"  (SELECT string_agg(format('x.%I IS NOT NULL', a.attname), ' AND ') FROM unnest(c.conkey) k(att) "
								"     JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.att) "
								"FROM pg_catalog.pg_constraint c "
								"JOIN pg_catalog.pg_class t ON t.oid = c.conrelid JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace "
								"JOIN pg_catalog.pg_class ft ON ft.oid = c.confrelid JOIN pg_catalog.pg_namespace fn ON fn.oid = ft.relnamespace "
								"WHERE c.contype = 'f' AND n.nspname <> 'pgcutover' AND c.conparentid = 0 ORDER BY 1");

	if (fks == NULL)
		return false;
	r->violations = json_array();
	for (int i = 0; i < PQntuples(fks); i++)
	{
		char	   *sql = psprintf("SELECT count(*) FROM %s x WHERE %s AND NOT EXISTS "
								   "(SELECT 1 FROM %s p WHERE (%s) = (%s))",
								   PQgetvalue(fks, i, 1), PQgetvalue(fks, i, 5), PQgetvalue(fks, i, 2),
								   PQgetvalue(fks, i, 4), PQgetvalue(fks, i, 3));
		char	   *n = db_scalar(tgt, sql);

		r->foreign_keys++;
		if (n == NULL || strcmp(n, "0") != 0)
		{
			r->foreign_key_violations++;
			json_array_append_new(r->violations, json_pack("{s:s, s:s, s:s}", "constraint", PQgetvalue(fks, i, 0),
														   "table", PQgetvalue(fks, i, 1), "orphans", n ? n : "?"));
		}
		free(n);
		free(sql);
	}
	PQclear(fks);
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
		if (!compare_table(src, tgt, &tables.tables[i], v))
		{
			catalog_free_tables(&tables);
			return false;
		}
		if (!v->match)
			r->mismatches++;
	}
	catalog_free_tables(&tables);
	if (!compare_sequences(src, tgt, r))
		return false;
	if (opts->check_constraints && !check_foreign_keys(tgt, r))
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
	for (size_t i = 0; r->violations && i < json_array_size(r->violations); i++)
	{
		json_t	   *v = json_array_get(r->violations, i);

		fprintf(out, "ORPHANS   %-40s %s rows break foreign key %s\n", json_string_value(json_object_get(v, "table")),
				json_string_value(json_object_get(v, "orphans")), json_string_value(json_object_get(v, "constraint")));
	}
	fprintf(out, "%d tables: %d match, %d differ; %d sequences, %d behind on the target",
			r->ntables, r->ntables - r->mismatches, r->mismatches, r->sequences, r->sequences_behind);
	if (r->violations)
		fprintf(out, "; %d foreign keys, %d with orphans", r->foreign_keys, r->foreign_key_violations);
	fprintf(out, " (%.2f s)\n", r->seconds);
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
	return json_pack("{s:b, s:i, s:i, s:i, s:i, s:O, s:f, s:o, s:i, s:O}", "ok",
					 r->mismatches == 0 && r->sequences_behind == 0 && r->foreign_key_violations == 0,
					 "tables_checked", r->ntables,
					 "mismatches", r->mismatches, "sequences", r->sequences,
					 "sequences_behind", r->sequences_behind,
					 "sequences_behind_names", r->sequence_problems ? r->sequence_problems : json_array(),
					 "seconds", r->seconds, "tables", tables, "foreign_keys_checked", r->foreign_keys,
					 "foreign_key_violations", r->violations ? r->violations : json_null());
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
	json_decref(r->violations);
	memset(r, 0, sizeof(*r));
}
