/*
 * status.h
 *	  One reading of a migration's state (target's pgcutover schema + the
 *	  source's slot), shared by `status` and `switchover`.
 */
#ifndef PGCUTOVER_STATUS_H
#define PGCUTOVER_STATUS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "catchup.h"
#include "outcome.h"
#include "progress.h"

/* How much lag history a reading holds (the sparkline, status --json). */
#define STATUS_HISTORY_SECONDS 600

typedef struct Status
{
	char		state[32];
	char		phase[32];
	char	   *source_lsn;
	char	   *applied_lsn;
	int64_t		lag_bytes;
	double		lag_seconds;	/* < 0: unknown */
	double		txn_per_sec;
	double		rows_per_sec;
	int			follower_pid;
	bool		follower_alive;
	char	   *last_seen;
	int64_t		retained;
	char	   *wal_status;
	bool		slot_exists;
	bool		slot_active;
	char	   *last_error;
	double		behind_seconds; /* how long lag has not been zero, 0 if caught up */
	double		since_seen;		/* seconds since the follower last wrote its state, -1 */
	json_t	   *warnings;
	bool		source_given;	/* a source was given (it may not answer) */
	bool		source_known;	/* the source answered: slot_* and wal_status
								 * are facts; else unknown, never "missing" */
	char	   *switched_over_at;	/* when state is switched_over */
	const char *next_step;		/* what the operator runs next (static) */
	json_t	   *verification;	/* the newest online verification, or NULL */
	const char *switchover_verify;	/* what a switchover would verify now:
									 * incremental or full (static) */
	LagHistory	history;		/* the last STATUS_HISTORY_SECONDS of lag, a
								 * point a second while a follower ran */
	CatchUp		catch_up;		/* caught up, catching up (ETA), falling
								 * behind, unknown */
	json_t	   *copy_progress;	/* the copy's progress (status_copy.c), or NULL */
} Status;

/*
 * Reads the state of slot into *s (always initialised: free it with
 * status_free); OUTCOME_STATE when nothing was ever started.  src may be
 * NULL: source_wanted says whether a source was given that did not answer
 * (state source_unreachable) or none was given (the slot is just unknown).
 */
Outcome		status_read(PGconn *src, PGconn *tgt, const char *slot, bool source_wanted, Status *s);
void		status_free(Status *s);

/*
 * Reads the state of slot until a live follower's lag is <= max_lag
 * (OUTCOME_OK), the slot is gone (OUTCOME_STATE) or timeout seconds passed
 * (OUTCOME_TIMEOUT; timeout <= 0 waits for ever).  On these three outcomes
 * *last holds the last reading, for the caller to report and free; on any
 * other (a failed reading) *last is empty.
 */
Outcome		status_wait_lag(PGconn *src, PGconn *tgt, const char *slot, bool source_wanted,
							double max_lag, double timeout, Status *last);

/*
 * status_copy.c: the copy's progress from the state only (tables and
 * indexes done, in progress, waiting; the copy's own estimate); NULL when
 * slot has no copy plan.  status_copy_print writes its human lines.
 */
json_t	   *status_copy_read(PGconn *tgt, const char *slot);
void		status_copy_print(const json_t *progress, FILE *out);

#endif
