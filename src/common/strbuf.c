/*
 * strbuf.c
 *	  Growable strings.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "strbuf.h"

static void
reserve(StrBuf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	b->cap = (b->len + extra + 1) * 2;
	b->data = realloc(b->data, b->cap);
	if (b->data == NULL)
	{
		fputs("pgcutover: FATAL: out of memory\n", stderr);
		exit(ALLOC_EXIT_OOM);
	}
}

void
strbuf_init(StrBuf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
	reserve(b, 64);
	b->data[0] = '\0';
}

void
strbuf_reset(StrBuf *b)
{
	b->len = 0;
	b->data[0] = '\0';
}

void
strbuf_append_len(StrBuf *b, const char *s, size_t n)
{
	reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
strbuf_append(StrBuf *b, const char *s)
{
	strbuf_append_len(b, s, strlen(s));
}

void
strbuf_printf(StrBuf *b, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	reserve(b, (size_t) n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
}

void
strbuf_free(StrBuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
