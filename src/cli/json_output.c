/*
 * json_output.c
 *	  The one place that prints --json documents (docs/json.md is their
 *	  contract, tests/lib/json_contract.py checks it).  Commands build their
 *	  fields; this adds the envelope, applies the number formats and prints.
 *
 *	  Durations follow their names: a real under a key "ms" or "*_ms" is in
 *	  milliseconds, one under "seconds", "seconds_*", "*_seconds" or inside
 *	  an object named "seconds" is in seconds; both are rounded to 0.1 ms
 *	  here, so every command gets the same precision without a rounding
 *	  call at each field.
 *
 *	  A failing document without an error of its own gets the error the run
 *	  logged last (log.c keeps it), split into message and fix.
 *
 *	  With --json, stdout is the documents' alone: json_output_begin moves
 *	  the process's stdout to stderr (a dry run's statements, a step's
 *	  human lines) and keeps the real one for the documents.  That stream
 *	  and whether a document was printed are process-wide, like stdout
 *	  itself: set up once by main, written only by the print function.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "json_output.h"
#include "log.h"
#include "units.h"

/* jansson's default (17 digits) prints 0.1 as 0.10000000000000001 */
#define JSON_DUMP_FLAGS JSON_REAL_PRECISION(15)

static struct
{
	FILE	   *documents;		/* the real stdout, with --json */
	bool		printed;
}			json_out = {NULL, false};

typedef enum DurationUnit
{
	UNIT_NONE,
	UNIT_MS,
	UNIT_SECONDS
} DurationUnit;

static DurationUnit
unit_of_key(const char *key)
{
	size_t		len = strlen(key);

	if (strcmp(key, "ms") == 0 || (len > 3 && strcmp(key + len - 3, "_ms") == 0))
		return UNIT_MS;
	if (strcmp(key, "seconds") == 0 || strncmp(key, "seconds_", 8) == 0 ||
		(len > 8 && strcmp(key + len - 8, "_seconds") == 0))
		return UNIT_SECONDS;
	return UNIT_NONE;
}

/*
 * Rounds the durations in value; inherited: the unit of an enclosing
 * "seconds" object, or of the key naming an array of durations.
 */
static void
round_durations(json_t *value, DurationUnit inherited)
{
	const char *key;
	json_t	   *member;
	size_t		i;

	if (json_is_object(value))
	{
		json_object_foreach(value, key, member)
		{
			DurationUnit unit = unit_of_key(key);

			if (unit == UNIT_NONE)
				unit = inherited;
			if (json_is_real(member) && unit == UNIT_MS)
				json_real_set(member, round_ms(json_real_value(member)));
			else if (json_is_real(member) && unit == UNIT_SECONDS)
				json_real_set(member, round_ms(json_real_value(member) * 1000.0) / 1000.0);
			else if (json_is_array(member))
				round_durations(member, unit);	/* lag_seconds: [...] */
			else
				round_durations(member, json_is_object(member) && strcmp(key, "seconds") == 0
								? UNIT_SECONDS : UNIT_NONE);
		}
	}
	else if (json_is_array(value))
		json_array_foreach(value, i, member)
		{
			if (json_is_real(member) && inherited == UNIT_MS)
				json_real_set(member, round_ms(json_real_value(member)));
			else if (json_is_real(member) && inherited == UNIT_SECONDS)
				json_real_set(member, round_ms(json_real_value(member) * 1000.0) / 1000.0);
			else
				round_durations(member, UNIT_NONE);
		}
}

/* The envelope's four fields, set (again, in case doc had them) on out. */
static void
set_envelope(json_t *out, const char *command, int exit_code)
{
	json_object_set_new(out, "command", json_string(command ? command : ""));
	json_object_set_new(out, "ok", json_boolean(exit_code == 0));
	json_object_set_new(out, "exit_code", json_integer(exit_code));
	json_object_set_new(out, "schema_version", json_integer(JSON_SCHEMA_VERSION));
}

json_t *
json_output_envelope(json_t *doc, const char *command, int exit_code)
{
	json_t	   *out = json_object();

	/* the envelope first, for people reading it; jansson keeps the order */
	set_envelope(out, command, exit_code);
	json_object_update(out, doc);
	set_envelope(out, command, exit_code);
	json_decref(doc);
	round_durations(out, UNIT_NONE);
	return out;
}

void
json_output_print(json_t *doc, const char *command, int exit_code, JsonStyle style)
{
	/* a failing document says why: the error the run logged last */
	if (exit_code != 0 && json_object_get(doc, "error") == NULL)
	{
		char	   *last = log_last_error();

		if (last)
			json_object_set_new(doc, "error", json_error_object(last));
		free(last);
	}
	FILE	   *out = json_out.documents ? json_out.documents : stdout;

	doc = json_output_envelope(doc, command, exit_code);
	json_dumpf(doc, out, JSON_DUMP_FLAGS | (style == JSON_LINE ? JSON_COMPACT : JSON_INDENT(2)));
	fputc('\n', out);
	fflush(out);
	json_decref(doc);
	json_out.printed = true;
}

void
json_output_failure(const char *command, int exit_code, const char *message, const char *fix)
{
	json_t	   *doc = json_object();
	char	   *generic = psprintf("failed with exit code %d; see the log on stderr", exit_code);

	json_object_set_new(doc, "error", json_pack("{s:s, s:s?}", "message", message ? message : generic,
												"fix", fix));
	free(generic);
	json_output_print(doc, command, exit_code, JSON_DOCUMENT);
}

bool
json_output_printed(void)
{
	return json_out.printed;
}

void
json_output_begin(void)
{
	int			fd;

	fflush(stdout);
	if ((fd = dup(STDOUT_FILENO)) < 0 || (json_out.documents = fdopen(fd, "w")) == NULL)
		return;					/* documents go to stdout, with the rest */
	dup2(STDERR_FILENO, STDOUT_FILENO);
}

json_t *
json_error_object(const char *line)
{
	const char *fix;
	json_t	   *err;
	char	   *message;

	if (line == NULL)
		return json_null();
	if (strncmp(line, "pgcutover: ", 11) == 0)
		line += 11;
	fix = strstr(line, "; fix: ");
	message = fix ? psprintf("%.*s", (int) (fix - line), line) : pg_strdup(line);
	err = json_pack("{s:s, s:s?}", "message", message, "fix", fix ? fix + 7 : NULL);
	free(message);
	return err;
}

/* Reads 1-2 decimal digits of a zone offset part; false when there are none. */
static bool
read_offset_part(const char **p, int *out)
{
	if (!isdigit((unsigned char) **p))
		return false;
	*out = 0;
	for (int n = 0; n < 2 && isdigit((unsigned char) **p); n++, (*p)++)
		*out = *out * 10 + (**p - '0');
	return true;
}

json_t *
json_timestamp_from_pg(const char *text)
{
	struct tm	tm;
	int			consumed = 0;
	double		fraction = 0;
	int			sign = 0;
	int			hh = 0,
				mm = 0,
				ss = 0;
	const char *p;
	char		buf[40];

	if (text == NULL)
		return json_null();
	memset(&tm, 0, sizeof(tm));
	if (sscanf(text, "%4d-%2d-%2d%*1[ T]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 || consumed == 0)
		return json_null();
	p = text + consumed;
	if (*p == '.')
	{
		char	   *end;

		fraction = strtod(p, &end);
		p = end;
	}
	if (*p == 'Z')
		sign = 0;
	else if (*p == '+' || *p == '-')
	{
		sign = *p++ == '+' ? 1 : -1;
		if (!read_offset_part(&p, &hh))
			return json_null();
		if (*p == ':' && (p++, !read_offset_part(&p, &mm)))
			return json_null();
		if (*p == ':' && (p++, !read_offset_part(&p, &ss)))
			return json_null();
	}
	else
		return json_null();
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return json_string(format_rfc3339((double) timegm(&tm) + fraction
									  - sign * (hh * 3600.0 + mm * 60.0 + ss), buf, sizeof(buf)));
}
