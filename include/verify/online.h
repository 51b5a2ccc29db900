/*
 * online.h
 *	  `verify --online`: source and target compared at one LSN while follow
 *	  runs and the source takes writes.
 *
 *	  The source side is a temporary logical slot's exported snapshot, which
 *	  shows exactly the transactions that end at or before the slot's
 *	  consistent point L.  The target side is a snapshot the follower exports
 *	  once it has applied exactly those transactions (its half of the
 *	  protocol is src/follow/verify_barrier.c, the row they share
 *	  include/state/verification.h).  Every session of the comparison
 *	  imports one of the two snapshots, so the comparison may take as long as
 *	  it likes: the follower stood still only while the slot was created.
 *
 *	  From L on the follower records the key of every row it applies, and
 *	  writes on the target by anyone else are noted by a trigger: the
 *	  switchover's incremental verify (incremental.h) compares just those.
 */
#ifndef PGCUTOVER_ONLINE_H
#define PGCUTOVER_ONLINE_H

#include <stdint.h>

#include "compare.h"
#include "lsn.h"
#include "options.h"
#include "outcome.h"
#include "verify.h"

typedef struct OnlineVerification
{
	int64_t		id;				/* the verification's row on the target */
	Lsn			lsn;			/* both sides are compared as of this LSN */
	double		pause_ms;		/* how long the follower stood still */
	double		snapshot_ms;	/* request to both snapshots imported */
	int			triggers_added; /* target-write triggers put on tables */
} OnlineVerification;

/*
 * Runs an online verification of opts->slot's migration on opts->jobs
 * session pairs and records it on the target.  OUTCOME_OK when it ran (the
 * verdicts are in *r; differences are not an error here), else what
 * stopped it (logged, one line with the fix): OUTCOME_STATE when no
 * follower runs, OUTCOME_TIMEOUT when the follower did not answer,
 * OUTCOME_PREFLIGHT when the source cannot give a temporary slot.
 */
Outcome		verify_online(const Options *opts, const CompareConfig *cfg, VerifyResult *r,
						  OnlineVerification *info);

#endif							/* PGCUTOVER_ONLINE_H */
