/*
 * compare.c
 *	  The table comparison engine (compare.h).  One thread keeps every
 *	  session of every pair busy with asynchronous libpq: a queue of jobs,
 *	  each idle pair takes the next and sends the same statement to both
 *	  sides at once, poll() waits for the sockets, and a job is judged once
 *	  both sides answered.  Jobs are, in three passes:
 *
 *	    1. the key range (min, max) of integer-keyed tables, on the source;
 *	    2. a chunk: count(*) and the sum of a 64-bit hash of every row's
 *	       text over a key range (or the whole table), or, for given keys,
 *	       the hash of each key's row (a nested loop over the key index);
 *	    3. for each chunk that differs, on the first pair only: every row's
 *	       key and hash on both sides, merged in C into the keys that differ
 *	       (keydiff.c).
 *
 *	  The row text depends on session settings, which db_connect makes equal
 *	  on both sides (DateStyle, IntervalStyle, extra_float_digits, TimeZone),
 *	  and its bytes on the database's encoding, so databases of different
 *	  encodings hash it in UTF-8 (row_hash_sql).
 *	  The engine only sends SELECTs: the pairs may be in transactions with an
 *	  imported snapshot, which an error would abort, so the tables missing
 *	  on the target are looked up first instead of run into.
 *
 *	  This file owns the passes: the keys and the missing tables read from
 *	  the catalogs, the jobs of each pass, naming the differing keys, the
 *	  verdicts.  A job's statement and its verdict are in compare_jobs.c,
 *	  the loop that runs the jobs in compare_loop.c (compare_int.h).
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "compare_int.h"
#include "keydiff.h"
#include "log.h"
#include "pgconn.h"
#include "signals.h"

/* A chunk this large (rows, one side) is not narrowed to keys: memory. */
#define NARROW_MAX_ROWS 2000000
/* Chunks per table at most, and keys per COMPARE_KEYS statement. */
#define MAX_CHUNKS 100000
#define KEYS_PER_STATEMENT 10000

/*
 * The hash of a row's text.  Each server hashes its own bytes, which are the
 * same text only when both databases have the same encoding: a LATIN1 'é'
 * is one byte, a UTF-8 one two, and a LATIN1 "CafÃ©" has the very bytes of
 * a UTF-8 "Café".  When the encodings differ both sides hash the text in
 * UTF-8 (md5 first: hashtextextended takes text, and UTF-8 bytes are not
 * text in every encoding).
 */
static const char *
row_hash_sql(PGconn *source, PGconn *target)
{
	if (strcmp(db_server_encoding(source), db_server_encoding(target)) == 0)
		return "pg_catalog.hashtextextended(r::text, 0)";
	return "pg_catalog.hashtextextended(pg_catalog.md5(pg_catalog.convert_to(r::text, 'UTF8')), 0)";
}

/* Decimal text of v, malloc'd. */
static char *
int128_text(int128 v)
{
	char		buf[48];
	char	   *p = buf + sizeof(buf) - 1;
	bool		neg = v < 0;
	unsigned	__int128 u = neg ? -(unsigned __int128) v : (unsigned __int128) v;

	*p = '\0';
	do
	{
		*--p = (char) ('0' + (int) (u % 10));
		u /= 10;
	} while (u > 0);
	if (neg)
		*--p = '-';
	return pg_strdup(p);
}

/* --- the keys -------------------------------------------------------------- */

static void
table_key_add(TableKey *k, const char *name, const char *ident, const char *literal, const char *type,
			  bool integer)
{
	k->name = pg_realloc(k->name, sizeof(char *) * (k->ncols + 1));
	k->name[k->ncols] = pg_strdup(name);
	k->ident = pg_realloc(k->ident, sizeof(char *) * (k->ncols + 1));
	k->literal = pg_realloc(k->literal, sizeof(char *) * (k->ncols + 1));
	k->type = pg_realloc(k->type, sizeof(char *) * (k->ncols + 1));
	k->ident[k->ncols] = pg_strdup(ident);
	k->literal[k->ncols] = pg_strdup(literal);
	k->type[k->ncols] = pg_strdup(type);
	k->ncols++;
	k->integer = k->ncols == 1 && integer;
}

static void
table_key_free(TableKey *k)
{
	for (int i = 0; i < k->ncols; i++)
	{
		free(k->name[i]);
		free(k->ident[i]);
		free(k->literal[i]);
		free(k->type[i]);
	}
	free(k->name);
	free(k->ident);
	free(k->literal);
	free(k->type);
	memset(k, 0, sizeof(*k));
}

/*
 * The key columns of every task's table, in one catalog query on the
 * source: the replica identity index, or failing that the primary key
 * (the key follow records changes by: tablemeta.c).
 */
static bool
read_keys(Engine *e)
{
	StrBuf		oids;
	PGresult   *res;
	const char *params[1];

	strbuf_init(&oids);
	strbuf_append(&oids, "{");
	for (int i = 0; i < e->nworks; i++)
		strbuf_printf(&oids, "%s%u", i ? "," : "", e->works[i].task->table->oid);
	strbuf_append(&oids, "}");
	params[0] = oids.data;
	res = db_query_params(e->pairs[0].source,
						  "SELECT i.indrelid::pg_catalog.text, a.attname, pg_catalog.quote_ident(a.attname), "
						  "  pg_catalog.quote_literal(a.attname), pg_catalog.format_type(a.atttypid, a.atttypmod), "
						  "  a.atttypid IN ('pg_catalog.int2'::pg_catalog.regtype, 'pg_catalog.int4'::pg_catalog.regtype, "
						  "                 'pg_catalog.int8'::pg_catalog.regtype) "
						  "FROM (SELECT DISTINCT ON (x.indrelid) x.indrelid, x.indkey FROM pg_catalog.pg_index x "
						  "      WHERE x.indrelid = ANY ($1::pg_catalog.oid[]) AND (x.indisprimary OR x.indisreplident) "
						  "      AND x.indisvalid AND x.indimmediate "
						  "      ORDER BY x.indrelid, x.indisreplident DESC, x.indisprimary DESC, x.indexrelid) i "
						  "CROSS JOIN LATERAL pg_catalog.unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY k(attnum, n) "
						  "JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
						  "ORDER BY i.indrelid, k.n",
						  1, params);
	strbuf_free(&oids);
	if (res == NULL)
		return false;
	for (int row = 0; row < PQntuples(res); row++)
	{
		unsigned int oid = (unsigned int) strtoul(PQgetvalue(res, row, 0), NULL, 10);

		for (int i = 0; i < e->nworks; i++)
			if (e->works[i].task->table->oid == oid)
				table_key_add(&e->works[i].key, PQgetvalue(res, row, 1), PQgetvalue(res, row, 2),
							  PQgetvalue(res, row, 3), PQgetvalue(res, row, 4), PQgetvalue(res, row, 5)[0] == 't');
	}
	PQclear(res);
	return true;
}

/*
 * Which tables the target lacks, in one query, before any statement could
 * fail on them (and abort a snapshot transaction of the caller's).
 */
static bool
find_missing(Engine *e)
{
	StrList		names = {0};
	char	   *array;
	const char *params[1];
	PGresult   *res;

	for (int i = 0; i < e->nworks; i++)
		strlist_add(&names, e->works[i].task->table->qualname);
	array = db_text_array(&names);
	params[0] = array;
	res = db_query_params(e->pairs[0].target,
						  "SELECT pg_catalog.to_regclass(u.t) IS NULL FROM pg_catalog.unnest($1::pg_catalog.text[]) "
						  "WITH ORDINALITY u(t, i) ORDER BY u.i",
						  1, params);
	free(array);
	strlist_free(&names);
	if (res == NULL)
		return false;
	for (int i = 0; i < e->nworks && i < PQntuples(res); i++)
		e->works[i].v->missing = PQgetvalue(res, i, 0)[0] == 't';
	PQclear(res);
	return true;
}

/* --- passes ---------------------------------------------------------------- */

/* A new job of e, zeroed. */
static Chunk *
add_chunk(Engine *e, JobKind kind, int work)
{
	Chunk	   *c;

	if (e->nchunks == e->cap)
	{
		e->cap = e->cap ? e->cap * 2 : 64;
		e->chunks = pg_realloc(e->chunks, sizeof(Chunk) * e->cap);
	}
	c = &e->chunks[e->nchunks++];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->work = work;
	return c;
}

/*
 * Do the given keys name exactly the table's key columns, none of them
 * NULL?  If not (a key recorded by another index, a NaN key that the
 * plugin sent as null) looking them up would find nothing on both sides,
 * which is no comparison: the table is compared whole instead.
 */
static bool
keys_name_key_columns(const TableWork *w)
{
	json_t	   *key;
	size_t		i;

	if (w->key.ncols == 0)
		return false;
	json_array_foreach(w->task->keys, i, key)
	{
		if (!json_is_object(key) || json_object_size(key) != (size_t) w->key.ncols)
			return false;
		for (int k = 0; k < w->key.ncols; k++)
			if (!json_is_string(json_object_get(key, w->key.name[k])))
				return false;
	}
	return true;
}

/* Pass 2's jobs of one task (refine: splitting it after it differed). */
static void
plan_task(Engine *e, int i, bool refine)
{
	TableWork  *w = &e->works[i];
	const CompareTask *t = w->task;

	w->first_chunk = e->nchunks;
	if (w->by_keys)
	{
		size_t		n = json_array_size(t->keys);

		for (size_t from = 0; from < n; from += KEYS_PER_STATEMENT)
		{
			Chunk	   *c = add_chunk(e, JOB_KEYS, i);

			c->keys_from = from;
			c->keys_to = from + KEYS_PER_STATEMENT < n ? from + KEYS_PER_STATEMENT : n;
		}
	}
	else if (w->have_range)
	{
		int64_t    *cuts = pg_malloc0(sizeof(int64_t) * MAX_CHUNKS);
		int			n = keydiff_split_range(w->min, w->max, t->table->reltuples,
											e->cfg->chunk_rows, MAX_CHUNKS, cuts);

		for (int k = 0; k < n; k++)
		{
			Chunk	   *c = add_chunk(e, JOB_CHUNK, i);

			c->refine = refine;
			c->has_lo = k > 0;
			c->lo = k > 0 ? cuts[k - 1] : 0;
			c->has_hi = k < n - 1;
			c->hi = k < n - 1 ? cuts[k] : 0;
		}
		free(cuts);
	}
	else
		(void) add_chunk(e, JOB_CHUNK, i);
	w->nchunks = e->nchunks - w->first_chunk;
	w->v->chunks += w->nchunks;
}

/*
 * On one pair, the tables are not split up front: one statement a table
 * scans it sequentially, cheaper than chunks through the key index, and
 * nothing runs beside it anyway.  A large integer-keyed table that differs
 * is split now, and its chunks compared again, to narrow only the ones
 * that differ.
 */
static bool
refine(Engine *e)
{
	int			ranges = e->nchunks;
	int			chunks;

	for (int i = 0; i < e->nworks; i++)
	{
		TableWork  *w = &e->works[i];
		const Chunk *c = w->nchunks == 1 ? &e->chunks[w->first_chunk] : NULL;

		if (c && c->kind == JOB_CHUNK && w->key.integer && !w->have_range && c->differs &&
			(c->source_rows > e->cfg->chunk_rows || c->target_rows > e->cfg->chunk_rows))
			(void) add_chunk(e, JOB_RANGE, i);
	}
	if (ranges == e->nchunks)
		return true;
	if (!compare_run_jobs(e, ranges, e->nchunks))
		return false;
	chunks = e->nchunks;
	for (int k = ranges; k < chunks; k++)
	{
		TableWork  *w = &e->works[e->chunks[k].work];

		if (w->have_range && !w->source_gone)
			plan_task(e, e->chunks[k].work, true);
	}
	e->chunks_total += e->nchunks - chunks;
	return compare_run_jobs(e, chunks, e->nchunks);
}

/*
 * Pass 3 for one chunk: every row's key and hash on both sides (pair 0,
 * synchronously), merged into the keys that differ.
 */
static bool
narrow_chunk(Engine *e, TableWork *w, const Chunk *c)
{
	ComparePair *pair = &e->pairs[0];
	StrBuf		sql;
	PGresult   *res[2] = {NULL, NULL};
	KeyHash    *lists[2] = {NULL, NULL};
	KeyDiff    *named;
	int			nnamed = 0;
	int			room = e->cfg->max_keys_named - (int) json_array_size(w->v->differing_keys);
	bool		ok = true;

	strbuf_init(&sql);
	strbuf_append(&sql, "SELECT pg_catalog.json_build_object(");
	for (int k = 0; k < w->key.ncols; k++)
		strbuf_printf(&sql, "%s%s, r.%s::text", k ? ", " : "", w->key.literal[k], w->key.ident[k]);
	strbuf_printf(&sql, ")::text, %s::text FROM %s%s r", e->row_hash,
				  w->task->table->relkind == 'p' ? "" : "ONLY ", w->task->table->qualname);
	compare_append_range(&sql, w, c);
	for (int side = 0; side < 2 && ok; side++)
		if (PQsendQuery(side_conn(pair, side), sql.data) != 1)
		{
			char	   *err = db_error(side_conn(pair, side));

			compare_log_error(w, side, err);
			free(err);
			ok = false;
		}
	for (int side = 0; side < 2; side++)
	{
		PGresult   *extra;

		res[side] = PQgetResult(side_conn(pair, side));
		while ((extra = PQgetResult(side_conn(pair, side))) != NULL)
			PQclear(extra);
		if (ok && PQresultStatus(res[side]) != PGRES_TUPLES_OK)
		{
			compare_log_error(w, side, compare_result_message(res[side]));
			ok = false;
		}
	}
	if (ok)
	{
		int64_t		differ;

		for (int side = 0; side < 2; side++)
		{
			lists[side] = pg_malloc0(sizeof(KeyHash) * (PQntuples(res[side]) + 1));
			for (int row = 0; row < PQntuples(res[side]); row++)
			{
				lists[side][row].key = PQgetvalue(res[side], row, 0);
				lists[side][row].hash = PQgetvalue(res[side], row, 1);
			}
		}
		named = pg_malloc0(sizeof(KeyDiff) * (room > 0 ? room : 1));
		differ = keydiff_merge(lists[0], PQntuples(res[0]), lists[1], PQntuples(res[1]),
							   named, room, &nnamed);
		w->v->keys_differing += differ;
		for (int k = 0; k < nnamed; k++)
		{
			json_t	   *key = json_loads(named[k].key, 0, NULL);

			json_array_append_new(w->v->differing_keys,
								  json_pack("{s:o, s:s}", "key", key ? key : json_string(named[k].key),
											"problem", keydiff_problem_name(named[k].problem)));
		}
		free(named);
	}
	free(lists[0]);
	free(lists[1]);
	PQclear(res[0]);
	PQclear(res[1]);
	strbuf_free(&sql);
	return ok;
}

/* Pass 3: the keys behind the differing chunks, up to max_keys_named per table. */
static bool
narrow(Engine *e)
{
	for (int i = 0; i < e->nworks; i++)
	{
		TableWork  *w = &e->works[i];
		bool		unnamed = false;

		if (w->by_keys || w->v->missing || w->source_gone)
			continue;			/* judged key by key already, or nothing to
								 * read */
		for (int k = w->first_chunk; k < w->first_chunk + w->nchunks; k++)
		{
			const Chunk *c = &e->chunks[k];

			if (!c->differs)
				continue;
			if (w->key.ncols == 0)
			{
				w->keys_note = "no primary key or replica identity index: the differing rows cannot be named";
				unnamed = true;
			}
			else if (c->source_rows > NARROW_MAX_ROWS || c->target_rows > NARROW_MAX_ROWS)
			{
				w->keys_note = "a chunk too large to name keys in (only one-column integer keys are split)";
				unnamed = true;
			}
			else if ((int) json_array_size(w->v->differing_keys) >= e->cfg->max_keys_named)
			{
				if (w->keys_note == NULL)
					w->keys_note = "more chunks differ, not read once enough keys were named";
				unnamed = true;
			}
			else if (signals_interrupts() > 0)
			{
				log_error("verify interrupted while naming the differing keys; fix: run verify again");
				return false;
			}
			else if (!narrow_chunk(e, w, c))
				return false;
		}
		if (unnamed)
			w->v->keys_differing = -1;	/* not every differing chunk was read */
	}
	return true;
}

static void
finish_verdicts(Engine *e, VerifyResult *r)
{
	for (int i = 0; i < e->nworks; i++)
	{
		TableWork  *w = &e->works[i];
		TableVerdict *v = w->v;

		if (!v->missing && !w->source_gone && v->scope == NULL)
			v->scope = "all rows";
		if (!w->source_gone)
			v->source_sum = int128_text(w->source_sum);
		if (!v->missing && !w->source_gone)
			v->target_sum = int128_text(w->target_sum);
		if (w->source_gone)
			log_warn("%s was dropped on the source while it was compared: it counts as different", v->qualname);
		v->match = !v->missing && !w->source_gone && !w->differs && v->keys_differing == 0 &&
			v->source_rows == v->target_rows && w->source_sum == w->target_sum;
		v->keyless = w->key.ncols == 0;
		v->keys_note = v->match ? NULL : w->keys_note;
		if (!v->match)
			r->mismatches++;
		r->rows_compared += v->source_rows;
	}
}

/*
 * A parallel worker connects to the database like a client, and a database
 * the switchover fenced refuses connections (ALLOW_CONNECTIONS false):
 * there an older server (13) fails such a worker and the query with it (a
 * rerun of a killed switchover then cannot verify), so a session on a
 * fenced database plans no parallel workers.  A no-op on a database that
 * takes connections.
 */
static void
no_parallel_when_fenced(PGconn *conn)
{
	PGresult   *res = PQexec(conn, "SELECT pg_catalog.set_config('max_parallel_workers_per_gather', '0', false) "
							 "FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database() AND NOT datallowconn");

	PQclear(res);
}

bool
compare_tables(ComparePair *pairs, int npairs, const CompareConfig *cfg,
			   const CompareTask *tasks, int ntasks, VerifyResult *r)
{
	Engine		e = {.pairs = pairs,.npairs = npairs,.cfg = cfg,.nworks = ntasks};
	bool		ok = false;
	int			ranges_end;

	e.t0 = now_seconds();
	e.next_progress = e.t0 + cfg->progress_seconds;
	e.row_hash = npairs > 0 ? row_hash_sql(pairs[0].source, pairs[0].target)
		: "pg_catalog.hashtextextended(r::text, 0)";
	e.works = pg_malloc0(sizeof(TableWork) * (ntasks + 1));
	e.slots = pg_malloc0(sizeof(Slot) * npairs);
	for (int p = 0; p < npairs; p++)
	{
		e.slots[p].chunk = -1;
		no_parallel_when_fenced(pairs[p].source);
		no_parallel_when_fenced(pairs[p].target);
	}
	for (int i = 0; i < ntasks; i++)
	{
		TableWork  *w = &e.works[i];

		w->task = &tasks[i];
		w->v = &r->tables[r->ntables++];
		memset(w->v, 0, sizeof(*w->v));
		w->v->qualname = pg_strdup(tasks[i].table->qualname);
		w->v->differing_keys = json_array();
	}
	if (ntasks > 0 && (!read_keys(&e) || !find_missing(&e)))
		goto done;

	/* pass 1: the key range of the integer-keyed tables that may be large */
	for (int i = 0; i < ntasks; i++)
	{
		TableWork  *w = &e.works[i];
		double		est = w->task->table->reltuples;

		if (npairs > 1 && w->task->scope == COMPARE_ALL_ROWS && w->key.integer && !w->v->missing &&
			(est <= 0 || est > (double) cfg->chunk_rows))
			(void) add_chunk(&e, JOB_RANGE, i);
	}
	if (!compare_run_jobs(&e, 0, e.nchunks))
		goto done;
	ranges_end = e.nchunks;

	/* pass 2: every chunk of every table on the target */
	for (int i = 0; i < ntasks; i++)
	{
		TableWork  *w = &e.works[i];

		w->by_keys = w->task->scope == COMPARE_KEYS && keys_name_key_columns(w);
		w->v->scope = w->by_keys ? "changed keys" : "all rows";
		if (w->source_gone)
			continue;
		if (w->v->missing)
		{
			/* its source side still counts, as the report always said */
			w->first_chunk = e.nchunks;
			(void) add_chunk(&e, JOB_SOURCE_ONLY, i);
			w->nchunks = 1;
			continue;
		}
		plan_task(&e, i, false);
		if (w->by_keys)
			e.rows_total += (double) json_array_size(w->task->keys);
		else
		{
			e.rows_total += w->task->table->reltuples > 0 ? w->task->table->reltuples : 0;
			e.bytes_total += (double) w->task->table->bytes;
		}
	}
	e.chunks_total = e.nchunks - ranges_end;
	if (!compare_run_jobs(&e, ranges_end, e.nchunks))
		goto done;
	compare_progress(&e, e.chunks_total > 0 && now_seconds() - e.t0 > cfg->progress_seconds);

	/* pass 3: the keys of the differing chunks */
	if (!refine(&e) || !narrow(&e))
		goto done;
	finish_verdicts(&e, r);
	ok = true;
done:
	for (int i = 0; i < ntasks; i++)
		table_key_free(&e.works[i].key);
	for (int p = 0; p < npairs; p++)
		compare_slot_reset(&e.slots[p]);
	free(e.slots);
	free(e.chunks);
	free(e.works);
	return ok;
}

bool
compare_pairs_open(const Options *opts, int n, ComparePair **out)
{
	ComparePair *pairs = pg_malloc0(sizeof(ComparePair) * (n > 0 ? n : 1));
	char	   *err = NULL;

	for (int i = 0; i < n; i++)
	{
		if ((pairs[i].source = db_connect(opts->source, "source", CONN_NORMAL, &err)) == NULL ||
			(pairs[i].target = db_connect(opts->target, "target", CONN_NORMAL, &err)) == NULL)
		{
			log_error("%s", err);
			free(err);
			compare_pairs_close(pairs, i + 1);
			*out = NULL;
			return false;
		}
	}
	*out = pairs;
	return true;
}

void
compare_pairs_close(ComparePair *pairs, int n)
{
	if (pairs == NULL)
		return;
	for (int i = 0; i < n; i++)
	{
		PQfinish(pairs[i].source);
		PQfinish(pairs[i].target);
	}
	free(pairs);
}
