/*
 * verify.c
 *	  `verify` and the switchover's verification: every selected table
 *	  compared by the engine (compare.c), then sequences and, on request,
 *	  foreign key orphans; and the result, as text and as JSON.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "compare.h"
#include "log.h"
#include "pgconn.h"
#include "sequences.h"
#include "verify.h"

/*
 * Per sequence: the target must not be behind, that is its next nextval()
 * must not come before the source's, in the sequence's direction (equal
 * right after a switchover without a gap; ahead with one).  is_called counts:
 * a sequence never used hands out its start value next.
 */
bool
verify_sequences(PGconn *src, PGconn *tgt, const Options *opts, VerifyResult *r)
{
	SequenceList ss,
				ts;

	if (!sequences_read(src, opts, &ss))
		return false;
	if (!sequences_read(tgt, opts, &ts))
	{
		sequences_free(&ss);
		return false;
	}
	r->sequence_problems = json_array();
	for (int i = 0; i < ss.count; i++)
	{
		const SequenceState *s = &ss.items[i];
		const SequenceState *t = sequences_find(&ts, s->qualname);

		r->sequences++;
		if (t == NULL || sequence_ahead_of(s, t))
		{
			r->sequences_behind++;
			json_array_append_new(r->sequence_problems, json_string(s->qualname));
		}
	}
	sequences_free(&ss);
	sequences_free(&ts);
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

CompareConfig
verify_compare_config(const Options *opts)
{
	CompareConfig cfg = COMPARE_CONFIG_DEFAULT;

	cfg.max_rows_per_second = opts->verify_max_rate;
	return cfg;
}

bool
verify_run(ComparePair *pairs, int npairs, const Options *opts, VerifyResult *r)
{
	TableList	tables;
	CompareConfig cfg = verify_compare_config(opts);
	CompareTask *tasks;
	int			ntasks = 0;
	double		t0 = now_seconds();
	bool		ok;

	memset(r, 0, sizeof(*r));
	r->jobs = npairs;
	if (!catalog_list_tables(pairs[0].source, opts, &tables))
		return false;
	r->tables = pg_malloc0(sizeof(TableVerdict) * (tables.count + 1));
	tasks = pg_malloc0(sizeof(CompareTask) * (tables.count + 1));
	for (int i = 0; i < tables.count; i++)
	{
		if (!catalog_compared_as_itself(&tables.tables[i]))
			continue;
		tasks[ntasks].table = &tables.tables[i];
		tasks[ntasks].scope = COMPARE_ALL_ROWS;
		ntasks++;
	}
	ok = compare_tables(pairs, npairs, &cfg, tasks, ntasks, r);
	free(tasks);
	catalog_free_tables(&tables);
	if (!ok || !verify_sequences(pairs[0].source, pairs[0].target, opts, r))
		return false;
	if (opts->check_constraints && !check_foreign_keys(pairs[0].target, r))
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
		else if (v->match)
			fprintf(out, "ok        %-40s %lld %s\n", v->qualname, v->source_rows,
					strcmp(v->scope, "changed keys") == 0 ? "changed keys" : "rows");
		else if (strcmp(v->scope, "changed keys") == 0)
			fprintf(out, "MISMATCH  %-40s %lld changed keys compared, %lld differ\n",
					v->qualname, v->source_rows, v->keys_differing);
		else
			fprintf(out, "MISMATCH  %-40s %lld rows on the source, %lld on the target, checksum %s vs %s\n",
					v->qualname, v->source_rows, v->target_rows,
					v->source_sum ? v->source_sum : "?", v->target_sum ? v->target_sum : "?");
		for (size_t k = 0; v->differing_keys && k < json_array_size(v->differing_keys); k++)
		{
			json_t	   *d = json_array_get(v->differing_keys, k);
			char	   *key = json_dumps(json_object_get(d, "key"), JSON_COMPACT | JSON_ENCODE_ANY);

			fprintf(out, "  key %s: %s\n", key ? key : "?", json_string_value(json_object_get(d, "problem")));
			free(key);
		}
		if (!v->match && !v->missing && v->keys_differing > (long long) json_array_size(v->differing_keys))
			fprintf(out, "  ... %lld more differing keys\n",
					v->keys_differing - (long long) json_array_size(v->differing_keys));
		if (!v->match && v->keys_note)
			fprintf(out, "  keys not named: %s\n", v->keys_note);
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
	fprintf(out, " (%lld rows, %d jobs, %.2f s)\n", r->rows_compared, r->jobs, r->seconds);
}

json_t	   *
verify_json(const VerifyResult *r)
{
	json_t	   *tables = json_array();

	for (int i = 0; i < r->ntables; i++)
	{
		const TableVerdict *v = &r->tables[i];
		json_t	   *t = json_pack("{s:s, s:b, s:b, s:I, s:I, s:s?, s:s?, s:i, s:s?, s:b, s:O?, s:s?}",
								  "table", v->qualname, "match", v->match, "missing", v->missing,
								  "source_rows", (json_int_t) v->source_rows,
								  "target_rows", (json_int_t) v->target_rows,
								  "source_checksum", v->source_sum, "target_checksum", v->target_sum,
								  "chunks", v->chunks, "scope", v->scope, "keyless", v->keyless,
								  "differing_keys", v->differing_keys, "keys_note", v->keys_note);

		json_object_set_new(t, "differing_keys_count",
							v->keys_differing >= 0 ? json_integer(v->keys_differing) : json_null());
		json_array_append_new(tables, t);
	}
	return json_pack("{s:b, s:i, s:i, s:i, s:i, s:o, s:f, s:o, s:i, s:o, s:I, s:i, s:f}", "ok",
					 r->mismatches == 0 && r->sequences_behind == 0 && r->foreign_key_violations == 0,
					 "tables_checked", r->ntables,
					 "mismatches", r->mismatches, "sequences", r->sequences,
					 "sequences_behind", r->sequences_behind,
					 "sequences_behind_names", r->sequence_problems ? json_incref(r->sequence_problems) : json_array(),
					 "seconds", r->seconds, "tables", tables, "foreign_keys_checked", r->foreign_keys,
					 "foreign_key_violations", r->violations ? json_incref(r->violations) : json_null(),
					 "rows_compared", (json_int_t) r->rows_compared, "jobs", r->jobs,
					 "rows_per_second", r->seconds > 0 ? (double) r->rows_compared / r->seconds : 0.0);
}

void
verify_free(VerifyResult *r)
{
	for (int i = 0; i < r->ntables; i++)
	{
		free(r->tables[i].qualname);
		free(r->tables[i].source_sum);
		free(r->tables[i].target_sum);
		json_decref(r->tables[i].differing_keys);
	}
	free(r->tables);
	json_decref(r->sequence_problems);
	json_decref(r->violations);
	memset(r, 0, sizeof(*r));
}
