/*
 * copy_data.c
 *	  Data phase of `copy`: --jobs worker threads, each with its own source
 *	  connection reading in the exported snapshot and its own target
 *	  connection, take jobs largest first.  A job is one table (TRUNCATE +
 *	  COPY FREEZE) or one CTID block range of a large table, piped COPY TO
 *	  STDOUT -> COPY FROM STDIN with no temp files, binary when every column
 *	  type is built in.  Its 'done' mark commits in the same target
 *	  transaction as its rows, so a kill at any moment loses only the jobs in
 *	  flight, which simply run again.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "copy.h"
#include "copy_jobs.h"
#include "log.h"
#include "outcome.h"
#include "pgconn.h"
#include "state.h"
#include "workpool.h"

/*
 * What the data workers share.  ctx and jobs are read-only while the pool
 * runs (the pool hands each job index to one worker); the counters are
 * written by the workers and read by the progress loop, under progress_lock.
 */
typedef struct DataShared
{
	CopyContext *ctx;
	CopyJobList jobs;

	pthread_mutex_t progress_lock;
	int			done;			/* under progress_lock */
	int64_t		rows;			/* under progress_lock */
	int64_t		bytes;			/* under progress_lock */
} DataShared;

/* One worker's own connections. */
typedef struct DataWorker
{
	PGconn	   *src;			/* in the exported snapshot */
	PGconn	   *tgt;
} DataWorker;

PGconn *
copy_connect_snapshot(const CopyContext *ctx, char **errmsg)
{
	PGconn	   *conn = db_connect(ctx->opts->source, "source", CONN_NORMAL, errmsg);
	char	   *sql;
	PGresult   *res;

	if (conn == NULL)
		return NULL;
	sql = psprintf("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '%s'",
				   ctx->lease.snapshot);
	res = PQexec(conn, sql);
	free(sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		char	   *e = db_error(conn);

		*errmsg = psprintf("cannot read in the exported snapshot %s: %s; fix: run 'pgcutover cleanup --slot %s' and start the copy again",
						   ctx->lease.snapshot, e, ctx->slot);
		free(e);
		PQclear(res);
		PQfinish(conn);
		return NULL;
	}
	PQclear(res);
	return conn;
}


static void
add_progress(DataShared *sh, int done, int64_t rows, int64_t bytes)
{
	pthread_mutex_lock(&sh->progress_lock);
	sh->done += done;
	sh->rows += rows;
	sh->bytes += bytes;
	pthread_mutex_unlock(&sh->progress_lock);
}

static char *
source_copy_sql(const CopyJob *j)
{
	const char *fmt = j->binary ? "(FORMAT binary)" : "";
	bool		cols = j->columns[0] != '\0';

	if (j->block_from == NULL)
		return cols ? psprintf("COPY %s (%s) TO STDOUT %s", j->qualname, j->columns, fmt)
			: psprintf("COPY %s TO STDOUT %s", j->qualname, fmt);
	return psprintf("COPY (SELECT %s FROM ONLY %s WHERE ctid >= '(%s,0)'::pg_catalog.tid%s%s%s) TO STDOUT %s",
					j->columns, j->qualname, j->block_from,
					j->block_to ? " AND ctid < '(" : "", j->block_to ? j->block_to : "",
					j->block_to ? ",0)'::pg_catalog.tid" : "", fmt);
}

static char *
target_copy_sql(const CopyJob *j)
{
	bool		freeze = j->block_from == NULL;
	const char *opts = j->binary ? (freeze ? "(FORMAT binary, FREEZE)" : "(FORMAT binary)")
		: (freeze ? "(FREEZE)" : "");

	if (j->columns[0] == '\0')
		return psprintf("COPY %s FROM STDIN %s", j->qualname, opts);
	return psprintf("COPY %s (%s) FROM STDIN %s", j->qualname, j->columns, opts);
}

/* Pipes the rows of one COPY OUT into one COPY IN; returns bytes or -1. */
static int64_t
pipe_rows(DataShared *sh, WorkPool *pool, PGconn *src, PGconn *tgt)
{
	int64_t		total = 0;
	int64_t		bytes = 0;
	char	   *buf;
	int			n;
	int			since_check = 0;

	while ((n = PQgetCopyData(src, &buf, 0)) > 0)
	{
		int			put = PQputCopyData(tgt, buf, n);

		PQfreemem(buf);
		if (put != 1)
			return -1;
		bytes += n;
		total += n;
		if (++since_check == 1024)
		{
			since_check = 0;
			add_progress(sh, 0, 0, bytes);
			bytes = 0;
			if (workpool_stopping(pool))
				return -1;
		}
	}
	add_progress(sh, 0, 0, bytes);
	return n == -1 ? total : -1;
}

static bool
expect(PGconn *conn, ExecStatusType want, const char *what)
{
	PGresult   *res = PQgetResult(conn);
	bool		ok = PQresultStatus(res) == want;

	if (!ok)
	{
		char	   *e = db_error(conn);

		log_error("%s: %s", what, e);
		free(e);
	}
	PQclear(res);
	/* drain anything after the result */
	while ((res = PQgetResult(conn)) != NULL)
		PQclear(res);
	return ok;
}

static bool
start_copy(PGconn *conn, const char *sql, ExecStatusType want)
{
	PGresult   *res = PQexec(conn, sql);
	bool		ok = PQresultStatus(res) == want;

	if (!ok)
	{
		char	   *e = db_error(conn);

		log_error("%s [while running: %s]", e, sql);
		free(e);
	}
	PQclear(res);
	return ok;
}

/* Copies one job in one target transaction together with its 'done' mark. */
static bool
run_job(DataShared *sh, WorkPool *pool, PGconn *src, PGconn *tgt, const CopyJob *j)
{
	char	   *src_sql = source_copy_sql(j);
	char	   *tgt_sql = target_copy_sql(j);
	char	   *trunc = psprintf("TRUNCATE ONLY %s", j->qualname);
	int64_t		nbytes;
	int64_t		rows = -1;
	bool		ok = false;
	PGresult   *res;

	if (!db_exec(tgt, "BEGIN") ||
		(j->block_from == NULL && !db_exec(tgt, trunc)) ||
		!start_copy(tgt, tgt_sql, PGRES_COPY_IN))
		goto done;
	if (!start_copy(src, src_sql, PGRES_COPY_OUT))
	{
		PQputCopyEnd(tgt, "source failed");
		goto done;
	}
	if ((nbytes = pipe_rows(sh, pool, src, tgt)) < 0)
	{
		PQputCopyEnd(tgt, "copy interrupted");
		goto done;
	}
	if (!expect(src, PGRES_COMMAND_OK, "COPY from source"))
	{
		PQputCopyEnd(tgt, "source failed");
		goto done;
	}
	if (PQputCopyEnd(tgt, NULL) != 1)
		goto done;
	res = PQgetResult(tgt);
	if (PQresultStatus(res) == PGRES_COMMAND_OK)
		rows = strtoll(PQcmdTuples(res), NULL, 10);
	else
	{
		char	   *e = db_error(tgt);
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		if (state && strncmp(state, "53", 2) == 0)	/* disk full, out of memory, too many connections */
			log_error("COPY into %s on the target failed: %s; fix: free disk space on the target (or grow it), then rerun 'pgcutover copy': it resumes, done tables are kept",
					  j->qualname, e);
		else
			log_error("COPY into %s on the target failed: %s; fix: correct the cause, then rerun 'pgcutover copy': it resumes, done tables are kept",
					  j->qualname, e);
		free(e);
	}
	PQclear(res);
	while ((res = PQgetResult(tgt)) != NULL)
		PQclear(res);
	if (rows < 0)
		goto done;
	/* the 'done' mark commits with the rows: a crash keeps both or neither */
	ok = copy_job_mark_done(tgt, sh->ctx->slot, j, rows, nbytes) && db_exec(tgt, "COMMIT");
	if (ok)
	{
		add_progress(sh, 1, rows, 0);
		log_debug("copied %s part %d/%d: %lld rows", j->qualname, j->part + 1, j->parts, (long long) rows);
	}
done:
	if (!ok)
	{
		/* the connection may be mid-COPY: drain, then roll back */
		while ((res = PQgetResult(tgt)) != NULL)
			PQclear(res);
		PQclear(PQexec(tgt, "ROLLBACK"));
	}
	free(trunc);
	free(src_sql);
	free(tgt_sql);
	return ok;
}

/* WorkPoolSpec.worker_start: the worker's source (in the snapshot) and target connections. */
static Outcome
data_worker_start(void *arg, void **worker_state)
{
	DataShared *sh = arg;
	DataWorker *w = pg_malloc0(sizeof(DataWorker));
	char	   *err = NULL;
	Outcome		rc = OUTCOME_OK;

	*worker_state = w;
	w->src = copy_connect_snapshot(sh->ctx, &err);
	if (w->src != NULL)
		w->tgt = db_connect(sh->ctx->opts->target, "target", CONN_NORMAL, &err);
	if (w->tgt == NULL || !db_exec(w->tgt, "SET synchronous_commit = off"))
	{
		if (err)
			log_error("%s", err);
		rc = w->src == NULL && err && strstr(err, "snapshot") ? OUTCOME_STATE : OUTCOME_CONNECTION;
	}
	free(err);
	return rc;
}

/* WorkPoolSpec.run_item: one copy job. */
static Outcome
data_run_item(WorkPool *pool, void *arg, void *worker_state, int item)
{
	DataShared *sh = arg;
	DataWorker *w = worker_state;

	if (run_job(sh, pool, w->src, w->tgt, &sh->jobs.jobs[item]))
		return OUTCOME_OK;
	if (workpool_stopping(pool))
		return OUTCOME_INTERRUPTED; /* stopped by an interrupt or another worker's failure */
	return PQstatus(w->tgt) != CONNECTION_OK || PQstatus(w->src) != CONNECTION_OK
		? OUTCOME_CONNECTION : OUTCOME_SQL;
}

static void
data_worker_end(void *arg, void *worker_state)
{
	DataWorker *w = worker_state;

	(void) arg;
	if (w == NULL)
		return;
	PQfinish(w->src);
	PQfinish(w->tgt);
	free(w);
}

/* WorkPoolSpec.stop_requested: in the starting thread, which alone reads the interrupt counter. */
static bool
data_stop_requested(void *arg)
{
	DataShared *sh = arg;

	return *sh->ctx->interrupted;
}

/* Prints progress until every worker has ended. */
static void
watch_progress(DataShared *sh, WorkPool *pool, double t0)
{
	bool		tty = isatty(STDERR_FILENO) && !sh->ctx->opts->json && log_level() <= LOG_INFO;
	double		last_line = t0;
	bool		all_ended = false;

	while (!all_ended)
	{
		int			done;
		int64_t		bytes,
					rows;
		double		now;
		char		b[32];

		all_ended = workpool_wait(pool, 200);
		pthread_mutex_lock(&sh->progress_lock);
		done = sh->done;
		bytes = sh->bytes;
		rows = sh->rows;
		pthread_mutex_unlock(&sh->progress_lock);
		now = now_seconds();
		format_bytes(bytes, b, sizeof(b));
		if (tty)
			fprintf(stderr, "\r  data: %d/%d jobs, %lld rows, %s, %.1f MB/s   ", done, sh->jobs.count,
					(long long) rows, b, bytes / 1048576.0 / (now - t0 + 1e-9));
		else if (now - last_line >= 10)
		{
			log_info("data: %d/%d jobs, %lld rows, %s, %.1f MB/s", done, sh->jobs.count,
					 (long long) rows, b, bytes / 1048576.0 / (now - t0));
			last_line = now;
		}
	}
	if (tty)
		fputc('\n', stderr);
}

int
copy_data_run(CopyContext *ctx)
{
	DataShared	sh = {.ctx = ctx};
	WorkPoolSpec spec = {
		.what = "data copy worker",
		.arg = &sh,
		.worker_start = data_worker_start,
		.run_item = data_run_item,
		.worker_end = data_worker_end,
		.stop_requested = data_stop_requested,
	};
	WorkPool   *pool = NULL;
	int			started = 0;
	double		t0 = now_seconds();
	Outcome		rc = OUTCOME_OK;

	if (!state_phase_begin(ctx->tgt, ctx->slot, "copy_data") ||
		!copy_jobs_load_pending(ctx->tgt, ctx->slot, &sh.jobs))
		return OUTCOME_SQL;
	pthread_mutex_init(&sh.progress_lock, NULL);
	spec.nitems = sh.jobs.count;
	spec.nworkers = ctx->opts->jobs < sh.jobs.count ? ctx->opts->jobs : sh.jobs.count;
	log_info("copying data: %d jobs left, %d workers", sh.jobs.count, spec.nworkers);
	if (spec.nworkers > 0)
	{
		if ((pool = workpool_start(&spec, &started)) == NULL)
			rc = OUTCOME_BUG;
		else
		{
			watch_progress(&sh, pool, t0);
			rc = workpool_finish(pool);
		}
	}

	/* every worker has ended: the counters are ours alone */
	ctx->stats.rows += sh.rows;
	ctx->stats.bytes += sh.bytes;
	ctx->stats.seconds_data = now_seconds() - t0;
	copy_job_list_free(&sh.jobs);
	pthread_mutex_destroy(&sh.progress_lock);
	if (*ctx->interrupted)
		return OUTCOME_INTERRUPTED;
	return rc;
}
