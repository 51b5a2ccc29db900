/*
 * service_notify.c
 *	  The sd_notify(3) messages of a follower run by systemd with
 *	  Type=notify: readiness, a status line, watchdog keepalives, stopping.
 *	  Built without libsystemd (PGCUTOVER_HAVE_LIBSYSTEMD undefined), the
 *	  messages are dropped and service_notify_wanted() is false, so the
 *	  follower never starts the timer that would send them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef PGCUTOVER_HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "service_notify.h"
#include "units.h"

#define STATUS_PERIOD_SECONDS 1.0

#ifdef PGCUTOVER_HAVE_LIBSYSTEMD

/* Sends "<head>STATUS=<status>" with the status on one line (newlines would end it). */
static void
send_with_status(const char *head, const char *status)
{
	char		line[512];

	snprintf(line, sizeof(line), "%s", status ? status : "");
	for (char *c = line; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	sd_notifyf(0, "%sSTATUS=%s", head, line);
}

/* The watchdog timeout in seconds if systemd asks this process for keepalives, else 0. */
static double
watchdog_seconds(void)
{
	uint64_t	usec = 0;

	return sd_watchdog_enabled(0, &usec) > 0 ? usec / 1e6 : 0.0;
}

bool
service_notify_wanted(void)
{
	const char *socket = getenv("NOTIFY_SOCKET");

	return socket != NULL && socket[0] != '\0';
}

#else							/* !PGCUTOVER_HAVE_LIBSYSTEMD */

static void
send_with_status(const char *head, const char *status)
{
	(void) head;
	(void) status;
}

static double
watchdog_seconds(void)
{
	return 0.0;
}

bool
service_notify_wanted(void)
{
	return false;
}

#endif

double
service_notify_period(void)
{
	double		watchdog = watchdog_seconds();

	return watchdog > 0 && watchdog / 2 < STATUS_PERIOD_SECONDS ? watchdog / 2 : STATUS_PERIOD_SECONDS;
}

void
service_notify_ready(const char *status)
{
	send_with_status("READY=1\n", status);
}

void
service_notify_tick(const char *status)
{
	send_with_status(watchdog_seconds() > 0 ? "WATCHDOG=1\n" : "", status);
}

void
service_notify_stopping(const char *status)
{
	send_with_status("STOPPING=1\n", status);
}

void
service_notify_leaving(const char *status)
{
	send_with_status("READY=1\nSTOPPING=1\n", status);
}

char *
service_status_line(const char *slot, const ServiceProgress *p, char *buf, size_t len)
{
	char		bytes[32];
	char		seconds[32];
	char		applied[LSN_FORMAT_LEN];

	format_bytes(p->lag_bytes, bytes, sizeof(bytes));
	if (p->lag_seconds >= 0)
		format_duration(p->lag_seconds, seconds, sizeof(seconds));
	else
		snprintf(seconds, sizeof(seconds), "time unknown");
	snprintf(buf, len, "following slot %s: %s, lag %s, %s; %.0f txn/s; applied %s",
			 slot, p->caught_up ? "caught up" : "behind", bytes, seconds,
			 p->txn_per_sec, lsn_format(p->applied_lsn, applied));
	return buf;
}
