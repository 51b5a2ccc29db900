/*
 * sequences.c
 *	  Reading sequences whole and the rules for carrying them; see
 *	  sequences.h.  The rules are pure (unit-tested in test_sequences.c);
 *	  only sequences_read talks to a server.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "log.h"
#include "pgconn.h"
#include "sequences.h"
#include "strbuf.h"

/* Sequences read per query: each is a relation of its own. */
#define SEQUENCES_PER_QUERY 200

bool
sequence_next_value(const SequenceState *s, int64_t *next)
{
	if (!s->is_called)
	{
		*next = s->last_value;
		return true;
	}
	if (s->increment > 0 ? s->last_value > s->max_value - s->increment
		: s->last_value < s->min_value - s->increment)
	{
		if (!s->cycle)
			return false;
		*next = s->increment > 0 ? s->min_value : s->max_value;
		return true;
	}
	*next = s->last_value + s->increment;
	return true;
}

bool
sequence_ahead_of(const SequenceState *a, const SequenceState *b)
{
	int64_t		na,
				nb;
	bool		a_live,
				b_live;

	a_live = sequence_next_value(a, &na);
	b_live = sequence_next_value(b, &nb);
	if (!a_live || !b_live)
		return !a_live && b_live;
	return a->increment > 0 ? na > nb : na < nb;
}

bool
sequence_same_shape(const SequenceState *a, const SequenceState *b)
{
	if ((a->type_name == NULL) != (b->type_name == NULL) ||
		(a->type_name && strcmp(a->type_name, b->type_name) != 0))
		return false;
	return a->increment == b->increment && a->min_value == b->min_value &&
		a->max_value == b->max_value && a->cycle == b->cycle;
}

void
sequence_plan(const SequenceState *src, const SequenceState *tgt, int64_t gap,
			  SequenceSetting *out)
{
	int64_t		next;

	memset(out, 0, sizeof(*out));
	if (gap <= 0 || !sequence_next_value(src, &next))
	{
		/* the source's state exactly: same next value, same is_called */
		out->value = src->last_value;
		out->is_called = src->is_called;
	}
	else if (src->increment > 0)
	{
		out->gap_applied = src->max_value - next < gap ? src->max_value - next : gap;
		out->value = next + out->gap_applied;
	}
	else
	{
		out->gap_applied = next - src->min_value < gap ? next - src->min_value : gap;
		out->value = next - out->gap_applied;
	}
	if (gap > 0 && !out->is_called)
	{
		/*
		 * The next value is out->value.  Say it as "last handed out one step
		 * before" where that is inside the bounds, so that pg_sequences shows
		 * a last_value on the target, as on a sequence in use.
		 */
		int64_t		before = out->value - src->increment;

		if (src->increment > 0 ? out->value >= src->min_value + src->increment
			: out->value <= src->max_value + src->increment)
		{
			out->value = before;
			out->is_called = true;
		}
	}
	if (tgt != NULL && !src->cycle)
	{
		SequenceState planned = *tgt;

		planned.last_value = out->value;
		planned.is_called = out->is_called;
		out->keep_target = sequence_ahead_of(tgt, &planned);
	}
}

static void
add_read(StrBuf *sql, int index, const char *qualname)
{
	if (sql->len > 0)
		strbuf_append(sql, " UNION ALL ");
	strbuf_printf(sql, "SELECT %d, last_value, is_called FROM %s", index, qualname);
}

/* Fills last_value and is_called of items [from, to) with one query. */
static bool
read_values(PGconn *conn, SequenceList *list, int from, int to)
{
	StrBuf		sql = {0};
	PGresult   *res;

	for (int i = from; i < to; i++)
		add_read(&sql, i, list->items[i].qualname);
	res = db_query(conn, sql.data);
	strbuf_free(&sql);
	if (res == NULL)
		return false;
	for (int r = 0; r < PQntuples(res); r++)
	{
		SequenceState *s = &list->items[atoi(PQgetvalue(res, r, 0))];

		s->last_value = strtoll(PQgetvalue(res, r, 1), NULL, 10);
		s->is_called = PQgetvalue(res, r, 2)[0] == 't';
	}
	PQclear(res);
	return true;
}

bool
sequences_read(PGconn *conn, const Options *opts, SequenceList *out)
{
	PGresult   *res = db_query(conn,
							   "SELECT n.nspname, c.relname, "
							   "  pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname), "
							   "  s.seqincrement, s.seqmin, s.seqmax, s.seqcycle, "
							   "  pg_catalog.has_sequence_privilege(c.oid, 'SELECT'), "
							   "  pg_catalog.format_type(s.seqtypid, NULL), o.nspname, o.relname, s.seqstart "
							   "FROM pg_catalog.pg_sequence s "
							   "JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid "
							   "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
							   "LEFT JOIN LATERAL (SELECT tn.nspname, t.relname FROM pg_catalog.pg_depend od "
							   "  JOIN pg_catalog.pg_class t ON t.oid = od.refobjid "
							   "  JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace "
							   "  WHERE od.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND od.objid = c.oid "
							   "    AND od.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
							   "    AND od.deptype IN ('a', 'i') LIMIT 1) o ON true "
							   "WHERE " CATALOG_USER_RELATION_FILTER
							   " ORDER BY 1, 2");
	bool		ok = res != NULL;

	memset(out, 0, sizeof(*out));
	if (!ok)
		return false;
	out->items = pg_malloc0(sizeof(SequenceState) * (PQntuples(res) + 1));
	for (int i = 0; i < PQntuples(res); i++)
	{
		SequenceState *s = &out->items[out->count];

		/*
		 * As pg_dump selects them: by its own name and schema, or, under
		 * --include-table (-t), also as the owned sequence (serial, identity)
		 * of an included table.
		 */
		if (opts && !catalog_table_selected(opts, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1)) &&
			!(opts->include_table.count > 0 && !PQgetisnull(res, i, 9) &&
			  catalog_table_selected(opts, PQgetvalue(res, i, 9), PQgetvalue(res, i, 10))))
			continue;
		if (PQgetvalue(res, i, 7)[0] != 't')
		{
			log_warn("sequence %s is skipped: this role may not read it; fix: GRANT SELECT ON SEQUENCE %s TO %s",
					 PQgetvalue(res, i, 2), PQgetvalue(res, i, 2), PQuser(conn));
			continue;
		}
		s->nspname = pg_strdup(PQgetvalue(res, i, 0));
		s->relname = pg_strdup(PQgetvalue(res, i, 1));
		s->qualname = pg_strdup(PQgetvalue(res, i, 2));
		s->increment = strtoll(PQgetvalue(res, i, 3), NULL, 10);
		s->min_value = strtoll(PQgetvalue(res, i, 4), NULL, 10);
		s->max_value = strtoll(PQgetvalue(res, i, 5), NULL, 10);
		s->cycle = PQgetvalue(res, i, 6)[0] == 't';
		s->type_name = pg_strdup(PQgetvalue(res, i, 8));
		s->start_value = strtoll(PQgetvalue(res, i, 11), NULL, 10);
		out->count++;
	}
	PQclear(res);
	for (int from = 0; ok && from < out->count; from += SEQUENCES_PER_QUERY)
		ok = read_values(conn, out, from,
						 from + SEQUENCES_PER_QUERY < out->count ? from + SEQUENCES_PER_QUERY : out->count);
	if (!ok)
		sequences_free(out);
	return ok;
}

void
sequences_free(SequenceList *list)
{
	for (int i = 0; i < list->count; i++)
	{
		free(list->items[i].nspname);
		free(list->items[i].relname);
		free(list->items[i].qualname);
		free(list->items[i].type_name);
	}
	free(list->items);
	memset(list, 0, sizeof(*list));
}

const SequenceState *
sequences_find(const SequenceList *list, const char *qualname)
{
	for (int i = 0; i < list->count; i++)
		if (strcmp(list->items[i].qualname, qualname) == 0)
			return &list->items[i];
	return NULL;
}
