/*
 * compare_int.h
 *	  What the files of the comparison engine share, and nobody else (it is
 *	  on no other library's include path): the engine's state and its jobs.
 *
 *	    compare.c       the passes: which jobs, what the differing chunks
 *	                    hold (the keys), the verdicts; compare_tables
 *	    compare_jobs.c  one job: its statement, and the verdict on what
 *	                    both sides answered
 *	    compare_loop.c  the loop that runs jobs on every pair at once
 */
#ifndef PGCUTOVER_COMPARE_INT_H
#define PGCUTOVER_COMPARE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "compare.h"
#include "strbuf.h"

typedef __int128 int128;		/* a sum of chunk checksums */

/* The columns identifying a table's rows: primary key, else replica identity. */
typedef struct TableKey
{
	int			ncols;
	char	  **name;			/* attname, as a changed key names it */
	char	  **ident;			/* quote_ident(attname) */
	char	  **literal;		/* quote_literal(attname) */
	char	  **type;			/* format_type(atttypid, atttypmod) */
	bool		integer;		/* one column of smallint, integer or bigint */
} TableKey;

/* One task under way. */
typedef struct TableWork
{
	const CompareTask *task;
	TableVerdict *v;
	TableKey	key;
	bool		have_range;		/* min/max read (integer key, table not empty) */
	int64_t		min;
	int64_t		max;
	int			first_chunk;	/* its chunks in Engine.chunks (the latest
								 * split) */
	int			nchunks;
	bool		differs;		/* a chunk of the comparison differed */
	int128		source_sum;
	int128		target_sum;
	bool		source_gone;	/* dropped on the source meanwhile */
	bool		by_keys;		/* COMPARE_KEYS, and the keys name the key
								 * columns: the given rows only */
	const char *keys_note;		/* why no key is named, or NULL */
} TableWork;

/* One statement for both sides (or the source only). */
typedef enum JobKind
{
	JOB_RANGE,					/* min/max of an integer key, source only */
	JOB_CHUNK,					/* count + checksum of a key range */
	JOB_SOURCE_ONLY,			/* count + checksum of a table missing on the
								 * target, for the report */
	JOB_KEYS					/* hash per given key */
} JobKind;

typedef struct Chunk
{
	JobKind		kind;
	int			work;			/* index into Engine.works */
	bool		has_lo;
	bool		has_hi;
	int64_t		lo;				/* key >= lo */
	int64_t		hi;				/* key < hi */
	size_t		keys_from;		/* JOB_KEYS: [keys_from, keys_to) of the
								 * task's keys */
	size_t		keys_to;
	bool		differs;
	bool		refine;			/* splits a whole table that differed, only to
								 * find where: not counted again */
	long long	source_rows;
	long long	target_rows;
} Chunk;

/* What one pair is doing. */
typedef struct Slot
{
	int			chunk;			/* -1: idle */
	char	   *sql;
	char	   *param;
	bool		waiting[2];		/* a result is still to come from side i */
	PGresult   *res[2];
} Slot;

typedef struct Engine
{
	ComparePair *pairs;
	int			npairs;
	const CompareConfig *cfg;
	TableWork  *works;
	int			nworks;
	Chunk	   *chunks;
	int			nchunks;
	int			cap;
	Slot	   *slots;
	double		t0;
	double		next_progress;
	int			chunks_total;
	int			chunks_done;
	long long	rows_done;		/* source rows of the chunks done */
	double		rows_total;		/* estimated (reltuples) */
	double		bytes_done;
	double		bytes_total;
	const char *row_hash;		/* SQL: a row r's 64-bit hash, see row_hash_sql */
} Engine;

/* A pair's session on one side: 0 the source, 1 the target. */
static inline PGconn *
side_conn(const ComparePair *p, int side)
{
	return side == 0 ? p->source : p->target;
}

/* compare_jobs.c */
char	   *compare_job_sql(const Engine *e, const Chunk *c, char **param);
void		compare_append_range(StrBuf *sql, const TableWork *w, const Chunk *c);
bool		compare_judge(Engine *e, int pair);
const char *compare_result_message(const PGresult *res);
void		compare_log_error(const TableWork *w, int side, const char *what);

/* compare_loop.c */
bool		compare_run_jobs(Engine *e, int first, int last);
void		compare_slot_reset(Slot *s);
void		compare_progress(Engine *e, bool force);

#endif
