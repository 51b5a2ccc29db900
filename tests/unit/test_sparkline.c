/*
 * test_sparkline.c
 *	  Unit tests for sparkline.c: buckets keep spikes, bars scale from 0 to
 *	  the maximum, unknowns are gaps, ASCII without UTF-8, the locale test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sparkline.h"

static void
test_one_bar_per_value_when_it_fits(void **state)
{
	double		v[8] = {0, 1, 2, 3, 4, 5, 6, 7};
	char		buf[64];

	(void) state;
	assert_string_equal(sparkline_render(v, 8, 60, true, buf, sizeof(buf)), "▁▂▃▄▅▆▇█");
	assert_string_equal(sparkline_render(v, 8, 60, false, buf, sizeof(buf)), "_.-~=+*#");
}

static void
test_buckets_keep_the_spike(void **state)
{
	double		v[100];
	double		out[10];
	size_t		n;

	(void) state;
	for (int i = 0; i < 100; i++)
		v[i] = 1;
	v[57] = 50;					/* one second of a spike in 100 */
	n = sparkline_buckets(v, 100, 10, out);
	assert_int_equal(n, 10);
	for (int b = 0; b < 10; b++)
		assert_true(out[b] == (b == 5 ? 50 : 1));
}

static void
test_every_value_in_one_bucket(void **state)
{
	double		v[7] = {1, 2, 3, 4, 5, 6, 70};
	double		out[3];

	(void) state;
	/* 7 values in 3 buckets: [0,2) [2,4) [4,7): the last value counts */
	assert_int_equal(sparkline_buckets(v, 7, 3, out), 3);
	assert_true(out[0] == 2 && out[1] == 4 && out[2] == 70);
}

static void
test_zero_unknown_and_empty(void **state)
{
	double		zero[4] = {0, 0, 0, 0};
	double		gaps[4] = {-1, 2, -1, 4};
	char		buf[64];

	(void) state;
	assert_string_equal(sparkline_render(zero, 4, 10, true, buf, sizeof(buf)), "▁▁▁▁");
	assert_string_equal(sparkline_render(gaps, 4, 10, false, buf, sizeof(buf)), " = #");
	assert_string_equal(sparkline_render(gaps, 0, 10, true, buf, sizeof(buf)), "");
	assert_string_equal(sparkline_render(gaps, 4, 0, true, buf, sizeof(buf)), "");
}

static void
test_truncated_to_the_buffer(void **state)
{
	double		v[5] = {7, 7, 7, 7, 7};
	char		buf[8];			/* two 3-byte bars and the NUL */

	(void) state;
	assert_string_equal(sparkline_render(v, 5, 5, true, buf, sizeof(buf)), "██");
	assert_string_equal(sparkline_render(v, 5, 5, false, buf, sizeof(buf)), "#####");
}

static void
test_locale(void **state)
{
	(void) state;
	assert_true(sparkline_locale_is_utf8(NULL, NULL, "en_US.UTF-8"));
	assert_true(sparkline_locale_is_utf8("", "C.utf8", "C"));
	assert_false(sparkline_locale_is_utf8("C", NULL, "en_US.UTF-8"));	/* LC_ALL decides */
	assert_false(sparkline_locale_is_utf8(NULL, NULL, "POSIX"));
	assert_false(sparkline_locale_is_utf8(NULL, NULL, NULL));
	assert_false(sparkline_locale_is_utf8(NULL, "de_DE.ISO-8859-1", NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_bar_per_value_when_it_fits),
		cmocka_unit_test(test_buckets_keep_the_spike),
		cmocka_unit_test(test_every_value_in_one_bucket),
		cmocka_unit_test(test_zero_unknown_and_empty),
		cmocka_unit_test(test_truncated_to_the_buffer),
		cmocka_unit_test(test_locale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
