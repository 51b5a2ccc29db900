/*
 * cutover.h
 *	  The state the switchover, `status` and `cleanup` read and write in
 *	  schema pgcutover (sql/state.sql): the fence record, the switched-over
 *	  mark, the drain's applied position, the identity columns follow
 *	  relaxed, the follower's live state, and the reverse migration recorded
 *	  on the old source.  The statements naming those tables live in
 *	  src/state/cutover.c and nowhere else.
 */
#ifndef PGCUTOVER_CUTOVER_H
#define PGCUTOVER_CUTOVER_H

#include <stdbool.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "alloc.h"

/* What the migration row says about a switchover of its slot. */
typedef struct CutoverRecord
{
	bool		found;			/* the migration row exists */
	bool		switched_over;	/* phase is switched_over */
	bool		fenced;			/* fenced_at is set */
	bool		fenced_by_command;	/* fence_mode is "none" (--fence-command) */
	char	   *fenced_at;		/* text, NULL when not fenced */
	char	   *switched_over_at;	/* text, NULL before the switchover */
	char	   *fence_prior;	/* JSON of what the fence changed, as it was
								 * before (fence.h FencePrior); NULL if none */
} CutoverRecord;

/*
 * Reads the switchover record of slot.  False on SQL error, also when the
 * state schema does not exist (nothing is logged: the caller decides).
 */
bool		cutover_read_record(PGconn *tgt, const char *slot, CutoverRecord *rec);
void		cutover_record_free(CutoverRecord *rec);

/*
 * Records that the source is (about to be) fenced with fence_mode
 * ("default" or "none") and what the fence changes as it was before
 * (prior_json, may be NULL), or that the fence is lifted.  A killed run's
 * prior is kept when a later run takes its fence over.  False on SQL error,
 * not logged: db_error(tgt) says why.
 */
/*
 * The follower's own sessions on the source (pgcutover.follower.source_pids)
 * as an int[] literal, malloc'd; "{}" when unknown or on error.
 */
char	   *cutover_follower_source_pids(PGconn *tgt, const char *slot);

bool		cutover_record_fence(PGconn *tgt, const char *slot, const char *fence_mode,
								 const char *prior_json);
bool		cutover_record_unfence(PGconn *tgt, const char *slot);

/*
 * True once the follower has durably applied everything up to lsn (the
 * fence marker); false while not yet, and on SQL error (logged).
 */
bool		cutover_applied_reached(PGconn *tgt, const char *slot, const char *lsn);

/* What the drain waits for, as the dry run shows it. */
const char *cutover_drain_wait_description(void);

/* Marks the migration of slot switched over; false on SQL error (logged). */
bool		cutover_mark_switched_over(PGconn *tgt, const char *slot);

/* The statement cutover_mark_switched_over runs, as the dry run shows it. */
char	   *cutover_mark_switched_over_sql(const char *slot);

/*
 * --reverse: records on old_source (installing the state schema there) a
 * migration of reverse_slot that starts at start_lsn, with the copy filters
 * the forward migration (forward_slot on new_source) was made with, and the
 * forward fence's prior (JSON, or NULL), which switching back over restores.
 * False on SQL error (logged).
 */
bool		cutover_record_reverse_migration(PGconn *new_source, const char *forward_slot,
											 PGconn *old_source, const char *reverse_slot,
											 const char *start_lsn, const char *rest_fence_prior);

/*
 * The rest_fence_prior of slot's migration on tgt into *prior_json
 * (malloc'd; NULL: none, the target was not fenced by a switchover away from
 * it).  False on SQL error.
 */
bool		cutover_read_rest_fence_prior(PGconn *tgt, const char *slot, char **prior_json);

/* Forgets it once that fence is lifted; false on SQL error. */
bool		cutover_forget_rest_fence_prior(PGconn *tgt, const char *slot);

/*
 * The ALTER TABLE statements that make the identity columns follow relaxed
 * for slot GENERATED ALWAYS again, appended to *statements.  False when they
 * cannot be read, which is also the case when the state schema does not
 * exist (then nothing was relaxed); nothing is logged.
 */
bool		cutover_identity_restore_statements(PGconn *tgt, const char *slot, StrList *statements);

/* Forgets the relaxed identity columns of slot once they are restored. */
bool		cutover_forget_relaxed_identities(PGconn *tgt, const char *slot);

/* The statement that drops the whole state schema (cleanup). */
const char *cutover_drop_state_statement(void);

/*
 * The target's view of a migration for `status`: the migration row joined
 * with the applied position and the follower's live state.
 */
typedef struct CutoverProgress
{
	bool		found;			/* the migration row exists */
	char	   *phase;			/* the migration's phase */
	char	   *applied_lsn;	/* the newer of apply_progress and follower; NULL */
	int			follower_pid;	/* 0: none recorded */
	char	   *follower_phase; /* following, stopped, failed; NULL: never ran */
	bool		follower_alive; /* its advisory lock is held */
	double		lag_seconds;	/* < 0: unknown */
	double		txn_per_sec;	/* 0 when not recorded */
	double		rows_per_sec;	/* 0 when not recorded */
	char	   *last_seen;		/* follower's updated_at as text; NULL */
	char	   *last_error;		/* NULL */
	double		behind_seconds; /* since lag was last zero; 0 */
	int64_t		lag_bytes;		/* 0 when unknown */
	char	   *source_lsn;		/* the follower's last view of the source; NULL */
	double		since_seen;		/* seconds since updated_at; < 0: never */
} CutoverProgress;

/* Reads the target's view of slot's migration; false on SQL error (logged). */
bool		cutover_read_progress(PGconn *tgt, const char *slot, CutoverProgress *progress);
void		cutover_progress_free(CutoverProgress *progress);

#endif							/* PGCUTOVER_CUTOVER_H */
