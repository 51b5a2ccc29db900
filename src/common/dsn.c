/*
 * dsn.c
 *	  Normalising and redacting connection strings.
 *
 * Redaction is deliberately textual: it must work on any string (a DSN, a
 * libpq error message that quotes one, a log line) without parsing it as a
 * whole, and it errs on the side of masking.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpq-fe.h>

#include "dsn.h"
#include "alloc.h"

#define MASK "***"

char *
dsn_normalize(const char *dsn, bool *was_sqlalchemy)
{
	const char *sep = strstr(dsn, "://");
	const char *plus;

	*was_sqlalchemy = false;
	if (sep == NULL)
		return pg_strdup(dsn);

	/* scheme is everything before "://"; SQLAlchemy puts "+driver" in it */
	plus = memchr(dsn, '+', sep - dsn);
	if (plus != NULL &&
		((plus - dsn == 10 && strncasecmp(dsn, "postgresql", 10) == 0) ||
		 (plus - dsn == 8 && strncasecmp(dsn, "postgres", 8) == 0)))
	{
		*was_sqlalchemy = true;
		return psprintf("postgresql%s", sep);
	}
	return pg_strdup(dsn);
}

/* Appends n bytes of s to the growing buffer. */
typedef struct Buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} Buf;

static void
buf_append(Buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap)
	{
		b->cap = (b->len + n + 1) * 2;
		b->data = pg_realloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/*
 * If text[i..] starts a "password = value" keyword (at a word boundary, as in
 * keyword DSNs or URI query strings), returns the offset where the value
 * starts and sets *vend to where it ends; otherwise returns 0.
 */
static size_t
password_keyword_value(const char *text, size_t i, size_t *vend)
{
	size_t		j;

	if (strncasecmp(text + i, "password", 8) != 0)
		return 0;
	if (i > 0 && !(isspace((unsigned char) text[i - 1]) || text[i - 1] == '?' ||
				   text[i - 1] == '&' || text[i - 1] == '"' || text[i - 1] == '\''))
		return 0;
	j = i + 8;
	while (text[j] == ' ' || text[j] == '\t')
		j++;
	if (text[j] != '=')
		return 0;
	j++;
	while (text[j] == ' ' || text[j] == '\t')
		j++;

	*vend = j;
	if (text[j] == '\'')
	{
		/* quoted value, backslash escapes allowed */
		size_t		k = j + 1;

		while (text[k] && text[k] != '\'')
			k += (text[k] == '\\' && text[k + 1]) ? 2 : 1;
		*vend = text[k] ? k + 1 : k;
	}
	else
	{
		while (text[*vend] && !isspace((unsigned char) text[*vend]) &&
			   text[*vend] != '&' && text[*vend] != '"')
			(*vend)++;
	}
	return j;
}

/*
 * If text[i..] starts "scheme://user:secret@", returns the offset of the
 * secret and sets *vend to the '@'; otherwise returns 0.
 */
static size_t
uri_password_value(const char *text, size_t i, size_t *vend)
{
	size_t		k;
	size_t		colon = 0;
	size_t		at = 0;

	if (strncmp(text + i, "://", 3) != 0)
		return 0;
	/* the authority ends at '/', '?', '#' or white space; the last '@' wins */
	for (k = i + 3; text[k] && !strchr("/?#", text[k]) &&
		 !isspace((unsigned char) text[k]); k++)
	{
		if (text[k] == '@')
			at = k;
	}
	if (at == 0)
		return 0;
	for (k = i + 3; k < at; k++)
		if (text[k] == ':')
		{
			colon = k;
			break;
		}
	if (colon == 0)
		return 0;
	*vend = at;
	return colon + 1;
}

char *
dsn_redact(const char *text)
{
	Buf			out = {NULL, 0, 0};
	size_t		i = 0;
	size_t		n;

	if (text == NULL)
		return pg_strdup("");
	n = strlen(text);
	buf_append(&out, "", 0);
	while (i < n)
	{
		size_t		vstart;
		size_t		vend = 0;

		if ((vstart = password_keyword_value(text, i, &vend)) != 0 ||
			(vstart = uri_password_value(text, i, &vend)) != 0)
		{
			buf_append(&out, text + i, vstart - i);
			buf_append(&out, MASK, strlen(MASK));
			i = vend;
			continue;
		}
		buf_append(&out, text + i, 1);
		i++;
	}
	return out.data;
}

void
dsn_mask_in_place(char *text)
{
	size_t		n = strlen(text);
	size_t		i = 0;

	while (i < n)
	{
		size_t		vstart;
		size_t		vend = 0;

		if (((vstart = password_keyword_value(text, i, &vend)) != 0 ||
			 (vstart = uri_password_value(text, i, &vend)) != 0) && vend > vstart)
		{
			memset(text + vstart, '*', vend - vstart);
			i = vend;
			continue;
		}
		i++;
	}
}

char *
dsn_password(const char *dsn)
{
	PQconninfoOption *opts;
	char	   *password = NULL;

	opts = PQconninfoParse(dsn, NULL);
	if (opts == NULL)
		return NULL;
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val && o->val[0])
			password = pg_strdup(o->val);
	PQconninfoFree(opts);
	return password;
}

char *
dsn_describe(const char *dsn)
{
	static const char *const shown[] = {"host", "hostaddr", "port", "dbname", "user", "service", NULL};
	PQconninfoOption *opts = PQconninfoParse(dsn, NULL);
	Buf			out = {NULL, 0, 0};

	if (opts == NULL)
		return dsn_redact(dsn);
	buf_append(&out, "", 0);
	for (int i = 0; shown[i]; i++)
		for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
			if (strcmp(o->keyword, shown[i]) == 0 && o->val && o->val[0])
			{
				if (out.len > 0)
					buf_append(&out, " ", 1);
				buf_append(&out, o->keyword, strlen(o->keyword));
				buf_append(&out, "=", 1);
				buf_append(&out, o->val, strlen(o->val));
			}
	PQconninfoFree(opts);
	if (out.len == 0)
		buf_append(&out, "(libpq defaults)", 16);
	return out.data;
}

/* Appends value quoted for a keyword DSN: 'it''s' style with backslashes. */
static void
append_quoted(Buf *b, const char *val)
{
	buf_append(b, "'", 1);
	for (const char *p = val; *p; p++)
	{
		if (*p == '\'' || *p == '\\')
			buf_append(b, "\\", 1);
		buf_append(b, p, 1);
	}
	buf_append(b, "'", 1);
}

char *
dsn_without_password(const char *dsn, char **password)
{
	PQconninfoOption *opts = PQconninfoParse(dsn, NULL);
	Buf			out = {NULL, 0, 0};

	*password = NULL;
	if (opts == NULL)
		return pg_strdup(dsn);
	buf_append(&out, "", 0);
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
	{
		if (o->val == NULL || o->val[0] == '\0')
			continue;
		if (strcmp(o->keyword, "password") == 0)
		{
			*password = pg_strdup(o->val);
			continue;
		}
		if (out.len > 0)
			buf_append(&out, " ", 1);
		buf_append(&out, o->keyword, strlen(o->keyword));
		buf_append(&out, "=", 1);
		append_quoted(&out, o->val);
	}
	PQconninfoFree(opts);
	return out.data;
}

char *
dsn_with_dbname(const char *dsn, const char *dbname)
{
	PQconninfoOption *opts = PQconninfoParse(dsn, NULL);
	Buf			out = {NULL, 0, 0};

	buf_append(&out, "", 0);
	if (opts == NULL)
	{
		free(out.data);
		return pg_strdup(dsn);
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
	{
		const char *val = strcmp(o->keyword, "dbname") == 0 ? dbname : o->val;

		if (val == NULL || val[0] == '\0')
			continue;
		if (out.len > 0)
			buf_append(&out, " ", 1);
		buf_append(&out, o->keyword, strlen(o->keyword));
		buf_append(&out, "=", 1);
		append_quoted(&out, val);
	}
	PQconninfoFree(opts);
	return out.data;
}
