/*
 * state.h
 *	  The migration's state in schema pgcutover on the target (sql/state.sql):
 *	  installing it and reading the row of one migration (one slot).
 */
#ifndef PGCUTOVER_STATE_H
#define PGCUTOVER_STATE_H

#include <stdbool.h>
#include <libpq-fe.h>

#include "lsn.h"
#include "options.h"

typedef struct MigrationState
{
	bool		found;
	char	   *phase;
	char	   *run_id;
	char	   *snapshot_name;
	char	   *keeper_socket;
	int			keeper_pid;
	Lsn			consistent_lsn;
	char	   *source_sysid;
	char	   *source_dbname;
} MigrationState;

/* Creates schema pgcutover and its tables if missing. */
bool		state_install(PGconn *tgt);

/* Reads the migration of slot; false on SQL error (found=false if none). */
bool		state_load(PGconn *tgt, const char *slot, MigrationState *st);
void		state_free(MigrationState *st);

/* The table filters the copy of a migration was made with. */
typedef struct CopyFilters
{
	StrList		include_schema;
	StrList		exclude_schema;
	StrList		include_table;
	StrList		exclude_table;
} CopyFilters;

/*
 * Reads the copy's include/exclude filters of slot into *filters, replacing
 * whatever it held (so a second call never duplicates); none when the
 * target has no state schema (no migration); false on SQL error, with
 * *filters emptied.
 */
bool		state_load_filters(PGconn *tgt, const char *slot, CopyFilters *filters);

/*
 * Adds to opts' four filter lists the copy's filters of slot they lack: what
 * follow applies, verify compares and switchover sets is what the copy
 * selected as well as what the command line says.  False on SQL error.
 */
bool		state_add_copy_filters(PGconn *tgt, const char *slot, Options *opts);

/*
 * *selection = *opts with filter lists of its own: the command line's, then
 * the copy's (state_add_copy_filters).  Free them with
 * state_free_selection, also after a false return (SQL error).
 */
bool		state_selection(PGconn *tgt, const Options *opts, Options *selection);
void		state_free_selection(Options *selection);
void		state_free_filters(CopyFilters *filters);

/* Sets phase (and updated_at) of the migration; false on SQL error. */
bool		state_set_phase(PGconn *tgt, const char *slot, const char *phase);

/* Records the start / end of a named phase in pgcutover.phase_log. */
bool		state_phase_begin(PGconn *tgt, const char *slot, const char *phase);
bool		state_phase_end(PGconn *tgt, const char *slot, const char *phase);
/* Has that phase an end recorded? */
bool		state_phase_finished(PGconn *tgt, const char *slot, const char *phase);

#endif
