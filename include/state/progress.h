/*
 * progress.h
 *	  What follow and apply keep in schema pgcutover on the target while
 *	  they run: the applied position of a slot (apply_progress), the stop
 *	  on a captured DDL, the follower's published row (follower) and its
 *	  second-by-second lag history (lag_history), and the
 *	  schema's helper functions apply calls (identity relaxing, DDL defaults).
 *
 *	  The progress_send_* functions only send their statement (libpq pipeline
 *	  mode): the caller reads the result with the rest of its pipeline, so the
 *	  statement is part of the caller's open transaction.  Apply relies on it:
 *	  the applied position commits with the rows, or not at all.
 */
#ifndef PGCUTOVER_PROGRESS_H
#define PGCUTOVER_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "catchup.h"
#include "lsn.h"

/* The durable position of a slot, as apply_progress records it. */
typedef struct AppliedPosition
{
	Lsn			applied_lsn;	/* end of the last source transaction applied */
	char		commit_time[64];	/* its source commit time, "" if unknown */
} AppliedPosition;

/*
 * Creates the slot's apply_progress row at the copy's consistent LSN unless
 * it exists; false on SQL error.
 */
bool		progress_ensure_row(PGconn *tgt, const char *slot);

/* Reads the slot's applied position; false on SQL error or when there is no row. */
bool		progress_read_applied(PGconn *tgt, const char *slot, AppliedPosition *pos);

/*
 * The applied position, or the copy's consistent LSN before anything was
 * applied; INVALID_LSN when neither is known (or on error).
 */
Lsn			progress_applied_or_consistent(PGconn *tgt, const char *slot);

/*
 * Sends (pipeline mode, no wait) the UPDATE that advances the applied
 * position of slot to end_lsn and adds txns and rows to its totals.
 * commit_time may be NULL.  false if libpq could not queue it.
 */
bool		progress_send_advance(PGconn *tgt, const char *slot, Lsn end_lsn,
								  const char *commit_time, int64_t txns, int64_t rows);

/* Sends (no wait) pgcutover.relax_identity(slot); false if not queued. */
bool		progress_send_relax_identity(PGconn *tgt, const char *slot);

/*
 * Runs pgcutover.relax_identity(slot) now: the number of identity columns
 * made BY DEFAULT, or -1 on SQL error.
 */
int			progress_relax_identity(PGconn *tgt, const char *slot);

/*
 * Sends (no wait) the statement that sets column's source value on the
 * rows that existed before a replayed ADD COLUMN; false if not queued.
 */
bool		progress_send_ddl_fix_missing(PGconn *tgt, const char *schema, const char *table,
										  const char *column, const char *source_value);

/* Where follow stopped on a captured DDL; *found false if it did not.  false on SQL error. */
bool		progress_read_ddl_stop(PGconn *tgt, const char *slot, Lsn *stop_lsn, bool *found);

/* Records a stop on the captured DDL at stop_lsn; false on SQL error. */
bool		progress_record_ddl_stop(PGconn *tgt, const char *slot, Lsn stop_lsn);

/*
 * A follower (re)starts: migration phase copied -> following, and the
 * follower row's lag becomes unknown until its first reading (the last
 * run's would let `status --wait-lag` pass a follower that has a backlog
 * to catch up).  false on SQL error.
 */
bool		progress_mark_following(PGconn *tgt, const char *slot);

/* Has the migration of slot been switched over?  false on error too (quiet). */
bool		progress_switched_over(PGconn *tgt, const char *slot);

/* The follower's row, rewritten about once a second. */
typedef struct FollowerRow
{
	const char *slot;
	int			pid;
	double		started_epoch;	/* seconds */
	const char *phase;			/* following, stopped, failed */
	Lsn			applied_lsn;
	Lsn			source_lsn;		/* INVALID_LSN: unknown */
	int64_t		lag_bytes;
	double		lag_seconds;	/* < 0: unknown */
	int64_t		txns;
	int64_t		rows;
	double		txn_per_sec;
	double		rows_per_sec;
	int64_t		slot_retained_wal_bytes;
	const char *wal_status;		/* NULL: unknown */
	bool		heartbeat;
	double		behind_since_epoch; /* 0: caught up */
	const char *last_error;		/* NULL: keep the last one unless following */
	const char *source_pids;	/* int[] literal of the follower's backend
								 * pids on the source, NULL: none */
} FollowerRow;

/*
 * Upserts the follower's row and, while following, adds a second to the
 * slot's lag history (pruned to the last hour once a minute): one
 * statement.  false on error (the caller reads PQerrorMessage).
 */
bool		progress_publish_follower(PGconn *tgt, const FollowerRow *row);

/* The lag history of a slot over a recent window, oldest first. */
typedef struct LagHistory
{
	LagPoint   *points;			/* malloc'd, NULL when empty */
	size_t		count;
	double		now;			/* the target's clock when read (epoch seconds), 0 when empty */
} LagHistory;

/*
 * Reads the last window_seconds of slot's lag history (empty on a schema
 * from before lag_history).  false on SQL error (logged as a warning).
 * Free with progress_free_lag_history.
 */
bool		progress_read_lag_history(PGconn *tgt, const char *slot, double window_seconds, LagHistory *h);
void		progress_free_lag_history(LagHistory *h);

#endif							/* PGCUTOVER_PROGRESS_H */
