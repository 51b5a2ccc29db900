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
} RowStatement;

void		rowstmt_init(RowStatement *rs);
void		rowstmt_free(RowStatement *rs);

/*
 * Plans I, U or D of change c on table t into rs (key, sql, params).
 * Returns false with *drift set (malloc'd, one line naming the table, the
 * column and the DDL to run) when the change does not fit the target table.
 */
bool		rowstmt_plan(RowStatement *rs, const TableMeta *t, const Change *c, char **drift);

#endif
