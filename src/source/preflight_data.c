/*
 * preflight_data.c
 *	  The preflight checks of the tables the filters select (preflight_int.h):
 *	  that every filter names something, that the source role can read them,
 *	  that follow can find their rows (a key or replica identity, not one
 *	  of floats), where their values would not arrive (hash partitions
 *	  across encodings, ambiguous regproc/regoper values), the large
 *	  objects, and that the target does not hold them already.
 */
#include <stdlib.h>
#include <string.h>

#include "lo_sync.h"
#include "partroute.h"
#include "pgconn.h"
#include "preflight_int.h"
#include "units.h"

/*
 * Every --include/--exclude filter must name something that exists, and the
 * filters together must select a table: a typo otherwise passes unnoticed
 * until copy fails (or copies what was meant to be skipped) after the slot
 * exists.
 */
void
check_filters(Preflight *p)
{
	const Options *o = p->opts;
	Options		unfiltered = {0};
	TableList	all;
	StrList		unmatched = {0},
				hints = {0};

	if (o->include_schema.count + o->exclude_schema.count +
		o->include_table.count + o->exclude_table.count == 0)
		return;
	if (!catalog_list_tables(p->src, &unfiltered, &all))
		return;
	catalog_unmatched_filters(o, &all, &unmatched, &hints);
	for (int i = 0; i < unmatched.count; i++)
	{
		char	   *fix = hints.items[i][0]
			? psprintf("did you mean %s? give an existing name (tables as schema.table or a bare table name)", hints.items[i])
			: pg_strdup("give an existing name (tables as schema.table or a bare table name); 'pgcutover check' lists what is selected");

		findings_add(p->f, FINDING_FAIL, "filters", fix,
					 "%s matches no table on the source", unmatched.items[i]);
		free(fix);
	}
	if (unmatched.count == 0 && p->tables.count == 0)
		findings_add(p->f, FINDING_FAIL, "filters", "loosen the --include/--exclude options",
					 "the filters select none of the source's %d table(s)", all.count);
	else if (unmatched.count == 0)
		findings_add(p->f, FINDING_OK, "filters", NULL,
					 "the filters select %d of the source's %d table(s)", p->tables.count, all.count);
	strlist_free(&unmatched);
	strlist_free(&hints);
	catalog_free_tables(&all);
}

void
check_select_privilege(Preflight *p)
{
	StrList		names = {0};

	if (!preflight_selected_names(p,
								  "SELECT n.nspname, c.relname, pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) "
								  "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
								  "WHERE c.relkind IN ('r', 'p') AND " CATALOG_USER_RELATION_FILTER
								  " AND NOT (pg_catalog.has_schema_privilege(n.oid, 'USAGE') "
								  "          AND pg_catalog.has_table_privilege(c.oid, 'SELECT')) "
								  "ORDER BY 1, 2", &names))
		return;
	if (names.count == 0)
		findings_add(p->f, FINDING_OK, "select_privilege", NULL, "source role can read every selected table");
	else
	{
		char	   *list = preflight_name_list(&names, 10);
		char	   *fix = psprintf("GRANT USAGE ON SCHEMA <schema> TO <role>; GRANT SELECT ON ALL TABLES IN SCHEMA <schema> TO <role>; (on the source, for: %s)", list);

		preflight_add_list(p, FINDING_FAIL, "select_privilege", fix, &names, 10,
						   "source role cannot read %d table(s)", names.count);
		free(fix);
		free(list);
	}
	strlist_free(&names);
}

void
check_replica_identity(Preflight *p)
{
	StrList		keyless = {0},
				unlogged = {0},
				foreign = {0};

	for (int i = 0; i < p->tables.count; i++)
	{
		TableInfo  *t = &p->tables.tables[i];

		if (catalog_table_lacks_identity(t))
			strlist_add(&keyless, t->qualname);
		if (t->persistence == 'u')
			strlist_add(&unlogged, t->qualname);
		if (t->relkind == 'f')
			strlist_add(&foreign, t->qualname);
	}
	if (keyless.count == 0)
		findings_add(p->f, FINDING_OK, "replica_identity", NULL,
					 "every table has a primary key or a usable replica identity");
	else
	{
		char	   *fix = psprintf("add a primary key, or ALTER TABLE %s REPLICA IDENTITY FULL; (or --exclude-table it)", keyless.items[0]);

		preflight_add_list(p, FINDING_FAIL, "replica_identity", fix, &keyless, 20,
						   "%d table(s) have no primary key and no usable replica identity, their UPDATEs and DELETEs would be lost",
						   keyless.count);
		free(fix);
	}
	if (unlogged.count > 0)
		preflight_add_list(p, FINDING_WARN, "unlogged_tables",
						   "ALTER TABLE ... SET LOGGED, or accept that later changes are not carried", &unlogged, 20,
						   "%d unlogged table(s) are copied but their later changes cannot be streamed", unlogged.count);
	if (foreign.count > 0)
		preflight_add_list(p, FINDING_WARN, "foreign_tables", "recreate the foreign servers on the target", &foreign, 20,
						   "%d foreign table(s) are created but not copied", foreign.count);
	strlist_free(&keyless);
	strlist_free(&unlogged);
	strlist_free(&foreign);
}

/*
 * Tables whose rows follow finds by float4, float8 or numeric columns: the
 * key (primary key, or replica identity index) has one, or a REPLICA
 * IDENTITY FULL table without a key has one anywhere.  wal2json prints NaN,
 * Infinity and -Infinity there as null, like NULL, in the old row too, so
 * such a change names a class of rows, not a row; follow replaces the
 * class from the source before the commit (replication/apply/nanfix.h),
 * which is exact but costs a source query (a scan of the whole table for a
 * full-row one).  A warning, not a refusal: every such table is carried
 * exactly.  Catalog only, one query: no table is read.
 */
void
check_float_identity(Preflight *p)
{
	StrList		names = {0};

	/* each named "table (its float key columns)", or "table (full row)" */
	if (!preflight_selected_names(p,
								  "SELECT n.nspname, c.relname, pg_catalog.format('%s.%s (%s)', "
								  "  pg_catalog.quote_ident(n.nspname), pg_catalog.quote_ident(c.relname), "
								  "  CASE WHEN ix.indkey IS NULL THEN 'full row' ELSE "
								  "    (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY k.pos) "
								  "     FROM pg_catalog.unnest(ix.indkey) WITH ORDINALITY k(attnum, pos) "
								  "     JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum "
								  "     WHERE a.atttypid IN ('pg_catalog.float4'::pg_catalog.regtype, 'pg_catalog.float8'::pg_catalog.regtype, "
								  "                          'pg_catalog.numeric'::pg_catalog.regtype)) END) "
								  "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
								  "LEFT JOIN LATERAL (SELECT i.indkey FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indimmediate "
								  "  AND (i.indisreplident OR (i.indisprimary AND c.relreplident <> 'i')) "
								  "  ORDER BY i.indisreplident DESC LIMIT 1) ix ON true "
								  "WHERE c.relkind = 'r' AND c.relpersistence = 'p' AND c.relreplident <> 'n' AND "
								  CATALOG_USER_RELATION_FILTER
								  " AND (ix.indkey IS NOT NULL OR c.relreplident = 'f') "
								  " AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 "
								  "   AND NOT a.attisdropped AND a.attgenerated = '' "
								  "   AND (ix.indkey IS NULL OR a.attnum = ANY (ix.indkey::pg_catalog.int2[])) "
								  "   AND a.atttypid IN ('pg_catalog.float4'::pg_catalog.regtype, 'pg_catalog.float8'::pg_catalog.regtype, "
								  "                      'pg_catalog.numeric'::pg_catalog.regtype)) "
								  "ORDER BY 1, 2", &names))
		return;
	if (names.count == 0)
		findings_add(p->f, FINDING_OK, "float_identity", NULL,
					 "no table is found by a float or numeric column (NaN and Infinity look like NULL in the stream)");
	else
	{
		char	   *list = preflight_name_list(&names, 20);

		findings_add(p->f, FINDING_WARN, "float_identity",
					 "nothing for exactness; for speed (a full-row table is scanned on both sides per transaction group that touches such a row) give the table a primary key of other columns",
					 "%d table(s) are found by float/numeric columns, where wal2json prints NaN and +-Infinity as null like NULL: %s; follow replaces the rows such a change names from the source before each commit, exactly",
					 names.count, list);
		free(list);
	}
	strlist_free(&names);
}

/*
 * A hash partition key of a string type hashes the string's bytes: where
 * the target's encoding spells a value with other bytes, the target puts
 * the row in another partition, and copy (leaf by leaf) fails on the
 * partition constraint.  Trees that load through their root (partroute.h)
 * are routed by the target's own hashes and are fine.  Said only when the
 * encodings differ (a SQL_ASCII source converts nothing).
 */
void
check_hash_partition_encoding(Preflight *p)
{
	const char *se = PQparameterStatus(p->src, "server_encoding");
	const char *te = PQparameterStatus(p->tgt, "server_encoding");
	StrList		names = {0};

	if (se == NULL || te == NULL || strcmp(se, te) == 0 || strcmp(se, "SQL_ASCII") == 0)
		return;
	if (!preflight_selected_names(p,
								  "SELECT n.nspname, c.relname, pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) "
								  "FROM pg_catalog.pg_partitioned_table pt JOIN pg_catalog.pg_class c ON c.oid = pt.partrelid "
								  "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
								  "WHERE pt.partstrat = 'h' AND 0 <> ANY (pt.partcollation::pg_catalog.oid[]) "
								  "  AND EXISTS (SELECT 1 FROM pg_catalog.pg_partition_tree(c.oid) l "
								  "    WHERE l.isleaf AND " PARTROUTE_ROOT_SQL("l.relid") " IS NULL) "
								  "ORDER BY 1, 2", &names))
		return;
	if (names.count == 0)
		findings_add(p->f, FINDING_OK, "hash_partition_encoding", NULL,
					 "no table is hash-partitioned on a string key between the encodings %s and %s", se, te);
	else
	{
		char	   *fix = psprintf("create the target database with ENCODING '%s' (createdb -E %s -T template0), or --exclude-table these tables and their partitions and move them yourself", se, se);

		preflight_add_list(p, FINDING_FAIL, "hash_partition_encoding", fix, &names, 10,
						   "%d table(s) are hash-partitioned on a string key, whose hash is of its bytes, and the source's encoding %s is not the target's %s: rows would belong to other partitions there",
						   names.count, se, te);
		free(fix);
	}
	strlist_free(&names);
}

/*
 * A regproc or regoper value is written as the function's or operator's
 * bare name (schema-qualified outside pg_catalog), which names nothing when
 * its schema holds several of that name: the target refuses it as
 * ambiguous, and copy or follow would stop on it.  regprocedure and
 * regoperator carry the argument types and name one.  Scans the columns of
 * these types (and arrays, and domains over them) for such a value; the
 * values of a composite's field are not looked at (docs/limitations.md).
 */
void
check_ambiguous_reg_values(Preflight *p)
{
	PGresult   *cols = db_query(p->src,
								"SELECT n.nspname, c.relname, "
								"  pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname), "
								"  pg_catalog.quote_ident(a.attname), bt.oid IN ('pg_catalog.regproc'::pg_catalog.regtype, "
								"    'pg_catalog._regproc'::pg_catalog.regtype), bt.typelem <> 0 "
								"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
								"JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
								"JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid "
								"JOIN pg_catalog.pg_type bt ON bt.oid = CASE ty.typtype WHEN 'd' THEN ty.typbasetype ELSE ty.oid END "
								"WHERE c.relkind = 'r' AND c.relpersistence = 'p' AND " CATALOG_USER_RELATION_FILTER
								" AND bt.oid IN ('pg_catalog.regproc'::pg_catalog.regtype, 'pg_catalog._regproc'::pg_catalog.regtype, "
								"   'pg_catalog.regoper'::pg_catalog.regtype, 'pg_catalog._regoper'::pg_catalog.regtype) "
								"ORDER BY 1, 2, a.attnum");
	StrList		found = {0};

	if (cols == NULL)
		return;
	for (int i = 0; i < PQntuples(cols); i++)
	{
		bool		proc = PQgetvalue(cols, i, 4)[0] == 't';
		bool		array = PQgetvalue(cols, i, 5)[0] == 't';
		const char *table = PQgetvalue(cols, i, 2);
		const char *col = PQgetvalue(cols, i, 3);
		char	   *sql;
		char	   *value;

		if (!catalog_table_selected(p->opts, PQgetvalue(cols, i, 0), PQgetvalue(cols, i, 1)))
			continue;
		sql = psprintf("SELECT v.o::pg_catalog.%s::pg_catalog.text FROM ONLY %s t "
					   "CROSS JOIN LATERAL pg_catalog.unnest(%s%s.%s%s) v(o) "
					   "JOIN pg_catalog.%s x ON x.oid = v.o "
					   "WHERE EXISTS (SELECT 1 FROM pg_catalog.%s y WHERE y.%s = x.%s AND y.%s = x.%s AND y.oid <> x.oid) "
					   "LIMIT 1",
					   proc ? "regprocedure" : "regoperator", table,
					   array ? "" : "ARRAY[", "t", col, array ? "::pg_catalog.oid[]" : "::pg_catalog.oid]",
					   proc ? "pg_proc" : "pg_operator", proc ? "pg_proc" : "pg_operator",
					   proc ? "proname" : "oprname", proc ? "proname" : "oprname",
					   proc ? "pronamespace" : "oprnamespace", proc ? "pronamespace" : "oprnamespace");
		value = db_scalar(p->src, sql);
		if (value && value[0])
		{
			char	   *line = psprintf("%s column %s holds %s (fix: ALTER TABLE %s ALTER COLUMN %s TYPE pg_catalog.%s%s)",
										table, col, value, table, col, proc ? "regprocedure" : "regoperator",
										array ? "[]" : "");

			strlist_add(&found, line);
			free(line);
		}
		free(value);
		free(sql);
	}
	if (found.count == 0)
		findings_add(p->f, FINDING_OK, "ambiguous_reg_values", NULL,
					 "no regproc or regoper value names an overloaded function or operator");
	else
		preflight_add_list(p, FINDING_FAIL, "ambiguous_reg_values",
						   "store regprocedure or regoperator, which carry the argument types, as each line says",
						   &found, 10,
						   "%d column(s) hold a regproc or regoper value whose text, a bare name, names several functions or operators, which the target refuses as ambiguous",
						   found.count);
	strlist_free(&found);
	PQclear(cols);
}

/*
 * Large objects are copied in the snapshot and carried by the switchover,
 * which re-reads every one inside the write downtime (lo_sync.h): refused
 * past its limits, or when this role cannot read some of them.
 */
void
check_large_objects(Preflight *p)
{
	LargeObjectCensus census;
	char	   *refusal;
	const char *fix;
	char		stored[32];

	if (!lo_census(p->src, &census))
		return;
	if (census.count == 0)
	{
		findings_add(p->f, FINDING_OK, "large_objects", NULL, "no large objects on the source");
		return;
	}
	if ((refusal = lo_census_refusal(&census, &fix)) != NULL)
	{
		findings_add(p->f, FINDING_FAIL, "large_objects", fix, "%s", refusal);
		free(refusal);
		return;
	}
	format_bytes(census.stored_bytes, stored, sizeof(stored));
	if (census.count > LO_MAX_OBJECTS / 4 || census.stored_bytes > LO_MAX_STORED_BYTES / 4)
		findings_add(p->f, FINDING_WARN, "large_objects",
					 "rehearse with 'pgcutover switchover' on a copy: its step lo_prepass shows what the large_objects step adds to the write downtime; or move them to bytea columns",
					 "%lld large object(s), %s stored: copied in the snapshot; the switchover re-reads all of them inside the write downtime, which may add seconds",
					 (long long) census.count, stored);
	else
		findings_add(p->f, FINDING_OK, "large_objects", NULL,
					 "%lld large object(s), %s stored: copied in the snapshot; the switchover carries what changed since, re-reading all of them inside the write downtime",
					 (long long) census.count, stored);
}

void
check_target_empty(Preflight *p)
{
	PGresult   *res = db_query(p->tgt,
								"SELECT n.nspname, c.relname, pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) "
								"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
								"WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND " CATALOG_USER_RELATION_FILTER
								" ORDER BY 1, 2");
	StrList		collide = {0};
	int			nother = 0;

	if (res == NULL)
		return;
	for (int i = 0; i < PQntuples(res); i++)
	{
		bool		hit = false;

		for (int j = 0; j < p->tables.count && !hit; j++)
			hit = strcmp(p->tables.tables[j].nspname, PQgetvalue(res, i, 0)) == 0 &&
				strcmp(p->tables.tables[j].relname, PQgetvalue(res, i, 1)) == 0;
		if (hit)
			strlist_add(&collide, PQgetvalue(res, i, 2));
		else
			nother++;
	}
	if (collide.count > 0)
		preflight_add_list(p, p->opts->allow_nonempty_target ? FINDING_WARN : FINDING_FAIL,
						   "target_empty",
						   "use an empty target database (DROP/CREATE DATABASE), or --allow-nonempty-target if you mean it",
						   &collide, 10,
						   "target already has %d relation(s) that the copy would create", collide.count);
	else if (nother > 0)
		findings_add(p->f, FINDING_WARN, "target_empty", "make sure these objects belong on the target",
					 "target has %d other relation(s), none collides with the source", nother);
	else
		findings_add(p->f, FINDING_OK, "target_empty", NULL, "target database has no user tables");
	strlist_free(&collide);
	PQclear(res);
}
