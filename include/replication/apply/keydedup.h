/*
 * keydedup.h
 *	  Keeping the last of several changes to one key: a batched UPDATE may
 *	  name each key once, so of a run of UPDATEs of the same shape only the
 *	  last per key is sent (it carries every column the others did).
 *	  Pure: the rows are opaque indexes, the caller hashes and compares keys.
 */
#ifndef PGCUTOVER_KEYDEDUP_H
#define PGCUTOVER_KEYDEDUP_H

#include <stdbool.h>

/* Hash of the key of row (any function of the key alone). */
typedef unsigned (*KeyHashFn) (void *arg, int row);

/* Do rows a and b have the same key? */
typedef bool (*KeyEqualFn) (void *arg, int a, int b);

/*
 * Keeps only the last occurrence of each key in rows[0..n-1], in their
 * original order, at the start of rows; returns how many are kept.
 */
int			keep_last_per_key(int *rows, int n, KeyHashFn hash, KeyEqualFn equal, void *arg);

#endif							/* PGCUTOVER_KEYDEDUP_H */
