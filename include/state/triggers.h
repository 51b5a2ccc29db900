/*
 * triggers.h
 *	  The target's triggers and rules that would fire on apply: those set
 *	  ENABLE ALWAYS or ENABLE REPLICA (session_replication_role = replica,
 *	  apply's role, does not stop them).  While the target is a replica they
 *	  are disabled, their state recorded first in the same transaction
 *	  (pgcutover.quieted_trigger); switchover and cleanup give it back.
 *	  Apply quiets again after each replayed DDL, through
 *	  pgcutover.relax_identity.
 */
#ifndef PGCUTOVER_TRIGGERS_H
#define PGCUTOVER_TRIGGERS_H

#include <stdbool.h>
#include <libpq-fe.h>

#include "alloc.h"

/*
 * Records and disables them (one transaction): how many are quieted now,
 * -1 on SQL error.
 */
int			triggers_quiet(PGconn *tgt, const char *slot);

/*
 * Every trigger's and rule's state on the source, as the source_states
 * below take it (jsonb text); NULL on error.
 */
char	   *triggers_source_states(PGconn *src);

/*
 * The ALTER TABLE ... ENABLE [ALWAYS|REPLICA] / DISABLE TRIGGER|RULE
 * statements that restore them (for --dry-run): to the state in
 * source_states (triggers_source_states), or, where that is NULL or lacks
 * one, to the state recorded when it was quieted.  False when they cannot
 * be read (no state schema: nothing was quieted).
 */
bool		triggers_restore_statements(PGconn *tgt, const char *slot, const char *source_states,
										StrList *statements);

/*
 * Restores them so and forgets them, in one transaction: how many, -1 on
 * SQL error, 0 without a state schema.
 */
int			triggers_restore(PGconn *tgt, const char *slot, const char *source_states);

#endif
