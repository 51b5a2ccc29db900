/*
 * test_lagtrack.c
 *	  Unit tests for lag arithmetic, including skewed clocks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "lagtrack.h"

static void
test_parse_timestamp(void **state)
{
	(void) state;
	assert_true(lag_parse_timestamp("1970-01-01 00:00:00+00") == 0.0);
	assert_true(lag_parse_timestamp("2026-11-23 13:36:47.5+00") == 1795441007.5);
	assert_true(lag_parse_timestamp("2026-11-23 15:36:47.5+02") == 1795441007.5);
	assert_true(lag_parse_timestamp("2026-11-23 13:06:47.5-00:30") == 1795441007.5);
	assert_true(lag_parse_timestamp("garbage") < 0);
	assert_true(lag_parse_timestamp(NULL) < 0);
}

static void
test_idle_source_is_zero(void **state)
{
	LagTracker	lt = {0};
	LagSample	s;

	(void) state;
	lag_source_position(&lt, 1000);
	lag_heartbeat(&lt, 900, 5000.0, 5000.0);
	lag_applied(&lt, 950, 4000.0);
	s = lag_compute(&lt, 950, false, 5003.0);
	assert_true(s.caught_up);
	assert_true(s.seconds == 0);
	assert_int_equal(s.bytes, 50);
}

static void
test_behind_counts_from_newest_applied(void **state)
{
	LagTracker	lt = {0};
	LagSample	s;

	(void) state;
	lag_heartbeat(&lt, 100, 1000.0, 1000.0);
	lag_applied(&lt, 100, 999.0);	/* caught up to the heartbeat at 1000 */
	lag_heartbeat(&lt, 500, 1010.0, 1010.0);
	lag_source_position(&lt, 600);
	/* applied only up to 300: the newest applied thing is the heartbeat at 1000 */
	lag_applied(&lt, 300, 1005.0);
	s = lag_compute(&lt, 300, true, 1012.0);
	assert_false(s.caught_up);
	assert_true(s.seconds > 6.99 && s.seconds < 7.01);
	assert_int_equal(s.bytes, 300);
}

static void
test_skewed_clocks(void **state)
{
	LagTracker	lt = {0};
	LagSample	s;

	(void) state;
	/* the local clock is an hour behind the source */
	lag_heartbeat(&lt, 100, 10000.0, 6400.0);
	lag_applied(&lt, 50, 9998.0);
	s = lag_compute(&lt, 50, true, 6401.0);
	assert_true(s.seconds > 2.99 && s.seconds < 3.01);
	/* an hour ahead: never negative */
	lag_heartbeat(&lt, 200, 20000.0, 23600.0);
	lag_applied(&lt, 150, 20005.0);
	s = lag_compute(&lt, 150, true, 23600.0);
	assert_true(s.seconds >= 0 && s.seconds < 0.01);
}

static void
test_without_heartbeats(void **state)
{
	LagTracker	lt = {0};
	LagSample	s;

	(void) state;
	s = lag_compute(&lt, 10, false, 100.0);
	assert_true(s.seconds < 0);	/* unknown */
	lag_source_position(&lt, 10);
	s = lag_compute(&lt, 10, false, 100.0);
	assert_true(s.caught_up);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_timestamp),
		cmocka_unit_test(test_idle_source_is_zero),
		cmocka_unit_test(test_behind_counts_from_newest_applied),
		cmocka_unit_test(test_skewed_clocks),
		cmocka_unit_test(test_without_heartbeats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
