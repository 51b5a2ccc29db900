/*
 * copy_progress.h
 *	  What the copy shows a person while it runs (src/copy's own; here for
 *	  the unit tests):
 *
 *	    ProgressBoard    one slot per worker thread: the item (job or step)
 *	                     in hand, what it has streamed so far, what the
 *	                     worker has finished.  A slot is written by its own
 *	                     worker and read by the leader, each under the
 *	                     slot's own mutex, so a reading is consistent per
 *	                     worker and never races (see workpool.h: this is
 *	                     the caller's own protection of spec->arg).
 *	    RateWindow       the current rate: the last RATE_WINDOW_SECONDS of
 *	                     the leader's samples, not the average since start.
 *	    progress_estimate  percent and ETA against an estimated total,
 *	                     below 100 % until the work is done.
 *	    ProgressDisplay  where it goes: a live line redrawn in place on a
 *	                     terminal, a log line every PROGRESS_LOG_SECONDS
 *	                     elsewhere (and with --json, --verbose, --log-json),
 *	                     nothing with --quiet.
 *
 *	  The pure pieces (window, estimate, line fitting) are unit-tested in
 *	  tests/unit/test_copy_progress.c.
 */
#ifndef PGCUTOVER_COPY_PROGRESS_H
#define PGCUTOVER_COPY_PROGRESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "options.h"

#define RATE_WINDOW_SECONDS 5.0
#define PROGRESS_LOG_SECONDS 10.0

/* --- the board ------------------------------------------------------------ */

typedef struct ProgressSlot
{
	pthread_mutex_t lock;
	/* everything below under lock */
	int			item;			/* index in hand, -1: none */
	double		started;		/* now_seconds() when it was taken */
	int64_t		rows;			/* of the item in hand, so far */
	int64_t		bytes;
	int64_t		done_items;		/* finished by this worker */
	int64_t		done_rows;		/* their final counts */
	int64_t		done_bytes;
	int64_t		done_planned;	/* the plan's estimate of those items */
	int64_t		planned;		/* the plan's estimate of the item in hand */
	int64_t		read_rows;		/* every row read, failed items too: the rate */
	int64_t		read_bytes;
} ProgressSlot;

typedef struct ProgressBoard
{
	int			nslots;
	ProgressSlot *slots;
	pthread_mutex_t claim_lock;
	int			claimed;		/* under claim_lock */
} ProgressBoard;

/* One item in flight, as the leader read it. */
typedef struct ProgressInFlight
{
	int			item;
	double		seconds;		/* since it was taken */
	int64_t		rows;
	int64_t		bytes;
	int64_t		planned;
} ProgressInFlight;

/* The whole board at one moment (sums over the slots). */
typedef struct ProgressReading
{
	int64_t		done_items;
	int64_t		done_rows;
	int64_t		done_bytes;
	int64_t		done_planned;
	int64_t		read_rows;
	int64_t		read_bytes;
	int			nflight;
	ProgressInFlight *flight;	/* nslots entries */
} ProgressReading;

void		progress_board_init(ProgressBoard *board, int nslots);
void		progress_board_free(ProgressBoard *board);

/* In a worker's start: its own slot (NULL if every slot is taken: a bug). */
ProgressSlot *progress_board_claim(ProgressBoard *board);

/* The worker: an item taken, rows and bytes streamed, the item ended. */
void		progress_slot_begin(ProgressSlot *slot, int item, int64_t planned);
void		progress_slot_add(ProgressSlot *slot, int64_t rows, int64_t bytes);
void		progress_slot_end(ProgressSlot *slot, bool done, int64_t rows, int64_t bytes);

/* The leader: reads every slot (reading->flight is allocated here; free with progress_reading_free). */
void		progress_board_read(ProgressBoard *board, ProgressReading *reading);
void		progress_reading_free(ProgressReading *reading);

/* --- the current rate ------------------------------------------------------ */

#define RATE_WINDOW_SAMPLES 128

typedef struct RateWindow
{
	double		seconds;
	int			count;
	int			head;			/* where the next sample goes */
	struct
	{
		double		t;
		int64_t		rows;
		int64_t		bytes;
	}			samples[RATE_WINDOW_SAMPLES];
} RateWindow;

void		rate_window_init(RateWindow *w, double seconds);

/* A sample of the cumulative counts at time t (seconds, increasing). */
void		rate_window_add(RateWindow *w, double t, int64_t rows, int64_t bytes);

/* Rates over the window; false until it spans half a second. */
bool		rate_window_rates(const RateWindow *w, double *rows_per_second, double *bytes_per_second);

/* --- the estimate ----------------------------------------------------------- */

/*
 * How many stream bytes one byte of a relation's size (the plan's estimate)
 * turned out to be, over the jobs finished so far; 1 until one has.
 */
double		progress_scale(int64_t done_bytes, int64_t done_est_bytes);

typedef struct ProgressEstimate
{
	double		percent;		/* of the estimate; < 100 until finished */
	double		eta_seconds;	/* < 0: unknown (no rate yet) */
} ProgressEstimate;

ProgressEstimate progress_estimate(int64_t done, int64_t total, double per_second, bool finished);

/* --- the display ------------------------------------------------------------ */

typedef enum ProgressMode
{
	PROGRESS_NONE,				/* --quiet */
	PROGRESS_LOG,				/* no terminal, --json, --verbose... */
	PROGRESS_LIVE				/* a terminal: one line redrawn in place */
} ProgressMode;

typedef struct ProgressDisplay
{
	ProgressMode mode;
	double		last_log;		/* now_seconds() of the last log line */
	bool		drawn;			/* a live line is on the screen */
} ProgressDisplay;

void		progress_display_init(ProgressDisplay *d, const Options *opts);

/*
 * Shows the progress: live, line (fitted to the terminal's width) replaces
 * the one on the screen; otherwise log_line is logged when
 * PROGRESS_LOG_SECONDS have passed since the last one, or at once when
 * force is set.
 */
void		progress_show(ProgressDisplay *d, const char *line, const char *log_line, bool force);

/* Takes a live line off the screen (before a log line, or at the end). */
void		progress_clear(ProgressDisplay *d);

/*
 * Cuts text to at most columns characters (UTF-8 aware), ending with "..."
 * when cut; in place.
 */
void		progress_fit(char *text, int columns);

#endif							/* PGCUTOVER_COPY_PROGRESS_H */
