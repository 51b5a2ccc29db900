/*
 * json_output.h
 *	  The --json output contract (docs/json.md): every document any command
 *	  prints on stdout goes through here, gets the envelope (command, ok,
 *	  exit_code, schema_version) and the contract's number formats, and is
 *	  printed as one indented document or, for streams, one compact line.
 */
#ifndef PGCUTOVER_JSON_OUTPUT_H
#define PGCUTOVER_JSON_OUTPUT_H

#include <stdbool.h>

#include <jansson.h>

/*
 * The shape of the documents, one number for the whole contract: bumped
 * when a field changes type or format (docs/json.md says what changed).
 * Adding a field does not bump it.
 */
#define JSON_SCHEMA_VERSION 2

typedef enum JsonStyle
{
	JSON_DOCUMENT,				/* one indented document */
	JSON_LINE					/* one compact line (NDJSON streams) */
} JsonStyle;

/*
 * doc (stolen) with the envelope first: command, ok (exit_code == 0),
 * exit_code and schema_version; its durations rounded (json_output.c says
 * how).  For a document embedded in another (migrate's switchover reports)
 * as well.
 */
json_t	   *json_output_envelope(json_t *doc, const char *command, int exit_code);

/*
 * With --json, before the command runs: stdout carries the documents only,
 * whatever else the process prints on stdout goes to stderr.
 */
void		json_output_begin(void);

/* Envelopes doc, prints it on stdout and frees it. */
void		json_output_print(json_t *doc, const char *command, int exit_code, JsonStyle style);

/*
 * The failure document: the envelope and error {message, fix}, for a
 * command that fails before it has a document of its own.  message NULL:
 * a generic one naming the exit code.
 */
void		json_output_failure(const char *command, int exit_code, const char *message, const char *fix);

/* Whether a document was printed (main prints the failure document if not). */
bool		json_output_printed(void);

/*
 * A timestamp PostgreSQL printed as text (timestamptz::text, any TimeZone:
 * "2026-11-30 09:58:31.123456+01") as an RFC 3339 UTC string with
 * milliseconds; JSON null for NULL or text it cannot read.
 */
json_t	   *json_timestamp_from_pg(const char *text);

/* {message, fix} from a "...; fix: ..." line; fix null when it has none. */
json_t	   *json_error_object(const char *line);

#endif							/* PGCUTOVER_JSON_OUTPUT_H */
