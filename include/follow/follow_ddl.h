/*
 * follow_ddl.h
 *	  What `follow` does with a DDL command captured on the source
 *	  (sql/ddl_capture.sql): apply it on the target at its place in the
 *	  stream, skip it, or stop with the command and the fix.  A stop is
 *	  recorded on the target (progress_record_ddl_stop) so that
 *	  `follow --resume-after-ddl` skips exactly that command once the
 *	  operator has dealt with it.
 */
#ifndef PGCUTOVER_FOLLOW_DDL_H
#define PGCUTOVER_FOLLOW_DDL_H

#include <stdbool.h>
#include <libpq-fe.h>

#include "apply_pool.h"
#include "lsn.h"
#include "options.h"
#include "outcome.h"

typedef struct FollowDdl FollowDdl;

/*
 * NULL + *errmsg on a bad --ddl or --ddl-exclude.  selection holds the
 * table filters that decide which objects' DDL is replicated; it is read at
 * every DDL, so it must outlive the FollowDdl.
 */
FollowDdl  *follow_ddl_create(const Options *opts, const Options *selection, char **errmsg);
void		follow_ddl_destroy(FollowDdl *d);

/*
 * At every (re)start: is capture installed on the source (this decides the
 * default --ddl), and which stop --resume-after-ddl skips.  Logs the mode.
 */
bool		follow_ddl_prepare(FollowDdl *d, PGconn *source, PGconn *state);

/*
 * Handles one captured DDL message at lsn inside a source transaction.
 * Returns OUTCOME_OK, or the failure with *errmsg (malloc'd, one line with
 * the fix).
 */
Outcome		follow_ddl_handle(FollowDdl *d, ApplyPool *apply, PGconn *state, Lsn lsn,
							  const char *content, size_t len, char **errmsg);

#endif							/* PGCUTOVER_FOLLOW_DDL_H */
