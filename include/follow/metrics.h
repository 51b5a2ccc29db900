/*
 * metrics.h
 *	  The Prometheus endpoint of `follow --metrics-listen` and `migrate
 *	  --metrics-listen`: libmicrohttpd serves GET /metrics from its own
 *	  thread, rendering a board of follower snapshots.  Each follow loop
 *	  replaces its entry once a second (and when it reconnects) under the
 *	  entry's lock.
 *
 *	  The board lives in shared memory, so that the follower processes
 *	  migrate forks after making it write into the entries the parent's one
 *	  endpoint serves: one scrape target for every database, told apart by
 *	  the labels `slot` and `database`.  Its locks are robust: a follower
 *	  killed while writing cannot block the endpoint.
 */
#ifndef PGCUTOVER_METRICS_H
#define PGCUTOVER_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "lsn.h"

/* What the follower of an entry is doing (pgcutover_phase, a state set). */
typedef enum MetricsPhase
{
	METRICS_STARTING,			/* not following yet (migrate: copying, starting) */
	METRICS_FOLLOWING,
	METRICS_RECONNECTING,		/* lost a connection, retrying */
	METRICS_STOPPING,			/* told to stop, finishing the open transaction */
	METRICS_STOPPED				/* the follower exited */
} MetricsPhase;

#define METRICS_PHASES 5

typedef struct MetricsSnapshot
{
	bool		up;
	MetricsPhase phase;
	int64_t		lag_bytes;
	double		lag_seconds;	/* < 0: unknown */
	int64_t		transactions;
	int64_t		rows;
	int64_t		groups;
	Lsn			applied_lsn;
	Lsn			source_lsn;
	int64_t		slot_retained_wal_bytes;
	double		start_time;		/* epoch seconds */
	double		last_commit_time;	/* source commit time of the newest
									 * applied transaction, epoch; <= 0: unknown */
	int64_t		errors;			/* failures: lost connections, failed attempts,
								 * apply and state-write errors */
	int64_t		reconnects;		/* reconnections scheduled after a failure */
} MetricsSnapshot;

/* The labels of an entry. */
typedef struct MetricsLabels
{
	char		slot[128];
	char		database[128];
} MetricsLabels;

typedef struct MetricsBoard MetricsBoard;
typedef struct MetricsServer MetricsServer;

/* A board of entries (phase starting, down), shared with processes forked later. */
MetricsBoard *metrics_board_create(int entries);
void		metrics_board_set_labels(MetricsBoard *board, int entry, const char *slot, const char *database);
void		metrics_board_update(MetricsBoard *board, int entry, const MetricsSnapshot *snap);
/* Sets an entry's phase (up only while following); migrate: a follower exited. */
void		metrics_board_set_phase(MetricsBoard *board, int entry, MetricsPhase phase);
void		metrics_board_destroy(MetricsBoard *board);
/* metrics_render of a consistent copy of every entry (what GET /metrics answers). */
char	   *metrics_board_render(MetricsBoard *board);

/*
 * Is listen usable (resolvable; loopback unless allow_public)?  Checked
 * before connecting.  "host:port": "127.0.0.1:9187", "[::1]:9187",
 * "localhost:9187".
 */
bool		metrics_check_listen(const char *listen, bool allow_public, char **errmsg);

/*
 * Serves board on listen.  A non-loopback address is refused unless
 * allow_public.  NULL and *errmsg on failure.
 */
MetricsServer *metrics_start(const char *listen, bool allow_public, MetricsBoard *board, char **errmsg);
void		metrics_stop(MetricsServer *ms);

/*
 * The Prometheus text exposition of n entries (malloc'd): every family's
 * HELP and TYPE once, then its sample for each entry.  Pure, for tests.
 */
char	   *metrics_render(const MetricsSnapshot *snaps, const MetricsLabels *labels, int n);

#endif
