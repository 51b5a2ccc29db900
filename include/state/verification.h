/*
 * verification.h
 *	  The verifications of a migration in schema pgcutover on the target
 *	  (sql/state.sql): the row each `verify --online` writes, which is also
 *	  its protocol with the running follower; the keys follow applied after
 *	  an online verification (changed_key, changed_table); the writes others
 *	  made on the target (target_write) and the triggers that note them.
 *
 *	  Who writes which state of a verification row:
 *	    verifier   requested, lsn_known, imported, done, failed
 *	    follower   holding, exported, passed (it had gone past the LSN),
 *	               and failed when it gives up waiting
 *	  Every change is followed by NOTIFY VERIFICATION_CHANNEL in the same
 *	  transaction; both sides also re-read the row on their own.
 */
#ifndef PGCUTOVER_VERIFICATION_H
#define PGCUTOVER_VERIFICATION_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "alloc.h"
#include "lsn.h"

#define VERIFICATION_CHANNEL "pgcutover_verify"

/* An online verification as the follower and the verifier see it. */
typedef struct VerificationRow
{
	int64_t		id;				/* 0: none */
	char		state[16];		/* requested, lsn_known, exported, ... */
	Lsn			lsn;			/* INVALID_LSN until lsn_known */
	char		target_snapshot[64];	/* exported snapshot name, "" if none */
	double		pause_ms;		/* < 0: not known yet */
	bool		ok;				/* done: did it match? */
	bool		finished;		/* done or failed */
} VerificationRow;

/*
 * The newest online verification of slot that is not finished (requested,
 * holding, lsn_known, exported, imported, comparing); row->id is 0 when
 * there is none.  false on SQL error.
 */
bool		verification_read_pending(PGconn *tgt, const char *slot, VerificationRow *row);

/* Reads verification id; false on SQL error or when there is no such row. */
bool		verification_read(PGconn *tgt, int64_t id, VerificationRow *row);

/*
 * The newest online verification of slot whose target snapshot was
 * exported: the one whose changed keys follow records (whatever became of
 * it afterwards).  row->id 0: none.
 */
bool		verification_read_tracked(PGconn *tgt, const char *slot, VerificationRow *row);

/* Adds to *tables the tables verification id found equal (qualified names). */
bool		verification_verdict_tables(PGconn *tgt, int64_t id, StrList *tables);

/*
 * Moves verification id from state 'from' (NULL: any unfinished state) to
 * 'to' and notifies; *moved says whether the row was in 'from'.  false on
 * SQL error.
 */
bool		verification_move(PGconn *tgt, int64_t id, const char *from, const char *to, bool *moved);

/* Starts a verification of slot in mode (online: state requested); its id in *id. */
bool		verification_begin(PGconn *tgt, const char *slot, const char *mode, int64_t *id);

/*
 * Starts an online verification of slot already at lsn (state lsn_known):
 * the follower exports there, or answers 'passed' when it is past it.
 */
bool		verification_begin_at(PGconn *tgt, const char *slot, Lsn lsn, int64_t *id);

/* lsn_known: the verifier's source snapshot shows lsn. */
bool		verification_set_lsn(PGconn *tgt, int64_t id, Lsn lsn);

/*
 * exported: the follower's snapshot at the lsn (its name, and its
 * pg_current_snapshot() for telling later target writes), and how long it
 * stood still.
 */
bool		verification_set_exported(PGconn *tgt, int64_t id, const char *snapshot,
									  const char *pg_snapshot, double pause_ms);

/*
 * Records the target's table shapes (pgcutover.table_shapes()) as the
 * session snapshot, inside the verification's target snapshot, sees them.
 */
bool		verification_record_shapes(PGconn *snapshot, PGconn *tgt, int64_t id);

/* done (ok or not) or failed (error non-NULL), with the verdicts (JSON text, may be NULL). */
bool		verification_finish(PGconn *tgt, int64_t id, bool ok, const char *error,
								int tables_checked, int mismatches, int64_t rows_compared,
								const char *verdicts_json);

/*
 * Sends (pipeline mode, no wait: part of the caller's transaction) the
 * INSERT of a group's changed keys: keys_json is a JSON array of
 * [schema, table, {key}] triples.  false if libpq could not queue it.
 */
bool		verification_send_keys(PGconn *tgt, int64_t id, const char *keys_json);

/* Likewise: the table must be compared whole (reason: "truncated", ...). */
bool		verification_send_changed_table(PGconn *tgt, int64_t id, const char *schema,
											const char *table, const char *reason);

/*
 * Puts the target-write trigger on each of tables (quoted qualified names;
 * missing ones are skipped), one table a transaction; how many were new in
 * *added.  false on SQL error.
 */
bool		verification_watch_target_writes(PGconn *tgt, const StrList *tables, int *added);

/* Takes the triggers off again (switchover, cleanup); -1 on SQL error. */
int			verification_unwatch_target_writes(PGconn *tgt);

/*
 * What changed after verification id: per table (schema, table) either
 * the keys (JSON array text, at most max_keys of them) or a reason to
 * compare the table whole ("truncated", "no key", "written on the target",
 * its shape changed on the target, "more than N changed keys").  Columns of the result: nspname, relname,
 * keys (NULL when whole), reason (NULL when keys), nkeys.
 * NULL on SQL error.
 */
PGresult   *verification_changes(PGconn *tgt, int64_t id, int max_keys);

/*
 * The newest online verification of slot, for `status`: {id, state, lsn,
 * ok, mismatches, rows_compared, pause_ms, finished_at, seconds_ago,
 * error}; NULL when there is none (or on error).
 */
json_t	   *verification_latest_json(PGconn *tgt, const char *slot);

#endif							/* PGCUTOVER_VERIFICATION_H */
