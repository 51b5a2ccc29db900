/*
 * snapshot.c
 *	  The snapshot keeper process and the client side of its socket.
 *
 *	  The keeper is double-forked into its own session so that a SIGKILL of
 *	  pgcutover (or of its process group) leaves it alive.  It closes every
 *	  inherited descriptor but its own, so that nothing waiting for our
 *	  stdout (a pipe, a test runner) waits for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pgconn.h"
#include "alloc.h"
#include "signals.h"
#include "slot_wait.h"
#include "snapshot.h"
#include "strbuf.h"
#include "units.h"

#define MAX_CLIENTS 32
#define FIRST_CLIENT_GRACE 60	/* seconds the creator has to attach */
#define WAIT_FIRST_REPORT 2.0	/* seconds of waiting before the first word */
#define WAIT_REPORT_EVERY 5.0	/* and between the next ones */

typedef struct Keeper
{
	PGconn	   *repl;
	int			listen_fd;
	int			clients[MAX_CLIENTS];
	int			nclients;
	char		hello[256];
	double		hold_seconds;
	double		idle_since;		/* now_seconds() when the last client left */
	const char *socket_path;
} Keeper;

static int
keeper_listen(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int			fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	unlink(path);
	umask(077);					/* no moment in which others may connect */
	if (bind(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0 || listen(fd, 8) < 0)
	{
		close(fd);
		return -1;
	}
	chmod(path, 0600);
	return fd;
}

/*
 * Creates the slot; on success fills k->hello. Returns NULL or an error.
 * Before it asks, it tells the creator its walsender's pid ("WALSENDER
 * <pid>"), so that a creation waiting for open transactions can be
 * explained (snapshot_create).
 */
static char *
keeper_create_slot(Keeper *k, const char *dsn, const char *slot, int report_fd)
{
	char	   *err = NULL;
	char	   *sql;
	PGresult   *res;

	k->repl = db_connect(dsn, "source", CONN_REPLICATION, &err);
	if (k->repl == NULL)
		return err;
	dprintf(report_fd, "WALSENDER %d\n", PQbackendPID(k->repl));
	sql = psprintf("CREATE_REPLICATION_SLOT \"%s\" LOGICAL wal2json EXPORT_SNAPSHOT", slot);
	res = PQexec(k->repl, sql);
	free(sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		char	   *e = db_error(k->repl);

		if (strstr(e, "already exists"))
			err = psprintf("replication slot \"%s\" already exists on the source; fix: resume with the state on the target, or drop it with 'pgcutover cleanup --slot %s'", slot, slot);
		else if (strstr(e, "may not be used as an output plugin"))
			err = psprintf("%s; fix: add wal2json to output_plugin_libraries on the source and reload (see 'pgcutover check')", e);
		else
			err = psprintf("cannot create replication slot \"%s\": %s; fix: run 'pgcutover check' for the cause", slot, e);
		free(e);
		PQclear(res);
		return err;
	}
	snprintf(k->hello, sizeof(k->hello), "SNAPSHOT %s %s %d\n",
			 PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 1), (int) getpid());
	PQclear(res);
	return NULL;
}

static void
keeper_drop_client(Keeper *k, int i)
{
	close(k->clients[i]);
	k->clients[i] = k->clients[--k->nclients];
	if (k->nclients == 0)
		k->idle_since = now_seconds();
}

/* Serves clients until released, idle too long, or the source went away. */
static void
keeper_loop(Keeper *k)
{
	for (;;)
	{
		struct pollfd fds[MAX_CLIENTS + 2];
		int			n = 0;
		int			timeout_ms = -1;

		fds[n++] = (struct pollfd) {k->listen_fd, POLLIN, 0};
		fds[n++] = (struct pollfd) {PQsocket(k->repl), POLLIN, 0};
		for (int i = 0; i < k->nclients; i++)
			fds[n++] = (struct pollfd) {k->clients[i], POLLIN, 0};
		if (k->nclients == 0)
		{
			double		left = k->idle_since + k->hold_seconds - now_seconds();

			if (left <= 0)
				return;
			timeout_ms = left > 60 ? 60000 : (int) (left * 1000) + 1;
		}
		if (poll(fds, n, timeout_ms) < 0 && errno != EINTR)
			return;

		if (fds[1].revents)
		{
			/* the walsender never talks unprompted: this is the end */
			if (!PQconsumeInput(k->repl) || PQstatus(k->repl) != CONNECTION_OK)
				return;
		}
		for (int i = k->nclients - 1; i >= 0; i--)
		{
			char		buf[64];
			ssize_t		r;

			if (!fds[2 + i].revents)
				continue;
			r = read(k->clients[i], buf, sizeof(buf) - 1);
			if (r > 0 && strncmp(buf, "RELEASE", 7) == 0)
				return;
			if (r <= 0)
				keeper_drop_client(k, i);
		}
		if ((fds[0].revents & POLLIN) && k->nclients < MAX_CLIENTS)
		{
			int			c = accept4(k->listen_fd, NULL, NULL, SOCK_CLOEXEC);

			if (c >= 0)
			{
				(void) !send(c, k->hello, strlen(k->hello), MSG_NOSIGNAL);
				k->clients[k->nclients++] = c;
			}
		}
	}
}

/* Body of the detached keeper; reports start-up on report_fd. Never returns. */
static void
keeper_main(const char *dsn, const char *slot, double hold_seconds, const char *path,
			int report_fd)
{
	Keeper		k = {0};
	char	   *err;
	int			devnull = open("/dev/null", O_RDWR);

	/* detach from everything we inherited */
	for (int fd = 0; fd < 1024; fd++)
		if (fd != report_fd && fd != devnull)
			close(fd);
	dup2(devnull, 0);
	dup2(devnull, 1);
	dup2(devnull, 2);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);

	k.hold_seconds = hold_seconds;
	k.socket_path = path;
	err = keeper_create_slot(&k, dsn, slot, report_fd);
	if (err == NULL && (k.listen_fd = keeper_listen(path)) < 0)
		err = psprintf("cannot listen on %s: %s; fix: set PGCUTOVER_RUNDIR to a writable directory",
					   path, strerror(errno));
	if (err)
	{
		dprintf(report_fd, "ERR %s\n", err);
		PQfinish(k.repl);
		_exit(1);
	}
	if (dprintf(report_fd, "%s", k.hello) < 0)
	{
		/* the copy that asked for the slot died meanwhile: nobody will use it */
		char	   *sql = psprintf("DROP_REPLICATION_SLOT \"%s\"", slot);

		PQclear(PQexec(k.repl, sql));
		free(sql);
		PQfinish(k.repl);
		_exit(1);
	}
	close(report_fd);

	k.idle_since = now_seconds() - hold_seconds + (hold_seconds > FIRST_CLIENT_GRACE ? hold_seconds : FIRST_CLIENT_GRACE);
	keeper_loop(&k);
	unlink(path);
	PQfinish(k.repl);
	_exit(0);
}

/* Parses a "SNAPSHOT name lsn pid" line into lease. */
static bool
parse_hello(const char *line, SnapshotLease *lease)
{
	char		lsn[32];

	if (sscanf(line, "SNAPSHOT %127s %31s %d", lease->snapshot, lsn, &lease->keeper_pid) != 3)
		return false;
	return lsn_parse(lsn, &lease->consistent_lsn);
}

/* Reads one line (up to n-1 bytes) from fd with a timeout. */
static bool
read_line(int fd, char *buf, size_t n, int timeout_ms)
{
	size_t		len = 0;

	while (len < n - 1)
	{
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t		r;

		if (poll(&p, 1, timeout_ms) <= 0)
			return false;
		r = read(fd, buf + len, 1);
		if (r <= 0)
			return false;
		if (buf[len] == '\n')
			break;
		len++;
	}
	buf[len] = '\0';
	return len > 0;
}

bool
snapshot_attach(const char *socket_path, SnapshotLease *lease)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char		line[256];
	int			fd;

	memset(lease, 0, sizeof(*lease));
	lease->fd = -1;
	if (socket_path == NULL || strlen(socket_path) >= sizeof(addr.sun_path))
		return false;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", socket_path);
	if (connect(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0 ||
		!read_line(fd, line, sizeof(line), 10000) || !parse_hello(line, lease))
	{
		close(fd);
		return false;
	}
	lease->fd = fd;
	snprintf(lease->socket_path, sizeof(lease->socket_path), "%s", socket_path);
	return true;
}

bool
snapshot_socket_path(const char *slot, char *path, size_t len, char **errmsg)
{
	const char *dir = getenv("PGCUTOVER_RUNDIR");

	if (dir == NULL || dir[0] == '\0')
		dir = getenv("XDG_RUNTIME_DIR");
	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	if ((size_t) snprintf(path, len, "%s/pgcutover-%s-%d.sock", dir, slot, (int) getpid()) >= len)
	{
		*errmsg = psprintf("socket path in %s is too long; fix: set PGCUTOVER_RUNDIR to a short directory", dir);
		return false;
	}
	return true;
}

/*
 * A slot creation that waits for transactions open on the source
 * (slot_wait.h): the second session that reads what for, and when to say it.
 */
typedef struct SlotWait
{
	const char *dsn;
	const char *slot;
	int			walsender_pid;	/* 0 until the keeper said it */
	PGconn	   *conn;			/* the reading session, opened on first use */
	bool		conn_failed;
	double		started;
	double		next_report;
} SlotWait;

/* Says, on one line, what the slot creation waits for and how to end it. */
static void
slot_wait_report(SlotWait *w)
{
	char		waited[32];
	StrBuf		msg,
				fix;
	int			n;

	format_duration(now_seconds() - w->started, waited, sizeof(waited));
	if (w->conn == NULL && !w->conn_failed && w->walsender_pid > 0)
	{
		char	   *err = NULL;

		if ((w->conn = db_connect(w->dsn, "source", CONN_NORMAL, &err)) == NULL)
		{
			w->conn_failed = true;
			log_debug("cannot open a session to see what the slot creation waits for: %s", err);
			free(err);
		}
	}
	if (w->conn == NULL)
	{
		log_warn("creating slot %s still waits (%s so far), probably for transactions open on the source; fix: end them (see pg_stat_activity: backend_xid IS NOT NULL, and pg_prepared_xacts), or wait",
				 w->slot, waited);
		return;
	}
	strbuf_init(&msg);
	strbuf_init(&fix);
	n = slot_wait_describe(w->conn, w->walsender_pid, &msg, &fix);
	if (n > 0)
		log_warn("creating slot %s waits (%s so far) until every transaction holding an xid on the source ends, in any database: %s; fix: wait for them to end, or end them on the source: %s",
				 w->slot, waited, msg.data, fix.data);
	else
		log_warn("creating slot %s still waits (%s so far) on the source (walsender pid %d); fix: see its wait_event in pg_stat_activity, or wait",
				 w->slot, waited, w->walsender_pid);
	strbuf_free(&msg);
	strbuf_free(&fix);
}

/*
 * Reads the keeper's answer: "WALSENDER <pid>" first, then the hello or an
 * error.  While the slot creation waits, says what for (slot_wait_report)
 * every few seconds.  false when the keeper died or an interrupt came.
 */
static bool
await_keeper(int fd, SlotWait *w, char *line, size_t len)
{
	for (;;)
	{
		double		now = now_seconds();
		int			timeout_ms = (int) ((w->next_report - now) * 1000) + 1;
		struct pollfd p = {fd, POLLIN, 0};
		int			r;

		if (timeout_ms < 1)
			timeout_ms = 1;
		r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno != EINTR)
			return false;
		if (signals_interrupts() > 0)
			return false;
		if (r > 0)
		{
			if (!read_line(fd, line, len, 10000))
				return false;
			if (sscanf(line, "WALSENDER %d", &w->walsender_pid) == 1)
				continue;
			return true;
		}
		if (r == 0)
		{
			slot_wait_report(w);
			w->next_report = now_seconds() + WAIT_REPORT_EVERY;
		}
	}
}

bool
snapshot_create(const char *src_dsn, const char *slot, double hold_seconds,
				SnapshotLease *lease, double *seconds, char **errmsg)
{
	char		path[108];
	char		line[1024];
	int			report[2];
	pid_t		pid;
	SlotWait	wait = {.dsn = src_dsn, .slot = slot, .started = now_seconds()};
	bool		answered;

	*errmsg = NULL;
	*seconds = 0;
	wait.next_report = wait.started + WAIT_FIRST_REPORT;
	if (!snapshot_socket_path(slot, path, sizeof(path), errmsg))
		return false;
	if (pipe(report) < 0)
	{
		*errmsg = psprintf("pipe: %s", strerror(errno));
		return false;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0)
	{
		close(report[0]);
		setsid();
		if (fork() == 0)
			keeper_main(src_dsn, slot, hold_seconds, path, report[1]);
		_exit(0);
	}
	close(report[1]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	answered = pid > 0 && await_keeper(report[0], &wait, line, sizeof(line));
	close(report[0]);
	PQfinish(wait.conn);
	*seconds = now_seconds() - wait.started;
	if (!answered)
	{
		*errmsg = signals_interrupts() > 0
			? pg_strdup("interrupted while the slot was being created (the snapshot keeper drops it once the source lets it finish); fix: rerun copy")
			: pg_strdup("the snapshot keeper process failed to start; fix: see the source server log");
		return false;
	}
	if (strncmp(line, "ERR ", 4) == 0)
	{
		*errmsg = pg_strdup(line + 4);
		return false;
	}
	if (!snapshot_attach(path, lease))
	{
		*errmsg = psprintf("cannot reach the snapshot keeper at %s", path);
		return false;
	}
	return true;
}

void
snapshot_release(SnapshotLease *lease)
{
	if (lease->fd >= 0)
	{
		(void) !send(lease->fd, "RELEASE\n", 8, MSG_NOSIGNAL);
		close(lease->fd);
		lease->fd = -1;
	}
}
