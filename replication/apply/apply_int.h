/*
 * apply_int.h
 *	  Internals shared by apply.c (transactions, groups, the pipeline) and
 *	  apply_batch.c (the row buffer and batching).  Not for other modules.
 */
#ifndef PGCUTOVER_APPLY_INT_H
#define PGCUTOVER_APPLY_INT_H

#include <stdbool.h>
#include <libpq-fe.h>

#include "alloc.h"
#include "apply.h"
#include "apply_sql.h"
#include "nanfix.h"
#include "strbuf.h"
#include "tablemeta.h"

#define SYNC_EVERY 500			/* statements between pipeline syncs */

typedef struct Pending
{
	int			expect_rows;	/* rows the statement must change, -1: any */
	char		what[200];		/* for error messages */
} Pending;

/* A row change waiting to be sent, possibly batched with others. */
typedef struct BufRow
{
	TableMeta  *table;
	PreparedStmt *shape;
	int			first_param;	/* index into Apply.param_off */
	int			next;			/* next buffered row of the same table, -1 */
} BufRow;

/*
 * The keys of the rows a group changed, recorded for an online verification
 * (keytrack.c): sent with the group's commit, so they are durable with it.
 */
typedef struct KeyTrack
{
	int64_t		verification_id;	/* 0: not recording */
	StrBuf		keys;			/* JSON array of [schema, table, {key}] */
	int			nkeys;
} KeyTrack;

/*
 * The source session apply reads through (NaN re-reads, replica identity
 * and materialized view checks).  The sessions of a pool (apply_pool.h)
 * share one: the switchover's fence spares the follower's source sessions
 * it is told of, and it is told of one.
 */
typedef struct SourceSession
{
	PGconn	   *conn;			/* NULL after a loss, until next needed */
	int			refs;			/* Apply sessions using it */
} SourceSession;

#define BUFFER_ROWS 4096		/* rows buffered before they are sent */
#define MAX_BATCH 256			/* rows in one statement */

struct Apply
{
	ApplyConfig cfg;
	PGconn	   *tgt;
	PGconn	   *meta;			/* target catalog reads (tgt is in pipeline mode) */
	SourceSession *source;		/* NaN re-reads, identity checks; maybe shared */
	TableCache *tables;
	NanFixer   *nanfix;
	RowStatement rs;
	ByteaFix	bytea;			/* "\x" for bytea values wal2json left bare */
	bool		bytea_noted;	/* ... and that was logged once */
	ApplyTotals totals;
	ChangeColumn *image;		/* a FULL table's new row, completed (apply.c) */
	int			capimage;

	bool		group_open;
	bool		in_txn;
	bool		skip_txn;
	bool		ddl_in_group;	/* DDL ran in the open group: the catalog is read
								 * on tgt, the group commits with the source txn */
	char	   *search_path;	/* the session's own, restored after DDL */
	char		encoding[64];	/* of the stream's text: every session says it */
	int64_t		group_rows;
	int64_t		txn_start_rows;	/* group_rows when the current source txn began */
	int64_t		group_txns;
	double		group_started;
	Lsn			group_end_lsn;
	char		group_commit_time[64];

	Pending    *pending;
	int			npending;
	int			cap_pending;
	int			stmt_seq;

	/* row changes buffered for batching */
	BufRow	   *rows;
	int			nrows;
	int			caprows;
	int		   *param_off;		/* offsets into arena, -1 for NULL */
	int			nparam_off;
	int			capparam_off;
	StrBuf		arena;
	TableMeta **buf_tables;		/* tables with buffered rows, first seen first */
	int			nbuf_tables;
	int			capbuf_tables;
	StrBuf		batch_sql;
	const char **batch_params;
	int			capbatch_params;

	StrBuf		truncate;		/* "TRUNCATE ONLY a, ONLY b" being collected */
	int			ntruncate;
	StrList		truncate_routed;	/* roots of routed leaves truncated, one a leaf */
	int			truncate_routed_whole;	/* ... of which in "TRUNCATE root" */

	KeyTrack	track;

	char	   *error;
	Outcome		outcome;		/* what the first error means, with error */
};

bool		apply_fail(Apply *a, Outcome outcome, const char *fmt,...) __attribute__((format(printf, 3, 4)));
Pending    *apply_push_pending(Apply *a, int expect_rows, const char *what, const char *table);
bool		apply_sync_results(Apply *a);
bool		apply_maybe_sync(Apply *a);

/* apply.c */
/* a table's shape (NULL with the error set; see apply_row) */
TableMeta  *apply_lookup_table(Apply *a, const Change *c);
/* sends one statement into the pipeline, its result checked at the next sync */
bool		apply_send_query(Apply *a, const char *sql, int nparams, const char *const *params,
							 const char *what);
/* the (shared) source session, reconnected if it was lost */
bool		apply_ensure_source(Apply *a);
/* plans and buffers one row change; values_exact: read on the source */
bool		apply_buffer_change(Apply *a, TableMeta *t, const Change *c, bool values_exact);

/* apply_ambiguous.c */
bool		apply_route_ambiguous(Apply *a, TableMeta *t, const Change *c, bool *routed);
bool		apply_resolve_nans(Apply *a);

/* keytrack.c */
bool		keytrack_note_row(Apply *a, TableMeta *t, const Change *c);
bool		keytrack_note_whole(Apply *a, TableMeta *t, const char *reason);
bool		keytrack_send(Apply *a);
void		keytrack_discard(Apply *a);

/* apply_batch.c */
PreparedStmt *apply_plan_shape(Apply *a, TableMeta *t, const Change *c);
void		apply_buffer_row(Apply *a, TableMeta *t, PreparedStmt *shape);
bool		apply_flush_rows(Apply *a);

#endif
