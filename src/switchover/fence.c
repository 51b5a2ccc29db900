/*
 * fence.c
 *	  The airtight fence on the source (see fence.h for why it is airtight),
 *	  lifting it exactly, and the other statements switchover and cleanup
 *	  share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "alloc.h"
#include "catalog.h"
#include "cutover.h"
#include "fence.h"
#include "log.h"
#include "pgconn.h"
#include "strbuf.h"
#include "subprocess.h"

bool
run_or_print(PGconn *conn, const char *who, const char *sql, bool dry_run)
{
	if (dry_run)
	{
		printf("[%s] %s;\n", who, sql);
		return true;
	}
	log_debug("%s: %s", who, sql);
	return db_exec(conn, sql);
}

/* ALTER DATABASE <the connection's database or dbname> <rest>, malloc'd. */
static char *
alter_database_sql(PGconn *conn, const char *dbname, const char *rest)
{
	char	   *db = db_quote_ident(conn, dbname);
	char	   *sql = psprintf("ALTER DATABASE %s %s", db, rest);

	free(db);
	return sql;
}

bool
fence_read_prior(PGconn *src, FencePrior *prior)
{
	PGresult   *res = db_query(src,
							   "SELECT d.datallowconn, "
							   "  (SELECT pg_catalog.substr(c, pg_catalog.length('default_transaction_read_only=') + 1) "
							   "     FROM pg_catalog.pg_db_role_setting s, pg_catalog.unnest(s.setconfig) c "
							   "    WHERE s.setdatabase = d.oid AND s.setrole = 0 "
							   "      AND c LIKE 'default\\_transaction\\_read\\_only=%'), "
							   "  d.datacl::text "
							   "FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()");

	memset(prior, 0, sizeof(*prior));
	if (res == NULL || PQntuples(res) != 1)
	{
		PQclear(res);
		return false;
	}
	prior->allow_connections = PQgetvalue(res, 0, 0)[0] == 't';
	if (!PQgetisnull(res, 0, 1))
		prior->read_only = pg_strdup(PQgetvalue(res, 0, 1));
	if (!PQgetisnull(res, 0, 2))
		prior->acl = pg_strdup(PQgetvalue(res, 0, 2));
	PQclear(res);
	return true;
}

char *
fence_prior_to_json(const FencePrior *prior)
{
	json_t	   *doc = json_pack("{s:b, s:s?, s:s?}", "allow_connections", prior->allow_connections,
								"read_only", prior->read_only, "acl", prior->acl);
	char	   *text = json_dumps(doc, JSON_COMPACT);
	char	   *copy = pg_strdup(text);

	free(text);
	json_decref(doc);
	return copy;
}

bool
fence_prior_from_json(const char *json, FencePrior *prior)
{
	json_t	   *doc = json ? json_loads(json, 0, NULL) : NULL;
	json_t	   *allow = NULL;
	json_t	   *read_only = NULL;
	json_t	   *acl = NULL;
	bool		ok;

	memset(prior, 0, sizeof(*prior));
	/* absent and null alike mean "none" for the two strings */
	ok = doc && json_unpack(doc, "{s:o, s?o, s?o}", "allow_connections", &allow,
							"read_only", &read_only, "acl", &acl) == 0 && json_is_boolean(allow);
	if (ok)
	{
		prior->allow_connections = json_is_true(allow);
		prior->read_only = json_is_string(read_only) ? pg_strdup(json_string_value(read_only)) : NULL;
		prior->acl = json_is_string(acl) ? pg_strdup(json_string_value(acl)) : NULL;
	}
	json_decref(doc);
	return ok;
}

void
fence_prior_free(FencePrior *prior)
{
	free(prior->read_only);
	free(prior->acl);
	memset(prior, 0, sizeof(*prior));
}

int
fence_prepared_xacts(PGconn *src, char **what)
{
	PGresult   *res = db_query(src,
							   "SELECT pg_catalog.count(*) OVER (), gid, owner, prepared::text "
							   "FROM pg_catalog.pg_prepared_xacts WHERE database = pg_catalog.current_database() "
							   "ORDER BY prepared LIMIT 3");
	StrBuf		b;
	int			n;

	*what = NULL;
	if (res == NULL)
		return -1;
	n = PQntuples(res) > 0 ? atoi(PQgetvalue(res, 0, 0)) : 0;
	strbuf_init(&b);
	for (int i = 0; i < PQntuples(res); i++)
		strbuf_printf(&b, "%sgid '%s' of %s, prepared at %s", i ? "; " : "",
					  PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
	if (n > PQntuples(res))
		strbuf_printf(&b, "; and %d more", n - PQntuples(res));
	*what = b.data;
	PQclear(res);
	return n;
}

/*
 * Every other session on the connection's database, or starting on it:
 * pg_stat_activity misses a backend between its datallowconn check and its
 * first report there, but such a backend holds a lock on the database
 * object from before the check until after that report (pg_locks is read
 * first, so a backend moving from one view to the other is in one of them).
 * A backend is a session when it runs as a role (client backends,
 * walsenders, subscription workers; their type may be hidden from a role
 * without pg_read_all_stats, their role is not) or is still starting;
 * processes without a role (autovacuum, background workers of the server)
 * commit nothing of a client's and are left alone.
 */
static const char *const other_sessions_sql =
"SELECT s.pid, coalesce(a.usename, '?'), coalesce(a.application_name, ''), "
"       coalesce(a.backend_type, CASE WHEN a.pid IS NULL THEN 'starting' ELSE 'session' END), "
"       coalesce(r.rolsuper, false) "
"FROM (SELECT l.pid FROM pg_catalog.pg_locks l "
"      WHERE l.locktype = 'object' AND l.database = 0 "
"        AND l.classid = 'pg_catalog.pg_database'::pg_catalog.regclass "
"        AND l.objid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()) "
"      UNION "
"      SELECT pid FROM pg_catalog.pg_stat_activity WHERE datname = pg_catalog.current_database()) s "
"LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = s.pid "
"LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.usesysid "
"WHERE s.pid <> pg_catalog.pg_backend_pid() AND s.pid <> ALL ($1::int[]) "
"  AND (a.pid IS NULL OR (a.usesysid IS NOT NULL AND "
"       coalesce(a.backend_type, 'client backend') IN ('client backend', 'walsender', 'logical replication worker'))) "
"ORDER BY s.pid";

/*
 * Ends every other session (see above) but keep_pids (an int[] literal), then waits until none
 * is left.  Sessions this role may not end are named in *errmsg.
 */
static bool
end_other_sessions(PGconn *src, const char *keep_pids, double deadline, int *terminated, char **errmsg)
{
	const char *params[1] = {keep_pids};
	PGresult   *res = NULL;
	StrBuf		refused;
	bool		ok = false;

	strbuf_init(&refused);
	for (;;)
	{
		int			n;

		PQclear(res);
		if ((res = db_query_params(src, other_sessions_sql, 1, params)) == NULL)
		{
			*errmsg = pg_strdup("cannot list the source's sessions (error above)");
			goto done;
		}
		if ((n = PQntuples(res)) == 0)
			break;
		strbuf_reset(&refused);
		for (int i = 0; i < n; i++)
		{
			const char *pid = PQgetvalue(res, i, 0);
			const char *p1[1] = {pid};
			PGresult   *kill = PQexecParams(src, "SELECT pg_catalog.pg_terminate_backend($1::int)",
											1, NULL, p1, NULL, NULL, 0);

			if (PQresultStatus(kill) == PGRES_TUPLES_OK && PQgetvalue(kill, 0, 0)[0] == 't')
				(*terminated)++;
			else if (PQresultStatus(kill) != PGRES_TUPLES_OK)
				strbuf_printf(&refused, "%spid %s (role %s%s, %s%s%s)", refused.len ? ", " : "", pid,
							  PQgetvalue(res, i, 1), PQgetvalue(res, i, 4)[0] == 't' ? ", superuser" : "",
							  PQgetvalue(res, i, 3), PQgetvalue(res, i, 2)[0] ? ", " : "", PQgetvalue(res, i, 2));
			PQclear(kill);
		}
		if (refused.len > 0)
		{
			*errmsg = psprintf("this role may not end session(s) %s, which could still write after the fence; fix: end them first (SELECT pg_terminate_backend(pid) as a superuser), or switch over as a role that may (superuser for superusers' sessions, pg_signal_backend for other roles')",
							   refused.data);
			goto done;
		}
		if (now_seconds() > deadline)
		{
			*errmsg = psprintf("%d session(s) of the source did not end in time (pid %s, %s); fix: find what holds them (pg_stat_activity) and retry",
							   n, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 3));
			goto done;
		}
		usleep(2000);
	}
	ok = true;
done:
	PQclear(res);
	strbuf_free(&refused);
	return ok;
}

Outcome
fence_raise(PGconn *src, PGconn *maintenance, const char *keep_pids, double deadline, bool dry_run,
			int *terminated, char **errmsg)
{
	char	   *deny = alter_database_sql(src, PQdb(src), "ALLOW_CONNECTIONS false");
	char	   *ro = alter_database_sql(src, PQdb(src), "SET default_transaction_read_only = on");
	Outcome		rc = OUTCOME_OK;

	*terminated = 0;
	*errmsg = NULL;
	if (dry_run)
	{
		printf("[source] %s;\n[source maintenance database] %s;\n", ro, deny);
		printf("[source] -- every other session of the database, and every backend still starting on it, but the follower's own:\n"
			   "[source] SELECT pg_terminate_backend(pid) ...;  -- repeated until none is left\n");
		goto done;
	}
	if (!run_or_print(src, "source", ro, false) ||
		!run_or_print(maintenance, "source", deny, false))
	{
		/* run_or_print logged the statement's error: name the fix */
		char	   *e = pg_strdup("see the error above");

		*errmsg = psprintf("cannot fence the source: %s; fix: the default fence needs the source role to own the database (ALTER DATABASE %s OWNER TO %s) and, to end other roles' sessions, GRANT pg_signal_backend TO %s; or fence elsewhere with --fence none --fence-command CMD",
						   e, PQdb(src), PQuser(src), PQuser(src));
		free(e);
		rc = OUTCOME_SQL;
		goto done;
	}
	if (!end_other_sessions(src, keep_pids, deadline, terminated, errmsg))
		rc = OUTCOME_PREFLIGHT;
done:
	free(deny);
	free(ro);
	return rc;
}

bool
fence_lift(PGconn *conn, const char *dbname, const FencePrior *prior, bool dry_run)
{
	char	   *allow = alter_database_sql(conn, dbname, prior->allow_connections
										   ? "ALLOW_CONNECTIONS true" : "ALLOW_CONNECTIONS false");
	char	   *ro;
	bool		ok;

	if (prior->read_only)
	{
		char	   *lit = db_quote_literal(conn, prior->read_only);
		char	   *rest = psprintf("SET default_transaction_read_only = %s", lit);

		ro = alter_database_sql(conn, dbname, rest);
		free(rest);
		free(lit);
	}
	else
		ro = alter_database_sql(conn, dbname, "RESET default_transaction_read_only");
	ok = run_or_print(conn, "source", ro, dry_run) && run_or_print(conn, "source", allow, dry_run);
	free(allow);
	free(ro);
	return ok;
}

/* The function every table's rest-fence trigger calls. */
static const char *const rest_fence_function_sql =
"CREATE SCHEMA IF NOT EXISTS pgcutover_fence; "
"REVOKE ALL ON SCHEMA pgcutover_fence FROM PUBLIC; "
"CREATE OR REPLACE FUNCTION pgcutover_fence.refuse_write() RETURNS trigger "
"LANGUAGE plpgsql SET search_path = pg_catalog AS $fence$ "
"BEGIN "
"  RAISE EXCEPTION 'database % was switched over by pgcutover: it takes no writes', current_database() "
"    USING ERRCODE = 'read_only_sql_transaction', "
"          HINT = 'write to the new primary; pgcutover_fence explains how to lift this fence'; "
"END $fence$; "
"COMMENT ON SCHEMA pgcutover_fence IS 'pgcutover: this database was switched over; every table has a "
"trigger pgcutover_fence refusing writes (the reverse follower, in session_replication_role replica, "
"passes). To lift: DROP SCHEMA pgcutover_fence CASCADE'";

/* One statement-level trigger per user table (and partition), made once. */
static const char *const rest_fence_triggers_sql =
"SELECT pg_catalog.format('CREATE TRIGGER pgcutover_fence BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE "
"ON %I.%I FOR EACH STATEMENT EXECUTE FUNCTION pgcutover_fence.refuse_write()', n.nspname, c.relname) "
"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
"WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'pgcutover_fence' AND " CATALOG_USER_RELATION_FILTER " "
"  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'pgcutover_fence') "
"ORDER BY n.nspname, c.relname";

bool
fence_rest(PGconn *src, const char *dbname, const FencePrior *prior, bool dry_run, char **errmsg)
{
	PGresult   *res = NULL;
	char	   *allow = alter_database_sql(src, dbname, prior->allow_connections
										   ? "ALLOW_CONNECTIONS true" : "ALLOW_CONNECTIONS false");
	bool		ok = false;
	int			made = 0;

	*errmsg = NULL;
	if (dry_run)
	{
		printf("[source] %s;\n", rest_fence_function_sql);
		printf("[source] -- on every user table and partition:\n"
			   "[source] CREATE TRIGGER pgcutover_fence BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON … FOR EACH STATEMENT EXECUTE FUNCTION pgcutover_fence.refuse_write();\n");
		printf("[source] %s;  -- readable again; every write is refused\n", allow);
		ok = true;
		goto done;
	}
	/* all or nothing: a table this role cannot fence keeps the database closed */
	if (!db_exec(src, "BEGIN") || !db_exec(src, rest_fence_function_sql) ||
		(res = db_query(src, rest_fence_triggers_sql)) == NULL)
		goto failed;
	for (int i = 0; i < PQntuples(res); i++, made++)
		if (!db_exec(src, PQgetvalue(res, i, 0)))
			goto failed;
	if (!db_exec(src, "COMMIT"))
		goto failed;
	log_debug("rest fence: %d trigger(s) made", made);
	ok = run_or_print(src, "source", allow, false);
	if (!ok)
		*errmsg = pg_strdup("cannot allow connections again (error above)");
	goto done;
failed:
	{
		char	   *e = db_error(src);

		*errmsg = psprintf("cannot put write-refusing triggers on every table of the old source: %s", e);
		free(e);
		PQclear(PQexec(src, "ROLLBACK"));
	}
done:
	PQclear(res);
	free(allow);
	return ok;
}

PGconn *
fence_reenter(PGconn *maintenance, const char *dsn, const char *dbname)
{
	const char *params[1] = {dbname};
	PGresult   *grantees = db_query_params(maintenance,
										   "SELECT pg_catalog.string_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' "
										   "         ELSE pg_catalog.quote_ident(r.rolname) END, ', ') "
										   "FROM pg_catalog.pg_database d, "
										   "  pg_catalog.aclexplode(coalesce(d.datacl, pg_catalog.acldefault('d', d.datdba))) a "
										   "LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee "
										   "WHERE d.datname = $1 AND a.privilege_type = 'CONNECT' "
										   "  AND (a.grantee = 0 OR r.rolname <> current_user)",
										   1, params);
	const char *others = grantees && !PQgetisnull(grantees, 0, 0) ? PQgetvalue(grantees, 0, 0) : NULL;
	char	   *quoted = db_quote_ident(maintenance, dbname);
	char	   *open_sql = alter_database_sql(maintenance, dbname, "ALLOW_CONNECTIONS true");
	char	   *close_sql = alter_database_sql(maintenance, dbname, "ALLOW_CONNECTIONS false");
	char	   *revoke_sql = others ? psprintf("REVOKE CONNECT ON DATABASE %s FROM %s", quoted, others) : NULL;
	char	   *grant_sql = others ? psprintf("GRANT CONNECT ON DATABASE %s TO %s", quoted, others) : NULL;
	char	   *err = NULL;
	PGconn	   *src = NULL;
	bool		revoked = false;

	if (grantees == NULL || (revoke_sql && !(revoked = db_exec(maintenance, revoke_sql))) ||
		!db_exec(maintenance, open_sql))
		goto done;
	src = db_connect(dsn, "source", CONN_NORMAL, &err);
	if (!db_exec(maintenance, close_sql) || src == NULL)
	{
		if (err)
			log_error("%s", err);
		PQfinish(src);
		src = NULL;
	}
done:
	if (revoked && !db_exec(maintenance, grant_sql))
		log_error("cannot give CONNECT back on the source database; fix: %s", grant_sql);
	PQclear(grantees);
	free(err);
	free(quoted);
	free(open_sql);
	free(close_sql);
	free(revoke_sql);
	free(grant_sql);
	return src;
}

bool
fence_lift_recorded(PGconn *conn, const char *dbname, const char *prior_json, bool dry_run)
{
	FencePrior	prior;
	bool		ok;

	/* no record, or an unreadable one: connections allowed, no setting of its own */
	if (!fence_prior_from_json(prior_json, &prior))
		prior.allow_connections = true;
	ok = fence_lift(conn, dbname, &prior, dry_run);
	fence_prior_free(&prior);
	return ok;
}

bool
fence_rest_lift(PGconn *conn, const char *dbname, const char *prior_json, bool dry_run)
{
	/* the database's read-only default holds for this session too */
	return run_or_print(conn, "target", "SET default_transaction_read_only = off", dry_run) &&
		run_or_print(conn, "target", "DROP SCHEMA IF EXISTS pgcutover_fence CASCADE", dry_run) &&
		fence_lift_recorded(conn, dbname, prior_json, dry_run);
}

PGconn *
fence_connect_maintenance(const char *dsn, const char *who, char **errmsg)
{
	return db_connect(dsn, who, CONN_MAINTENANCE, errmsg);
}

bool
fence_refused_connection(const char *errmsg)
{
	return errmsg && strstr(errmsg, "is not currently accepting connections") != NULL;
}

bool
run_shell_command(const char *what, const char *command, bool dry_run)
{
	char	   *argv[] = {"/bin/sh", "-c", (char *) command, NULL};
	SubprocessOutput out;
	bool		ok;

	if (dry_run)
	{
		printf("[shell] %s\n", command);
		return true;
	}
	ok = subprocess_run(argv, NULL, false, NULL, &out);
	if (!ok)
		log_error("%s failed (exit %d): %s", what, out.exit_code, out.err);
	subprocess_output_free(&out);
	return ok;
}

bool
restore_identity_columns(PGconn *tgt, const char *slot, bool dry_run)
{
	StrList		statements = {0};
	bool		ok = true;

	if (!cutover_identity_restore_statements(tgt, slot, &statements))
		goto done;				/* no state table: nothing was relaxed */
	for (int i = 0; i < statements.count && ok; i++)
		ok = run_or_print(tgt, "target", statements.items[i], dry_run);
	/* best effort: a stale record only restores an identity column twice */
	if (ok && !dry_run)
		(void) cutover_forget_relaxed_identities(tgt, slot);
done:
	strlist_free(&statements);
	return ok;
}
