/*
 * test_byteafix.c
 *	  Unit tests for what apply takes from the target's column types (pure:
 *	  apply_sql.c): the "\x" of bytea values that wal2json before 2.5 sends
 *	  as bare hex with no type to tell (ByteaFix), and which columns are
 *	  generated, hence never written (stored 's', PostgreSQL 18's virtual 'v').
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apply_sql.h"
#include "decoder.h"

/* b(k bytea PRIMARY KEY, v bytea, d dom_bytea, t text, n int) */
static ColumnMeta cols[] = {
	{"k", "k", "bytea", "bytea", 17, false, false, false, true, true, false, NULL, false},
	{"v", "v", "bytea", "bytea", 17, false, false, false, true, true, false, NULL, false},
	{"d", "d", "dom_bytea", "dom_bytea", 16400, false, false, false, true, true, false, NULL, false},
	{"t", "t", "text", "text", 25, false, false, false, true, false, false, NULL, false},
	{"n", "n", "integer", "integer", 23, false, false, false, true, false, false, NULL, false},
};
static int	key[] = {0};

static TableMeta
make_table(void)
{
	TableMeta	t = {0};

	t.schema = "public";
	t.table = "b";
	t.qualname = "public.b";
	t.relkind = 'r';
	t.cols = cols;
	t.ncols = 5;
	t.key = key;
	t.nkey = 1;
	t.any_bytea = true;
	return t;
}

/* What wal2json 2.3 sends for format-version 2 with include-types 0. */
#define OLD_INSERT "{\"action\":\"I\",\"schema\":\"public\",\"table\":\"b\",\"columns\":[" \
	"{\"name\":\"k\",\"value\":\"deadbeef\"},{\"name\":\"v\",\"value\":\"\"}," \
	"{\"name\":\"d\",\"value\":\"\\\\x0102\"},{\"name\":\"t\",\"value\":\"cafe\"}," \
	"{\"name\":\"n\",\"value\":7}],\"pk\":[{\"name\":\"k\"}]}"
#define OLD_UPDATE "{\"action\":\"U\",\"schema\":\"public\",\"table\":\"b\",\"columns\":[" \
	"{\"name\":\"k\",\"value\":\"00ff\"},{\"name\":\"v\",\"value\":null}]," \
	"\"identity\":[{\"name\":\"k\",\"value\":\"deadbeef\"}],\"pk\":[{\"name\":\"k\"}]}"
#define OLD_DELETE "{\"action\":\"D\",\"schema\":\"public\",\"table\":\"b\"," \
	"\"identity\":[{\"name\":\"k\",\"value\":\"00ff\"}],\"pk\":[{\"name\":\"k\"}]}"
/* ... and wal2json 2.5, which names the types: the decoder prefixes itself. */
#define NEW_INSERT "{\"action\":\"I\",\"schema\":\"public\",\"table\":\"b\",\"columns\":[" \
	"{\"name\":\"k\",\"typeoid\":17,\"value\":\"deadbeef\"},{\"name\":\"v\",\"typeoid\":17,\"value\":\"\"}]," \
	"\"pk\":[{\"name\":\"k\",\"typeoid\":17}]}"

static void
decode(Decoder *d, const char *msg, Change *c)
{
	const char *err = NULL;

	assert_true(decoder_decode(d, msg, strlen(msg), c, &err));
	assert_null(err);
}

static void
assert_value(const ChangeColumn *col, const char *expect)
{
	if (expect == NULL)
	{
		assert_null(col->value);
		return;
	}
	assert_non_null(col->value);
	assert_string_equal(col->value, expect);
	assert_int_equal(col->value_len, strlen(expect));
}

static void
test_old_wal2json_insert(void **state)
{
	Decoder    *d = decoder_create();
	TableMeta	t = make_table();
	ByteaFix	bf;
	Change		c;
	const Change *fixed;

	(void) state;
	byteafix_init(&bf);
	decode(d, OLD_INSERT, &c);
	/* the decoder alone cannot know: bare hex */
	assert_value(&c.columns[0], "deadbeef");
	fixed = byteafix_apply(&bf, &t, &c);
	assert_ptr_not_equal(fixed, &c);
	assert_int_equal(fixed->ncolumns, 5);
	assert_value(&fixed->columns[0], "\\xdeadbeef");
	/* an empty bytea arrives as "" and is '\x', never '' */
	assert_value(&fixed->columns[1], "\\x");
	/* a domain over bytea is printed whole, prefix included */
	assert_value(&fixed->columns[2], "\\x0102");
	/* other types are left alone, even when they look like hex */
	assert_value(&fixed->columns[3], "cafe");
	assert_value(&fixed->columns[4], "7");
	assert_string_equal(fixed->columns[0].name, "k");
	assert_string_equal(fixed->table, "b");
	/* the decoder's own record is unchanged */
	assert_value(&c.columns[0], "deadbeef");
	byteafix_free(&bf);
	decoder_destroy(d);
}

static void
test_old_wal2json_keys(void **state)
{
	Decoder    *d = decoder_create();
	TableMeta	t = make_table();
	ByteaFix	bf;
	Change		c;
	const Change *fixed;
	RowStatement rs;
	char	   *drift = NULL;

	(void) state;
	byteafix_init(&bf);
	rowstmt_init(&rs);

	/* UPDATE moving a bytea key: new key, NULL, and the old key */
	decode(d, OLD_UPDATE, &c);
	fixed = byteafix_apply(&bf, &t, &c);
	assert_value(&fixed->columns[0], "\\x00ff");
	assert_value(&fixed->columns[1], NULL);
	assert_int_equal(fixed->nidentity, 1);
	assert_value(&fixed->identity[0], "\\xdeadbeef");
	rs.want_sql = true;
	assert_true(rowstmt_plan(&rs, &t, fixed, &drift));
	assert_null(drift);
	assert_int_equal(rs.nparams, 3);
	assert_string_equal(rs.params[0], "\\x00ff");
	assert_null(rs.params[1]);
	assert_string_equal(rs.params[2], "\\xdeadbeef");

	/* DELETE by a bytea key */
	decode(d, OLD_DELETE, &c);
	fixed = byteafix_apply(&bf, &t, &c);
	assert_int_equal(fixed->ncolumns, 0);
	assert_value(&fixed->identity[0], "\\x00ff");
	assert_true(rowstmt_plan(&rs, &t, fixed, &drift));
	assert_int_equal(rs.nparams, 1);
	assert_string_equal(rs.params[0], "\\x00ff");

	rowstmt_free(&rs);
	byteafix_free(&bf);
	decoder_destroy(d);
}

static void
test_new_wal2json_untouched(void **state)
{
	Decoder    *d = decoder_create();
	TableMeta	t = make_table();
	ByteaFix	bf;
	Change		c;

	(void) state;
	byteafix_init(&bf);
	decode(d, NEW_INSERT, &c);
	assert_value(&c.columns[0], "\\xdeadbeef");
	assert_value(&c.columns[1], "\\x");
	/* nothing to do: the same record back, no copy */
	assert_ptr_equal(byteafix_apply(&bf, &t, &c), &c);
	/* a table without bytea is never looked at */
	decode(d, OLD_INSERT, &c);
	t.any_bytea = false;
	assert_ptr_equal(byteafix_apply(&bf, &t, &c), &c);
	byteafix_free(&bf);
	decoder_destroy(d);
}

static void
test_needs_prefix(void **state)
{
	ChangeColumn bare = {"k", NULL, 0, "ab", 2};
	ChangeColumn empty = {"k", NULL, 0, "", 0};
	ChangeColumn null = {"k", NULL, 0, NULL, 0};
	ChangeColumn prefixed = {"k", NULL, 0, "\\xab", 4};
	ChangeColumn typed = {"k", NULL, 17, "\\xab", 4};
	ChangeColumn named = {"k", "bytea", 0, "\\xab", 4};

	(void) state;
	assert_true(bytea_value_needs_prefix(&cols[0], &bare));
	assert_true(bytea_value_needs_prefix(&cols[0], &empty));
	assert_false(bytea_value_needs_prefix(&cols[0], &null));
	assert_false(bytea_value_needs_prefix(&cols[0], &prefixed));
	assert_false(bytea_value_needs_prefix(&cols[0], &typed));
	assert_false(bytea_value_needs_prefix(&cols[0], &named));
	assert_false(bytea_value_needs_prefix(&cols[3], &bare));
}

static void
test_generated_never_written(void **state)
{
	(void) state;
	assert_true(attgenerated_never_written('s'));
	/* PostgreSQL 18: virtual generated columns */
	assert_true(attgenerated_never_written('v'));
	assert_false(attgenerated_never_written('\0'));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_old_wal2json_insert),
		cmocka_unit_test(test_old_wal2json_keys),
		cmocka_unit_test(test_new_wal2json_untouched),
		cmocka_unit_test(test_needs_prefix),
		cmocka_unit_test(test_generated_never_written),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
