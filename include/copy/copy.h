/*
 * copy.h
 *	  The copy engine: copy_run() and what it reports (CopyResult); and the
 *	  phases, shared between its modules:
 *	    copy_schema.c  pg_dump in the snapshot; restore pre-data and plan the
 *	                   rest (jobs, post-data steps, sequences) in one target
 *	                   transaction
 *	    copy_data.c    parallel COPY of every job, each in one target
 *	                   transaction with its 'done' mark
 *	    copy_post.c    post-data steps (indexes, keys, FKs, triggers), in
 *	                   parallel stages, each step marked done with its DDL;
 *	                   the indexes and keys of a table are built as soon as
 *	                   its data is in, while other tables still copy
 *	                   (IndexBuilder)
 *	    copy.c         the engine: state, snapshot keeper, phases, result
 *	    copy_progress.c  what a person sees while it runs (copy_progress.h)
 *	  The command (src/cli/cmd_copy.c) prints the result and picks the exit
 *	  code; the engine prints nothing but log lines.
 */
#ifndef PGCUTOVER_COPY_H
#define PGCUTOVER_COPY_H

#include <signal.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "copy_jobs.h"
#include "options.h"
#include "outcome.h"
#include "snapshot.h"

typedef struct CopyStats
{
	int			tables;
	int			jobs;
	int64_t		rows;
	int64_t		bytes;
	int			post_steps;
	int			sequences;
	double		seconds_slot;	/* creating the slot, waiting for open
								 * transactions included */
	double		seconds_schema;
	double		seconds_data;
	double		seconds_post;
	double		seconds_total;
} CopyStats;

typedef struct IndexBuilder IndexBuilder;

typedef struct CopyContext
{
	const Options *opts;
	const char *slot;
	PGconn	   *src;			/* source, inside the snapshot transaction */
	PGconn	   *tgt;			/* target, state updates */
	char	   *pg_bin;			/* directory of the pg_dump to run (pgdump.h) */
	SnapshotLease lease;
	volatile sig_atomic_t *interrupted;
	IndexBuilder *indexes;		/* building since the data phase, or NULL */
	CopyStats	stats;
} CopyContext;

/* What one copy_run did, for the command's report. */
typedef struct CopyResult
{
	bool		attempted;		/* the copy started or resumed: a report is due */
	bool		resumed;		/* it continued an interrupted copy */
	bool		have_totals;	/* totals were read from the state */
	CopyTotals	totals;			/* over every run of this copy */
	CopyTableSummaryList tables;	/* per table, every run; empty if unread */
	double		seconds_slot;	/* this run's phases: the slot (0 on a resume) */
	double		seconds_schema;
	double		seconds_data;
	double		seconds_post;
	char	   *backup_path;	/* --backup file written, or NULL */
	long		peak_rss_kb;

	/* --dry-run: nothing ran, this is the plan */
	bool		dry_run;
	bool		dry_run_resumes;	/* would resume an interrupted copy */
	char	   *pg_bin;			/* directory of the pg_dump it would run */
} CopyResult;

/*
 * Copies (or resumes copying) the source into the target in one snapshot
 * and leaves the slot ready for follow.  Fills *result; free it with
 * copy_result_free whatever the outcome.
 */
Outcome		copy_run(const Options *opts, CopyResult *result);
void		copy_result_free(CopyResult *result);

/* Opens a source connection reading in the lease's snapshot. */
PGconn	   *copy_connect_snapshot(const CopyContext *ctx, char **errmsg);

/* Phases; each returns an Outcome. */
int			copy_schema_run(CopyContext *ctx);
int			copy_data_run(CopyContext *ctx);
int			copy_post_run(CopyContext *ctx);
int			copy_sequences_run(CopyContext *ctx);

/*
 * The indexes and keys (post-data stage 1) of each table, built on up to
 * --index-jobs connections as soon as the table's data is in, while the
 * data workers copy other tables (copy_post.c).  The data phase starts it
 * with its pending jobs (a step whose table has none of them waits for the
 * end of the data), tells it each job that committed, and that the data is
 * in; copy_post_run waits for it as its stage 1.  Finishing without waiting
 * (a failure, an interrupt) lets the steps in hand end and starts no more:
 * they are left for the rerun, like any step.
 */
int			index_builder_start(CopyContext *ctx, const CopyJobList *pending);
void		index_builder_job_done(IndexBuilder *b, const CopyJob *job);	/* any thread */
void		index_builder_poll(IndexBuilder *b);	/* the starting thread: interrupts */
bool		index_builder_failed(IndexBuilder *b);	/* a step failed: stop the data too */
void		index_builder_data_done(IndexBuilder *b);
int			index_builder_finish(CopyContext *ctx, bool wait);

/*
 * The table a post-data step of stage 1 builds on, as pg_dump names it in
 * "CREATE [UNIQUE] INDEX name ON [ONLY] schema.table" or "ALTER TABLE
 * [ONLY] schema.table ADD ...": its schema and name, unquoted, in
 * *nspname and *relname (the caller frees them); false for any other
 * statement.  Comment lines and SET statements before it are skipped.
 * Pure, unit-tested.
 */
bool		post_step_table(const char *sql, char **nspname, char **relname);


#endif
