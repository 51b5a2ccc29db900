/*
 * test_json_output.c
 *	  Unit tests for the --json contract's pure parts (src/cli/json_output.c):
 *	  the envelope and its order, the rounding of durations by name,
 *	  PostgreSQL timestamps to RFC 3339, "...; fix: ..." to {message, fix}.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json_output.h"

static void
assert_timestamp(const char *pg, const char *want)
{
	json_t	   *v = json_timestamp_from_pg(pg);

	if (want == NULL)
		assert_true(json_is_null(v));
	else
		assert_string_equal(json_string_value(v), want);
	json_decref(v);
}

static void
test_timestamps(void **state)
{
	(void) state;
	assert_timestamp("2026-11-30 09:58:31.123456+00", "2026-11-30T09:58:31.123Z");
	assert_timestamp("2026-11-30 10:58:31.5+01", "2026-11-30T09:58:31.500Z");
	assert_timestamp("2026-11-30 05:28:31-04:30", "2026-11-30T09:58:31.000Z");
	assert_timestamp("2026-12-01 00:10:00+00:20", "2026-11-30T23:50:00.000Z");
	assert_timestamp("2026-11-30T09:58:31Z", "2026-11-30T09:58:31.000Z");
	assert_timestamp("2026-11-30T09:58:31.042Z", "2026-11-30T09:58:31.042Z");
	assert_timestamp(NULL, NULL);
	assert_timestamp("yesterday", NULL);
	assert_timestamp("2026-11-30 09:58:31", NULL);	/* no zone: not a timestamptz */
}

static void
test_error_object(void **state)
{
	json_t	   *e = json_error_object("pgcutover: unknown option \"-x\"; fix: see 'pgcutover --help'");

	(void) state;
	assert_string_equal(json_string_value(json_object_get(e, "message")), "unknown option \"-x\"");
	assert_string_equal(json_string_value(json_object_get(e, "fix")), "see 'pgcutover --help'");
	json_decref(e);
	e = json_error_object("the slot is gone");
	assert_string_equal(json_string_value(json_object_get(e, "message")), "the slot is gone");
	assert_true(json_is_null(json_object_get(e, "fix")));
	json_decref(e);
}

static void
test_envelope(void **state)
{
	json_t	   *doc = json_pack("{s:s, s:b, s:f, s:f, s:{s:f}, s:[{s:f}], s:f, s:f, s:f}",
								"slot", "s", "ok", 1, "downtime_ms", 12.34567, "lag_at_fence_seconds", 0.123456789,
								"seconds", "data", 1.000049, "steps", "ms", 0.26, "seconds_ago", 3.00001,
								"rows_per_second", 1.23456789, "pause_ms", 1e-9);
	const char *first = NULL;
	const char *key;
	json_t	   *value;

	(void) state;
	doc = json_output_envelope(doc, "switchover", 5);
	json_object_foreach(doc, key, value)
	{
		first = key;
		break;
	}
	assert_string_equal(first, "command");
	assert_string_equal(json_string_value(json_object_get(doc, "command")), "switchover");
	assert_true(json_is_false(json_object_get(doc, "ok")));	/* exit_code != 0 wins */
	assert_int_equal(json_integer_value(json_object_get(doc, "exit_code")), 5);
	assert_int_equal(json_integer_value(json_object_get(doc, "schema_version")), JSON_SCHEMA_VERSION);
	assert_float_equal(json_real_value(json_object_get(doc, "downtime_ms")), 12.3, 1e-12);
	assert_float_equal(json_real_value(json_object_get(doc, "lag_at_fence_seconds")), 0.1235, 1e-12);
	assert_float_equal(json_real_value(json_object_get(json_object_get(doc, "seconds"), "data")), 1.0, 1e-12);
	assert_float_equal(json_real_value(json_object_get(json_array_get(json_object_get(doc, "steps"), 0), "ms")),
					   0.3, 1e-12);
	assert_float_equal(json_real_value(json_object_get(doc, "seconds_ago")), 3.0, 1e-12);
	assert_float_equal(json_real_value(json_object_get(doc, "pause_ms")), 0.0, 1e-12);
	/* not a duration: left alone */
	assert_float_equal(json_real_value(json_object_get(doc, "rows_per_second")), 1.23456789, 1e-12);
	json_decref(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_error_object),
		cmocka_unit_test(test_envelope),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
