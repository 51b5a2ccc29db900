/*
 * catchup.c
 *	  The catch-up rule and its rates.  See catchup.h.
 */
#include "catchup.h"

void
catch_up_rates(const LagPoint *points, size_t n, double window_seconds, double now, CatchUpInput *in)
{
	const LagPoint *last;
	const LagPoint *first;
	double		span;

	in->window_seconds = 0;
	in->apply_bytes_per_sec = -1;
	in->source_wal_bytes_per_sec = -1;
	if (n < 2 || now - points[n - 1].at > CATCH_UP_STALE_SECONDS)
		return;
	last = &points[n - 1];
	first = last;
	for (size_t i = n - 1; i-- > 0;)
	{
		if (last->at - points[i].at > window_seconds)
			break;
		first = &points[i];
	}
	span = last->at - first->at;
	if (first == last || span <= 0)
		return;
	in->window_seconds = span;
	in->apply_bytes_per_sec = last->applied_lsn >= first->applied_lsn
		? (double) (last->applied_lsn - first->applied_lsn) / span : 0;
	if (first->source_lsn != 0 && last->source_lsn != 0)
		in->source_wal_bytes_per_sec = last->source_lsn >= first->source_lsn
			? (double) (last->source_lsn - first->source_lsn) / span : 0;
}

CatchUp
catch_up_assess(const CatchUpInput *in)
{
	CatchUp		c = {CATCH_UP_UNKNOWN, -1, in->window_seconds, in->apply_bytes_per_sec,
	in->source_wal_bytes_per_sec};
	bool		near_zero = in->lag_seconds >= 0
		? in->lag_seconds <= CATCH_UP_NEAR_ZERO_SECONDS
		: in->lag_bytes <= CATCH_UP_NEAR_ZERO_BYTES;
	double		net;

	if (near_zero && (in->follower_alive || in->lag_bytes == 0))
	{
		c.state = CATCH_UP_CAUGHT_UP;
		c.eta_seconds = 0;
		return c;
	}
	if (!in->follower_alive || in->window_seconds < CATCH_UP_MIN_WINDOW ||
		in->apply_bytes_per_sec < 0 || in->source_wal_bytes_per_sec < 0)
		return c;
	net = in->apply_bytes_per_sec - in->source_wal_bytes_per_sec;
	if (net <= 0)
	{
		c.state = CATCH_UP_FALLING_BEHIND;
		return c;
	}
	c.state = CATCH_UP_CATCHING_UP;
	c.eta_seconds = (double) in->lag_bytes / net;
	return c;
}

const char *
catch_up_state_name(CatchUpState state)
{
	switch (state)
	{
		case CATCH_UP_CAUGHT_UP:
			return "caught_up";
		case CATCH_UP_CATCHING_UP:
			return "catching_up";
		case CATCH_UP_FALLING_BEHIND:
			return "falling_behind";
		case CATCH_UP_UNKNOWN:
			break;
	}
	return "unknown";
}
