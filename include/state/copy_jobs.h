/*
 * copy_jobs.h
 *	  The copy's rows in the pgcutover state schema on the target: the
 *	  migration row through the copy phases, the planned data jobs
 *	  (copy_job), the post-data steps (post_step), the sequence values
 *	  (copy_sequence), the totals and per-table summary the copy reports, and
 *	  its progress while it runs (for `status`).  The copy engine
 *	  (src/copy) goes through these functions and never names a state table.
 *
 *	  Transactions: none of these functions begins or commits.  Each runs its
 *	  statement on the connection it is given, inside whatever transaction the
 *	  caller has open there.  Crash safety depends on it: a job's or a step's
 *	  'done' mark must commit in the same target transaction as its rows or
 *	  its DDL, and the plan commits with the restored schema.
 */
#ifndef PGCUTOVER_COPY_JOBS_H
#define PGCUTOVER_COPY_JOBS_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "options.h"

/* --- the migration row, copy phases ------------------------------------- */

/* Records the intent to start a copy: phase copy_init, keeper socket, source database. */
bool		copy_state_begin(PGconn *tgt, const char *slot, const char *keeper_socket,
							 const char *source_dbname);

/* Removes the row of a copy that never got past copy_init. */
bool		copy_state_discard_start(PGconn *tgt, const char *slot);

/* What the new slot and its snapshot are, recorded when copy_init ends. */
typedef struct CopySnapshotRecord
{
	const char *consistent_lsn; /* text form */
	const char *snapshot_name;
	const char *keeper_socket;
	int			keeper_pid;
	const char *source_sysid;
	const char *source_dbname;
	int			source_version;
	const Options *filters;		/* include/exclude schema/table lists */
} CopySnapshotRecord;

/* copy_init -> copy_schema with the slot's snapshot; false unless exactly one row moved. */
bool		copy_state_record_snapshot(PGconn *tgt, const char *slot, const CopySnapshotRecord *rec);

/* -> copied: the snapshot and its keeper are forgotten. */
bool		copy_state_finish(PGconn *tgt, const char *slot);

/* What a copy has done so far, summed over every run of it. */
typedef struct CopyTotals
{
	char	   *consistent_lsn; /* text; NULL if not recorded */
	int64_t		tables;
	int64_t		jobs;
	int64_t		rows;
	int64_t		bytes;
	int64_t		post_steps;
	int64_t		sequences;
	double		seconds_total;	/* since the first run started */
} CopyTotals;

/*
 * Reads the totals of slot.  Silent: false (and nothing logged) when the
 * state or the row is missing or the query fails.
 */
bool		copy_state_totals(PGconn *tgt, const char *slot, CopyTotals *totals);
void		copy_totals_free(CopyTotals *totals);

/* --- data jobs ---------------------------------------------------------- */

typedef struct CopyJob
{
	char	   *nspname;
	char	   *relname;
	char	   *qualname;		/* quoted schema.table */
	char	   *columns;		/* quoted column list, may be empty */
	int			part;
	int			parts;
	char	   *block_from;		/* NULL: whole table */
	char	   *block_to;		/* NULL: open-ended */
	int64_t		est_bytes;
	bool		binary;
} CopyJob;

typedef struct CopyJobList
{
	CopyJob    *jobs;
	int			count;
} CopyJobList;

/* Plans one job (status pending). */
bool		copy_job_add(PGconn *tgt, const char *slot, const CopyJob *job);

/* The jobs of slot not done yet, largest first. */
bool		copy_jobs_load_pending(PGconn *tgt, const char *slot, CopyJobList *list);
void		copy_job_list_free(CopyJobList *list);

/*
 * Marks job done with its counts, in the caller's open transaction (the one
 * holding the job's rows).
 */
bool		copy_job_mark_done(PGconn *tgt, const char *slot, const CopyJob *job,
							   int64_t rows, int64_t bytes);

/*
 * Jobs an earlier run left 'running' (it ended or was killed mid-job; their
 * rows were rolled back) go back to pending.
 */
bool		copy_jobs_reset_running(PGconn *tgt, const char *slot);

/* What the finished jobs of every run copied, and what their plan estimated. */
typedef struct CopyDoneTotals
{
	int64_t		jobs;
	int64_t		rows;
	int64_t		bytes;
	int64_t		est_bytes;
} CopyDoneTotals;

bool		copy_jobs_done_totals(PGconn *tgt, const char *slot, CopyDoneTotals *totals);

/* A job in flight and what it has streamed so far. */
typedef struct CopyJobRunning
{
	const CopyJob *job;
	int64_t		rows;
	int64_t		bytes;
} CopyJobRunning;

/*
 * The copy's progress for `status`, in one autocommit statement (the
 * leader's, at most once a second): the jobs in flight become 'running'
 * with their counts so far (a job already done is left alone), and
 * detail_json (the copy's estimate, or NULL) becomes phase's detail in
 * phase_log, stamped with the server's time.
 */
bool		copy_progress_publish(PGconn *tgt, const char *slot, const char *phase,
								  const CopyJobRunning *running, int nrunning,
								  const char *detail_json);

/* One table of the copy's summary, over every run of the copy. */
typedef struct CopyTableSummary
{
	char	   *nspname;
	char	   *relname;
	int			parts;			/* copy jobs (CTID ranges) */
	int64_t		rows;
	int64_t		bytes;			/* COPY bytes read from the source */
	double		seconds;		/* first job's start to last job's end */
	int			indexes;		/* its indexes and key constraints (post-data stage 1) */
	double		index_seconds;	/* their build time, summed */
} CopyTableSummary;

typedef struct CopyTableSummaryList
{
	CopyTableSummary *tables;
	int			count;
} CopyTableSummaryList;

/*
 * Every table of the copy with its done jobs' counts, by schema and name.
 * Index builds are matched to tables through the target's catalog by name
 * (the plan keeps no schema for them): an index name found in two schemas
 * counts for one of them.  Silent on failure.
 */
bool		copy_table_summary(PGconn *tgt, const char *slot, CopyTableSummaryList *list);
void		copy_table_summary_free(CopyTableSummaryList *list);

/*
 * The copy's progress as `status --json` shows it (copy_progress; the
 * fields are in docs/architecture.md), read from the state only; NULL when
 * slot has no copy plan yet or on error (silent: status goes on without it).
 */
json_t	   *copy_progress_json(PGconn *tgt, const char *slot);

/* --- post-data steps ---------------------------------------------------- */

typedef struct PostStep
{
	int			step;			/* 0: the session preamble */
	int			stage;
	char	   *kind;			/* pg_dump's TOC type */
	char	   *name;
	char	   *sql;
} PostStep;

typedef struct PostStepList
{
	PostStep   *steps;
	int			count;
} PostStepList;

/* Plans one step (status pending). */
bool		post_step_add(PGconn *tgt, const char *slot, const PostStep *step);

/* The session preamble (step 0) of slot; *preamble NULL if there is none. */
bool		post_steps_load_preamble(PGconn *tgt, const char *slot, char **preamble);

/* The steps of one stage not done yet, in dump order. */
bool		post_steps_load_stage(PGconn *tgt, const char *slot, int stage, PostStepList *list);
void		post_step_list_free(PostStepList *list);

/* Marks step running (started_at now), autocommit, before its transaction begins. */
bool		post_step_mark_running(PGconn *conn, const char *slot, int step);

/* Steps an earlier run left 'running' (it failed or was killed) are pending again. */
bool		post_steps_reset_running(PGconn *tgt, const char *slot);

/* Marks step done, in the caller's open transaction (the one that ran its DDL). */
bool		post_step_mark_done(PGconn *tgt, const char *slot, int step, double seconds);

/* --- sequences ---------------------------------------------------------- */

/* Records a sequence's state (last_value and is_called) at the copy. */
bool		copy_sequence_add(PGconn *tgt, const char *slot, const char *nspname,
							  const char *relname, const char *last_value, bool is_called);

/* Sets every recorded sequence that exists on the target; *count how many. */
bool		copy_sequences_apply(PGconn *tgt, const char *slot, int *count);

#endif							/* PGCUTOVER_COPY_JOBS_H */
