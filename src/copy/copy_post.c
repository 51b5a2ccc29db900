/*
 * copy_post.c
 *	  Post-data phase of `copy`: the steps planned from pg_dump's post-data
 *	  section, run in stages so dependencies hold: 1 indexes and keys, 2 index
 *	  attach, 3 foreign keys (stages 1-3 with --index-jobs connections in
 *	  parallel), 4 everything else in dump order.  Each step commits with its
 *	  'done' mark, so a rerun runs only what is missing.  Index builds get a
 *	  large maintenance_work_mem, which pg_restore does not ask for.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "copy.h"
#include "log.h"
#include "outcome.h"
#include "pgconn.h"
#include "state.h"

#define DEADLOCK_RETRIES 5

typedef struct PostStep
{
	int			step;
	char	   *kind;
	char	   *name;
	char	   *sql;
} PostStep;

typedef struct PostShared
{
	CopyContext *ctx;
	const char *preamble;
	PostStep   *steps;
	int			nsteps;
	int			next;
	bool		failed;
	int			fail_code;
	pthread_mutex_t lock;
} PostShared;

static PGconn *
connect_for_steps(PostShared *sh)
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
run_step(PostShared *sh, PGconn *conn, const PostStep *s)
{
	char		stepbuf[16];
	const char *params[2] = {sh->ctx->slot, stepbuf};

	snprintf(stepbuf, sizeof(stepbuf), "%d", s->step);
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
		{
			char		secs[32];
			const char *p3[3] = {params[0], params[1], secs};

			snprintf(secs, sizeof(secs), "%.3f", now_seconds() - t0);
			res = db_query_params(conn,
								  "UPDATE pgcutover.post_step SET status = 'done', seconds = $3 "
								  "WHERE slot_name = $1 AND step = $2", 3, p3);
		}
		ok = res != NULL && db_exec(conn, "COMMIT");
		PQclear(res);
		if (ok)
			log_debug("%s %s: %.2f s", s->kind, s->name, now_seconds() - t0);
		return ok;
	}
	return false;
}

static void *
step_worker(void *arg)
{
	PostShared *sh = arg;
	PGconn	   *conn = connect_for_steps(sh);

	for (;;)
	{
		PostStep   *s = NULL;

		pthread_mutex_lock(&sh->lock);
		if (conn == NULL && !sh->failed)
		{
			sh->failed = true;
			sh->fail_code = OUTCOME_CONNECTION;
		}
		if (!sh->failed && !*sh->ctx->interrupted && sh->next < sh->nsteps)
			s = &sh->steps[sh->next++];
		pthread_mutex_unlock(&sh->lock);
		if (s == NULL)
			break;
		if (!run_step(sh, conn, s))
		{
			pthread_mutex_lock(&sh->lock);
			if (!sh->failed)
				sh->fail_code = OUTCOME_SQL;
			sh->failed = true;
			pthread_mutex_unlock(&sh->lock);
			break;
		}
	}
	PQfinish(conn);
	return NULL;
}

static bool
load_stage(PostShared *sh, int stage)
{
	char		stagebuf[8];
	const char *params[2] = {sh->ctx->slot, stagebuf};
	PGresult   *res;

	snprintf(stagebuf, sizeof(stagebuf), "%d", stage);
	res = db_query_params(sh->ctx->tgt,
						  "SELECT step, kind, name, sql FROM pgcutover.post_step "
						  "WHERE slot_name = $1 AND stage = $2 AND status <> 'done' ORDER BY step",
						  2, params);
	if (res == NULL)
		return false;
	sh->nsteps = PQntuples(res);
	sh->next = 0;
	sh->steps = pg_malloc0(sizeof(PostStep) * (sh->nsteps + 1));
	for (int i = 0; i < sh->nsteps; i++)
	{
		sh->steps[i].step = atoi(PQgetvalue(res, i, 0));
		sh->steps[i].kind = pg_strdup(PQgetvalue(res, i, 1));
		sh->steps[i].name = pg_strdup(PQgetvalue(res, i, 2));
		sh->steps[i].sql = pg_strdup(PQgetvalue(res, i, 3));
	}
	PQclear(res);
	return true;
}

static void
free_stage(PostShared *sh)
{
	for (int i = 0; i < sh->nsteps; i++)
	{
		free(sh->steps[i].kind);
		free(sh->steps[i].name);
		free(sh->steps[i].sql);
	}
	free(sh->steps);
	sh->steps = NULL;
	sh->nsteps = 0;
}

static int
run_stage(PostShared *sh, int stage, int nworkers)
{
	pthread_t	threads[64];

	if (!load_stage(sh, stage))
		return OUTCOME_SQL;
	if (nworkers > sh->nsteps)
		nworkers = sh->nsteps;
	if (nworkers > 64)
		nworkers = 64;
	if (sh->nsteps > 0)
		log_info("post-data stage %d: %d step(s), %d connection(s)", stage, sh->nsteps, nworkers);
	for (int i = 0; i < nworkers; i++)
		pthread_create(&threads[i], NULL, step_worker, sh);
	for (int i = 0; i < nworkers; i++)
		pthread_join(threads[i], NULL);
	sh->ctx->stats.post_steps += sh->nsteps;
	free_stage(sh);
	if (*sh->ctx->interrupted)
		return OUTCOME_INTERRUPTED;
	return sh->failed ? sh->fail_code : OUTCOME_OK;
}

int
copy_post_run(CopyContext *ctx)
{
	PostShared	sh = {.ctx = ctx, .lock = PTHREAD_MUTEX_INITIALIZER};
	const char *params[1] = {ctx->slot};
	PGresult   *pre;
	double		t0 = now_seconds();
	int			rc = OUTCOME_OK;

	if (!state_phase_begin(ctx->tgt, ctx->slot, "copy_post"))
		return OUTCOME_SQL;
	pre = db_query_params(ctx->tgt,
						  "SELECT sql FROM pgcutover.post_step WHERE slot_name = $1 AND stage = 0",
						  1, params);
	if (pre == NULL)
		return OUTCOME_SQL;
	sh.preamble = PQntuples(pre) > 0 ? PQgetvalue(pre, 0, 0) : NULL;
	ctx->stats.post_steps = 0;
	for (int stage = 1; stage <= 4 && rc == OUTCOME_OK; stage++)
		rc = run_stage(&sh, stage, stage == 4 ? 1 : ctx->opts->index_jobs);
	PQclear(pre);
	ctx->stats.seconds_post = now_seconds() - t0;
	if (rc == OUTCOME_OK && !state_phase_end(ctx->tgt, ctx->slot, "copy_post"))
		rc = OUTCOME_SQL;
	return rc;
}

int
copy_sequences_run(CopyContext *ctx)
{
	const char *params[1] = {ctx->slot};
	PGresult   *res = db_query_params(ctx->tgt,
									  "SELECT pg_catalog.setval(pg_catalog.format('%I.%I', nspname, relname)::pg_catalog.regclass, last_value, is_called) "
									  "FROM pgcutover.copy_sequence s "
									  "WHERE slot_name = $1 AND pg_catalog.to_regclass(pg_catalog.format('%I.%I', nspname, relname)) IS NOT NULL",
									  1, params);

	if (res == NULL)
		return OUTCOME_SQL;
	ctx->stats.sequences = PQntuples(res);
	PQclear(res);
	return OUTCOME_OK;
}
