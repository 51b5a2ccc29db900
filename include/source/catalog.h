/*
 * catalog.h
 *	  What the source database holds: its user tables, with the facts that
 *	  check and copy need, after applying the --include/--exclude filters.
 */
#ifndef PGCUTOVER_CATALOG_H
#define PGCUTOVER_CATALOG_H

#include <stdbool.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "options.h"

typedef struct TableInfo
{
	unsigned int oid;
	char	   *nspname;
	char	   *relname;
	char	   *qualname;		/* "schema"."table", quoted */
	char		relkind;		/* 'r' table, 'p' partitioned, 'f' foreign */
	char		persistence;	/* 'p' permanent, 'u' unlogged */
	char		replident;		/* 'd', 'n', 'f', 'i' */
	bool		has_pk;
	bool		is_partition;
	char	   *route_root;		/* a leaf whose rows load and apply through
								 * its partition root (partroute.h): the
								 * root, quoted; else NULL */
	bool		is_route_root;	/* a root such leaves go through, listed */
	int64_t		bytes;			/* heap size (pg_relation_size), 0 for 'p' */
	int64_t		relpages;
	double		reltuples;
} TableInfo;

typedef struct TableList
{
	TableInfo  *tables;
	int			count;
} TableList;

/* SQL condition excluding system and extension-owned relations for alias c/n. */
#define CATALOG_USER_RELATION_FILTER \
	"n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgcutover') " \
	"AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)' " \
	"AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d " \
	"  WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass " \
	"  AND d.objid = c.oid AND d.deptype = 'e')"

/*
 * The built-in types whose binary form is an OID naming a database object
 * (the reg* types; aclitem names roles): COPY carries them as text, which
 * names the object, schema-qualified under our sessions' search_path
 * (pg_catalog), so that the target holds the same object, not the same
 * number.  An SQL list for "t.oid IN (...)".
 */
#define CATALOG_OBJECT_NAME_TYPES \
	"'pg_catalog.regclass'::pg_catalog.regtype, 'pg_catalog.regtype'::pg_catalog.regtype, " \
	"'pg_catalog.regproc'::pg_catalog.regtype, 'pg_catalog.regprocedure'::pg_catalog.regtype, " \
	"'pg_catalog.regoper'::pg_catalog.regtype, 'pg_catalog.regoperator'::pg_catalog.regtype, " \
	"'pg_catalog.regconfig'::pg_catalog.regtype, 'pg_catalog.regdictionary'::pg_catalog.regtype, " \
	"'pg_catalog.regnamespace'::pg_catalog.regtype, 'pg_catalog.regrole'::pg_catalog.regtype, " \
	"'pg_catalog.regcollation'::pg_catalog.regtype, 'pg_catalog.aclitem'::pg_catalog.regtype"

/* Lists tables (relkind r, p, f) passing the filters; false on SQL error. */
bool		catalog_list_tables(PGconn *conn, const Options *opts, TableList *out);
void		catalog_free_tables(TableList *list);

/* Does the schema pass the schema filters of opts (--include/--exclude-schema)? */
bool		catalog_schema_selected(const Options *opts, const char *nspname);

/* Does schema.table pass the include/exclude filters of opts? */
bool		catalog_table_selected(const Options *opts, const char *nspname,
								   const char *relname);

/*
 * Appends to 'unmatched' each filter entry of opts that matches no table of
 * 'all' (the source's user tables, unfiltered), as the option that gave it
 * ("--include-table publc.orders"), and to 'hints' a suggestion for it
 * ("public.orders"; "" when nothing is close).  A typo in a filter would
 * otherwise copy too much or fail late, after the slot exists.
 */
void		catalog_unmatched_filters(const Options *opts, const TableList *all,
									  StrList *unmatched, StrList *hints);

/*
 * Is t compared by verify as one table: a plain table or leaf, or a root
 * whose leaves load through it (its leaves are then not: they hold other
 * rows on the target)?
 */
bool		catalog_compared_as_itself(const TableInfo *t);

/* True when UPDATE/DELETE of this table cannot be decoded (no key). */
bool		catalog_table_lacks_identity(const TableInfo *t);

#endif
