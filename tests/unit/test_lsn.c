/*
 * test_lsn.c
 *	  Unit tests for WAL position parsing and printing (src/common/lsn.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lsn.h"

static void
test_parse_valid(void **state)
{
	Lsn			lsn = 0;

	(void) state;
	assert_true(lsn_parse("0/0", &lsn));
	assert_true(lsn == 0);
	assert_true(lsn_parse("16/B374D848", &lsn));
	assert_true(lsn == ((Lsn) 0x16 << 32 | 0xB374D848));
	assert_true(lsn_parse("16/b374d848", &lsn));
	assert_true(lsn == ((Lsn) 0x16 << 32 | 0xB374D848));
	assert_true(lsn_parse("FFFFFFFF/FFFFFFFF", &lsn));
	assert_true(lsn == UINT64_MAX);
	assert_true(lsn_parse("0/1", &lsn));
	assert_true(lsn == 1);
}

static void
test_parse_invalid_leaves_output(void **state)
{
	static const char *const bad[] = {
		"", "/", "0/", "/0", "0", "0/0/0", "1FFFFFFFF/0", "0/1FFFFFFFF",
		"g/0", "0/x", " 0/0", "0/0 ", "-1/0", "0x1/0", "0/+1", NULL
	};
	Lsn			lsn = 42;

	(void) state;
	assert_false(lsn_parse(NULL, &lsn));
	for (int i = 0; bad[i]; i++)
	{
		if (lsn_parse(bad[i], &lsn))
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(lsn == 42);
	}
}

static void
test_format_round_trip(void **state)
{
	static const Lsn values[] = {0, 1, 0xB374D848, (Lsn) 0x16 << 32, UINT64_MAX,
	(Lsn) 0xABCDEF01 << 32 | 0x23456789};
	char		buf[LSN_FORMAT_LEN];

	(void) state;
	assert_string_equal(lsn_format((Lsn) 0x16 << 32 | 0xB374D848, buf), "16/B374D848");
	assert_string_equal(lsn_format(0, buf), "0/0");
	assert_string_equal(lsn_format(UINT64_MAX, buf), "FFFFFFFF/FFFFFFFF");
	assert_true(strlen(buf) < LSN_FORMAT_LEN);
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
	{
		Lsn			back = 0;

		assert_true(lsn_parse(lsn_format(values[i], buf), &back));
		assert_true(back == values[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid_leaves_output),
		cmocka_unit_test(test_format_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
