/*
 * copy_lo.h
 *	  copy's large objects: one pass of lo_sync.h in the exported snapshot,
 *	  after the tables' data and before the snapshot is let go.
 */
#ifndef PGCUTOVER_COPY_LO_H
#define PGCUTOVER_COPY_LO_H

#include "copy.h"

/* Copies every large object of the snapshot (OID, data, comment); an Outcome. */
int			copy_large_objects_run(CopyContext *ctx);

#endif							/* PGCUTOVER_COPY_LO_H */
