/*
 * units.c
 *	  Sizes, durations and timestamps: parsing what users type and
 *	  formatting what they read.  See units.h.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "units.h"

char *
format_bytes(int64_t bytes, char *buf, size_t len)
{
	const char *units[] = {"B", "kB", "MB", "GB", "TB"};
	double		v = (double) bytes;
	int			u = 0;

	while (v >= 1024.0 && u < 4)
	{
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%lld B", (long long) bytes);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

bool
parse_size(const char *s, int64_t *out)
{
	char	   *end;
	long long	v;
	int64_t		mult = 1;

	if (s == NULL || !isdigit((unsigned char) *s))
		return false;
	v = strtoll(s, &end, 10);
	while (*end == ' ')
		end++;
	if (*end == '\0' || strcasecmp(end, "b") == 0)
		mult = 1;
	else if (strcasecmp(end, "k") == 0 || strcasecmp(end, "kb") == 0)
		mult = 1024;
	else if (strcasecmp(end, "m") == 0 || strcasecmp(end, "mb") == 0)
		mult = 1024 * 1024;
	else if (strcasecmp(end, "g") == 0 || strcasecmp(end, "gb") == 0)
		mult = 1024LL * 1024 * 1024;
	else if (strcasecmp(end, "t") == 0 || strcasecmp(end, "tb") == 0)
		mult = 1024LL * 1024 * 1024 * 1024;
	else
		return false;
	if (v < 0 || v > INT64_MAX / mult)
		return false;
	*out = (int64_t) v * mult;
	return true;
}

bool
parse_duration(const char *s, double default_unit_seconds, double *seconds)
{
	static const struct
	{
		const char *name;
		double		seconds;
	}			units[] = {
		{"us", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"min", 60}, {"h", 3600}, {"d", 86400}
	};
	char	   *end;
	double		v;

	if (s == NULL || !(isdigit((unsigned char) *s) || *s == '.'))
		return false;
	v = strtod(s, &end);
	if (end == s || !isfinite(v) || v < 0)
		return false;
	while (*end == ' ')
		end++;
	if (*end == '\0')
	{
		*seconds = v * default_unit_seconds;
		return true;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].name) == 0)
		{
			*seconds = v * units[i].seconds;
			return true;
		}
	return false;
}

char *
format_duration(double seconds, char *buf, size_t len)
{
	long long	whole;

	if (!(seconds >= 0) || !isfinite(seconds))
		snprintf(buf, len, "-");
	else if (seconds < 0.01)
		snprintf(buf, len, "%.1f ms", seconds * 1000.0);
	else if (seconds < 1)
		snprintf(buf, len, "%.0f ms", seconds * 1000.0);
	else if (seconds < 60)
		snprintf(buf, len, "%.1f s", seconds);
	else
	{
		whole = (long long) llround(seconds);
		if (whole < 3600)
			snprintf(buf, len, "%lld min %02lld s", whole / 60, whole % 60);
		else if (whole < 86400)
			snprintf(buf, len, "%lld h %02lld min", whole / 3600, (whole % 3600) / 60);
		else
			snprintf(buf, len, "%lld d %02lld h", whole / 86400, (whole % 86400) / 3600);
	}
	return buf;
}

char *
format_rate(double bytes_per_second, char *buf, size_t len)
{
	char		b[32];

	format_bytes(bytes_per_second > 0 ? (int64_t) bytes_per_second : 0, b, sizeof(b));
	snprintf(buf, len, "%s/s", b);
	return buf;
}

char *
format_rfc3339(double epoch, char *buf, size_t len)
{
	time_t		t = (time_t) floor(epoch);
	int			ms = (int) ((epoch - floor(epoch)) * 1000.0);
	struct tm	tm;

	if (ms > 999)
		ms = 999;
	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
	return buf;
}

double
round_ms(double ms)
{
	return round(ms * 10.0) / 10.0;
}
