/*
 * decoder.c
 *	  A strict, allocation-free-in-steady-state parser for the wal2json
 *	  (format-version 2) messages of the replication stream.
 *
 *	  This file owns turning one message's bytes into a Change: the JSON
 *	  grammar (RFC 8259, no extensions), string unescaping to UTF-8, keeping
 *	  numbers as their literal text, and the few wal2json quirks a consumer
 *	  must undo (bytea without "\x", type names printed without escaping).
 *	  It knows nothing about connections, SQL or the apply logic.
 *
 *	  Memory: every string handed out lives in one arena owned by the
 *	  Decoder, sized once per call to the message length (an unescaped value
 *	  plus its NUL never needs more bytes than its JSON token plus the
 *	  separator after it), and column arrays live in vectors reused from one
 *	  call to the next.  Both are trimmed after an unusually large message.
 *	  Bytes >= 0x80 are passed through unvalidated: wal2json emits the
 *	  server's bytes as they are (message content can hold any bytes, and a
 *	  non-UTF8 database produces non-UTF8 text); the target validates them.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decoder.h"
#include "alloc.h"

#define MAX_DEPTH		64		/* nesting allowed inside skipped values */
#define ARENA_SLACK		64
#define ARENA_MIN		4096
#define ARENA_KEEP		(1024 * 1024)	/* keep at most this much idle */
#define VEC_KEEP		2048	/* PostgreSQL allows 1600 columns */
#define BYTEAOID		17

typedef struct ColVec
{
	ChangeColumn *items;
	int			n;
	int			cap;
} ColVec;

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
typedef struct Parser
{
	const unsigned char *s;
	size_t		len;
	size_t		pos;
	Decoder    *d;
	const char *err;
	size_t		erroff;
} Parser;

/* A string token's contents, between the quotes. */
typedef struct Slice
{
	size_t		start;
	size_t		end;
	bool		escaped;
} Slice;

/* Keys of the message object; order matches top_keys[]. */
enum
{
	K_ACTION, K_XID, K_TIMESTAMP, K_LSN, K_NEXTLSN, K_SCHEMA, K_TABLE,
	K_COLUMNS, K_IDENTITY, K_PK, K_TRANSACTIONAL, K_PREFIX, K_CONTENT,
	K_NKEYS
};

/* A key name with its length, so lookups need no strlen. */
typedef struct KeyName
{
	const char *name;
	size_t		len;
} KeyName;

#define KEY(s)	{s, sizeof(s) - 1}

static const KeyName top_keys[] = {
	KEY("action"), KEY("xid"), KEY("timestamp"), KEY("lsn"), KEY("nextlsn"),
	KEY("schema"), KEY("table"), KEY("columns"), KEY("identity"), KEY("pk"),
	KEY("transactional"), KEY("prefix"), KEY("content"), {NULL, 0}
};

static const char *const missing_msg[K_NKEYS] = {
	"missing key \"action\"", "missing key \"xid\"",
	"missing key \"timestamp\"", "missing key \"lsn\"",
	"missing key \"nextlsn\"", "missing key \"schema\"",
	"missing key \"table\"", "missing key \"columns\"",
	"missing key \"identity\"", "missing key \"pk\"",
	"missing key \"transactional\"", "missing key \"prefix\"",
	"missing key \"content\""
};

_Static_assert(sizeof(top_keys) / sizeof(top_keys[0]) == K_NKEYS + 1,
			   "top_keys[] does not match the K_ enum");
_Static_assert(K_NKEYS <= 32, "seen-key masks are 32 bits");

/* Keys of a column object; order matches column_keys[]. */
enum
{
	CK_NAME, CK_TYPE, CK_TYPEOID, CK_VALUE, CK_NKEYS
};

static const KeyName column_keys[] = {
	KEY("name"), KEY("type"), KEY("typeoid"), KEY("value"), {NULL, 0}
};

_Static_assert(sizeof(column_keys) / sizeof(column_keys[0]) == CK_NKEYS + 1,
			   "column_keys[] does not match the CK_ enum");

static bool skip_value(Parser *P, int depth);

/* ---------------------------------------------------------------------
 * Memory
 * ---------------------------------------------------------------------
 */

Decoder *
decoder_create(void)
{
	return pg_malloc0(sizeof(Decoder));
}

void
decoder_destroy(Decoder *d)
{
	if (d == NULL)
		return;
	free(d->arena);
	free(d->columns.items);
	free(d->identity.items);
	free(d->pk);
	free(d);
}

/* Doubles an array's capacity; NULL (and nothing changed) on failure. */
static void *
grow_array(void *items, int *cap, size_t elsize)
{
	int			newcap = *cap ? *cap * 2 : 16;
	void	   *p;

	if (*cap > INT_MAX / 2)
		return NULL;
	p = realloc(items, (size_t) newcap * elsize);
	if (p != NULL)
		*cap = newcap;
	return p;
}

static void
trim_vec(ColVec *v)
{
	if (v->cap > VEC_KEEP)
	{
		free(v->items);
		v->items = NULL;
		v->cap = 0;
	}
	v->n = 0;
}

/*
 * Readies the decoder for a message of len bytes: an arena big enough for
 * all its strings, emptied vectors.  Memory left over from an unusually large
 * earlier message is given back here.
 */
static bool
decoder_reset(Decoder *d, size_t len)
{
	size_t		need;

	if (len > SIZE_MAX / 2 - ARENA_SLACK)
		return false;
	need = len + ARENA_SLACK;
	if (d->arena_cap < need ||
		(d->arena_cap > ARENA_KEEP && d->arena_cap / 2 > need))
	{
		size_t		cap = need;

		if (d->arena_cap < need && d->arena_cap * 2 > cap)
			cap = d->arena_cap * 2;
		if (cap < ARENA_MIN)
			cap = ARENA_MIN;
		free(d->arena);
		d->arena_cap = 0;
		d->arena = malloc(cap);
		if (d->arena == NULL)
			return false;
		d->arena_cap = cap;
	}
	d->arena_used = 0;
	trim_vec(&d->columns);
	trim_vec(&d->identity);
	if (d->pk_cap > VEC_KEEP)
	{
		free(d->pk);
		d->pk = NULL;
		d->pk_cap = 0;
	}
	d->npk = 0;
	return true;
}

static char *
arena_alloc(Decoder *d, size_t n)
{
	char	   *p;

	if (n > d->arena_cap - d->arena_used)
		return NULL;
	p = d->arena + d->arena_used;
	d->arena_used += n;
	return p;
}

/* ---------------------------------------------------------------------
 * Lexical level
 * ---------------------------------------------------------------------
 */

static bool
fail(Parser *P, size_t off, const char *msg)
{
	P->err = msg;
	P->erroff = off;
	return false;
}

static inline void
skip_ws(Parser *P)
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
peek(Parser *P, unsigned char *c)
{
	/* wal2json puts no whitespace between tokens: try that first */
	if (P->pos < P->len && P->s[P->pos] > ' ')
	{
		*c = P->s[P->pos];
		return true;
	}
	skip_ws(P);
	if (P->pos >= P->len)
		return fail(P, P->pos, "unexpected end of input");
	*c = P->s[P->pos];
	return true;
}

static bool
expect(Parser *P, unsigned char want, const char *msg)
{
	unsigned char c;

	if (!peek(P, &c))
		return false;
	if (c != want)
		return fail(P, P->pos, msg);
	P->pos++;
	return true;
}

static bool
match_literal(Parser *P, const char *lit, size_t n)
{
	if (P->len - P->pos < n || memcmp(P->s + P->pos, lit, n) != 0)
		return fail(P, P->pos, "invalid literal");
	P->pos += n;
	return true;
}

/*
 * Finds the end of the string token at P->pos (which is a '"'), rejecting
 * raw control characters.  Escapes are checked later by unescape().
 */
static bool
scan_string(Parser *P, Slice *sl)
{
	size_t		i = P->pos + 1;
	bool		escaped = false;

	while (i < P->len)
	{
		unsigned char c = P->s[i];

		if (c == '"')
		{
			sl->start = P->pos + 1;
			sl->end = i;
			sl->escaped = escaped;
			P->pos = i + 1;
			return true;
		}
		if (c == '\\')
		{
			escaped = true;
			i += 2;
			continue;
		}
		if (c < 0x20)
			return fail(P, i, "control character in string");
		i++;
	}
	return fail(P, P->len, "unterminated string");
}

static bool
read_hex4(Parser *P, size_t i, size_t end, unsigned *out)
{
	unsigned	v = 0;

	if (end - i < 4)
		return fail(P, i, "truncated \\u escape");
	for (size_t k = i; k < i + 4; k++)
	{
		unsigned char c = P->s[k];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return fail(P, k, "invalid hex digit in \\u escape");
	}
	*out = v;
	return true;
}

/* Writes cp as UTF-8 into dst (when not NULL); returns the byte count. */
static size_t
put_utf8(char *dst, unsigned cp)
{
	unsigned char b[4];
	size_t		n;

	if (cp < 0x80)
	{
		b[0] = cp;
		n = 1;
	}
	else if (cp < 0x800)
	{
		b[0] = 0xC0 | (cp >> 6);
		b[1] = 0x80 | (cp & 0x3F);
		n = 2;
	}
	else if (cp < 0x10000)
	{
		b[0] = 0xE0 | (cp >> 12);
		b[1] = 0x80 | ((cp >> 6) & 0x3F);
		b[2] = 0x80 | (cp & 0x3F);
		n = 3;
	}
	else
	{
		b[0] = 0xF0 | (cp >> 18);
		b[1] = 0x80 | ((cp >> 12) & 0x3F);
		b[2] = 0x80 | ((cp >> 6) & 0x3F);
		b[3] = 0x80 | (cp & 0x3F);
		n = 4;
	}
	if (dst != NULL)
		memcpy(dst, b, n);
	return n;
}

/*
 * Decodes the \u escape at i (pointing at the backslash), combining a
 * surrogate pair; *i is advanced past what was consumed.
 */
static bool
unescape_u(Parser *P, size_t *i, size_t end, unsigned *cp)
{
	size_t		at = *i;
	unsigned	lo;

	if (!read_hex4(P, at + 2, end, cp))
		return false;
	*i = at + 6;
	if (*cp == 0)
		return fail(P, at, "\\u0000 is not allowed");
	if (*cp >= 0xDC00 && *cp <= 0xDFFF)
		return fail(P, at, "unpaired low surrogate");
	if (*cp < 0xD800 || *cp > 0xDBFF)
		return true;
	if (end - *i < 6 || P->s[*i] != '\\' || P->s[*i + 1] != 'u')
		return fail(P, at, "unpaired high surrogate");
	if (!read_hex4(P, *i + 2, end, &lo))
		return false;
	if (lo < 0xDC00 || lo > 0xDFFF)
		return fail(P, at, "unpaired high surrogate");
	*cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
	*i += 6;
	return true;
}

/*
 * Unescapes a string token into dst (or only validates it when dst is NULL).
 * The result is never longer than the token.
 */
static bool
unescape(Parser *P, const Slice *sl, char *dst, size_t *outlen)
{
	size_t		i = sl->start;
	size_t		o = 0;

	while (i < sl->end)
	{
		unsigned char c = P->s[i];
		unsigned	cp;

		if (c != '\\')
		{
			if (dst != NULL)
				dst[o] = (char) c;
			o++;
			i++;
			continue;
		}
		/* scan_string guarantees a byte after the backslash */
		switch (P->s[i + 1])
		{
			case '"':
			case '\\':
			case '/':
				cp = P->s[i + 1];
				break;
			case 'b':
				cp = '\b';
				break;
			case 'f':
				cp = '\f';
				break;
			case 'n':
				cp = '\n';
				break;
			case 'r':
				cp = '\r';
				break;
			case 't':
				cp = '\t';
				break;
			case 'u':
				if (!unescape_u(P, &i, sl->end, &cp))
					return false;
				o += put_utf8(dst != NULL ? dst + o : NULL, cp);
				continue;
			default:
				return fail(P, i, "invalid escape in string");
		}
		if (dst != NULL)
			dst[o] = (char) cp;
		o++;
		i += 2;
	}
	*outlen = o;
	return true;
}

/*
 * Scans a number token (RFC 8259 grammar); its text is s[start, P->pos).
 * *integral tells whether it has neither fraction nor exponent.
 */
static bool
scan_number(Parser *P, bool *integral)
{
	const unsigned char *s = P->s;
	size_t		i = P->pos;

	*integral = true;
	if (i < P->len && s[i] == '-')
		i++;
	if (i < P->len && s[i] == '0')
		i++;
	else if (i < P->len && s[i] >= '1' && s[i] <= '9')
		while (i < P->len && s[i] >= '0' && s[i] <= '9')
			i++;
	else
		return fail(P, i, "invalid number");
	if (i < P->len && s[i] == '.')
	{
		*integral = false;
		if (++i >= P->len || s[i] < '0' || s[i] > '9')
			return fail(P, i, "invalid number");
		while (i < P->len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < P->len && (s[i] == 'e' || s[i] == 'E'))
	{
		*integral = false;
		if (++i < P->len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= P->len || s[i] < '0' || s[i] > '9')
			return fail(P, i, "invalid number");
		while (i < P->len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	P->pos = i;
	return true;
}

/* ---------------------------------------------------------------------
 * Values
 * ---------------------------------------------------------------------
 */

/* Copies s[start, end) into the arena as a C string. */
static bool
copy_slice(Parser *P, size_t start, size_t end, const char **out)
{
	char	   *dst = arena_alloc(P->d, end - start + 1);

	if (dst == NULL)
		return fail(P, start, "internal error: decoder arena exhausted");
	memcpy(dst, P->s + start, end - start);
	dst[end - start] = '\0';
	*out = dst;
	return true;
}

/*
 * Parses a string value into the arena, leaving `reserve` bytes free in front
 * of it (for the bytea prefix).  *out points at the reserved bytes, *outlen is
 * the length of the unescaped text after them.
 */
static bool
string_value(Parser *P, size_t reserve, char **out, size_t *outlen)
{
	size_t		start;
	size_t		need;
	size_t		n;
	unsigned char c;
	char	   *dst;
	Slice		sl;

	if (!peek(P, &c))
		return false;
	if (c != '"')
		return fail(P, P->pos, "expected a string");
	start = P->pos;
	if (!scan_string(P, &sl))
		return false;
	need = reserve + (sl.end - sl.start) + 1;
	dst = arena_alloc(P->d, need);
	if (dst == NULL)
		return fail(P, start, "internal error: decoder arena exhausted");
	n = sl.end - sl.start;
	if (!sl.escaped)
		memcpy(dst + reserve, P->s + sl.start, n);
	else if (!unescape(P, &sl, dst + reserve, &n))
		return false;
	dst[reserve + n] = '\0';
	/* hand back what unescaping saved; this is the newest allocation */
	P->d->arena_used -= need - (reserve + n + 1);
	*out = dst;
	*outlen = n;
	return true;
}

static bool
cstring_value(Parser *P, const char **out, size_t *outlen)
{
	char	   *s;
	size_t		n;

	if (!string_value(P, 0, &s, &n))
		return false;
	*out = s;
	if (outlen != NULL)
		*outlen = n;
	return true;
}

/* A string or null (NULL). */
static bool
nullable_string_value(Parser *P, const char **out)
{
	unsigned char c;

	if (!peek(P, &c))
		return false;
	if (c == 'n')
	{
		*out = NULL;
		return match_literal(P, "null", 4);
	}
	return cstring_value(P, out, NULL);
}

/*
 * An integer within [min, max], or null when null_ok (*out = 0).  The
 * digits are converted exactly; fractions and exponents are refused.
 */
static bool
int_value(Parser *P, int64_t min, int64_t max, bool null_ok, int64_t *out)
{
	size_t		start;
	int64_t		v = 0;
	bool		integral;
	unsigned char c;

	if (!peek(P, &c))
		return false;
	start = P->pos;
	if (c == 'n' && null_ok)
	{
		*out = 0;
		return match_literal(P, "null", 4);
	}
	if (!scan_number(P, &integral))
		return false;
	if (!integral)
		return fail(P, start, "expected an integer");
	for (size_t i = start + (c == '-'); i < P->pos; i++)
	{
		if (v > (INT64_MAX - 9) / 10)
			return fail(P, start, "integer out of range");
		v = v * 10 + (P->s[i] - '0');
	}
	if (c == '-')
		v = -v;
	if (v < min || v > max)
		return fail(P, start, "integer out of range");
	*out = v;
	return true;
}

static bool
bool_value(Parser *P, bool *out)
{
	unsigned char c;

	if (!peek(P, &c))
		return false;
	*out = (c == 't');
	if (c == 't')
		return match_literal(P, "true", 4);
	if (c == 'f')
		return match_literal(P, "false", 5);
	return fail(P, P->pos, "expected true or false");
}

/* "X/Y", each part 1 to 8 hex digits; anything else is refused. */
static bool
lsn_value(Parser *P, Lsn *out)
{
	const char *s;
	size_t		n;
	size_t		start;
	size_t		slash;

	skip_ws(P);
	start = P->pos;
	if (!cstring_value(P, &s, &n))
		return false;
	slash = strspn(s, "0123456789abcdefABCDEF");
	if (slash < 1 || slash > 8 || s[slash] != '/' ||
		strspn(s + slash + 1, "0123456789abcdefABCDEF") != n - slash - 1 ||
		n - slash - 1 < 1 || n - slash - 1 > 8 || !lsn_parse(s, out))
		return fail(P, start, "invalid LSN");
	return true;
}

static bool
action_value(Parser *P, ChangeAction *out)
{
	const char *s;
	size_t		n;
	size_t		start;

	skip_ws(P);
	start = P->pos;
	if (!cstring_value(P, &s, &n))
		return false;
	if (n != 1 || s[0] == '\0' || strchr("BCIUDTM", s[0]) == NULL)
		return fail(P, start, "unknown action");
	*out = (ChangeAction) s[0];
	return true;
}

/*
 * Validates any JSON value and skips it (unknown keys), with a nesting limit
 * so hostile input cannot exhaust the stack.
 */
static bool
skip_container(Parser *P, int depth, unsigned char open)
{
	unsigned char close = open == '{' ? '}' : ']';
	bool		first = true;
	unsigned char c;
	Slice		key;
	size_t		n;

	P->pos++;
	for (;;)
	{
		if (!peek(P, &c))
			return false;
		if (c == close)
		{
			P->pos++;
			return true;
		}
		if (!first && !expect(P, ',', "expected ',' or a closing bracket"))
			return false;
		first = false;
		if (open == '{')
		{
			if (!peek(P, &c))
				return false;
			if (c != '"')
				return fail(P, P->pos, "expected a key");
			if (!scan_string(P, &key) || !unescape(P, &key, NULL, &n) ||
				!expect(P, ':', "expected ':'"))
				return false;
		}
		if (!skip_value(P, depth + 1))
			return false;
	}
}

static bool
skip_value(Parser *P, int depth)
{
	unsigned char c;
	Slice		sl;
	size_t		n;
	bool		integral;

	if (!peek(P, &c))
		return false;
	if (depth >= MAX_DEPTH)
		return fail(P, P->pos, "nesting too deep");
	switch (c)
	{
		case '{':
		case '[':
			return skip_container(P, depth, c);
		case '"':
			return scan_string(P, &sl) && unescape(P, &sl, NULL, &n);
		case 't':
			return match_literal(P, "true", 4);
		case 'f':
			return match_literal(P, "false", 5);
		case 'n':
			return match_literal(P, "null", 4);
		default:
			return scan_number(P, &integral);
	}
}

/* ---------------------------------------------------------------------
 * Objects
 * ---------------------------------------------------------------------
 */

/*
 * Looks a key up in a table ending with a NULL name: its index, -1 when unknown,
 * -2 on a malformed key.  Escaped keys are unescaped into the arena and the
 * space is given back.
 */
static int
key_index(Parser *P, const Slice *key, const KeyName *names)
{
	const char *k = (const char *) P->s + key->start;
	size_t		n = key->end - key->start;
	size_t		mark = P->d->arena_used;
	int			found = -1;

	if (key->escaped)
	{
		char	   *buf = arena_alloc(P->d, n);

		if (buf == NULL)
		{
			fail(P, key->start, "internal error: decoder arena exhausted");
			return -2;
		}
		if (!unescape(P, key, buf, &n))
			return -2;
		k = buf;
	}
	for (int i = 0; names[i].name != NULL; i++)
	{
		if (names[i].len == n && names[i].name[0] == k[0] &&
			memcmp(names[i].name, k, n) == 0)
		{
			found = i;
			break;
		}
	}
	P->d->arena_used = mark;
	return found;
}

/*
 * Advances to the next member of an object whose '{' was consumed: returns 1
 * with the key's index (see key_index) positioned at the value, 0 after the
 * closing '}', -1 on error.  Duplicate known keys are refused.
 */
static int
next_member(Parser *P, bool *first, const KeyName *names,
			uint32_t *seen, int *k)
{
	unsigned char c;
	Slice		key;

	if (!peek(P, &c))
		return -1;
	if (c == '}')
	{
		P->pos++;
		return 0;
	}
	if (!*first && !expect(P, ',', "expected ',' or '}'"))
		return -1;
	*first = false;
	if (!peek(P, &c))
		return -1;
	if (c != '"')
	{
		fail(P, P->pos, "expected a key");
		return -1;
	}
	if (!scan_string(P, &key))
		return -1;
	*k = key_index(P, &key, names);
	if (*k == -2)
		return -1;
	if (*k >= 0)
	{
		if (*seen & (1u << *k))
		{
			fail(P, key.start - 1, "duplicate key");
			return -1;
		}
		*seen |= 1u << *k;
	}
	if (!expect(P, ':', "expected ':'"))
		return -1;
	return 1;
}

/* Advances to the next element of an array whose '[' was consumed. */
static int
next_element(Parser *P, bool *first)
{
	unsigned char c;

	if (!peek(P, &c))
		return -1;
	if (c == ']')
	{
		P->pos++;
		return 0;
	}
	if (!*first && !expect(P, ',', "expected ',' or ']'"))
		return -1;
	*first = false;
	return 1;
}

/*
 * The raw form wal2json uses for type names that format_type() quoted: it
 * prints them without JSON escaping ("type":"Sch"."Mood"), so the bytes up
 * to the next ',' or '}' outside quotes and parentheses are the type's SQL
 * spelling.  Only characters a type name can contain are accepted.
 */
static bool
raw_type_value(Parser *P, const char **out)
{
	const unsigned char *s = P->s;
	size_t		start = P->pos;
	size_t		i = start;
	int			parens = 0;

	for (; i < P->len; i++)
	{
		unsigned char c = s[i];

		if (c == '"')
		{
			/* a quoted identifier, in which "" stands for one quote */
			for (i++; i < P->len; i++)
			{
				if (s[i] == '"' && i + 1 < P->len && s[i + 1] == '"')
					i++;
				else if (s[i] == '"')
					break;
				else if (s[i] < 0x20)
					return fail(P, i, "control character in type name");
			}
			if (i >= P->len)
				break;
		}
		else if (parens == 0 && (c == ',' || c == '}'))
			break;
		else if (c == '(')
			parens++;
		else if (c == ')' && parens > 0)
			parens--;
		else if (!(c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				   (c >= '0' && c <= '9') || strchr("_$. [],", c) != NULL) || c == '\0')
			return fail(P, i, "invalid type name");
	}
	if (i >= P->len)
		return fail(P, P->len, "unexpected end of input");
	while (i > start && s[i - 1] == ' ')
		i--;
	P->pos = i;
	return copy_slice(P, start, i, out);
}

/* The "type" of a column: a JSON string, or wal2json's raw quoted form. */
static bool
type_value(Parser *P, const char **out)
{
	size_t		start;
	size_t		mark = P->d->arena_used;
	unsigned char c;

	if (!peek(P, &c))
		return false;
	start = P->pos;
	if (c != '"')
		return fail(P, start, "expected a string");
	if (cstring_value(P, out, NULL) && peek(P, &c) && (c == ',' || c == '}'))
		return true;
	P->err = NULL;
	P->pos = start;
	P->d->arena_used = mark;
	return raw_type_value(P, out);
}

/*
 * A column's "value": a string (stored after two spare bytes, see
 * finish_column), a number kept as its literal text, true/false as text, or
 * null.  Objects and arrays never appear in wal2json output.
 */
static bool
column_value(Parser *P, ChangeColumn *col, char **strbuf)
{
	unsigned char c;
	size_t		start;
	bool		integral;

	if (!peek(P, &c))
		return false;
	start = P->pos;
	switch (c)
	{
		case '"':
			return string_value(P, 2, strbuf, &col->value_len);
		case 't':
			col->value = "true";
			col->value_len = 4;
			return match_literal(P, "true", 4);
		case 'f':
			col->value = "false";
			col->value_len = 5;
			return match_literal(P, "false", 5);
		case 'n':
			col->value = NULL;
			return match_literal(P, "null", 4);
		case '-':
		case '0':
		case '1':
		case '2':
		case '3':
		case '4':
		case '5':
		case '6':
		case '7':
		case '8':
		case '9':
			if (!scan_number(P, &integral))
				return false;
			col->value_len = P->pos - start;
			return copy_slice(P, start, P->pos, &col->value);
		default:
			return fail(P, start, "unsupported column value");
	}
}

/*
 * bytea arrives as bare hex: give it the "\x" its input function needs.
 * Only when wal2json named the type: wal2json before 2.5 ignores
 * include-type-oids in format-version 2, and then apply adds the prefix from
 * the target's column type (ByteaFix, apply_sql.h).
 */
static void
finish_column(ChangeColumn *col, char *strbuf)
{
	if (strbuf == NULL)
		return;
	if (col->typeoid == BYTEAOID ||
		(col->typeoid == 0 && col->type != NULL && strcmp(col->type, "bytea") == 0))
	{
		strbuf[0] = '\\';
		strbuf[1] = 'x';
		col->value = strbuf;
		col->value_len += 2;
	}
	else
		col->value = strbuf + 2;
}

/* One {"name":..,"type":..,"typeoid":..,"value":..} object. */
static bool
parse_column(Parser *P, ChangeColumn *col, bool want_value)
{
	size_t		start;
	bool		first = true;
	uint32_t	seen = 0;
	char	   *strbuf = NULL;
	int64_t		oid;
	int			k;
	int			r;

	memset(col, 0, sizeof(*col));
	skip_ws(P);
	start = P->pos;
	if (!expect(P, '{', "expected a column object"))
		return false;
	while ((r = next_member(P, &first, column_keys, &seen, &k)) > 0)
	{
		bool		ok;

		if (k == CK_NAME)
			ok = cstring_value(P, &col->name, NULL);
		else if (k == CK_TYPE)
			ok = type_value(P, &col->type);
		else if (k == CK_TYPEOID)
		{
			/* wal2json prints oids with %d: above 2^31 they are negative */
			ok = int_value(P, INT32_MIN, UINT32_MAX, false, &oid);
			col->typeoid = (uint32_t) oid;
		}
		else if (k == CK_VALUE)
			ok = column_value(P, col, &strbuf);
		else
			ok = skip_value(P, 0);
		if (!ok)
			return false;
	}
	if (r < 0)
		return false;
	if (!(seen & (1u << CK_NAME)))
		return fail(P, start, "column without \"name\"");
	if (want_value && !(seen & (1u << CK_VALUE)))
		return fail(P, start, "column without \"value\"");
	finish_column(col, strbuf);
	return true;
}

static bool
parse_column_array(Parser *P, ColVec *vec, bool want_value)
{
	bool		first = true;
	int			r;

	vec->n = 0;
	if (!expect(P, '[', "expected an array of columns"))
		return false;
	while ((r = next_element(P, &first)) > 0)
	{
		if (vec->n == vec->cap)
		{
			ChangeColumn *p = grow_array(vec->items, &vec->cap, sizeof(ChangeColumn));

			if (p == NULL)
				return fail(P, P->pos, "out of memory");
			vec->items = p;
		}
		if (!parse_column(P, &vec->items[vec->n], want_value))
			return false;
		vec->n++;
	}
	return r == 0;
}

/* "pk": column objects without values; only the names are kept. */
static bool
parse_pk_array(Parser *P)
{
	Decoder    *d = P->d;
	bool		first = true;
	ChangeColumn col;
	int			r;

	d->npk = 0;
	if (!expect(P, '[', "expected an array of key columns"))
		return false;
	while ((r = next_element(P, &first)) > 0)
	{
		if (d->npk == d->pk_cap)
		{
			const char **p = grow_array(d->pk, &d->pk_cap, sizeof(char *));

			if (p == NULL)
				return fail(P, P->pos, "out of memory");
			d->pk = p;
		}
		if (!parse_column(P, &col, false))
			return false;
		d->pk[d->npk++] = col.name;
	}
	return r == 0;
}

/* ---------------------------------------------------------------------
 * The message
 * ---------------------------------------------------------------------
 */

/* Parses the value of top-level key k into out. */
static bool
parse_member(Parser *P, int k, Change *out)
{
	int64_t		xid;

	switch (k)
	{
		case K_ACTION:
			return action_value(P, &out->action);
		case K_XID:
			if (!int_value(P, 0, UINT32_MAX, true, &xid))
				return false;
			out->xid = (uint32_t) xid;
			return true;
		case K_TIMESTAMP:
			return nullable_string_value(P, &out->timestamp);
		case K_LSN:
			return lsn_value(P, &out->lsn);
		case K_NEXTLSN:
			return lsn_value(P, &out->nextlsn);
		case K_SCHEMA:
			return cstring_value(P, &out->schema, NULL);
		case K_TABLE:
			return cstring_value(P, &out->table, NULL);
		case K_COLUMNS:
			return parse_column_array(P, &P->d->columns, true);
		case K_IDENTITY:
			return parse_column_array(P, &P->d->identity, true);
		case K_PK:
			return parse_pk_array(P);
		case K_TRANSACTIONAL:
			return bool_value(P, &out->transactional);
		case K_PREFIX:
			return cstring_value(P, &out->prefix, NULL);
		case K_CONTENT:
			return cstring_value(P, &out->content, &out->content_len);
		default:
			return skip_value(P, 0);
	}
}

/* The keys each action cannot do without. */
static uint32_t
required_keys(ChangeAction action)
{
	uint32_t	rel = (1u << K_SCHEMA) | (1u << K_TABLE);

	switch (action)
	{
		case CHANGE_INSERT:
		case CHANGE_UPDATE:
			return rel | (1u << K_COLUMNS);
		case CHANGE_DELETE:
			return rel | (1u << K_IDENTITY);
		case CHANGE_TRUNCATE:
			return rel;
		case CHANGE_MESSAGE:
			return (1u << K_TRANSACTIONAL) | (1u << K_PREFIX) | (1u << K_CONTENT);
		default:
			return 0;
	}
}

static bool
parse_message(Parser *P, Change *out)
{
	Decoder    *d = P->d;
	bool		first = true;
	uint32_t	seen = 0;
	uint32_t	missing;
	int			k;
	int			r;

	if (!expect(P, '{', "expected '{'"))
		return false;
	while ((r = next_member(P, &first, top_keys, &seen, &k)) > 0)
		if (!parse_member(P, k, out))
			return false;
	if (r < 0)
		return false;
	skip_ws(P);
	if (P->pos != P->len)
		return fail(P, P->pos, "trailing data after the object");
	if (!(seen & (1u << K_ACTION)))
		return fail(P, P->len, missing_msg[K_ACTION]);
	missing = required_keys(out->action) & ~seen;
	for (k = 0; k < K_NKEYS; k++)
		if (missing & (1u << k))
			return fail(P, P->len, missing_msg[k]);

	if (seen & (1u << K_COLUMNS))
		out->columns = d->columns.items, out->ncolumns = d->columns.n;
	if (seen & (1u << K_IDENTITY))
		out->identity = d->identity.items, out->nidentity = d->identity.n;
	if (seen & (1u << K_PK))
		out->pk = d->pk, out->npk = d->npk;
	if (out->action != CHANGE_BEGIN && out->action != CHANGE_COMMIT)
		out->nextlsn = INVALID_LSN;
	return true;
}

bool
decoder_decode(Decoder *d, const char *data, size_t len, Change *out,
			   const char **errmsg)
{
	Parser		P;
	bool		ok = false;

	memset(out, 0, sizeof(*out));
	memset(&P, 0, sizeof(P));
	P.s = (const unsigned char *) data;
	P.len = data != NULL ? len : 0;
	P.d = d;
	*errmsg = NULL;

	if (!decoder_reset(d, P.len))
		fail(&P, 0, "out of memory");
	else
		ok = parse_message(&P, out);

	if (!ok)
	{
		memset(out, 0, sizeof(*out));
		snprintf(d->errbuf, sizeof(d->errbuf),
				 "invalid wal2json message: %s at byte %zu",
				 P.err ? P.err : "unknown error", P.erroff);
		*errmsg = d->errbuf;
	}
	return ok;
}
