/*
 * sparkline.h
 *	  A row of bars for a series of values ("▁▂▃█▅▁"), as `status` draws the
 *	  recent lag: the series is cut into at most `width` buckets (the largest
 *	  value of each bucket stands for it, so a spike is never averaged away)
 *	  and scaled from 0 to the largest value.  Unicode block characters when
 *	  the terminal's locale is UTF-8, ASCII otherwise.  Pure: no I/O.
 */
#ifndef PGCUTOVER_SPARKLINE_H
#define PGCUTOVER_SPARKLINE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Reduces values[0..n) (oldest first) to at most width buckets in out (the
 * maximum of each; a negative value means unknown and is left out of its
 * bucket, a bucket of unknowns is -1).  Returns the number of buckets.
 */
size_t		sparkline_buckets(const double *values, size_t n, size_t width, double *out);

/*
 * Writes the bars of values[0..n) into buf (NUL-terminated, truncated to
 * len): at most width bars, one per bucket.  An unknown bucket is a space.
 * Returns buf.
 */
char	   *sparkline_render(const double *values, size_t n, size_t width, bool utf8,
							 char *buf, size_t len);

/*
 * Is the locale of these variables UTF-8?  The first one set and non-empty
 * decides, as setlocale() would (LC_ALL, then LC_CTYPE, then LANG); NULL or
 * empty values are skipped.
 */
bool		sparkline_locale_is_utf8(const char *lc_all, const char *lc_ctype, const char *lang);

#endif							/* PGCUTOVER_SPARKLINE_H */
