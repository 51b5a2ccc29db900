/*
 * apply.h
 *	  Applying change records to the target, exactly once and fast.
 *
 *	  Source transactions are applied in commit order; several small ones
 *	  are grouped into one target transaction, which also advances
 *	  the slot's applied position on the target (progress.h), so a group is durable with its position or
 *	  not at all.  Statements are prepared per (table, action, column set)
 *	  and sent in libpq pipeline mode.  Apply knows change records, not the
 *	  plugin that produced them.
 */
#ifndef PGCUTOVER_APPLY_H
#define PGCUTOVER_APPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "ddl.h"
#include "decoder.h"
#include "footprint.h"
#include "lsn.h"
#include "outcome.h"

typedef struct ApplyConfig
{
	const char *target_dsn;
	const char *source_dsn;		/* re-reads NaN/Infinity, checks identities */
	const char *slot;
	int			group_max_rows; /* commit a group after this many rows */
	double		group_max_seconds;	/* ... or when it is this old */
} ApplyConfig;

typedef struct ApplyTotals
{
	int64_t		txns;
	int64_t		rows;
	int64_t		groups;
	int64_t		ddl;			/* captured DDL commands replayed */
	Lsn			durable_lsn;	/* end of the last source txn committed on the
								 * target (flushed soon after: synchronous_commit
								 * is off; see follow.c TargetFlush) */
	char		last_commit_time[64];	/* source commit time of that txn */
} ApplyTotals;

typedef struct Apply Apply;

/*
 * Connects to the target and reads the durable position; NULL + *errmsg on
 * failure.  sibling: NULL, or a session whose source session this one
 * shares (a pool's).
 */
Apply	   *apply_open(const ApplyConfig *cfg, Apply *sibling, char **errmsg, Outcome *outcome);

/* The backend pid of apply's own session on the source (0: none). */
int			apply_source_pid(const Apply *a);

/* Applies B, I, U, D, T or C.  false on error (see apply_error). */
bool		apply_change(Apply *a, const Change *c);

/*
 * Replays one DDL statement at this point of the open source transaction,
 * with the source's search_path, and after_sql (may be NULL); then sets the source's value on columns
 * it added with a default computed once, re-relaxes identity columns and
 * forgets every cached table shape.  The group commits with the source
 * transaction.  false on error; a failed DDL is OUTCOME_SQL.
 */
bool		apply_ddl(Apply *a, const char *sql, const char *after_sql, const char *search_path,
					  const DdlMissing *missing, int nmissing);

/* Does the target have this table (as seen by the open group)?  false on error too. */
bool		apply_has_table(Apply *a, const char *schema, const char *table, bool *exists);

/*
 * Commits the transactions grouped before the current one when the current
 * one has changed nothing yet (before a stop at its DDL: the rerun then
 * starts at that transaction, not at the group's first).
 */
bool		apply_commit_before_current(Apply *a);

/* Is the current source transaction one that was applied before (skipped)? */
bool		apply_skipping(const Apply *a);

/*
 * From now on records the key of every row change applied (sent with each
 * group's commit) for the online verification verification_id; 0 stops.
 * Call it with no group open (after apply_flush).
 */
void		apply_track_keys(Apply *a, int64_t verification_id);

/* Commits the open group if no source transaction is half applied. */
bool		apply_flush(Apply *a);

/* Is a source transaction (or a group) open on the target? */
bool		apply_in_transaction(const Apply *a);
bool		apply_group_open(const Apply *a);

/* c's footprint, by the table's shape on this session.  false on error. */
bool		apply_footprint(Apply *a, const Change *c, Footprint *fp);

/* Rows in the open group (0: none open). */
int64_t		apply_group_rows(const Apply *a);

/*
 * Between source transactions: sends the buffered rows to the target now,
 * without waiting for their results, so that the target works on them
 * while the caller goes on.  false on error.
 */
bool		apply_send_buffered(Apply *a);

/* Forgets the cached table shapes (another session ran DDL); no group open. */
void		apply_forget_tables(Apply *a);

const ApplyTotals *apply_totals(const Apply *a);
const char *apply_error(const Apply *a);
/* OUTCOME_OK, or what the first error means (apply_error says it). */
Outcome		apply_outcome(const Apply *a);

/* Rolls back anything uncommitted and disconnects. */
void		apply_close(Apply *a);

#endif
