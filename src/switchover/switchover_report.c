/*
 * switchover_report.c
 *	  What a switchover run reports: its JSON document and its human lines.
 *	  Built from a SwitchoverResult; the caller (src/cli/: `switchover` and
 *	  `migrate`) decides whether and where they are printed.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "switchover.h"
#include "verify.h"

/* Its fields; the envelope (command, ok, exit_code) is src/cli/json_output.c's. */
json_t *
switchover_report_json(const SwitchoverResult *result)
{
	bool		ok = result->outcome == OUTCOME_OK;
	json_t	   *doc;

	if (!result->connected)
		return NULL;
	doc = json_pack("{s:s, s:b, s:O, s:f, s:f}", "slot", result->slot,
					"dry_run", result->dry_run, "steps", result->steps,
					"downtime_ms", ok ? result->downtime_ms : 0.0,
					"total_ms", result->total_ms);
	json_object_set_new(doc, "lag_at_fence_seconds",
						result->lag_at_fence >= 0 ? json_real(result->lag_at_fence) : json_null());
	json_object_set_new(doc, "fence_marker_lsn",
						result->fence_marker_lsn[0] ? json_string(result->fence_marker_lsn) : json_null());
	json_object_set_new(doc, "source_fenced", json_boolean(result->source_fenced));
	json_object_set_new(doc, "sessions_ended", json_integer(result->sessions_ended));
	json_object_set_new(doc, "already_switched_over", json_boolean(result->already_switched_over));
	json_object_set_new(doc, "matviews_refreshed", json_integer(result->matviews_refreshed));
	json_object_set_new(doc, "matviews_equal", json_integer(result->matviews_equal));
	json_object_set_new(doc, "verify_mode", result->verify_mode ? json_string(result->verify_mode) : json_null());
	if (result->verified)
		json_object_set_new(doc, "verify", verify_json(&result->verify));
	if (result->incremental)
		json_object_set(doc, "incremental", result->incremental);
	if (result->large_objects)
		json_object_set(doc, "large_objects", result->large_objects);
	if (result->pgbouncer)
	{
		json_object_set(doc, "pgbouncer", result->pgbouncer);
		json_object_set_new(doc, "max_client_pause_ms", json_real(result->max_client_pause_ms));
	}
	return doc;
}

void
switchover_report_print(const SwitchoverResult *result, FILE *out)
{
	if (result->already_switched_over)
	{
		fprintf(out, "switchover already complete (slot %s, at %s): nothing to do\n", result->slot,
				result->switched_over_at);
		return;
	}
	if (result->outcome != OUTCOME_OK)
		return;
	fprintf(out, "switchover %s: write downtime %.1f ms (fence to target ready), lag at fence %.3f s\n",
			result->dry_run ? "rehearsed (dry run, nothing changed)" : "complete", result->downtime_ms,
			result->lag_at_fence > 0 ? result->lag_at_fence : 0);
	for (size_t i = 0; i < json_array_size(result->steps); i++)
	{
		json_t	   *step = json_array_get(result->steps, i);

		const char *name = json_string_value(json_object_get(step, "step"));

		fprintf(out, "  %-10s %8.1f ms%s\n", name, json_real_value(json_object_get(step, "ms")),
				strcmp(name, "refresh_matviews") == 0 ? " (after the target opened: not downtime)" : "");
	}
	if (result->verified)
		fprintf(out, "  verified (%s): %d tables identical, %lld rows compared, %d sequences not behind\n",
				result->verify_mode, result->verify.ntables, result->verify.rows_compared,
				result->verify.sequences - result->verify.sequences_behind);
	if (result->large_objects && !result->dry_run)
	{
		json_t	   *in = json_object_get(result->large_objects, "inside_fence");

		fprintf(out, "  large objects: %lld on the source, identical on the target; inside the fence %lld created, %lld changed, %lld deleted\n",
				(long long) json_integer_value(json_object_get(result->large_objects, "objects")),
				(long long) json_integer_value(json_object_get(in, "created")),
				(long long) json_integer_value(json_object_get(in, "changed")),
				(long long) json_integer_value(json_object_get(in, "deleted")));
	}
	if (result->matviews_refreshed + result->matviews_equal > 0 && !result->dry_run)
		fprintf(out, "  materialized views: %d refreshed on the target, in dependency order, %d already equal to the source's (those WITH NO DATA on the source left so)\n",
				result->matviews_refreshed, result->matviews_equal);
	if (result->pgbouncer && !result->dry_run)
		fprintf(out, "  PgBouncer: %zu repointed at the target; longest client-visible pause %.1f ms\n",
				json_array_size(result->pgbouncer), result->max_client_pause_ms);
	if (!result->dry_run)
		fprintf(out, "  the old source stays fenced (every write refused); the target is writable; the follower stops by itself\n");
	if (result->reverse && !result->dry_run)
		fprintf(out, "  rollback path: run 'pgcutover follow --source <target> --target <old source> --slot %s_reverse' to keep the old database current\n",
				result->slot);
}
