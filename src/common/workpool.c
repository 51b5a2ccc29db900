/*
 * workpool.c
 *	  The worker thread pool (pthreads): hands out the indexes of an index
 *	  space to N workers under one mutex, records the first failure, and
 *	  tells the caller when every worker has ended.  See workpool.h for which
 *	  fields each side may touch.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "log.h"
#include "workpool.h"

struct WorkPool
{
	WorkPoolSpec spec;			/* read-only once the first worker runs */

	/* the starting thread's alone */
	pthread_t  *threads;
	int			nthreads;

	pthread_mutex_t lock;
	pthread_cond_t ended;		/* signalled when running drops to 0 */
	/* under lock */
	int			next_item;
	int			running;
	Outcome		failure;		/* the first failure, OUTCOME_OK if none */
	bool		stopping;		/* the starting thread saw stop_requested */
};

/* Records a failure; the first one wins.  Caller holds no lock. */
static void
record_failure(WorkPool *pool, Outcome failure)
{
	pthread_mutex_lock(&pool->lock);
	if (pool->failure == OUTCOME_OK)
		pool->failure = failure;
	pthread_mutex_unlock(&pool->lock);
}

/* The next index to run, or -1 when there is none or the pool stops. */
static int
take_item(WorkPool *pool)
{
	int			item = -1;

	pthread_mutex_lock(&pool->lock);
	if (!pool->stopping && pool->failure == OUTCOME_OK && pool->next_item < pool->spec.nitems)
		item = pool->next_item++;
	pthread_mutex_unlock(&pool->lock);
	return item;
}

static void *
worker_main(void *p)
{
	WorkPool   *pool = p;
	void	   *worker_state = NULL;
	Outcome		rc = OUTCOME_OK;

	if (pool->spec.worker_start)
		rc = pool->spec.worker_start(pool->spec.arg, &worker_state);
	while (rc == OUTCOME_OK)
	{
		int			item = take_item(pool);

		if (item < 0)
			break;
		rc = pool->spec.run_item(pool, pool->spec.arg, worker_state, item);
	}
	if (rc != OUTCOME_OK)
		record_failure(pool, rc);
	if (pool->spec.worker_end)
		pool->spec.worker_end(pool->spec.arg, worker_state);

	pthread_mutex_lock(&pool->lock);
	if (--pool->running == 0)
		pthread_cond_broadcast(&pool->ended);
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

WorkPool *
workpool_start(const WorkPoolSpec *spec, int *started)
{
	WorkPool   *pool;
	int			wanted = spec->nworkers < spec->nitems ? spec->nworkers : spec->nitems;
	int			create_errno = 0;
	sigset_t	interrupts,
				saved_mask;

	*started = 0;
	if (wanted < 1)
		return NULL;
	pool = pg_malloc0(sizeof(WorkPool));
	pool->spec = *spec;
	pool->threads = pg_malloc0(sizeof(pthread_t) * wanted);
	pool->failure = OUTCOME_OK;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->ended, NULL);

	/*
	 * Workers inherit a mask blocking the interrupt signals: the handler then
	 * runs in the starting thread, the only one that polls the interrupt
	 * counter (through stop_requested), and relays it to the workers.
	 */
	sigemptyset(&interrupts);
	sigaddset(&interrupts, SIGINT);
	sigaddset(&interrupts, SIGTERM);
	sigaddset(&interrupts, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &interrupts, &saved_mask);
	for (int i = 0; i < wanted; i++)
	{
		/* count the worker before it runs, so that running never drops to 0 early */
		pthread_mutex_lock(&pool->lock);
		pool->running++;
		pthread_mutex_unlock(&pool->lock);
		create_errno = pthread_create(&pool->threads[i], NULL, worker_main, pool);
		if (create_errno != 0)
		{
			pthread_mutex_lock(&pool->lock);
			pool->running--;
			pthread_mutex_unlock(&pool->lock);
			break;
		}
		pool->nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);

	if (pool->nthreads == 0)
	{
		log_error("cannot start any of %d %s threads: %s; fix: raise the limit on processes/threads (ulimit -u) or free memory, then rerun",
				  wanted, spec->what, strerror(create_errno));
		pthread_cond_destroy(&pool->ended);
		pthread_mutex_destroy(&pool->lock);
		free(pool->threads);
		free(pool);
		return NULL;
	}
	if (pool->nthreads < wanted)
		log_warn("started only %d of %d %s threads (%s); continuing with %d",
				 pool->nthreads, wanted, spec->what, strerror(create_errno), pool->nthreads);
	*started = pool->nthreads;
	return pool;
}

bool
workpool_wait(WorkPool *pool, int timeout_ms)
{
	struct timespec deadline;
	bool		all_ended;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L)
	{
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	bool		stop = pool->spec.stop_requested && pool->spec.stop_requested(pool->spec.arg);

	pthread_mutex_lock(&pool->lock);
	if (stop)
		pool->stopping = true;
	while (pool->running > 0)
	{
		if (pthread_cond_timedwait(&pool->ended, &pool->lock, &deadline) == ETIMEDOUT)
			break;
	}
	all_ended = pool->running == 0;
	pthread_mutex_unlock(&pool->lock);
	return all_ended;
}

bool
workpool_failed(WorkPool *pool)
{
	bool		failed;

	pthread_mutex_lock(&pool->lock);
	failed = pool->failure != OUTCOME_OK;
	pthread_mutex_unlock(&pool->lock);
	return failed;
}

bool
workpool_stopping(WorkPool *pool)
{
	bool		stopping;

	pthread_mutex_lock(&pool->lock);
	stopping = pool->stopping || pool->failure != OUTCOME_OK;
	pthread_mutex_unlock(&pool->lock);
	return stopping;
}

Outcome
workpool_finish(WorkPool *pool)
{
	Outcome		failure;

	for (int i = 0; i < pool->nthreads; i++)
		pthread_join(pool->threads[i], NULL);
	/* every worker has ended: nobody else holds the lock any more */
	failure = pool->failure;
	pthread_cond_destroy(&pool->ended);
	pthread_mutex_destroy(&pool->lock);
	free(pool->threads);
	free(pool);
	return failure;
}

Outcome
workpool_run(const WorkPoolSpec *spec)
{
	int			started;
	WorkPool   *pool = workpool_start(spec, &started);

	if (pool == NULL)
		return spec->nworkers >= 1 && spec->nitems >= 1 ? OUTCOME_BUG : OUTCOME_OK;
	while (!workpool_wait(pool, 100))
		;
	return workpool_finish(pool);
}
