/*
 * wal2json_options.h
 *	  What follow asks wal2json for when it starts a stream: the fixed
 *	  options (what apply needs, nothing more) and the table lists that
 *	  keep the walsender from decoding the rows of tables not migrated.
 *	  Pure: no libpq, no CLI types.
 */
#ifndef PGCUTOVER_WAL2JSON_OPTIONS_H
#define PGCUTOVER_WAL2JSON_OPTIONS_H

#include "alloc.h"
#include "strbuf.h"

#define WAL2JSON_FIXED_OPTIONS 8	/* name/value pairs in wal2json_options.c */

/*
 * The options of one stream: the fixed options, and when the copy's filters
 * are in effect, wal2json's add-tables (the included schemas or tables)
 * and filter-tables (the excluded ones), so that the walsender does not
 * even decode the rows of other tables.  Both lists are supersets of what
 * the caller keeps (catalog_table_selected) (an included table in an included schema
 * is listed by its table alone), which still decides.  Logical messages
 * (heartbeats, captured DDL) name no table and are never filtered; with
 * no filter at all, a table created later is streamed as before.
 */
typedef struct Wal2jsonOptions
{
	const char *pairs[WAL2JSON_FIXED_OPTIONS * 2 + 5];	/* name/value pairs, NULL-terminated */
	StrBuf		add_tables;
	StrBuf		filter_tables;
} Wal2jsonOptions;

/*
 * Builds the options of one stream from the migration's four table
 * filters (include lists empty: everything).  Free with
 * wal2json_options_free.
 */
void		wal2json_options_build(Wal2jsonOptions *po, const StrList *include_schema,
								   const StrList *include_table, const StrList *exclude_schema,
								   const StrList *exclude_table);
void		wal2json_options_free(Wal2jsonOptions *po);

#endif
