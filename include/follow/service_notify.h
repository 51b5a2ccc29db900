/*
 * service_notify.h
 *	  What the follower tells systemd when it runs as a Type=notify service
 *	  (docs/pgcutover@.service): READY=1 once the stream runs, a one-line
 *	  STATUS= that `systemctl status` shows (lag in human units, txn/s),
 *	  WATCHDOG=1 keepalives from the event loop, STOPPING=1 on the way out.
 *
 *	  Every call is a no-op when the process was not started by systemd (no
 *	  $NOTIFY_SOCKET) or pgcutover was built without libsystemd.
 */
#ifndef PGCUTOVER_SERVICE_NOTIFY_H
#define PGCUTOVER_SERVICE_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lsn.h"

/* What one status line says about a streaming follower. */
typedef struct ServiceProgress
{
	int64_t		lag_bytes;
	double		lag_seconds;	/* < 0: unknown */
	bool		caught_up;
	double		txn_per_sec;
	Lsn			applied_lsn;
} ServiceProgress;

/* Is anyone listening (built with libsystemd and $NOTIFY_SOCKET set)? */
bool		service_notify_wanted(void);

/*
 * Seconds between two service_notify_tick calls: 1, or less when the
 * watchdog timeout asks for a keepalive more often (half of it).
 */
double		service_notify_period(void);

/* The stream runs: READY=1 with a first status line. */
void		service_notify_ready(const char *status);

/* Once a period from the event loop: STATUS=status, and WATCHDOG=1 if asked for. */
void		service_notify_tick(const char *status);

/* A stop was asked for (a signal): STOPPING=1, STATUS=status. */
void		service_notify_stopping(const char *status);

/*
 * The follower is about to exit, for whatever reason: READY=1 (again, or
 * for the first time: systemd fails a Type=notify service that exits 0
 * without ever saying READY=1, result 'protocol', and Restart=on-failure
 * would then restart a follower that had nothing to do), STOPPING=1 and
 * STATUS=status.
 */
void		service_notify_leaving(const char *status);

/*
 * The status line of a streaming follower, e.g.
 * "following slot app: behind, lag 1.5 MB, 2.3 s; 120 txn/s; applied 0/3000060"
 * (pure, for tests).
 */
char	   *service_status_line(const char *slot, const ServiceProgress *p, char *buf, size_t len);

#endif							/* PGCUTOVER_SERVICE_NOTIFY_H */
