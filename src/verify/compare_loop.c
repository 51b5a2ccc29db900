/*
 * compare_loop.c
 *	  The loop of the comparison engine (compare_int.h): one thread keeps
 *	  every session of every pair busy with asynchronous libpq.  Each idle
 *	  pair takes the next job and sends its statement to both sides at
 *	  once, poll() waits for the sockets (and the signal pipe), and a job is
 *	  judged once both sides answered; --max-rows-per-second holds the next
 *	  job back, progress is logged.  An error or an interrupt cancels what
 *	  runs on every pair.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "compare_int.h"
#include "log.h"
#include "pgconn.h"
#include "signals.h"

/* "1.2M", "410k", "12" */
static const char *
human_count(double n, char *buf, size_t len)
{
	if (n >= 1e9)
		snprintf(buf, len, "%.1fG", n / 1e9);
	else if (n >= 1e6)
		snprintf(buf, len, "%.1fM", n / 1e6);
	else if (n >= 1e4)
		snprintf(buf, len, "%.0fk", n / 1e3);
	else
		snprintf(buf, len, "%.0f", n);
	return buf;
}

/* A pair idle again: its statement and answers freed. */
void
compare_slot_reset(Slot *s)
{
	PQclear(s->res[0]);
	PQclear(s->res[1]);
	free(s->sql);
	free(s->param);
	memset(s, 0, sizeof(*s));
	s->chunk = -1;
}

/* Cancels what runs on every pair and reads it away, leaving them idle. */
static void
cancel_all(Engine *e)
{
	for (int p = 0; p < e->npairs; p++)
	{
		Slot	   *s = &e->slots[p];

		for (int side = 0; side < 2; side++)
		{
			PGconn	   *conn = side_conn(&e->pairs[p], side);
			PGresult   *res;

			if (!s->waiting[side])
				continue;
			{
				PGcancel   *cancel = PQgetCancel(conn);
				char		err[256];

				if (cancel)
				{
					(void) PQcancel(cancel, err, sizeof(err));
					PQfreeCancel(cancel);
				}
			}
			while ((res = PQgetResult(conn)) != NULL)
				PQclear(res);
		}
		compare_slot_reset(s);
	}
}

/* Sends a job's statement to the pair's sides (the source only for some). */
static bool
dispatch(Engine *e, int pair, int chunk)
{
	Slot	   *s = &e->slots[pair];
	Chunk	   *c = &e->chunks[chunk];
	int			sides = c->kind == JOB_RANGE || c->kind == JOB_SOURCE_ONLY ? 1 : 2;

	s->chunk = chunk;
	s->sql = compare_job_sql(e, c, &s->param);
	for (int side = 0; side < sides; side++)
	{
		PGconn	   *conn = side_conn(&e->pairs[pair], side);
		const char *params[1] = {s->param};

		if (PQsendQueryParams(conn, s->sql, s->param ? 1 : 0, NULL, params, NULL, NULL, 0) != 1)
		{
			char	   *err = db_error(conn);

			compare_log_error(&e->works[c->work], side, err);
			free(err);
			return false;
		}
		s->waiting[side] = true;
	}
	return true;
}

/* Reads what arrived on one side; false when the connection failed. */
static bool
consume(Engine *e, int pair, int side)
{
	Slot	   *s = &e->slots[pair];
	PGconn	   *conn = side_conn(&e->pairs[pair], side);

	if (PQconsumeInput(conn) != 1)
	{
		char	   *err = db_error(conn);

		compare_log_error(&e->works[e->chunks[s->chunk].work], side, err);
		free(err);
		return false;
	}
	while (s->waiting[side] && !PQisBusy(conn))
	{
		PGresult   *res = PQgetResult(conn);

		if (res == NULL)
			s->waiting[side] = false;
		else if (s->res[side] == NULL)
			s->res[side] = res;
		else
			PQclear(res);
	}
	return true;
}

/* Logs where the comparison is, every cfg->progress_seconds (force: now). */
void
compare_progress(Engine *e, bool force)
{
	double		now = now_seconds();
	double		elapsed = now - e->t0;
	double		rate;
	double		eta;
	char		done[32],
				total[32],
				rps[32];

	if (e->cfg->progress_seconds <= 0 || (!force && now < e->next_progress))
		return;
	e->next_progress = now + e->cfg->progress_seconds;
	rate = elapsed > 0 ? e->bytes_done / elapsed : 0;
	eta = rate > 0 ? (e->bytes_total - e->bytes_done) / rate : -1;
	if (eta < 0 && elapsed > 0 && e->rows_done > 0)
		eta = (e->rows_total - (double) e->rows_done) / ((double) e->rows_done / elapsed);
	log_info("verify: %d/%d chunks, %s of %s rows (%s rows/s, %.0f MB/s), ETA %.0f s",
			 e->chunks_done, e->chunks_total,
			 human_count((double) e->rows_done, done, sizeof(done)),
			 human_count(e->rows_total > (double) e->rows_done ? e->rows_total : (double) e->rows_done, total, sizeof(total)),
			 human_count(elapsed > 0 ? (double) e->rows_done / elapsed : 0, rps, sizeof(rps)),
			 rate / 1e6, eta > 0 ? eta : 0);
}

/* Seconds to hold back the next chunk for --max-rows-per-second, 0: none. */
static double
throttle_wait(const Engine *e)
{
	double		elapsed = now_seconds() - e->t0;
	double		due;

	if (e->cfg->max_rows_per_second <= 0)
		return 0;
	due = (double) e->rows_done / e->cfg->max_rows_per_second;
	return due > elapsed ? due - elapsed : 0;
}

/*
 * Runs the jobs [first, last) of e->chunks on all pairs; false on error or
 * interrupt (logged, everything cancelled).
 */
bool
compare_run_jobs(Engine *e, int first, int last)
{
	struct pollfd *fds = pg_malloc0(sizeof(struct pollfd) * (2 * e->npairs + 1));
	int			next = first;
	int			active = 0;
	bool		ok = true;

	while (ok && (next < last || active > 0))
	{
		double		hold = 0;
		int			nfds = 0;
		int			timeout_ms = 1000;

		if (signals_interrupts() > 0)
		{
			log_error("verify interrupted: the statements running were cancelled, nothing is compared; fix: run verify again");
			ok = false;
			break;
		}
		for (int p = 0; p < e->npairs && next < last && ok; p++)
		{
			if (e->slots[p].chunk >= 0)
				continue;
			if ((hold = throttle_wait(e)) > 0)
				break;
			ok = dispatch(e, p, next++);
			active++;
		}
		if (!ok)
			break;
		for (int p = 0; p < e->npairs; p++)
			for (int side = 0; side < 2; side++)
				if (e->slots[p].waiting[side])
				{
					fds[nfds].fd = PQsocket(side_conn(&e->pairs[p], side));
					fds[nfds].events = POLLIN;
					fds[nfds].revents = 0;
					nfds++;
				}
		if (signals_fd() >= 0)
		{
			fds[nfds].fd = signals_fd();
			fds[nfds].events = POLLIN;
			fds[nfds].revents = 0;
			nfds++;
		}
		if (hold > 0 && hold * 1000 < timeout_ms)
			timeout_ms = (int) (hold * 1000) + 1;
		if (poll(fds, nfds, timeout_ms) < 0 && errno != EINTR)
		{
			log_error("verify: poll failed: %s; fix: this is a bug, please report it", strerror(errno));
			ok = false;
			break;
		}
		for (int p = 0; p < e->npairs && ok; p++)
		{
			Slot	   *s = &e->slots[p];

			if (s->chunk < 0)
				continue;
			for (int side = 0; side < 2 && ok; side++)
				if (s->waiting[side])
					ok = consume(e, p, side);
			if (ok && !s->waiting[0] && !s->waiting[1])
			{
				ok = compare_judge(e, p);
				compare_slot_reset(s);
				active--;
			}
		}
		compare_progress(e, false);
	}
	if (!ok)
		cancel_all(e);
	free(fds);
	return ok;
}
