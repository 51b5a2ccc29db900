/*
 * workpool.h
 *	  The one pool of worker threads: N workers run a job function over an
 *	  index space 0 .. nitems-1, each index exactly once, in order of
 *	  hand-out.  Used by copy's data phase (one index per copy job) and its
 *	  post-data stages (one index per step).
 *
 *	  Who may touch what (compare pg_dump's parallel.c):
 *	    WorkPoolSpec     copied into the pool by workpool_start; read-only
 *	                     from then on, by every thread, without a lock.
 *	    spec->arg        the caller's; the pool never looks inside.  What the
 *	                     job function changes there must have its own
 *	                     protection (a lock or atomics of the caller's).
 *	    worker state     what worker_start returns belongs to that one worker
 *	                     thread (its connections); no other thread touches it.
 *	    next item, number of running workers, first failure
 *	                     the pool's; only under the pool's mutex, inside
 *	                     workpool.c.  Callers read them through
 *	                     workpool_failed() and workpool_wait(), which take
 *	                     the mutex, so any thread may call those at any time.
 *	    threads          the thread that called workpool_start, alone, until
 *	                     workpool_finish.
 *
 *	    stopping         the pool's, under its mutex: set by workpool_wait in
 *	                     the starting thread when spec->stop_requested says so.
 *
 *	  Stopping: a worker takes no new index once any worker has failed or
 *	  the pool is stopping; it finishes the index in hand.  A job function
 *	  that runs long should poll workpool_stopping() itself.
 *
 *	  Signals: workers block SIGINT, SIGTERM and SIGCHLD, so the process's
 *	  one handler (signals.h) runs in the starting thread; stop_requested is
 *	  called only there, so the interrupt counter is never read by a worker.
 *
 *	  Thread creation is checked: when only some workers start, the pool runs
 *	  with those (and logs a warning saying how many); when none starts,
 *	  workpool_start fails and nothing runs.
 */
#ifndef PGCUTOVER_WORKPOOL_H
#define PGCUTOVER_WORKPOOL_H

#include <stdbool.h>

#include "outcome.h"

typedef struct WorkPool WorkPool;

typedef struct WorkPoolSpec
{
	const char *what;			/* names the workers in log lines */
	int			nworkers;		/* wanted; at most nitems are started */
	int			nitems;			/* the index space: 0 .. nitems-1 */
	void	   *arg;			/* passed to every callback */

	/*
	 * In each worker thread before its first index (may be NULL): sets up what
	 * the worker owns (its connections) in *worker_state.  Anything but
	 * OUTCOME_OK ends that worker and counts as the pool's failure;
	 * worker_end still runs.
	 */
	Outcome		(*worker_start) (void *arg, void **worker_state);

	/* Runs one index.  Anything but OUTCOME_OK ends the worker and fails the pool. */
	Outcome		(*run_item) (WorkPool *pool, void *arg, void *worker_state, int item);

	/* In each worker thread after its last index (may be NULL). */
	void		(*worker_end) (void *arg, void *worker_state);

	/*
	 * Polled by the starting thread in workpool_wait (may be NULL): true
	 * stops the pool (interrupts).  Never called by a worker.
	 */
	bool		(*stop_requested) (void *arg);
} WorkPoolSpec;

/*
 * Starts min(nworkers, nitems) workers.  NULL if not one thread could be
 * created (logged, naming the reason), or if there is nothing to run
 * (nitems or nworkers < 1; not logged, *started is 0 either way).
 */
WorkPool   *workpool_start(const WorkPoolSpec *spec, int *started);

/*
 * Polls spec->stop_requested, then waits up to timeout_ms for every worker
 * to end; true once they all have.  The starting thread only; call it until
 * it returns true (workpool_run does), reporting progress in between.
 */
bool		workpool_wait(WorkPool *pool, int timeout_ms);

/* Whether a worker has failed; any thread, any time. */
bool		workpool_failed(WorkPool *pool);

/* Whether workers should give up: a worker failed or the pool was stopped; any thread. */
bool		workpool_stopping(WorkPool *pool);

/* Waits for every worker, joins and frees the pool; the first failure or OUTCOME_OK. */
Outcome		workpool_finish(WorkPool *pool);

/*
 * workpool_start, workpool_wait until done, workpool_finish.  OUTCOME_BUG when no thread could be
 * created; OUTCOME_OK at once when there is nothing to run.
 */
Outcome		workpool_run(const WorkPoolSpec *spec);

#endif							/* PGCUTOVER_WORKPOOL_H */
