/*
 * pgbouncer.c
 *	  The switchover's PgBouncer side (see pgbouncer.h for the sequence and
 *	  the versions): admin console sessions driven asynchronously against a
 *	  deadline, the [databases] entries that point at the source, and the
 *	  atomic rewrite of the ini file that defines them.
 *
 *	  Every wait is bounded: a statement is sent with PQsendQuery and its
 *	  answer awaited with poll() on the session's socket until the deadline,
 *	  in slices short enough to notice SIGINT.  A session whose statement
 *	  did not finish is closed (PgBouncer keeps the PAUSE state itself, not
 *	  the session), and the next statement opens a new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dsn.h"
#include "log.h"
#include "pgbouncer.h"
#include "signals.h"
#include "subprocess.h"

/* How long RELOAD, RESUME and SHOW may take, seconds. */
#define ADMIN_STATEMENT_TIMEOUT 10.0
/* The longest sleep in a wait, so that SIGINT is noticed, ms. */
#define POLL_SLICE_MS 50
/* %include nesting PgBouncer itself accepts is small; so is ours. */
#define INI_MAX_INCLUDE_DEPTH 10
/* Longest section name, key or %include path read from an ini line. */
#define INI_WORD_LEN 1024

typedef enum AdminStatus
{
	ADMIN_OK,
	ADMIN_ERROR,				/* PgBouncer answered with an error */
	ADMIN_LOST,					/* no session, or it broke */
	ADMIN_TIMEOUT,
	ADMIN_INTERRUPTED
} AdminStatus;

/* Where an entry is defined: the file, and the section its text starts in. */
typedef struct IniEntry
{
	char	   *path;
	char		start_section[INI_WORD_LEN];
} IniEntry;

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

/* ---- the ini file ------------------------------------------------------ */

static char *
read_text_file(const char *path)
{
	FILE	   *f = fopen(path, "r");
	char	   *text = NULL;
	size_t		len = 0,
				cap = 0;
	size_t		n;
	char		buf[8192];

	if (f == NULL)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
	{
		if (len + n + 1 > cap)
		{
			cap = (len + n + 1) * 2;
			text = pg_realloc(text, cap);
		}
		memcpy(text + len, buf, n);
		len += n;
	}
	if (ferror(f))
	{
		free(text);
		text = NULL;
	}
	else if (text == NULL)
		text = pg_strdup("");
	else
		text[len] = '\0';
	fclose(f);
	return text;
}

/* Splits an ini line: a "[section]", a "%include path", or "key = value". */
typedef enum IniLineKind
{
	INI_OTHER,
	INI_SECTION,
	INI_INCLUDE,
	INI_KEY
} IniLineKind;

static IniLineKind
ini_parse_line(const char *line, size_t len, char *word, size_t wordsize,
			   const char **value, size_t *value_len)
{
	const char *p = line,
			   *end = line + len,
			   *w;
	size_t		wlen;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	if (p == end || *p == ';' || *p == '#')
		return INI_OTHER;
	if (*p == '[')
	{
		const char *close = memchr(p, ']', (size_t) (end - p));

		if (close == NULL)
			return INI_OTHER;
		snprintf(word, wordsize, "%.*s", (int) (close - p - 1), p + 1);
		return INI_SECTION;
	}
	if (strncmp(p, "%include", 8) == 0 && p + 8 < end && (p[8] == ' ' || p[8] == '\t'))
	{
		for (p += 8; p < end && (*p == ' ' || *p == '\t'); p++)
			;
		snprintf(word, wordsize, "%.*s", (int) (end - p), p);
		return INI_INCLUDE;
	}
	for (w = p; p < end && *p != '=' && *p != ' ' && *p != '\t'; p++)
		;
	wlen = (size_t) (p - w);
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p != '=' || wlen == 0 || wlen >= wordsize)
		return INI_OTHER;
	memcpy(word, w, wlen);
	word[wlen] = '\0';
	for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
		;
	*value = p;
	*value_len = (size_t) (end - p);
	return INI_KEY;
}

/*
 * Finds the file that defines [databases] entry name, starting at path in
 * *section and following %include; *section is the section at its end.
 */
static bool
ini_find_entry(const char *path, const char *name, char *section, size_t sectionsize,
			   int depth, IniEntry *found)
{
	char	   *text = read_text_file(path);
	char		start[INI_WORD_LEN];
	bool		hit = false;

	if (text == NULL)
	{
		log_error("cannot read the PgBouncer ini file %s: %s; fix: give --pgbouncer-ini a readable file", path, strerror(errno));
		return false;
	}
	snprintf(start, sizeof(start), "%s", section);
	for (char *line = text; line && *line && !hit;)
	{
		char	   *nl = strchr(line, '\n');
		size_t		len = nl ? (size_t) (nl - line) : strlen(line);
		char		word[INI_WORD_LEN];
		const char *value;
		size_t		value_len;

		switch (ini_parse_line(line, len, word, sizeof(word), &value, &value_len))
		{
			case INI_SECTION:
				snprintf(section, sectionsize, "%s", word);
				break;
			case INI_INCLUDE:
				if (depth < INI_MAX_INCLUDE_DEPTH)
					hit = ini_find_entry(word, name, section, sectionsize, depth + 1, found);
				break;
			case INI_KEY:
				if (strcmp(section, "databases") == 0 && strcmp(word, name) == 0)
				{
					found->path = pg_strdup(path);
					snprintf(found->start_section, sizeof(found->start_section), "%s", start);
					hit = true;
				}
				break;
			case INI_OTHER:
				break;
		}
		line = nl ? nl + 1 : NULL;
	}
	free(text);
	return hit;
}

/* Appends " key=value" to buf, quoting the value when it needs it. */
static void
append_pair(char **buf, const char *key, const char *value)
{
	char	   *old = *buf;
	bool		quote = value[0] == '\0' || strpbrk(value, " \t'\\") != NULL;

	if (quote)
	{
		char	   *escaped = pg_malloc0(2 * strlen(value) + 1),
				   *o = escaped;

		for (const char *p = value; *p; p++)
		{
			if (*p == '\'' || *p == '\\')
				*o++ = '\\';
			*o++ = *p;
		}
		*buf = psprintf("%s%s%s='%s'", old, old[0] ? " " : "", key, escaped);
		free(escaped);
	}
	else
		*buf = psprintf("%s%s%s=%s", old, old[0] ? " " : "", key, value);
	free(old);
}

/*
 * The connection string of an entry with host, port and dbname replaced
 * (added when missing); every other pair is kept as written.
 */
static char *
connstr_repointed(const char *value, size_t len, const char *host, const char *port, const char *dbname)
{
	const char *p = value,
			   *end = value + len;
	char	   *out = pg_strdup("");
	bool		seen_host = false,
				seen_port = false,
				seen_dbname = false;

	while (p < end)
	{
		const char *key,
				   *val;
		size_t		keylen;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			break;
		for (key = p; p < end && *p != '=' && *p != ' ' && *p != '\t'; p++)
			;
		keylen = (size_t) (p - key);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p < end && *p == '=')
			for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
				;
		val = p;
		if (p < end && *p == '\'')
		{
			for (p++; p < end && *p != '\''; p++)
				if (*p == '\\' && p + 1 < end)
					p++;
			if (p < end)
				p++;
		}
		else
			while (p < end && *p != ' ' && *p != '\t')
				p++;
		if (keylen == 4 && strncmp(key, "host", 4) == 0)
		{
			append_pair(&out, "host", host);
			seen_host = true;
		}
		else if (keylen == 4 && strncmp(key, "port", 4) == 0)
		{
			append_pair(&out, "port", port);
			seen_port = true;
		}
		else if (keylen == 6 && strncmp(key, "dbname", 6) == 0)
		{
			append_pair(&out, "dbname", dbname);
			seen_dbname = true;
		}
		else
		{
			char	   *old = out;

			out = psprintf("%s%s%.*s=%.*s", old, old[0] ? " " : "", (int) keylen, key, (int) (p - val), val);
			free(old);
		}
	}
	if (!seen_host)
		append_pair(&out, "host", host);
	if (!seen_port)
		append_pair(&out, "port", port);
	if (!seen_dbname)
		append_pair(&out, "dbname", dbname);
	return out;
}

/* Writes text to path through a temporary file, fsync and rename, with st's mode and owner. */
static bool
write_file_atomically(const char *path, const char *text, const struct stat *st)
{
	char	   *tmp = psprintf("%s.pgcutover-tmp", path);
	char	   *dir = pg_strdup(path);
	char	   *slash = strrchr(dir, '/');
	size_t		len = strlen(text);
	size_t		done = 0;
	bool		ok = false;
	int			fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		goto done;
	while (done < len)
	{
		ssize_t		n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto done;
		done += (size_t) n;
	}
	if (fchmod(fd, st->st_mode & 07777) < 0)
		goto done;
	if ((st->st_uid != geteuid() || st->st_gid != getegid()) && fchown(fd, st->st_uid, st->st_gid) < 0)
		goto done;
	if (fsync(fd) < 0)
		goto done;
	if (close(fd) < 0)
	{
		fd = -1;
		goto done;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto done;
	if (slash)
		*slash = '\0';
	{
		int			dfd = open(slash ? (dir[0] ? dir : "/") : ".", O_RDONLY | O_CLOEXEC);

		if (dfd >= 0)
		{
			(void) fsync(dfd);
			close(dfd);
		}
	}
	ok = true;
done:
	if (!ok)
	{
		int			saved = errno;

		log_error("cannot write %s atomically: %s; fix: let pgcutover's user write the file and its directory", path, strerror(saved));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
	}
	free(dir);
	free(tmp);
	return ok;
}

/*
 * Points [databases] entry name of the ini file at host/port/dbname.  The
 * first change to a file in this run keeps its text in PATH.pgcutover-backup.
 */
static bool
ini_repoint_entry(const char *ini_path, const char *name,
				  const char *host, const char *port, const char *dbname, StrList *backed_up)
{
	IniEntry	entry = {0};
	char		section[INI_WORD_LEN] = "";
	char	   *text = NULL;
	char	   *rewritten = NULL;
	char	   *backup = NULL;
	struct stat st;
	bool		ok = false;

	if (!ini_find_entry(ini_path, name, section, sizeof(section), 0, &entry))
	{
		log_error("no entry \"%s\" in the [databases] section of %s (or the files it %%includes); fix: give --pgbouncer-ini the file PgBouncer reads",
				  name, ini_path);
		goto done;
	}
	if ((text = read_text_file(entry.path)) == NULL || stat(entry.path, &st) < 0)
	{
		log_error("cannot read %s: %s", entry.path, strerror(errno));
		goto done;
	}
	snprintf(section, sizeof(section), "%s", entry.start_section);
	rewritten = pg_strdup("");
	for (char *line = text; line && *line;)
	{
		char	   *nl = strchr(line, '\n');
		size_t		len = nl ? (size_t) (nl - line) : strlen(line);
		char		word[INI_WORD_LEN];
		const char *value;
		size_t		value_len;
		IniLineKind kind = ini_parse_line(line, len, word, sizeof(word), &value, &value_len);
		char	   *old = rewritten;

		if (kind == INI_SECTION)
			snprintf(section, sizeof(section), "%s", word);
		if (kind == INI_KEY && strcmp(section, "databases") == 0 && strcmp(word, name) == 0)
		{
			char	   *connstr = connstr_repointed(value, value_len, host, port, dbname);

			rewritten = psprintf("%s%.*s%s%s", old, (int) (value - line), line, connstr, nl ? "\n" : "");
			free(connstr);
		}
		else
			rewritten = psprintf("%s%.*s%s", old, (int) len, line, nl ? "\n" : "");
		free(old);
		line = nl ? nl + 1 : NULL;
	}
	if (strcmp(rewritten, text) == 0)
	{
		ok = true;				/* already there (one file for several PgBouncers) */
		goto done;
	}
	if (!strlist_contains(backed_up, entry.path))
	{
		backup = psprintf("%s.pgcutover-backup", entry.path);
		if (!write_file_atomically(backup, text, &st))
			goto done;
		strlist_add(backed_up, entry.path);
	}
	if (!write_file_atomically(entry.path, rewritten, &st))
		goto done;
	log_info("%s: entry %s now points at host=%s port=%s dbname=%s%s%s", entry.path, name, host, port, dbname,
			 backup ? "; the previous file is " : "", backup ? backup : "");
	ok = true;
done:
	free(backup);
	free(rewritten);
	free(text);
	free(entry.path);
	return ok;
}

/* ---- the steps --------------------------------------------------------- */

/* Describes b's SHOW DATABASES rows for a refusal: "app -> host:port/db (paused), ...". */
static char *
describe_entries(PGresult *res)
{
	char	   *out = pg_strdup("");

	for (int row = 0; row < PQntuples(res); row++)
	{
		char	   *old = out;
		const char *name = field(res, row, "name");
		const char *paused = field(res, row, "paused");

		if (name && strcmp(name, "pgbouncer") == 0)
			continue;
		out = psprintf("%s%s%s -> %s:%s/%s%s", old, old[0] ? ", " : "", name ? name : "?",
					   field(res, row, "host") ? field(res, row, "host") : "(socket)",
					   field(res, row, "port") ? field(res, row, "port") : "?",
					   field(res, row, "database") ? field(res, row, "database") : "?",
					   paused && strcmp(paused, "1") == 0 ? " (paused)" : "");
		free(old);
	}
	if (out[0] == '\0')
	{
		free(out);
		out = pg_strdup("no database entries");
	}
	return out;
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
			IniEntry	entry = {0};
			char		section[INI_WORD_LEN] = "";

			if (!ini_find_entry(b->ini_path, b->databases.items[d], section, sizeof(section), 0, &entry))
			{
				log_error("pgbouncer %s: entry %s is not in the [databases] section of %s (or the files it %%includes); fix: give --pgbouncer-ini the file this PgBouncer reads",
						  b->label, b->databases.items[d], b->ini_path);
				rc = OUTCOME_PREFLIGHT;
			}
			else if (access(entry.path, W_OK) != 0)
			{
				log_error("pgbouncer %s: cannot write %s: %s; fix: run pgcutover as a user who may write PgBouncer's configuration",
						  b->label, entry.path, strerror(errno));
				rc = OUTCOME_PREFLIGHT;
			}
			free(entry.path);
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
				ok = ini_repoint_entry(b->ini_path, b->databases.items[d], host, port, dbname, &backed_up);
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
