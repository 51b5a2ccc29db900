/*
 * footprint.h
 *	  What a row change touches on the target (footprint.c), for parallel
 *	  apply (apply_pool.h).  Footprints that do not meet touch no common
 *	  row, index entry or lock.  Pure: no libpq.
 */
#ifndef PGCUTOVER_FOOTPRINT_H
#define PGCUTOVER_FOOTPRINT_H

#include <stdint.h>

#include "change.h"
#include "tablemeta.h"

typedef enum FootprintKind
{
	FOOTPRINT_NONE,				/* nothing (a skipped materialized view) */
	FOOTPRINT_ROWS,				/* rows[] by table and key; the table shared */
	FOOTPRINT_TABLE_SHARED,		/* rows no other change can name (appended
								 * to a table without any unique index) */
	FOOTPRINT_TABLE,			/* the table whole */
	FOOTPRINT_ALL				/* everything (TRUNCATE) */
} FootprintKind;

typedef struct Footprint
{
	FootprintKind kind;
	uint64_t	table;			/* hash of the table written */
	uint64_t	rows[2];		/* hashes of (table, key): old and new key */
	int			nrows;
} Footprint;

/* c's footprint on table t (t: the shape c is applied to). */
void		footprint_of(const TableMeta *t, const Change *c, Footprint *fp);

#endif
