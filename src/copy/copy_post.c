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
 *	  Stage 1 starts with the data (IndexBuilder, copy.h): a table's
 *	  indexes and keys are built as soon as its last copy job has committed,
 *	  while the data workers copy other tables, so the last table's build
 *	  is all that follows the data.  A step whose table it cannot name, or
 *	  whose table has no job in this run (a partitioned parent, a leaf
 *	  loaded through its root, a table an earlier run copied), waits for the
 *	  end of the data.  Naming the wrong table could only cost time: an
 *	  index built before its rows are in is still exact.
 *
 *	  Progress: a step is marked running in the state before it starts (for
 *	  `status`); the leader shows the steps in flight (copy_progress.h) and
 *	  stamps the stage's progress into the state once a second.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* Shows the steps of a running stage until its workers have ended; their outcome. */
static int
watch_stage(PostShared *sh, int stage, WorkPool *pool, double t0)
{
	ProgressDisplay display;
	double		last_publish = 0;

	progress_display_init(&display, sh->ctx->opts);
	while (!workpool_wait(pool, 200))
	{
		bool		publish = now_seconds() - last_publish >= 1;

		show_steps(sh, stage, &display, t0, publish);
		if (publish)
			last_publish = now_seconds();
	}
	progress_clear(&display);
	return workpool_finish(pool);
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
	WorkPool   *pool;
	int			started;
	double		t0 = now_seconds();
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
	if ((pool = workpool_start(&spec, &started)) != NULL)
		rc = watch_stage(sh, stage, pool, t0);
	else if (nworkers >= 1 && sh->stage.count >= 1)
		rc = OUTCOME_BUG;
	sh->ctx->stats.post_steps += sh->stage.count;
	progress_board_free(&sh->board);
	post_step_list_free(&sh->stage);
	if (*sh->ctx->interrupted)
		return OUTCOME_INTERRUPTED;
	return rc;
}

/* --- stage 1 while the data is copied ------------------------------------- */

static const char *
skip_space(const char *p)
{
	while (isspace((unsigned char) *p))
		p++;
	return p;
}

/* One identifier as pg_dump prints it, "quoted" (a quote doubled inside) or plain, unquoted into *out. */
static const char *
parse_ident(const char *p, char **out)
{
	StrBuf		b;

	strbuf_init(&b);
	if (*p == '"')
	{
		for (p++; !(p[0] == '"' && p[1] != '"'); p += p[0] == '"' ? 2 : 1)
		{
			if (*p == '\0')
			{
				strbuf_free(&b);
				return NULL;
			}
			strbuf_append_len(&b, p, 1);
		}
		p++;
	}
	else
	{
		const char *start = p;

		while (isalnum((unsigned char) *p) || *p == '_' || *p == '$' || (unsigned char) *p >= 0x80)
			p++;
		strbuf_append_len(&b, start, (size_t) (p - start));
	}
	if (b.len == 0)
	{
		strbuf_free(&b);
		return NULL;
	}
	*out = b.data;
	return p;
}

/* Consumes word (a keyword and the blanks after it) if p starts with it. */
static bool
take_word(const char **p, const char *word)
{
	size_t		len = strlen(word);

	if (strncmp(*p, word, len) != 0 || !isspace((unsigned char) (*p)[len]))
		return false;
	*p = skip_space(*p + len);
	return true;
}

bool
post_step_table(const char *sql, char **nspname, char **relname)
{
	const char *p = skip_space(sql);
	char	   *index = NULL;
	char	   *nsp = NULL;
	char	   *rel = NULL;
	bool		found = false;

	/* pg_dump's comment lines and one-line SETs (default_tablespace, ...) */
	while (strncmp(p, "--", 2) == 0 || strncmp(p, "SET ", 4) == 0)
	{
		const char *eol = strchr(p, '\n');

		p = eol ? skip_space(eol + 1) : p + strlen(p);
	}
	if (take_word(&p, "CREATE"))
	{
		(void) take_word(&p, "UNIQUE");
		found = take_word(&p, "INDEX") && (p = parse_ident(p, &index)) != NULL &&
			isspace((unsigned char) *p) && (p = skip_space(p), take_word(&p, "ON"));
		if (found)
			(void) take_word(&p, "ONLY");
	}
	else if (take_word(&p, "ALTER") && take_word(&p, "TABLE"))
	{
		(void) take_word(&p, "ONLY");
		found = true;
	}
	found = found && (p = parse_ident(p, &nsp)) != NULL && *p++ == '.' &&
		(p = parse_ident(p, &rel)) != NULL && (*p == '\0' || isspace((unsigned char) *p));
	free(index);
	if (!found)
	{
		free(nsp);
		free(rel);
		return false;
	}
	*nspname = nsp;
	*relname = rel;
	return true;
}

/*
 * The builder: stage 1's steps, a pool of step workers that each take the
 * first step whose table is ready (its jobs of this run are all done, or
 * every table's are), and waits for one otherwise.  ctx, the steps and
 * their tables are read-only while the pool runs; what changes (the jobs
 * left per table, which steps are taken, whether the data is in) is under
 * lock; each worker writes only its own board slot.
 */
struct IndexBuilder
{
	PostShared	sh;				/* stage 1; its board has a slot per worker */
	char	   *preamble;
	int			ntables;
	char	  **nspnames;		/* the tables of this run's jobs */
	char	  **relnames;
	int		   *jobs_left;		/* per table; under lock */
	int		   *step_table;		/* per step: its table, or -1 (waits for the data) */
	bool	   *taken;			/* per step; under lock */
	bool		data_in;		/* under lock */
	bool		abandon;		/* under lock: start no more steps */
	pthread_mutex_t lock;
	pthread_cond_t changed;
	WorkPool   *pool;
	int			nworkers;
	double		t0;
};

static int
builder_find_table(const IndexBuilder *b, const char *nspname, const char *relname)
{
	for (int t = 0; t < b->ntables; t++)
		if (strcmp(b->nspnames[t], nspname) == 0 && strcmp(b->relnames[t], relname) == 0)
			return t;
	return -1;
}

/* A step whose table is ready and nobody took, or -1; under lock. */
static int
builder_next_ready(IndexBuilder *b)
{
	for (int i = 0; i < b->sh.stage.count; i++)
		if (!b->taken[i] && (b->data_in || (b->step_table[i] >= 0 && b->jobs_left[b->step_table[i]] == 0)))
			return i;
	return -1;
}

/* WorkPoolSpec.worker_start: a board slot; the connection waits for the first step. */
static Outcome
builder_worker_start(void *arg, void **worker_state)
{
	IndexBuilder *b = arg;
	PostWorker *w = pg_malloc0(sizeof(PostWorker));

	*worker_state = w;
	w->slot = progress_board_claim(&b->sh.board);
	return OUTCOME_OK;
}

/* WorkPoolSpec.run_item: the next step whose table is ready, waiting for one. */
static Outcome
builder_run_item(WorkPool *pool, void *arg, void *worker_state, int item)
{
	IndexBuilder *b = arg;
	PostWorker *w = worker_state;
	int			step = -1;
	bool		ok;

	(void) item;				/* any ready step, not this one: each index is one step */
	pthread_mutex_lock(&b->lock);
	while (!b->abandon && !workpool_stopping(pool) && (step = builder_next_ready(b)) < 0)
	{
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 200 * 1000 * 1000;
		if (until.tv_nsec >= 1000 * 1000 * 1000)
		{
			until.tv_sec++;
			until.tv_nsec -= 1000 * 1000 * 1000;
		}
		(void) pthread_cond_timedwait(&b->changed, &b->lock, &until);
	}
	if (step >= 0)
		b->taken[step] = true;
	pthread_mutex_unlock(&b->lock);
	if (step < 0)
		return OUTCOME_INTERRUPTED; /* ends the pool: the rest is left for the rerun */
	if (w->conn == NULL && (w->conn = connect_for_steps(&b->sh)) == NULL)
		return OUTCOME_CONNECTION;
	progress_slot_begin(w->slot, step, 0);
	ok = post_step_mark_running(w->conn, b->sh.ctx->slot, b->sh.stage.steps[step].step) &&
		run_step(&b->sh, w->conn, &b->sh.stage.steps[step]);
	progress_slot_end(w->slot, ok, 0, 0);
	return ok ? OUTCOME_OK : OUTCOME_SQL;
}

/* WorkPoolSpec.stop_requested */
static bool
builder_stop_requested(void *arg)
{
	const IndexBuilder *b = arg;

	return *b->sh.ctx->interrupted;
}

static void
builder_free(IndexBuilder *b)
{
	for (int t = 0; t < b->ntables; t++)
	{
		free(b->nspnames[t]);
		free(b->relnames[t]);
	}
	free(b->nspnames);
	free(b->relnames);
	free(b->jobs_left);
	free(b->step_table);
	free(b->taken);
	free(b->preamble);
	progress_board_free(&b->sh.board);
	post_step_list_free(&b->sh.stage);
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->changed);
	free(b);
}

int
index_builder_start(CopyContext *ctx, const CopyJobList *pending)
{
	IndexBuilder *b = pg_malloc0(sizeof(IndexBuilder));
	WorkPoolSpec spec = {
		.what = "index builder",
		.arg = b,
		.worker_start = builder_worker_start,
		.run_item = builder_run_item,
		.worker_end = step_worker_end,
		.stop_requested = builder_stop_requested,
	};
	int			started;
	int			early = 0;

	ctx->indexes = NULL;
	b->sh.ctx = ctx;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->changed, NULL);
	if (!post_steps_reset_running(ctx->tgt, ctx->slot) ||
		!post_steps_load_preamble(ctx->tgt, ctx->slot, &b->preamble) ||
		!post_steps_load_stage(ctx->tgt, ctx->slot, 1, &b->sh.stage))
	{
		builder_free(b);
		return OUTCOME_SQL;
	}
	b->sh.preamble = b->preamble;
	b->nspnames = pg_malloc0(sizeof(char *) * (pending->count + 1));
	b->relnames = pg_malloc0(sizeof(char *) * (pending->count + 1));
	b->jobs_left = pg_malloc0(sizeof(int) * (pending->count + 1));
	for (int i = 0; i < pending->count; i++)
	{
		int			t = builder_find_table(b, pending->jobs[i].nspname, pending->jobs[i].relname);

		if (t < 0)
		{
			t = b->ntables++;
			b->nspnames[t] = pg_strdup(pending->jobs[i].nspname);
			b->relnames[t] = pg_strdup(pending->jobs[i].relname);
		}
		b->jobs_left[t]++;
	}
	b->step_table = pg_malloc0(sizeof(int) * (b->sh.stage.count + 1));
	b->taken = pg_malloc0(sizeof(bool) * (b->sh.stage.count + 1));
	for (int i = 0; i < b->sh.stage.count; i++)
	{
		char	   *nsp,
				   *rel;

		b->step_table[i] = -1;
		if (post_step_table(b->sh.stage.steps[i].sql, &nsp, &rel))
		{
			b->step_table[i] = builder_find_table(b, nsp, rel);
			free(nsp);
			free(rel);
		}
		early += b->step_table[i] >= 0;
	}
	b->nworkers = ctx->opts->index_jobs < b->sh.stage.count ? ctx->opts->index_jobs : b->sh.stage.count;
	if (b->sh.stage.count == 0 || b->nworkers < 1)
	{
		builder_free(b);
		return OUTCOME_OK;		/* nothing to build: stage 1 of copy_post finds nothing either */
	}
	progress_board_init(&b->sh.board, b->nworkers);
	spec.nitems = b->sh.stage.count;
	spec.nworkers = b->nworkers;
	b->t0 = now_seconds();
	if ((b->pool = workpool_start(&spec, &started)) == NULL)
	{
		builder_free(b);
		return OUTCOME_BUG;
	}
	log_info("indexes and keys: %d step(s) on up to %d connection(s), %d of them as soon as their table's data is in",
			 b->sh.stage.count, b->nworkers, early);
	ctx->indexes = b;
	return OUTCOME_OK;
}

void
index_builder_job_done(IndexBuilder *b, const CopyJob *job)
{
	int			t;

	if (b == NULL || (t = builder_find_table(b, job->nspname, job->relname)) < 0)
		return;
	pthread_mutex_lock(&b->lock);
	if (--b->jobs_left[t] == 0)
		pthread_cond_broadcast(&b->changed);
	pthread_mutex_unlock(&b->lock);
}

void
index_builder_poll(IndexBuilder *b)
{
	if (b != NULL)
		(void) workpool_wait(b->pool, 0);
}

bool
index_builder_failed(IndexBuilder *b)
{
	return b != NULL && workpool_failed(b->pool);
}

void
index_builder_data_done(IndexBuilder *b)
{
	if (b == NULL)
		return;
	pthread_mutex_lock(&b->lock);
	b->data_in = true;
	pthread_cond_broadcast(&b->changed);
	pthread_mutex_unlock(&b->lock);
}

int
index_builder_finish(CopyContext *ctx, bool wait)
{
	IndexBuilder *b = ctx->indexes;
	int			rc;

	if (b == NULL)
		return OUTCOME_OK;
	ctx->indexes = NULL;
	if (wait)
	{
		char		took[32];

		format_duration(now_seconds() - b->t0, took, sizeof(took));
		log_info("post-data stage 1: %d step(s), %d connection(s), begun with the data %s ago",
				 b->sh.stage.count, b->nworkers, took);
		rc = watch_stage(&b->sh, 1, b->pool, b->t0);
	}
	else
	{
		pthread_mutex_lock(&b->lock);
		b->abandon = true;
		pthread_cond_broadcast(&b->changed);
		pthread_mutex_unlock(&b->lock);
		rc = workpool_finish(b->pool);
		(void) post_steps_reset_running(ctx->tgt, ctx->slot);
	}
	ctx->stats.post_steps += b->sh.stage.count;
	builder_free(b);
	if (*ctx->interrupted)
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
	int			rc;

	if (!state_phase_begin(ctx->tgt, ctx->slot, "copy_post"))
	{
		(void) index_builder_finish(ctx, false);
		return OUTCOME_SQL;
	}
	ctx->stats.post_steps = 0;
	log_info("copy stage 3/4, indexes and constraints: the post-data steps in 4 stages, up to %d at once",
			 ctx->opts->index_jobs);
	/* stage 1 began with the data (IndexBuilder): its steps end before anything is reset */
	rc = index_builder_finish(ctx, true);
	if (rc == OUTCOME_OK &&
		(!post_steps_reset_running(ctx->tgt, ctx->slot) ||
		 !post_steps_load_preamble(ctx->tgt, ctx->slot, &preamble)))
		rc = OUTCOME_SQL;
	sh.preamble = preamble;
	/* what the builder left (none after it succeeded; all of it on a resume), then the rest */
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
