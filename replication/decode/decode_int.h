/*
 * decode_int.h
 *	  What the files of the wal2json decoder share and nobody else uses:
 *	  the Decoder and its arena, the state of parsing one message, the JSON
 *	  readers (json_parser.c) and the column arrays (wal2json_columns.c)
 *	  that the message (wal2json.c) is made of.
 */
#ifndef PGCUTOVER_DECODE_INT_H
#define PGCUTOVER_DECODE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decoder.h"

/* A reused array of columns. */
typedef struct ColVec
{
	ChangeColumn *items;
	int			n;
	int			cap;
} ColVec;

/* Everything a decoded Change points to (decoder.h). */
struct Decoder
{
	char	   *arena;
	size_t		arena_cap;
	size_t		arena_used;
	ColVec		columns;
	ColVec		identity;
	const char **pk;
	int			npk;
	int			pk_cap;
	char		errbuf[160];
};

/* Parsing state for one message; errors carry a static text and an offset. */
typedef struct JsonParser
{
	const unsigned char *s;
	size_t		len;
	size_t		pos;
	Decoder    *d;
	const char *err;
	size_t		erroff;
} JsonParser;

/* A key name with its length, so lookups need no strlen. */
typedef struct JsonKey
{
	const char *name;
	size_t		len;
} JsonKey;

#define JSON_KEY(s)	{s, sizeof(s) - 1}

/* Takes n bytes of the arena; NULL when the message's share is used up. */
static inline char *
decoder_arena_alloc(Decoder *d, size_t n)
{
	char	   *p;

	if (n > d->arena_cap - d->arena_used)
		return NULL;
	p = d->arena + d->arena_used;
	d->arena_used += n;
	return p;
}

/*
 * The lexical level, inline: every value starts with them.  Errors carry a
 * static text and the byte offset; jp_fail returns false.
 */
static inline bool
jp_fail(JsonParser *P, size_t off, const char *msg)
{
	P->err = msg;
	P->erroff = off;
	return false;
}

static inline void
jp_skip_ws(JsonParser *P)
{
	while (P->pos < P->len)
	{
		unsigned char c = P->s[P->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		P->pos++;
	}
}

/* Skips whitespace and returns the next byte without consuming it. */
static inline bool
jp_peek(JsonParser *P, unsigned char *c)
{
	/* wal2json puts no whitespace between tokens: try that first */
	if (P->pos < P->len && P->s[P->pos] > ' ')
	{
		*c = P->s[P->pos];
		return true;
	}
	jp_skip_ws(P);
	if (P->pos >= P->len)
		return jp_fail(P, P->pos, "unexpected end of input");
	*c = P->s[P->pos];
	return true;
}

static inline bool
jp_expect(JsonParser *P, unsigned char want, const char *msg)
{
	unsigned char c;

	if (!jp_peek(P, &c))
		return false;
	if (c != want)
		return jp_fail(P, P->pos, msg);
	P->pos++;
	return true;
}

static inline bool
jp_match_literal(JsonParser *P, const char *lit, size_t n)
{
	if (P->len - P->pos < n || memcmp(P->s + P->pos, lit, n) != 0)
		return jp_fail(P, P->pos, "invalid literal");
	P->pos += n;
	return true;
}

/*
 * Values (json_parser.c), each read at P->pos (after whitespace) and left
 * behind.  Strings are unescaped into the arena and NUL-terminated;
 * jp_string_value leaves reserve bytes free in front of the text.
 * jp_scan_number only finds a number's end: its text is the bytes read.
 */
bool		jp_scan_number(JsonParser *P, bool *integral);
bool		jp_copy_slice(JsonParser *P, size_t start, size_t end, const char **out);
bool		jp_string_value(JsonParser *P, size_t reserve, char **out, size_t *outlen);
bool		jp_cstring_value(JsonParser *P, const char **out, size_t *outlen);
bool		jp_nullable_string_value(JsonParser *P, const char **out);
bool		jp_int_value(JsonParser *P, int64_t min, int64_t max, bool null_ok, int64_t *out);
bool		jp_bool_value(JsonParser *P, bool *out);
bool		jp_skip_value(JsonParser *P, int depth);

/*
 * Objects and arrays one member or element at a time (json_parser.c): 1
 * positioned at the value (a member's key looked up in names, -1 when
 * unknown), 0 after the closing bracket, -1 on error.
 */
int			jp_next_member(JsonParser *P, bool *first, const JsonKey *names,
						   uint32_t *seen, int *k);
int			jp_next_element(JsonParser *P, bool *first);

/*
 * The arrays of column objects (wal2json_columns.c): "columns" and
 * "identity" into vec, "pk" (names only) into P->d->pk.
 */
bool		wal2json_parse_columns(JsonParser *P, ColVec *vec, bool want_value);
bool		wal2json_parse_pk(JsonParser *P);

#endif							/* PGCUTOVER_DECODE_INT_H */
