/*
 * test_lo_sync.c
 *	  Unit tests for the large objects' pure rules (src/source/lo_sync.c):
 *	  the merge of a pass (new, changed, unchanged, gone, by OID) and the
 *	  census's limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lo_sync.h"

static LargeObjectPrint
print(uint32_t loid, const char *fingerprint)
{
	LargeObjectPrint p = {.loid = loid, .bytes = 1};

	snprintf(p.fingerprint, sizeof(p.fingerprint), "%s", fingerprint);
	return p;
}

static void
test_plan_pass(void **state)
{
	/* 5 new, 7 unchanged, 9 changed, 11 gone, 4294967295 new (OIDs are unsigned) */
	LargeObjectPrint src[] = {print(5, "a/-"), print(7, "b/-"), print(9, "c/x"), print(4294967295u, "d/-")};
	LargeObjectPrint tgt[] = {print(7, "b/-"), print(9, "c/-"), print(11, "e/-")};
	LargeObjectPrintList source = {src, 4},
				target = {tgt, 3};
	LargeObjectPrint move[4];
	uint32_t	gone[3];
	int			nmove,
				ngone;
	LargeObjectSyncResult r = {0};

	(void) state;
	lo_plan_pass(&source, &target, move, &nmove, gone, &ngone, &r);
	assert_int_equal(nmove, 3);
	assert_int_equal(move[0].loid, 5);
	assert_int_equal(move[1].loid, 9);
	assert_string_equal(move[1].fingerprint, "c/x");
	assert_int_equal(move[2].loid, 4294967295u);
	assert_int_equal(ngone, 1);
	assert_int_equal(gone[0], 11);
	assert_int_equal(r.created, 2);
	assert_int_equal(r.changed, 1);
	assert_int_equal(r.deleted, 1);
}

static void
test_plan_pass_empty_sides(void **state)
{
	LargeObjectPrint src[] = {print(1, "a/-"), print(2, "b/-")};
	LargeObjectPrint lost[] = {print(1, ""), print(2, "b/-")};
	LargeObjectPrintList source = {src, 2},
				none = {NULL, 0},
				target_lost = {lost, 2};
	LargeObjectPrint move[2];
	uint32_t	gone[2];
	int			nmove,
				ngone;
	LargeObjectSyncResult r = {0};

	(void) state;
	/* the copy: everything is new */
	lo_plan_pass(&source, &none, move, &nmove, gone, &ngone, &r);
	assert_int_equal(nmove, 2);
	assert_int_equal(r.created, 2);
	/* all gone from the source */
	memset(&r, 0, sizeof(r));
	lo_plan_pass(&none, &source, move, &nmove, gone, &ngone, &r);
	assert_int_equal(nmove, 0);
	assert_int_equal(ngone, 2);
	assert_int_equal(r.deleted, 2);
	/* one the target lost (empty fingerprint) is written again */
	memset(&r, 0, sizeof(r));
	lo_plan_pass(&source, &target_lost, move, &nmove, gone, &ngone, &r);
	assert_int_equal(nmove, 1);
	assert_int_equal(move[0].loid, 1);
	assert_int_equal(r.changed, 1);
}

static void
test_census_refusal(void **state)
{
	LargeObjectCensus within = {.count = LO_MAX_OBJECTS, .stored_bytes = LO_MAX_STORED_BYTES};
	LargeObjectCensus many = {.count = LO_MAX_OBJECTS + 1, .stored_bytes = 8192};
	LargeObjectCensus big = {.count = 3, .stored_bytes = LO_MAX_STORED_BYTES + 1};
	LargeObjectCensus unreadable = {.count = 3, .stored_bytes = 8192, .unreadable = 2};
	const char *fix = NULL;
	char	   *why;

	(void) state;
	assert_null(lo_census_refusal(&within, &fix));
	why = lo_census_refusal(&many, &fix);
	assert_non_null(strstr(why, "50001 large object(s)"));
	assert_non_null(strstr(fix, "bytea"));
	free(why);
	why = lo_census_refusal(&big, &fix);
	assert_non_null(strstr(why, "at most 50000 objects and 512"));
	free(why);
	fix = NULL;
	why = lo_census_refusal(&unreadable, &fix);
	assert_non_null(strstr(why, "2 of the source's 3 large object(s) cannot be read"));
	assert_non_null(strstr(fix, "GRANT SELECT ON LARGE OBJECT"));
	free(why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_pass),
		cmocka_unit_test(test_plan_pass_empty_sides),
		cmocka_unit_test(test_census_refusal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
