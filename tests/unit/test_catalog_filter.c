/*
 * test_catalog_filter.c
 *	  Unit tests for the --include/--exclude schema and table filters
 *	  (src/source/catalog.c): what copy copies and follow applies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "catalog.h"

static void
test_no_filter_selects_everything(void **state)
{
	Options		o = {0};

	(void) state;
	assert_true(catalog_schema_selected(&o, "public"));
	assert_true(catalog_table_selected(&o, "public", "t"));
	assert_true(catalog_table_selected(&o, "Odd Schema", "t.with.dots"));
}

static void
test_bare_and_qualified_table_names(void **state)
{
	Options		o = {0};

	(void) state;
	strlist_add(&o.include_table, "orders");
	strlist_add(&o.include_table, "app.items");
	/* a bare name matches that table in any schema */
	assert_true(catalog_table_selected(&o, "public", "orders"));
	assert_true(catalog_table_selected(&o, "app", "orders"));
	/* a qualified one only in its schema */
	assert_true(catalog_table_selected(&o, "app", "items"));
	assert_false(catalog_table_selected(&o, "public", "items"));
	/* no prefix matches, either side of the dot */
	assert_false(catalog_table_selected(&o, "application", "items"));
	assert_false(catalog_table_selected(&o, "ap", "items"));
	assert_false(catalog_table_selected(&o, "app", "items2"));
	assert_false(catalog_table_selected(&o, "public", "order"));
	assert_false(catalog_table_selected(&o, "public", "Orders"));
	strlist_free(&o.include_table);
}

static void
test_exclude_wins(void **state)
{
	Options		o = {0};

	(void) state;
	strlist_add(&o.include_table, "t");
	strlist_add(&o.exclude_table, "audit.t");
	assert_true(catalog_table_selected(&o, "public", "t"));
	assert_false(catalog_table_selected(&o, "audit", "t"));
	strlist_free(&o.include_table);
	strlist_free(&o.exclude_table);

	strlist_add(&o.exclude_table, "t");
	assert_false(catalog_table_selected(&o, "public", "t"));
	assert_true(catalog_table_selected(&o, "public", "u"));
	strlist_free(&o.exclude_table);
}

static void
test_schema_filters(void **state)
{
	Options		o = {0};

	(void) state;
	strlist_add(&o.include_schema, "app");
	strlist_add(&o.include_schema, "Sales");
	assert_true(catalog_schema_selected(&o, "app"));
	assert_true(catalog_schema_selected(&o, "Sales"));
	assert_false(catalog_schema_selected(&o, "sales"));
	assert_false(catalog_schema_selected(&o, "public"));
	assert_false(catalog_table_selected(&o, "public", "t"));
	assert_true(catalog_table_selected(&o, "app", "t"));

	strlist_add(&o.exclude_schema, "app");
	assert_false(catalog_schema_selected(&o, "app"));
	assert_false(catalog_table_selected(&o, "app", "t"));
	strlist_free(&o.include_schema);
	assert_true(catalog_schema_selected(&o, "public"));
	assert_false(catalog_schema_selected(&o, "app"));

	/* a table filter never brings back an excluded schema */
	strlist_add(&o.include_table, "app.t");
	assert_false(catalog_table_selected(&o, "app", "t"));
	strlist_free(&o.include_table);
	strlist_free(&o.exclude_schema);
}

static void
test_unmatched_filters(void **state)
{
	TableInfo	t[] = {
		{.nspname = "public", .relname = "orders", .qualname = "public.orders"},
		{.nspname = "app", .relname = "Items", .qualname = "app.\"Items\""},
	};
	TableList	all = {t, 2};
	Options		o = {0};
	StrList		un = {0},
				hints = {0};

	(void) state;
	strlist_add(&o.include_table, "orders");	/* bare, exists */
	strlist_add(&o.include_table, "publc.orders");	/* schema typo */
	strlist_add(&o.include_table, "app.items");	/* case differs */
	strlist_add(&o.exclude_table, "nosuch");
	strlist_add(&o.include_schema, "app");
	strlist_add(&o.exclude_schema, "APP");
	catalog_unmatched_filters(&o, &all, &un, &hints);
	assert_int_equal(un.count, 4);
	assert_string_equal(un.items[0], "--exclude-schema APP");
	assert_string_equal(hints.items[0], "app");
	assert_string_equal(un.items[1], "--include-table publc.orders");
	assert_string_equal(hints.items[1], "public.orders");
	assert_string_equal(un.items[2], "--include-table app.items");
	assert_string_equal(hints.items[2], "app.\"Items\"");
	assert_string_equal(un.items[3], "--exclude-table nosuch");
	assert_string_equal(hints.items[3], "");
	strlist_free(&un);
	strlist_free(&hints);

	/* everything matches: nothing reported */
	strlist_free(&o.include_table);
	strlist_free(&o.exclude_table);
	strlist_free(&o.exclude_schema);
	strlist_add(&o.include_table, "app.Items");
	catalog_unmatched_filters(&o, &all, &un, &hints);
	assert_int_equal(un.count, 0);
	strlist_free(&o.include_table);
	strlist_free(&o.include_schema);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_filter_selects_everything),
		cmocka_unit_test(test_bare_and_qualified_table_names),
		cmocka_unit_test(test_exclude_wins),
		cmocka_unit_test(test_schema_filters),
		cmocka_unit_test(test_unmatched_filters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
