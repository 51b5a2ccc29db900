/*
 * copy_post.c
 *	  Post-data phase of `copy`: the steps planned from pg_dump's post-data
 *	  section, run in stages so dependencies hold: 1 indexes and keys, 2 index
 *	  attach, 3 foreign keys (stages 1-3 with --index-jobs connections in
 *	  parallel), 4 everything else in dump order.  Each step commits with its
 *	  'done' mark, so a rerun runs only what is missing.  Index builds get a
 *	  large maintenance_work_mem, which pg_restore does not ask for.
 */
#include <stdlib.h>
#include <string.h>

#include "copy.h"
#include "copy_jobs.h"
#include "log.h"
#include "outcome.h"
#include "pgconn.h"
#include "state.h"
#include "workpool.h"

#define DEADLOCK_RETRIES 5

/*
 * What the step workers of one stage share; all of it is read-only while
 * the pool runs (the pool hands each step index to one worker).
 */
typedef struct PostShared
{
	CopyContext *ctx;
	const char *preamble;		/* the dump's session settings, NULL if none */
	PostStepList stage;
} PostShared;

static PGconn *
connect_for_steps(const PostShared *sh)
{
	char	   *err = NULL;
	PGconn	   *conn = db_connect(sh->ctx->opts->target, "target", CONN_NORMAL, &err);

	if (conn == NULL)
	{
		log_error("%s", err);
		free(err);
		return NULL;
	}
	if ((sh->preamble && !db_exec(conn, sh->preamble)) ||
		!db_exec(conn, "SET maintenance_work_mem = '512MB'; SET synchronous_commit = off"))
	{
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* Runs one step and its 'done' mark in one transaction, retrying deadlocks. */
static bool
run_step(const PostShared *sh, PGconn *conn, const PostStep *s)
{
	for (int attempt = 0; attempt < DEADLOCK_RETRIES; attempt++)
	{
		double		t0 = now_seconds();
		PGresult   *res;
		const char *state;
		bool		ok;

		if (!db_exec(conn, "BEGIN"))
			return false;
		res = PQexec(conn, s->sql);
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
		if (!ok)
		{
			bool		retry = state && strcmp(state, "40P01") == 0;
			char	   *e = db_error(conn);

			PQclear(res);
			PQclear(PQexec(conn, "ROLLBACK"));
			if (retry)
			{
				log_warn("deadlock on %s %s, retrying", s->kind, s->name);
				free(e);
				continue;
			}
			log_error("post-data step %s \"%s\" failed on the target: %s; fix: correct the cause and rerun copy (done steps are kept)",
					  s->kind, s->name, e);
			free(e);
			return false;
		}
		PQclear(res);
		/* the 'done' mark commits with the step's DDL */
		ok = post_step_mark_done(conn, sh->ctx->slot, s->step, now_seconds() - t0) &&
			db_exec(conn, "COMMIT");
		if (ok)
			log_debug("%s %s: %.2f s", s->kind, s->name, now_seconds() - t0);
		return ok;
	}
	return false;
}

/* WorkPoolSpec.worker_start: the worker's own target connection. */
static Outcome
step_worker_start(void *arg, void **worker_state)
{
	PGconn	   *conn = connect_for_steps(arg);

	*worker_state = conn;
	return conn ? OUTCOME_OK : OUTCOME_CONNECTION;
}

/* WorkPoolSpec.run_item: one post-data step. */
static Outcome
step_run_item(WorkPool *pool, void *arg, void *worker_state, int item)
{
	const PostShared *sh = arg;

	(void) pool;
	return run_step(sh, worker_state, &sh->stage.steps[item]) ? OUTCOME_OK : OUTCOME_SQL;
}

static void
step_worker_end(void *arg, void *worker_state)
{
	(void) arg;
	PQfinish(worker_state);
}

/* WorkPoolSpec.stop_requested: in the starting thread, which alone reads the interrupt counter. */
static bool
step_stop_requested(void *arg)
{
	const PostShared *sh = arg;

	return *sh->ctx->interrupted;
}

/*
 * Runs the steps of one stage left to do with up to nworkers connections
 * (never more than there are steps).
 */
static int
run_stage(PostShared *sh, int stage, int nworkers)
{
	WorkPoolSpec spec = {
		.what = "post-data worker",
		.arg = sh,
		.worker_start = step_worker_start,
		.run_item = step_run_item,
		.worker_end = step_worker_end,
		.stop_requested = step_stop_requested,
	};
	Outcome		rc;

	if (!post_steps_load_stage(sh->ctx->tgt, sh->ctx->slot, stage, &sh->stage))
		return OUTCOME_SQL;
	if (nworkers > sh->stage.count)
		nworkers = sh->stage.count;
	spec.nitems = sh->stage.count;
	spec.nworkers = nworkers;
	if (sh->stage.count > 0)
		log_info("post-data stage %d: %d step(s), %d connection(s)", stage, sh->stage.count, nworkers);
	rc = workpool_run(&spec);
	sh->ctx->stats.post_steps += sh->stage.count;
	post_step_list_free(&sh->stage);
	if (*sh->ctx->interrupted)
		return OUTCOME_INTERRUPTED;
	return rc;
}

int
copy_post_run(CopyContext *ctx)
{
	PostShared	sh = {.ctx = ctx};
	char	   *preamble = NULL;
	double		t0 = now_seconds();
	int			rc = OUTCOME_OK;

	if (!state_phase_begin(ctx->tgt, ctx->slot, "copy_post") ||
		!post_steps_load_preamble(ctx->tgt, ctx->slot, &preamble))
		return OUTCOME_SQL;
	sh.preamble = preamble;
	ctx->stats.post_steps = 0;
	for (int stage = 1; stage <= 4 && rc == OUTCOME_OK; stage++)
		rc = run_stage(&sh, stage, stage == 4 ? 1 : ctx->opts->index_jobs);
	free(preamble);
	ctx->stats.seconds_post = now_seconds() - t0;
	if (rc == OUTCOME_OK && !state_phase_end(ctx->tgt, ctx->slot, "copy_post"))
		rc = OUTCOME_SQL;
	return rc;
}

int
copy_sequences_run(CopyContext *ctx)
{
	if (!copy_sequences_apply(ctx->tgt, ctx->slot, &ctx->stats.sequences))
		return OUTCOME_SQL;
	return OUTCOME_OK;
}
