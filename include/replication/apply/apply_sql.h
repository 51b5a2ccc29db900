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

/*
 * Is pg_attribute.attgenerated's value that of a column nobody may write?
 * 's' (stored) and, from PostgreSQL 18, 'v' (virtual); '\0' is a plain one.
 */
bool		attgenerated_never_written(char attgenerated);

/* "<prefix>col = <value>" with the casts col's type needs; the caller frees it. */
char	   *match_sql(const char *prefix, const ColumnMeta *col, const char *value);

/*
 * Row classes (NaN and +-Infinity, nanfix.h).  wal2json prints NaN,
 * Infinity and -Infinity of float4, float8 and numeric as null, like NULL.
 * The class of a row image is every row that prints that way: its class
 * columns (the key when by_key, else every written column: a REPLICA
 * IDENTITY FULL table without a key) equal, and where the image has null
 * in a float/numeric column, NULL (never in a key), NaN, Infinity or
 * -Infinity.  Each row is in exactly one class: classes split a table.
 */

/* Does the image leave its row ambiguous (a null in a class column for which column_null_ambiguous())? */
bool		rowclass_ambiguous(const TableMeta *t, const ChangeColumn *img, int n, bool by_key);

/*
 * Appends "(<the class of img>)": its values go to params[*nparams...]
 * (room for t->ncols more needed) as $n, *nparams advanced.  numeric_infinity:
 * the server knows numeric Infinity (PostgreSQL 14 and later).
 */
void		rowclass_predicate(StrBuf *sql, const TableMeta *t, const ChangeColumn *img, int n,
							   bool by_key, bool numeric_infinity, const char **params, int *nparams);

/*
 * Appends "SELECT <every written column>::text FROM ONLY t WHERE " for a read
 * on the source (no ONLY for a partitioned t; a leaf written through its
 * root is read as that leaf).
 */
void		rowclass_select_list(StrBuf *sql, const TableMeta *t);

/*
 * bytea values that arrived without their "\x".  wal2json prints a bytea
 * as bare hex, and the decoder can give it back its prefix only when
 * wal2json named the column's type: wal2json before 2.5 ignores
 * include-type-oids in format-version 2, and follow asks for no type names.
 * The target's column type is known here: a value of a bytea (or domain
 * over bytea) column whose type the decoder did not see, that does not
 * already start with "\x", gets it ("" is the empty bytea, "\x").  Bare hex
 * never holds a backslash, so a value already prefixed (a domain's, which
 * wal2json prints whole) is left alone.
 */
typedef struct ByteaFix
{
	Change		change;			/* the corrected copy handed out */
	ChangeColumn *columns;
	int			capcolumns;
	ChangeColumn *identity;
	int			capidentity;
	char	   *text;			/* the corrected values, NUL-separated */
	size_t		textcap;
} ByteaFix;

void		byteafix_init(ByteaFix *bf);
void		byteafix_free(ByteaFix *bf);

/* Does value v of target column col need the "\x" prefix? */
bool		bytea_value_needs_prefix(const ColumnMeta *col, const ChangeColumn *v);

/*
 * c itself when none of its values (new row and identity) needs the
 * prefix, else a copy with those values corrected, valid until the next
 * call or byteafix_free; everything else still points into c.
 */
const Change *byteafix_apply(ByteaFix *bf, const TableMeta *t, const Change *c);

#endif
