/*
 * test_catchup.c
 *	  Unit tests for catchup.c: the rates over a window of lag history and
 *	  the catch-up rule (caught up, catching up with its ETA, falling
 *	  behind, unknown).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "catchup.h"

#define MB (1024.0 * 1024)

static CatchUpInput
behind(double apply, double source)
{
	CatchUpInput in = {true, (int64_t) (600 * MB), 120.0, 60.0, apply, source};

	return in;
}

static void
test_catching_up_with_eta(void **state)
{
	CatchUpInput in = behind(30 * MB, 20 * MB);
	CatchUp		c = catch_up_assess(&in);

	(void) state;
	assert_int_equal(c.state, CATCH_UP_CATCHING_UP);
	assert_true(c.eta_seconds > 59.99 && c.eta_seconds < 60.01);	/* 600 MB at 10 MB/s net */
	assert_string_equal(catch_up_state_name(c.state), "catching_up");
}

static void
test_falling_behind_never_at_this_rate(void **state)
{
	CatchUpInput in = behind(20 * MB, 20 * MB);
	CatchUp		c = catch_up_assess(&in);

	(void) state;
	assert_int_equal(c.state, CATCH_UP_FALLING_BEHIND);
	assert_true(c.eta_seconds < 0);
	in = behind(0, 5 * MB);
	assert_int_equal(catch_up_assess(&in).state, CATCH_UP_FALLING_BEHIND);
	assert_string_equal(catch_up_state_name(CATCH_UP_FALLING_BEHIND), "falling_behind");
}

static void
test_caught_up(void **state)
{
	CatchUpInput in = behind(1 * MB, 2 * MB);

	(void) state;
	in.lag_seconds = 0.2;		/* near zero: whatever the rates */
	assert_int_equal(catch_up_assess(&in).state, CATCH_UP_CAUGHT_UP);
	assert_true(catch_up_assess(&in).eta_seconds == 0);
	in.lag_seconds = -1;		/* no seconds: bytes decide */
	in.lag_bytes = 4096;
	assert_int_equal(catch_up_assess(&in).state, CATCH_UP_CAUGHT_UP);
	in.lag_bytes = (int64_t) (2 * MB);
	assert_int_equal(catch_up_assess(&in).state, CATCH_UP_FALLING_BEHIND);
}

static void
test_unknown(void **state)
{
	CatchUpInput in = behind(30 * MB, 20 * MB);

	(void) state;
	in.follower_alive = false;
	assert_int_equal(catch_up_assess(&in).state, CATCH_UP_UNKNOWN);
	in = behind(30 * MB, 20 * MB);
	in.window_seconds = 3;		/* too little history */
	assert_int_equal(catch_up_assess(&in).state, CATCH_UP_UNKNOWN);
	in = behind(30 * MB, -1);	/* source rate unknown */
	assert_int_equal(catch_up_assess(&in).state, CATCH_UP_UNKNOWN);
	assert_true(catch_up_assess(&in).eta_seconds < 0);
	assert_string_equal(catch_up_state_name(CATCH_UP_UNKNOWN), "unknown");
}

static void
test_rates_over_the_window(void **state)
{
	LagPoint	p[100];
	CatchUpInput in;

	(void) state;
	memset(p, 0, sizeof(p));
	for (int i = 0; i < 100; i++)
	{
		p[i].at = 1000 + i;
		/* the first 39 s slow, then apply 3000 B/s and the source 1000 B/s */
		p[i].applied_lsn = i < 39 ? (uint64_t) i : 39 + (uint64_t) (i - 39) * 3000;
		p[i].source_lsn = 1000000 + (uint64_t) i * 1000;
	}
	catch_up_rates(p, 100, 60, 1100, &in);
	assert_true(in.window_seconds == 60);	/* points 39..99 */
	assert_true(in.apply_bytes_per_sec == 3000);
	assert_true(in.source_wal_bytes_per_sec == 1000);
	catch_up_rates(p, 1, 60, 1100, &in);
	assert_true(in.window_seconds == 0 && in.apply_bytes_per_sec < 0 && in.source_wal_bytes_per_sec < 0);
	catch_up_rates(p, 100, 60, 1099 + CATCH_UP_STALE_SECONDS + 1, &in);	/* no recent point */
	assert_true(in.window_seconds == 0 && in.apply_bytes_per_sec < 0 && in.source_wal_bytes_per_sec < 0);
	p[99].source_lsn = 0;		/* unknown source position */
	catch_up_rates(p, 100, 60, 1100, &in);
	assert_true(in.apply_bytes_per_sec == 3000 && in.source_wal_bytes_per_sec < 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_catching_up_with_eta),
		cmocka_unit_test(test_falling_behind_never_at_this_rate),
		cmocka_unit_test(test_caught_up),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_rates_over_the_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
