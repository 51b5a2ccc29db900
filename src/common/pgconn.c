/*
 * pgconn.c
 *	  Connecting and running statements with libpq, with errors turned into
 *	  single redacted lines; a password a server asks for and nothing gave
 *	  is asked for on the terminal, as psql and pg_dump do.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "dsn.h"
#include "log.h"
#include "pgconn.h"
#include "options.h"
#include "signals.h"

#define MAX_KNOWN_PASSWORDS 16

/* A password typed on the terminal, for one server and role. */
typedef struct KnownPassword
{
	char	   *server;			/* "role@host:port" as libpq resolved them */
	char	   *password;
	StrList		dsns;			/* DSNs that connected with it */
} KnownPassword;

/*
 * The passwords typed so far, for the process's other connections to the
 * same server and role: workers, reconnects, the replication session, the
 * followers and the snapshot keeper it forks, pg_dump (db_known_password).
 * Process-wide by nature, like PGPASSWORD, so one mutex guards it; it is
 * also held while asking and trying the answer, so two threads never ask at
 * once and the second finds what the first was told.
 */
static struct
{
	pthread_mutex_t lock;
	bool		never_ask;		/* -w, --no-password */
	int			count;
	KnownPassword known[MAX_KNOWN_PASSWORDS];
}			passwords = {.lock = PTHREAD_MUTEX_INITIALIZER};

/*
 * Maps a libpq connection error to the fix a DBA would apply, with {who}
 * ("source" or "target") filled in; malloc'd.
 */
static char *
connect_fix(const char *err, const char *who)
{
	static const struct
	{
		const char *needle;
		const char *fix;
	}			fixes[] = {
		{"could not translate host name", "check the host name in the {who} DSN (DNS lookup failed)"},
		{"Name or service not known", "check the host name in the {who} DSN (DNS lookup failed)"},
		{"Connection refused", "start the {who} server or fix host/port in its DSN"},
		{"No such file or directory", "start the {who} server or fix host/port in its DSN"},
		{"timeout expired", "check network access to the {who} server (firewall, host, port)"},
		{"password authentication failed", "check the user and password of the {who} DSN (or ~/.pgpass)"},
		{"no password supplied", "give a password in the {who} DSN (password=...), PGPASSWORD or ~/.pgpass, or run on a terminal (without --no-password) to be asked for it"},
		{"no pg_hba.conf entry", "add a pg_hba.conf line on the {who} server allowing this client, then reload"},
		{"does not exist", "create the database/role named in the {who} DSN, or fix the DSN"},
		{"SSL", "fix sslmode in the {who} DSN or enable SSL on the server"},
		{"invalid connection option", "fix the {who} DSN: it has an unknown keyword"},
		{"missing \"=\"", "fix the {who} DSN: keyword form is key=value separated by spaces"},
		{"invalid URI", "fix the {who} DSN: it is not a valid postgresql:// URI"},
		{"invalid integer value", "fix the {who} DSN: a numeric parameter is not a number"},
		{"invalid port", "fix the port in the {who} DSN"},
		{"is not currently accepting connections", "the {who} database refuses connections (ALLOW_CONNECTIONS false); if a pgcutover switchover fenced it, that is on purpose ('pgcutover status' says so); otherwise allow them (ALTER DATABASE ... ALLOW_CONNECTIONS true)"},
		{"too many connections for", "raise the CONNECTION LIMIT of the role or database on the {who} server, or close other sessions"},
		{"too many clients", "raise max_connections on the {who} server or close other sessions"},
		{"remaining connection slots", "raise max_connections on the {who} server or close other sessions"},
		{"must be superuser or replication role", "GRANT the REPLICATION attribute: ALTER ROLE <user> REPLICATION on the {who}"},
		{"permission denied", "grant the {who} role CONNECT on the database"},
		{NULL, NULL}
	};

	const char *fix = "check the {who} DSN and that the server accepts connections";
	const char *slot;

	for (int i = 0; fixes[i].needle; i++)
		if (strstr(err, fixes[i].needle))
		{
			fix = fixes[i].fix;
			break;
		}
	slot = strstr(fix, "{who}");
	return psprintf("%.*s%s%s", (int) (slot - fix), fix, who, slot + strlen("{who}"));
}

/* Joins a multi-line libpq message into one line. */
static char *
one_line(const char *msg)
{
	char	   *s = pg_strdup(msg ? msg : "");
	size_t		len = strlen(s);

	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' '))
		s[--len] = '\0';
	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	return s;
}

char *
db_error(PGconn *conn)
{
	char	   *line = one_line(PQerrorMessage(conn));
	char	   *red = log_redact(line);

	free(line);
	return red;
}

static void
notice_to_log(void *arg, const char *message)
{
	const char *who = arg;

	/*
	 * libpq hands an error that arrives while no query runs (a FATAL: the
	 * server says why it is closing the session) to the notice processor.
	 */
	log_msg(strncmp(message, "WARNING", 7) == 0 || strncmp(message, "FATAL", 5) == 0 ||
			strncmp(message, "PANIC", 5) == 0 ? LOG_WARN : LOG_DEBUG,
			"%s server: %s", who, message);
}

void
db_password_prompt(bool allowed)
{
	pthread_mutex_lock(&passwords.lock);
	passwords.never_ask = !allowed;
	pthread_mutex_unlock(&passwords.lock);
}

/* The known password a DSN connected with, or for server; caller holds the lock. */
static const char *
known_password(const char *dsn, const char *server)
{
	for (int i = 0; i < passwords.count; i++)
	{
		KnownPassword *k = &passwords.known[i];

		if (server && strcmp(k->server, server) == 0)
			return k->password;
		for (int j = 0; dsn && j < k->dsns.count; j++)
			if (strcmp(k->dsns.items[j], dsn) == 0)
				return k->password;
	}
	return NULL;
}

char *
db_known_password(const char *dsn)
{
	const char *known;
	char	   *password;

	pthread_mutex_lock(&passwords.lock);
	known = dsn ? known_password(dsn, NULL) : NULL;
	password = known ? pg_strdup(known) : NULL;
	pthread_mutex_unlock(&passwords.lock);
	return password;
}

/* Keeps password for server and dsn; caller holds the lock. */
static void
remember_password(const char *server, const char *dsn, const char *password)
{
	KnownPassword *k = NULL;

	for (int i = 0; i < passwords.count && k == NULL; i++)
		if (strcmp(passwords.known[i].server, server) == 0)
			k = &passwords.known[i];
	if (k == NULL && passwords.count == MAX_KNOWN_PASSWORDS)
		return;
	if (k == NULL)
	{
		k = &passwords.known[passwords.count++];
		k->server = pg_strdup(server);
		k->password = pg_strdup(password);
	}
	for (int j = 0; j < k->dsns.count; j++)
		if (strcmp(k->dsns.items[j], dsn) == 0)
			return;
	strlist_add(&k->dsns, dsn);
}

/*
 * Asks for a password on /dev/tty with echo off, as psql does; NULL when
 * there is no terminal, on ^C/^D/SIGINT, or for an empty line.  ^C is read
 * as a character (ISIG off) so the terminal gets its echo back first, then
 * raised as SIGINT: it acts as it would have.
 */
static char *
ask_password(const char *prompt)
{
	int			fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	struct termios saved,
				quiet;
	char		line[1024];
	size_t		len = 0;
	bool		done = false,
				interrupted = false;
	char	   *password = NULL;

	if (fd < 0)
		return NULL;
	if (tcgetattr(fd, &saved) != 0)
	{
		close(fd);
		return NULL;
	}
	quiet = saved;
	quiet.c_lflag &= ~(ECHO | ICANON | ISIG);
	quiet.c_cc[VMIN] = 1;
	quiet.c_cc[VTIME] = 0;
	(void) tcsetattr(fd, TCSAFLUSH, &quiet);
	(void) !write(fd, prompt, strlen(prompt));
	while (!done && !interrupted && signals_interrupts() == 0)
	{
		struct pollfd pfd = {fd, POLLIN, 0};
		char		c;
		int			ready = poll(&pfd, 1, 200);

		if (ready < 0 && errno != EINTR)
			break;
		if (ready <= 0)
			continue;
		if (read(fd, &c, 1) != 1 || (c == 4 && len == 0))
			break;				/* end of input, ^D */
		if (c == '\n' || c == '\r')
			done = true;
		else if (c == 3)
			interrupted = true;	/* ^C */
		else if (c == 127 || c == 8)
			len -= len > 0;		/* backspace */
		else if (c == 21)
			len = 0;			/* ^U */
		else if (len < sizeof(line) - 1)
			line[len++] = c;
	}
	(void) tcsetattr(fd, TCSAFLUSH, &saved);
	(void) !write(fd, "\n", 1);
	close(fd);
	if (done && len > 0)
	{
		password = pg_malloc0(len + 1);
		memcpy(password, line, len);
	}
	explicit_bzero(line, sizeof(line));
	if (interrupted)
		raise(SIGINT);
	return password;
}

static PGconn *
connect_as(const char *dsn, ConnKind kind, const char *password)
{
	const char *keys[8];
	const char *vals[8];
	int			n = 0;

	keys[n] = "dbname";
	vals[n++] = dsn ? dsn : "";
	keys[n] = "fallback_application_name";
	vals[n++] = "pgcutover";
	if (kind == CONN_MAINTENANCE)
	{
		/* a later keyword overrides what the expanded DSN said */
		keys[n] = "dbname";
		vals[n++] = "postgres";
	}
	if (kind == CONN_REPLICATION)
	{
		keys[n] = "replication";
		vals[n++] = "database";
		/* output functions run in the walsender: make their text exact */
		keys[n] = "options";
		vals[n++] = "-c datestyle=ISO -c intervalstyle=postgres -c extra_float_digits=3 -c TimeZone=UTC";
	}
	if (password)
	{
		keys[n] = "password";
		vals[n++] = password;
	}
	keys[n] = NULL;
	vals[n] = NULL;
	return PQconnectdbParams(keys, vals, 1);
}

/*
 * Connects with a password typed earlier for this DSN; when the server asks
 * for one nothing gave, with one typed earlier for the same server and
 * role, or asks for it on the terminal when stdin is one.
 */
static PGconn *
connect_asking(const char *dsn, const char *who, ConnKind kind)
{
	PGconn	   *conn;
	char	   *server;
	char	   *known = db_known_password(dsn);
	const char *password;

	/* connections run in parallel; only asking is one at a time */
	conn = connect_as(dsn, kind, known);
	if (known)
	{
		explicit_bzero(known, strlen(known));
		free(known);
	}
	if (conn == NULL || PQstatus(conn) == CONNECTION_OK || !PQconnectionNeedsPassword(conn))
		return conn;
	server = psprintf("%s@%s:%s", PQuser(conn), PQhost(conn), PQport(conn));
	pthread_mutex_lock(&passwords.lock);
	password = known_password(NULL, server);
	if (password == NULL && !passwords.never_ask && isatty(STDIN_FILENO))
	{
		char	   *prompt = psprintf("Password for %s on %s:%s (%s): ", PQuser(conn), PQhost(conn),
									  PQport(conn), who);
		char	   *typed = ask_password(prompt);

		free(prompt);
		if (typed)
		{
			PGconn	   *retry;

			log_add_secret(typed);
			retry = connect_as(dsn, kind, typed);
			PQfinish(conn);
			conn = retry;
			if (PQstatus(conn) == CONNECTION_OK)
				remember_password(server, dsn ? dsn : "", typed);
			explicit_bzero(typed, strlen(typed));
			free(typed);
		}
	}
	else if (password)
	{
		PGconn	   *retry = connect_as(dsn, kind, password);

		PQfinish(conn);
		conn = retry;
		if (PQstatus(conn) == CONNECTION_OK)
			remember_password(server, dsn ? dsn : "", password);
	}
	pthread_mutex_unlock(&passwords.lock);
	free(server);
	return conn;
}

PGconn *
db_connect(const char *dsn, const char *who, ConnKind kind, char **errmsg)
{
	PGconn	   *conn;

	*errmsg = NULL;
	conn = connect_asking(dsn, who, kind);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
	{
		char	   *desc = dsn_describe(dsn ? dsn : "");
		char	   *err = conn ? one_line(PQerrorMessage(conn)) : pg_strdup("out of memory");
		char	   *fix = connect_fix(err, who);
		char	   *line = psprintf("cannot connect to %s (%s): %s; fix: %s",
									who, desc, err, fix);

		*errmsg = log_redact(line);
		free(line);
		free(fix);
		free(err);
		free(desc);
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeProcessor(conn, notice_to_log, (void *) (strcmp(who, "source") == 0 ? "source" : "target"));
	if (kind != CONN_REPLICATION)
	{
		PGresult   *res = NULL;

		/*
		 * A statement_timeout or idle_in_transaction_session_timeout set on
		 * the database or role (ALTER DATABASE ... SET) would cancel our
		 * catalog reads, state updates, status and verify queries, or end a
		 * session between statements.  Turned off first, on its own: with a
		 * 1 ms timeout even a SET can be cancelled, so it is tried again.
		 */
		for (int attempt = 0; attempt < 3; attempt++)
		{
			bool		ok;

			res = PQexec(conn, "SET statement_timeout = 0");
			ok = PQresultStatus(res) == PGRES_COMMAND_OK;
			PQclear(res);
			if (ok || PQstatus(conn) != CONNECTION_OK)
				break;
		}
		/* predictable output regardless of the role's settings */
		res = PQexec(conn,
					 "SET idle_in_transaction_session_timeout = 0; "
					 "SET datestyle = ISO; SET intervalstyle = postgres; "
					 "SET extra_float_digits = 3; SET client_encoding = 'UTF8'; "
					 "SET bytea_output = hex; SET TimeZone = 'UTC'; SET search_path = pg_catalog; "
					 /* our own sessions must work on a fenced source */
					 "SET default_transaction_read_only = off");

		PQclear(res);
	}
	return conn;
}

bool
db_connect_both(const Options *opts, PGconn **src, PGconn **tgt)
{
	char	   *err = NULL;

	*tgt = NULL;
	if ((*src = db_connect(opts->source, "source", CONN_NORMAL, &err)) == NULL ||
		(*tgt = db_connect(opts->target, "target", CONN_NORMAL, &err)) == NULL)
	{
		log_error("%s", err);
		free(err);
		PQfinish(*src);
		*src = NULL;
		return false;
	}
	return true;
}

static PGresult *
check_result(PGconn *conn, PGresult *res, const char *sql)
{
	ExecStatusType st = PQresultStatus(res);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_OUT ||
		st == PGRES_COPY_IN)
		return res;
	{
		char	   *err = db_error(conn);
		char	   *sqlline = one_line(sql);

		if (strlen(sqlline) > 200)
			strcpy(sqlline + 197, "...");
		log_error("%s [while running: %s]", err, sqlline);
		free(sqlline);
		free(err);
	}
	PQclear(res);
	return NULL;
}

PGresult *
db_query(PGconn *conn, const char *sql)
{
	return check_result(conn, PQexec(conn, sql), sql);
}

PGresult *
db_query_params(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	return check_result(conn, PQexecParams(conn, sql, nparams, NULL, params,
										   NULL, NULL, 0), sql);
}

bool
db_exec(PGconn *conn, const char *sql)
{
	PGresult   *res = db_query(conn, sql);

	PQclear(res);
	return res != NULL;
}

bool
db_exec_params(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	PGresult   *res = db_query_params(conn, sql, nparams, params);

	PQclear(res);
	return res != NULL;
}

char *
db_scalar(PGconn *conn, const char *sql)
{
	PGresult   *res = db_query(conn, sql);
	char	   *val = NULL;

	if (res && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		val = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return val;
}

char *
db_quote_ident(PGconn *conn, const char *ident)
{
	char	   *q = PQescapeIdentifier(conn, ident, strlen(ident));
	char	   *r = pg_strdup(q);

	PQfreemem(q);
	return r;
}

char *
db_quote_literal(PGconn *conn, const char *lit)
{
	char	   *q = PQescapeLiteral(conn, lit, strlen(lit));
	char	   *r = pg_strdup(q);

	PQfreemem(q);
	return r;
}

int
db_major_version(PGconn *conn)
{
	return PQserverVersion(conn) / 10000;
}

const char *
db_server_encoding(PGconn *conn)
{
	const char *enc = PQparameterStatus(conn, "server_encoding");

	return enc ? enc : "SQL_ASCII";
}

bool
db_set_client_encoding(PGconn *conn, const char *encoding, const char *who, char **errmsg)
{
	char	   *e;

	*errmsg = NULL;
	if (PQsetClientEncoding(conn, encoding) == 0)
		return true;
	e = db_error(conn);
	*errmsg = psprintf("cannot set client_encoding to %s on the %s: %s; fix: check that the %s server can convert %s",
					   encoding, who, e, who, encoding);
	free(e);
	return false;
}

char *
db_text_array(const StrList *list)
{
	size_t		len = 3;
	char	   *out;
	char	   *o;

	for (int i = 0; i < list->count; i++)
		len += strlen(list->items[i]) * 2 + 3;
	out = o = pg_malloc0(len);
	*o++ = '{';
	for (int i = 0; i < list->count; i++)
	{
		if (i > 0)
			*o++ = ',';
		*o++ = '"';
		for (const char *p = list->items[i]; *p; p++)
		{
			if (*p == '"' || *p == '\\')
				*o++ = '\\';
			*o++ = *p;
		}
		*o++ = '"';
	}
	*o++ = '}';
	return out;
}
