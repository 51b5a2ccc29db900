/*
 * apply_pool.h
 *	  Parallel apply: --apply-jobs sessions on the target, fed in the
 *	  source's commit order by one dispatcher (the caller).  The same calls
 *	  as apply.h; with one job they are apply.h's, unchanged.
 *
 *	  Consecutive source transactions form a range, applied by one session
 *	  as one target transaction; ranges go to the sessions in turn and
 *	  commit in range order, each advancing the applied position as a group
 *	  of apply.h does.  The statements of open ranges run at the same time
 *	  where their footprints (apply.h) do not meet; where they meet, the
 *	  older ranges commit first.  See apply_pool.c for why that cannot
 *	  deadlock and keeps exactly-once.
 */
#ifndef PGCUTOVER_APPLY_POOL_H
#define PGCUTOVER_APPLY_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "apply.h"

#define APPLY_JOBS_MAX 64

typedef struct ApplyPool ApplyPool;

/*
 * A pool of up to jobs sessions (1 to APPLY_JOBS_MAX): the first opens now,
 * the others when a range first needs them.  NULL + *errmsg on failure.
 */
ApplyPool  *applypool_open(const ApplyConfig *cfg, int jobs, char **errmsg, Outcome *outcome);

/* As apply.h, for the pool. */
bool		applypool_change(ApplyPool *p, const Change *c);
bool		applypool_ddl(ApplyPool *p, const char *sql, const char *after_sql,
						  const char *search_path, const DdlMissing *missing, int nmissing);
bool		applypool_has_table(ApplyPool *p, const char *schema, const char *table, bool *exists);
bool		applypool_commit_before_current(ApplyPool *p);
bool		applypool_skipping(const ApplyPool *p);
void		applypool_track_keys(ApplyPool *p, int64_t verification_id);

/* Commits every open range, in order (the current one if between transactions). */
bool		applypool_flush(ApplyPool *p);

bool		applypool_in_transaction(const ApplyPool *p);
bool		applypool_group_open(const ApplyPool *p);

/* Totals of all sessions; durable_lsn is the last committed range's end. */
const ApplyTotals *applypool_totals(ApplyPool *p);

/* Conflicts between ranges: how often a range had to commit early. */
int64_t		applypool_conflicts(const ApplyPool *p);

const char *applypool_error(const ApplyPool *p);
Outcome		applypool_outcome(const ApplyPool *p);
int			applypool_source_pid(const ApplyPool *p);
/* Sessions opened so far: the second and later open when a backlog fills ranges. */
int			applypool_sessions_opened(const ApplyPool *p);

/* Rolls back anything uncommitted and disconnects. */
void		applypool_close(ApplyPool *p);

#endif
