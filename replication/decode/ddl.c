/*
 * ddl.c
 *	  Captured DDL events: parsing the message, and the policy that says
 *	  apply, skip or stop.  Finding the statement in the query string is
 *	  ddl_statement.c.  See ddl.h; no libpq here.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ddl.h"
#include "alloc.h"

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
	static const char *const own_schemas[] = {
		"pgcutover",			/* the state (on a reverse follow's source) */
		"pgcutover_fence",		/* the fence a switched-over source keeps */
		NULL
	};

	for (int i = 0; own_schemas[i]; i++)
		if ((o->schema && strcmp(o->schema, own_schemas[i]) == 0) ||
			(strcmp(o->type, "schema") == 0 && strcmp(o->identity, own_schemas[i]) == 0))
			return true;
	/* the fence's trigger on every table: "pgcutover_fence on public.t" */
	return strcmp(o->type, "trigger") == 0 && strncmp(o->identity, "pgcutover_fence on ", 19) == 0;
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
