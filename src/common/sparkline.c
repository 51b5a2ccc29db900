/*
 * sparkline.c
 *	  Bars for a series of values.  See sparkline.h.
 */
#include <string.h>
#include <strings.h>

#include "sparkline.h"

#define LEVELS 8

/* lowest to highest; each UTF-8 bar is 3 bytes */
static const char *const bars_utf8[LEVELS] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
static const char bars_ascii[LEVELS] = {'_', '.', '-', '~', '=', '+', '*', '#'};

size_t
sparkline_buckets(const double *values, size_t n, size_t width, double *out)
{
	size_t		buckets;

	if (n == 0 || width == 0)
		return 0;
	buckets = n < width ? n : width;
	for (size_t b = 0; b < buckets; b++)
	{
		/* bucket b covers [b*n/buckets, (b+1)*n/buckets): every value once */
		size_t		from = b * n / buckets;
		size_t		to = (b + 1) * n / buckets;

		out[b] = -1;
		for (size_t i = from; i < to; i++)
			if (values[i] >= 0 && values[i] > out[b])
				out[b] = values[i];
	}
	return buckets;
}

char *
sparkline_render(const double *values, size_t n, size_t width, bool utf8, char *buf, size_t len)
{
	double		bucket[512];
	size_t		buckets;
	double		max = 0;
	size_t		used = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (width > sizeof(bucket) / sizeof(bucket[0]))
		width = sizeof(bucket) / sizeof(bucket[0]);
	buckets = sparkline_buckets(values, n, width, bucket);
	for (size_t b = 0; b < buckets; b++)
		if (bucket[b] > max)
			max = bucket[b];
	for (size_t b = 0; b < buckets; b++)
	{
		const char *bar;
		char		ascii[2] = {0, 0};
		size_t		blen;

		if (bucket[b] < 0)
			bar = " ";
		else
		{
			/* 0 is the lowest bar, max the highest; all-zero is all lowest */
			int			level = max > 0 ? (int) (bucket[b] / max * (LEVELS - 1) + 0.5) : 0;

			if (level < 0)
				level = 0;
			if (level > LEVELS - 1)
				level = LEVELS - 1;
			if (utf8)
				bar = bars_utf8[level];
			else
			{
				ascii[0] = bars_ascii[level];
				bar = ascii;
			}
		}
		blen = strlen(bar);
		if (used + blen + 1 > len)
			break;
		memcpy(buf + used, bar, blen);
		used += blen;
		buf[used] = '\0';
	}
	return buf;
}

static bool
names_utf8(const char *locale)
{
	const char *dot = strchr(locale, '.');
	const char *codeset = dot ? dot + 1 : locale;

	return strncasecmp(codeset, "UTF-8", 5) == 0 || strncasecmp(codeset, "UTF8", 4) == 0;
}

bool
sparkline_locale_is_utf8(const char *lc_all, const char *lc_ctype, const char *lang)
{
	const char *vars[3] = {lc_all, lc_ctype, lang};

	for (int i = 0; i < 3; i++)
		if (vars[i] && vars[i][0])
			return names_utf8(vars[i]);
	return false;
}
