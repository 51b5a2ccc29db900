/*
 * keydiff.h
 *	  The pure pieces of the table comparison (compare.c), kept apart so that
 *	  they can be tested without a server: splitting an integer key range
 *	  into chunks, and merging the (key, row hash) lists of both sides of a
 *	  chunk into the keys that differ.
 */
#ifndef PGCUTOVER_KEYDIFF_H
#define PGCUTOVER_KEYDIFF_H

#include <stddef.h>
#include <stdint.h>

/* What happened to one key. */
typedef enum KeyProblem
{
	KEY_DIFFERS,				/* on both sides, another row */
	KEY_MISSING_ON_TARGET,		/* on the source only */
	KEY_EXTRA_ON_TARGET			/* on the target only */
} KeyProblem;

/* "differs", "missing on target", "extra on target" */
const char *keydiff_problem_name(KeyProblem problem);

/* One row of one side: its key (as JSON text) and its hash; both borrowed. */
typedef struct KeyHash
{
	const char *key;
	const char *hash;
} KeyHash;

/* One differing key (borrowed from the KeyHash lists). */
typedef struct KeyDiff
{
	const char *key;
	KeyProblem	problem;
} KeyDiff;

/*
 * Splits the key range [min, max] of a table of about est_rows rows (<= 0:
 * unknown, assume every key is used) into chunks of about chunk_rows rows,
 * at most max_chunks of them.  Returns the number of chunks n (>= 1) and
 * stores the n - 1 cut points, strictly increasing, in cuts: chunk 0 is
 * k < cuts[0], chunk i is cuts[i-1] <= k < cuts[i], the last k >= cuts[n-2]
 * (the outer chunks are open, so keys only the target has are in one too).
 * cuts must have room for max_chunks - 1 values.
 */
int			keydiff_split_range(int64_t min, int64_t max, double est_rows,
								int64_t chunk_rows, int max_chunks, int64_t *cuts);

/*
 * Sorts both lists by key (byte order of the key text, the same whatever
 * the collations of the two servers) and walks them together.  Stores the
 * first max_named differences, in key order, in named (*nnamed of them)
 * and returns how many keys differ in all.  Keys are unique on each side.
 */
int64_t		keydiff_merge(KeyHash *source, size_t nsource, KeyHash *target, size_t ntarget,
						  KeyDiff *named, int max_named, int *nnamed);

#endif							/* PGCUTOVER_KEYDIFF_H */
