/*
 * test_sequences.c
 *	  Unit tests for the sequence rules (src/source/sequences.c): the next
 *	  value with is_called, bounds and CYCLE; the setval() planned for the
 *	  target, with a gap the sequence's way; "behind" in either direction.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "sequences.h"

static SequenceState
seq(int64_t last, bool called, int64_t inc, int64_t min, int64_t max, bool cycle)
{
	SequenceState s = {0};

	s.last_value = last;
	s.is_called = called;
	s.increment = inc;
	s.min_value = min;
	s.max_value = max;
	s.cycle = cycle;
	return s;
}

static void
test_next_value(void **state)
{
	SequenceState never_used = seq(1, false, 1, 1, INT64_MAX, false);
	SequenceState used = seq(41, true, 1, 1, INT64_MAX, false);
	SequenceState desc = seq(995, true, -5, 1, 1000, false);
	SequenceState full = seq(10, true, 1, 1, 10, false);
	SequenceState cyc = seq(10, true, 3, 1, 10, true);
	SequenceState cycd = seq(2, true, -3, 1, 10, true);
	SequenceState top = seq(INT64_MAX, true, 1, 1, INT64_MAX, false);
	int64_t		n = 0;

	(void) state;
	assert_true(sequence_next_value(&never_used, &n));
	assert_int_equal(n, 1);
	assert_true(sequence_next_value(&used, &n));
	assert_int_equal(n, 42);
	assert_true(sequence_next_value(&desc, &n));
	assert_int_equal(n, 990);
	assert_false(sequence_next_value(&full, &n));
	assert_false(sequence_next_value(&top, &n));
	assert_true(sequence_next_value(&cyc, &n));
	assert_int_equal(n, 1);
	assert_true(sequence_next_value(&cycd, &n));
	assert_int_equal(n, 10);
}

static void
test_plan_exact_without_gap(void **state)
{
	SequenceState src = seq(500, false, 1, 1, INT64_MAX, false);	/* setval(s, 500, false) */
	SequenceState tgt = seq(1, false, 1, 1, INT64_MAX, false);
	SequenceSetting set;

	(void) state;
	sequence_plan(&src, &tgt, 0, &set);
	assert_false(set.keep_target);
	assert_int_equal(set.value, 500);
	assert_false(set.is_called);
}

static void
test_plan_gap_follows_direction(void **state)
{
	SequenceState asc = seq(100, true, 1, 1, INT64_MAX, false);
	SequenceState desc = seq(999, true, -1, 1, 1000, false);
	SequenceState near_top = seq(995, true, 1, 1, 1000, false);
	SequenceState near_bottom = seq(3, true, -1, 1, 1000, false);
	SequenceSetting set;

	(void) state;
	/* next was 101: next becomes 1101, said as 1100 handed out */
	sequence_plan(&asc, NULL, 1000, &set);
	assert_int_equal(set.value, 1100);
	assert_true(set.is_called);
	assert_int_equal(set.gap_applied, 1000);

	/* next was 998, the gap goes down: next 993, said as 994 handed out */
	sequence_plan(&desc, NULL, 5, &set);
	assert_int_equal(set.value, 994);
	assert_true(set.is_called);

	/* clamped at MAXVALUE: next is 1000 */
	sequence_plan(&near_top, NULL, 1000, &set);
	assert_int_equal(set.value, 999);
	assert_true(set.is_called);
	assert_int_equal(set.gap_applied, 4);

	/* clamped at MINVALUE 1: next is 1, said as 2 handed out */
	sequence_plan(&near_bottom, NULL, 1000, &set);
	assert_int_equal(set.value, 2);
	assert_true(set.is_called);
	assert_int_equal(set.gap_applied, 1);
	{
		/* ascending and clamped at a MAXVALUE equal to MINVALUE: nothing before it */
		SequenceState one = seq(5, false, 1, 5, 5, false);

		sequence_plan(&one, NULL, 3, &set);
		assert_int_equal(set.value, 5);
		assert_false(set.is_called);
	}
	{
		/* a sequence never used, MINVALUE 1: next 1 + gap */
		SequenceState fresh = seq(1, false, 1, 1, 100, false);

		sequence_plan(&fresh, NULL, 10, &set);
		assert_int_equal(set.value, 10);
		assert_true(set.is_called);
	}
}

static void
test_plan_never_backwards(void **state)
{
	SequenceState src = seq(100, true, 1, 1, INT64_MAX, false);
	SequenceState tgt_ahead = seq(150, true, 1, 1, INT64_MAX, false);
	SequenceState tgt_behind = seq(50, true, 1, 1, INT64_MAX, false);
	SequenceState dsrc = seq(100, true, -1, -1000, 1000, false);
	SequenceState dtgt_ahead = seq(20, true, -1, -1000, 1000, false);
	SequenceSetting set;

	(void) state;
	sequence_plan(&src, &tgt_ahead, 0, &set);
	assert_true(set.keep_target);
	sequence_plan(&src, &tgt_behind, 0, &set);
	assert_false(set.keep_target);
	assert_int_equal(set.value, 100);
	assert_true(set.is_called);
	sequence_plan(&dsrc, &dtgt_ahead, 0, &set);
	assert_true(set.keep_target);
	/* a gap that lands beyond the target's position is applied */
	sequence_plan(&src, &tgt_ahead, 100, &set);
	assert_false(set.keep_target);
	assert_int_equal(set.value, 200);
	assert_true(set.is_called);
}

static void
test_ahead_of(void **state)
{
	SequenceState a = seq(10, true, 1, 1, 100, false);
	SequenceState b_unused = seq(1, false, 1, 1, 100, false);
	SequenceState b_same_next = seq(11, false, 1, 1, 100, false);
	SequenceState exhausted = seq(100, true, 1, 1, 100, false);
	SequenceState d_src = seq(-5, true, -1, -100, -1, false);
	SequenceState d_tgt = seq(-1, false, -1, -100, -1, false);

	(void) state;
	assert_true(sequence_ahead_of(&a, &b_unused));
	assert_false(sequence_ahead_of(&b_unused, &a));
	assert_false(sequence_ahead_of(&a, &b_same_next));
	assert_false(sequence_ahead_of(&b_same_next, &a));
	assert_true(sequence_ahead_of(&exhausted, &a));
	assert_false(sequence_ahead_of(&a, &exhausted));
	/* descending: the source at -6 next, the target never used (-1 next) is behind */
	assert_true(sequence_ahead_of(&d_src, &d_tgt));
	assert_false(sequence_ahead_of(&d_tgt, &d_src));
}

static void
test_same_shape(void **state)
{
	SequenceState a = seq(10, true, 1, 1, 1000, false);
	SequenceState b = seq(500, false, 1, 1, 1000, false);
	SequenceState wider = seq(10, true, 1, 1, 100000, false);
	SequenceState down = seq(10, true, -1, 1, 1000, false);
	SequenceState cyc = seq(10, true, 1, 1, 1000, true);
	SequenceState big = a;

	(void) state;
	a.type_name = b.type_name = wider.type_name = down.type_name = cyc.type_name = "integer";
	big.type_name = "bigint";
	assert_true(sequence_same_shape(&a, &b));	/* values do not count */
	assert_false(sequence_same_shape(&a, &wider));
	assert_false(sequence_same_shape(&a, &down));
	assert_false(sequence_same_shape(&a, &cyc));
	assert_false(sequence_same_shape(&a, &big));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next_value),
		cmocka_unit_test(test_plan_exact_without_gap),
		cmocka_unit_test(test_plan_gap_follows_direction),
		cmocka_unit_test(test_plan_never_backwards),
		cmocka_unit_test(test_ahead_of),
		cmocka_unit_test(test_same_shape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
