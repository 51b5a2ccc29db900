/*
 * catalog.c
 *	  Reading the source's table list and applying the name filters.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog.h"
#include "log.h"
#include "partroute.h"
#include "pgconn.h"

/* Matches "schema.table" or a bare "table" (any schema) against a filter. */
static bool
table_matches(const char *filter, const char *nspname, const char *relname)
{
	const char *dot = strchr(filter, '.');

	if (dot == NULL)
		return strcmp(filter, relname) == 0;
	return strncmp(filter, nspname, dot - filter) == 0 &&
		nspname[dot - filter] == '\0' && strcmp(dot + 1, relname) == 0;
}

static bool
any_table_matches(const StrList *list, const char *nspname, const char *relname)
{
	for (int i = 0; i < list->count; i++)
		if (table_matches(list->items[i], nspname, relname))
			return true;
	return false;
}

bool
catalog_schema_selected(const Options *opts, const char *nspname)
{
	return (opts->include_schema.count == 0 || strlist_contains(&opts->include_schema, nspname)) &&
		!strlist_contains(&opts->exclude_schema, nspname);
}

bool
catalog_table_selected(const Options *opts, const char *nspname, const char *relname)
{
	if (!catalog_schema_selected(opts, nspname))
		return false;
	if (opts->include_table.count > 0 &&
		!any_table_matches(&opts->include_table, nspname, relname))
		return false;
	if (any_table_matches(&opts->exclude_table, nspname, relname))
		return false;
	return true;
}

/* A table whose name differs from the filter only in case or schema, or "". */
static const char *
table_hint(const char *filter, const TableList *all)
{
	const char *dot = strchr(filter, '.');
	const char *rel = dot ? dot + 1 : filter;

	for (int i = 0; i < all->count; i++)
		if (strcasecmp(all->tables[i].relname, rel) == 0 &&
			(dot == NULL || strncasecmp(all->tables[i].nspname, filter, dot - filter) == 0 ||
			 strcmp(all->tables[i].relname, rel) == 0))
			return all->tables[i].qualname;
	return "";
}

static const char *
schema_hint(const char *filter, const TableList *all)
{
	for (int i = 0; i < all->count; i++)
		if (strcasecmp(all->tables[i].nspname, filter) == 0)
			return all->tables[i].nspname;
	return "";
}

static void
add_unmatched_tables(const char *option, const StrList *filters, const TableList *all,
					 StrList *unmatched, StrList *hints)
{
	for (int f = 0; f < filters->count; f++)
	{
		bool		found = false;
		char	   *entry;

		for (int i = 0; i < all->count && !found; i++)
			found = table_matches(filters->items[f], all->tables[i].nspname, all->tables[i].relname);
		if (found)
			continue;
		entry = psprintf("%s %s", option, filters->items[f]);
		strlist_add(unmatched, entry);
		strlist_add(hints, table_hint(filters->items[f], all));
		free(entry);
	}
}

static void
add_unmatched_schemas(const char *option, const StrList *filters, const TableList *all,
					  StrList *unmatched, StrList *hints)
{
	for (int f = 0; f < filters->count; f++)
	{
		bool		found = false;
		char	   *entry;

		for (int i = 0; i < all->count && !found; i++)
			found = strcmp(filters->items[f], all->tables[i].nspname) == 0;
		if (found)
			continue;
		entry = psprintf("%s %s", option, filters->items[f]);
		strlist_add(unmatched, entry);
		strlist_add(hints, schema_hint(filters->items[f], all));
		free(entry);
	}
}

void
catalog_unmatched_filters(const Options *opts, const TableList *all,
						  StrList *unmatched, StrList *hints)
{
	add_unmatched_schemas("--include-schema", &opts->include_schema, all, unmatched, hints);
	add_unmatched_schemas("--exclude-schema", &opts->exclude_schema, all, unmatched, hints);
	add_unmatched_tables("--include-table", &opts->include_table, all, unmatched, hints);
	add_unmatched_tables("--exclude-table", &opts->exclude_table, all, unmatched, hints);
}

bool
catalog_compared_as_itself(const TableInfo *t)
{
	return (t->relkind == 'r' && t->route_root == NULL) || t->is_route_root;
}

bool
catalog_table_lacks_identity(const TableInfo *t)
{
	if (t->relkind != 'r' || t->persistence != 'p')
		return false;
	return t->replident == 'n' || (t->replident == 'd' && !t->has_pk);
}

/*
 * Marks the roots that listed leaves load through, with the leaves' size.
 * A leaf whose root the filters leave out is copied as itself (a row the
 * target hashes elsewhere then fails its partition constraint, loudly).
 */
static void
mark_route_roots(TableList *list)
{
	for (int i = 0; i < list->count; i++)
	{
		TableInfo  *leaf = &list->tables[i];
		bool		found = false;

		for (int r = 0; leaf->route_root && r < list->count; r++)
			if (strcmp(list->tables[r].qualname, leaf->route_root) == 0)
			{
				list->tables[r].is_route_root = found = true;
				list->tables[r].bytes += leaf->bytes;
				list->tables[r].relpages += leaf->relpages;
				list->tables[r].reltuples += leaf->reltuples > 0 ? leaf->reltuples : 0;
			}
		if (!found)
		{
			free(leaf->route_root);
			leaf->route_root = NULL;
		}
	}
}

bool
catalog_list_tables(PGconn *conn, const Options *opts, TableList *out)
{
	static const char *sql =
		"SELECT c.oid, n.nspname, c.relname, "
		"  pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname), "
		"  c.relkind, c.relpersistence, c.relreplident, "
		"  EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary AND i.indimmediate), "
		"  c.relispartition, "
		"  CASE WHEN c.relkind = 'r' THEN pg_catalog.pg_relation_size(c.oid) ELSE 0 END, "
		"  CASE WHEN c.relkind = 'r' THEN pg_catalog.pg_relation_size(c.oid) / "
		"       pg_catalog.current_setting('block_size')::int ELSE 0 END, "
		"  c.reltuples, "
		"  CASE WHEN c.relkind = 'r' AND c.relispartition THEN "
		"    (SELECT pg_catalog.quote_ident(rn.nspname) || '.' || pg_catalog.quote_ident(rc.relname) "
		"     FROM pg_catalog.pg_class rc JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace "
		"     WHERE rc.oid = " PARTROUTE_ROOT_SQL("c.oid") ") END "
		"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"WHERE c.relkind IN ('r', 'p', 'f') AND " CATALOG_USER_RELATION_FILTER
		" ORDER BY n.nspname, c.relname";
	PGresult   *res = db_query(conn, sql);
	int			n;

	memset(out, 0, sizeof(*out));
	if (res == NULL)
		return false;
	n = PQntuples(res);
	out->tables = pg_malloc0(sizeof(TableInfo) * (n ? n : 1));
	for (int i = 0; i < n; i++)
	{
		TableInfo  *t = &out->tables[out->count];

		if (!catalog_table_selected(opts, PQgetvalue(res, i, 1), PQgetvalue(res, i, 2)))
			continue;
		t->oid = (unsigned int) strtoul(PQgetvalue(res, i, 0), NULL, 10);
		t->nspname = pg_strdup(PQgetvalue(res, i, 1));
		t->relname = pg_strdup(PQgetvalue(res, i, 2));
		t->qualname = pg_strdup(PQgetvalue(res, i, 3));
		t->relkind = PQgetvalue(res, i, 4)[0];
		t->persistence = PQgetvalue(res, i, 5)[0];
		t->replident = PQgetvalue(res, i, 6)[0];
		t->has_pk = PQgetvalue(res, i, 7)[0] == 't';
		t->is_partition = PQgetvalue(res, i, 8)[0] == 't';
		t->bytes = strtoll(PQgetvalue(res, i, 9), NULL, 10);
		t->relpages = strtoll(PQgetvalue(res, i, 10), NULL, 10);
		t->reltuples = strtod(PQgetvalue(res, i, 11), NULL);
		if (!PQgetisnull(res, i, 12))
			t->route_root = pg_strdup(PQgetvalue(res, i, 12));
		out->count++;
	}
	PQclear(res);
	mark_route_roots(out);
	return true;
}

void
catalog_free_tables(TableList *list)
{
	for (int i = 0; i < list->count; i++)
	{
		free(list->tables[i].nspname);
		free(list->tables[i].relname);
		free(list->tables[i].qualname);
		free(list->tables[i].route_root);
	}
	free(list->tables);
	memset(list, 0, sizeof(*list));
}
