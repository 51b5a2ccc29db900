/*
 * slot_wait.c
 *	  What a logical slot creation waits for (slot_wait.h): the sessions
 *	  holding an xid and the prepared transactions of the source server,
 *	  read from pg_stat_activity, pg_blocking_pids() and pg_prepared_xacts.
 */
#include <stdio.h>
#include <stdlib.h>

#include "slot_wait.h"
#include "units.h"

/* Adds the sessions holding an xid (the one waited on first) to msg and fix. */
static int
describe_sessions(PGconn *conn, int waiter_pid, StrBuf *msg, StrBuf *fix)
{
	char		pid[16];
	const char *params[1] = {pid};
	PGresult   *res;
	int			n;

	snprintf(pid, sizeof(pid), "%d", waiter_pid);
	res = PQexecParams(conn,
					   "SELECT a.pid, coalesce(a.usename, '?'), coalesce(nullif(a.application_name, ''), '-'), "
					   "  coalesce(a.datname, '-'), coalesce(a.state, 'state hidden'), "
					   "  extract(epoch FROM now() - a.xact_start)::float8, "
					   "  coalesce(pg_catalog.age(a.backend_xid)::text, '?'), "
					   "  extract(epoch FROM now() - a.query_start)::float8, "
					   "  CASE WHEN a.query ~* '(password|secret)' THEN '(hidden: it may hold a secret)' "
					   "       WHEN length(a.query) > 60 THEN "
					   "         pg_catalog.left(pg_catalog.regexp_replace(a.query, '\\s+', ' ', 'g'), 60) || '...' "
					   "       ELSE pg_catalog.regexp_replace(coalesce(a.query, ''), '\\s+', ' ', 'g') END "
					   "FROM pg_catalog.pg_stat_activity a "
					   "WHERE a.pid <> $1::int "
					   "  AND (a.backend_xid IS NOT NULL OR a.pid = ANY (pg_catalog.pg_blocking_pids($1::int))) "
					   "ORDER BY a.pid = ANY (pg_catalog.pg_blocking_pids($1::int)) DESC, a.xact_start, a.pid",
					   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		PQclear(res);
		return 0;
	}
	n = PQntuples(res);
	for (int i = 0; i < n && i < 3; i++)
	{
		char		open[32] = "?",
					asked[32] = "?";

		if (!PQgetisnull(res, i, 5))
			format_duration(atof(PQgetvalue(res, i, 5)), open, sizeof(open));
		if (!PQgetisnull(res, i, 7))
			format_duration(atof(PQgetvalue(res, i, 7)), asked, sizeof(asked));
		strbuf_printf(msg, "%spid %s (user %s, application %s, database %s, %s, transaction open %s, xid age %s, query started %s ago: %s)",
					  i ? "; " : "", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
					  PQgetvalue(res, i, 3), PQgetvalue(res, i, 4), open, PQgetvalue(res, i, 6), asked,
					  PQgetvalue(res, i, 8));
		strbuf_printf(fix, "%spg_terminate_backend(%s)", i ? ", " : "SELECT ", PQgetvalue(res, i, 0));
	}
	if (n > 3)
		strbuf_printf(msg, "; and %d more session(s) holding an xid", n - 3);
	if (n > 0)
		strbuf_append(fix, ";");
	PQclear(res);
	return n;
}

/* Adds the prepared transactions (they hold xids too) to msg and fix. */
static int
describe_prepared(PGconn *conn, StrBuf *msg, StrBuf *fix, bool after)
{
	PGresult   *res = PQexec(conn,
							 "SELECT gid, owner, database, extract(epoch FROM now() - prepared)::float8, "
							 "  pg_catalog.age(transaction)::text "
							 "FROM pg_catalog.pg_prepared_xacts ORDER BY prepared");
	int			n;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		PQclear(res);
		return 0;
	}
	n = PQntuples(res);
	for (int i = 0; i < n && i < 3; i++)
	{
		char		open[32];

		format_duration(atof(PQgetvalue(res, i, 3)), open, sizeof(open));
		strbuf_printf(msg, "%sprepared transaction '%s' (owner %s, database %s, prepared %s ago, xid age %s)",
					  after || i ? "; " : "", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
					  PQgetvalue(res, i, 2), open, PQgetvalue(res, i, 4));
		strbuf_printf(fix, "%sCOMMIT PREPARED or ROLLBACK PREPARED '%s' (in database %s)",
					  after || i ? " " : "", PQgetvalue(res, i, 0), PQgetvalue(res, i, 2));
	}
	if (n > 3)
		strbuf_printf(msg, "; and %d more prepared transaction(s)", n - 3);
	PQclear(res);
	return n;
}

int
slot_wait_describe(PGconn *conn, int waiter_pid, StrBuf *what, StrBuf *fix)
{
	int			n = describe_sessions(conn, waiter_pid, what, fix);

	return n + describe_prepared(conn, what, fix, n > 0);
}

bool
slot_wait_is_waiting(PGconn *conn, int pid)
{
	char		p[16];
	const char *params[1] = {p};
	PGresult   *res;
	bool		waiting;

	snprintf(p, sizeof(p), "%d", pid);
	res = PQexecParams(conn,
					   "SELECT 1 FROM pg_catalog.pg_stat_activity "
					   "WHERE pid = $1::int AND wait_event_type = 'Lock' AND wait_event = 'transactionid'",
					   1, NULL, params, NULL, NULL, 0);
	waiting = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
	PQclear(res);
	return waiting;
}
