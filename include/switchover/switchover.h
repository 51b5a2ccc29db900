/*
 * switchover.h
 *	  The switchover engine, for `switchover` and `migrate`: what a run did
 *	  (SwitchoverResult) and its report, which src/cli/ prints.
 */
#ifndef PGCUTOVER_SWITCHOVER_H
#define PGCUTOVER_SWITCHOVER_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "lsn.h"
#include "options.h"
#include "outcome.h"
#include "verify.h"

typedef struct SwitchoverResult
{
	Outcome		outcome;
	bool		connected;		/* it reached both databases (else no report) */
	char	   *slot;
	bool		dry_run;
	bool		reverse;		/* --reverse: a rollback slot was asked for */
	json_t	   *steps;			/* [{step, ms}] in the order they ran */
	double		downtime_ms;	/* fence to target ready; 0 unless done */
	double		total_ms;
	double		lag_at_fence;	/* seconds; < 0: unknown */
	char		fence_marker_lsn[LSN_FORMAT_LEN + 8];	/* "" when none was written */
	bool		source_fenced;	/* the source is fenced now */
	int			sessions_ended; /* other sessions the fence ended */
	bool		already_switched_over;	/* a previous run completed it */
	char	   *switched_over_at;	/* when, if already_switched_over */
	const char *verify_mode;	/* incremental, full, none (static); NULL: not chosen */
	bool		verified;		/* verify ran: verify holds its result */
	VerifyResult verify;
	json_t	   *incremental;	/* the incremental verify's {verification_id,
								 * lsn, tables_by_key, tables_whole, keys,
								 * whole}, else NULL */
	json_t	   *pgbouncer;		/* --pgbouncer: [{admin, databases, paused_ms,
								 * ...}], else NULL */
	double		max_client_pause_ms;	/* the longest PgBouncer pause window */
	json_t	   *large_objects;	/* {objects, bytes, before_fence, inside_fence}
								 * (each {created, changed, deleted,
								 * bytes_moved, ms}), NULL when the source
								 * has none */
	int			matviews_refreshed; /* REFRESH MATERIALIZED VIEW run on the
									 * target after it opened (step
									 * refresh_matviews) */
	int			matviews_equal; /* ... left alone: their rows were the
								 * source's already */
} SwitchoverResult;

/*
 * Runs the switchover of opts->slot and fills *result (always, also on
 * failure: free it with switchover_result_free).  --dry-run prints every
 * statement to stdout instead of running it.
 */
Outcome		switchover_run(const Options *opts, SwitchoverResult *result);
void		switchover_result_free(SwitchoverResult *result);

/*
 * Gives the triggers and rules quieted while the target followed the state
 * they have on src now (ENABLE ALWAYS/REPLICA, or another one replayed DDL
 * set), or, src NULL or unreadable, the one they had when quieted
 * (state/triggers.h); prints the statements with dry_run.  The switchover's
 * last step, and cleanup's.
 */
bool		restore_quieted_triggers(PGconn *src, PGconn *tgt, const char *slot, bool dry_run);

/*
 * The run's report, for src/cli/ to print: a JSON document's fields (NULL
 * when the run did not reach both databases; src/cli/json_output.c adds the
 * envelope, exit_code included: the engine does not number outcomes), and
 * the human lines (none after a failure).
 */
json_t	   *switchover_report_json(const SwitchoverResult *result);
void		switchover_report_print(const SwitchoverResult *result, FILE *out);

#endif							/* PGCUTOVER_SWITCHOVER_H */
