/*
 * fence.c
 *	  Fencing the source and the other statements switchover and cleanup
 *	  share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cutover.h"
#include "fence.h"
#include "log.h"
#include "pgconn.h"
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

static char *
alter_database_sql(PGconn *src, const char *action)
{
	char	   *db = db_quote_ident(src, PQdb(src));
	char	   *sql = psprintf("ALTER DATABASE %s %s default_transaction_read_only%s", db, action,
							   strcmp(action, "SET") == 0 ? " = on" : "");

	free(db);
	return sql;
}

int
fence_database(PGconn *src, bool dry_run)
{
	char	   *sql = alter_database_sql(src, "SET");
	const char *kill_sql =
		"SELECT count(pg_catalog.pg_terminate_backend(pid)) FROM pg_catalog.pg_stat_activity "
		"WHERE datname = pg_catalog.current_database() AND pid <> pg_catalog.pg_backend_pid() "
		"AND backend_type = 'client backend' AND coalesce(application_name, '') NOT LIKE 'pgcutover%'";
	int			killed = 0;

	if (!run_or_print(src, "source", sql, dry_run))
		killed = -1;
	free(sql);
	if (killed == 0 && dry_run)
		printf("[source] %s;\n", kill_sql);
	else if (killed == 0)
	{
		char	   *n = db_scalar(src, kill_sql);

		killed = n ? atoi(n) : -1;
		free(n);
	}
	return killed;
}

bool
unfence_database(PGconn *src, bool dry_run)
{
	char	   *sql = alter_database_sql(src, "RESET");
	bool		ok = run_or_print(src, "source", sql, dry_run);

	free(sql);
	return ok;
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
