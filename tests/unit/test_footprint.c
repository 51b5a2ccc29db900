/*
 * test_footprint.c
 *	  Unit tests for the footprints of parallel apply (pure: no connection):
 *	  the same row hashes alike from every change that names it, other rows
 *	  and tables apart, and a table whose key cannot name a row alone is
 *	  taken whole.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "footprint.h"

/* t(a int, b text, v int), key (a, b) */
static ColumnMeta cols[] = {
	{"a", "a", "integer", "integer", 23, false, false, false, true, false, false, NULL, false},
	{"b", "b", "text", "text", 25, false, false, false, true, false, false, NULL, false},
	{"v", "v", "integer", "integer", 23, false, false, false, true, false, false, NULL, false},
};
static int	key[] = {0, 1};

static TableMeta
make_table(const char *qualname)
{
	TableMeta	t = {0};

	t.schema = "public";
	t.table = "t";
	t.qualname = (char *) qualname;
	t.relkind = 'r';
	t.cols = cols;
	t.ncols = 3;
	t.key = key;
	t.nkey = 2;
	t.key_canonical = true;
	return t;
}

#define COL(n, v) {n, NULL, 0, v, sizeof(v) - 1}

static Footprint
of(const TableMeta *t, ChangeAction action, ChangeColumn *cols_new, int nnew, ChangeColumn *old, int nold)
{
	Change		c = {.action = action, .schema = "public", .table = "t",
		.columns = cols_new, .ncolumns = nnew, .identity = old, .nidentity = nold};
	Footprint	fp;

	footprint_of(t, &c, &fp);
	return fp;
}

static void
test_same_row_alike(void **state)
{
	TableMeta	t = make_table("public.t");
	ChangeColumn ins[] = {COL("a", "1"), COL("b", "x"), COL("v", "5")};
	ChangeColumn upd[] = {COL("v", "6"), COL("b", "x"), COL("a", "1")};
	ChangeColumn oldkey[] = {COL("a", "1"), COL("b", "x")};
	Footprint	fi = of(&t, CHANGE_INSERT, ins, 3, NULL, 0);
	Footprint	fu = of(&t, CHANGE_UPDATE, upd, 3, oldkey, 2);
	Footprint	fd = of(&t, CHANGE_DELETE, NULL, 0, oldkey, 2);

	(void) state;
	assert_int_equal(fi.kind, FOOTPRINT_ROWS);
	assert_int_equal(fi.nrows, 1);
	assert_int_equal(fu.kind, FOOTPRINT_ROWS);
	assert_int_equal(fu.nrows, 1);	/* the key did not change */
	assert_int_equal(fd.kind, FOOTPRINT_ROWS);
	assert_true(fi.rows[0] == fu.rows[0]);
	assert_true(fi.rows[0] == fd.rows[0]);
	assert_true(fi.table == fd.table);
}

static void
test_other_rows_and_tables_apart(void **state)
{
	TableMeta	t = make_table("public.t");
	TableMeta	u = make_table("public.u");
	ChangeColumn r1[] = {COL("a", "1"), COL("b", "1x")};
	ChangeColumn r2[] = {COL("a", "11"), COL("b", "x")};
	ChangeColumn r3[] = {COL("a", "1"), COL("b", "x")};
	Footprint	f1 = of(&t, CHANGE_INSERT, r1, 2, NULL, 0);
	Footprint	f2 = of(&t, CHANGE_INSERT, r2, 2, NULL, 0);
	Footprint	f3 = of(&t, CHANGE_INSERT, r3, 2, NULL, 0);
	Footprint	f4 = of(&u, CHANGE_INSERT, r3, 2, NULL, 0);

	(void) state;
	/* "1","1x" and "11","x" are other keys, though their bytes run alike */
	assert_true(f1.rows[0] != f2.rows[0]);
	assert_true(f1.rows[0] != f3.rows[0]);
	assert_true(f3.rows[0] != f4.rows[0]);
	assert_true(f3.table != f4.table);
}

static void
test_key_change_names_both(void **state)
{
	TableMeta	t = make_table("public.t");
	ChangeColumn newrow[] = {COL("a", "2"), COL("b", "x"), COL("v", "1")};
	ChangeColumn oldkey[] = {COL("a", "1"), COL("b", "x")};
	ChangeColumn ins_old[] = {COL("a", "1"), COL("b", "x")};
	ChangeColumn ins_new[] = {COL("a", "2"), COL("b", "x")};
	Footprint	fu = of(&t, CHANGE_UPDATE, newrow, 3, oldkey, 2);
	Footprint	fo = of(&t, CHANGE_INSERT, ins_old, 2, NULL, 0);
	Footprint	fn = of(&t, CHANGE_INSERT, ins_new, 2, NULL, 0);

	(void) state;
	assert_int_equal(fu.kind, FOOTPRINT_ROWS);
	assert_int_equal(fu.nrows, 2);
	assert_true(fu.rows[0] == fo.rows[0]);
	assert_true(fu.rows[1] == fn.rows[0]);
}

/* An UPDATE's new row without a key column (an unchanged TOASTed value) keeps the old one. */
static void
test_update_missing_key_column_uses_old(void **state)
{
	TableMeta	t = make_table("public.t");
	ChangeColumn newrow[] = {COL("a", "1"), COL("v", "7")};
	ChangeColumn oldkey[] = {COL("a", "1"), COL("b", "x")};
	Footprint	fu = of(&t, CHANGE_UPDATE, newrow, 2, oldkey, 2);

	(void) state;
	assert_int_equal(fu.kind, FOOTPRINT_ROWS);
	assert_int_equal(fu.nrows, 1);
}

static void
test_whole_table_when_key_cannot_name_a_row(void **state)
{
	ChangeColumn row[] = {COL("a", "1"), COL("b", "x"), COL("v", "5")};
	ChangeColumn partial[] = {COL("a", "1"), COL("v", "5")};
	TableMeta	t;

	(void) state;
	t = make_table("public.t");
	t.unique_elsewhere = true;	/* a second unique index */
	assert_int_equal(of(&t, CHANGE_INSERT, row, 3, NULL, 0).kind, FOOTPRINT_TABLE);
	t = make_table("public.t");
	t.key_canonical = false;	/* e.g. numeric: 1.0 = 1.00 */
	assert_int_equal(of(&t, CHANGE_INSERT, row, 3, NULL, 0).kind, FOOTPRINT_TABLE);
	t = make_table("public.t");
	t.any_ambiguous = true;		/* float columns: NaN classes */
	assert_int_equal(of(&t, CHANGE_INSERT, row, 3, NULL, 0).kind, FOOTPRINT_TABLE);
	t = make_table("public.t");
	t.leaf_qualname = "public.t_1";	/* written through its root */
	assert_int_equal(of(&t, CHANGE_INSERT, row, 3, NULL, 0).kind, FOOTPRINT_TABLE);
	t = make_table("public.t");
	assert_int_equal(of(&t, CHANGE_INSERT, partial, 2, NULL, 0).kind, FOOTPRINT_TABLE);
	assert_int_equal(of(&t, CHANGE_DELETE, NULL, 0, NULL, 0).kind, FOOTPRINT_TABLE);
}

static void
test_keyless(void **state)
{
	ChangeColumn row[] = {COL("a", "1"), COL("b", "x"), COL("v", "5")};
	TableMeta	t = make_table("public.t");

	(void) state;
	t.nkey = 0;
	t.key_canonical = false;
	assert_int_equal(of(&t, CHANGE_INSERT, row, 3, NULL, 0).kind, FOOTPRINT_TABLE_SHARED);
	assert_int_equal(of(&t, CHANGE_UPDATE, row, 3, row, 3).kind, FOOTPRINT_TABLE);
	assert_int_equal(of(&t, CHANGE_DELETE, NULL, 0, row, 3).kind, FOOTPRINT_TABLE);
	t.unique_elsewhere = true;	/* a unique index, not the identity */
	assert_int_equal(of(&t, CHANGE_INSERT, row, 3, NULL, 0).kind, FOOTPRINT_TABLE);
}

static void
test_truncate_and_matview(void **state)
{
	TableMeta	t = make_table("public.t");
	ChangeColumn row[] = {COL("a", "1"), COL("b", "x")};

	(void) state;
	assert_int_equal(of(&t, CHANGE_TRUNCATE, NULL, 0, NULL, 0).kind, FOOTPRINT_ALL);
	t.relkind = 'm';
	assert_int_equal(of(&t, CHANGE_INSERT, row, 2, NULL, 0).kind, FOOTPRINT_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_row_alike),
		cmocka_unit_test(test_other_rows_and_tables_apart),
		cmocka_unit_test(test_key_change_names_both),
		cmocka_unit_test(test_update_missing_key_column_uses_old),
		cmocka_unit_test(test_whole_table_when_key_cannot_name_a_row),
		cmocka_unit_test(test_keyless),
		cmocka_unit_test(test_truncate_and_matview),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
