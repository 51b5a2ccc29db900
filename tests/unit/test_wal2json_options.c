/*
 * test_wal2json_options.c
 *	  Unit tests for the options of a wal2json stream (pure): the fixed
 *	  pairs, and add-tables/filter-tables from the table filters with
 *	  names escaped as wal2json splits them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "wal2json_options.h"

/* The value of option name, or NULL. */
static const char *
option(const Wal2jsonOptions *po, const char *name)
{
	for (int i = 0; po->pairs[i] != NULL; i += 2)
		if (strcmp(po->pairs[i], name) == 0)
			return po->pairs[i + 1];
	return NULL;
}

static void
test_no_filters_no_lists(void **state)
{
	StrList		none = {0};
	Wal2jsonOptions po;

	(void) state;
	wal2json_options_build(&po, &none, &none, &none, &none);
	assert_string_equal(option(&po, "format-version"), "2");
	assert_string_equal(option(&po, "include-xids"), "0");
	assert_string_equal(option(&po, "include-type-oids"), "1");
	assert_null(option(&po, "add-tables"));
	assert_null(option(&po, "filter-tables"));
	wal2json_options_free(&po);
}

static void
test_tables_win_over_schemas_and_escape(void **state)
{
	StrList		schemas = {0};
	StrList		tables = {0};
	StrList		xschemas = {0};
	StrList		xtables = {0};
	Wal2jsonOptions po;

	(void) state;
	strlist_add(&schemas, "app");
	strlist_add(&tables, "app.orders");
	strlist_add(&tables, "we,ird.t a.b");
	strlist_add(&tables, "lonely");
	strlist_add(&xschemas, "audit*");
	strlist_add(&xtables, "app.tmp\\x");
	wal2json_options_build(&po, &schemas, &tables, &xschemas, &xtables);
	/* the tables alone (each in an included schema, or any schema) */
	assert_string_equal(option(&po, "add-tables"), "app.orders,we\\,ird.t\\ a\\.b,*.lonely");
	assert_string_equal(option(&po, "filter-tables"), "audit\\*.*,app.tmp\\\\x");
	wal2json_options_free(&po);
	strlist_free(&schemas);
	strlist_free(&tables);
	strlist_free(&xschemas);
	strlist_free(&xtables);
}

static void
test_schemas_alone(void **state)
{
	StrList		schemas = {0};
	StrList		none = {0};
	Wal2jsonOptions po;

	(void) state;
	strlist_add(&schemas, "a");
	strlist_add(&schemas, "b.c");
	wal2json_options_build(&po, &schemas, &none, &none, &none);
	assert_string_equal(option(&po, "add-tables"), "a.*,b\\.c.*");
	assert_null(option(&po, "filter-tables"));
	wal2json_options_free(&po);
	strlist_free(&schemas);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_filters_no_lists),
		cmocka_unit_test(test_tables_win_over_schemas_and_escape),
		cmocka_unit_test(test_schemas_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
