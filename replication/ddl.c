/*
 * ddl.c
 *	  Captured DDL events: parsing the message, cutting the statement that
 *	  fired it out of the query string, and the policy that says apply,
 *	  skip or stop.  See ddl.h; no libpq here.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "ddl.h"
#include "pgcutover.h"

/* ---- the message ------------------------------------------------------- */

static char *
dup_field(json_t *obj, const char *key)
{
	json_t	   *v = json_object_get(obj, key);

	return json_is_string(v) ? pg_strdup(json_string_value(v)) : NULL;
}

static void
add_objects(DdlEvent *ev, json_t *arr, bool dropped)
{
	size_t		i;
	json_t	   *o;

	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return;
	ev->objects = pg_realloc(ev->objects, sizeof(DdlObject) * (ev->nobjects + json_array_size(arr)));
	json_array_foreach(arr, i, o)
	{
		DdlObject  *d = &ev->objects[ev->nobjects];

		if (!json_is_object(o))
			continue;
		d->type = dup_field(o, "type");
		d->schema = dup_field(o, "schema");
		d->identity = dup_field(o, "identity");
		d->parent = dup_field(o, "parent");
		d->dropped = dropped;
		if (d->type == NULL)
			d->type = pg_strdup("");
		if (d->identity == NULL)
			d->identity = pg_strdup("");
		ev->nobjects++;
	}
}

static void
add_rewrites(DdlEvent *ev, json_t *arr)
{
	size_t		i;
	json_t	   *o;

	json_array_foreach(arr, i, o)
	{
		json_t	   *reason = json_object_get(o, "reason");
		int			r = json_is_integer(reason) ? (int) json_integer_value(reason) : 0;

		ev->rewrite_reasons |= r;
		/* 2: AT_REWRITE_DEFAULT_VAL, a volatile default computed per row */
		if ((r & 2) && ev->rewritten == NULL)
			ev->rewritten = dup_field(o, "table");
	}
}

static void
add_missing(DdlEvent *ev, json_t *arr)
{
	size_t		i;
	json_t	   *o;

	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return;
	ev->missing = pg_malloc0(sizeof(DdlMissing) * json_array_size(arr));
	json_array_foreach(arr, i, o)
	{
		DdlMissing *m = &ev->missing[ev->nmissing];

		m->schema = dup_field(o, "schema");
		m->table = dup_field(o, "table");
		m->column = dup_field(o, "column");
		m->value = dup_field(o, "value");
		if (m->schema && m->table && m->column && m->value)
			ev->nmissing++;
		else
		{
			free(m->schema);
			free(m->table);
			free(m->column);
			free(m->value);
		}
	}
}

bool
ddl_event_parse(const char *json, size_t len, DdlEvent *ev, char **errmsg)
{
	json_error_t jerr;
	json_t	   *doc = json_loadb(json, len, 0, &jerr);
	json_t	   *seq;

	memset(ev, 0, sizeof(*ev));
	*errmsg = NULL;
	if (!json_is_object(doc))
	{
		*errmsg = psprintf("captured DDL message is not a JSON object: %s", doc ? "wrong type" : jerr.text);
		json_decref(doc);
		return false;
	}
	ev->command = dup_field(doc, "command");
	ev->tag = dup_field(doc, "tag");
	ev->error = dup_field(doc, "error");
	ev->exec = dup_field(doc, "exec");
	ev->search_path = dup_field(doc, "search_path");
	ev->role = dup_field(doc, "role");
	seq = json_object_get(doc, "seq");
	ev->seq = json_is_integer(seq) ? (int) json_integer_value(seq) : 0;
	add_objects(ev, json_object_get(doc, "objects"), false);
	add_objects(ev, json_object_get(doc, "dropped"), true);
	add_rewrites(ev, json_object_get(doc, "rewrites"));
	add_missing(ev, json_object_get(doc, "new_missing"));
	json_decref(doc);
	if (ev->command == NULL || ev->tag == NULL ||
		(ev->error == NULL && (ev->exec == NULL || ev->seq < 1 || ev->search_path == NULL)))
	{
		*errmsg = pg_strdup("captured DDL message lacks command, tag, exec, seq or search_path");
		ddl_event_free(ev);
		return false;
	}
	return true;
}

void
ddl_event_free(DdlEvent *ev)
{
	for (int i = 0; i < ev->nobjects; i++)
	{
		free(ev->objects[i].type);
		free(ev->objects[i].schema);
		free(ev->objects[i].identity);
		free(ev->objects[i].parent);
	}
	for (int i = 0; i < ev->nmissing; i++)
	{
		free(ev->missing[i].schema);
		free(ev->missing[i].table);
		free(ev->missing[i].column);
		free(ev->missing[i].value);
	}
	free(ev->objects);
	free(ev->missing);
	free(ev->command);
	free(ev->tag);
	free(ev->exec);
	free(ev->search_path);
	free(ev->role);
	free(ev->error);
	free(ev->rewritten);
	memset(ev, 0, sizeof(*ev));
}

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
	int			ncand = 0,
				first = -1,
				from = 0,
				pick = -1;
	char	   *stmt;

	*errmsg = NULL;
	for (int i = 0; i < n; i++)
		if (ddl_tag_matches(ev->command + spans[i].start, spans[i].len, ev->tag) &&
			ddl_statement_names_object(ev->command + spans[i].start, spans[i].len, ev))
		{
			ncand++;
			if (first < 0)
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
			if (ddl_tag_matches(ev->command + spans[i].start, spans[i].len, ev->tag) &&
				ddl_statement_names_object(ev->command + spans[i].start, spans[i].len, ev))
				pick = i;
	}
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

/* ---- the policy -------------------------------------------------------- */

int
ddl_split_identity(const char *identity, char **parts, int n)
{
	int			count = 0;
	const char *p = identity;

	while (*p && count < n)
	{
		char	   *buf = pg_malloc0(strlen(p) + 1);
		char	   *o = buf;

		if (*p == '"')
		{
			for (p++; *p; p++)
			{
				if (*p == '"' && p[1] == '"')
					*o++ = *p++;
				else if (*p == '"')
				{
					p++;
					break;
				}
				else
					*o++ = *p;
			}
		}
		else
			while (*p && *p != '.')
				*o++ = *p++;
		parts[count++] = buf;
		if (*p == '.')
			p++;
		else if (*p)
			break;				/* e.g. a function's argument list */
	}
	return count;
}

static bool
tag_is(const DdlEvent *ev, const char *tag)
{
	return strcmp(ev->tag, tag) == 0;
}

static bool
is_own(const DdlObject *o)
{
	return (o->schema && strcmp(o->schema, "pgcutover") == 0) ||
		(strcmp(o->type, "schema") == 0 && strcmp(o->identity, "pgcutover") == 0);
}

/* Is the object in the migrated set?  Objects outside schemas count as in. */
static bool
object_selected(const DdlObject *o, const DdlPolicy *p)
{
	char	   *parts[3] = {NULL, NULL, NULL};
	int			n;
	bool		in;

	if (p->selected == NULL)
		return true;
	if (strcmp(o->type, "schema") == 0)
		return p->selected(p->arg, o->identity, NULL);
	if (o->schema == NULL)
		return true;
	if (strcmp(o->type, "table") != 0 && strcmp(o->type, "table column") != 0 &&
		strcmp(o->type, "foreign table") != 0)
		return p->selected(p->arg, o->schema, NULL);
	n = ddl_split_identity(o->identity, parts, 3);
	in = n >= 2 ? p->selected(p->arg, parts[0], parts[1]) : p->selected(p->arg, o->schema, NULL);
	for (int i = 0; i < n; i++)
		free(parts[i]);
	return in;
}

DdlVerdict
ddl_classify(const DdlEvent *ev, const DdlPolicy *p, char **reason)
{
	int			own = 0,
				excluded = 0;

	*reason = NULL;
	if (ev->error)
	{
		*reason = psprintf("capturing it failed on the source (%s)", ev->error);
		return DDL_STOP;
	}
	for (int i = 0; i < ev->nobjects; i++)
	{
		own += is_own(&ev->objects[i]);
		if (p->exclude && regexec(p->exclude, ev->objects[i].identity, 0, NULL, 0) == 0)
			excluded++;
	}
	if (ev->nobjects > 0 && own == ev->nobjects)
	{
		*reason = pg_strdup("it concerns pgcutover's own objects");
		return DDL_SKIP;
	}
	if (ev->nobjects > 0 && excluded == ev->nobjects)
	{
		*reason = pg_strdup("every object it touches matches --ddl-exclude");
		return DDL_SKIP;
	}
	if (tag_is(ev, "GRANT") || tag_is(ev, "REVOKE") || tag_is(ev, "ALTER DEFAULT PRIVILEGES"))
	{
		*reason = pg_strdup("privileges are not migrated (copy uses --no-acl)");
		return DDL_SKIP;
	}
	if (strstr(ev->tag, "SUBSCRIPTION"))
	{
		*reason = pg_strdup("subscriptions are not migrated");
		return DDL_SKIP;
	}
	if (tag_is(ev, "ALTER EXTENSION"))
	{
		*reason = pg_strdup("ALTER EXTENSION may need the new extension files on the target; install them there and run the same ALTER EXTENSION on the target");
		return DDL_STOP;
	}
	if (ev->rewritten)
	{
		*reason = psprintf("it rewrote %s on the source with a volatile default, whose values the stream does not carry; make the target's values equal (e.g. copy the column from the source)",
						   ev->rewritten);
		return DDL_STOP;
	}
	for (int i = 0; i < ev->nobjects; i++)
		if (!is_own(&ev->objects[i]) && !object_selected(&ev->objects[i], p))
		{
			*reason = psprintf("%s %s is outside the migrated set (the copy's --include/--exclude filters); skip such DDL with --ddl-exclude",
							   ev->objects[i].type, ev->objects[i].identity);
			return DDL_STOP;
		}
	return DDL_APPLY;
}

char *
ddl_describe(const DdlEvent *ev)
{
	const char *what = ev->nobjects > 0 ? ev->objects[0].identity : "";

	return psprintf("%s%s%s%s", ev->tag, *what ? " " : "", what,
					ev->nobjects > 1 ? " (and more)" : "");
}
