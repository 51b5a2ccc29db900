/*
 * preflight.c
 *	  The preflight checks.  Each check_* function looks at one thing and
 *	  adds one finding (ok, warn or FAIL) naming what it saw and the exact
 *	  fix.  Queries are read-only; the only thing created anywhere is a
 *	  temporary replication slot on the source, to prove wal2json loads.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "catalog.h"
#include "ddl_capture.h"
#include "log.h"
#include "lo_sync.h"
#include "partroute.h"
#include "pgconn.h"
#include "pgdump.h"
#include "pgversion.h"
#include "preflight.h"
#include "roles.h"
#include "slot_wait.h"
#include "strbuf.h"

typedef struct Preflight
{
	PGconn	   *src;
	PGconn	   *tgt;
	const Options *opts;
	Findings   *f;
	TableList	tables;			/* selected source tables */
	bool		src_can_replicate;
} Preflight;

/* Comma-separated list of at most 'max' names, "and N more" after that. */
static char *
name_list(char **names, int n, int max)
{
	size_t		len = 1;
	char	   *out;

	for (int i = 0; i < n && i < max; i++)
		len += strlen(names[i]) + 2;
	len += 32;
	out = pg_malloc0(len);
	for (int i = 0; i < n && i < max; i++)
	{
		if (i > 0)
			strcat(out, ", ");
		strcat(out, names[i]);
	}
	if (n > max)
		snprintf(out + strlen(out), len - strlen(out), " and %d more", n - max);
	return out;
}

static void
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
static void
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
static void
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

static void
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

static void
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

static void
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

static void
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
static void
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

/*
 * Every --include/--exclude filter must name something that exists, and the
 * filters together must select a table: a typo otherwise passes unnoticed
 * until copy fails (or copies what was meant to be skipped) after the slot
 * exists.
 */
static void
check_filters(Preflight *p)
{
	const Options *o = p->opts;
	Options		unfiltered = {0};
	TableList	all;
	StrList		unmatched = {0},
				hints = {0};

	if (o->include_schema.count + o->exclude_schema.count +
		o->include_table.count + o->exclude_table.count == 0)
		return;
	if (!catalog_list_tables(p->src, &unfiltered, &all))
		return;
	catalog_unmatched_filters(o, &all, &unmatched, &hints);
	for (int i = 0; i < unmatched.count; i++)
	{
		char	   *fix = hints.items[i][0]
			? psprintf("did you mean %s? give an existing name (tables as schema.table or a bare table name)", hints.items[i])
			: pg_strdup("give an existing name (tables as schema.table or a bare table name); 'pgcutover check' lists what is selected");

		findings_add(p->f, FINDING_FAIL, "filters", fix,
					 "%s matches no table on the source", unmatched.items[i]);
		free(fix);
	}
	if (unmatched.count == 0 && p->tables.count == 0)
		findings_add(p->f, FINDING_FAIL, "filters", "loosen the --include/--exclude options",
					 "the filters select none of the source's %d table(s)", all.count);
	else if (unmatched.count == 0)
		findings_add(p->f, FINDING_OK, "filters", NULL,
					 "the filters select %d of the source's %d table(s)", p->tables.count, all.count);
	strlist_free(&unmatched);
	strlist_free(&hints);
	catalog_free_tables(&all);
}

static void
check_select_privilege(Preflight *p)
{
	PGresult   *res = db_query(p->src,
								"SELECT n.nspname, c.relname, pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) "
								"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
								"WHERE c.relkind IN ('r', 'p') AND " CATALOG_USER_RELATION_FILTER
								" AND NOT (pg_catalog.has_schema_privilege(n.oid, 'USAGE') "
								"          AND pg_catalog.has_table_privilege(c.oid, 'SELECT')) "
								"ORDER BY 1, 2");
	char	  **names;
	int			n = 0;

	if (res == NULL)
		return;
	names = pg_malloc0(sizeof(char *) * (PQntuples(res) + 1));
	for (int i = 0; i < PQntuples(res); i++)
		if (catalog_table_selected(p->opts, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1)))
			names[n++] = PQgetvalue(res, i, 2);
	if (n == 0)
		findings_add(p->f, FINDING_OK, "select_privilege", NULL, "source role can read every selected table");
	else
	{
		char	   *list = name_list(names, n, 10);
		char	   *fix = psprintf("GRANT USAGE ON SCHEMA <schema> TO <role>; GRANT SELECT ON ALL TABLES IN SCHEMA <schema> TO <role>; (on the source, for: %s)", list);

		findings_add(p->f, FINDING_FAIL, "select_privilege", fix,
					 "source role cannot read %d table(s): %s", n, list);
		free(fix);
		free(list);
	}
	free(names);
	PQclear(res);
}

static void
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

static void
check_replica_identity(Preflight *p)
{
	char	  **names = pg_malloc0(sizeof(char *) * (p->tables.count + 1));
	char	  **unlogged = pg_malloc0(sizeof(char *) * (p->tables.count + 1));
	char	  **foreign = pg_malloc0(sizeof(char *) * (p->tables.count + 1));
	int			n = 0,
				nu = 0,
				nf = 0;

	for (int i = 0; i < p->tables.count; i++)
	{
		TableInfo  *t = &p->tables.tables[i];

		if (catalog_table_lacks_identity(t))
			names[n++] = t->qualname;
		if (t->persistence == 'u')
			unlogged[nu++] = t->qualname;
		if (t->relkind == 'f')
			foreign[nf++] = t->qualname;
	}
	if (n == 0)
		findings_add(p->f, FINDING_OK, "replica_identity", NULL,
					 "every table has a primary key or a usable replica identity");
	else
	{
		char	   *list = name_list(names, n, 20);
		char	   *fix = psprintf("add a primary key, or ALTER TABLE %s REPLICA IDENTITY FULL; (or --exclude-table it)", names[0]);

		findings_add(p->f, FINDING_FAIL, "replica_identity", fix,
					 "%d table(s) have no primary key and no usable replica identity, their UPDATEs and DELETEs would be lost: %s",
					 n, list);
		free(fix);
		free(list);
	}
	if (nu > 0)
	{
		char	   *list = name_list(unlogged, nu, 20);

		findings_add(p->f, FINDING_WARN, "unlogged_tables",
					 "ALTER TABLE ... SET LOGGED, or accept that later changes are not carried",
					 "%d unlogged table(s) are copied but their later changes cannot be streamed: %s", nu, list);
		free(list);
	}
	if (nf > 0)
	{
		char	   *list = name_list(foreign, nf, 20);

		findings_add(p->f, FINDING_WARN, "foreign_tables", "recreate the foreign servers on the target",
					 "%d foreign table(s) are created but not copied: %s", nf, list);
		free(list);
	}
	free(names);
	free(unlogged);
	free(foreign);
}

/*
 * Tables whose rows follow finds by float4, float8 or numeric columns: the
 * key (primary key, or replica identity index) has one, or a REPLICA
 * IDENTITY FULL table without a key has one anywhere.  wal2json prints NaN,
 * Infinity and -Infinity there as null, like NULL, in the old row too, so
 * such a change names a class of rows, not a row; follow replaces the
 * class from the source before the commit (replication/apply/nanfix.h),
 * which is exact but costs a source query (a scan of the whole table for a
 * full-row one).  A warning, not a refusal: every such table is carried
 * exactly.  Catalog only, one query: no table is read.
 */
static void
check_float_identity(Preflight *p)
{
	PGresult   *res = db_query(p->src,
								"SELECT n.nspname, c.relname, "
								"  pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname), "
								"  CASE WHEN ix.indkey IS NULL THEN 'full row' ELSE "
								"    (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY k.pos) "
								"     FROM pg_catalog.unnest(ix.indkey) WITH ORDINALITY k(attnum, pos) "
								"     JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum "
								"     WHERE a.atttypid IN ('pg_catalog.float4'::pg_catalog.regtype, 'pg_catalog.float8'::pg_catalog.regtype, "
								"                          'pg_catalog.numeric'::pg_catalog.regtype)) END "
								"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
								"LEFT JOIN LATERAL (SELECT i.indkey FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indimmediate "
								"  AND (i.indisreplident OR (i.indisprimary AND c.relreplident <> 'i')) "
								"  ORDER BY i.indisreplident DESC LIMIT 1) ix ON true "
								"WHERE c.relkind = 'r' AND c.relpersistence = 'p' AND c.relreplident <> 'n' AND "
								CATALOG_USER_RELATION_FILTER
								" AND (ix.indkey IS NOT NULL OR c.relreplident = 'f') "
								" AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 "
								"   AND NOT a.attisdropped AND a.attgenerated = '' "
								"   AND (ix.indkey IS NULL OR a.attnum = ANY (ix.indkey::pg_catalog.int2[])) "
								"   AND a.atttypid IN ('pg_catalog.float4'::pg_catalog.regtype, 'pg_catalog.float8'::pg_catalog.regtype, "
								"                      'pg_catalog.numeric'::pg_catalog.regtype)) "
								"ORDER BY 1, 2");
	char	  **names;
	int			n = 0;

	if (res == NULL)
		return;
	names = pg_malloc0(sizeof(char *) * (PQntuples(res) + 1));
	for (int i = 0; i < PQntuples(res); i++)
		if (catalog_table_selected(p->opts, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1)))
			names[n++] = psprintf("%s (%s)", PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
	if (n == 0)
		findings_add(p->f, FINDING_OK, "float_identity", NULL,
					 "no table is found by a float or numeric column (NaN and Infinity look like NULL in the stream)");
	else
	{
		char	   *list = name_list(names, n, 20);

		findings_add(p->f, FINDING_WARN, "float_identity",
					 "nothing for exactness; for speed (a full-row table is scanned on both sides per transaction group that touches such a row) give the table a primary key of other columns",
					 "%d table(s) are found by float/numeric columns, where wal2json prints NaN and +-Infinity as null like NULL: %s; follow replaces the rows such a change names from the source before each commit, exactly",
					 n, list);
		free(list);
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	PQclear(res);
}

/*
 * A hash partition key of a string type hashes the string's bytes: where
 * the target's encoding spells a value with other bytes, the target puts
 * the row in another partition, and copy (leaf by leaf) fails on the
 * partition constraint.  Trees that load through their root (partroute.h)
 * are routed by the target's own hashes and are fine.  Said only when the
 * encodings differ (a SQL_ASCII source converts nothing).
 */
static void
check_hash_partition_encoding(Preflight *p)
{
	const char *se = PQparameterStatus(p->src, "server_encoding");
	const char *te = PQparameterStatus(p->tgt, "server_encoding");
	char	  **names;
	int			n = 0;
	PGresult   *res;

	if (se == NULL || te == NULL || strcmp(se, te) == 0 || strcmp(se, "SQL_ASCII") == 0)
		return;
	res = db_query(p->src,
				   "SELECT n.nspname, c.relname, pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) "
				   "FROM pg_catalog.pg_partitioned_table pt JOIN pg_catalog.pg_class c ON c.oid = pt.partrelid "
				   "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
				   "WHERE pt.partstrat = 'h' AND 0 <> ANY (pt.partcollation::pg_catalog.oid[]) "
				   "  AND EXISTS (SELECT 1 FROM pg_catalog.pg_partition_tree(c.oid) l "
				   "    WHERE l.isleaf AND " PARTROUTE_ROOT_SQL("l.relid") " IS NULL) "
				   "ORDER BY 1, 2");
	if (res == NULL)
		return;
	names = pg_malloc0(sizeof(char *) * (PQntuples(res) + 1));
	for (int i = 0; i < PQntuples(res); i++)
		if (catalog_table_selected(p->opts, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1)))
			names[n++] = PQgetvalue(res, i, 2);
	if (n == 0)
		findings_add(p->f, FINDING_OK, "hash_partition_encoding", NULL,
					 "no table is hash-partitioned on a string key between the encodings %s and %s", se, te);
	else
	{
		char	   *list = name_list(names, n, 10);
		char	   *fix = psprintf("create the target database with ENCODING '%s' (createdb -E %s -T template0), or --exclude-table these tables and their partitions and move them yourself", se, se);

		findings_add(p->f, FINDING_FAIL, "hash_partition_encoding", fix,
					 "%d table(s) are hash-partitioned on a string key, whose hash is of its bytes, and the source's encoding %s is not the target's %s: rows would belong to other partitions there: %s",
					 n, se, te, list);
		free(fix);
		free(list);
	}
	free(names);
	PQclear(res);
}

/*
 * A regproc or regoper value is written as the function's or operator's
 * bare name (schema-qualified outside pg_catalog), which names nothing when
 * its schema holds several of that name: the target refuses it as
 * ambiguous, and copy or follow would stop on it.  regprocedure and
 * regoperator carry the argument types and name one.  Scans the columns of
 * these types (and arrays, and domains over them) for such a value; the
 * values of a composite's field are not looked at (docs/limitations.md).
 */
static void
check_ambiguous_reg_values(Preflight *p)
{
	PGresult   *cols = db_query(p->src,
								"SELECT n.nspname, c.relname, "
								"  pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname), "
								"  pg_catalog.quote_ident(a.attname), bt.oid IN ('pg_catalog.regproc'::pg_catalog.regtype, "
								"    'pg_catalog._regproc'::pg_catalog.regtype), bt.typelem <> 0 "
								"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
								"JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
								"JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid "
								"JOIN pg_catalog.pg_type bt ON bt.oid = CASE ty.typtype WHEN 'd' THEN ty.typbasetype ELSE ty.oid END "
								"WHERE c.relkind = 'r' AND c.relpersistence = 'p' AND " CATALOG_USER_RELATION_FILTER
								" AND bt.oid IN ('pg_catalog.regproc'::pg_catalog.regtype, 'pg_catalog._regproc'::pg_catalog.regtype, "
								"   'pg_catalog.regoper'::pg_catalog.regtype, 'pg_catalog._regoper'::pg_catalog.regtype) "
								"ORDER BY 1, 2, a.attnum");
	char	  **found;
	int			n = 0;

	if (cols == NULL)
		return;
	found = pg_malloc0(sizeof(char *) * (PQntuples(cols) + 1));
	for (int i = 0; i < PQntuples(cols); i++)
	{
		bool		proc = PQgetvalue(cols, i, 4)[0] == 't';
		bool		array = PQgetvalue(cols, i, 5)[0] == 't';
		const char *table = PQgetvalue(cols, i, 2);
		const char *col = PQgetvalue(cols, i, 3);
		char	   *sql;
		char	   *value;

		if (!catalog_table_selected(p->opts, PQgetvalue(cols, i, 0), PQgetvalue(cols, i, 1)))
			continue;
		sql = psprintf("SELECT v.o::pg_catalog.%s::pg_catalog.text FROM ONLY %s t "
					   "CROSS JOIN LATERAL pg_catalog.unnest(%s%s.%s%s) v(o) "
					   "JOIN pg_catalog.%s x ON x.oid = v.o "
					   "WHERE EXISTS (SELECT 1 FROM pg_catalog.%s y WHERE y.%s = x.%s AND y.%s = x.%s AND y.oid <> x.oid) "
					   "LIMIT 1",
					   proc ? "regprocedure" : "regoperator", table,
					   array ? "" : "ARRAY[", "t", col, array ? "::pg_catalog.oid[]" : "::pg_catalog.oid]",
					   proc ? "pg_proc" : "pg_operator", proc ? "pg_proc" : "pg_operator",
					   proc ? "proname" : "oprname", proc ? "proname" : "oprname",
					   proc ? "pronamespace" : "oprnamespace", proc ? "pronamespace" : "oprnamespace");
		value = db_scalar(p->src, sql);
		if (value && value[0])
			found[n++] = psprintf("%s column %s holds %s (fix: ALTER TABLE %s ALTER COLUMN %s TYPE pg_catalog.%s%s)",
								  table, col, value, table, col, proc ? "regprocedure" : "regoperator",
								  array ? "[]" : "");
		free(value);
		free(sql);
	}
	if (n == 0)
		findings_add(p->f, FINDING_OK, "ambiguous_reg_values", NULL,
					 "no regproc or regoper value names an overloaded function or operator");
	else
	{
		char	   *list = name_list(found, n, 10);

		findings_add(p->f, FINDING_FAIL, "ambiguous_reg_values",
					 "store regprocedure or regoperator, which carry the argument types, as each line says",
					 "%d column(s) hold a regproc or regoper value whose text, a bare name, names several functions or operators, which the target refuses as ambiguous: %s",
					 n, list);
		free(list);
	}
	for (int i = 0; i < n; i++)
		free(found[i]);
	free(found);
	PQclear(cols);
}

/*
 * Large objects are copied in the snapshot and carried by the switchover,
 * which re-reads every one inside the write downtime (lo_sync.h): refused
 * past its limits, or when this role cannot read some of them.
 */
static void
check_large_objects(Preflight *p)
{
	LargeObjectCensus census;
	char	   *refusal;
	const char *fix;
	char		stored[32];

	if (!lo_census(p->src, &census))
		return;
	if (census.count == 0)
	{
		findings_add(p->f, FINDING_OK, "large_objects", NULL, "no large objects on the source");
		return;
	}
	if ((refusal = lo_census_refusal(&census, &fix)) != NULL)
	{
		findings_add(p->f, FINDING_FAIL, "large_objects", fix, "%s", refusal);
		free(refusal);
		return;
	}
	format_bytes(census.stored_bytes, stored, sizeof(stored));
	if (census.count > LO_MAX_OBJECTS / 4 || census.stored_bytes > LO_MAX_STORED_BYTES / 4)
		findings_add(p->f, FINDING_WARN, "large_objects",
					 "rehearse with 'pgcutover switchover' on a copy: its step lo_prepass shows what the large_objects step adds to the write downtime; or move them to bytea columns",
					 "%lld large object(s), %s stored: copied in the snapshot; the switchover re-reads all of them inside the write downtime, which may add seconds",
					 (long long) census.count, stored);
	else
		findings_add(p->f, FINDING_OK, "large_objects", NULL,
					 "%lld large object(s), %s stored: copied in the snapshot; the switchover carries what changed since, re-reading all of them inside the write downtime",
					 (long long) census.count, stored);
}

static void
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
static void
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

static void
check_extensions(Preflight *p)
{
	PGresult   *sr = db_query(p->src, "SELECT extname FROM pg_catalog.pg_extension ORDER BY 1");
	PGresult   *tr = db_query(p->tgt, "SELECT name FROM pg_catalog.pg_available_extensions");
	char	  **missing;
	int			n = 0;

	if (sr == NULL || tr == NULL)
	{
		PQclear(sr);
		PQclear(tr);
		return;
	}
	missing = pg_malloc0(sizeof(char *) * (PQntuples(sr) + 1));
	for (int i = 0; i < PQntuples(sr); i++)
	{
		const char *ext = PQgetvalue(sr, i, 0);
		bool		found = false;

		for (int j = 0; j < PQntuples(tr) && !found; j++)
			found = strcmp(ext, PQgetvalue(tr, j, 0)) == 0;
		if (!found)
			missing[n++] = (char *) ext;
	}
	if (n == 0)
		findings_add(p->f, FINDING_OK, "extensions", NULL,
					 "all %d extension(s) used on the source are available on the target", PQntuples(sr));
	else
	{
		char	   *list = name_list(missing, n, 20);
		char	   *fix = psprintf("install the package providing %s on the target server (e.g. postgresql-%d-%s)",
								   list, db_major_version(p->tgt), missing[0]);

		findings_add(p->f, FINDING_FAIL, "extensions", fix,
					 "extension(s) used on the source are not available on the target: %s", list);
		free(fix);
		free(list);
	}
	free(missing);
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

static void
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

static void
check_target_empty(Preflight *p)
{
	PGresult   *res = db_query(p->tgt,
								"SELECT n.nspname, c.relname, pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) "
								"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
								"WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND " CATALOG_USER_RELATION_FILTER
								" ORDER BY 1, 2");
	char	  **collide;
	int			ncollide = 0;
	int			nother = 0;

	if (res == NULL)
		return;
	collide = pg_malloc0(sizeof(char *) * (PQntuples(res) + 1));
	for (int i = 0; i < PQntuples(res); i++)
	{
		bool		hit = false;

		for (int j = 0; j < p->tables.count && !hit; j++)
			hit = strcmp(p->tables.tables[j].nspname, PQgetvalue(res, i, 0)) == 0 &&
				strcmp(p->tables.tables[j].relname, PQgetvalue(res, i, 1)) == 0;
		if (hit)
			collide[ncollide++] = PQgetvalue(res, i, 2);
		else
			nother++;
	}
	if (ncollide > 0)
	{
		char	   *list = name_list(collide, ncollide, 10);

		findings_add(p->f, p->opts->allow_nonempty_target ? FINDING_WARN : FINDING_FAIL,
					 "target_empty",
					 "use an empty target database (DROP/CREATE DATABASE), or --allow-nonempty-target if you mean it",
					 "target already has %d relation(s) that the copy would create: %s", ncollide, list);
		free(list);
	}
	else if (nother > 0)
		findings_add(p->f, FINDING_WARN, "target_empty", "make sure these objects belong on the target",
					 "target has %d other relation(s), none collides with the source", nother);
	else
		findings_add(p->f, FINDING_OK, "target_empty", NULL, "target database has no user tables");
	free(collide);
	PQclear(res);
}

/* "CREATE ROLE a; CREATE ROLE b;" for the fix of check_roles (quote_ident's quoting). */
static char *
create_role_statements(PGconn *tgt, const StrList *names, int max)
{
	char	   *array = db_text_array(names);
	char		limit[16];
	const char *params[2] = {array, limit};
	PGresult   *res;
	char	   *out;

	snprintf(limit, sizeof(limit), "%d", max);
	res = db_query_params(tgt,
						  "SELECT pg_catalog.string_agg(pg_catalog.format('CREATE ROLE %I;', n), ' ' ORDER BY i) "
						  "  || CASE WHEN pg_catalog.cardinality($1::text[]) > $2::int "
						  "       THEN pg_catalog.format(' (and %s more)', pg_catalog.cardinality($1::text[]) - $2::int) ELSE '' END "
						  "FROM pg_catalog.unnest($1::text[]) WITH ORDINALITY u(n, i) WHERE i <= $2::int",
						  2, params);
	out = pg_strdup(res && PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "CREATE ROLE ...;");
	PQclear(res);
	free(array);
	return out;
}

/*
 * Roles are global: the schema restore fails on the target when a role it
 * names is missing there -- an owner or a grantee with --keep-acl, a
 * policy's or a user mapping's role always -- after the slot exists.  With
 * --roles copy creates them (roles.h), which the target role must be
 * allowed to do.
 */
static void
check_roles(Preflight *p)
{
	const Options *o = p->opts;
	StrList		needed = {0},
				missing = {0};
	PGresult   *res;

	if (o->role_passwords && !o->roles)
		findings_add(p->f, FINDING_FAIL, "role_passwords", "add --roles, or drop --role-passwords",
					 "--role-passwords carries the passwords of the roles --roles creates, and --roles is not given");
	else if (o->role_passwords)
	{
		char	   *can = db_scalar(p->src, "SELECT pg_catalog.has_table_privilege('pg_catalog.pg_authid', 'SELECT')");

		if (can && can[0] == 't')
			findings_add(p->f, FINDING_OK, "role_passwords", NULL, "the source role can read the password hashes (pg_authid)");
		else if (can)
			findings_add(p->f, FINDING_FAIL, "role_passwords",
						 "run copy as a superuser of the source, or drop --role-passwords and set the passwords on the target (ALTER ROLE ... PASSWORD)",
						 "--role-passwords needs pg_authid, which only superusers can read, and the source role is not one");
		free(can);
	}
	if (!roles_needed(p->src, o, o->keep_acl || o->roles, &needed) ||
		!roles_missing(p->tgt, &needed, &missing))
		goto done;
	if (missing.count > 0 && !o->roles)
	{
		char	   *list = name_list(missing.items, missing.count, 20);
		char	   *create = create_role_statements(p->tgt, &missing, 20);
		char	   *fix = psprintf("add --roles (copy creates them, never as superusers), or create them on the target: %s", create);

		findings_add(p->f, FINDING_FAIL, "roles", fix,
					 "%d role(s) that %s name do not exist on the target, where restoring the schema would fail: %s",
					 missing.count, o->keep_acl ? "the migrated objects' owners, GRANTs, default privileges, policies and user mappings"
					 : "policies (CREATE POLICY ... TO) or user mappings of the migrated objects", list);
		free(fix);
		free(create);
		free(list);
	}
	else if (o->roles)
	{
		res = db_query(p->tgt, "SELECT rolsuper OR rolcreaterole, current_user FROM pg_catalog.pg_roles WHERE rolname = current_user");
		if (res && PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] != 't')
		{
			char	   *fix = psprintf("ALTER ROLE %s CREATEROLE; on the target (as a superuser), or create the roles there yourself and drop --roles",
									   PQgetvalue(res, 0, 1));

			findings_add(p->f, FINDING_FAIL, "roles", fix,
						 "--roles creates roles on the target, and the target role %s may not (neither SUPERUSER nor CREATEROLE)",
						 PQgetvalue(res, 0, 1));
			free(fix);
		}
		else if (res)
		{
			char	   *list = missing.count ? name_list(missing.items, missing.count, 20) : pg_strdup("none");

			findings_add(p->f, FINDING_OK, "roles", NULL,
						 "%d role(s) the migrated objects need; copy creates the %d missing on the target (and their members and groups): %s",
						 needed.count, missing.count, list);
			free(list);
		}
		PQclear(res);
	}
	else if (needed.count > 0)
		findings_add(p->f, FINDING_OK, "roles", NULL, "the %d role(s) the schema restore names exist on the target",
					 needed.count);
	if (o->keep_acl)
	{
		char	   *super = db_scalar(p->tgt, "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user");

		StrList		no_create = {0};

		if (super && super[0] != 't' && roles_owners_without_create(p->src, o, &no_create) &&
			no_create.count > 0)
		{
			StrBuf		list;

			strbuf_init(&list);
			for (int i = 0; i < no_create.count; i++)
				strbuf_printf(&list, "%s%s", i > 0 ? ", " : "", no_create.items[i]);

			findings_add(p->f, FINDING_FAIL, "keep_acl",
						 "connect to the target as a superuser, or make each owner named the owner of its schema on the source (ALTER SCHEMA ... OWNER TO)",
						 "--keep-acl as a target role that is not a superuser: restoring an owner (ALTER ... OWNER TO) needs that owner's CREATE on the schema, which %s lack%s on the source",
						 list.data, no_create.count == 1 ? "s" : "");
			strbuf_free(&list);
		}
		else if (super && super[0] != 't')
			findings_add(p->f, FINDING_WARN, "keep_acl",
						 "connect to the target as a superuser, or GRANT each owner role to the target role",
						 "--keep-acl sets each object's owner (ALTER ... OWNER TO), which a role that is not a superuser may only do for roles it is a member of");
		strlist_free(&no_create);
		free(super);
	}
done:
	strlist_free(&needed);
	strlist_free(&missing);
}

/*
 * A regrole value is carried as the role's name, which the target reads
 * back only when that role exists there: else copy (or follow) stops.
 * Roles are global and --roles carries those the schema needs, not those
 * a table's values name, so the missing ones are named here, before any
 * slot.  Reads every regrole column (arrays and domains too).
 */
static void
check_regrole_values(Preflight *p)
{
	PGresult   *cols = db_query(p->src,
								"SELECT n.nspname, c.relname, "
								"  pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname), "
								"  pg_catalog.quote_ident(a.attname), bt.typelem <> 0 "
								"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
								"JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
								"JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid "
								"JOIN pg_catalog.pg_type bt ON bt.oid = CASE ty.typtype WHEN 'd' THEN ty.typbasetype ELSE ty.oid END "
								"WHERE c.relkind = 'r' AND c.relpersistence = 'p' AND " CATALOG_USER_RELATION_FILTER
								" AND bt.oid IN ('pg_catalog.regrole'::pg_catalog.regtype, 'pg_catalog._regrole'::pg_catalog.regtype) "
								"ORDER BY 1, 2, a.attnum");
	StrList		named = {0},
				missing = {0};

	if (cols == NULL)
		return;
	for (int i = 0; i < PQntuples(cols); i++)
	{
		bool		array = PQgetvalue(cols, i, 4)[0] == 't';
		char	   *sql;
		PGresult   *res;

		if (!catalog_table_selected(p->opts, PQgetvalue(cols, i, 0), PQgetvalue(cols, i, 1)))
			continue;
		sql = psprintf("SELECT DISTINCT r.rolname FROM ONLY %s t CROSS JOIN LATERAL pg_catalog.unnest(%st.%s%s) v(o) "
					   "JOIN pg_catalog.pg_roles r ON r.oid = v.o ORDER BY 1",
					   PQgetvalue(cols, i, 2), array ? "" : "ARRAY[", PQgetvalue(cols, i, 3),
					   array ? "::pg_catalog.oid[]" : "::pg_catalog.oid]");
		res = db_query(p->src, sql);
		for (int r = 0; res && r < PQntuples(res); r++)
		{
			bool		seen = false;

			for (int k = 0; k < named.count && !seen; k++)
				seen = strcmp(named.items[k], PQgetvalue(res, r, 0)) == 0;
			if (!seen)
				strlist_add(&named, PQgetvalue(res, r, 0));
		}
		PQclear(res);
		free(sql);
	}
	if (named.count > 0 && roles_missing(p->tgt, &named, &missing) && missing.count > 0)
	{
		char	   *list = name_list(missing.items, missing.count, 20);
		char	   *create = create_role_statements(p->tgt, &missing, 20);
		char	   *fix = psprintf("create them on the target (copy's --roles does not: they are named by values, not by the schema): %s", create);

		findings_add(p->f, FINDING_FAIL, "regrole_values", fix,
					 "%d role(s) that regrole values name do not exist on the target, which cannot read such a value back: %s",
					 missing.count, list);
		free(fix);
		free(create);
		free(list);
	}
	else if (named.count > 0 && missing.count == 0)
		findings_add(p->f, FINDING_OK, "regrole_values", NULL,
					 "the %d role(s) that regrole values name exist on the target", named.count);
	strlist_free(&named);
	strlist_free(&missing);
	PQclear(cols);
}

static void
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

/* --- encoding ------------------------------------------------------------- */

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
static void
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
	char	  **bad;
	int			nbad = 0;
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
	bad = pg_malloc0(sizeof(char *) * (p->tables.count + 1));
	for (int i = 0; i < p->tables.count; i++)
	{
		const TableInfo *t = &p->tables.tables[i];

		if (t->relkind != 'r' || converts(&s, t->qualname, "r", NULL))
			continue;
		bad[nbad++] = t->qualname;
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
	if (nbad > 0)
	{
		char	   *list = name_list(bad, nbad, 10);
		const char *fix = src_ascii
			? "make those values UTF-8 on the source (for LATIN1 bytes: UPDATE t SET col = convert_from(convert(convert_to(col, 'SQL_ASCII'), 'LATIN1', 'UTF8'), 'SQL_ASCII') WHERE ...), or --exclude-table them"
			: "create the target database with ENCODING 'UTF8' (it holds every character), or change those values on the source, or --exclude-table them";

		findings_add(p->f, FINDING_FAIL, "encoding", fix,
					 "%d table(s) hold text the %s target cannot take from the %s source (%s); first: %s",
					 nbad, tgt, src, list, first);
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
	free(bad);
	free(s.error);
	free((char *) s.target_enc);
}

void
preflight_run(PGconn *src, PGconn *tgt, const Options *opts, Findings *f)
{
	Preflight	p = {src, tgt, opts, f, {NULL, 0}, false};

	if (src == NULL || tgt == NULL)
		return;
	if (!catalog_list_tables(src, opts, &p.tables))
		findings_add(f, FINDING_FAIL, "tables", "see the error above", "cannot list the source's tables");

	check_versions(&p);
	check_pg_dump(&p);
	check_same_server(&p);
	check_wal_level(&p);
	check_capacity(&p, "replication_slots", "max_replication_slots",
				   "SELECT count(*) FROM pg_catalog.pg_replication_slots", "replication slots");
	check_capacity(&p, "wal_senders", "max_wal_senders",
				   "SELECT count(*) FROM pg_catalog.pg_stat_replication", "WAL senders");
	check_replication_role(&p);
	check_wal2json(&p);
	check_emit_message(&p);
	check_slot_free(&p);
	check_filters(&p);
	check_select_privilege(&p);
	check_target_create(&p);
	check_replica_identity(&p);
	check_float_identity(&p);
	check_encoding(&p);
	check_large_objects(&p);
	check_hash_partition_encoding(&p);
	check_ambiguous_reg_values(&p);
	check_regrole_values(&p);
	check_ddl_capture(&p);
	check_fence(&p);
	check_extensions(&p);
	check_disk(&p);
	check_target_empty(&p);
	check_roles(&p);
	catalog_free_tables(&p.tables);
}
