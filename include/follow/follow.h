/*
 * follow.h
 *	  The follow engine: streams the slot of a migration, decodes, applies
 *	  to the target exactly once, and keeps going through lost connections
 *	  until told to stop (a signal, --until-caught-up, --endpos, switchover).
 *	  It reports an Outcome and what it applied; the command line prints it.
 */
#ifndef PGCUTOVER_FOLLOW_H
#define PGCUTOVER_FOLLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "lsn.h"
#include "metrics.h"
#include "options.h"
#include "outcome.h"

typedef struct FollowResult
{
	bool		applied_known;	/* apply was connected at the end: the fields below are set */
	Lsn			applied_lsn;	/* durably applied position */
	int64_t		transactions;	/* applied by this run */
	int64_t		rows;
	int64_t		groups;
	int64_t		ddl_replayed;
	int			apply_jobs;		/* target sessions opened (up to --apply-jobs) */
	int64_t		apply_conflicts;	/* ranges committed early for a later one */
	double		seconds;		/* the run's duration */
	char	   *error;			/* apply's error on failure (malloc'd), or NULL */
} FollowResult;

/*
 * Follows the migration of opts->slot.  opts is only read.  *result is
 * always filled (release it with follow_result_free).
 */
Outcome		follow_run(const Options *opts, FollowResult *result);

/*
 * follow_run publishing its metrics into entry of board, which another
 * process serves (migrate: one endpoint for every database's follower).
 */
Outcome		follow_run_into(const Options *opts, MetricsBoard *board, int entry, FollowResult *result);
void		follow_result_free(FollowResult *result);

#endif							/* PGCUTOVER_FOLLOW_H */
