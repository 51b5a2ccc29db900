/*
 * metrics.h
 *	  The Prometheus endpoint of `follow --metrics-listen`: libmicrohttpd
 *	  serves GET /metrics from its own thread, reading a snapshot that the
 *	  follow loop replaces once a second under a mutex.
 */
#ifndef PGCUTOVER_METRICS_H
#define PGCUTOVER_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "lsn.h"

typedef struct MetricsSnapshot
{
	bool		up;
	int64_t		lag_bytes;
	double		lag_seconds;	/* < 0: unknown */
	int64_t		transactions;
	int64_t		rows;
	int64_t		groups;
	Lsn			applied_lsn;
	Lsn			source_lsn;
	int64_t		slot_retained_wal_bytes;
	double		start_time;		/* epoch seconds */
} MetricsSnapshot;

typedef struct MetricsServer MetricsServer;

/*
 * Listens on "host:port" ("127.0.0.1:9187", "[::1]:9187", "localhost:9187").
 * A non-loopback address is refused unless allow_public.  NULL and *errmsg
 * on failure.
 */
/* Is listen usable (resolvable; loopback unless allow_public)?  Checked before connecting. */
bool		metrics_check_listen(const char *listen, bool allow_public, char **errmsg);
MetricsServer *metrics_start(const char *listen, bool allow_public, const char *slot, char **errmsg);
void		metrics_update(MetricsServer *ms, const MetricsSnapshot *snap);
void		metrics_stop(MetricsServer *ms);

/* The Prometheus text exposition of snap (malloc'd); pure, for tests. */
char	   *metrics_render(const MetricsSnapshot *snap, const char *slot);

#endif
