/*
 * lagtrack.c
 *	  Lag arithmetic.  See lagtrack.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lagtrack.h"

void
lag_heartbeat(LagTracker *lt, Lsn lsn, double source_time, double local_now)
{
	if (lsn < lt->heartbeat_lsn)
		return;
	lt->heartbeat_lsn = lsn;
	lt->heartbeat_time = source_time;
	/* decoding delay makes this a lower bound of the true offset: good enough */
	lt->clock_offset = source_time - local_now;
	lt->have_offset = true;
}

void
lag_applied(LagTracker *lt, Lsn applied, double commit_time)
{
	if (commit_time > lt->applied_time)
		lt->applied_time = commit_time;
	if (applied >= lt->heartbeat_lsn && lt->heartbeat_lsn > lt->applied_heartbeat_lsn)
	{
		lt->applied_heartbeat_lsn = lt->heartbeat_lsn;
		if (lt->heartbeat_time > lt->applied_time)
			lt->applied_time = lt->heartbeat_time;
	}
}

void
lag_source_position(LagTracker *lt, Lsn current)
{
	if (current > lt->source_lsn)
		lt->source_lsn = current;
}

LagSample
lag_compute(const LagTracker *lt, Lsn applied, bool pending, double local_now)
{
	LagSample	s = {0, -1.0, false};

	s.bytes = lt->source_lsn > applied ? (int64_t) (lt->source_lsn - applied) : 0;
	if (!pending && lt->heartbeat_lsn != INVALID_LSN && applied >= lt->heartbeat_lsn)
	{
		s.caught_up = true;
		s.seconds = 0;
		return s;
	}
	if (!pending && lt->heartbeat_lsn == INVALID_LSN && applied >= lt->source_lsn &&
		lt->source_lsn != INVALID_LSN)
	{
		/* no heartbeats: caught up with the source's position */
		s.caught_up = true;
		s.seconds = 0;
		return s;
	}
	if (lt->applied_time > 0)
	{
		double		source_now = local_now + (lt->have_offset ? lt->clock_offset : 0);

		s.seconds = source_now - lt->applied_time;
		if (s.seconds < 0)
			s.seconds = 0;
	}
	return s;
}

double
lag_parse_timestamp(const char *text)
{
	struct tm	tm = {0};
	double		frac = 0;
	int			n = 0;
	const char *p;
	int			sign,
				oh = 0,
				om = 0;
	time_t		t;

	if (text == NULL ||
		sscanf(text, "%4d-%2d-%2d %2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -1;
	p = text + n;
	if (*p == '.')
	{
		double		scale = 0.1;

		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p == '-' ? -1 : 1;
	if (sscanf(p + 1, "%2d:%2d", &oh, &om) < 1)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	return (double) t + frac - sign * (oh * 3600 + om * 60);
}
