/*
 * alloc.c
 *	  Allocation that never returns NULL, string lists, clocks and size
 *	  formatting: the small helpers every module uses.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "alloc.h"

static void
out_of_memory(void)
{
	fputs("pgcutover: FATAL: out of memory\n", stderr);
	exit(ALLOC_EXIT_OOM);
}

void *
pg_malloc0(size_t size)
{
	void	   *p = calloc(1, size ? size : 1);

	if (p == NULL)
		out_of_memory();
	return p;
}

void *
pg_realloc(void *ptr, size_t size)
{
	void	   *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		out_of_memory();
	return p;
}

char *
pg_strdup(const char *s)
{
	char	   *p = strdup(s ? s : "");

	if (p == NULL)
		out_of_memory();
	return p;
}

char *
pvsprintf(const char *fmt, va_list ap)
{
	char	   *buf;

	if (vasprintf(&buf, fmt, ap) < 0)
		out_of_memory();
	return buf;
}

char *
psprintf(const char *fmt,...)
{
	va_list		ap;
	char	   *buf;

	va_start(ap, fmt);
	buf = pvsprintf(fmt, ap);
	va_end(ap);
	return buf;
}

void
strlist_add(StrList *list, const char *s)
{
	list->items = pg_realloc(list->items, sizeof(char *) * (list->count + 1));
	list->items[list->count++] = pg_strdup(s);
}

bool
strlist_contains(const StrList *list, const char *s)
{
	for (int i = 0; i < list->count; i++)
		if (strcmp(list->items[i], s) == 0)
			return true;
	return false;
}

void
strlist_free(StrList *list)
{
	for (int i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double
epoch_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

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

/* Parses "123", "64kB", "16MB", "1GB", "2TB" (case-insensitive, 1024-based). */
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
