/*
 * test_apply_batch.c
 *	  Unit tests for keep_last_per_key (replication/apply/keydedup.c): of a
 *	  run of batched UPDATEs only the last change of each key is sent, in
 *	  the run's order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "keydedup.h"

/* Rows are indexes into an array of keys. */
typedef struct Keys
{
	const char *const *key;
	bool		constant_hash;	/* every key collides: exercises probing */
} Keys;

static unsigned
hash_key(void *arg, int row)
{
	const Keys *k = arg;
	unsigned	h = 2166136261u;

	if (k->constant_hash)
		return 7;
	for (const char *p = k->key[row]; *p; p++)
		h = (h ^ (unsigned char) *p) * 16777619u;
	return h;
}

static bool
equal_keys(void *arg, int a, int b)
{
	const Keys *k = arg;

	return strcmp(k->key[a], k->key[b]) == 0;
}

static void
test_last_of_each_key_in_order(void **state)
{
	const char *const key[] = {"1", "2", "1", "3", "2", "1"};
	Keys		k = {key, false};
	int			rows[] = {0, 1, 2, 3, 4, 5};
	int			kept;

	(void) state;
	kept = keep_last_per_key(rows, 6, hash_key, equal_keys, &k);
	assert_int_equal(kept, 3);
	/* key 3 last at row 3, key 2 at row 4, key 1 at row 5 */
	assert_int_equal(rows[0], 3);
	assert_int_equal(rows[1], 4);
	assert_int_equal(rows[2], 5);
}

static void
test_distinct_keys_unchanged(void **state)
{
	const char *const key[] = {"a", "b", "c", "d", "e"};
	Keys		k = {key, false};
	int			rows[] = {4, 0, 3, 1, 2};	/* any order of row indexes */
	int			kept;

	(void) state;
	kept = keep_last_per_key(rows, 5, hash_key, equal_keys, &k);
	assert_int_equal(kept, 5);
	assert_int_equal(rows[0], 4);
	assert_int_equal(rows[1], 0);
	assert_int_equal(rows[2], 3);
	assert_int_equal(rows[3], 1);
	assert_int_equal(rows[4], 2);
}

static void
test_colliding_hashes_still_compare_keys(void **state)
{
	const char *const key[] = {"x", "y", "x", "z", "y"};
	Keys		k = {key, true};
	int			rows[] = {0, 1, 2, 3, 4};
	int			kept;

	(void) state;
	kept = keep_last_per_key(rows, 5, hash_key, equal_keys, &k);
	assert_int_equal(kept, 3);
	assert_int_equal(rows[0], 2);	/* x */
	assert_int_equal(rows[1], 3);	/* z */
	assert_int_equal(rows[2], 4);	/* y */
}

static void
test_one_key_many_times(void **state)
{
	const char *const key[] = {"k", "k", "k", "k"};
	Keys		k = {key, false};
	int			rows[] = {0, 1, 2, 3};

	(void) state;
	assert_int_equal(keep_last_per_key(rows, 4, hash_key, equal_keys, &k), 1);
	assert_int_equal(rows[0], 3);
	assert_int_equal(keep_last_per_key(rows, 0, hash_key, equal_keys, &k), 0);
}

/* More rows than the initial table size: the table grows with the run. */
static void
test_large_run(void **state)
{
	enum
	{
		N = 1000
	};
	static char names[N][8];
	const char *key[N];
	int			rows[N];
	Keys		k = {key, false};
	int			kept;

	(void) state;
	for (int i = 0; i < N; i++)
	{
		snprintf(names[i], sizeof(names[i]), "%d", i % 100);
		key[i] = names[i];
		rows[i] = i;
	}
	kept = keep_last_per_key(rows, N, hash_key, equal_keys, &k);
	assert_int_equal(kept, 100);
	for (int i = 0; i < kept; i++)
		assert_int_equal(rows[i], N - 100 + i);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_last_of_each_key_in_order),
		cmocka_unit_test(test_distinct_keys_unchanged),
		cmocka_unit_test(test_colliding_hashes_still_compare_keys),
		cmocka_unit_test(test_one_key_many_times),
		cmocka_unit_test(test_large_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
