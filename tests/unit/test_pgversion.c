/*
 * test_pgversion.c
 *	  Unit tests for the version-dependent choices (src/common/pgversion.c):
 *	  the pg_logical_emit_message signature a GRANT names, and which
 *	  installed pg_dump suits a source and target pair.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pgversion.h"

static void
test_emit_message_signature(void **state)
{
	(void) state;
	assert_string_equal(emit_message_signature(13),
						"pg_catalog.pg_logical_emit_message(boolean, text, text)");
	assert_string_equal(emit_message_signature(16),
						"pg_catalog.pg_logical_emit_message(boolean, text, text)");
	/* PostgreSQL 17 added "flush" */
	assert_string_equal(emit_message_signature(17),
						"pg_catalog.pg_logical_emit_message(boolean, text, text, boolean)");
	assert_string_equal(emit_message_signature(18),
						"pg_catalog.pg_logical_emit_message(boolean, text, text, boolean)");
}

static void
test_pg_dump_prefers_target(void **state)
{
	int			installed[] = {18, 13, 15, 17};

	(void) state;
	/* the target's own version when installed */
	assert_int_equal(pg_dump_choose_major(installed, 4, 13, 15), 15);
	assert_int_equal(pg_dump_choose_major(installed, 4, 15, 15), 15);
	assert_int_equal(pg_dump_choose_major(installed, 4, 13, 18), 18);
	assert_int_equal(pg_dump_choose_major(installed, 4, 13, 13), 13);
	/* else the highest between source and target: never newer than the target */
	assert_int_equal(pg_dump_choose_major(installed, 4, 13, 16), 15);
	assert_int_equal(pg_dump_choose_major(installed, 4, 14, 16), 15);
}

static void
test_pg_dump_none_fits(void **state)
{
	int			installed[] = {17, 18};
	int			old[] = {13};

	(void) state;
	/* only newer than the target: would emit SET transaction_timeout */
	assert_int_equal(pg_dump_choose_major(installed, 2, 15, 15), 0);
	/* only older than the source: pg_dump refuses a newer server */
	assert_int_equal(pg_dump_choose_major(old, 1, 15, 18), 0);
	/* nothing installed */
	assert_int_equal(pg_dump_choose_major(NULL, 0, 15, 15), 0);
	/* a downgrade has no fitting version */
	assert_int_equal(pg_dump_choose_major(installed, 2, 18, 17), 0);
}

static void
test_min_supported(void **state)
{
	(void) state;
	assert_int_equal(PG_MIN_SUPPORTED_MAJOR, 13);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emit_message_signature),
		cmocka_unit_test(test_pg_dump_prefers_target),
		cmocka_unit_test(test_pg_dump_none_fits),
		cmocka_unit_test(test_min_supported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
