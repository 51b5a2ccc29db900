/*
 * copy_progress.c
 *	  The copy's progress as a person sees it: the workers' board, the
 *	  current rate, the estimate against the plan, and the live line or the
 *	  periodic log line.  See copy_progress.h for who may touch what.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "alloc.h"
#include "copy_progress.h"
#include "log.h"

/* --- the board ------------------------------------------------------------ */

void
progress_board_init(ProgressBoard *board, int nslots)
{
	memset(board, 0, sizeof(*board));
	board->nslots = nslots;
	board->slots = pg_malloc0(sizeof(ProgressSlot) * (nslots > 0 ? nslots : 1));
	for (int i = 0; i < nslots; i++)
	{
		pthread_mutex_init(&board->slots[i].lock, NULL);
		board->slots[i].item = -1;
	}
	pthread_mutex_init(&board->claim_lock, NULL);
}

void
progress_board_free(ProgressBoard *board)
{
	for (int i = 0; i < board->nslots; i++)
		pthread_mutex_destroy(&board->slots[i].lock);
	pthread_mutex_destroy(&board->claim_lock);
	free(board->slots);
	memset(board, 0, sizeof(*board));
}

ProgressSlot *
progress_board_claim(ProgressBoard *board)
{
	ProgressSlot *slot = NULL;

	pthread_mutex_lock(&board->claim_lock);
	if (board->claimed < board->nslots)
		slot = &board->slots[board->claimed++];
	pthread_mutex_unlock(&board->claim_lock);
	return slot;
}

void
progress_slot_begin(ProgressSlot *slot, int item, int64_t planned)
{
	double		now = now_seconds();

	pthread_mutex_lock(&slot->lock);
	slot->item = item;
	slot->planned = planned;
	slot->started = now;
	slot->rows = slot->bytes = 0;
	pthread_mutex_unlock(&slot->lock);
}

void
progress_slot_add(ProgressSlot *slot, int64_t rows, int64_t bytes)
{
	pthread_mutex_lock(&slot->lock);
	slot->rows += rows;
	slot->bytes += bytes;
	slot->read_rows += rows;
	slot->read_bytes += bytes;
	pthread_mutex_unlock(&slot->lock);
}

void
progress_slot_end(ProgressSlot *slot, bool done, int64_t rows, int64_t bytes)
{
	pthread_mutex_lock(&slot->lock);
	if (done)
	{
		slot->done_items++;
		slot->done_rows += rows;
		slot->done_bytes += bytes;
		slot->done_planned += slot->planned;
	}
	slot->item = -1;
	slot->rows = slot->bytes = 0;
	pthread_mutex_unlock(&slot->lock);
}

void
progress_board_read(ProgressBoard *board, ProgressReading *reading)
{
	double		now = now_seconds();

	memset(reading, 0, sizeof(*reading));
	reading->flight = pg_malloc0(sizeof(ProgressInFlight) * (board->nslots > 0 ? board->nslots : 1));
	for (int i = 0; i < board->nslots; i++)
	{
		ProgressSlot *s = &board->slots[i];

		pthread_mutex_lock(&s->lock);
		reading->done_items += s->done_items;
		reading->done_rows += s->done_rows;
		reading->done_bytes += s->done_bytes;
		reading->done_planned += s->done_planned;
		reading->read_rows += s->read_rows;
		reading->read_bytes += s->read_bytes;
		if (s->item >= 0)
		{
			ProgressInFlight *f = &reading->flight[reading->nflight++];

			f->item = s->item;
			f->seconds = now - s->started;
			f->rows = s->rows;
			f->bytes = s->bytes;
			f->planned = s->planned;
		}
		pthread_mutex_unlock(&s->lock);
	}
}

void
progress_reading_free(ProgressReading *reading)
{
	free(reading->flight);
	memset(reading, 0, sizeof(*reading));
}

/* --- the current rate ------------------------------------------------------ */

void
rate_window_init(RateWindow *w, double seconds)
{
	memset(w, 0, sizeof(*w));
	w->seconds = seconds;
}

void
rate_window_add(RateWindow *w, double t, int64_t rows, int64_t bytes)
{
	w->samples[w->head].t = t;
	w->samples[w->head].rows = rows;
	w->samples[w->head].bytes = bytes;
	w->head = (w->head + 1) % RATE_WINDOW_SAMPLES;
	if (w->count < RATE_WINDOW_SAMPLES)
		w->count++;
}

bool
rate_window_rates(const RateWindow *w, double *rows_per_second, double *bytes_per_second)
{
	int			newest = (w->head + RATE_WINDOW_SAMPLES - 1) % RATE_WINDOW_SAMPLES;
	int			oldest = newest;
	double		dt;

	*rows_per_second = *bytes_per_second = 0;
	if (w->count < 2)
		return false;
	/* the oldest sample still inside the window */
	for (int k = 1; k < w->count; k++)
	{
		int			i = (newest + RATE_WINDOW_SAMPLES - k) % RATE_WINDOW_SAMPLES;

		if (w->samples[newest].t - w->samples[i].t > w->seconds)
			break;
		oldest = i;
	}
	dt = w->samples[newest].t - w->samples[oldest].t;
	if (dt < 0.5)
		return false;
	*rows_per_second = (double) (w->samples[newest].rows - w->samples[oldest].rows) / dt;
	*bytes_per_second = (double) (w->samples[newest].bytes - w->samples[oldest].bytes) / dt;
	return true;
}

/* --- the estimate ----------------------------------------------------------- */

double
progress_scale(int64_t done_bytes, int64_t done_est_bytes)
{
	if (done_bytes <= 0 || done_est_bytes <= 0)
		return 1.0;
	return (double) done_bytes / (double) done_est_bytes;
}

ProgressEstimate
progress_estimate(int64_t done, int64_t total, double per_second, bool finished)
{
	ProgressEstimate e = {.percent = 0,.eta_seconds = -1};

	if (finished)
	{
		e.percent = 100;
		e.eta_seconds = 0;
		return e;
	}
	if (total > 0)
		e.percent = 100.0 * (double) done / (double) total;
	/* an estimate is never done before the work is */
	if (e.percent > 99.9)
		e.percent = 99.9;
	if (per_second > 0)
		e.eta_seconds = total > done ? (double) (total - done) / per_second : 0;
	return e;
}

/* --- the display ------------------------------------------------------------ */

void
progress_display_init(ProgressDisplay *d, const Options *opts)
{
	memset(d, 0, sizeof(*d));
	d->last_log = now_seconds();
	if (log_level() > LOG_INFO)
		d->mode = PROGRESS_NONE;
	else if (isatty(STDERR_FILENO) && !opts->json && !opts->log_json && log_level() == LOG_INFO)
		d->mode = PROGRESS_LIVE;
	else
		d->mode = PROGRESS_LOG;
}

/* The terminal's width, 80 if it cannot be told. */
static int
terminal_columns(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

void
progress_fit(char *text, int columns)
{
	int			chars = 0;

	if (columns < 4)
		columns = 4;
	for (char *p = text; *p; p++)
	{
		if (((unsigned char) *p & 0xC0) == 0x80)
			continue;			/* a UTF-8 continuation byte */
		if (++chars > columns)
		{
			/* back up to make room for "...", on a character boundary */
			char	   *cut = p;

			for (int k = 0; k < 3 && cut > text; k++)
			{
				cut--;
				while (cut > text && ((unsigned char) *cut & 0xC0) == 0x80)
					cut--;
			}
			strcpy(cut, "...");
			return;
		}
	}
}

void
progress_show(ProgressDisplay *d, const char *line, const char *log_line, bool force)
{
	double		now = now_seconds();

	if (d->mode == PROGRESS_LIVE)
	{
		char	   *fitted = pg_strdup(line);

		/* one column short: a full line would wrap on some terminals */
		progress_fit(fitted, terminal_columns() - 1);
		fprintf(stderr, "\r%s\033[K", fitted);
		fflush(stderr);
		free(fitted);
		d->drawn = true;
	}
	else if (d->mode == PROGRESS_LOG && (force || now - d->last_log >= PROGRESS_LOG_SECONDS))
	{
		log_info("%s", log_line);
		d->last_log = now;
	}
}

void
progress_clear(ProgressDisplay *d)
{
	if (d->mode == PROGRESS_LIVE && d->drawn)
	{
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	d->drawn = false;
}
