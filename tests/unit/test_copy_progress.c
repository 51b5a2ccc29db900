/*
 * test_copy_progress.c
 *	  Unit tests for the pure pieces of the copy's progress
 *	  (src/copy/copy_progress.c): the current-rate window, the estimate,
 *	  fitting the live line to the terminal, and the board's sums.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "copy_progress.h"

/* The window forgets what is older than its width: the rate is the current one. */
static void
test_rate_window_is_current(void **state)
{
	RateWindow	w;
	double		rows,
				bytes;

	(void) state;
	rate_window_init(&w, 5.0);
	rate_window_add(&w, 0, 0, 0);
	assert_false(rate_window_rates(&w, &rows, &bytes));

	/*
	 * 100 rows/s for 10 s, then 1000 rows/s for 10 s, sampled 5 times a
	 * second
	 */
	for (int i = 1; i <= 50; i++)
		rate_window_add(&w, i * 0.2, i * 20, i * 2000);
	assert_true(rate_window_rates(&w, &rows, &bytes));
	assert_float_equal(rows, 100, 1e-6);
	assert_float_equal(bytes, 10000, 1e-6);
	for (int i = 1; i <= 50; i++)
		rate_window_add(&w, 10 + i * 0.2, 1000 + i * 200, 100000 + i * 20000);
	assert_true(rate_window_rates(&w, &rows, &bytes));
	assert_float_equal(rows, 1000, 1e-6);	/* an average since start would
											 * say 550 */
	assert_float_equal(bytes, 100000, 1e-6);
}

/* Less than half a second of samples tells no rate. */
static void
test_rate_window_needs_time(void **state)
{
	RateWindow	w;
	double		rows,
				bytes;

	(void) state;
	rate_window_init(&w, 5.0);
	rate_window_add(&w, 1.0, 0, 0);
	rate_window_add(&w, 1.2, 100, 100);
	assert_false(rate_window_rates(&w, &rows, &bytes));
	rate_window_add(&w, 1.6, 300, 300);
	assert_true(rate_window_rates(&w, &rows, &bytes));
	assert_float_equal(rows, 500, 1e-6);
}

/* Never 100 % before the end, however wrong the estimate; ETA from the current rate. */
static void
test_estimate_capped(void **state)
{
	ProgressEstimate e;

	(void) state;
	e = progress_estimate(50, 200, 10, false);
	assert_float_equal(e.percent, 25, 1e-9);
	assert_float_equal(e.eta_seconds, 15, 1e-9);
	e = progress_estimate(300, 200, 10, false);
	assert_true(e.percent < 100);
	assert_float_equal(e.eta_seconds, 0, 1e-9);
	e = progress_estimate(50, 200, 0, false);
	assert_true(e.eta_seconds < 0); /* no rate yet: unknown, not infinite */
	e = progress_estimate(0, 0, 0, false);
	assert_float_equal(e.percent, 0, 1e-9);
	e = progress_estimate(180, 200, 10, true);
	assert_float_equal(e.percent, 100, 1e-9);
	assert_float_equal(e.eta_seconds, 0, 1e-9);
}

static void
test_scale(void **state)
{
	(void) state;
	assert_float_equal(progress_scale(0, 0), 1, 1e-9);
	assert_float_equal(progress_scale(0, 8192), 1, 1e-9);
	assert_float_equal(progress_scale(600, 1000), 0.6, 1e-9);
}

/* The live line is cut to the terminal's width, on a character boundary. */
static void
test_fit(void **state)
{
	char		ascii[] = "data 42.1% | public.orders 61%, public.items 10%";
	char		utf8[] = "data | \xc3\xa9t\xc3\xa9.\xc3\xa9l\xc3\xa8ve 10%";	/* "été.élève" */
	char		shorter[] = "data 1%";

	(void) state;
	progress_fit(ascii, 20);
	assert_string_equal(ascii, "data 42.1% | publ...");
	progress_fit(shorter, 20);
	assert_string_equal(shorter, "data 1%");
	progress_fit(utf8, 12);
	/* 9 characters kept, then "..."; no torn multi-byte character */
	assert_string_equal(utf8, "data | \xc3\xa9t...");
}

/* The board sums finished items and shows the ones in hand. */
static void
test_board(void **state)
{
	ProgressBoard b;
	ProgressSlot *s1,
			   *s2;
	ProgressReading r;

	(void) state;
	progress_board_init(&b, 2);
	s1 = progress_board_claim(&b);
	s2 = progress_board_claim(&b);
	assert_non_null(s1);
	assert_non_null(s2);
	assert_null(progress_board_claim(&b));
	progress_slot_begin(s1, 7, 1000);
	progress_slot_add(s1, 10, 100);
	progress_slot_begin(s2, 3, 500);
	progress_slot_add(s2, 5, 50);
	progress_slot_end(s2, true, 5, 50);
	progress_slot_begin(s2, 4, 400);
	progress_slot_add(s2, 2, 20);
	progress_slot_end(s2, false, 0, 0); /* failed: rolled back */
	progress_board_read(&b, &r);
	assert_int_equal(r.done_items, 1);
	assert_int_equal(r.done_rows, 5);
	assert_int_equal(r.done_bytes, 50);
	assert_int_equal(r.done_planned, 500);
	assert_int_equal(r.read_rows, 17);	/* the rate counts what was read */
	assert_int_equal(r.nflight, 1);
	assert_int_equal(r.flight[0].item, 7);
	assert_int_equal(r.flight[0].rows, 10);
	assert_int_equal(r.flight[0].planned, 1000);
	progress_reading_free(&r);
	progress_board_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_window_is_current),
		cmocka_unit_test(test_rate_window_needs_time),
		cmocka_unit_test(test_estimate_capped),
		cmocka_unit_test(test_scale),
		cmocka_unit_test(test_fit),
		cmocka_unit_test(test_board),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
