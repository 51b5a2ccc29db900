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
#include "log.h"
#include "outcome.h"
#include "pgconn.h"
#include "state.h"

typedef struct DataJob
{
	char	   *nspname;
	char	   *relname;
	char	   *qualname;
	char	   *columns;		/* quoted list, may be empty */
	int			part;
	int			parts;
	char	   *block_from;		/* NULL: whole table */
	char	   *block_to;		/* NULL: open-ended */
	bool		binary;
} DataJob;

typedef struct DataShared
{
	CopyContext *ctx;
	DataJob    *jobs;
	int			njobs;
	int			next;
	int			done;
	int64_t		rows;
	int64_t		bytes;
	bool		failed;
	int			fail_code;
	int			running;
	pthread_mutex_t lock;
} DataShared;

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

static bool
stop_requested(DataShared *sh)
{
	return *sh->ctx->interrupted || sh->failed;
}

static void
mark_failed(DataShared *sh, int code)
{
	pthread_mutex_lock(&sh->lock);
	if (!sh->failed)
		sh->fail_code = code;
	sh->failed = true;
	pthread_mutex_unlock(&sh->lock);
}

static char *
source_copy_sql(const DataJob *j)
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
target_copy_sql(const DataJob *j)
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
pipe_rows(DataShared *sh, PGconn *src, PGconn *tgt)
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
			pthread_mutex_lock(&sh->lock);
			sh->bytes += bytes;
			pthread_mutex_unlock(&sh->lock);
			bytes = 0;
			if (stop_requested(sh))
				return -1;
		}
	}
	pthread_mutex_lock(&sh->lock);
	sh->bytes += bytes;
	pthread_mutex_unlock(&sh->lock);
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
run_job(DataShared *sh, PGconn *src, PGconn *tgt, const DataJob *j)
{
	char	   *src_sql = source_copy_sql(j);
	char	   *tgt_sql = target_copy_sql(j);
	char	   *trunc = psprintf("TRUNCATE ONLY %s", j->qualname);
	char		part[16];
	char		bytes[24];
	int64_t		nbytes;
	char	   *rows = NULL;
	bool		ok = false;
	PGresult   *res;

	snprintf(part, sizeof(part), "%d", j->part);
	if (!db_exec(tgt, "BEGIN") ||
		(j->block_from == NULL && !db_exec(tgt, trunc)) ||
		!start_copy(tgt, tgt_sql, PGRES_COPY_IN))
		goto done;
	if (!start_copy(src, src_sql, PGRES_COPY_OUT))
	{
		PQputCopyEnd(tgt, "source failed");
		goto done;
	}
	if ((nbytes = pipe_rows(sh, src, tgt)) < 0)
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
		rows = pg_strdup(PQcmdTuples(res));
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
	if (rows == NULL)
		goto done;
	{
		const char *params[6] = {sh->ctx->slot, j->nspname, j->relname, part, rows, bytes};

		snprintf(bytes, sizeof(bytes), "%lld", (long long) nbytes);
		res = db_query_params(tgt,
							  "UPDATE pgcutover.copy_job SET status = 'done', rows_copied = $5, "
							  "bytes_copied = $6, started_at = now(), finished_at = clock_timestamp() "
							  "WHERE slot_name = $1 AND nspname = $2 AND relname = $3 AND part = $4",
							  6, params);
		ok = res != NULL && db_exec(tgt, "COMMIT");
		PQclear(res);
	}
	if (ok)
	{
		pthread_mutex_lock(&sh->lock);
		sh->rows += strtoll(rows, NULL, 10);
		sh->done++;
		pthread_mutex_unlock(&sh->lock);
		log_debug("copied %s part %d/%d: %s rows", j->qualname, j->part + 1, j->parts, rows);
	}
done:
	if (!ok)
	{
		/* the connection may be mid-COPY: drain, then roll back */
		while ((res = PQgetResult(tgt)) != NULL)
			PQclear(res);
		PQclear(PQexec(tgt, "ROLLBACK"));
	}
	free(rows);
	free(trunc);
	free(src_sql);
	free(tgt_sql);
	return ok;
}

static void *
worker_main(void *arg)
{
	DataShared *sh = arg;
	char	   *err = NULL;
	PGconn	   *src = copy_connect_snapshot(sh->ctx, &err);
	PGconn	   *tgt = src ? db_connect(sh->ctx->opts->target, "target", CONN_NORMAL, &err) : NULL;

	if (tgt == NULL || !db_exec(tgt, "SET synchronous_commit = off"))
	{
		if (err)
			log_error("%s", err);
		mark_failed(sh, src == NULL && err && strstr(err, "snapshot") ? OUTCOME_STATE : OUTCOME_CONNECTION);
		goto done;
	}
	for (;;)
	{
		DataJob    *j = NULL;

		pthread_mutex_lock(&sh->lock);
		if (!stop_requested(sh) && sh->next < sh->njobs)
			j = &sh->jobs[sh->next++];
		pthread_mutex_unlock(&sh->lock);
		if (j == NULL)
			break;
		if (!run_job(sh, src, tgt, j))
		{
			if (!*sh->ctx->interrupted)
				mark_failed(sh, PQstatus(tgt) != CONNECTION_OK || PQstatus(src) != CONNECTION_OK
							? OUTCOME_CONNECTION : OUTCOME_SQL);
			break;
		}
	}
done:
	free(err);
	PQfinish(src);
	PQfinish(tgt);
	pthread_mutex_lock(&sh->lock);
	sh->running--;
	pthread_mutex_unlock(&sh->lock);
	return NULL;
}

static bool
load_jobs(DataShared *sh)
{
	const char *params[1] = {sh->ctx->slot};
	PGresult   *res = db_query_params(sh->ctx->tgt,
									  "SELECT nspname, relname, pg_catalog.quote_ident(nspname) || '.' || pg_catalog.quote_ident(relname), "
									  "  columns, part, parts, block_from, block_to, binary_copy "
									  "FROM pgcutover.copy_job WHERE slot_name = $1 AND status <> 'done' "
									  "ORDER BY est_bytes DESC, nspname, relname, part", 1, params);

	if (res == NULL)
		return false;
	sh->njobs = PQntuples(res);
	sh->jobs = pg_malloc0(sizeof(DataJob) * (sh->njobs + 1));
	for (int i = 0; i < sh->njobs; i++)
	{
		DataJob    *j = &sh->jobs[i];

		j->nspname = pg_strdup(PQgetvalue(res, i, 0));
		j->relname = pg_strdup(PQgetvalue(res, i, 1));
		j->qualname = pg_strdup(PQgetvalue(res, i, 2));
		j->columns = pg_strdup(PQgetvalue(res, i, 3));
		j->part = atoi(PQgetvalue(res, i, 4));
		j->parts = atoi(PQgetvalue(res, i, 5));
		j->block_from = PQgetisnull(res, i, 6) ? NULL : pg_strdup(PQgetvalue(res, i, 6));
		j->block_to = PQgetisnull(res, i, 7) ? NULL : pg_strdup(PQgetvalue(res, i, 7));
		j->binary = PQgetvalue(res, i, 8)[0] == 't';
	}
	PQclear(res);
	return true;
}

static void
free_jobs(DataShared *sh)
{
	for (int i = 0; i < sh->njobs; i++)
	{
		free(sh->jobs[i].nspname);
		free(sh->jobs[i].relname);
		free(sh->jobs[i].qualname);
		free(sh->jobs[i].columns);
		free(sh->jobs[i].block_from);
		free(sh->jobs[i].block_to);
	}
	free(sh->jobs);
}

/* Prints progress until every worker has stopped. */
static void
watch_progress(DataShared *sh, double t0)
{
	bool		tty = isatty(STDERR_FILENO) && !sh->ctx->opts->json && log_level() <= LOG_INFO;
	double		last_line = t0;

	for (;;)
	{
		int			running,
					done;
		int64_t		bytes,
					rows;
		double		now;
		char		b[32];

		usleep(200 * 1000);
		pthread_mutex_lock(&sh->lock);
		running = sh->running;
		done = sh->done;
		bytes = sh->bytes;
		rows = sh->rows;
		pthread_mutex_unlock(&sh->lock);
		now = now_seconds();
		format_bytes(bytes, b, sizeof(b));
		if (tty)
			fprintf(stderr, "\r  data: %d/%d jobs, %lld rows, %s, %.1f MB/s   ", done, sh->njobs,
					(long long) rows, b, bytes / 1048576.0 / (now - t0 + 1e-9));
		else if (now - last_line >= 10)
		{
			log_info("data: %d/%d jobs, %lld rows, %s, %.1f MB/s", done, sh->njobs,
					 (long long) rows, b, bytes / 1048576.0 / (now - t0));
			last_line = now;
		}
		if (running == 0)
			break;
	}
	if (tty)
		fputc('\n', stderr);
}

int
copy_data_run(CopyContext *ctx)
{
	DataShared	sh = {.ctx = ctx, .lock = PTHREAD_MUTEX_INITIALIZER};
	pthread_t  *threads;
	int			nthreads;
	double		t0 = now_seconds();

	if (!state_phase_begin(ctx->tgt, ctx->slot, "copy_data") || !load_jobs(&sh))
		return OUTCOME_SQL;
	nthreads = ctx->opts->jobs < sh.njobs ? ctx->opts->jobs : sh.njobs;
	log_info("copying data: %d jobs left, %d workers", sh.njobs, nthreads);
	threads = pg_malloc0(sizeof(pthread_t) * (nthreads + 1));
	sh.running = nthreads;
	for (int i = 0; i < nthreads; i++)
		pthread_create(&threads[i], NULL, worker_main, &sh);
	if (nthreads > 0)
		watch_progress(&sh, t0);
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	free(threads);

	ctx->stats.rows += sh.rows;
	ctx->stats.bytes += sh.bytes;
	ctx->stats.seconds_data = now_seconds() - t0;
	free_jobs(&sh);
	if (*ctx->interrupted)
		return OUTCOME_INTERRUPTED;
	if (sh.failed)
		return sh.fail_code;
	return OUTCOME_OK;
}
