/*
 * pgbouncer.c
 *	  The switchover's PgBouncer side (see pgbouncer.h for the sequence and
 *	  the versions): admin console sessions driven asynchronously against a
 *	  deadline and the [databases] entries that point at the source; the
 *	  rewrite of the ini file that defines them is pgbouncer_ini.c's.
 *
 *	  Every wait is bounded: a statement is sent with PQsendQuery and its
 *	  answer awaited with poll() on the session's socket until the deadline,
 *	  in slices short enough to notice SIGINT.  A session whose statement
 *	  did not finish is closed (PgBouncer keeps the PAUSE state itself, not
 *	  the session), and the next statement opens a new one.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dsn.h"
#include "log.h"
#include "pgbouncer.h"
#include "pgbouncer_ini.h"
#include "signals.h"
#include "strbuf.h"
#include "subprocess.h"

/* How long RELOAD, RESUME and SHOW may take, seconds. */
#define ADMIN_STATEMENT_TIMEOUT 10.0
/* The longest sleep in a wait, so that SIGINT is noticed, ms. */
#define POLL_SLICE_MS 50

typedef enum AdminStatus
{
	ADMIN_OK,
	ADMIN_ERROR,				/* PgBouncer answered with an error */
	ADMIN_LOST,					/* no session, or it broke */
	ADMIN_TIMEOUT,
	ADMIN_INTERRUPTED
} AdminStatus;

static void
notice_to_debug(void *arg, const char *message)
{
	log_debug("pgbouncer %s: %s", (const char *) arg, message);
}

/* Opens (again) b's admin session; false with an error logged. */
static bool
admin_connect(PgBouncer *b)
{
	const char *keys[] = {"dbname", "fallback_application_name", "connect_timeout", NULL};
	const char *vals[] = {b->admin_dsn, "pgcutover", "10", NULL};
	PGconn	   *conn;

	if (b->conn && PQstatus(b->conn) == CONNECTION_OK)
		return true;
	PQfinish(b->conn);
	b->conn = NULL;
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
	{
		char	   *desc = dsn_describe(b->admin_dsn);
		char	   *err = conn ? pg_strdup(PQerrorMessage(conn)) : pg_strdup("out of memory");

		for (char *p = err; *p; p++)
			if (*p == '\n')
				*p = ' ';
		log_error("cannot connect to the PgBouncer admin console (%s): %s; fix: give --pgbouncer the admin console's DSN (dbname=pgbouncer, a user listed in admin_users) and check PgBouncer runs",
				  desc, err);
		free(err);
		free(desc);
		PQfinish(conn);
		return false;
	}
	if (b->label == NULL)
		b->label = psprintf("%s:%s", PQhost(conn), PQport(conn));
	PQsetNoticeProcessor(conn, notice_to_debug, b->label);
	b->conn = conn;
	return true;
}

/*
 * Runs one admin console statement, waiting until deadline (and, when
 * interruptible, until SIGINT/SIGTERM: PAUSE is, RESUME is not, since it
 * is what an interrupted run must still send).  *result gets the rows of a
 * SHOW (NULL otherwise or on failure).  On a timeout or an interrupt the
 * session is closed: its statement may still be running.
 */
static AdminStatus
admin_run(PgBouncer *b, const char *sql, double deadline, bool interruptible, PGresult **result)
{
	AdminStatus status = ADMIN_OK;
	PGresult   *res;

	if (result)
		*result = NULL;
	if (!admin_connect(b))
		return ADMIN_LOST;
	if (!PQsendQuery(b->conn, sql))
	{
		status = ADMIN_LOST;
		goto failed;
	}
	while (PQisBusy(b->conn))
	{
		struct pollfd pfd = {.fd = PQsocket(b->conn), .events = POLLIN};
		double		left_ms = (deadline - now_seconds()) * 1000;

		if (interruptible && signals_interrupts() > 0)
		{
			status = ADMIN_INTERRUPTED;
			goto failed;
		}
		if (left_ms <= 0)
		{
			status = ADMIN_TIMEOUT;
			goto failed;
		}
		if (poll(&pfd, 1, left_ms < POLL_SLICE_MS ? (int) left_ms + 1 : POLL_SLICE_MS) < 0 && errno != EINTR)
		{
			status = ADMIN_LOST;
			goto failed;
		}
		if (!PQconsumeInput(b->conn))
		{
			status = ADMIN_LOST;
			goto failed;
		}
	}
	while ((res = PQgetResult(b->conn)) != NULL)
	{
		ExecStatusType st = PQresultStatus(res);

		if (st == PGRES_TUPLES_OK && result && *result == NULL)
			*result = res;
		else
		{
			if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
				status = ADMIN_ERROR;
			PQclear(res);
		}
	}
	if (status == ADMIN_OK || status == ADMIN_ERROR)
		return status;
failed:
	if (status == ADMIN_LOST)
		log_error("pgbouncer %s: the admin session broke during \"%s\": %s", b->label, sql,
				  PQerrorMessage(b->conn));
	PQfinish(b->conn);
	b->conn = NULL;
	if (result)
	{
		PQclear(*result);
		*result = NULL;
	}
	return status;
}

/* The admin console's error message of the last statement, one line, malloc'd. */
static char *
admin_error(PgBouncer *b)
{
	char	   *msg = pg_strdup(b->conn ? PQerrorMessage(b->conn) : "no session");

	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return msg;
}

/* A database name as the admin console's parser takes it. */
static char *
admin_ident(const char *name)
{
	size_t		len = strlen(name);
	char	   *out,
			   *o;

	if (len > 0 && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == len)
		return pg_strdup(name);
	out = o = pg_malloc0(2 * len + 3);
	*o++ = '"';
	for (const char *p = name; *p; p++)
	{
		if (*p == '"')
			*o++ = '"';
		*o++ = *p;
	}
	*o++ = '"';
	return out;
}

static bool
is_local_host(const char *host)
{
	return host == NULL || host[0] == '\0' || host[0] == '/' || strcmp(host, "localhost") == 0 ||
		strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0;
}

/* Whether a SHOW DATABASES row's host/port/database name the given server. */
static bool
entry_points_at(const char *host, const char *port, const char *database,
				const char *want_host, const char *want_port, const char *want_dbname)
{
	bool		same_host = (host && want_host && strcmp(host, want_host) == 0) ||
		(is_local_host(host) && is_local_host(want_host));

	return same_host && port && atoi(port) == atoi(want_port) &&
		database && strcmp(database, want_dbname) == 0;
}

static const char *
field(PGresult *res, int row, const char *column)
{
	int			col = PQfnumber(res, column);

	if (col < 0 || PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

static int
entry_index(const PgBouncer *b, const char *name)
{
	for (int i = 0; i < b->databases.count; i++)
		if (strcmp(b->databases.items[i], name) == 0)
			return i;
	return -1;
}

/* ---- the steps --------------------------------------------------------- */

/* Describes b's SHOW DATABASES rows for a refusal: "app -> host:port/db (paused), ...". */
static char *
describe_entries(PGresult *res)
{
	StrBuf		out;

	strbuf_init(&out);
	for (int row = 0; row < PQntuples(res); row++)
	{
		const char *name = field(res, row, "name");
		const char *paused = field(res, row, "paused");

		if (name && strcmp(name, "pgbouncer") == 0)
			continue;
		strbuf_printf(&out, "%s%s -> %s:%s/%s%s", out.len ? ", " : "", name ? name : "?",
					  field(res, row, "host") ? field(res, row, "host") : "(socket)",
					  field(res, row, "port") ? field(res, row, "port") : "?",
					  field(res, row, "database") ? field(res, row, "database") : "?",
					  paused && strcmp(paused, "1") == 0 ? " (paused)" : "");
	}
	if (out.len == 0)
		strbuf_append(&out, "no database entries");
	return out.data;
}

Outcome
pgbouncer_prepare(PgBouncerSet *set, const Options *opts, PGconn *src, PGconn *tgt)
{
	Outcome		rc = OUTCOME_OK;

	memset(set, 0, sizeof(*set));
	set->opts = opts;
	if (opts->pgbouncer.count == 0)
		return OUTCOME_OK;
	set->count = opts->pgbouncer.count;
	set->items = pg_malloc0(sizeof(PgBouncer) * (size_t) set->count);
	set->source_host = pg_strdup(PQhost(src));
	set->source_port = pg_strdup(PQport(src));
	set->source_dbname = pg_strdup(PQdb(src));
	set->target_host = pg_strdup(PQhost(tgt));
	set->target_port = pg_strdup(PQport(tgt));
	set->target_dbname = pg_strdup(PQdb(tgt));
	set->target_user = pg_strdup(PQuser(tgt));
	for (int i = 0; i < set->count && rc == OUTCOME_OK; i++)
	{
		PgBouncer  *b = &set->items[i];
		PGresult   *res = NULL;

		b->admin_dsn = opts->pgbouncer.items[i];
		if (opts->pgbouncer_ini.count > 0)
			b->ini_path = opts->pgbouncer_ini.items[opts->pgbouncer_ini.count == 1 ? 0 : i];
		if (!admin_connect(b))
		{
			rc = OUTCOME_CONNECTION;
			break;
		}
		if (admin_run(b, "SHOW DATABASES", now_seconds() + ADMIN_STATEMENT_TIMEOUT, false, &res) != ADMIN_OK || res == NULL)
		{
			char	   *err = admin_error(b);

			log_error("pgbouncer %s: SHOW DATABASES failed: %s; fix: the --pgbouncer user must be in PgBouncer's admin_users", b->label, err);
			free(err);
			PQclear(res);
			rc = OUTCOME_PREFLIGHT;
			break;
		}
		for (int row = 0; row < PQntuples(res); row++)
		{
			const char *name = field(res, row, "name");

			if (name == NULL || strcmp(name, "pgbouncer") == 0 ||
				!entry_points_at(field(res, row, "host"), field(res, row, "port"), field(res, row, "database"),
								 set->source_host, set->source_port, set->source_dbname))
				continue;
			strlist_add(&b->databases, name);
		}
		b->paused = pg_malloc0(sizeof(bool) * (size_t) (b->databases.count + 1));
		for (int row = 0; row < PQntuples(res); row++)
		{
			const char *name = field(res, row, "name");
			const char *paused = field(res, row, "paused");
			int			idx = name ? entry_index(b, name) : -1;

			if (idx < 0 || paused == NULL || strcmp(paused, "1") != 0)
				continue;
			/* a killed switchover's PAUSE: this run resumes it, at the end or on abort */
			b->paused[idx] = true;
			b->taken_over = true;
			b->t_pause_sent = now_seconds();
			log_warn("pgbouncer %s: database %s is already paused (an interrupted switchover?): this run takes it over and resumes it at the end or on abort",
					 b->label, name);
		}
		if (b->databases.count == 0)
		{
			char	   *found = describe_entries(res);

			log_error("pgbouncer %s has no database entry pointing at the source (%s:%s/%s); it has: %s; fix: point an entry at the source, or pass the right --pgbouncer",
					  b->label, set->source_host, set->source_port, set->source_dbname, found);
			free(found);
			rc = OUTCOME_PREFLIGHT;
		}
		PQclear(res);
		/* the ini file must define every entry now, not when the source is fenced */
		for (int d = 0; rc == OUTCOME_OK && b->ini_path && d < b->databases.count; d++)
		{
			char	   *defined_in = NULL;

			if (!pgbouncer_ini_find_entry(b->ini_path, b->databases.items[d], &defined_in))
			{
				log_error("pgbouncer %s: entry %s is not in the [databases] section of %s (or the files it %%includes); fix: give --pgbouncer-ini the file this PgBouncer reads",
						  b->label, b->databases.items[d], b->ini_path);
				rc = OUTCOME_PREFLIGHT;
			}
			else if (access(defined_in, W_OK) != 0)
			{
				log_error("pgbouncer %s: cannot write %s: %s; fix: run pgcutover as a user who may write PgBouncer's configuration",
						  b->label, defined_in, strerror(errno));
				rc = OUTCOME_PREFLIGHT;
			}
			free(defined_in);
		}
		if (rc == OUTCOME_OK)
			log_info("pgbouncer %s: %d database entr%s point%s at the source", b->label, b->databases.count,
					 b->databases.count == 1 ? "y" : "ies", b->databases.count == 1 ? "s" : "");
	}
	return rc;
}

/* RESUMEs b's paused entries; true when none is left paused. */
static bool
resume_bouncer(PgBouncer *b, bool dry_run)
{
	bool		all = true;

	for (int d = 0; d < b->databases.count; d++)
	{
		char	   *ident;
		char	   *sql;
		AdminStatus st;

		if (!b->paused[d])
			continue;
		ident = admin_ident(b->databases.items[d]);
		sql = psprintf("RESUME %s", ident);
		if (dry_run)
		{
			printf("[pgbouncer %s] %s;\n", b->label, sql);
			st = ADMIN_OK;
		}
		else
			st = admin_run(b, sql, now_seconds() + ADMIN_STATEMENT_TIMEOUT, false, NULL);
		if (st == ADMIN_ERROR)
		{
			char	   *err = admin_error(b);

			/* a PAUSE cut short by its deadline may never have taken */
			if (strstr(err, "is not paused"))
				st = ADMIN_OK;
			else
				log_error("pgbouncer %s: %s failed: %s; fix: run it on the admin console", b->label, sql, err);
			free(err);
		}
		else if (st != ADMIN_OK)
			log_error("pgbouncer %s: %s did not complete; fix: run it on the admin console (psql ... dbname=pgbouncer)", b->label, sql);
		if (st == ADMIN_OK)
		{
			b->paused[d] = false;
			if (b->t_pause_sent > 0)
				b->paused_ms = (now_seconds() - b->t_pause_sent) * 1000;
		}
		else
			all = false;
		free(sql);
		free(ident);
	}
	return all;
}

Outcome
pgbouncer_pause(PgBouncerSet *set, double deadline)
{
	bool		dry_run = set->count > 0 && set->opts->dry_run;
	Outcome		rc = OUTCOME_OK;

	for (int i = 0; i < set->count && rc == OUTCOME_OK; i++)
	{
		PgBouncer  *b = &set->items[i];

		for (int d = 0; d < b->databases.count && rc == OUTCOME_OK; d++)
		{
			char	   *ident = admin_ident(b->databases.items[d]);
			char	   *sql = psprintf("PAUSE %s", ident);
			AdminStatus st = ADMIN_OK;

			if (dry_run)
			{
				printf("[pgbouncer %s] %s;\n", b->label, sql);
				b->paused[d] = true;	/* so that the RESUME is printed too */
			}
			else if (!b->paused[d])
			{
				if (b->t_pause_sent == 0)
					b->t_pause_sent = now_seconds();
				/* PgBouncer pauses the entry as soon as it reads PAUSE: resume it whatever happens */
				b->paused[d] = true;
				st = admin_run(b, sql, deadline, true, NULL);
			}
			if (st == ADMIN_TIMEOUT)
			{
				log_error("pgbouncer %s: %s did not finish within --timeout: server connections stayed busy; fix: use pool_mode = transaction (session pooling waits for clients to disconnect), or a longer --timeout",
						  b->label, sql);
				rc = OUTCOME_TIMEOUT;
			}
			else if (st == ADMIN_INTERRUPTED)
			{
				log_error("pgbouncer %s: interrupted during %s", b->label, sql);
				rc = OUTCOME_INTERRUPTED;
			}
			else if (st != ADMIN_OK)
			{
				char	   *err = admin_error(b);

				log_error("pgbouncer %s: %s failed: %s; fix: check the --pgbouncer user is in admin_users", b->label, sql, err);
				free(err);
				rc = OUTCOME_SQL;
			}
			free(sql);
			free(ident);
		}
	}
	if (rc != OUTCOME_OK)
		(void) pgbouncer_resume_all(set);
	return rc;
}

/* Runs --repoint-command once with the target in its environment (no password). */
static bool
run_repoint_command(PgBouncerSet *set)
{
	char	   *host = psprintf("PGCUTOVER_TARGET_HOST=%s", set->target_host);
	char	   *port = psprintf("PGCUTOVER_TARGET_PORT=%s", set->target_port);
	char	   *dbname = psprintf("PGCUTOVER_TARGET_DBNAME=%s", set->target_dbname);
	char	   *user = psprintf("PGCUTOVER_TARGET_USER=%s", set->target_user);
	char	   *argv[] = {"/usr/bin/env", "-u", "PGPASSWORD", host, port, dbname, user,
	"/bin/sh", "-c", set->opts->repoint_command, NULL};
	SubprocessOutput out;
	bool		ok = true;

	if (set->opts->dry_run)
		printf("[shell] %s %s %s %s %s\n", host, port, dbname, user, set->opts->repoint_command);
	else
	{
		ok = subprocess_run(argv, NULL, false, NULL, &out);
		if (!ok)
			log_error("--repoint-command failed (exit %d): %s; fix: make it point PgBouncer's entries at the target", out.exit_code,
					  out.err ? out.err : "");
		subprocess_output_free(&out);
	}
	free(user);
	free(dbname);
	free(port);
	free(host);
	return ok;
}

/* Points every --pgbouncer-ini entry at host/port/dbname. */
static bool
rewrite_ini_files(PgBouncerSet *set, const char *host, const char *port, const char *dbname)
{
	StrList		backed_up = {0};
	bool		ok = true;

	for (int i = 0; i < set->count && ok; i++)
	{
		PgBouncer  *b = &set->items[i];

		for (int d = 0; d < b->databases.count && ok; d++)
		{
			if (set->opts->dry_run)
				printf("[pgbouncer %s] -- in %s: %s = host=%s port=%s dbname=%s (other keys kept)\n",
					   b->label, b->ini_path, b->databases.items[d], host, port, dbname);
			else
				ok = pgbouncer_ini_repoint_entry(b->ini_path, b->databases.items[d], host, port, dbname, &backed_up);
		}
	}
	strlist_free(&backed_up);
	return ok;
}

/* RELOADs b; with check_target, then SHOW DATABASES must show every entry at the target. */
static bool
reload_bouncer(PgBouncerSet *set, PgBouncer *b, bool check_target)
{
	PGresult   *res = NULL;
	bool		ok = true;

	if (set->opts->dry_run)
	{
		printf("[pgbouncer %s] RELOAD;\n", b->label);
		return true;
	}
	if (admin_run(b, "RELOAD", now_seconds() + ADMIN_STATEMENT_TIMEOUT, false, NULL) != ADMIN_OK)
	{
		char	   *err = admin_error(b);

		log_error("pgbouncer %s: RELOAD failed: %s", b->label, err);
		free(err);
		return false;
	}
	if (!check_target)
		return true;
	if (admin_run(b, "SHOW DATABASES", now_seconds() + ADMIN_STATEMENT_TIMEOUT, false, &res) != ADMIN_OK || res == NULL)
	{
		log_error("pgbouncer %s: SHOW DATABASES failed after RELOAD", b->label);
		PQclear(res);
		return false;
	}
	for (int d = 0; d < b->databases.count && ok; d++)
	{
		bool		at_target = false;

		for (int row = 0; row < PQntuples(res); row++)
			if (field(res, row, "name") && strcmp(field(res, row, "name"), b->databases.items[d]) == 0)
				at_target = entry_points_at(field(res, row, "host"), field(res, row, "port"), field(res, row, "database"),
											set->target_host, set->target_port, set->target_dbname);
		if (!at_target)
		{
			char	   *found = describe_entries(res);

			log_error("pgbouncer %s: after RELOAD entry %s does not point at the target (%s:%s/%s): %s; fix: %s",
					  b->label, b->databases.items[d], set->target_host, set->target_port, set->target_dbname, found,
					  set->opts->repoint_command ? "make --repoint-command change the entry PgBouncer reads" : "give --pgbouncer-ini the file this PgBouncer reads");
			free(found);
			ok = false;
		}
	}
	PQclear(res);
	return ok;
}

Outcome
pgbouncer_repoint_and_resume(PgBouncerSet *set)
{
	bool		ok;

	if (set->count == 0)
		return OUTCOME_OK;
	ok = set->opts->repoint_command
		? run_repoint_command(set)
		: rewrite_ini_files(set, set->target_host, set->target_port, set->target_dbname);
	for (int i = 0; i < set->count && ok; i++)
		ok = reload_bouncer(set, &set->items[i], true);
	if (!ok)
	{
		/* clients must go on against the source: put the files back */
		if (set->opts->repoint_command == NULL &&
			rewrite_ini_files(set, set->source_host, set->source_port, set->source_dbname))
			for (int i = 0; i < set->count; i++)
				(void) reload_bouncer(set, &set->items[i], false);
		else if (set->opts->repoint_command)
			log_error("PgBouncer may point at the target after --repoint-command: check SHOW DATABASES before clients write to the source again");
		return OUTCOME_PREFLIGHT;
	}
	for (int i = 0; i < set->count; i++)
		set->items[i].repointed = true;
	for (int i = 0; i < set->count; i++)
		if (!resume_bouncer(&set->items[i], set->opts->dry_run))
			ok = false;
	if (!ok)
	{
		log_error("some PgBouncer entries are still paused although they point at the target; fix: RESUME them on the admin console");
		return OUTCOME_SQL;
	}
	return OUTCOME_OK;
}

bool
pgbouncer_resume_all(PgBouncerSet *set)
{
	bool		ok = true;

	for (int i = 0; i < set->count; i++)
	{
		PgBouncer  *b = &set->items[i];
		bool		any = false;

		for (int d = 0; d < b->databases.count; d++)
			any = any || b->paused[d];
		if (!any)
			continue;
		if (!resume_bouncer(b, set->opts->dry_run))
			ok = false;
		else if (b->repointed)
			log_error("pgbouncer %s: resumed with its entries pointing at the TARGET: clients now use the target; fix: to go back, restore the ini file's .pgcutover-backup (or the old entry) and RELOAD",
					  b->label);
		else if (!set->opts->dry_run)
			log_warn("pgbouncer %s: resumed: clients use the source again", b->label);
	}
	return ok;
}

double
pgbouncer_max_pause_ms(const PgBouncerSet *set)
{
	double		max = 0;

	for (int i = 0; i < set->count; i++)
		if (set->items[i].paused_ms > max)
			max = set->items[i].paused_ms;
	return max;
}

json_t *
pgbouncer_json(const PgBouncerSet *set)
{
	json_t	   *arr = json_array();

	for (int i = 0; i < set->count; i++)
	{
		const PgBouncer *b = &set->items[i];
		json_t	   *dbs = json_array();

		for (int d = 0; d < b->databases.count; d++)
			json_array_append_new(dbs, json_string(b->databases.items[d]));
		json_array_append_new(arr, json_pack("{s:s?, s:o, s:f, s:b, s:b}", "admin", b->label,
											 "databases", dbs, "paused_ms", b->paused_ms,
											 "taken_over", b->taken_over, "repointed", b->repointed));
	}
	return arr;
}

void
pgbouncer_finish(PgBouncerSet *set)
{
	for (int i = 0; i < set->count; i++)
	{
		PgBouncer  *b = &set->items[i];

		PQfinish(b->conn);
		free(b->label);
		free(b->paused);
		strlist_free(&b->databases);
	}
	free(set->items);
	free(set->source_host);
	free(set->source_port);
	free(set->source_dbname);
	free(set->target_host);
	free(set->target_port);
	free(set->target_dbname);
	free(set->target_user);
	memset(set, 0, sizeof(*set));
}
