/*
 * switchover_int.h
 *	  What the files of the switchover engine share, and nobody else (it is
 *	  on no other library's include path): the state of one run, and the
 *	  steps each file owns.
 *
 *	    switchover.c           the run: connections, the lag, the fence and
 *	                           the drain, aborting, the order of the steps
 *	    switchover_steps.c     the steps behind the fence (sequences, large
 *	                           objects, verify, the reverse slot, the end)
 *	                           and what they prepare before it
 *	    switchover_matviews.c  after the end: the target's materialized views
 */
#ifndef PGCUTOVER_SWITCHOVER_INT_H
#define PGCUTOVER_SWITCHOVER_INT_H

#include <stdbool.h>
#include <string.h>
#include <libpq-fe.h>

#include "compare.h"
#include "fence.h"
#include "incremental.h"
#include "options.h"
#include "outcome.h"
#include "pgbouncer.h"
#include "signals.h"
#include "switchover.h"

/* One run: its connections, what it holds, and what it reports. */
typedef struct Switchover
{
	const Options *opts;		/* the command's, or &selection once read */
	Options		selection;		/* the command's options with the copy's
								 * table filters added (only the four
								 * lists are this run's own) */
	PGconn	   *src;
	PGconn	   *tgt;
	PGconn	   *maintenance;	/* the source server's "postgres" database,
								 * opened before the fence: the fenced
								 * database refuses new sessions, even ours */
	char	   *dbname;			/* the source database */
	bool		fenced;
	bool		fenced_by_command;	/* the fence is --fence-command's (this or a killed run) */
	FencePrior	prior;			/* what the default fence changes, as it was */
	bool		have_prior;
	double		t_fence;
	char	   *reverse_slot;	/* created or reused by this run: dropped on abort */
	PgBouncerSet bouncers;		/* --pgbouncer: paused around the fence */
	ComparePair *verify_pairs;	/* verify's sessions besides src and tgt,
								 * opened before the fence */
	int			nverify_pairs;
	IncrementalInfo incremental;	/* the online verification to build on */
	bool		triggers_restored;	/* quieted triggers enabled again: an
									 * abort quiets them again, as the
									 * follower goes on */
	SwitchoverResult *result;
} Switchover;

/* A SIGINT or SIGTERM arrived: the run aborts at the next step it checks. */
static inline bool
interrupted(void)
{
	return signals_interrupts() > 0;
}

/* --fence none: the source is fenced by --fence-command, not by us. */
static inline bool
uses_fence_command(const Switchover *sw)
{
	return sw->opts->fence && strcmp(sw->opts->fence, "none") == 0;
}

/* switchover.c */
void		step_done(Switchover *sw, const char *name, double t0);
Outcome		abort_switchover(Switchover *sw, Outcome outcome, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* switchover_steps.c: before the fence */
Outcome		refuse_large_objects(Switchover *sw);
Outcome		choose_verify(Switchover *sw);
Outcome		open_verify_sessions(Switchover *sw);
Outcome		carry_large_objects(Switchover *sw, bool inside);

/* switchover_steps.c: behind the fence, steps 4 to 7 */
Outcome		sync_sequences(Switchover *sw);
Outcome		verify_fenced(Switchover *sw);
Outcome		prepare_reverse(Switchover *sw);
Outcome		finish_switchover(Switchover *sw);
void		lift_target_rest_fence(Switchover *sw);

/* switchover_matviews.c: after the end, step 8 */
void		refresh_matviews(Switchover *sw);
void		refresh_matviews_after_kill(Switchover *sw);

#endif
