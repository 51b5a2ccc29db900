/*
 * incremental.h
 *	  The switchover's incremental verify: after the drain, compare only
 *	  what may have changed since the newest online verification (online.h)
 *	  found both sides equal at its LSN L:
 *	    - the rows of the keys follow applied after L (changed_key);
 *	    - whole, the tables whose changes have no key to tell them by
 *	      (no key, TRUNCATE, too many keys: changed_table), the tables
 *	      someone else wrote on the target after L (target_write), and
 *	      tables the online verification did not find equal (new ones).
 *	  Its cost grows with the writes since L, not with the database.
 */
#ifndef PGCUTOVER_INCREMENTAL_H
#define PGCUTOVER_INCREMENTAL_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "compare.h"
#include "lsn.h"
#include "options.h"
#include "verify.h"

/* Changed keys of one table beyond which it is compared whole. */
#define INCREMENTAL_MAX_KEYS 100000

typedef struct IncrementalInfo
{
	bool		available;		/* an online verification to build on exists */
	const char *unavailable;	/* why not (static), when !available */
	int64_t		verification_id;
	Lsn			lsn;
	int			tables_by_key;
	int			tables_whole;
	long long	keys;			/* keys compared */
	json_t	   *whole;			/* [{table, reason}] */
} IncrementalInfo;

/*
 * Looks for the online verification to build on (tgt: a session on the
 * target; the switchover's).  false on SQL error.
 */
bool		incremental_prepare(PGconn *tgt, const char *slot, IncrementalInfo *info);

/*
 * Compares what changed since info's verification on the pairs (the source
 * fenced and drained), then the sequences, into *r.  false on SQL error or
 * interrupt (logged).
 */
bool		incremental_run(ComparePair *pairs, int npairs, PGconn *tgt, const Options *opts,
							const CompareConfig *cfg, IncrementalInfo *info, VerifyResult *r);

void		incremental_free(IncrementalInfo *info);

#endif							/* PGCUTOVER_INCREMENTAL_H */
