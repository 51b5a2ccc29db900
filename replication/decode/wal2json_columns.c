/*
 * wal2json_columns.c
 *	  The column objects of a wal2json message ("columns", "identity" and
 *	  "pk"): name, type, typeoid and value, a value handed out as the exact
 *	  text of the JSON, and the wal2json quirks a consumer must undo: bytea
 *	  without "\x", and type names that format_type() quoted printed
 *	  without JSON escaping.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "decode_int.h"

#define BYTEAOID		17

/* Keys of a column object; order matches column_keys[]. */
enum
{
	CK_NAME, CK_TYPE, CK_TYPEOID, CK_VALUE, CK_NKEYS
};

static const JsonKey column_keys[] = {
	JSON_KEY("name"), JSON_KEY("type"), JSON_KEY("typeoid"), JSON_KEY("value"),
	{NULL, 0}
};

_Static_assert(sizeof(column_keys) / sizeof(column_keys[0]) == CK_NKEYS + 1,
			   "column_keys[] does not match the CK_ enum");

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

/*
 * The raw form wal2json uses for type names that format_type() quoted: it
 * prints them without JSON escaping ("type":"Sch"."Mood"), so the bytes up
 * to the next ',' or '}' outside quotes and parentheses are the type's SQL
 * spelling.  Only characters a type name can contain are accepted.
 */
static bool
raw_type_value(JsonParser *P, const char **out)
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
					return jp_fail(P, i, "control character in type name");
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
			return jp_fail(P, i, "invalid type name");
	}
	if (i >= P->len)
		return jp_fail(P, P->len, "unexpected end of input");
	while (i > start && s[i - 1] == ' ')
		i--;
	P->pos = i;
	return jp_copy_slice(P, start, i, out);
}

/* The "type" of a column: a JSON string, or wal2json's raw quoted form. */
static bool
type_value(JsonParser *P, const char **out)
{
	size_t		start;
	size_t		mark = P->d->arena_used;
	unsigned char c;

	if (!jp_peek(P, &c))
		return false;
	start = P->pos;
	if (c != '"')
		return jp_fail(P, start, "expected a string");
	if (jp_cstring_value(P, out, NULL) && jp_peek(P, &c) && (c == ',' || c == '}'))
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
column_value(JsonParser *P, ChangeColumn *col, char **strbuf)
{
	unsigned char c;
	size_t		start;
	bool		integral;

	if (!jp_peek(P, &c))
		return false;
	start = P->pos;
	switch (c)
	{
		case '"':
			return jp_string_value(P, 2, strbuf, &col->value_len);
		case 't':
			col->value = "true";
			col->value_len = 4;
			return jp_match_literal(P, "true", 4);
		case 'f':
			col->value = "false";
			col->value_len = 5;
			return jp_match_literal(P, "false", 5);
		case 'n':
			col->value = NULL;
			return jp_match_literal(P, "null", 4);
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
			if (!jp_scan_number(P, &integral))
				return false;
			col->value_len = P->pos - start;
			return jp_copy_slice(P, start, P->pos, &col->value);
		default:
			return jp_fail(P, start, "unsupported column value");
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
parse_column(JsonParser *P, ChangeColumn *col, bool want_value)
{
	size_t		start;
	bool		first = true;
	uint32_t	seen = 0;
	char	   *strbuf = NULL;
	int64_t		oid;
	int			k;
	int			r;

	memset(col, 0, sizeof(*col));
	jp_skip_ws(P);
	start = P->pos;
	if (!jp_expect(P, '{', "expected a column object"))
		return false;
	while ((r = jp_next_member(P, &first, column_keys, &seen, &k)) > 0)
	{
		bool		ok;

		if (k == CK_NAME)
			ok = jp_cstring_value(P, &col->name, NULL);
		else if (k == CK_TYPE)
			ok = type_value(P, &col->type);
		else if (k == CK_TYPEOID)
		{
			/* wal2json prints oids with %d: above 2^31 they are negative */
			ok = jp_int_value(P, INT32_MIN, UINT32_MAX, false, &oid);
			col->typeoid = (uint32_t) oid;
		}
		else if (k == CK_VALUE)
			ok = column_value(P, col, &strbuf);
		else
			ok = jp_skip_value(P, 0);
		if (!ok)
			return false;
	}
	if (r < 0)
		return false;
	if (!(seen & (1u << CK_NAME)))
		return jp_fail(P, start, "column without \"name\"");
	if (want_value && !(seen & (1u << CK_VALUE)))
		return jp_fail(P, start, "column without \"value\"");
	finish_column(col, strbuf);
	return true;
}

bool
wal2json_parse_columns(JsonParser *P, ColVec *vec, bool want_value)
{
	bool		first = true;
	int			r;

	vec->n = 0;
	if (!jp_expect(P, '[', "expected an array of columns"))
		return false;
	while ((r = jp_next_element(P, &first)) > 0)
	{
		if (vec->n == vec->cap)
		{
			ChangeColumn *p = grow_array(vec->items, &vec->cap, sizeof(ChangeColumn));

			if (p == NULL)
				return jp_fail(P, P->pos, "out of memory");
			vec->items = p;
		}
		if (!parse_column(P, &vec->items[vec->n], want_value))
			return false;
		vec->n++;
	}
	return r == 0;
}

/* "pk": column objects without values; only the names are kept. */
bool
wal2json_parse_pk(JsonParser *P)
{
	Decoder    *d = P->d;
	bool		first = true;
	ChangeColumn col;
	int			r;

	d->npk = 0;
	if (!jp_expect(P, '[', "expected an array of key columns"))
		return false;
	while ((r = jp_next_element(P, &first)) > 0)
	{
		if (d->npk == d->pk_cap)
		{
			const char **p = grow_array(d->pk, &d->pk_cap, sizeof(char *));

			if (p == NULL)
				return jp_fail(P, P->pos, "out of memory");
			d->pk = p;
		}
		if (!parse_column(P, &col, false))
			return false;
		d->pk[d->npk++] = col.name;
	}
	return r == 0;
}
