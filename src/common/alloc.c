/*
 * alloc.c
 *	  Allocation that never returns NULL, string lists and clocks: the small
 *	  helpers every module uses.  Units and human formats are in units.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
strlist_add_missing(StrList *to, const StrList *from)
{
	for (int i = 0; i < from->count; i++)
		if (!strlist_contains(to, from->items[i]))
			strlist_add(to, from->items[i]);
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
