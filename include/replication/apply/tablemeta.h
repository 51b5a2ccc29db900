/*
 * tablemeta.h
 *	  What apply needs to know about a target table: its columns (types,
 *	  generated and identity columns, which values may hide NaN/Infinity),
 *	  its key, and the statements already prepared for it.  Loaded from the
 *	  target's catalog on first use and cached by (schema, table).
 */
#ifndef PGCUTOVER_TABLEMETA_H
#define PGCUTOVER_TABLEMETA_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ColumnMeta
{
	char	   *name;
	char	   *quoted;
	char	   *type;			/* format_type() on the target */
	char	   *typename_nomod; /* the type with no typmod, for casts (bpchar,
								 * not "character", which means char(1)) */
	uint32_t	typeoid;
	bool		generated;		/* generated (stored, or virtual in PostgreSQL
								 * 18): never written */
	bool		identity_always;	/* GENERATED ALWAYS AS IDENTITY */
	bool		maybe_special;	/* float/numeric: a NULL may be NaN/Infinity */
	bool		has_equality;	/* a default btree opclass exists */
	bool		is_bytea;		/* bytea, or a domain over it */
	bool		not_null;		/* NOT NULL: if maybe_special, a null in the
								 * stream is NaN or +-Infinity */
	char	   *match_type;		/* NULL: "col = $n" finds the row; else
								 * "col = $n::match_type": the type has no "="
								 * of its own and an untyped value would be
								 * read as another's (a regclass's name as an
								 * oid, a composite's as a record) */
	bool		match_casts_column; /* a domain: "col::base = $n::base" (an
									 * enum's "=" takes no domain over it) */
} ColumnMeta;

/* A statement shape of one table, and the server-side statements for it. */
typedef struct PreparedStmt
{
	char	   *key;			/* action + column set + null pattern (+ #rows) */
	char		name[24];
	bool		prepared;		/* PREPAREd on the current connection */
	char	   *sql;			/* single-row form */
	char		action;
	int		   *colidx;			/* target columns written, in parameter order */
	int			ncols;
	int			nparams;		/* per row */
	bool		batchable;
	bool		expect_one_row;
	struct PreparedStmt *next;
} PreparedStmt;

typedef struct TableMeta
{
	char	   *schema;
	char	   *table;
	char	   *qualname;		/* quoted schema.table: what statements write */
	char	   *leaf_qualname;	/* a leaf written through its partition
								 * root (partroute.h): the leaf, and
								 * qualname is the root; else NULL */
	int			route_leaves;	/* ... and the root's leaves on the target */
	char		relkind;		/* 'r', 'p', or 'm': a materialized view,
								 * whose rows apply skips */
	ColumnMeta *cols;
	int			ncols;
	int		   *key;			/* column indexes of the PK / replica identity index */
	int			nkey;
	bool		any_special;
	bool		any_ambiguous;	/* some column_null_ambiguous() column */
	bool		key_ambiguous;	/* some key column is, too */
	bool		any_bytea;		/* some column is_bytea */
	bool		other_unique;	/* an immediate unique/exclusion index besides the key */
	bool		unique_elsewhere;	/* ... or a deferrable one (footprint.c) */
	bool		key_canonical;	/* equal keys are printed alike (footprint.c) */
	int			buf_head;		/* apply's buffered rows of this table (-1: none) */
	int			buf_tail;
	bool		source_checked; /* source has a usable replica identity */
	bool		source_identity_full;	/* REPLICA IDENTITY FULL on the source:
										 * the old row is the whole row, and a
										 * column missing from it is NULL
										 * (wal2json < 2.5 leaves NULLs out) */
	int64_t		tracked_keys;	/* keys recorded for an online verification
								 * since this shape was loaded (keytrack.c) */
	bool		tracked_whole;	/* ... or the table is to be compared whole */
	PreparedStmt *stmts;
	struct TableMeta *next;		/* hash chain */
} TableMeta;

typedef struct TableCache TableCache;

/*
 * libpq's own spelling, so that the table shapes above stay usable by the
 * pure statement builder (apply_sql.c), which cannot include libpq-fe.h.
 */
typedef struct pg_conn PGconn;

TableCache *tablecache_create(void);
void		tablecache_destroy(TableCache *tc);

/*
 * Finds (schema, table); loads it from the target on a miss.  Returns NULL
 * and sets *missing when the target has no such table, NULL with *missing
 * false on SQL error.
 */
TableMeta  *tablecache_get(TableCache *tc, PGconn *tgt, const char *schema,
						   const char *table, bool *missing);

/*
 * Remembers (schema, table) as a materialized view the target lacks (the
 * source made it after the copy): its rows are skipped like those of the
 * target's own materialized views (relkind 'm').  Returns the entry.
 */
TableMeta  *tablecache_add_matview(TableCache *tc, const char *schema, const char *table);

/* Drops every cached table (after DDL) or only their statements (new connection). */
void		tablecache_invalidate(TableCache *tc);
void		tablecache_forget_statements(TableCache *tc);

/* Zeroes what keytrack.c counted per table (a new verification starts). */
void		tablecache_forget_tracking(TableCache *tc);

/*
 * Is a null in a row image of this column NULL, NaN, Infinity or -Infinity?
 * wal2json prints the non-finite values of float4, float8 and numeric
 * themselves as null; a domain over them it prints quoted, as text.
 */
static inline bool
column_null_ambiguous(const ColumnMeta *col)
{
	return col->typeoid == 700 || col->typeoid == 701 || col->typeoid == 1700;
}

/* Column index by name, -1 when absent. */
int			tablemeta_column(const TableMeta *t, const char *name);

#endif
