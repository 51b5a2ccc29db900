/*
 * apply_sql.h
 *	  Turning one row change into a parameterised statement for a target
 *	  table: which columns to write (never generated ones), how to find the
 *	  row (primary key, replica identity index, or the whole old row with
 *	  exactly one match), and the parameter values.  Pure: no connection.
 */
#ifndef PGCUTOVER_APPLY_SQL_H
#define PGCUTOVER_APPLY_SQL_H

#include <stdbool.h>

#include "decoder.h"
#include "strbuf.h"
#include "tablemeta.h"

typedef struct RowStatement
{
	StrBuf		key;			/* identifies the statement shape for caching */
	StrBuf		sql;
	const char **params;
	int			nparams;
	int			cap;
	bool		expect_one_row; /* UPDATE / DELETE must hit exactly one row */
	bool		want_sql;		/* build sql too (else only key and params) */
	/* the shape, for batching runs of rows of the same shape */
	char		action;
	int		   *colidx;			/* target columns written, in parameter order */
	int			ncols;
	int			colcap;
	bool		by_key;			/* the row is found by t->key (last nkey params) */
	bool		key_unchanged;	/* UPDATE: the new key equals the old one */
} RowStatement;

void		rowstmt_init(RowStatement *rs);
void		rowstmt_free(RowStatement *rs);

/*
 * Plans I, U or D of change c on table t into rs (key, params, and the sql
 * when rs->want_sql: building it costs more than the rest, do it on a miss).
 * Returns false with *drift set (malloc'd, one line naming the table, the
 * column and the DDL to run) when the change does not fit the target table.
 */
bool		rowstmt_plan(RowStatement *rs, const TableMeta *t, const Change *c, char **drift);

/*
 * Builds the statement for nrows rows of the shape of proto (planned by
 * rowstmt_plan, batchable):
 *   INSERT ... VALUES (...), (...)
 *   UPDATE ONLY t AS x SET c = v.p1 FROM (VALUES (...), ...) v WHERE x.k = v.pk
 *   DELETE FROM ONLY t AS x USING (VALUES (...), ...) v WHERE x.k = v.pk
 * Parameters are each row's parameters in order, row after row.
 */
void		rowstmt_batch_sql(char action, const int *colidx, int ncols, const TableMeta *t,
							  int nrows, StrBuf *out);

/* Can runs of rows of this shape be sent as one statement? */
bool		rowstmt_batchable(const RowStatement *rs, const TableMeta *t);

#endif
