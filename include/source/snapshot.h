/*
 * snapshot.h
 *	  The snapshot keeper: a small detached process that creates the logical
 *	  slot with an exported snapshot and keeps its replication connection
 *	  open, so that the snapshot survives the death of the copy process and a
 *	  rerun can resume in exactly the same snapshot.
 *
 *	  Clients talk to it over a unix socket: on connect the keeper sends
 *	  "SNAPSHOT <name> <lsn> <pid>\n"; "RELEASE\n" makes it exit.  It also
 *	  exits when no client has been connected for hold_seconds, or when the
 *	  source closes its connection (the snapshot is gone then anyway).
 */
#ifndef PGCUTOVER_SNAPSHOT_H
#define PGCUTOVER_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "lsn.h"

typedef struct SnapshotLease
{
	int			fd;				/* our connection to the keeper */
	char		snapshot[128];	/* exported snapshot name */
	Lsn			consistent_lsn; /* slot's consistent point */
	int			keeper_pid;
	char		socket_path[108];
} SnapshotLease;

/*
 * Creates slot (wal2json) on the source with an exported snapshot held by a
 * new keeper, and takes a lease on it.  The creation waits for every
 * transaction holding an xid on the source server to end; meanwhile it logs,
 * every few seconds, which sessions those are and how to end them.
 * *seconds is how long it took, waiting included.  On failure returns false
 * and sets *errmsg (one line, malloc'd).
 */
bool		snapshot_create(const char *src_dsn, const char *slot, double hold_seconds,
							SnapshotLease *lease, double *seconds, char **errmsg);

/* The unix socket path the keeper of slot started by this process will use. */
bool		snapshot_socket_path(const char *slot, char *path, size_t len, char **errmsg);

/* Takes a lease on a running keeper; false if there is none at that path. */
bool		snapshot_attach(const char *socket_path, SnapshotLease *lease);

/* Tells the keeper the snapshot is no longer needed (it exits). */
void		snapshot_release(SnapshotLease *lease);

#endif
