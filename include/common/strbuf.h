/*
 * strbuf.h
 *	  A growable string, for building SQL.
 */
#ifndef PGCUTOVER_STRBUF_H
#define PGCUTOVER_STRBUF_H

#include <stddef.h>

typedef struct StrBuf
{
	char	   *data;			/* always NUL-terminated once initialised */
	size_t		len;
	size_t		cap;
} StrBuf;

void		strbuf_init(StrBuf *b);
void		strbuf_reset(StrBuf *b);
void		strbuf_append(StrBuf *b, const char *s);
void		strbuf_append_len(StrBuf *b, const char *s, size_t n);
void		strbuf_printf(StrBuf *b, const char *fmt,...) __attribute__((format(printf, 2, 3)));
void		strbuf_free(StrBuf *b);

#endif
