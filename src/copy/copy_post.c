/*
 * copy_post.c
 *	  Post-data phase of `copy`: the steps planned from pg_dump's post-data
 *	  section, run in stages so dependencies hold: 1 indexes and keys, 2 index
 *	  attach, 3 foreign keys (stages 1-3 with --index-jobs connections in
 *	  parallel), 4 everything else in dump order (REFRESH MATERIALIZED VIEW
 *	  too: pg_dump orders them by dependency).  Then the triggers that would
 *	  fire on apply are quieted.  Each step commits with its
 *	  'done' mark, so a rerun runs only what is missing.  Index builds get a
 *	  large maintenance_work_mem, which pg_restore does not ask for.
 *
 *	  Progress: a step is marked running in the state before it starts (for
 *	  `status`); the leader shows the steps in flight (copy_progress.h) and
 *	  stamps the stage's progress into the state once a second.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "copy.h"
#include "copy_jobs.h"
#include "copy_progress.h"
#include "log.h"
#include "outcome.h"
#include "pgconn.h"
#include "state.h"
#include "strbuf.h"
#include "triggers.h"
#include "units.h"
#include "workpool.h"

#define DEADLOCK_RETRIES 5

static const char *const stage_names[] = {"", "indexes and keys", "index attach", "foreign keys", "triggers and the rest"};

/*
 * What the step workers of one stage share; ctx, preamble and stage are
 * read-only while the pool runs (the pool hands each step index to one
 * worker); each worker writes only its own slot of board, under its lock.
 */
typedef struct PostShared
{
	CopyContext *ctx;
	const char *preamble;		/* the dump's session settings, NULL if none */
	PostStepList stage;
	ProgressBoard board;
} PostShared;

/* One step worker's own connection and progress slot. */
typedef struct PostWorker
{
	PGconn	   *conn;
	ProgressSlot *slot;
} PostWorker;

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
	PostShared *sh = arg;
	PostWorker *w = pg_malloc0(sizeof(PostWorker));

	*worker_state = w;
	w->slot = progress_board_claim(&sh->board);
	w->conn = connect_for_steps(sh);
	return w->conn ? OUTCOME_OK : OUTCOME_CONNECTION;
}

/* WorkPoolSpec.run_item: one post-data step. */
static Outcome
step_run_item(WorkPool *pool, void *arg, void *worker_state, int item)
{
	PostShared *sh = arg;
	PostWorker *w = worker_state;
	const PostStep *step = &sh->stage.steps[item];
	bool		ok;

	(void) pool;
	progress_slot_begin(w->slot, item, 0);
	ok = post_step_mark_running(w->conn, sh->ctx->slot, step->step) && run_step(sh, w->conn, step);
	progress_slot_end(w->slot, ok, 0, 0);
	return ok ? OUTCOME_OK : OUTCOME_SQL;
}

static void
step_worker_end(void *arg, void *worker_state)
{
	PostWorker *w = worker_state;

	(void) arg;
	if (w == NULL)
		return;
	PQfinish(w->conn);
	free(w);
}

/* WorkPoolSpec.stop_requested: in the starting thread, which alone reads the interrupt counter. */
static bool
step_stop_requested(void *arg)
{
	const PostShared *sh = arg;

	return *sh->ctx->interrupted;
}

/* The live line (and log line) of the steps in flight, and the state's stamp once a second. */
static void
show_steps(PostShared *sh, int stage, ProgressDisplay *display, double t0, bool publish)
{
	ProgressReading r;
	StrBuf		line,
				logline;
	char		took[32];
	json_t	   *detail;
	char	   *text;

	progress_board_read(&sh->board, &r);
	format_duration(now_seconds() - t0, took, sizeof(took));
	strbuf_init(&line);
	strbuf_init(&logline);
	strbuf_printf(&line, "post-data %d/4 %s: %lld/%d done, %s | ", stage, stage_names[stage],
				  (long long) r.done_items, sh->stage.count, took);
	strbuf_printf(&logline, "copy post-data stage %d/4 (%s): %lld of %d steps done in %s; in flight: %s",
				  stage, stage_names[stage], (long long) r.done_items, sh->stage.count, took,
				  r.nflight ? "" : "none");
	for (int i = 0; i < r.nflight; i++)
	{
		const PostStep *s = &sh->stage.steps[r.flight[i].item];

		format_duration(r.flight[i].seconds, took, sizeof(took));
		strbuf_printf(&line, "%s%s %s", i ? ", " : "", s->name, took);
		strbuf_printf(&logline, "%s%s %s (%s)", i ? ", " : "", s->kind, s->name, took);
	}
	progress_show(display, line.data, logline.data, false);
	if (publish)
	{
		detail = json_pack("{s:s, s:i, s:s, s:I, s:i}", "stage", "post_data", "post_stage", stage,
						   "post_stage_name", stage_names[stage], "steps_done", (json_int_t) r.done_items,
						   "steps", sh->stage.count);
		text = json_dumps(detail, JSON_COMPACT);
		(void) copy_progress_publish(sh->ctx->tgt, sh->ctx->slot, "copy_post", NULL, 0, text);
		free(text);
		json_decref(detail);
	}
	strbuf_free(&line);
	strbuf_free(&logline);
	progress_reading_free(&r);
}

/*
 * Runs the steps of one stage left to do with up to nworkers connections
 * (never more than there are steps), showing them while they run.
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
	ProgressDisplay display;
	WorkPool   *pool;
	int			started;
	double		t0 = now_seconds();
	double		last_publish = 0;
	Outcome		rc = OUTCOME_OK;

	if (!post_steps_load_stage(sh->ctx->tgt, sh->ctx->slot, stage, &sh->stage))
		return OUTCOME_SQL;
	if (nworkers > sh->stage.count)
		nworkers = sh->stage.count;
	spec.nitems = sh->stage.count;
	spec.nworkers = nworkers;
	if (sh->stage.count > 0)
		log_info("post-data stage %d: %d step(s), %d connection(s)", stage, sh->stage.count, nworkers);
	progress_board_init(&sh->board, nworkers);
	progress_display_init(&display, sh->ctx->opts);
	if ((pool = workpool_start(&spec, &started)) != NULL)
	{
		while (!workpool_wait(pool, 200))
		{
			bool		publish = now_seconds() - last_publish >= 1;

			show_steps(sh, stage, &display, t0, publish);
			if (publish)
				last_publish = now_seconds();
		}
		progress_clear(&display);
		rc = workpool_finish(pool);
	}
	else if (nworkers >= 1 && sh->stage.count >= 1)
		rc = OUTCOME_BUG;
	sh->ctx->stats.post_steps += sh->stage.count;
	progress_board_free(&sh->board);
	post_step_list_free(&sh->stage);
	if (*sh->ctx->interrupted)
		return OUTCOME_INTERRUPTED;
	return rc;
}

/*
 * The dump's triggers and rules set ENABLE ALWAYS or ENABLE REPLICA would
 * fire on the rows follow applies (its replica role stops only the others):
 * disabled now, recorded for switchover and cleanup (state/triggers.h).
 */
static int
quiet_triggers(CopyContext *ctx)
{
	int			quieted = triggers_quiet(ctx->tgt, ctx->slot);

	if (quieted < 0)
		return OUTCOME_SQL;
	if (quieted > 0)
		log_info("%d ENABLE ALWAYS/REPLICA trigger(s) and rule(s) are disabled on the target while it follows (they would fire on every applied row); switchover and cleanup enable them again",
				 quieted);
	return OUTCOME_OK;
}

int
copy_post_run(CopyContext *ctx)
{
	PostShared	sh = {.ctx = ctx};
	char	   *preamble = NULL;
	double		t0 = now_seconds();
	int			rc = OUTCOME_OK;

	if (!state_phase_begin(ctx->tgt, ctx->slot, "copy_post") ||
		!post_steps_reset_running(ctx->tgt, ctx->slot) ||
		!post_steps_load_preamble(ctx->tgt, ctx->slot, &preamble))
		return OUTCOME_SQL;
	sh.preamble = preamble;
	ctx->stats.post_steps = 0;
	log_info("copy stage 3/4, indexes and constraints: the post-data steps in 4 stages, up to %d at once",
			 ctx->opts->index_jobs);
	for (int stage = 1; stage <= 4 && rc == OUTCOME_OK; stage++)
		rc = run_stage(&sh, stage, stage == 4 ? 1 : ctx->opts->index_jobs);
	free(preamble);
	if (rc != OUTCOME_OK)
		(void) post_steps_reset_running(ctx->tgt, ctx->slot);	/* status: not in progress */
	else
		rc = quiet_triggers(ctx);
	ctx->stats.seconds_post = now_seconds() - t0;
	if (rc == OUTCOME_OK && !state_phase_end(ctx->tgt, ctx->slot, "copy_post"))
		rc = OUTCOME_SQL;
	return rc;
}

int
copy_sequences_run(CopyContext *ctx)
{
	log_info("copy stage 4/4, sequences: setting them to their values in the snapshot");
	if (!copy_sequences_apply(ctx->tgt, ctx->slot, &ctx->stats.sequences))
		return OUTCOME_SQL;
	return OUTCOME_OK;
}
