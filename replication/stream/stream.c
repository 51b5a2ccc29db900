/*
 * stream.c
 *	  Logical replication streaming protocol over libpq, after
 *	  pg_recvlogical.c: CopyBoth mode, 'w' XLogData and 'k' keepalive from
 *	  the server, 'r' standby status updates from us.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "log.h"
#include "pgconn.h"
#include "alloc.h"
#include "stream.h"

/* microseconds between the Unix epoch and 2000-01-01, PostgreSQL's epoch */
#define PG_EPOCH_OFFSET_US INT64_C(946684800000000)

struct Stream
{
	PGconn	   *conn;
	Lsn			server_wal_end;
	bool		reply_requested;
	char	   *error;
};

static uint64_t
read_u64(const char *p)
{
	uint64_t	v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | (unsigned char) p[i];
	return v;
}

static void
write_u64(char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--)
	{
		p[i] = (char) (v & 0xff);
		v >>= 8;
	}
}

static int64_t
pg_now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t) tv.tv_sec * 1000000 + tv.tv_usec - PG_EPOCH_OFFSET_US;
}

static void
set_error(Stream *s, const char *what)
{
	char	   *e = db_error(s->conn);

	free(s->error);
	s->error = psprintf("%s: %s", what, e);
	free(e);
}

/*
 * A plugin option's value as a literal of the replication grammar: single
 * quotes doubled, backslashes kept as they are (no E'' there), malloc'd.
 */
static char *
quote_option(const char *value)
{
	char	   *out = pg_malloc0(2 * strlen(value) + 3);
	char	   *o = out;

	*o++ = '\'';
	for (const char *c = value; *c; c++)
	{
		if (*c == '\'')
			*o++ = '\'';
		*o++ = *c;
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

Stream *
stream_start(const char *dsn, const char *slot, Lsn startpos,
			 const char *const *plugin_options, char **errmsg)
{
	Stream	   *s = pg_malloc0(sizeof(Stream));
	char		lsn[LSN_FORMAT_LEN];
	char	   *sql;
	char	   *opts = pg_strdup("");
	PGresult   *res;

	s->conn = db_connect(dsn, "source", CONN_REPLICATION, errmsg);
	if (s->conn == NULL)
	{
		free(s);
		free(opts);
		return NULL;
	}
	/*
	 * wal2json prints reg* values (regclass, regtype, ...) with the
	 * walsender's search_path: pg_catalog alone makes every other object's
	 * name schema-qualified, which the apply session resolves as it is.
	 */
	res = PQexec(s->conn, "SET search_path = pg_catalog");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		char	   *e = db_error(s->conn);

		*errmsg = psprintf("cannot set search_path on the replication connection: %s", e);
		free(e);
		PQclear(res);
		PQfinish(s->conn);
		free(s);
		free(opts);
		return NULL;
	}
	PQclear(res);
	for (int i = 0; plugin_options && plugin_options[i]; i += 2)
	{
		char	   *value = quote_option(plugin_options[i + 1]);
		char	   *o = psprintf("%s%s\"%s\" %s", opts, i ? ", " : "", plugin_options[i], value);

		free(value);
		free(opts);
		opts = o;
	}
	sql = psprintf("START_REPLICATION SLOT \"%s\" LOGICAL %s (%s)", slot,
				   lsn_format(startpos, lsn), opts);
	free(opts);
	res = PQexec(s->conn, sql);
	free(sql);
	if (PQresultStatus(res) != PGRES_COPY_BOTH)
	{
		char	   *e = db_error(s->conn);

		if (strstr(e, "is active for PID"))
			*errmsg = psprintf("slot %s is in use by another process (%s); fix: stop the other follower first", slot, e);
		else if (strstr(e, "does not exist"))
			*errmsg = psprintf("slot %s does not exist on the source (%s); fix: run 'pgcutover copy' first, or re-copy after 'pgcutover cleanup' if it was dropped", slot, e);
		else if (strstr(e, "can no longer be") || strstr(e, "invalidated"))
			*errmsg = psprintf("slot %s was invalidated (%s); the WAL it needed is gone, fix: 'pgcutover cleanup' and re-copy", slot, e);
		else
			*errmsg = psprintf("cannot start streaming from slot %s: %s", slot, e);
		free(e);
		PQclear(res);
		PQfinish(s->conn);
		free(s);
		return NULL;
	}
	PQclear(res);
	PQsetnonblocking(s->conn, 1);
	return s;
}

int
stream_socket(const Stream *s)
{
	return PQsocket(s->conn);
}

Lsn
stream_server_wal_end(const Stream *s)
{
	return s->server_wal_end;
}

bool
stream_reply_requested(Stream *s)
{
	bool		r = s->reply_requested;

	s->reply_requested = false;
	return r;
}

/* Handles one CopyData message; false when fn asked to stop. */
static bool
handle_message(Stream *s, const char *buf, int len, StreamDataFn fn, void *arg, bool *bad)
{
	*bad = false;
	if (buf[0] == 'k' && len >= 18)
	{
		Lsn			end = read_u64(buf + 1);

		if (end > s->server_wal_end)
			s->server_wal_end = end;
		if (buf[17])
			s->reply_requested = true;
		return true;
	}
	if (buf[0] == 'w' && len >= 25)
	{
		Lsn			start = read_u64(buf + 1);
		Lsn			end = read_u64(buf + 9);

		if (end > s->server_wal_end)
			s->server_wal_end = end;
		return fn(arg, start, buf + 25, (size_t) len - 25);
	}
	*bad = true;
	free(s->error);
	s->error = psprintf("unexpected replication message type '%c' (%d bytes)", buf[0], len);
	return false;
}

StreamStatus
stream_read(Stream *s, StreamDataFn fn, void *arg)
{
	if (!PQconsumeInput(s->conn))
	{
		set_error(s, "replication connection lost");
		return STREAM_ERROR;
	}
	for (;;)
	{
		char	   *buf = NULL;
		int			len = PQgetCopyData(s->conn, &buf, 1);
		bool		bad;
		bool		more;

		if (len == 0)
			return STREAM_DRAINED;
		if (len == -1)
		{
			PGresult   *res = PQgetResult(s->conn);
			bool		ok = PQresultStatus(res) == PGRES_COMMAND_OK;

			if (!ok)
				set_error(s, "replication stream ended");
			PQclear(res);
			return ok ? STREAM_END : STREAM_ERROR;
		}
		if (len < 0)
		{
			set_error(s, "replication stream failed");
			return STREAM_ERROR;
		}
		more = handle_message(s, buf, len, fn, arg, &bad);
		PQfreemem(buf);
		if (bad)
			return STREAM_ERROR;
		if (!more)
			return STREAM_STOPPED;
	}
}

bool
stream_input_pending(const Stream *s)
{
	struct pollfd p = {.fd = PQsocket(s->conn), .events = POLLIN};

	return poll(&p, 1, 0) > 0;
}

bool
stream_send_feedback(Stream *s, Lsn flushed, bool request_reply)
{
	char		msg[1 + 8 + 8 + 8 + 8 + 1];

	msg[0] = 'r';
	write_u64(msg + 1, flushed);	/* written */
	write_u64(msg + 9, flushed);	/* flushed */
	write_u64(msg + 17, flushed);	/* applied */
	write_u64(msg + 25, (uint64_t) pg_now_us());
	msg[33] = request_reply ? 1 : 0;
	if (PQputCopyData(s->conn, msg, sizeof(msg)) <= 0 || PQflush(s->conn) < 0)
	{
		set_error(s, "cannot send feedback");
		return false;
	}
	return true;
}

char *
stream_error(const Stream *s)
{
	return pg_strdup(s->error ? s->error : "unknown replication error");
}

void
stream_close(Stream *s)
{
	if (s == NULL)
		return;
	if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
	{
		PQputCopyEnd(s->conn, NULL);
		PQflush(s->conn);
	}
	PQfinish(s->conn);
	free(s->error);
	free(s);
}
