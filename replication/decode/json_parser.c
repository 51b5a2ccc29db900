/*
 * json_parser.c
 *	  The JSON of one wal2json message, strictly: the grammar (RFC 8259, no
 *	  extensions), string unescaping to UTF-8, numbers kept as their literal
 *	  text, any value validated and skipped (unknown keys) with a nesting
 *	  limit, and the members of an object and the elements of an array one
 *	  at a time, for wal2json.c and wal2json_columns.c to read by key.
 *
 *	  Strings go into the Decoder's arena (wal2json.c sizes it for the
 *	  message).  Bytes >= 0x80 are passed through unvalidated:
 *	  wal2json emits the server's bytes as they are (message content can
 *	  hold any bytes, and a non-UTF8 database produces non-UTF8 text); the
 *	  target validates them.
 */
#include <string.h>

#include "decode_int.h"

#define MAX_DEPTH		64		/* nesting allowed inside skipped values */

/* A string token's contents, between the quotes. */
typedef struct Slice
{
	size_t		start;
	size_t		end;
	bool		escaped;
} Slice;

/* ---------------------------------------------------------------------
 * Lexical level
 * ---------------------------------------------------------------------
 */

/*
 * Finds the end of the string token at P->pos (which is a '"'), rejecting
 * raw control characters.  Escapes are checked later by unescape().
 */
static bool
scan_string(JsonParser *P, Slice *sl)
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
			return jp_fail(P, i, "control character in string");
		i++;
	}
	return jp_fail(P, P->len, "unterminated string");
}

static bool
read_hex4(JsonParser *P, size_t i, size_t end, unsigned *out)
{
	unsigned	v = 0;

	if (end - i < 4)
		return jp_fail(P, i, "truncated \\u escape");
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
			return jp_fail(P, k, "invalid hex digit in \\u escape");
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
unescape_u(JsonParser *P, size_t *i, size_t end, unsigned *cp)
{
	size_t		at = *i;
	unsigned	lo;

	if (!read_hex4(P, at + 2, end, cp))
		return false;
	*i = at + 6;
	if (*cp == 0)
		return jp_fail(P, at, "\\u0000 is not allowed");
	if (*cp >= 0xDC00 && *cp <= 0xDFFF)
		return jp_fail(P, at, "unpaired low surrogate");
	if (*cp < 0xD800 || *cp > 0xDBFF)
		return true;
	if (end - *i < 6 || P->s[*i] != '\\' || P->s[*i + 1] != 'u')
		return jp_fail(P, at, "unpaired high surrogate");
	if (!read_hex4(P, *i + 2, end, &lo))
		return false;
	if (lo < 0xDC00 || lo > 0xDFFF)
		return jp_fail(P, at, "unpaired high surrogate");
	*cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
	*i += 6;
	return true;
}

/*
 * Unescapes a string token into dst (or only validates it when dst is NULL).
 * The result is never longer than the token.
 */
static bool
unescape(JsonParser *P, const Slice *sl, char *dst, size_t *outlen)
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
				return jp_fail(P, i, "invalid escape in string");
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
bool
jp_scan_number(JsonParser *P, bool *integral)
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
		return jp_fail(P, i, "invalid number");
	if (i < P->len && s[i] == '.')
	{
		*integral = false;
		if (++i >= P->len || s[i] < '0' || s[i] > '9')
			return jp_fail(P, i, "invalid number");
		while (i < P->len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < P->len && (s[i] == 'e' || s[i] == 'E'))
	{
		*integral = false;
		if (++i < P->len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= P->len || s[i] < '0' || s[i] > '9')
			return jp_fail(P, i, "invalid number");
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
bool
jp_copy_slice(JsonParser *P, size_t start, size_t end, const char **out)
{
	char	   *dst = decoder_arena_alloc(P->d, end - start + 1);

	if (dst == NULL)
		return jp_fail(P, start, "internal error: decoder arena exhausted");
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
bool
jp_string_value(JsonParser *P, size_t reserve, char **out, size_t *outlen)
{
	size_t		start;
	size_t		need;
	size_t		n;
	unsigned char c;
	char	   *dst;
	Slice		sl;

	if (!jp_peek(P, &c))
		return false;
	if (c != '"')
		return jp_fail(P, P->pos, "expected a string");
	start = P->pos;
	if (!scan_string(P, &sl))
		return false;
	need = reserve + (sl.end - sl.start) + 1;
	dst = decoder_arena_alloc(P->d, need);
	if (dst == NULL)
		return jp_fail(P, start, "internal error: decoder arena exhausted");
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

bool
jp_cstring_value(JsonParser *P, const char **out, size_t *outlen)
{
	char	   *s;
	size_t		n;

	if (!jp_string_value(P, 0, &s, &n))
		return false;
	*out = s;
	if (outlen != NULL)
		*outlen = n;
	return true;
}

/* A string or null (NULL). */
bool
jp_nullable_string_value(JsonParser *P, const char **out)
{
	unsigned char c;

	if (!jp_peek(P, &c))
		return false;
	if (c == 'n')
	{
		*out = NULL;
		return jp_match_literal(P, "null", 4);
	}
	return jp_cstring_value(P, out, NULL);
}

/*
 * An integer within [min, max], or null when null_ok (*out = 0).  The
 * digits are converted exactly; fractions and exponents are refused.
 */
bool
jp_int_value(JsonParser *P, int64_t min, int64_t max, bool null_ok, int64_t *out)
{
	size_t		start;
	int64_t		v = 0;
	bool		integral;
	unsigned char c;

	if (!jp_peek(P, &c))
		return false;
	start = P->pos;
	if (c == 'n' && null_ok)
	{
		*out = 0;
		return jp_match_literal(P, "null", 4);
	}
	if (!jp_scan_number(P, &integral))
		return false;
	if (!integral)
		return jp_fail(P, start, "expected an integer");
	for (size_t i = start + (c == '-'); i < P->pos; i++)
	{
		if (v > (INT64_MAX - 9) / 10)
			return jp_fail(P, start, "integer out of range");
		v = v * 10 + (P->s[i] - '0');
	}
	if (c == '-')
		v = -v;
	if (v < min || v > max)
		return jp_fail(P, start, "integer out of range");
	*out = v;
	return true;
}

bool
jp_bool_value(JsonParser *P, bool *out)
{
	unsigned char c;

	if (!jp_peek(P, &c))
		return false;
	*out = (c == 't');
	if (c == 't')
		return jp_match_literal(P, "true", 4);
	if (c == 'f')
		return jp_match_literal(P, "false", 5);
	return jp_fail(P, P->pos, "expected true or false");
}

/*
 * Validates any JSON value and skips it (unknown keys), with a nesting limit
 * so hostile input cannot exhaust the stack.
 */
static bool
skip_container(JsonParser *P, int depth, unsigned char open)
{
	unsigned char close = open == '{' ? '}' : ']';
	bool		first = true;
	unsigned char c;
	Slice		key;
	size_t		n;

	P->pos++;
	for (;;)
	{
		if (!jp_peek(P, &c))
			return false;
		if (c == close)
		{
			P->pos++;
			return true;
		}
		if (!first && !jp_expect(P, ',', "expected ',' or a closing bracket"))
			return false;
		first = false;
		if (open == '{')
		{
			if (!jp_peek(P, &c))
				return false;
			if (c != '"')
				return jp_fail(P, P->pos, "expected a key");
			if (!scan_string(P, &key) || !unescape(P, &key, NULL, &n) ||
				!jp_expect(P, ':', "expected ':'"))
				return false;
		}
		if (!jp_skip_value(P, depth + 1))
			return false;
	}
}

bool
jp_skip_value(JsonParser *P, int depth)
{
	unsigned char c;
	Slice		sl;
	size_t		n;
	bool		integral;

	if (!jp_peek(P, &c))
		return false;
	if (depth >= MAX_DEPTH)
		return jp_fail(P, P->pos, "nesting too deep");
	switch (c)
	{
		case '{':
		case '[':
			return skip_container(P, depth, c);
		case '"':
			return scan_string(P, &sl) && unescape(P, &sl, NULL, &n);
		case 't':
			return jp_match_literal(P, "true", 4);
		case 'f':
			return jp_match_literal(P, "false", 5);
		case 'n':
			return jp_match_literal(P, "null", 4);
		default:
			return jp_scan_number(P, &integral);
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
key_index(JsonParser *P, const Slice *key, const JsonKey *names)
{
	const char *k = (const char *) P->s + key->start;
	size_t		n = key->end - key->start;
	size_t		mark = P->d->arena_used;
	int			found = -1;

	if (key->escaped)
	{
		char	   *buf = decoder_arena_alloc(P->d, n);

		if (buf == NULL)
		{
			jp_fail(P, key->start, "internal error: decoder arena exhausted");
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
int
jp_next_member(JsonParser *P, bool *first, const JsonKey *names,
			uint32_t *seen, int *k)
{
	unsigned char c;
	Slice		key;

	if (!jp_peek(P, &c))
		return -1;
	if (c == '}')
	{
		P->pos++;
		return 0;
	}
	if (!*first && !jp_expect(P, ',', "expected ',' or '}'"))
		return -1;
	*first = false;
	if (!jp_peek(P, &c))
		return -1;
	if (c != '"')
	{
		jp_fail(P, P->pos, "expected a key");
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
			jp_fail(P, key.start - 1, "duplicate key");
			return -1;
		}
		*seen |= 1u << *k;
	}
	if (!jp_expect(P, ':', "expected ':'"))
		return -1;
	return 1;
}

/* Advances to the next element of an array whose '[' was consumed. */
int
jp_next_element(JsonParser *P, bool *first)
{
	unsigned char c;

	if (!jp_peek(P, &c))
		return -1;
	if (c == ']')
	{
		P->pos++;
		return 0;
	}
	if (!*first && !jp_expect(P, ',', "expected ',' or ']'"))
		return -1;
	*first = false;
	return 1;
}
