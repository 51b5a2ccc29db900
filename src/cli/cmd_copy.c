/*
 * cmd_copy.c
 *	  `pgcutover copy`: runs the copy engine (src/copy/copy.c) and reports
 *	  what it did, as text or as one JSON document, with the exit code for
 *	  its outcome.  Parses nothing: the options come from cli.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "json_output.h"
#include "copy.h"
#include "log.h"
#include "pgconn.h"
#include "units.h"

static void
print_dry_run(const Options *opts, const CopyResult *r)
{
	printf("dry run: %s copy of slot %s; would run %s/pg_dump --section=pre-data/post-data in the slot's snapshot, "
		   "copy with %d jobs (split above %lld bytes), build indexes with %d jobs\n",
		   r->dry_run_resumes ? "resume the" : "start a new", opts->slot, r->pg_bin, opts->jobs,
		   (long long) opts->split_threshold, opts->index_jobs);
}

/* --dry-run --json: what the copy would do. */
static void
print_dry_run_json(const Options *opts, const CopyResult *r, ExitCode code)
{
	json_output_print(json_pack("{s:s, s:b, s:b, s:s?, s:i, s:I, s:i}", "slot", opts->slot, "dry_run", true,
								"resumed", r->dry_run_resumes, "pg_bin_dir", r->pg_bin, "parallel_jobs", opts->jobs,
								"split_threshold_bytes", (json_int_t) opts->split_threshold,
								"index_jobs", opts->index_jobs),
					  "copy", code, JSON_DOCUMENT);
}

/* table_summary: one object per table (see docs/architecture.md, "Watching a copy"). */
static json_t *
table_summary_json(const CopyTableSummaryList *tables)
{
	json_t	   *list = json_array();

	for (int i = 0; i < tables->count; i++)
	{
		const CopyTableSummary *t = &tables->tables[i];

		json_array_append_new(list, json_pack("{s:s, s:s, s:f, s:I, s:I, s:f, s:i, s:i, s:f}",
											  "schema", t->nspname, "table", t->relname,
											  "seconds", round_ms(t->seconds * 1000) / 1000,
											  "rows", (json_int_t) t->rows, "bytes", (json_int_t) t->bytes,
											  "mb_per_second", t->seconds > 0 ? t->bytes / 1048576.0 / t->seconds : 0.0,
											  "parts", t->parts, "indexes", t->indexes,
											  "index_seconds", round_ms(t->index_seconds * 1000) / 1000));
	}
	return list;
}

static void
print_json(const Options *opts, const CopyResult *r, ExitCode code)
{
	const CopyTotals *t = &r->totals;
	json_t	   *doc = json_pack("{s:s, s:b, s:b, s:b}", "slot", opts->slot, "dry_run", false,
								"resumed", r->resumed, "already_complete", false);

	if (r->have_totals)
	{
		if (t->consistent_lsn)
			json_object_set_new(doc, "consistent_lsn", json_string(t->consistent_lsn));
		json_object_set_new(doc, "tables", json_integer(t->tables));
		json_object_set_new(doc, "jobs", json_integer(t->jobs));
		json_object_set_new(doc, "rows", json_integer(t->rows));
		json_object_set_new(doc, "bytes", json_integer(t->bytes));
		json_object_set_new(doc, "post_steps", json_integer(t->post_steps));
		json_object_set_new(doc, "sequences", json_integer(t->sequences));
		json_object_set_new(doc, "seconds_total", json_real(t->seconds_total));
	}
	json_object_set_new(doc, "seconds", json_pack("{s:f, s:f, s:f, s:f}",
												  "slot", r->seconds_slot,
												  "schema", r->seconds_schema,
												  "data", r->seconds_data,
												  "post_data", r->seconds_post));
	json_object_set_new(doc, "table_summary", table_summary_json(&r->tables));
	json_object_set_new(doc, "backup", r->backup_path ? json_string(r->backup_path) : json_null());
	json_object_set_new(doc, "peak_rss_kb", json_integer(r->peak_rss_kb));
	json_output_print(doc, "copy", code, JSON_DOCUMENT);
}

/* The per-table summary, like pgcopydb's: time, rows, bytes, rate and index builds of each table. */
static void
print_table_summary(const CopyResult *r)
{
	const CopyTableSummaryList *tables = &r->tables;
	int			width = 5;
	int64_t		rows = 0,
				bytes = 0;
	double		index_seconds = 0;
	int			indexes = 0;
	char		took[32],
				size[32],
				idx[48];

	if (tables->count == 0)
		return;
	for (int i = 0; i < tables->count; i++)
	{
		int			len = (int) (strlen(tables->tables[i].nspname) + 1 + strlen(tables->tables[i].relname));

		width = len > width ? (len < 48 ? len : 48) : width;
	}
	printf("\n  %-*s %10s %12s %10s %8s %16s\n", width, "table", "time", "rows", "bytes", "MB/s", "indexes");
	for (int i = 0; i < tables->count; i++)
	{
		const CopyTableSummary *t = &tables->tables[i];
		char	   *name = psprintf("%s.%s", t->nspname, t->relname);

		format_duration(t->seconds, took, sizeof(took));
		format_bytes(t->bytes, size, sizeof(size));
		format_duration(t->index_seconds, idx, sizeof(idx));
		if (t->indexes > 0)
			snprintf(idx + strlen(idx), sizeof(idx) - strlen(idx), " (%d)", t->indexes);
		else
			snprintf(idx, sizeof(idx), "-");
		printf("  %-*s %10s %12lld %10s %8.2f %16s\n", width, name, took, (long long) t->rows, size,
			   t->seconds > 0 ? t->bytes / 1048576.0 / t->seconds : 0.0, idx);
		free(name);
		rows += t->rows;
		bytes += t->bytes;
		indexes += t->indexes;
		index_seconds += t->index_seconds;
	}
	format_bytes(bytes, size, sizeof(size));
	format_duration(index_seconds, idx, sizeof(idx));
	snprintf(idx + strlen(idx), sizeof(idx) - strlen(idx), " (%d)", indexes);
	if (r->resumed)
		printf("  %-*s %10s %12lld %10s %8s %16s\n\n", width, "total", "-", (long long) rows, size, "-", idx);
	else
	{
		format_duration(r->seconds_data, took, sizeof(took));
		printf("  %-*s %10s %12lld %10s %8.2f %16s\n\n", width, "total", took, (long long) rows, size,
			   r->seconds_data > 0 ? bytes / 1048576.0 / r->seconds_data : 0.0, idx);
	}
}

static void
print_text(const Options *opts, const CopyResult *r)
{
	const CopyTotals *t = &r->totals;
	char		b[32];

	format_bytes(t->bytes, b, sizeof(b));
	printf("copy complete%s: %lld tables (%lld jobs), %lld rows, %s in %.1f s\n",
		   r->resumed ? " (resumed)" : "", (long long) t->tables, (long long) t->jobs,
		   (long long) t->rows, b, t->seconds_total);
	print_table_summary(r);
	printf("  this run: slot %.1f s, schema %.1f s, data %.1f s, post-data %.1f s (%lld steps), %lld sequences set, peak RSS %ld kB\n",
		   r->seconds_slot, r->seconds_schema, r->seconds_data, r->seconds_post,
		   (long long) t->post_steps, (long long) t->sequences, r->peak_rss_kb);
	if (r->backup_path)
		printf("  backup: %s (+ .sha256)\n", r->backup_path);
	printf("  slot %s holds every change after %s: next, run 'pgcutover follow'\n",
		   opts->slot, t->consistent_lsn ? t->consistent_lsn : "");
}

int
cmd_copy(Options *opts)
{
	CopyResult	result;
	Outcome		outcome = copy_run(opts, &result);
	ExitCode	code = exit_code_for(outcome);

	if (result.dry_run && opts->json)
		print_dry_run_json(opts, &result, code);
	else if (result.dry_run)
		print_dry_run(opts, &result);
	else if (result.attempted)
	{
		if (opts->json)
			print_json(opts, &result, code);
		else if (result.have_totals && outcome == OUTCOME_OK)
			print_text(opts, &result);
	}
	else if (opts->json && outcome == OUTCOME_OK)
		json_output_print(json_pack("{s:s, s:b, s:b, s:b}", "slot", opts->slot, "dry_run", false,
									"resumed", false, "already_complete", true),
						  "copy", code, JSON_DOCUMENT);
	copy_result_free(&result);
	return code;
}
