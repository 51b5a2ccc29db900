/*
 * alloc.h
 *	  Allocation that never returns NULL, string lists and clocks: the small
 *	  helpers every layer uses, the pure ones included
 *	  (nothing here needs libpq).
 */
#ifndef PGCUTOVER_ALLOC_H
#define PGCUTOVER_ALLOC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "units.h"

/* Exit status when memory runs out: EXIT_INTERNAL, see src/cli/exitcode.h. */
#define ALLOC_EXIT_OOM 1

typedef struct StrList
{
	char	  **items;
	int			count;
} StrList;

void		strlist_add(StrList *list, const char *s);
bool		strlist_contains(const StrList *list, const char *s);
void		strlist_add_missing(StrList *to, const StrList *from);	/* the items of from not in to */
void		strlist_free(StrList *list);

void	   *pg_malloc0(size_t size);
void	   *pg_realloc(void *ptr, size_t size);
char	   *pg_strdup(const char *s);
char	   *psprintf(const char *fmt,...) __attribute__((format(printf, 1, 2)));
char	   *pvsprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
double		now_seconds(void);	/* monotonic */
double		epoch_seconds(void);	/* wall clock */

#endif							/* PGCUTOVER_ALLOC_H */
