/*
 * units.h
 *	  Quantities as people read and write them: sizes ("16MB"), durations in
 *	  PostgreSQL's GUC units ("500ms", "5min"), and their human forms for
 *	  progress lines and status ("1.5 MB", "18.8 s", "2 h 05 min"), plus
 *	  RFC 3339 timestamps for JSON.  Pure: no libpq, no I/O.
 */
#ifndef PGCUTOVER_UNITS_H
#define PGCUTOVER_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "1234 B", "1.5 kB", "18.3 MB" (1024-based, one decimal). */
char	   *format_bytes(int64_t bytes, char *buf, size_t len);

/* Parses "123", "64kB", "16MB", "1GB", "2TB" (case-insensitive, 1024-based). */
bool		parse_size(const char *s, int64_t *out);

/*
 * Parses a duration with an optional GUC unit: us, ms, s, min, h, d (as in
 * postgresql.conf; case-sensitive like PostgreSQL's).  A bare number is in
 * default_unit_seconds units (1 for options documented in seconds).  Decimal
 * values are accepted ("1.5s", "0.5").  Rejects negatives, NaN, trailing junk.
 */
bool		parse_duration(const char *s, double default_unit_seconds, double *seconds);

/*
 * "0.8 ms", "412 ms", "18.8 s", "4 min 05 s", "2 h 05 min", "3 d 04 h":
 * two significant parts at most, for lag and ETAs.  Negative prints "-".
 */
char	   *format_duration(double seconds, char *buf, size_t len);

/* "18.3 MB/s" */
char	   *format_rate(double bytes_per_second, char *buf, size_t len);

/* Wall-clock epoch seconds as RFC 3339 UTC with milliseconds: 2026-11-30T09:58:31.123Z */
char	   *format_rfc3339(double epoch, char *buf, size_t len);

/* Rounds a duration in milliseconds to 0.1 ms, the JSON contract's precision. */
double		round_ms(double ms);

#endif							/* PGCUTOVER_UNITS_H */
