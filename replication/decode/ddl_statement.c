/*
 * ddl_statement.c
 *	  Finding, in a captured query string, the one statement that fired a
 *	  DDL event: a small SQL lexer (quotes, E'' and U&'' strings, dollar
 *	  quotes, nested comments, BEGIN ATOMIC bodies), splitting at top-level
 *	  semicolons, command tags and object names.  See ddl.h; pure.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ddl.h"
#include "alloc.h"

/* ---- the lexer --------------------------------------------------------- */

typedef enum TokKind
{
	TOK_END,
	TOK_WORD,					/* keyword or unquoted identifier */
	TOK_SEMI,
	TOK_OTHER					/* strings, quoted identifiers, operators */
} TokKind;

static bool
is_ident_start(char c)
{
	return isalpha((unsigned char) c) || c == '_' || (unsigned char) c >= 0x80;
}

static bool
is_ident_char(char c)
{
	return is_ident_start(c) || isdigit((unsigned char) c) || c == '$';
}

/* Skips a quoted run starting at s[p] == q; backslash escapes when bs. */
static size_t
skip_quoted(const char *s, size_t len, size_t p, char q, bool bs)
{
	for (p++; p < len; p++)
	{
		if (bs && s[p] == '\\' && p + 1 < len)
			p++;
		else if (s[p] == q)
		{
			if (p + 1 < len && s[p + 1] == q)
				p++;			/* doubled quote */
			else
				return p + 1;
		}
	}
	return len;
}

/* $tag$ ... $tag$ starting at s[p] == '$'; 0 when this is no dollar quote. */
static size_t
skip_dollar(const char *s, size_t len, size_t p)
{
	size_t		t = p + 1;
	size_t		taglen;

	while (t < len && s[t] != '$' && is_ident_char(s[t]))
		t++;
	if (t >= len || s[t] != '$' || (t > p + 1 && isdigit((unsigned char) s[p + 1])))
		return 0;
	taglen = t - p + 1;
	for (size_t q = t + 1; q + taglen <= len; q++)
		if (s[q] == '$' && memcmp(s + q, s + p, taglen) == 0)
			return q + taglen;
	return len;
}

/* Skips blanks and comments. */
static size_t
skip_space(const char *s, size_t len, size_t p)
{
	while (p < len)
	{
		if (isspace((unsigned char) s[p]))
			p++;
		else if (s[p] == '-' && p + 1 < len && s[p + 1] == '-')
		{
			while (p < len && s[p] != '\n')
				p++;
		}
		else if (s[p] == '/' && p + 1 < len && s[p + 1] == '*')
		{
			int			depth = 1;

			for (p += 2; p < len && depth > 0; p++)
			{
				if (s[p] == '/' && p + 1 < len && s[p + 1] == '*')
					depth++, p++;
				else if (s[p] == '*' && p + 1 < len && s[p + 1] == '/')
					depth--, p++;
			}
		}
		else
			break;
	}
	return p;
}

/* Reads the token at *pos: its kind, [*start, *pos). */
static TokKind
next_token(const char *s, size_t len, size_t *pos, size_t *start)
{
	size_t		p = skip_space(s, len, *pos);
	size_t		end;

	*start = p;
	if (p >= len)
	{
		*pos = len;
		return TOK_END;
	}
	if (s[p] == ';')
	{
		*pos = p + 1;
		return TOK_SEMI;
	}
	if (s[p] == '\'')
	{
		*pos = skip_quoted(s, len, p, '\'', false);
		return TOK_OTHER;
	}
	if (s[p] == '"')
	{
		*pos = skip_quoted(s, len, p, '"', false);
		return TOK_OTHER;
	}
	if (s[p] == '$' && (end = skip_dollar(s, len, p)) > 0)
	{
		*pos = end;
		return TOK_OTHER;
	}
	if (is_ident_start(s[p]))
	{
		/* E'..' has backslash escapes; U&'..', B'..', X'..', N'..' do not */
		if (p + 1 < len && s[p + 1] == '\'' && strchr("EeBbXxNn", s[p]))
		{
			*pos = skip_quoted(s, len, p + 1, '\'', s[p] == 'E' || s[p] == 'e');
			return TOK_OTHER;
		}
		if (p + 2 < len && (s[p] == 'U' || s[p] == 'u') && s[p + 1] == '&' &&
			(s[p + 2] == '\'' || s[p + 2] == '"'))
		{
			*pos = skip_quoted(s, len, p + 2, s[p + 2], false);
			return TOK_OTHER;
		}
		for (end = p; end < len && is_ident_char(s[end]); end++)
			;
		*pos = end;
		return TOK_WORD;
	}
	*pos = p + 1;
	return TOK_OTHER;
}

static bool
word_is(const char *s, size_t start, size_t end, const char *word)
{
	size_t		n = strlen(word);

	return end - start == n && strncasecmp(s + start, word, n) == 0;
}

int
ddl_split(const char *sql, DdlSpan **out)
{
	size_t		len = strlen(sql);
	size_t		pos = 0,
				start,
				first = 0,
				last = 0;
	int			n = 0,
				cap = 4,
				atomic_depth = 0;
	bool		any = false,
				prev_begin = false;
	TokKind		k;

	*out = pg_malloc0(sizeof(DdlSpan) * cap);
	do
	{
		k = next_token(sql, len, &pos, &start);
		if (k == TOK_WORD)
		{
			/* BEGIN ATOMIC ... END bodies (SQL functions) hold semicolons */
			if (prev_begin && word_is(sql, start, pos, "atomic"))
				atomic_depth++;
			else if (atomic_depth > 0 && word_is(sql, start, pos, "case"))
				atomic_depth++;
			else if (atomic_depth > 0 && word_is(sql, start, pos, "end"))
				atomic_depth--;
			prev_begin = word_is(sql, start, pos, "begin");
		}
		else
			prev_begin = false;
		if (k == TOK_WORD || k == TOK_OTHER)
		{
			if (!any)
				first = start;
			any = true;
			last = pos;
		}
		if ((k == TOK_SEMI && atomic_depth == 0) || k == TOK_END)
		{
			if (any)
			{
				if (n == cap)
					*out = pg_realloc(*out, sizeof(DdlSpan) * (cap *= 2));
				(*out)[n].start = first;
				(*out)[n].len = last - first;
				n++;
			}
			any = false;
		}
	} while (k != TOK_END);
	return n;
}

/* The first max words (upper-cased; "" for other tokens) of a statement. */
static int
leading_words(const char *stmt, size_t len, char words[][32], int max)
{
	size_t		pos = 0,
				start;
	int			n = 0;
	TokKind		k;

	while (n < max && (k = next_token(stmt, len, &pos, &start)) != TOK_END && k != TOK_SEMI)
	{
		size_t		wl = pos - start;

		words[n][0] = '\0';
		if (k == TOK_WORD && wl < 32)
		{
			for (size_t i = 0; i < wl; i++)
				words[n][i] = (char) toupper((unsigned char) stmt[start + i]);
			words[n][wl] = '\0';
		}
		n++;
	}
	return n;
}

static bool
has_word(char words[][32], int from, int n, const char *w)
{
	for (int i = from; i < n; i++)
		if (strcmp(words[i], w) == 0)
			return true;
	return false;
}

bool
ddl_tag_matches(const char *stmt, size_t len, const char *tag)
{
	char		words[64][32];
	int			n = leading_words(stmt, len, words, 64);
	char		tagbuf[128];
	char	   *save = NULL;
	char	   *tw;
	int			at = 1;

	if (n == 0)
		return false;
	if (strcmp(tag, "SELECT INTO") == 0)
		return (strcmp(words[0], "SELECT") == 0 || strcmp(words[0], "WITH") == 0) &&
			has_word(words, 1, n, "INTO");
	if (strcmp(tag, "CREATE TABLE AS") == 0)
		return strcmp(words[0], "CREATE") == 0 && has_word(words, 1, n, "TABLE") &&
			has_word(words, 1, n, "AS");
	snprintf(tagbuf, sizeof(tagbuf), "%s", tag);
	tw = strtok_r(tagbuf, " ", &save);
	if (tw == NULL || strcmp(words[0], tw) != 0)
		return false;
	/* the other tag words in order among the next few words */
	while ((tw = strtok_r(NULL, " ", &save)) != NULL)
	{
		while (at < n && at < 10 && strcmp(words[at], tw) != 0)
			at++;
		if (at >= n || at >= 10)
			return false;
		at++;
	}
	return true;
}

/* ---- choosing the statement -------------------------------------------- */

/* Blanks out CONCURRENTLY where the command cannot run in a transaction block. */
static void
drop_concurrently(char *stmt, const char *tag)
{
	size_t		len = strlen(stmt),
				pos = 0,
				start;
	int			n = 0;
	TokKind		k;

	if (strcmp(tag, "CREATE INDEX") != 0 && strcmp(tag, "DROP INDEX") != 0 &&
		strcmp(tag, "REINDEX") != 0 && strcmp(tag, "ALTER TABLE") != 0)
		return;
	while ((k = next_token(stmt, len, &pos, &start)) != TOK_END && n++ < 64)
		if (k == TOK_WORD && word_is(stmt, start, pos, "concurrently"))
		{
			memset(stmt + start, ' ', pos - start);
			return;
		}
}

/* Is name one of the statement's identifiers (unquoted ones folded to lower case)? */
static bool
statement_has_name(const char *stmt, size_t len, const char *name)
{
	size_t		pos = 0,
				start;
	size_t		nlen = strlen(name);
	TokKind		k;

	while ((k = next_token(stmt, len, &pos, &start)) != TOK_END)
	{
		if (k == TOK_WORD && pos - start == nlen)
		{
			size_t		i;

			for (i = 0; i < nlen && tolower((unsigned char) stmt[start + i]) == name[i]; i++)
				;
			if (i == nlen)
				return true;
		}
		else if (k == TOK_OTHER && stmt[start] == '"' && pos - start >= 2)
		{
			char	   *parts[1] = {NULL};
			char	   *quoted = pg_malloc0(pos - start + 1);
			bool		same;

			memcpy(quoted, stmt + start, pos - start);
			same = ddl_split_identity(quoted, parts, 1) == 1 && strcmp(parts[0], name) == 0;
			free(parts[0]);
			free(quoted);
			if (same)
				return true;
		}
	}
	return false;
}

/* Adds the names an identity is made of ("c on s.t", "s.f(int)", "s.t.col"). */
static int
identity_names(const char *identity, char **names, int max)
{
	char	   *copy = pg_strdup(identity);
	char	   *on = strstr(copy, " on ");
	char	   *paren;
	int			n = 0;
	char	   *pieces[2] = {copy, NULL};

	if (on)
	{
		*on = '\0';
		pieces[1] = on + 4;
	}
	for (int p = 0; p < 2 && pieces[p]; p++)
	{
		char	   *parts[3] = {NULL, NULL, NULL};
		int			k;

		if ((paren = strchr(pieces[p], '(')) != NULL)
			*paren = '\0';		/* a function's argument types */
		k = ddl_split_identity(pieces[p], parts, 3);
		/* the schema alone does not identify a statement */
		for (int i = k > 1 ? 1 : 0; i < k; i++)
		{
			if (n < max && parts[i][0])
				names[n++] = parts[i];
			else
				free(parts[i]);
		}
		if (k > 1)
			free(parts[0]);
	}
	free(copy);
	return n;
}

bool
ddl_statement_names_object(const char *stmt, size_t len, const DdlEvent *ev)
{
	bool		any_name = false;
	bool		found = false;

	for (int i = 0; i < ev->nobjects && !found; i++)
	{
		char	   *names[8];
		int			n = identity_names(ev->objects[i].identity, names, 6);

		if (ev->objects[i].parent)
			names[n++] = pg_strdup(ev->objects[i].parent);
		for (int j = 0; j < n; j++)
		{
			/* an operator's name is no identifier: it cannot be looked for */
			if (is_ident_start(names[j][0]))
			{
				any_name = true;
				found = found || statement_has_name(stmt, len, names[j]);
			}
			free(names[j]);
		}
	}
	return found || !any_name;
}

/* Does the query string undo part of itself (ROLLBACK, ROLLBACK TO, ABORT)? */
static bool
rolls_back(const char *sql, const DdlSpan *spans, int n)
{
	for (int i = 0; i < n; i++)
	{
		char		words[1][32];

		if (leading_words(sql + spans[i].start, spans[i].len, words, 1) == 1 &&
			(strcmp(words[0], "ROLLBACK") == 0 || strcmp(words[0], "ABORT") == 0))
			return true;
	}
	return false;
}

char *
ddl_pick_statement(DdlCursor *cur, const DdlEvent *ev, char **errmsg)
{
	DdlSpan    *spans;
	int			n = ddl_split(ev->command, &spans);
	bool	   *candidate = pg_malloc0(sizeof(bool) * (n > 0 ? n : 1));
	int			ncand = 0,
				first = -1,
				from = 0,
				pick = -1;
	char	   *stmt;

	*errmsg = NULL;
	/* candidates: statements of the event's kind on its objects */
	for (int i = 0; i < n; i++)
	{
		candidate[i] = ddl_tag_matches(ev->command + spans[i].start, spans[i].len, ev->tag) &&
			ddl_statement_names_object(ev->command + spans[i].start, spans[i].len, ev);
		ncand += candidate[i];
		if (candidate[i] && first < 0)
			first = i;
	}
	if (ncand == 1)
		pick = first;
	else if (ncand > 1 && !rolls_back(ev->command, spans, n))
	{
		/* several: in order; the events of one string come in order */
		if (cur->exec && strcmp(cur->exec, ev->exec) == 0 && ev->seq > cur->seq)
			from = cur->statement + 1;
		else if (ev->seq != 1)
			from = n;			/* follow restarted inside this query string */
		for (int i = from; i < n && pick < 0; i++)
			if (candidate[i])
				pick = i;
	}
	free(candidate);
	if (pick < 0)
	{
		free(spans);
		if (ncand == 0)
			*errmsg = psprintf("%s was run from inside a function, procedure or DO block (the query string has no such statement on its objects), so it cannot be replayed by itself", ev->tag);
		else
			*errmsg = psprintf("%s is one of %d such statements of one query string that %s, so which one ran cannot be told", ev->tag, ncand,
							   from == n ? "follow entered in the middle" : "rolls part of itself back");
		return NULL;
	}
	free(cur->exec);
	cur->exec = pg_strdup(ev->exec);
	cur->seq = ev->seq;
	cur->statement = pick;
	stmt = pg_malloc0(spans[pick].len + 1);
	memcpy(stmt, ev->command + spans[pick].start, spans[pick].len);
	free(spans);
	drop_concurrently(stmt, ev->tag);
	return stmt;
}

void
ddl_cursor_free(DdlCursor *cur)
{
	free(cur->exec);
	memset(cur, 0, sizeof(*cur));
}
