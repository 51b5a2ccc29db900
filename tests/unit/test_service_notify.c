/*
 * test_service_notify.c
 *	  Unit tests for the follower's systemd status line and notification
 *	  period (src/follow/service_notify.c).  The messages themselves are
 *	  tested against a real socket in tests/scenario/systemd_unit.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "service_notify.h"

static void
test_status_line_caught_up(void **state)
{
	ServiceProgress p = {0, 0.0004, true, 12.4, 0x3A61B2C8};
	char		buf[256];

	(void) state;
	assert_string_equal(service_status_line("pgcutover", &p, buf, sizeof(buf)),
						"following slot pgcutover: caught up, lag 0 B, 0.4 ms; 12 txn/s; applied 0/3A61B2C8");
}

static void
test_status_line_behind(void **state)
{
	ServiceProgress p = {1572864, 18.84, false, 950, ((Lsn) 0x16 << 32) | 0xB374D848};
	char		buf[256];

	(void) state;
	assert_string_equal(service_status_line("app", &p, buf, sizeof(buf)),
						"following slot app: behind, lag 1.5 MB, 18.8 s; 950 txn/s; applied 16/B374D848");
}

static void
test_status_line_seconds_unknown(void **state)
{
	ServiceProgress p = {2048, -1, false, 0, 0x100};
	char		buf[256];

	(void) state;
	assert_string_equal(service_status_line("app", &p, buf, sizeof(buf)),
						"following slot app: behind, lag 2.0 kB, time unknown; 0 txn/s; applied 0/100");
}

static void
test_status_line_truncates(void **state)
{
	ServiceProgress p = {0, 0, true, 0, 0};
	char		buf[16];

	(void) state;
	assert_int_equal(strlen(service_status_line("app", &p, buf, sizeof(buf))), sizeof(buf) - 1);
}

/* once a second, or twice per watchdog timeout when that is shorter than 2 s */
static void
test_period(void **state)
{
	(void) state;
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
	assert_float_equal(service_notify_period(), 1.0, 1e-9);
#ifdef PGCUTOVER_HAVE_LIBSYSTEMD
	setenv("WATCHDOG_USEC", "60000000", 1);
	assert_float_equal(service_notify_period(), 1.0, 1e-9);
	setenv("WATCHDOG_USEC", "1000000", 1);
	assert_float_equal(service_notify_period(), 0.5, 1e-9);
	setenv("WATCHDOG_PID", "1", 1);	/* another process's watchdog */
	assert_float_equal(service_notify_period(), 1.0, 1e-9);
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
#endif
}

static void
test_wanted(void **state)
{
	(void) state;
	unsetenv("NOTIFY_SOCKET");
	assert_false(service_notify_wanted());
	setenv("NOTIFY_SOCKET", "", 1);
	assert_false(service_notify_wanted());
#ifdef PGCUTOVER_HAVE_LIBSYSTEMD
	setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
	assert_true(service_notify_wanted());
#endif
	unsetenv("NOTIFY_SOCKET");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_line_caught_up),
		cmocka_unit_test(test_status_line_behind),
		cmocka_unit_test(test_status_line_seconds_unknown),
		cmocka_unit_test(test_status_line_truncates),
		cmocka_unit_test(test_period),
		cmocka_unit_test(test_wanted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
