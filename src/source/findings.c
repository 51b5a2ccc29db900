/*
 * findings.c
 *	  The list of preflight findings and its two renderings: one line per
 *	  finding for people, a JSON array for scripts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "preflight.h"

static const char *status_names[] = {"ok", "warn", "FAIL"};

void
findings_add(Findings *f, FindingStatus status, const char *check, const char *fix,
			 const char *fmt,...)
{
	va_list		ap;
	char	   *msg;
	Finding    *item;

	va_start(ap, fmt);
	msg = pvsprintf(fmt, ap);
	va_end(ap);

	f->items = pg_realloc(f->items, sizeof(Finding) * (f->count + 1));
	item = &f->items[f->count++];
	item->status = status;
	item->check = pg_strdup(check);
	item->message = log_redact(msg);
	item->fix = fix ? log_redact(fix) : NULL;
	free(msg);
	if (status == FINDING_FAIL)
		f->nfail++;
	else if (status == FINDING_WARN)
		f->nwarn++;
}

void
findings_free(Findings *f)
{
	for (int i = 0; i < f->count; i++)
	{
		free(f->items[i].check);
		free(f->items[i].message);
		free(f->items[i].fix);
	}
	free(f->items);
	memset(f, 0, sizeof(*f));
}

void
findings_print(const Findings *f, FILE *out)
{
	for (int i = 0; i < f->count; i++)
	{
		const Finding *it = &f->items[i];

		fprintf(out, "%-4s  %-24s %s", status_names[it->status], it->check, it->message);
		if (it->fix)
			fprintf(out, "; fix: %s", it->fix);
		fputc('\n', out);
	}
	fprintf(out, "%d checks: %d ok, %d warnings, %d failed\n", f->count,
			f->count - f->nfail - f->nwarn, f->nwarn, f->nfail);
}

json_t *
findings_to_json(const Findings *f)
{
	json_t	   *arr = json_array();

	for (int i = 0; i < f->count; i++)
	{
		const Finding *it = &f->items[i];

		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:o}",
											 "status", it->status == FINDING_FAIL ? "fail" : status_names[it->status],
											 "check", it->check,
											 "message", it->message,
											 "fix", it->fix ? json_string(it->fix) : json_null()));
	}
	return arr;
}
