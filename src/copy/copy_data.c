/*
 * copy_data.c
 *	  Data phase of `copy`: --jobs worker threads, each with its own source
 *	  connection reading in the exported snapshot and its own target
 *	  connection, take jobs largest first.  A job is one table (TRUNCATE +
 *	  COPY FREEZE) or one CTID block range of a large table, piped COPY TO
 *	  STDOUT -> COPY FROM STDIN with no temp files, binary when every column
 *	  type is built in and none is an OID naming an object (reg*: as text,
 *	  schema-qualified under search_path pg_catalog, so the target holds the
 *	  object, not the number).  A hash-partitioned tree whose hashes differ
 *	  between databases (partroute.h) is one job that reads and loads
 *	  through its root.  Its 'done' mark commits in the same target
 *	  transaction as its rows, so a kill at any moment loses only the jobs in
 *	  flight, which simply run again.
 *
 *	  Encodings: both sessions speak UTF-8 (db_connect), so text fields, which
 *	  binary COPY converts to and from the client encoding like text COPY,
 *	  leave the source converted from its encoding and enter the target
 *	  converted to its own: exact for every source encoding, since UTF-8
 *	  holds every character of each, and the statements name tables and
 *	  columns in the plan's UTF-8.  A SQL_ASCII source's bytes must be UTF-8
 *	  to leave it; check (preflight.c, "encoding") names the rows that are not.
 *
 *	  Progress: each worker counts the rows and bytes it streams into its
 *	  slot of the ProgressBoard (copy_progress.h); the leader reads the
 *	  board five times a second for the live line and once a second marks
 *	  the jobs in flight 'running' in the state for `status`.  --max-rate
 *	  caps the rows read from the source, all workers together.
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "copy.h"
#include "copy_jobs.h"
#include "copy_progress.h"
#include "log.h"
#include "outcome.h"
#include "pgconn.h"
#include "state.h"
#include "strbuf.h"
#include "units.h"
#include "workpool.h"

/*
 * --max-rate: rows read from the source, all workers together, at most
 * rows_per_second on average since the data phase began, with at most a
 * second of unused allowance carried forward (no burst after a lull).
 */
typedef struct ReadThrottle
{
	double		rows_per_second;	/* 0: no limit; read-only */
	pthread_mutex_t lock;
	double		t0;				/* under lock */
	int64_t		rows;			/* under lock */
} ReadThrottle;

/*
 * What the data workers share.  ctx and jobs are read-only while the pool
 * runs (the pool hands each job index to one worker); each worker writes
 * only its own slot of board, under the slot's lock; throttle has its own
 * lock.
 */
typedef struct DataShared
{
	CopyContext *ctx;
	CopyJobList jobs;
	ProgressBoard board;
	ReadThrottle throttle;
} DataShared;

/* One worker's own connections and progress slot. */
typedef struct DataWorker
{
	PGconn	   *src;			/* in the exported snapshot */
	PGconn	   *tgt;
	ProgressSlot *slot;
} DataWorker;

/* Counts rows read; returns the seconds to wait to stay under the rate. */
static double
throttle_account(ReadThrottle *t, int64_t rows)
{
	double		now = now_seconds();
	double		due;

	if (t->rows_per_second <= 0)
		return 0;
	pthread_mutex_lock(&t->lock);
	t->rows += rows;
	due = t->t0 + (double) t->rows / t->rows_per_second;
	if (due < now - 1)
	{
		/* after a lull, forget all but a second of unused allowance */
		t->t0 += now - 1 - due;
		due = now - 1;
	}
	pthread_mutex_unlock(&t->lock);
	return due > now ? due - now : 0;
}

/* Sleeps for seconds in short naps; false if the pool stops meanwhile. */
static bool
throttle_sleep(WorkPool *pool, double seconds)
{
	while (seconds > 0)
	{
		double		nap = seconds < 0.1 ? seconds : 0.1;
		struct timespec ts = {.tv_sec = 0, .tv_nsec = (long) (nap * 1e9)};

		nanosleep(&ts, NULL);
		seconds -= nap;
		if (workpool_stopping(pool))
			return false;
	}
	return true;
}

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


/*
 * A job of a partitioned table is a tree whose leaves load through their
 * root (partroute.h): every leaf's rows, read through the root, and routed
 * by the target's own hashes.
 */
static char *
source_copy_sql(const CopyJob *j, bool via_root)
{
	const char *fmt = j->binary ? "(FORMAT binary)" : "";
	bool		cols = j->columns[0] != '\0';

	if (via_root)
		return psprintf("COPY (SELECT %s FROM %s) TO STDOUT %s", cols ? j->columns : "*", j->qualname, fmt);
	if (j->block_from == NULL)
		return cols ? psprintf("COPY %s (%s) TO STDOUT %s", j->qualname, j->columns, fmt)
			: psprintf("COPY %s TO STDOUT %s", j->qualname, fmt);
	return psprintf("COPY (SELECT %s FROM ONLY %s WHERE ctid >= '(%s,0)'::pg_catalog.tid%s%s%s) TO STDOUT %s",
					j->columns, j->qualname, j->block_from,
					j->block_to ? " AND ctid < '(" : "", j->block_to ? j->block_to : "",
					j->block_to ? ",0)'::pg_catalog.tid" : "", fmt);
}

static char *
target_copy_sql(const CopyJob *j, bool via_root)
{
	bool		freeze = j->block_from == NULL && !via_root;	/* no FREEZE through a root */
	const char *opts = j->binary ? (freeze ? "(FORMAT binary, FREEZE)" : "(FORMAT binary)")
		: (freeze ? "(FREEZE)" : "");

	if (j->columns[0] == '\0')
		return psprintf("COPY %s FROM STDIN %s", j->qualname, opts);
	return psprintf("COPY %s (%s) FROM STDIN %s", j->qualname, j->columns, opts);
}

/*
 * Rows in one CopyData message of COPY TO: one a message, but the binary
 * format's first message also holds the header (signature, flags,
 * extension), and its trailer (a field count of -1) is no row.
 */
static int
rows_in_message(const char *buf, int n, bool binary, bool first)
{
	const unsigned char *p = (const unsigned char *) buf;

	if (!binary)
		return 1;
	if (first)
	{
		uint32_t	extlen;

		if (n < 19)
			return 0;
		extlen = (uint32_t) p[15] << 24 | (uint32_t) p[16] << 16 | (uint32_t) p[17] << 8 | p[18];
		if ((uint32_t) n < 19 + extlen + 2)
			return 0;
		p += 19 + extlen;
		n -= (int) (19 + extlen);
	}
	return n == 2 && p[0] == 0xFF && p[1] == 0xFF ? 0 : 1;
}

/* how much a worker streams between two updates of its slot */
#define PUBLISH_ROWS 256
#define PUBLISH_BYTES (1 << 20)

/*
 * Pipes the rows of one COPY OUT into one COPY IN, counting rows and bytes
 * into the worker's slot as they stream (and holding back for --max-rate);
 * returns bytes or -1.
 */
static int64_t
pipe_rows(DataShared *sh, WorkPool *pool, DataWorker *w, bool binary)
{
	ReadThrottle *throttle = &sh->throttle;
	int64_t		batch = PUBLISH_ROWS;
	int64_t		total = 0;
	int64_t		rows = 0;
	int64_t		bytes = 0;
	bool		first = true;
	char	   *buf;
	int			n;

	/* throttled: account often enough to keep the pace smooth (50 ms) */
	if (throttle->rows_per_second > 0 && throttle->rows_per_second / 20 < batch)
		batch = throttle->rows_per_second / 20 >= 1 ? (int64_t) (throttle->rows_per_second / 20) : 1;
	while ((n = PQgetCopyData(w->src, &buf, 0)) > 0)
	{
		int			put = PQputCopyData(w->tgt, buf, n);

		rows += rows_in_message(buf, n, binary, first);
		first = false;
		PQfreemem(buf);
		if (put != 1)
			return -1;
		bytes += n;
		total += n;
		if (rows >= batch || bytes >= PUBLISH_BYTES)
		{
			double		wait = throttle_account(throttle, rows);

			progress_slot_add(w->slot, rows, bytes);
			rows = bytes = 0;
			if (workpool_stopping(pool) || (wait > 0 && !throttle_sleep(pool, wait)))
				return -1;
		}
	}
	progress_slot_add(w->slot, rows, bytes);
	(void) throttle_account(throttle, rows);
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

/* Is the job's table partitioned (1), not (0), or unknown (-1)? */
static int
job_via_root(PGconn *tgt, const CopyJob *j)
{
	const char *params[1] = {j->qualname};
	PGresult   *res = db_query_params(tgt,
									  "SELECT relkind = 'p' FROM pg_catalog.pg_class "
									  "WHERE oid = pg_catalog.to_regclass($1)", 1, params);
	int			via_root;

	if (res == NULL)
		return -1;
	via_root = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return via_root;
}

/* Copies one job in one target transaction together with its 'done' mark. */
static bool
run_job(DataShared *sh, WorkPool *pool, DataWorker *w, const CopyJob *j)
{
	PGconn	   *src = w->src;
	PGconn	   *tgt = w->tgt;
	int			via_root = job_via_root(tgt, j);
	char	   *src_sql = source_copy_sql(j, via_root == 1);
	char	   *tgt_sql = target_copy_sql(j, via_root == 1);
	char	   *trunc = psprintf("TRUNCATE %s%s", via_root == 1 ? "" : "ONLY ", j->qualname);
	int64_t		nbytes;
	int64_t		rows = -1;
	bool		ok = false;
	PGresult   *res;

	if (via_root < 0 || !db_exec(tgt, "BEGIN") ||
		(j->block_from == NULL && !db_exec(tgt, trunc)) ||
		!start_copy(tgt, tgt_sql, PGRES_COPY_IN))
		goto done;
	if (!start_copy(src, src_sql, PGRES_COPY_OUT))
	{
		PQputCopyEnd(tgt, "source failed");
		goto done;
	}
	if ((nbytes = pipe_rows(sh, pool, w, j->binary)) < 0)
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
		index_builder_job_done(sh->ctx->indexes, j);
		progress_slot_end(w->slot, true, rows, nbytes);
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
	w->slot = progress_board_claim(&sh->board);
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
	const CopyJob *job = &sh->jobs.jobs[item];
	bool		ok;

	progress_slot_begin(w->slot, item, job->est_bytes);
	ok = run_job(sh, pool, w, job);
	if (!ok)
		progress_slot_end(w->slot, false, 0, 0);
	if (ok)
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

	/* a failed index build fails the copy: no use copying on */
	return *sh->ctx->interrupted || index_builder_failed(sh->ctx->indexes);
}

/* What the leader knows while the workers run. */
typedef struct DataWatch
{
	DataShared *sh;
	CopyDoneTotals prior;		/* jobs done by earlier runs */
	int64_t		planned;		/* the plan's estimate of this run's jobs */
	double		t0;
	RateWindow	window;
	ProgressDisplay display;
	double		last_publish;
} DataWatch;

/* Everything one look at the board tells. */
typedef struct DataFigures
{
	int64_t		jobs_done;		/* every run */
	int64_t		jobs;
	int64_t		rows;			/* done jobs + streamed by jobs in flight */
	int64_t		bytes;
	int64_t		total;			/* estimated bytes of the whole copy */
	double		scale;			/* stream bytes per planned byte */
	double		rows_per_second;	/* current: the rate window */
	double		bytes_per_second;
	ProgressEstimate est;
} DataFigures;

static void
compute_figures(DataWatch *dw, const ProgressReading *r, DataFigures *f)
{
	int64_t		flight_expected = 0;
	int64_t		flight_planned = 0;
	int64_t		flight_bytes = 0;
	int64_t		flight_rows = 0;
	int64_t		pending;

	memset(f, 0, sizeof(*f));
	f->scale = progress_scale(dw->prior.bytes + r->done_bytes, dw->prior.est_bytes + r->done_planned);
	for (int i = 0; i < r->nflight; i++)
	{
		int64_t		expect = (int64_t) ((double) r->flight[i].planned * f->scale);

		flight_expected += expect > r->flight[i].bytes ? expect : r->flight[i].bytes;
		flight_planned += r->flight[i].planned;
		flight_bytes += r->flight[i].bytes;
		flight_rows += r->flight[i].rows;
	}
	pending = dw->planned - r->done_planned - flight_planned;
	if (pending < 0)
		pending = 0;
	f->jobs = dw->prior.jobs + dw->sh->jobs.count;
	f->jobs_done = dw->prior.jobs + r->done_items;
	f->rows = dw->prior.rows + r->done_rows + flight_rows;
	f->bytes = dw->prior.bytes + r->done_bytes + flight_bytes;
	f->total = dw->prior.bytes + r->done_bytes + flight_expected + (int64_t) ((double) pending * f->scale);
	(void) rate_window_rates(&dw->window, &f->rows_per_second, &f->bytes_per_second);
	f->est = progress_estimate(f->bytes, f->total, f->bytes_per_second, f->jobs_done == f->jobs);
}

/* "public.orders 61%, public.big [2/4] 10%": the jobs in flight, largest first as handed out. */
static void
append_in_flight(StrBuf *out, const DataShared *sh, const ProgressReading *r, double scale)
{
	for (int i = 0; i < r->nflight; i++)
	{
		const CopyJob *j = &sh->jobs.jobs[r->flight[i].item];
		double		expect = (double) j->est_bytes * scale;
		double		pct = expect > 0 ? 100.0 * (double) r->flight[i].bytes / expect : 0;

		strbuf_printf(out, "%s%s.%s", i ? ", " : "", j->nspname, j->relname);
		if (j->parts > 1)
			strbuf_printf(out, " [%d/%d]", j->part + 1, j->parts);
		strbuf_printf(out, " %.0f%%", pct < 99 ? pct : 99);
	}
}

/* The live line and the log line of one look at the board. */
static void
show_figures(DataWatch *dw, const ProgressReading *r, const DataFigures *f, bool force)
{
	StrBuf		line,
				logline;
	char		done[32],
				total[32],
				rate[32],
				eta[32];

	format_bytes(f->bytes, done, sizeof(done));
	format_bytes(f->total, total, sizeof(total));
	format_rate(f->bytes_per_second, rate, sizeof(rate));
	if (f->est.eta_seconds >= 0)
		format_duration(f->est.eta_seconds, eta, sizeof(eta));
	else
		snprintf(eta, sizeof(eta), "?");
	strbuf_init(&line);
	strbuf_init(&logline);
	strbuf_printf(&line, "data %.1f%% | %s of ~%s | %lld rows | %s, %.0f rows/s | ETA %s | %lld/%lld jobs | ",
				  f->est.percent, done, total, (long long) f->rows, rate, f->rows_per_second, eta,
				  (long long) f->jobs_done, (long long) f->jobs);
	append_in_flight(&line, dw->sh, r, f->scale);
	strbuf_printf(&logline, "copy data: %.1f%% of ~%s estimated (%s done), %lld rows, %lld/%lld jobs done; "
				  "now %s and %.0f rows/s (last %.0f s), ETA %s; in flight: ",
				  f->est.percent, total, done, (long long) f->rows, (long long) f->jobs_done,
				  (long long) f->jobs, rate, f->rows_per_second, RATE_WINDOW_SECONDS, eta);
	if (r->nflight == 0)
		strbuf_printf(&logline, "none");
	append_in_flight(&logline, dw->sh, r, f->scale);
	progress_show(&dw->display, line.data, logline.data, force);
	strbuf_free(&line);
	strbuf_free(&logline);
}

/* Once a second: the jobs in flight and the estimate into the state, for `status`. */
static void
publish_figures(DataWatch *dw, const ProgressReading *r, const DataFigures *f)
{
	CopyJobRunning *running = pg_malloc0(sizeof(CopyJobRunning) * (r->nflight + 1));
	json_t	   *detail = json_pack("{s:s, s:f, s:I, s:I, s:I, s:f, s:f, s:I, s:I}",
								   "stage", "data", "percent", f->est.percent,
								   "bytes", (json_int_t) f->bytes, "bytes_estimated", (json_int_t) f->total,
								   "rows", (json_int_t) f->rows,
								   "rows_per_second", f->rows_per_second, "bytes_per_second", f->bytes_per_second,
								   "jobs_done", (json_int_t) f->jobs_done, "jobs", (json_int_t) f->jobs);
	char	   *text;

	json_object_set_new(detail, "eta_seconds", f->est.eta_seconds >= 0 ? json_real(f->est.eta_seconds) : json_null());
	text = json_dumps(detail, JSON_COMPACT);
	for (int i = 0; i < r->nflight; i++)
	{
		running[i].job = &dw->sh->jobs.jobs[r->flight[i].item];
		running[i].rows = r->flight[i].rows;
		running[i].bytes = r->flight[i].bytes;
	}
	/* progress is a courtesy: a failed update is logged and the copy goes on */
	(void) copy_progress_publish(dw->sh->ctx->tgt, dw->sh->ctx->slot, "copy_data", running, r->nflight, text);
	free(text);
	json_decref(detail);
	free(running);
}

/* Shows and records progress until every worker has ended. */
static void
watch_progress(DataWatch *dw, WorkPool *pool)
{
	bool		all_ended = false;

	while (!all_ended)
	{
		ProgressReading r;
		DataFigures f;
		double		now;

		all_ended = workpool_wait(pool, 200);
		index_builder_poll(dw->sh->ctx->indexes);
		now = now_seconds();
		progress_board_read(&dw->sh->board, &r);
		rate_window_add(&dw->window, now, r.read_rows, r.read_bytes);
		compute_figures(dw, &r, &f);
		if (!all_ended)
		{
			show_figures(dw, &r, &f, false);
			if (now - dw->last_publish >= 1)
			{
				publish_figures(dw, &r, &f);
				dw->last_publish = now;
			}
		}
		else
			publish_figures(dw, &r, &f);
		progress_reading_free(&r);
	}
	progress_clear(&dw->display);
}

int
copy_data_run(CopyContext *ctx)
{
	DataShared	sh = {.ctx = ctx};
	DataWatch	dw = {.sh = &sh};
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
	ProgressReading r;

	if (!state_phase_begin(ctx->tgt, ctx->slot, "copy_data") ||
		!copy_jobs_reset_running(ctx->tgt, ctx->slot) ||
		!copy_jobs_done_totals(ctx->tgt, ctx->slot, &dw.prior) ||
		!copy_jobs_load_pending(ctx->tgt, ctx->slot, &sh.jobs))
		return OUTCOME_SQL;
	/* each table's indexes and keys start once its jobs are done */
	if ((rc = index_builder_start(ctx, &sh.jobs)) != OUTCOME_OK)
	{
		copy_job_list_free(&sh.jobs);
		return rc;
	}
	spec.nitems = sh.jobs.count;
	spec.nworkers = ctx->opts->jobs < sh.jobs.count ? ctx->opts->jobs : sh.jobs.count;
	progress_board_init(&sh.board, spec.nworkers);
	sh.throttle.rows_per_second = ctx->opts->verify_max_rate;
	sh.throttle.t0 = t0;
	pthread_mutex_init(&sh.throttle.lock, NULL);
	for (int i = 0; i < sh.jobs.count; i++)
		dw.planned += sh.jobs.jobs[i].est_bytes;
	dw.t0 = t0;
	dw.last_publish = t0;
	rate_window_init(&dw.window, RATE_WINDOW_SECONDS);
	progress_display_init(&dw.display, ctx->opts);
	if (sh.throttle.rows_per_second > 0)
		log_info("copy stage 2/4, data: %d jobs left, %d workers, reading at most %.0f rows/s (--max-rate)",
				 sh.jobs.count, spec.nworkers, sh.throttle.rows_per_second);
	else
		log_info("copy stage 2/4, data: %d jobs left, %d workers", sh.jobs.count, spec.nworkers);
	if (spec.nworkers > 0)
	{
		if ((pool = workpool_start(&spec, &started)) == NULL)
			rc = OUTCOME_BUG;
		else
		{
			watch_progress(&dw, pool);
			rc = workpool_finish(pool);
		}
	}

	/* every worker has ended: the board is ours alone */
	progress_board_read(&sh.board, &r);
	ctx->stats.rows += r.done_rows;
	ctx->stats.bytes += r.done_bytes;
	ctx->stats.seconds_data = now_seconds() - t0;
	if (r.done_items > 0 || sh.jobs.count == 0)
	{
		char		b[32],
					rate[32];

		format_bytes(r.done_bytes, b, sizeof(b));
		format_rate(r.done_bytes / (ctx->stats.seconds_data + 1e-9), rate, sizeof(rate));
		log_info("data: %lld of %d jobs done in this run, %lld rows, %s in %.1f s (%s on average)",
				 (long long) r.done_items, sh.jobs.count, (long long) r.done_rows, b,
				 ctx->stats.seconds_data, rate);
	}
	progress_reading_free(&r);
	/* jobs a failure or an interrupt left in flight were rolled back */
	if (rc != OUTCOME_OK || *ctx->interrupted)
	{
		int			built;

		(void) copy_jobs_reset_running(ctx->tgt, ctx->slot);
		built = index_builder_finish(ctx, false);
		if (built != OUTCOME_OK && built != OUTCOME_INTERRUPTED)
			rc = built;			/* its failure stopped the data */
	}
	else
		index_builder_data_done(ctx->indexes);
	copy_job_list_free(&sh.jobs);
	progress_board_free(&sh.board);
	pthread_mutex_destroy(&sh.throttle.lock);
	if (*ctx->interrupted)
		return OUTCOME_INTERRUPTED;
	return rc;
}
