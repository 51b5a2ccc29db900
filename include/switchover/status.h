/*
 * status.h
 *	  One reading of a migration's state (target's pgcutover schema + the
 *	  source's slot), shared by `status` and `switchover`.
 */
#ifndef PGCUTOVER_STATUS_H
#define PGCUTOVER_STATUS_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <libpq-fe.h>

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
} Status;

/* Reads the state of slot; OUTCOME_STATE when nothing was ever started. src may be NULL. */
int			status_read(PGconn *src, PGconn *tgt, const char *slot, Status *s);
void		status_free(Status *s);

#endif
