/*
 * tablemeta.c
 *	  The target-table metadata cache: a small chained hash table keyed by
 *	  (schema, table), filled from pg_catalog on first use.  Materialized
 *	  views are in it too, as relkind 'm', so that apply can skip their rows.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pgconn.h"
#include "alloc.h"
#include "apply_sql.h"
#include "partroute.h"
#include "tablemeta.h"

#define NBUCKETS 1024

struct TableCache
{
	TableMeta  *buckets[NBUCKETS];
};

static unsigned
hash_name(const char *schema, const char *table)
{
	unsigned	h = 2166136261u;

	for (const char *p = schema; *p; p++)
		h = (h ^ (unsigned char) *p) * 16777619u;
	h = (h ^ 0xff) * 16777619u;
	for (const char *p = table; *p; p++)
		h = (h ^ (unsigned char) *p) * 16777619u;
	return h % NBUCKETS;
}

TableCache *
tablecache_create(void)
{
	return pg_malloc0(sizeof(TableCache));
}

static void
free_statements(TableMeta *t)
{
	while (t->stmts)
	{
		PreparedStmt *next = t->stmts->next;

		free(t->stmts->key);
		free(t->stmts->sql);
		free(t->stmts->colidx);
		free(t->stmts);
		t->stmts = next;
	}
}

static void
free_meta(TableMeta *t)
{
	for (int i = 0; i < t->ncols; i++)
	{
		free(t->cols[i].name);
		free(t->cols[i].quoted);
		free(t->cols[i].type);
		free(t->cols[i].typename_nomod);
		free(t->cols[i].match_type);
	}
	free(t->cols);
	free(t->key);
	free(t->schema);
	free(t->table);
	free(t->qualname);
	free(t->leaf_qualname);
	free_statements(t);
	free(t);
}

void
tablecache_invalidate(TableCache *tc)
{
	for (int b = 0; b < NBUCKETS; b++)
		while (tc->buckets[b])
		{
			TableMeta  *next = tc->buckets[b]->next;

			free_meta(tc->buckets[b]);
			tc->buckets[b] = next;
		}
}

void
tablecache_forget_statements(TableCache *tc)
{
	for (int b = 0; b < NBUCKETS; b++)
		for (TableMeta *t = tc->buckets[b]; t; t = t->next)
			free_statements(t);
}

void
tablecache_forget_tracking(TableCache *tc)
{
	for (int b = 0; b < NBUCKETS; b++)
		for (TableMeta *t = tc->buckets[b]; t; t = t->next)
		{
			t->tracked_keys = 0;
			t->tracked_whole = false;
		}
}

void
tablecache_destroy(TableCache *tc)
{
	if (tc == NULL)
		return;
	tablecache_invalidate(tc);
	free(tc);
}

static bool
load_columns(TableMeta *t, PGconn *tgt, const char *oid)
{
	const char *params[1] = {oid};
	PGresult   *res = db_query_params(tgt,
									  "WITH c AS ("
									  "  SELECT a.attnum, a.attname, a.atttypid, a.atttypmod, a.attgenerated, a.attidentity, a.attnotnull, "
									  "         coalesce(nullif(t.typbasetype, 0), t.oid) AS base "
									  "  FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
									  "  WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped) "
									  "SELECT c.attname, pg_catalog.quote_ident(c.attname), "
									  "  pg_catalog.format_type(c.atttypid, c.atttypmod), c.atttypid, "
									  "  c.attgenerated::text, c.attidentity = 'a', "
									  "  c.base IN ('pg_catalog.float4'::pg_catalog.regtype, 'pg_catalog.float8'::pg_catalog.regtype, "
									  "             'pg_catalog.numeric'::pg_catalog.regtype), "
									  "  EXISTS (SELECT 1 FROM pg_catalog.pg_opclass oc JOIN pg_catalog.pg_am am ON am.oid = oc.opcmethod "
									  "          JOIN pg_catalog.pg_type bt ON bt.oid = c.base "
									  "          WHERE am.amname = 'btree' AND oc.opcdefault AND oc.opcintype = "
									  "            CASE WHEN bt.typtype = 'e' THEN 'pg_catalog.anyenum'::pg_catalog.regtype "
									  "                 WHEN bt.typtype = 'r' THEN 'pg_catalog.anyrange'::pg_catalog.regtype "
									  "                 WHEN bt.typelem <> 0 AND bt.typlen = -1 THEN 'pg_catalog.anyarray'::pg_catalog.regtype "
									  "                 ELSE c.base END), "
									  "  CASE c.atttypid WHEN 'pg_catalog.bpchar'::pg_catalog.regtype THEN 'pg_catalog.bpchar' "
									  "    WHEN 'pg_catalog._bpchar'::pg_catalog.regtype THEN 'pg_catalog.bpchar[]' "
									  "    WHEN 'pg_catalog.bit'::pg_catalog.regtype THEN 'pg_catalog.\"bit\"' "
									  "    WHEN 'pg_catalog._bit'::pg_catalog.regtype THEN 'pg_catalog.\"bit\"[]' "
									  "    ELSE pg_catalog.format_type(c.atttypid, NULL) END, "
									  "  c.base = 'pg_catalog.bytea'::pg_catalog.regtype, c.attnotnull, "
									  "  CASE WHEN c.base <> c.atttypid THEN "
									  "    CASE c.base WHEN 'pg_catalog.bpchar'::pg_catalog.regtype THEN 'pg_catalog.bpchar' "
									  "      WHEN 'pg_catalog.bit'::pg_catalog.regtype THEN 'pg_catalog.\"bit\"' "
									  "      ELSE pg_catalog.format_type(c.base, NULL) END "
									  "  WHEN (SELECT bt.typtype IN ('b', 'c') AND bt.typcategory <> 'A' AND NOT EXISTS ("
									  "     SELECT 1 FROM pg_catalog.pg_operator o WHERE o.oprname = '=' "
									  "     AND o.oprleft = c.base AND o.oprright = c.base) "
									  "   FROM pg_catalog.pg_type bt WHERE bt.oid = c.base) THEN pg_catalog.format_type(c.base, NULL) END, "
									  "  c.base <> c.atttypid "
									  "FROM c ORDER BY c.attnum", 1, params);

	if (res == NULL)
		return false;
	t->ncols = PQntuples(res);
	t->cols = pg_malloc0(sizeof(ColumnMeta) * (t->ncols + 1));
	for (int i = 0; i < t->ncols; i++)
	{
		ColumnMeta *c = &t->cols[i];

		c->name = pg_strdup(PQgetvalue(res, i, 0));
		c->quoted = pg_strdup(PQgetvalue(res, i, 1));
		c->type = pg_strdup(PQgetvalue(res, i, 2));
		c->typeoid = (uint32_t) strtoul(PQgetvalue(res, i, 3), NULL, 10);
		/* 's' stored, 'v' virtual (PostgreSQL 18): neither is written */
		c->generated = attgenerated_never_written(PQgetvalue(res, i, 4)[0]);
		c->identity_always = PQgetvalue(res, i, 5)[0] == 't';
		c->maybe_special = PQgetvalue(res, i, 6)[0] == 't';
		c->has_equality = PQgetvalue(res, i, 7)[0] == 't';
		c->typename_nomod = pg_strdup(PQgetvalue(res, i, 8));
		c->is_bytea = PQgetvalue(res, i, 9)[0] == 't';
		c->not_null = PQgetvalue(res, i, 10)[0] == 't';
		c->match_type = PQgetisnull(res, i, 11) ? NULL : pg_strdup(PQgetvalue(res, i, 11));
		c->match_casts_column = PQgetvalue(res, i, 12)[0] == 't';
		t->any_special |= c->maybe_special;
		t->any_ambiguous |= column_null_ambiguous(c);
		t->any_bytea |= c->is_bytea;
	}
	PQclear(res);
	return true;
}

/*
 * The replica identity index (what UPDATE and DELETE carry), else the
 * primary key: the columns of that one index, as column indexes.  A
 * deferrable key is no key: inside a transaction it may match two rows.
 */
static bool
load_key(TableMeta *t, PGconn *tgt, const char *oid)
{
	const char *params[1] = {oid};
	PGresult   *res = db_query_params(tgt,
									  "SELECT a.attname FROM pg_catalog.pg_index i "
									  "CROSS JOIN LATERAL pg_catalog.unnest(i.indkey) WITH ORDINALITY k(attnum, pos) "
									  "JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
									  "WHERE i.indexrelid = (SELECT x.indexrelid FROM pg_catalog.pg_index x "
									  "  WHERE x.indrelid = $1 AND (x.indisprimary OR x.indisreplident) AND x.indimmediate "
									  "  ORDER BY x.indisreplident DESC, x.indisprimary DESC, x.indexrelid LIMIT 1) "
									  "ORDER BY k.pos", 1, params);
	int			n;

	if (res == NULL)
		return false;
	n = PQntuples(res);
	t->key = pg_malloc0(sizeof(int) * (n + 1));
	for (int i = 0; i < n; i++)
	{
		int			col = tablemeta_column(t, PQgetvalue(res, i, 0));

		if (col >= 0)
		{
			t->key[t->nkey++] = col;
			t->key_ambiguous |= column_null_ambiguous(&t->cols[col]);
		}
	}
	PQclear(res);
	return true;
}

/*
 * Is there a unique or exclusion index besides the key: an immediate one
 * (other_unique), or any (unique_elsewhere, for parallel apply:
 * footprint.c)?  And is the key's text canonical: two equal keys printed
 * alike (types whose output is one text per value, with a deterministic
 * collation)?
 */
static bool
load_uniqueness(TableMeta *t, PGconn *tgt, const char *oid)
{
	const char *params[1] = {oid};
	PGresult   *res = db_query_params(tgt,
									  "WITH k AS (SELECT x.indexrelid, x.indkey FROM pg_catalog.pg_index x "
									  "  WHERE x.indrelid = $1 AND (x.indisprimary OR x.indisreplident) AND x.indimmediate "
									  "  ORDER BY x.indisreplident DESC, x.indisprimary DESC, x.indexrelid LIMIT 1) "
									  "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_index i "
									  "    LEFT JOIN pg_catalog.pg_constraint con ON con.conindid = i.indexrelid AND con.contype = 'x' "
									  "    WHERE i.indrelid = $1 AND (i.indisunique OR con.oid IS NOT NULL) "
									  "    AND i.indexrelid NOT IN (SELECT k.indexrelid FROM k)), "
									  "  EXISTS (SELECT 1 FROM pg_catalog.pg_index i "
									  "    LEFT JOIN pg_catalog.pg_constraint con ON con.conindid = i.indexrelid AND con.contype = 'x' "
									  "    WHERE i.indrelid = $1 AND i.indimmediate AND (i.indisunique OR con.oid IS NOT NULL) "
									  "    AND i.indexrelid NOT IN (SELECT k.indexrelid FROM k)), "
									  "  NOT EXISTS (SELECT 1 FROM k CROSS JOIN LATERAL pg_catalog.unnest(k.indkey) u(attnum) "
									  "    JOIN pg_catalog.pg_attribute a ON a.attrelid = $1 AND a.attnum = u.attnum "
									  "    LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation "
									  "    WHERE a.atttypid NOT IN ('bool'::pg_catalog.regtype, 'bytea'::pg_catalog.regtype, "
									  "      '\"char\"'::pg_catalog.regtype, 'name'::pg_catalog.regtype, 'int2'::pg_catalog.regtype, "
									  "      'int4'::pg_catalog.regtype, 'int8'::pg_catalog.regtype, 'oid'::pg_catalog.regtype, "
									  "      'text'::pg_catalog.regtype, 'varchar'::pg_catalog.regtype, 'date'::pg_catalog.regtype, "
									  "      'time'::pg_catalog.regtype, 'timestamp'::pg_catalog.regtype, "
									  "      'timestamptz'::pg_catalog.regtype, 'uuid'::pg_catalog.regtype) "
									  "    OR NOT coalesce(co.collisdeterministic, true))",
									  1, params);

	if (res == NULL)
		return false;
	t->unique_elsewhere = PQgetvalue(res, 0, 0)[0] == 't';
	t->other_unique = PQgetvalue(res, 0, 1)[0] == 't';
	t->key_canonical = t->nkey > 0 && PQgetvalue(res, 0, 2)[0] == 't';
	PQclear(res);
	return true;
}

TableMeta *
tablecache_get(TableCache *tc, PGconn *tgt, const char *schema, const char *table, bool *missing)
{
	unsigned	b = hash_name(schema, table);
	const char *params[2] = {schema, table};
	PGresult   *res;
	TableMeta  *t;

	*missing = false;
	for (t = tc->buckets[b]; t; t = t->next)
		if (strcmp(t->schema, schema) == 0 && strcmp(t->table, table) == 0)
			return t;

	/* a leaf whose rows go through its root (partroute.h) is written as the root */
	res = db_query_params(tgt,
						  "SELECT c.oid, c.relkind, pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname), "
						  "  (SELECT pg_catalog.quote_ident(rn.nspname) || '.' || pg_catalog.quote_ident(rc.relname) "
						  "   FROM pg_catalog.pg_class rc JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace "
						  "   WHERE c.relkind = 'r' AND c.relispartition AND rc.oid = " PARTROUTE_ROOT_SQL("c.oid") "), "
						  "  (SELECT count(*) FROM pg_catalog.pg_partition_tree(pg_catalog.pg_partition_root(c.oid)) pt "
						  "   WHERE pt.isleaf AND c.relispartition) "
						  "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
						  "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'm')", 2, params);
	if (res == NULL)
		return NULL;
	if (PQntuples(res) == 0)
	{
		*missing = true;
		PQclear(res);
		return NULL;
	}
	t = pg_malloc0(sizeof(TableMeta));
	t->schema = pg_strdup(schema);
	t->table = pg_strdup(table);
	t->relkind = PQgetvalue(res, 0, 1)[0];
	if (PQgetisnull(res, 0, 3))
		t->qualname = pg_strdup(PQgetvalue(res, 0, 2));
	else
	{
		t->qualname = pg_strdup(PQgetvalue(res, 0, 3));
		t->leaf_qualname = pg_strdup(PQgetvalue(res, 0, 2));
		t->route_leaves = atoi(PQgetvalue(res, 0, 4));
	}
	t->buf_head = t->buf_tail = -1;
	if (!load_columns(t, tgt, PQgetvalue(res, 0, 0)) || !load_key(t, tgt, PQgetvalue(res, 0, 0)) ||
		!load_uniqueness(t, tgt, PQgetvalue(res, 0, 0)))
	{
		PQclear(res);
		free_meta(t);
		return NULL;
	}
	PQclear(res);
	t->next = tc->buckets[b];
	tc->buckets[b] = t;
	return t;
}

TableMeta *
tablecache_add_matview(TableCache *tc, const char *schema, const char *table)
{
	unsigned	b = hash_name(schema, table);
	TableMeta  *t = pg_malloc0(sizeof(TableMeta));

	t->schema = pg_strdup(schema);
	t->table = pg_strdup(table);
	t->qualname = psprintf("\"%s\".\"%s\"", schema, table);
	t->relkind = 'm';
	t->buf_head = t->buf_tail = -1;
	t->next = tc->buckets[b];
	tc->buckets[b] = t;
	return t;
}
