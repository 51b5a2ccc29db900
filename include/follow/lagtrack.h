/*
 * lagtrack.h
 *	  Replication lag, in bytes and in seconds, from what follow observes:
 *	  heartbeats (non-transactional logical messages carrying the source's
 *	  clock), the commit times of applied transactions, the source's WAL
 *	  position and the durably applied position.  Pure arithmetic, so it can
 *	  be tested with any clocks, skewed ones included.
 *
 *	  Seconds are measured on the source's clock only (commit times and
 *	  heartbeats), with the offset to the local clock learnt from the newest
 *	  heartbeat; a skewed local clock can therefore not make lag negative or
 *	  absurd.
 */
#ifndef PGCUTOVER_LAGTRACK_H
#define PGCUTOVER_LAGTRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "lsn.h"

typedef struct LagTracker
{
	Lsn			heartbeat_lsn;	/* newest heartbeat received */
	double		heartbeat_time; /* its source clock (epoch seconds) */
	bool		have_offset;
	double		clock_offset;	/* source clock minus local clock */
	Lsn			applied_heartbeat_lsn;	/* newest heartbeat the applied position covers */
	double		applied_time;	/* source time of the newest applied commit or heartbeat */
	Lsn			source_lsn;		/* source's current WAL position, as last read */
} LagTracker;

typedef struct LagSample
{
	int64_t		bytes;
	double		seconds;		/* < 0: unknown */
	bool		caught_up;
} LagSample;

/* A heartbeat arrived at WAL position lsn with source time source_time. */
void		lag_heartbeat(LagTracker *lt, Lsn lsn, double source_time, double local_now);

/* The applied position reached applied, whose newest commit is commit_time (<= 0: unknown). */
void		lag_applied(LagTracker *lt, Lsn applied, double commit_time);

/* The source's current WAL position. */
void		lag_source_position(LagTracker *lt, Lsn current);

/* Lag now; pending says a transaction or group is still being applied. */
LagSample	lag_compute(const LagTracker *lt, Lsn applied, bool pending, double local_now);

/* Parses "2026-11-23 13:36:47.015625+00" (ISO, any offset) to epoch seconds; < 0 on error. */
double		lag_parse_timestamp(const char *text);

#endif
