/*
 * status_copy.c
 *	  The copy's part of `status`: how far a copy is, read from the state
 *	  schema only (src/state/copy_jobs.c reads it: the jobs marked running
 *	  with their counts, the post-data steps, the estimate the copy stamps
 *	  there once a second), so that it works from any terminal while the
 *	  copy runs, after it, and after it died.  status.c fills
 *	  Status.copy_progress with it; src/cli/cmd_status.c prints it, in JSON
 *	  as is and for people through status_copy_print.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "copy_jobs.h"
#include "status.h"
#include "units.h"

/* A copy that stamped nothing for this long is no longer running. */
#define COPY_SILENT_SECONDS 10

json_t	   *
status_copy_read(PGconn *tgt, const char *slot)
{
	json_t	   *progress = copy_progress_json(tgt, slot);
	const char *phase;
	json_t	   *since;

	if (progress == NULL)
		return NULL;
	phase = json_string_value(json_object_get(progress, "phase"));
	since = json_object_get(progress, "seconds_since_update");
	/* running: a data or post-data phase that stamped its progress lately */
	json_object_set_new(progress, "running",
						json_boolean(phase && (strcmp(phase, "copy_data") == 0 || strcmp(phase, "copy_post") == 0) &&
									 json_is_number(since) && json_number_value(since) < COPY_SILENT_SECONDS));
	return progress;
}

static json_int_t
count_of(const json_t *progress, const char *what, const char *which)
{
	return json_integer_value(json_object_get(json_object_get(progress, what), which));
}

static void
print_counts(const json_t *progress, const char *what, const char *label, FILE *out)
{
	fprintf(out, "%-16s%lld done, %lld in progress, %lld waiting (of %lld)\n", label,
			(long long) count_of(progress, what, "done"), (long long) count_of(progress, what, "in_progress"),
			(long long) count_of(progress, what, "waiting"), (long long) count_of(progress, what, "total"));
}

void
status_copy_print(const json_t *progress, FILE *out)
{
	const char *phase = json_string_value(json_object_get(progress, "phase"));
	const json_t *est = json_object_get(progress, "estimate");
	const json_t *since = json_object_get(progress, "seconds_since_update");
	bool		copying = phase && strncmp(phase, "copy_", 5) == 0;
	char		bytes[32],
				total[32],
				rate[32],
				eta[32];
	size_t		i;
	json_t	   *t;

	format_bytes(json_integer_value(json_object_get(progress, "bytes")), bytes, sizeof(bytes));
	if (!copying)
		fprintf(out, "copy            done: %lld tables, %lld rows, %s; %lld indexes and keys\n",
				(long long) count_of(progress, "tables", "total"),
				(long long) json_integer_value(json_object_get(progress, "rows")), bytes,
				(long long) count_of(progress, "indexes", "total"));
	else
	{
		fprintf(out, "copy            %s", phase);
		if (json_is_object(est) && strcmp(phase, "copy_data") == 0)
		{
			format_bytes(json_integer_value(json_object_get(est, "bytes_estimated")), total, sizeof(total));
			format_rate(json_number_value(json_object_get(est, "bytes_per_second")), rate, sizeof(rate));
			if (json_is_number(json_object_get(est, "eta_seconds")))
				format_duration(json_number_value(json_object_get(est, "eta_seconds")), eta, sizeof(eta));
			else
				snprintf(eta, sizeof(eta), "?");
			fprintf(out, ", %.1f%% of ~%s, %s, ETA %s", json_number_value(json_object_get(est, "percent")),
					total, rate, eta);
		}
		fprintf(out, "; %lld rows, %s copied so far", (long long) json_integer_value(json_object_get(progress, "rows")), bytes);
		if (json_is_number(since))
		{
			format_duration(json_number_value(since), eta, sizeof(eta));
			fprintf(out, json_is_true(json_object_get(progress, "running"))
					? " (updated %s ago)" : " (no update for %s: is the copy still running? rerun 'pgcutover copy' to resume)", eta);
		}
		fputc('\n', out);
		print_counts(progress, "tables", "tables", out);
		json_array_foreach(json_object_get(progress, "tables_in_progress"), i, t)
		{
			format_bytes(json_integer_value(json_object_get(t, "bytes")), bytes, sizeof(bytes));
			fprintf(out, "  %s.%s: %lld rows, %s", json_string_value(json_object_get(t, "schema")),
					json_string_value(json_object_get(t, "table")),
					(long long) json_integer_value(json_object_get(t, "rows")), bytes);
			if (json_integer_value(json_object_get(t, "parts")) > 1)
				fprintf(out, ", %lld/%lld parts done", (long long) json_integer_value(json_object_get(t, "parts_done")),
						(long long) json_integer_value(json_object_get(t, "parts")));
			if (json_is_number(json_object_get(t, "seconds")))
			{
				format_duration(json_number_value(json_object_get(t, "seconds")), eta, sizeof(eta));
				fprintf(out, ", for %s", eta);
			}
			fputc('\n', out);
		}
	}
	if (copying)
	{
		print_counts(progress, "indexes", "indexes", out);
		json_array_foreach(json_object_get(progress, "indexes_in_progress"), i, t)
		{
			format_duration(json_number_value(json_object_get(t, "seconds")), eta, sizeof(eta));
			fprintf(out, "  %s %s, for %s\n", json_string_value(json_object_get(t, "kind")),
					json_string_value(json_object_get(t, "name")), eta);
		}
	}
}
