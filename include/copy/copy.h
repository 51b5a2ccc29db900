/*
 * copy.h
 *	  The `copy` command's phases, shared between its modules:
 *	    copy_schema.c  pg_dump in the snapshot; restore pre-data and plan the
 *	                   rest (jobs, post-data steps, sequences) in one target
 *	                   transaction
 *	    copy_data.c    parallel COPY of every job, each in one target
 *	                   transaction with its 'done' mark
 *	    copy_post.c    post-data steps (indexes, keys, FKs, triggers), in
 *	                   parallel stages, each step marked done with its DDL
 *	    cmd_copy.c     the command: state, snapshot keeper, phases, report
 */
#ifndef PGCUTOVER_COPY_H
#define PGCUTOVER_COPY_H

#include <signal.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "options.h"
#include "snapshot.h"

typedef struct CopyStats
{
	int			tables;
	int			jobs;
	int64_t		rows;
	int64_t		bytes;
	int			post_steps;
	int			sequences;
	double		seconds_schema;
	double		seconds_data;
	double		seconds_post;
	double		seconds_total;
} CopyStats;

typedef struct CopyContext
{
	const Options *opts;
	const char *slot;
	PGconn	   *src;			/* source, inside the snapshot transaction */
	PGconn	   *tgt;			/* target, state updates */
	char	   *pg_bin;			/* directory of pg_dump matching the source */
	SnapshotLease lease;
	volatile sig_atomic_t *interrupted;
	CopyStats	stats;
} CopyContext;

/* Opens a source connection reading in the lease's snapshot. */
PGconn	   *copy_connect_snapshot(const CopyContext *ctx, char **errmsg);

/* Phases; each returns an ExitCode. */
int			copy_schema_run(CopyContext *ctx);
int			copy_data_run(CopyContext *ctx);
int			copy_post_run(CopyContext *ctx);
int			copy_sequences_run(CopyContext *ctx);

/* Finds pg_dump for the source's major version; NULL and *errmsg if none. */
char	   *copy_find_pg_bin(const Options *opts, int source_major, char **errmsg);

#endif
