/*
 * test_keydiff.c
 *	  Unit tests for the pure pieces of the table comparison
 *	  (src/verify/keydiff.c): chunk boundaries and the key merge.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "keydiff.h"

static void
test_split_even(void **state)
{
	int64_t		cuts[16];
	int			n;

	(void) state;
	/* 600000 keys 1..600000, 250000 a chunk: 3 chunks of 200000 */
	n = keydiff_split_range(1, 600000, 600000, 250000, 16, cuts);
	assert_int_equal(n, 3);
	assert_true(cuts[0] == 200001);
	assert_true(cuts[1] == 400001);
	/* unknown row count: the span is the estimate */
	assert_int_equal(keydiff_split_range(1, 600000, -1, 250000, 16, cuts), 3);
	assert_int_equal(keydiff_split_range(1, 600000, 0, 250000, 16, cuts), 3);
}

static void
test_split_one_chunk(void **state)
{
	int64_t		cuts[16];

	(void) state;
	assert_int_equal(keydiff_split_range(1, 600000, 1000, 250000, 16, cuts), 1);
	assert_int_equal(keydiff_split_range(5, 5, 1e9, 10, 16, cuts), 1);
	assert_int_equal(keydiff_split_range(7, 3, 1e9, 10, 16, cuts), 1);
	assert_int_equal(keydiff_split_range(1, 1000, 1e9, 0, 16, cuts), 1);
	assert_int_equal(keydiff_split_range(1, 1000, 1e9, 10, 1, cuts), 1);
}

static void
test_split_limits(void **state)
{
	int64_t		cuts[1000];
	int			n;

	(void) state;
	/* at most max_chunks */
	n = keydiff_split_range(0, 1000000, 1e9, 10, 8, cuts);
	assert_int_equal(n, 8);
	/* never narrower than a key: 4 keys, a billion rows claimed */
	n = keydiff_split_range(10, 13, 1e9, 1, 1000, cuts);
	assert_int_equal(n, 4);
	assert_true(cuts[0] == 11 && cuts[1] == 12 && cuts[2] == 13);
	/* the whole int64 range does not overflow, cuts strictly increase */
	n = keydiff_split_range(INT64_MIN, INT64_MAX, 4e6, 1000000, 1000, cuts);
	assert_int_equal(n, 4);
	for (int i = 1; i < n - 1; i++)
		assert_true(cuts[i] > cuts[i - 1]);
	assert_true(cuts[0] > INT64_MIN && cuts[n - 2] <= INT64_MAX);
	/* a sparse range with few rows: chunks by rows, not by span */
	n = keydiff_split_range(0, INT64_MAX, 10, 3, 1000, cuts);
	assert_int_equal(n, 4);
}

static void
test_merge(void **state)
{
	KeyHash		src[] = {{"c", "3"}, {"a", "1"}, {"b", "2"}, {"e", "5"}};
	KeyHash		tgt[] = {{"b", "2"}, {"a", "1x"}, {"d", "4"}, {"e", "5"}};
	KeyDiff		named[10];
	int			nnamed = -1;

	(void) state;
	assert_true(keydiff_merge(src, 4, tgt, 4, named, 10, &nnamed) == 3);
	assert_int_equal(nnamed, 3);
	assert_string_equal(named[0].key, "a");
	assert_int_equal(named[0].problem, KEY_DIFFERS);
	assert_string_equal(named[1].key, "c");
	assert_int_equal(named[1].problem, KEY_MISSING_ON_TARGET);
	assert_string_equal(named[2].key, "d");
	assert_int_equal(named[2].problem, KEY_EXTRA_ON_TARGET);
	assert_string_equal(keydiff_problem_name(named[2].problem), "extra on target");
}

static void
test_merge_limits(void **state)
{
	KeyHash		src[] = {{"1", "x"}, {"2", "x"}, {"3", "x"}};
	KeyHash		same[] = {{"3", "x"}, {"1", "x"}, {"2", "x"}};
	KeyDiff		named[2];
	int			nnamed = -1;

	(void) state;
	/* equal in another order: nothing */
	assert_true(keydiff_merge(src, 3, same, 3, named, 2, &nnamed) == 0);
	assert_int_equal(nnamed, 0);
	/* everything on one side: all counted, the first two named */
	assert_true(keydiff_merge(src, 3, NULL, 0, named, 2, &nnamed) == 3);
	assert_int_equal(nnamed, 2);
	assert_string_equal(named[0].key, "1");
	assert_string_equal(named[1].key, "2");
	assert_true(keydiff_merge(NULL, 0, src, 3, named, 0, &nnamed) == 3);
	assert_int_equal(nnamed, 0);
	assert_true(keydiff_merge(NULL, 0, NULL, 0, named, 2, &nnamed) == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_even),
		cmocka_unit_test(test_split_one_chunk),
		cmocka_unit_test(test_split_limits),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_merge_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
