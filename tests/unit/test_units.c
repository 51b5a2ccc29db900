/*
 * test_units.c
 *	  Unit tests for sizes, durations and timestamps (src/common/units.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "units.h"

static void
test_parse_duration_units(void **state)
{
	double		s = -1;

	(void) state;
	assert_true(parse_duration("500ms", 1, &s));
	assert_float_equal(s, 0.5, 1e-9);
	assert_true(parse_duration("5min", 1, &s));
	assert_float_equal(s, 300, 1e-9);
	assert_true(parse_duration("2h", 1, &s));
	assert_float_equal(s, 7200, 1e-9);
	assert_true(parse_duration("1d", 1, &s));
	assert_float_equal(s, 86400, 1e-9);
	assert_true(parse_duration("250us", 1, &s));
	assert_float_equal(s, 0.00025, 1e-12);
	assert_true(parse_duration("1.5s", 1, &s));
	assert_float_equal(s, 1.5, 1e-9);
	assert_true(parse_duration("30", 1, &s));
	assert_float_equal(s, 30, 1e-9);
	assert_true(parse_duration("30", 1e-3, &s));
	assert_float_equal(s, 0.03, 1e-12);
	assert_true(parse_duration("0.5", 1, &s));
	assert_float_equal(s, 0.5, 1e-9);
}

static void
test_parse_duration_rejects(void **state)
{
	static const char *const bad[] = {
		"", "ms", "-1", "-1s", "5 minutes", "5m", "5MIN", "1s2", "nan", "inf", "1e999", "x", NULL
	};
	double		s = 42;

	(void) state;
	for (int i = 0; bad[i]; i++)
	{
		assert_false(parse_duration(bad[i], 1, &s));
		assert_float_equal(s, 42, 0);
	}
	assert_false(parse_duration(NULL, 1, &s));
}

static void
test_format_duration(void **state)
{
	char		b[32];

	(void) state;
	assert_string_equal(format_duration(0.0008, b, sizeof(b)), "0.8 ms");
	assert_string_equal(format_duration(0.412, b, sizeof(b)), "412 ms");
	assert_string_equal(format_duration(18.84, b, sizeof(b)), "18.8 s");
	assert_string_equal(format_duration(245, b, sizeof(b)), "4 min 05 s");
	assert_string_equal(format_duration(7500, b, sizeof(b)), "2 h 05 min");
	assert_string_equal(format_duration(3 * 86400 + 4 * 3600 + 5, b, sizeof(b)), "3 d 04 h");
	assert_string_equal(format_duration(-1, b, sizeof(b)), "-");
}

static void
test_format_bytes_and_rate(void **state)
{
	char		b[32];

	(void) state;
	assert_string_equal(format_bytes(1023, b, sizeof(b)), "1023 B");
	assert_string_equal(format_bytes(1536, b, sizeof(b)), "1.5 kB");
	assert_string_equal(format_bytes(1572864, b, sizeof(b)), "1.5 MB");
	assert_string_equal(format_rate(19188019.2, b, sizeof(b)), "18.3 MB/s");
	assert_string_equal(format_rate(-3, b, sizeof(b)), "0 B/s");
}

static void
test_parse_size(void **state)
{
	int64_t		v = 0;

	(void) state;
	assert_true(parse_size("16MB", &v));
	assert_true(v == 16 * 1024 * 1024);
	assert_true(parse_size("1gb", &v));
	assert_true(v == 1024LL * 1024 * 1024);
	assert_false(parse_size("16XB", &v));
	assert_false(parse_size("-1", &v));
}

static void
test_rfc3339_and_round(void **state)
{
	char		b[40];

	(void) state;
	assert_string_equal(format_rfc3339(0, b, sizeof(b)), "1970-01-01T00:00:00.000Z");
	assert_string_equal(format_rfc3339(1796032711.1234, b, sizeof(b)), "2026-11-30T09:58:31.123Z");
	assert_float_equal(round_ms(12.3456), 12.3, 1e-9);
	assert_float_equal(round_ms(0.05), 0.1, 1e-9);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_duration_units),
		cmocka_unit_test(test_parse_duration_rejects),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_format_bytes_and_rate),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_rfc3339_and_round),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
