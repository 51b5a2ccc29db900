/*
 * wal2json_options.c
 *	  The options of a wal2json stream (wal2json_options.h): the fixed ones
 *	  and add-tables/filter-tables from the migration's table filters,
 *	  names escaped as wal2json reads them.
 */
#include <string.h>

#include "wal2json_options.h"

/*
 * What we ask wal2json for: commit LSNs and times, type OIDs (to notice a
 * changed column type).  Transaction ids, type names and the "pk" array
 * are left out: apply uses no xid, and names and keys cost the walsender
 * catalog lookups per value while apply reads keys and types from the
 * target's catalog anyway.  Then the two table lists of Wal2jsonOptions.
 */
static const char *const fixed_options[] = {
	"format-version", "2",
	"include-xids", "0",
	"include-timestamp", "1",
	"include-lsn", "1",
	"include-transaction", "1",
	"include-types", "0",
	"include-type-oids", "1",
	"include-pk", "0",
};

_Static_assert(sizeof(fixed_options) / sizeof(fixed_options[0]) == WAL2JSON_FIXED_OPTIONS * 2,
			   "WAL2JSON_FIXED_OPTIONS counts the pairs of fixed_options");

/* Appends a name to a wal2json table list, escaped: wal2json splits at
 * unescaped commas, dots and blanks, and "*" alone means any. */
static void
append_wal2json_name(StrBuf *b, const char *name, size_t len)
{
	for (size_t i = 0; i < len; i++)
	{
		char		c[3] = {'\\', name[i], '\0'};

		if (strchr("\\,.* \t\n\r\f\v", name[i]) != NULL)
			strbuf_append(b, c);
		else
			strbuf_append_len(b, c + 1, 1);
	}
}

/* Appends "schema.table" for a table filter ("table" alone: any schema). */
static void
append_table_filter(StrBuf *b, const char *filter)
{
	const char *dot = strchr(filter, '.');

	if (b->len > 0)
		strbuf_append(b, ",");
	if (dot == NULL)
		strbuf_append(b, "*.");
	else
	{
		append_wal2json_name(b, filter, (size_t) (dot - filter));
		strbuf_append(b, ".");
		filter = dot + 1;
	}
	append_wal2json_name(b, filter, strlen(filter));
}

/* Appends "schema.*". */
static void
append_schema_filter(StrBuf *b, const char *schema)
{
	if (b->len > 0)
		strbuf_append(b, ",");
	append_wal2json_name(b, schema, strlen(schema));
	strbuf_append(b, ".*");
}

void
wal2json_options_build(Wal2jsonOptions *po, const StrList *include_schema, const StrList *include_table,
					   const StrList *exclude_schema, const StrList *exclude_table)
{
	int			n = 0;

	memset(po, 0, sizeof(*po));
	strbuf_init(&po->add_tables);
	strbuf_init(&po->filter_tables);
	for (size_t i = 0; i < WAL2JSON_FIXED_OPTIONS * 2; i++)
		po->pairs[n++] = fixed_options[i];
	if (include_table->count > 0)
		for (int i = 0; i < include_table->count; i++)
			append_table_filter(&po->add_tables, include_table->items[i]);
	else
		for (int i = 0; i < include_schema->count; i++)
			append_schema_filter(&po->add_tables, include_schema->items[i]);
	for (int i = 0; i < exclude_schema->count; i++)
		append_schema_filter(&po->filter_tables, exclude_schema->items[i]);
	for (int i = 0; i < exclude_table->count; i++)
		append_table_filter(&po->filter_tables, exclude_table->items[i]);
	if (po->add_tables.len > 0)
	{
		po->pairs[n++] = "add-tables";
		po->pairs[n++] = po->add_tables.data;
	}
	if (po->filter_tables.len > 0)
	{
		po->pairs[n++] = "filter-tables";
		po->pairs[n++] = po->filter_tables.data;
	}
	po->pairs[n] = NULL;
}

void
wal2json_options_free(Wal2jsonOptions *po)
{
	strbuf_free(&po->add_tables);
	strbuf_free(&po->filter_tables);
}
