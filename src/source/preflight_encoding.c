/*
 * preflight_encoding.c
 *	  The preflight's encoding check (preflight_int.h): whether the source's
 *	  text can arrive in the target's encoding.  Where a conversion can
 *	  fail, every selected table and the schema's own text are converted
 *	  once, and the first value that does not convert is found (its column,
 *	  then its row by halving the ctid range) to name it in the finding.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pgconn.h"
#include "preflight_int.h"

/*
 * Text a session has to convert, as copy and follow carry it: the source's
 * text to UTF-8 (a SQL_ASCII database's bytes must already be UTF-8 to
 * leave it), then to the target's encoding.  It fails exactly where copy
 * or follow would stop.
 */
#define CONVERTED_SQL "pg_catalog.convert(pg_catalog.convert_to((%s)::pg_catalog.text, 'UTF8'), 'UTF8', %s)"

/* The state of one check_encoding run. */
typedef struct EncodingScan
{
	Preflight  *p;
	const char *target_enc;		/* quoted literal */
	char	   *error;			/* the server's message for the first bad text */
} EncodingScan;

/*
 * Runs "SELECT count(converted(what)) FROM ONLY table r [WHERE where]":
 * true when every value converts; false with s->error set (replaced) when
 * one does not.  Any other error counts as converting: other checks name
 * it (select_privilege).  Inside a transaction a savepoint keeps it alive.
 */
static bool
converts(EncodingScan *s, const char *table, const char *what, const char *where)
{
	PGconn	   *conn = s->p->src;
	bool		in_txn = PQtransactionStatus(conn) == PQTRANS_INTRANS;
	char	   *expr = psprintf(CONVERTED_SQL, what, s->target_enc);
	char	   *sql = psprintf("SELECT count(%s) FROM ONLY %s r%s%s", expr, table,
							   where ? " WHERE " : "", where ? where : "");
	PGresult   *res;
	bool		ok = true;

	if (in_txn)
		PQclear(PQexec(conn, "SAVEPOINT pgcutover_encoding"));
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		/* 22021 invalid byte sequence, 22P05 no equivalent in the encoding */
		if (state && (strcmp(state, "22021") == 0 || strcmp(state, "22P05") == 0))
		{
			ok = false;
			free(s->error);
			s->error = db_error(conn);
			if (strncmp(s->error, "ERROR:  ", 8) == 0)
				memmove(s->error, s->error + 8, strlen(s->error + 8) + 1);
		}
		else
		{
			char	   *e = db_error(conn);

			log_debug("encoding check of %s skipped: %s", table, e);
			free(e);
		}
	}
	PQclear(res);
	if (in_txn)
		PQclear(PQexec(conn, "ROLLBACK TO SAVEPOINT pgcutover_encoding; RELEASE SAVEPOINT pgcutover_encoding"));
	free(sql);
	free(expr);
	return ok;
}

/* The first column of t whose text does not convert (quoted), or NULL. */
static char *
bad_column(EncodingScan *s, const TableInfo *t)
{
	char	   *sql = psprintf("SELECT pg_catalog.quote_ident(attname) FROM pg_catalog.pg_attribute "
							   "WHERE attrelid = %u AND attnum > 0 AND NOT attisdropped ORDER BY attnum", t->oid);
	PGresult   *res = db_query(s->p->src, sql);
	char	   *found = NULL;

	for (int i = 0; res && i < PQntuples(res) && found == NULL; i++)
	{
		char	   *col = psprintf("r.%s", PQgetvalue(res, i, 0));

		if (!converts(s, t->qualname, col, NULL))
			found = pg_strdup(PQgetvalue(res, i, 0));
		free(col);
	}
	PQclear(res);
	free(sql);
	return found;
}

/* A heap position as a ctid literal: 16 bits of offset under the block. */
static char *
tid_literal(long long pos)
{
	return psprintf("'(%lld,%lld)'::pg_catalog.tid", pos >> 16, pos & 0xFFFF);
}

/*
 * A sample row of t whose column does not convert, as "key (id)=(42)" or
 * "ctid (3,7)", found by halving the ctid range; NULL if it moved away (the
 * source is live) or the table has no pages.
 */
static char *
bad_row(EncodingScan *s, const TableInfo *t, const char *column)
{
	PGconn	   *conn = s->p->src;
	char	   *sql = psprintf("SELECT pg_catalog.pg_relation_size(%u) / pg_catalog.current_setting('block_size')::int8", t->oid);
	char	   *blocks = db_scalar(conn, sql);
	char	   *col = psprintf("r.%s", column);
	long long	lo = 0,
				hi = blocks ? (atoll(blocks) + 1) << 16 : 0;
	char	   *sample = NULL;
	char	   *keycols;
	char	   *where;

	free(sql);
	free(blocks);
	if (hi == 0)
		goto done;
	while (hi - lo > 1)
	{
		long long	mid = lo + (hi - lo) / 2;
		char	   *a = tid_literal(lo);
		char	   *b = tid_literal(mid);
		char	   *range = psprintf("r.ctid >= %s AND r.ctid < %s", a, b);

		if (converts(s, t->qualname, col, range))
			lo = mid;
		else
			hi = mid;
		free(range);
		free(a);
		free(b);
	}
	{
		char	   *tid = tid_literal(lo);

		where = psprintf("r.ctid = %s", tid);
		free(tid);
	}
	if (converts(s, t->qualname, col, where))
	{
		free(where);
		goto done;
	}
	sql = psprintf("SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY k.n) "
				   "FROM pg_catalog.pg_index i "
				   "CROSS JOIN LATERAL pg_catalog.unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY k(attnum, n) "
				   "JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
				   "WHERE i.indrelid = %u AND i.indisprimary", t->oid);
	keycols = db_scalar(conn, sql);
	free(sql);
	if (keycols && *keycols)
	{
		PGresult   *res;
		bool		in_txn = PQtransactionStatus(conn) == PQTRANS_INTRANS;

		sql = psprintf("SELECT ROW(%s)::pg_catalog.text FROM ONLY %s r WHERE %s", keycols, t->qualname, where);
		if (in_txn)
			PQclear(PQexec(conn, "SAVEPOINT pgcutover_encoding"));
		res = PQexec(conn, sql);
		if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
			sample = psprintf("key (%s)=%s", keycols, PQgetvalue(res, 0, 0));
		PQclear(res);
		if (in_txn)
			PQclear(PQexec(conn, "ROLLBACK TO SAVEPOINT pgcutover_encoding; RELEASE SAVEPOINT pgcutover_encoding"));
		free(sql);
	}
	if (sample == NULL)
		sample = psprintf("ctid (%lld,%lld)", lo >> 16, lo & 0xFFFF);
	free(keycols);
	free(where);
done:
	free(col);
	return sample;
}

/*
 * Whether the source's text can arrive in the target's encoding.  Copy and
 * follow convert it (copy_data.c, apply.c) and verify compares it in UTF-8
 * (compare.c), so different encodings are carried exactly, and this check
 * reads the text only where a conversion can fail: a SQL_ASCII source (its
 * bytes must be UTF-8) and a target whose encoding is not UTF-8 (it may
 * lack a character).  Then every selected table's rows are converted once,
 * and the schema's own text (names, comments, function bodies, enum
 * labels) too, before any slot exists.
 */
void
check_encoding(Preflight *p)
{
	static const char *const catalogs[] = {
		"pg_namespace", "pg_class", "pg_attribute", "pg_type", "pg_enum", "pg_proc",
		"pg_description", "pg_constraint", "pg_attrdef", "pg_trigger", "pg_rewrite", NULL
	};
	const char *src = db_server_encoding(p->src);
	const char *tgt = db_server_encoding(p->tgt);
	bool		src_ascii = strcmp(src, "SQL_ASCII") == 0;
	EncodingScan s = {p, NULL, NULL};
	StrList		bad = {0};
	char	   *first = NULL;
	char	   *schema_bad = NULL;

	if (strcmp(tgt, "SQL_ASCII") == 0 && !src_ascii && strcmp(src, "UTF8") != 0)
	{
		char	   *fix = psprintf("create the target database with ENCODING '%s' or 'UTF8' (CREATE DATABASE ... ENCODING '%s' TEMPLATE template0)",
								   src, src);

		findings_add(p->f, FINDING_FAIL, "encoding", fix,
					 "the target database is SQL_ASCII and the source %s: SQL_ASCII stores bytes unconverted, so text copied (in UTF-8) and text followed (in %s) would differ",
					 src, src);
		free(fix);
		return;
	}
	if (!src_ascii && strcmp(src, tgt) == 0)
	{
		findings_add(p->f, FINDING_OK, "encoding", NULL, "source and target are both %s", src);
		return;
	}
	if (!src_ascii && (strcmp(tgt, "UTF8") == 0 || strcmp(tgt, "SQL_ASCII") == 0))
	{
		findings_add(p->f, FINDING_OK, "encoding", NULL,
					 "source %s, target %s: text is converted, and UTF-8 holds every character", src, tgt);
		return;
	}
	log_info("checking that the text of %d table(s) converts from %s to %s", p->tables.count, src, tgt);
	s.target_enc = db_quote_literal(p->src, tgt);
	for (int i = 0; i < p->tables.count; i++)
	{
		const TableInfo *t = &p->tables.tables[i];

		if (t->relkind != 'r' || converts(&s, t->qualname, "r", NULL))
			continue;
		strlist_add(&bad, t->qualname);
		if (first == NULL)
		{
			char	   *col = bad_column(&s, t);
			char	   *row = col ? bad_row(&s, t, col) : NULL;

			first = psprintf("%s column %s%s%s: %s", t->qualname, col ? col : "(several)",
							 row ? ", " : "", row ? row : "", s.error);
			free(col);
			free(row);
		}
	}
	for (int i = 0; catalogs[i] && schema_bad == NULL; i++)
	{
		char	   *cat = psprintf("pg_catalog.%s", catalogs[i]);

		if (!converts(&s, cat, "r", NULL))
			schema_bad = psprintf("pg_catalog.%s: %s", catalogs[i], s.error);
		free(cat);
	}
	if (bad.count > 0)
	{
		char	   *list = preflight_name_list(&bad, 10);
		const char *fix = src_ascii
			? "make those values UTF-8 on the source (for LATIN1 bytes: UPDATE t SET col = convert_from(convert(convert_to(col, 'SQL_ASCII'), 'LATIN1', 'UTF8'), 'SQL_ASCII') WHERE ...), or --exclude-table them"
			: "create the target database with ENCODING 'UTF8' (it holds every character), or change those values on the source, or --exclude-table them";

		findings_add(p->f, FINDING_FAIL, "encoding", fix,
					 "%d table(s) hold text the %s target cannot take from the %s source (%s); first: %s",
					 bad.count, tgt, src, list, first);
		free(list);
	}
	else if (schema_bad)
		findings_add(p->f, FINDING_FAIL, "encoding",
					 src_ascii ? "correct those names or comments on the source (they must be UTF-8)"
					 : "create the target database with ENCODING 'UTF8', or rename those objects on the source",
					 "the source's schema holds text the %s target cannot take from the %s source, in %s", tgt, src, schema_bad);
	else
		findings_add(p->f, FINDING_OK, "encoding", NULL,
					 "source %s, target %s: the text of every selected table converts", src, tgt);
	free(schema_bad);
	free(first);
	strlist_free(&bad);
	free(s.error);
	free((char *) s.target_enc);
}
