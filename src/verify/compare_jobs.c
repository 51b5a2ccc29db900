/*
 * compare_jobs.c
 *	  One job of the comparison engine (compare_int.h): the statement it
 *	  sends (a key range's min and max, a chunk's count and checksum, the
 *	  hash of each given key's row), and the verdict on what both sides
 *	  answered.  A table gone on a side is noted, not an error.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alloc.h"
#include "compare_int.h"
#include "keydiff.h"
#include "log.h"

static const char *const side_name[2] = {"source", "target"};

/* The server's message of a failed result. */
const char *
compare_result_message(const PGresult *res)
{
	const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	return m ? m : "no result";
}

static bool
undefined_table(const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return state && strcmp(state, "42P01") == 0;
}

/* A comparison of w failed on one side: says which and why. */
void
compare_log_error(const TableWork *w, int side, const char *what)
{
	log_error("cannot compare %s on the %s: %s; fix: see the message (a statement_timeout or lock on that side?), then verify again",
			  w->task->table->qualname, side_name[side], what);
}

/* --- statements ------------------------------------------------------------ */

/* The WHERE clause of a chunk's key range (none: the whole table). */
void
compare_append_range(StrBuf *sql, const TableWork *w, const Chunk *c)
{
	if (c->has_lo)
		strbuf_printf(sql, " WHERE r.%s >= %lld", w->key.ident[0], (long long) c->lo);
	if (c->has_hi)
		strbuf_printf(sql, " %s r.%s < %lld", c->has_lo ? "AND" : "WHERE", w->key.ident[0], (long long) c->hi);
}

/* The statement of a job, malloc'd; *param its one parameter or NULL. */
char *
compare_job_sql(const Engine *e, const Chunk *c, char **param)
{
	const TableWork *w = &e->works[c->work];
	const char *qualname = w->task->table->qualname;
	const char *only = w->task->table->relkind == 'p' ? "" : "ONLY ";	/* a tree compared whole */
	StrBuf		sql;

	*param = NULL;
	strbuf_init(&sql);
	switch (c->kind)
	{
		case JOB_RANGE:
			strbuf_printf(&sql, "SELECT min(r.%s)::pg_catalog.int8, max(r.%s)::pg_catalog.int8 FROM %s%s r",
						  w->key.ident[0], w->key.ident[0], only, qualname);
			break;
		case JOB_CHUNK:
		case JOB_SOURCE_ONLY:
			strbuf_printf(&sql, "SELECT count(*), coalesce(sum(%s), 0)::text FROM %s%s r",
						  e->row_hash, only, qualname);
			compare_append_range(&sql, w, c);
			break;
		case JOB_KEYS:
			{
				json_t	   *batch = json_array();

				for (size_t i = c->keys_from; i < c->keys_to; i++)
					json_array_append(batch, json_array_get(w->task->keys, i));
				*param = json_dumps(batch, JSON_COMPACT);
				json_decref(batch);
				strbuf_printf(&sql, "SELECT x.ordinality, %s::text "
							  "FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb) WITH ORDINALITY x(key, ordinality) "
							  "LEFT JOIN %s%s r ON ", e->row_hash, only, qualname);
				for (int k = 0; k < w->key.ncols; k++)
					strbuf_printf(&sql, "%sr.%s = (x.key OPERATOR(pg_catalog.->>) %s)::%s", k ? " AND " : "",
								  w->key.ident[k], w->key.literal[k], w->key.type[k]);
			}
			break;
	}
	return sql.data;
}

/* --- verdicts -------------------------------------------------------------- */

/* A checksum sum (numeric text) as an int128; false when it is not a number. */
static bool
parse_int128(const char *s, int128 *out)
{
	bool		neg = *s == '-';
	int128		v = 0;

	if (neg)
		s++;
	if (*s == '\0')
		return false;
	for (; *s; s++)
	{
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = neg ? -v : v;
	return true;
}

/*
 * Did both sides (the source only, when tres is NULL) answer?  A table gone
 * on a side is noted, not an error; any other failure is logged: false.
 */
static bool
sides_answered(TableWork *w, PGresult *sres, PGresult *tres)
{
	for (int side = 0; side < (tres ? 2 : 1); side++)
	{
		PGresult   *res = side == 0 ? sres : tres;

		if (PQresultStatus(res) == PGRES_TUPLES_OK)
			continue;
		if (undefined_table(res))
		{
			if (side == 0)
				w->source_gone = true;
			else
				w->v->missing = true;
			continue;
		}
		compare_log_error(w, side, compare_result_message(res));
		return false;
	}
	return true;
}

static bool
judge_range(Engine *e, Chunk *c, PGresult *res)
{
	TableWork  *w = &e->works[c->work];

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		if (undefined_table(res))
		{
			w->source_gone = true;
			return true;
		}
		compare_log_error(w, 0, compare_result_message(res));
		return false;
	}
	if (!PQgetisnull(res, 0, 0))
	{
		w->have_range = true;
		w->min = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		w->max = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	}
	return true;
}

static bool
judge_chunk(Engine *e, Chunk *c, PGresult *sres, PGresult *tres)
{
	TableWork  *w = &e->works[c->work];
	int128		ssum = 0,
				tsum = 0;

	if (!sides_answered(w, sres, c->kind == JOB_SOURCE_ONLY ? NULL : tres))
		return false;
	if (w->source_gone || (w->v->missing && c->kind != JOB_SOURCE_ONLY))
		return true;
	c->source_rows = atoll(PQgetvalue(sres, 0, 0));
	c->target_rows = c->kind == JOB_SOURCE_ONLY ? 0 : atoll(PQgetvalue(tres, 0, 0));
	if (!parse_int128(PQgetvalue(sres, 0, 1), &ssum) ||
		(c->kind != JOB_SOURCE_ONLY && !parse_int128(PQgetvalue(tres, 0, 1), &tsum)))
	{
		compare_log_error(w, 0, "the checksum is not a number");
		return false;
	}
	c->differs = c->source_rows != c->target_rows || ssum != tsum;
	if (c->refine)
		return true;
	w->differs = w->differs || c->differs;
	w->v->source_rows += c->source_rows;
	w->v->target_rows += c->target_rows;
	w->source_sum += ssum;
	w->target_sum += tsum;
	return true;
}

/* Notes one differing key; key is a JSON object (a new reference is taken). */
static void
name_key(const Engine *e, TableWork *w, json_t *key, KeyProblem problem)
{
	w->v->keys_differing++;
	if ((int) json_array_size(w->v->differing_keys) >= e->cfg->max_keys_named)
		return;
	json_array_append_new(w->v->differing_keys,
						  json_pack("{s:O, s:s}", "key", key, "problem", keydiff_problem_name(problem)));
}

static bool
judge_keys(Engine *e, Chunk *c, PGresult *sres, PGresult *tres)
{
	TableWork  *w = &e->works[c->work];
	size_t		n = c->keys_to - c->keys_from;
	const char **shash;
	const char **thash;

	if (!sides_answered(w, sres, tres))
		return false;
	if (w->source_gone || w->v->missing)
		return true;
	shash = pg_malloc0(sizeof(char *) * (n + 1));
	thash = pg_malloc0(sizeof(char *) * (n + 1));
	for (int side = 0; side < 2; side++)
	{
		PGresult   *res = side == 0 ? sres : tres;
		const char **hash = side == 0 ? shash : thash;

		for (int row = 0; row < PQntuples(res); row++)
		{
			long long	ord = atoll(PQgetvalue(res, row, 0));

			if (ord >= 1 && (size_t) ord <= n && !PQgetisnull(res, row, 1))
				hash[ord - 1] = PQgetvalue(res, row, 1);
		}
	}
	for (size_t i = 0; i < n; i++)
	{
		json_t	   *key = json_array_get(w->task->keys, c->keys_from + i);

		if (shash[i] && thash[i] && strcmp(shash[i], thash[i]) != 0)
			name_key(e, w, key, KEY_DIFFERS);
		else if (shash[i] && !thash[i])
			name_key(e, w, key, KEY_MISSING_ON_TARGET);
		else if (!shash[i] && thash[i])
			name_key(e, w, key, KEY_EXTRA_ON_TARGET);
	}
	c->source_rows = c->target_rows = (long long) n;
	w->v->source_rows += (long long) n;
	w->v->target_rows += (long long) n;
	free(shash);
	free(thash);
	return true;
}

/* Judges the job a pair has both answers to (one for a source-only job). */
bool
compare_judge(Engine *e, int pair)
{
	Slot	   *s = &e->slots[pair];
	Chunk	   *c = &e->chunks[s->chunk];
	const TableWork *w = &e->works[c->work];
	bool		ok;

	if (c->kind == JOB_RANGE)
		return judge_range(e, c, s->res[0]);
	ok = c->kind == JOB_KEYS ? judge_keys(e, c, s->res[0], s->res[1])
		: judge_chunk(e, c, s->res[0], s->res[1]);
	e->chunks_done++;
	if (!c->refine)
		e->rows_done += c->source_rows;
	if (c->kind == JOB_CHUNK && w->nchunks > 0)
		e->bytes_done += (double) w->task->table->bytes / w->nchunks;
	return ok;
}
