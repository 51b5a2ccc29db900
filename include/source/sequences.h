/*
 * sequences.h
 *	  A sequence's whole state (last_value AND is_called, direction, bounds,
 *	  CYCLE), read from the sequence itself rather than pg_sequences (whose
 *	  last_value is NULL until the first nextval and after
 *	  setval(s, n, false)), and the rules that carry it to the target: what
 *	  nextval() would return next, the setval() that makes the target hand
 *	  out what the source would (plus a gap, the sequence's way, within its
 *	  bounds), and whether the target is behind.  Used by copy, switchover
 *	  and verify.
 */
#ifndef PGCUTOVER_SEQUENCES_H
#define PGCUTOVER_SEQUENCES_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "options.h"

typedef struct SequenceState
{
	char	   *nspname;
	char	   *relname;
	char	   *qualname;		/* quoted schema.name */
	char	   *type_name;		/* smallint, integer or bigint (NULL: not read) */
	int64_t		last_value;
	bool		is_called;
	int64_t		increment;		/* never 0; < 0 descends */
	int64_t		min_value;
	int64_t		max_value;
	int64_t		start_value;	/* START WITH (0: not read) */
	bool		cycle;
} SequenceState;

typedef struct SequenceList
{
	SequenceState *items;
	int			count;
} SequenceList;

/*
 * Reads every user sequence of conn this role may read (others are named in
 * a warning and skipped); with opts, only those its filters select, as
 * pg_dump does: by schema and name, and under --include-table also the
 * owned sequences (serial, identity) of the included tables.  False on an
 * SQL error.
 */
bool		sequences_read(PGconn *conn, const Options *opts, SequenceList *out);
void		sequences_free(SequenceList *list);
const SequenceState *sequences_find(const SequenceList *list, const char *qualname);

/*
 * The value the next nextval() returns, in *next; false when the sequence is
 * exhausted (at its bound without CYCLE: nextval() would fail).
 */
bool		sequence_next_value(const SequenceState *s, int64_t *next);

/*
 * Is a's next value further along than b's, in their direction?  An
 * exhausted sequence is furthest.  CYCLE sequences are compared by value
 * too: a wrap-around is not seen as progress.
 */
bool		sequence_ahead_of(const SequenceState *a, const SequenceState *b);

/*
 * Do a and b have the same shape (data type, increment, bounds, CYCLE)?  A
 * sequence altered on the source after the copy, without DDL capture, has
 * not: setting the source's value on the target could fail its bounds.
 */
bool		sequence_same_shape(const SequenceState *a, const SequenceState *b);

/* The setval(qualname, value, is_called) to run on the target. */
typedef struct SequenceSetting
{
	int64_t		value;
	bool		is_called;
	int64_t		gap_applied;	/* of the gap asked for; less near a bound */
	bool		keep_target;	/* the target is further along: leave it */
} SequenceSetting;

/*
 * What to set on the target so that its next value is the source's, moved
 * gap units the sequence's way (down for a descending one) but never past
 * its bounds, and never backwards from where the target already is (after a
 * killed run it may have handed out values; not judged for a CYCLE
 * sequence, which gets the source's).  tgt may be NULL.
 */
void		sequence_plan(const SequenceState *src, const SequenceState *tgt, int64_t gap,
						  SequenceSetting *out);

#endif							/* PGCUTOVER_SEQUENCES_H */
