/*
 * preflight_server.c
 *	  The preflight checks of the servers and of the roles pgcutover
 *	  connects as (preflight_int.h): versions and the pg_dump to run, that
 *	  source and target differ, wal_level, free slots and WAL senders, the
 *	  REPLICATION attribute, that wal2json loads (a temporary slot, the only
 *	  thing the preflight creates) and what a slot's creation would wait
 *	  for, pg_logical_emit_message, the slot name, CREATE on the target, DDL
 *	  capture, the switchover's fence, extensions and disk space.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "ddl_capture.h"
#include "pgconn.h"
#include "pgdump.h"
#include "pgversion.h"
#include "preflight_int.h"
#include "slot_wait.h"
#include "strbuf.h"
#include "units.h"

void
check_versions(Preflight *p)
{
	int			sv = PQserverVersion(p->src);
	int			tv = PQserverVersion(p->tgt);

	if (sv / 10000 < PG_MIN_SUPPORTED_MAJOR)
		findings_add(p->f, FINDING_FAIL, "version",
					 "upgrade the source to PostgreSQL 13 or later in place (pg_upgrade) first, or migrate it with another tool",
					 "source runs PostgreSQL %d.%d, pgcutover needs %d or later (sources 13 to 16 are supported)",
					 sv / 10000, sv % 10000, PG_MIN_SUPPORTED_MAJOR);
	else if (tv / 10000 < PG_MIN_SUPPORTED_MAJOR)
		findings_add(p->f, FINDING_FAIL, "version", "use a target running PostgreSQL 13 or later (13 to 18 are supported)",
					 "target runs PostgreSQL %d.%d, pgcutover needs %d or later",
					 tv / 10000, tv % 10000, PG_MIN_SUPPORTED_MAJOR);
	else if (tv / 10000 < sv / 10000)
		findings_add(p->f, FINDING_FAIL, "version", "use a target of the same or a newer major version",
					 "target major version %d is older than source major version %d (downgrade)",
					 tv / 10000, sv / 10000);
	else
		findings_add(p->f, FINDING_OK, "version", NULL, "source PostgreSQL %d.%d, target %d.%d",
					 sv / 10000, sv % 10000, tv / 10000, tv % 10000);
}

/* The pg_dump copy would run: one the source accepts and the target restores. */
void
check_pg_dump(Preflight *p)
{
	int			sm = db_major_version(p->src);
	int			tm = db_major_version(p->tgt);
	int			major = 0;
	char	   *err = NULL;
	char	   *dir;

	if (tm < sm)
		return;					/* the version check says it */
	dir = pgdump_find(p->opts->pg_bin_dir, sm, tm, &major, &err);
	if (dir)
		findings_add(p->f, FINDING_OK, "pg_dump", NULL,
					 "copy will run pg_dump %d from %s (source %d, target %d)", major, dir, sm, tm);
	else
	{
		/* err is "what; fix: how": split it into the finding's two parts */
		char	   *fix = strstr(err, "; fix: ");

		if (fix)
			*fix = '\0';
		findings_add(p->f, FINDING_FAIL, "pg_dump", fix ? fix + 7 : "see the message", "%s", err);
	}
	free(dir);
	free(err);
}

/*
 * follow's heartbeats and the switchover's fence marker call
 * pg_logical_emit_message; PUBLIC may execute it unless revoked.  The
 * GRANT names the signature of the server at hand (PostgreSQL 17 added an
 * argument).
 */
void
check_emit_message(Preflight *p)
{
	const char *sig = emit_message_signature(db_major_version(p->src));
	const char *params[1] = {sig};
	PGresult   *res = db_query_params(p->src,
									  "SELECT pg_catalog.has_function_privilege($1::pg_catalog.regprocedure, 'EXECUTE')",
									  1, params);

	if (res && PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't')
		findings_add(p->f, FINDING_OK, "emit_message", NULL,
					 "source role may call pg_logical_emit_message (heartbeats, switchover marker)");
	else if (res && PQntuples(res) == 1)
	{
		char	   *fix = psprintf("GRANT EXECUTE ON FUNCTION %s TO %s; (on the source)", sig, PQuser(p->src));

		findings_add(p->f, FINDING_WARN, "emit_message", fix,
					 "source role %s may not call pg_logical_emit_message: follow has no heartbeats and switchover cannot mark its drain point",
					 PQuser(p->src));
		free(fix);
	}
	PQclear(res);
}

void
check_same_server(Preflight *p)
{
	const char *sql =
		"SELECT (SELECT system_identifier FROM pg_catalog.pg_control_system())::text "
		"       || '/' || pg_catalog.pg_postmaster_start_time()::text, "
		"pg_catalog.current_database()";
	PGresult   *sr = db_query(p->src, sql);
	PGresult   *tr = db_query(p->tgt, sql);

	if (sr && tr && strcmp(PQgetvalue(sr, 0, 0), PQgetvalue(tr, 0, 0)) == 0 &&
		strcmp(PQgetvalue(sr, 0, 1), PQgetvalue(tr, 0, 1)) == 0)
		findings_add(p->f, FINDING_FAIL, "distinct_databases",
					 "point --target at the new server/database",
					 "source and target are the same database (%s on the same running server)",
					 PQgetvalue(sr, 0, 1));
	else if (sr && tr)
		findings_add(p->f, FINDING_OK, "distinct_databases", NULL,
					 "source and target are different databases");
	PQclear(sr);
	PQclear(tr);
}

void
check_wal_level(Preflight *p)
{
	char	   *lvl = db_scalar(p->src, "SELECT pg_catalog.current_setting('wal_level')");

	if (lvl && strcmp(lvl, "logical") == 0)
		findings_add(p->f, FINDING_OK, "wal_level", NULL, "wal_level is logical on the source");
	else
		findings_add(p->f, FINDING_FAIL, "wal_level",
					 "ALTER SYSTEM SET wal_level = logical; then restart the source server",
					 "wal_level is %s on the source, logical decoding needs logical", lvl ? lvl : "?");
	free(lvl);
}

void
check_capacity(Preflight *p, const char *check, const char *setting, const char *used_sql,
			   const char *what)
{
	char	   *sql = psprintf("SELECT pg_catalog.current_setting('%s')::int, (%s)", setting, used_sql);
	PGresult   *res = db_query(p->src, sql);

	if (res)
	{
		int			max = atoi(PQgetvalue(res, 0, 0));
		int			used = atoi(PQgetvalue(res, 0, 1));
		char	   *fix = psprintf("ALTER SYSTEM SET %s = %d; then restart the source server",
								   setting, max < 10 ? 10 : max + 2);

		if (max - used >= 1)
			findings_add(p->f, FINDING_OK, check, NULL, "%d of %d %s free on the source",
						 max - used, max, what);
		else
			findings_add(p->f, FINDING_FAIL, check, fix, "no free %s on the source (%d of %d in use)",
						 what, used, max);
		free(fix);
	}
	PQclear(res);
	free(sql);
}

void
check_replication_role(Preflight *p)
{
	PGresult   *res = db_query(p->src,
								"SELECT rolsuper OR rolreplication, current_user FROM pg_catalog.pg_roles "
								"WHERE rolname = current_user");

	if (res && PQntuples(res) == 1)
	{
		char	   *fix = psprintf("ALTER ROLE %s REPLICATION; (run as a superuser on the source)",
								   PQgetvalue(res, 0, 1));

		p->src_can_replicate = PQgetvalue(res, 0, 0)[0] == 't';
		if (p->src_can_replicate)
			findings_add(p->f, FINDING_OK, "replication_role", NULL,
						 "source role %s may replicate", PQgetvalue(res, 0, 1));
		else
			findings_add(p->f, FINDING_FAIL, "replication_role", fix,
						 "source role %s has neither REPLICATION nor SUPERUSER", PQgetvalue(res, 0, 1));
		free(fix);
	}
	PQclear(res);
}

/*
 * Sends the test slot's creation.  Like copy's slot it waits for every
 * transaction holding an xid on the server (slot_wait.h); wal2json is loaded
 * before that wait, so once the backend waits on a transaction the test has
 * proved what it had to: it names what it waits for (open_transactions: copy
 * will wait for them too), cancels, and returns NULL.  Else the result.
 */
static PGresult *
create_test_slot(Preflight *p, const char *sql)
{
	PGconn	   *watch = NULL;
	bool		can_watch = true;
	double		started = now_seconds();
	PGresult   *res = NULL;
	PGresult   *r;

	if (!PQsendQuery(p->src, sql))
		return PQexec(p->src, sql);		/* says why in its error */
	while (PQisBusy(p->src))
	{
		struct pollfd pfd = {PQsocket(p->src), POLLIN, 0};

		if (poll(&pfd, 1, 500) > 0 && !PQconsumeInput(p->src))
			break;
		if (!PQisBusy(p->src) || !can_watch || now_seconds() - started < 1.0)
			continue;
		if (watch == NULL)
		{
			char	   *err = NULL;

			if ((watch = db_connect(p->opts->source, "source", CONN_NORMAL, &err)) == NULL)
			{
				/* no second look: the statement timeout ends the wait */
				free(err);
				can_watch = false;
				continue;
			}
		}
		if (slot_wait_is_waiting(watch, PQbackendPID(p->src)))
		{
			StrBuf		what,
						fix;
			PGcancel   *cancel = PQgetCancel(p->src);
			char		errbuf[256];
			int			n;

			strbuf_init(&what);
			strbuf_init(&fix);
			n = slot_wait_describe(watch, PQbackendPID(p->src), &what, &fix);
			{
				char	   *advice = psprintf("let them end (copy waits for them and says so every 5 s), or end them on the source: %s",
											  n > 0 ? fix.data : "see pg_stat_activity (backend_xid IS NOT NULL) and pg_prepared_xacts");

				findings_add(p->f, FINDING_WARN, "open_transactions", advice,
							 "creating a slot waits until every transaction holding an xid on the source server ends, in any database; copy would wait for: %s",
							 n > 0 ? what.data : "(no session visible to this role)");
				free(advice);
			}
			strbuf_free(&what);
			strbuf_free(&fix);
			if (cancel)
			{
				(void) PQcancel(cancel, errbuf, sizeof(errbuf));
				PQfreeCancel(cancel);
			}
			while ((r = PQgetResult(p->src)) != NULL)
				PQclear(r);
			PQfinish(watch);
			return NULL;
		}
	}
	while ((r = PQgetResult(p->src)) != NULL)
	{
		if (res == NULL)
			res = r;
		else
			PQclear(r);
	}
	PQfinish(watch);
	return res;
}

/* Creates and drops a temporary wal2json slot: the only proof it loads. */
void
check_wal2json(Preflight *p)
{
	/* pg_settings, not current_setting(): the GUC is superuser-only to read,
	 * and a least-privileged role must not get an ERROR logged for it */
	char	   *plugins = db_scalar(p->src,
									"SELECT setting FROM pg_catalog.pg_settings WHERE name = 'output_plugin_libraries'");
	char	   *sql;
	PGresult   *res;
	char	   *err;

	if (!p->src_can_replicate)
	{
		findings_add(p->f, FINDING_WARN, "wal2json", "fix replication_role first",
					 "cannot test wal2json without the REPLICATION attribute");
		free(plugins);
		return;
	}
	db_exec(p->src, "SET statement_timeout = '30s'");
	sql = psprintf("SELECT pg_catalog.pg_create_logical_replication_slot('pgcutover_check_%d', 'wal2json', true)",
				   (int) getpid());
	res = create_test_slot(p, sql);
	free(sql);
	if (res == NULL)
	{
		/* it waited for open transactions: wal2json had loaded by then */
		findings_add(p->f, FINDING_OK, "wal2json", NULL,
					 "wal2json loads as an output plugin on the source (its version is not visible over SQL; 2.3 and later work, before 2.5 follow reads bytea by the target's column types)");
		db_exec(p->src, "SET statement_timeout = 0");
		free(plugins);
		return;
	}
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
	{
		PQclear(res);
		sql = psprintf("SELECT pg_catalog.pg_drop_replication_slot('pgcutover_check_%d')", (int) getpid());
		db_exec(p->src, sql);
		free(sql);
		findings_add(p->f, FINDING_OK, "open_transactions", NULL,
					 "no transaction open on the source holds up the creation of a slot");
		/*
		 * Its version cannot be read over SQL (a plugin is no extension).
		 * Before 2.5 it names no column types in format-version 2: follow
		 * then takes bytea from the target's column types (ByteaFix).
		 */
		findings_add(p->f, FINDING_OK, "wal2json", NULL,
					 "wal2json loads as an output plugin on the source (its version is not visible over SQL; 2.3 and later work, before 2.5 follow reads bytea by the target's column types)");
		db_exec(p->src, "SET statement_timeout = 0");
		free(plugins);
		return;
	}
	err = db_error(p->src);
	PQclear(res);
	db_exec(p->src, "SET statement_timeout = 0");

	if (strstr(err, "may not be used as an output plugin"))
		findings_add(p->f, FINDING_FAIL, "wal2json",
					 "ALTER SYSTEM SET output_plugin_libraries = 'pgoutput', 'test_decoding', 'wal2json'; SELECT pg_reload_conf(); (or add wal2json to output_plugin_libraries in postgresql.conf)",
					 "output_plugin_libraries on the source (%s) does not allow wal2json",
					 plugins ? plugins : "?");
	else if (strstr(err, "could not access file") || strstr(err, "could not load library"))
	{
		char	   *fix = psprintf("install wal2json on the source server (Debian/Ubuntu: apt-get install postgresql-%d-wal2json)",
								   db_major_version(p->src));

		findings_add(p->f, FINDING_FAIL, "wal2json", fix,
					 "the wal2json output plugin is not installed on the source");
		free(fix);
	}
	else if (strstr(err, "replication slots are in use"))
		findings_add(p->f, FINDING_FAIL, "wal2json",
					 "ALTER SYSTEM SET max_replication_slots = <more>; then restart the source",
					 "cannot test wal2json: all replication slots are in use");
	else if (strstr(err, "statement timeout"))
		findings_add(p->f, FINDING_WARN, "wal2json",
					 "end long-running transactions on the source (see pg_stat_activity) and rerun check",
					 "creating a test slot waited 30 s for running transactions to finish");
	else
		findings_add(p->f, FINDING_FAIL, "wal2json",
					 "see the error; the slot test is pg_create_logical_replication_slot('x', 'wal2json', true)",
					 "creating a wal2json slot on the source failed: %s", err);
	free(err);
	free(plugins);
}

void
check_slot_free(Preflight *p)
{
	const char *params[1] = {p->opts->slot};
	PGresult   *res = db_query_params(p->src,
									  "SELECT active FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
									  1, params);

	if (res && PQntuples(res) == 1)
	{
		char	   *fix = psprintf("resume with 'pgcutover copy/follow --slot %s', or drop it with 'pgcutover cleanup --slot %s'",
								   p->opts->slot, p->opts->slot);

		findings_add(p->f, FINDING_WARN, "slot", fix,
					 "replication slot %s already exists on the source (%s): a migration is in progress",
					 p->opts->slot, PQgetvalue(res, 0, 0)[0] == 't' ? "active" : "inactive");
		free(fix);
	}
	else if (res)
		findings_add(p->f, FINDING_OK, "slot", NULL, "slot name %s is free on the source", p->opts->slot);
	PQclear(res);
}

void
check_target_create(Preflight *p)
{
	PGresult   *res = db_query(p->tgt,
								"SELECT pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE') "
								"       OR r.rolsuper, current_user, pg_catalog.current_database() "
								"FROM pg_catalog.pg_roles r WHERE r.rolname = current_user");

	if (res && PQntuples(res) == 1)
	{
		if (PQgetvalue(res, 0, 0)[0] == 't')
			findings_add(p->f, FINDING_OK, "target_create", NULL,
						 "target role %s may create schemas in %s", PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
		else
		{
			char	   *fix = psprintf("GRANT CREATE ON DATABASE %s TO %s; (or make %s the owner of the target database)",
									   PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 1));

			findings_add(p->f, FINDING_FAIL, "target_create", fix,
						 "target role %s cannot create schemas in database %s",
						 PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
			free(fix);
		}
	}
	PQclear(res);
}

void
check_ddl_capture(Preflight *p)
{
	int			n = ddl_capture_count(p->src);

	if (n == 4)
		findings_add(p->f, FINDING_OK, "ddl_capture", NULL,
					 "DDL capture is installed on the source: follow replays schema changes");
	else if (n >= 0)
		findings_add(p->f, FINDING_WARN, "ddl_capture",
					 "pgcutover ddl-capture install --source DSN (as a superuser), or plan to repeat DDL on the target by hand",
					 "DDL capture is %s on the source: a schema change during follow stops it",
					 n == 0 ? "not installed" : "partly installed");
}

/*
 * Which switchover fence this source role can raise (the switchover's
 * fence.h): closing the database to connections needs its ownership and a
 * session on the server's "postgres" database; ending other roles'
 * sessions needs pg_signal_backend, superusers' sessions superuser.
 */
void
check_fence(Preflight *p)
{
	PGresult   *res = db_query(p->src,
							   "SELECT r.rolsuper, "
							   "  pg_catalog.pg_has_role(current_user, d.datdba, 'MEMBER'), "
							   "  pg_catalog.pg_has_role(current_user, 'pg_signal_backend', 'MEMBER'), "
							   "  EXISTS (SELECT 1 FROM pg_catalog.pg_database m WHERE m.datname = 'postgres' "
							   "          AND m.datallowconn AND pg_catalog.has_database_privilege(m.oid, 'CONNECT')), "
							   "  d.datname "
							   "FROM pg_catalog.pg_database d, pg_catalog.pg_roles r "
							   "WHERE d.datname = pg_catalog.current_database() AND r.rolname = current_user");
	bool		super,
				owner,
				signal,
				maintenance;
	const char *db;

	if (res == NULL || PQntuples(res) != 1)
	{
		PQclear(res);
		return;
	}
	super = PQgetvalue(res, 0, 0)[0] == 't';
	owner = PQgetvalue(res, 0, 1)[0] == 't';
	signal = PQgetvalue(res, 0, 2)[0] == 't';
	maintenance = PQgetvalue(res, 0, 3)[0] == 't';
	db = PQgetvalue(res, 0, 4);
	if (owner && maintenance && (super || signal))
		findings_add(p->f, FINDING_OK, "fence", NULL,
					 "switchover can raise the airtight fence on %s (owner, %s)", db,
					 super ? "superuser: may end every session"
					 : "pg_signal_backend: may end other roles' sessions, not superusers' (none may be open at the switchover)");
	else
	{
		StrBuf		fix,
					needs;

		strbuf_init(&fix);
		strbuf_init(&needs);
		if (!owner)
		{
			strbuf_printf(&fix, "ALTER DATABASE %s OWNER TO %s; ", db, PQuser(p->src));
			strbuf_append(&needs, "ownership of the database");
		}
		if (!super && !signal)
		{
			strbuf_printf(&fix, "GRANT pg_signal_backend TO %s; ", PQuser(p->src));
			strbuf_printf(&needs, "%spg_signal_backend", needs.len ? ", " : "");
		}
		if (!maintenance)
		{
			strbuf_append(&fix, "let the role connect to database postgres; ");
			strbuf_printf(&needs, "%sa session on database postgres", needs.len ? ", " : "");
		}
		strbuf_append(&fix, "or cut over with --pgbouncer, or fence elsewhere with --fence none --fence-command CMD");
		findings_add(p->f, FINDING_WARN, "fence", fix.data,
					 "the default switchover fence is not available to role %s on %s (it needs %s)",
					 PQuser(p->src), db, needs.data);
		strbuf_free(&fix);
		strbuf_free(&needs);
	}
	PQclear(res);
}

void
check_extensions(Preflight *p)
{
	PGresult   *sr = db_query(p->src, "SELECT extname FROM pg_catalog.pg_extension ORDER BY 1");
	PGresult   *tr = db_query(p->tgt, "SELECT name FROM pg_catalog.pg_available_extensions");
	StrList		missing = {0};

	if (sr == NULL || tr == NULL)
	{
		PQclear(sr);
		PQclear(tr);
		return;
	}
	for (int i = 0; i < PQntuples(sr); i++)
	{
		const char *ext = PQgetvalue(sr, i, 0);
		bool		found = false;

		for (int j = 0; j < PQntuples(tr) && !found; j++)
			found = strcmp(ext, PQgetvalue(tr, j, 0)) == 0;
		if (!found)
			strlist_add(&missing, ext);
	}
	if (missing.count == 0)
		findings_add(p->f, FINDING_OK, "extensions", NULL,
					 "all %d extension(s) used on the source are available on the target", PQntuples(sr));
	else
	{
		char	   *list = preflight_name_list(&missing, 20);
		char	   *fix = psprintf("install the package providing %s on the target server (e.g. postgresql-%d-%s)",
								   list, db_major_version(p->tgt), missing.items[0]);

		preflight_add_list(p, FINDING_FAIL, "extensions", fix, &missing, 20,
						   "extension(s) used on the source are not available on the target");
		free(fix);
		free(list);
	}
	strlist_free(&missing);
	PQclear(sr);
	PQclear(tr);
}

static bool
host_is_local(PGconn *conn)
{
	const char *h = PQhost(conn);

	return h == NULL || h[0] == '/' || h[0] == '@' || strcmp(h, "localhost") == 0 ||
		strcmp(h, "127.0.0.1") == 0 || strcmp(h, "::1") == 0;
}

void
check_disk(Preflight *p)
{
	char	   *size = db_scalar(p->src, "SELECT pg_catalog.pg_database_size(pg_catalog.current_database())");
	int64_t		need = size ? strtoll(size, NULL, 10) : 0;
	char		b1[32],
				b2[32],
				b3[32];
	char	   *datadir = NULL;
	struct statvfs vfs;

	if (host_is_local(p->tgt))
	{
		PGresult   *res = PQexec(p->tgt, "SELECT pg_catalog.current_setting('data_directory')");

		if (PQresultStatus(res) == PGRES_TUPLES_OK)
			datadir = pg_strdup(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	if (datadir && statvfs(datadir, &vfs) == 0)
	{
		int64_t		avail = (int64_t) vfs.f_bavail * vfs.f_frsize;

		format_bytes(need, b1, sizeof(b1));
		format_bytes(2 * need, b2, sizeof(b2));
		format_bytes(avail, b3, sizeof(b3));
		if (avail < need)
			findings_add(p->f, FINDING_FAIL, "disk", "free space on the target's disk or grow it",
						 "source database is %s but the target has only %s free", b1, b3);
		else if (avail < 2 * need)
			findings_add(p->f, FINDING_WARN, "disk", "free space on the target's disk or grow it",
						 "source database is %s, the runbook asks for >= %s free on the target, it has %s",
						 b1, b2, b3);
		else
			findings_add(p->f, FINDING_OK, "disk", NULL,
						 "source database is %s, target has %s free (>= 2x)", b1, b3);
	}
	else
	{
		format_bytes(need, b1, sizeof(b1));
		format_bytes(2 * need, b2, sizeof(b2));
		findings_add(p->f, FINDING_WARN, "disk", "verify the target's free disk by hand",
					 "source database is %s; the target needs >= %s free (cannot measure it remotely)",
					 b1, b2);
	}
	free(datadir);
	free(size);
}
