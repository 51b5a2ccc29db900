/*
 * lo_sync.h
 *	  The source's large objects and how they reach the target.  Logical
 *	  decoding does not carry them (pg_largeobject is a catalog), so they are
 *	  moved in passes: a pass reads every object's fingerprint (md5 of its
 *	  data and of its comment) on the source, compares them with what the
 *	  target holds (pgcutover.large_object, state/lo_state.h), writes the
 *	  objects that are new or changed (same OID, data, comment) and unlinks
 *	  on the target those gone from the source.  copy runs one pass in its
 *	  snapshot; the switchover one before the fence and one inside it.
 *
 *	  A pass reads every byte of every large object on the source, so the
 *	  one inside the fence costs write downtime: a source with more than
 *	  LO_MAX_OBJECTS objects or more than LO_MAX_STORED_BYTES in
 *	  pg_largeobject is refused by `check` (and by copy and the switchover,
 *	  before any slot or fence): see docs/limitations.md.
 */
#ifndef PGCUTOVER_LO_SYNC_H
#define PGCUTOVER_LO_SYNC_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "lo_state.h"

/*
 * The limits: on a 2-core test machine the pass inside the fence took 1.7 s
 * for 100,000 small objects and 3.8 s for 1.4 GB of pg_largeobject, so at
 * most about 3 s of write downtime.  `check` warns past a quarter of either.
 */
#define LO_MAX_OBJECTS			50000
#define LO_MAX_STORED_BYTES		(INT64_C(512) << 20)	/* of pg_largeobject */

/* What `check` and the switchover look at before anything moves. */
typedef struct LargeObjectCensus
{
	int64_t		count;			/* rows of pg_largeobject_metadata */
	int64_t		stored_bytes;	/* pg_total_relation_size of pg_largeobject */
	int64_t		unreadable;		/* objects this role cannot lo_get */
} LargeObjectCensus;

/* Reads the census on the source; false on SQL error (logged). */
bool		lo_census(PGconn *src, LargeObjectCensus *census);

/*
 * Why the census is refused (one line, malloc'd) with *fix set to what to
 * do (static), or NULL when the switchover can move them.
 */
char	   *lo_census_refusal(const LargeObjectCensus *census, const char **fix);

/* What one pass did. */
typedef struct LargeObjectSyncResult
{
	int64_t		objects;		/* on the source */
	int64_t		source_bytes;	/* their data, in all */
	int			created;		/* new on the target */
	int			changed;		/* rewritten: data or comment differed */
	int			deleted;		/* unlinked on the target: gone from the
								 * source */
	int64_t		bytes_moved;
	double		seconds;
} LargeObjectSyncResult;

/*
 * The merge of a pass (pure): of the source's and the target's prints, both
 * by ascending OID, the source objects not on the target or with another
 * fingerprint go to move (room for source->count; counted created or
 * changed in *result), the target's gone from the source to gone (room for
 * target->count; counted deleted).
 */
void		lo_plan_pass(const LargeObjectPrintList *source, const LargeObjectPrintList *target,
						 LargeObjectPrint *move, int *nmove, uint32_t *gone, int *ngone,
						 LargeObjectSyncResult *result);

/*
 * One pass for slot.  Reads the source in one snapshot: src's open
 * transaction if it has one (copy's exported snapshot), else a REPEATABLE
 * READ transaction of its own, ended before returning.  Each batch of
 * objects is written on the target in one transaction with its
 * fingerprints.  With dry_run it prints what it would do and changes
 * nothing.  False on error (logged) or when *interrupted becomes non-zero.
 */
bool		lo_sync(PGconn *src, PGconn *tgt, const char *slot, bool dry_run,
					volatile sig_atomic_t *interrupted, LargeObjectSyncResult *result);

#endif							/* PGCUTOVER_LO_SYNC_H */
