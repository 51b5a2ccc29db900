/*
 * catchup.h
 *	  Will the target catch up, and when?  From the lag now and two rates
 *	  over a recent window of the follower's lag history: how fast the
 *	  target applies the source's WAL and how fast the source writes it.
 *
 *	    caught_up        lag is near zero (<= 1 s, or <= 1 MB when seconds
 *	                     are unknown)
 *	    catching_up      apply rate > source WAL rate: ETA = lag bytes /
 *	                     (apply rate - source rate)
 *	    falling_behind   source WAL rate >= apply rate while behind: never,
 *	                     at this rate
 *	    unknown          no live follower, less than CATCH_UP_MIN_WINDOW
 *	                     seconds of history, or none in the last
 *	                     CATCH_UP_STALE_SECONDS (a follower stuck on a lock
 *	                     writes none)
 *
 *	  Pure: status feeds it the samples of pgcutover.lag_history.
 */
#ifndef PGCUTOVER_CATCHUP_H
#define PGCUTOVER_CATCHUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CATCH_UP_WINDOW_SECONDS 60.0	/* rates are measured over this much history */
#define CATCH_UP_MIN_WINDOW 5.0 /* less history than this: unknown */
#define CATCH_UP_STALE_SECONDS 5.0	/* no point this recent: unknown */
#define CATCH_UP_NEAR_ZERO_SECONDS 1.0
#define CATCH_UP_NEAR_ZERO_BYTES (1024 * 1024)

/* One second of the follower's lag history (pgcutover.lag_history). */
typedef struct LagPoint
{
	double		at;				/* epoch seconds (the target's clock) */
	int64_t		lag_bytes;
	double		lag_seconds;	/* < 0: unknown */
	uint64_t	applied_lsn;	/* positions as byte offsets */
	uint64_t	source_lsn;		/* 0: unknown */
	double		txn_per_sec;
} LagPoint;

typedef enum CatchUpState
{
	CATCH_UP_UNKNOWN,
	CATCH_UP_CAUGHT_UP,
	CATCH_UP_CATCHING_UP,
	CATCH_UP_FALLING_BEHIND
} CatchUpState;

typedef struct CatchUpInput
{
	bool		follower_alive;
	int64_t		lag_bytes;
	double		lag_seconds;	/* < 0: unknown */
	double		window_seconds; /* the span the rates were measured over */
	double		apply_bytes_per_sec;	/* < 0: unknown */
	double		source_wal_bytes_per_sec;	/* < 0: unknown */
} CatchUpInput;

typedef struct CatchUp
{
	CatchUpState state;
	double		eta_seconds;	/* catching_up: seconds until caught up; else < 0 */
	double		window_seconds;
	double		apply_bytes_per_sec;	/* < 0: unknown */
	double		source_wal_bytes_per_sec;	/* < 0: unknown */
} CatchUp;

/*
 * Fills in the rates of points[0..n) (oldest first) over the newest
 * window_seconds of them, ending at the newest point: window, apply and
 * source rates (< 0 when fewer than two points, no source position, or the
 * newest point is more than CATCH_UP_STALE_SECONDS older than now).
 */
void		catch_up_rates(const LagPoint *points, size_t n, double window_seconds, double now,
						   CatchUpInput *in);

/* The rule above. */
CatchUp		catch_up_assess(const CatchUpInput *in);

/* "caught_up", "catching_up", "falling_behind", "unknown" */
const char *catch_up_state_name(CatchUpState state);

#endif							/* PGCUTOVER_CATCHUP_H */
