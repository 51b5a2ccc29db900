/*
 * metrics.c
 *	  Prometheus text format over libmicrohttpd, and the board of follower
 *	  snapshots it renders (shared memory, robust locks: see metrics.h).
 *	  The HTTP thread never touches a follow loop's state: it copies each
 *	  entry under its lock and renders the copies.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "metrics.h"
#include "alloc.h"
#include "strbuf.h"

/* One entry of the board: its lock (robust, shared across processes), labels, snapshot. */
typedef struct BoardEntry
{
	pthread_mutex_t lock;
	MetricsLabels labels;
	MetricsSnapshot snap;
} BoardEntry;

struct MetricsBoard
{
	size_t		size;			/* of the mapping */
	int			count;
	BoardEntry	entries[];
};

struct MetricsServer
{
	struct MHD_Daemon *daemon;
	MetricsBoard *board;
};

static const char *const phase_names[METRICS_PHASES] = {
	"starting", "following", "reconnecting", "stopping", "stopped"
};

/* A label value with \, " and newline escaped, as the text format wants. */
static void
label_value(StrBuf *b, const char *v)
{
	for (; *v; v++)
	{
		if (*v == '\\' || *v == '"')
			strbuf_printf(b, "\\%c", *v);
		else if (*v == '\n')
			strbuf_printf(b, "\\n");
		else
			strbuf_printf(b, "%c", *v);
	}
}

static void
family(StrBuf *b, const char *name, const char *type, const char *help)
{
	strbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{slot="...",database="..."[,extra="value"]} value */
static void
sample(StrBuf *b, const char *name, const MetricsLabels *l, const char *extra, const char *extra_value,
	   double value)
{
	strbuf_printf(b, "%s{slot=\"", name);
	label_value(b, l->slot);
	strbuf_printf(b, "\",database=\"");
	label_value(b, l->database);
	if (extra)
	{
		strbuf_printf(b, "\",%s=\"", extra);
		label_value(b, extra_value);
	}
	strbuf_printf(b, "\"} %.17g\n", value);
}

/* The fields of the plain per-entry families: value < 0 (or unknown) is left out. */
typedef enum Field
{
	F_UP, F_LAG_BYTES, F_LAG_SECONDS, F_TXNS, F_ROWS, F_GROUPS, F_APPLIED_LSN, F_SOURCE_LSN,
	F_RETAINED, F_LAST_COMMIT, F_ERRORS, F_RECONNECTS, F_START
} Field;

static const struct
{
	Field		field;
	const char *name;
	const char *type;
	const char *help;
}			families[] = {
	{F_UP, "pgcutover_up", "gauge", "1 while follow runs and applies"},
	{F_LAG_BYTES, "pgcutover_lag_bytes", "gauge", "Source WAL position minus the durably applied position, in bytes"},
	{F_LAG_SECONDS, "pgcutover_lag_seconds", "gauge", "Seconds between the source clock now and the newest applied commit or heartbeat"},
	{F_TXNS, "pgcutover_applied_transactions_total", "counter", "Source transactions applied by this follower process"},
	{F_ROWS, "pgcutover_applied_rows_total", "counter", "Row changes applied by this follower process"},
	{F_GROUPS, "pgcutover_applied_groups_total", "counter", "Target transactions committed by this follower process"},
	{F_APPLIED_LSN, "pgcutover_applied_lsn_bytes", "gauge", "Durably applied source WAL position, as a byte offset"},
	{F_SOURCE_LSN, "pgcutover_source_lsn_bytes", "gauge", "Source current WAL position, as a byte offset"},
	{F_RETAINED, "pgcutover_slot_retained_wal_bytes", "gauge", "WAL the source keeps for the slot"},
	{F_LAST_COMMIT, "pgcutover_last_applied_commit_timestamp_seconds", "gauge", "Source commit time of the newest applied transaction, Unix time"},
	{F_ERRORS, "pgcutover_errors_total", "counter", "Failures of this follower process: lost connections, failed reconnection attempts, apply and state-write errors"},
	{F_RECONNECTS, "pgcutover_reconnects_total", "counter", "Reconnections this follower process scheduled after a failure"},
	{F_START, "pgcutover_start_time_seconds", "gauge", "Unix time the follower process started"},
};

/* The field of s, or < 0 when unknown. */
static double
field_value(const MetricsSnapshot *s, Field f)
{
	switch (f)
	{
		case F_UP: return s->up ? 1 : 0;
		case F_LAG_BYTES: return s->phase == METRICS_STARTING ? -1 : (double) s->lag_bytes;
		case F_LAG_SECONDS: return s->phase == METRICS_STARTING ? -1 : s->lag_seconds;
		case F_TXNS: return (double) s->transactions;
		case F_ROWS: return (double) s->rows;
		case F_GROUPS: return (double) s->groups;
		case F_APPLIED_LSN: return s->applied_lsn != INVALID_LSN ? (double) s->applied_lsn : -1;
		case F_SOURCE_LSN: return s->source_lsn != INVALID_LSN ? (double) s->source_lsn : -1;
		case F_RETAINED: return s->phase == METRICS_STARTING ? -1 : (double) s->slot_retained_wal_bytes;
		case F_LAST_COMMIT: return s->last_commit_time > 0 ? s->last_commit_time : -1;
		case F_ERRORS: return (double) s->errors;
		case F_RECONNECTS: return (double) s->reconnects;
		case F_START: return s->start_time > 0 ? s->start_time : -1;
	}
	return -1;
}

char *
metrics_render(const MetricsSnapshot *snaps, const MetricsLabels *labels, int n)
{
	StrBuf		b;

	strbuf_init(&b);
	family(&b, "pgcutover_build_info", "gauge", "The pgcutover version serving these metrics; always 1");
	for (int i = 0; i < n; i++)
		sample(&b, "pgcutover_build_info", &labels[i], "version", PGCUTOVER_VERSION, 1);
	for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++)
	{
		bool		any = false;

		for (int i = 0; i < n && !any; i++)
			any = field_value(&snaps[i], families[f].field) >= 0;
		if (!any)
			continue;			/* unknown everywhere: no series, not 0 */
		family(&b, families[f].name, families[f].type, families[f].help);
		for (int i = 0; i < n; i++)
		{
			double		v = field_value(&snaps[i], families[f].field);

			if (v >= 0)
				sample(&b, families[f].name, &labels[i], NULL, NULL, v);
		}
	}
	family(&b, "pgcutover_phase", "gauge", "What the follower does: 1 for its phase, 0 for the others");
	for (int i = 0; i < n; i++)
		for (int p = 0; p < METRICS_PHASES; p++)
			sample(&b, "pgcutover_phase", &labels[i], "phase", phase_names[p], snaps[i].phase == (MetricsPhase) p);
	return b.data;
}

/* Locks a board entry; a holder that died leaves it consistent (we only copy structs under it). */
static void
entry_lock(BoardEntry *e)
{
	if (pthread_mutex_lock(&e->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&e->lock);
}

MetricsBoard *
metrics_board_create(int entries)
{
	size_t		size = sizeof(MetricsBoard) + sizeof(BoardEntry) * (size_t) entries;
	MetricsBoard *board = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_mutexattr_t attr;

	if (board == MAP_FAILED)
	{
		fprintf(stderr, "pgcutover: out of memory (mmap of %zu bytes for metrics)\n", size);
		abort();
	}
	memset(board, 0, size);
	board->size = size;
	board->count = entries;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	for (int i = 0; i < entries; i++)
	{
		pthread_mutex_init(&board->entries[i].lock, &attr);
		board->entries[i].snap.lag_seconds = -1;
	}
	pthread_mutexattr_destroy(&attr);
	return board;
}

void
metrics_board_set_labels(MetricsBoard *board, int entry, const char *slot, const char *database)
{
	BoardEntry *e;

	if (board == NULL || entry < 0 || entry >= board->count)
		return;
	e = &board->entries[entry];
	entry_lock(e);
	snprintf(e->labels.slot, sizeof(e->labels.slot), "%s", slot ? slot : "");
	snprintf(e->labels.database, sizeof(e->labels.database), "%s", database ? database : "");
	pthread_mutex_unlock(&e->lock);
}

void
metrics_board_update(MetricsBoard *board, int entry, const MetricsSnapshot *snap)
{
	BoardEntry *e;

	if (board == NULL || entry < 0 || entry >= board->count)
		return;
	e = &board->entries[entry];
	entry_lock(e);
	e->snap = *snap;
	pthread_mutex_unlock(&e->lock);
}

void
metrics_board_set_phase(MetricsBoard *board, int entry, MetricsPhase phase)
{
	BoardEntry *e;

	if (board == NULL || entry < 0 || entry >= board->count)
		return;
	e = &board->entries[entry];
	entry_lock(e);
	e->snap.phase = phase;
	e->snap.up = phase == METRICS_FOLLOWING;
	pthread_mutex_unlock(&e->lock);
}

void
metrics_board_destroy(MetricsBoard *board)
{
	if (board == NULL)
		return;
	for (int i = 0; i < board->count; i++)
		pthread_mutex_destroy(&board->entries[i].lock);
	munmap(board, board->size);
}

char *
metrics_board_render(MetricsBoard *board)
{
	MetricsSnapshot *snaps = pg_malloc0(sizeof(MetricsSnapshot) * (size_t) board->count);
	MetricsLabels *labels = pg_malloc0(sizeof(MetricsLabels) * (size_t) board->count);
	char	   *body;

	for (int i = 0; i < board->count; i++)
	{
		BoardEntry *e = &board->entries[i];

		entry_lock(e);
		snaps[i] = e->snap;
		labels[i] = e->labels;
		pthread_mutex_unlock(&e->lock);
	}
	body = metrics_render(snaps, labels, board->count);
	free(snaps);
	free(labels);
	return body;
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	   const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	MetricsServer *ms = cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char	   *body;
	unsigned	status = MHD_HTTP_OK;

	(void) version;
	(void) upload;
	(void) upload_size;
	(void) con_cls;
	if (strcmp(method, "GET") != 0 || strcmp(url, "/metrics") != 0)
	{
		status = strcmp(method, "GET") != 0 ? MHD_HTTP_METHOD_NOT_ALLOWED : MHD_HTTP_NOT_FOUND;
		body = pg_strdup(status == MHD_HTTP_NOT_FOUND ? "not found: try /metrics\n" : "GET only\n");
	}
	else
		body = metrics_board_render(ms->board);
	resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Resolves "host:port" into addr; returns false with *errmsg. */
static bool
parse_listen(const char *listen, struct sockaddr_storage *addr, socklen_t *len, char **errmsg)
{
	char		host[256];
	const char *colon = strrchr(listen, ':');
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	size_t		hlen;

	if (colon == NULL || colon[1] == '\0')
	{
		*errmsg = psprintf("invalid --metrics-listen \"%s\"; fix: give host:port, e.g. 127.0.0.1:9187", listen);
		return false;
	}
	hlen = (size_t) (colon - listen);
	if (hlen >= sizeof(host))
		hlen = sizeof(host) - 1;
	memcpy(host, listen, hlen);
	host[hlen] = '\0';
	if (host[0] == '[' && hlen > 1 && host[hlen - 1] == ']')
	{
		memmove(host, host + 1, hlen - 2);
		host[hlen - 2] = '\0';
	}
	if (getaddrinfo(host[0] ? host : "127.0.0.1", colon + 1, &hints, &res) != 0 || res == NULL)
	{
		*errmsg = psprintf("cannot resolve --metrics-listen \"%s\"; fix: give host:port, e.g. 127.0.0.1:9187", listen);
		return false;
	}
	memcpy(addr, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return true;
}

static bool
is_loopback(const struct sockaddr_storage *addr)
{
	if (addr->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *) addr)->sin_addr.s_addr) >> 24) == 127;
	if (addr->ss_family == AF_INET6)
	{
		const struct in6_addr *a = &((const struct sockaddr_in6 *) addr)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
			(IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

/* Resolves listen and refuses a public address unless allowed. */
static bool
check_listen(const char *listen, bool allow_public, struct sockaddr_storage *addr, socklen_t *len,
			 char **errmsg)
{
	*errmsg = NULL;
	if (!parse_listen(listen, addr, len, errmsg))
		return false;
	if (!is_loopback(addr) && !allow_public)
	{
		*errmsg = psprintf("--metrics-listen %s is not a loopback address: the metrics would be public; fix: use 127.0.0.1:PORT, or add --metrics-allow-public",
						   listen);
		return false;
	}
	return true;
}

bool
metrics_check_listen(const char *listen, bool allow_public, char **errmsg)
{
	struct sockaddr_storage addr;
	socklen_t	len;
	int			sock;
	int			one = 1;
	bool		ok;

	if (!check_listen(listen, allow_public, &addr, &len, errmsg))
		return false;
	/* a port in use fails now, not after hours of copy (migrate) */
	if ((sock = socket(addr.ss_family, SOCK_STREAM, 0)) < 0)
		return true;			/* cannot tell: metrics_start will say */
	(void) setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ok = bind(sock, (struct sockaddr *) &addr, len) == 0 || errno != EADDRINUSE;
	close(sock);
	if (!ok)
		*errmsg = psprintf("cannot listen on %s for metrics: the port is in use; fix: choose another --metrics-listen port, or stop what listens there",
						   listen);
	return ok;
}

MetricsServer *
metrics_start(const char *listen, bool allow_public, MetricsBoard *board, char **errmsg)
{
	struct sockaddr_storage addr;
	socklen_t	len;
	MetricsServer *ms;
	unsigned	flags = MHD_USE_INTERNAL_POLLING_THREAD;

	if (!check_listen(listen, allow_public, &addr, &len, errmsg))
		return NULL;
	if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	ms = pg_malloc0(sizeof(MetricsServer));
	ms->board = board;
	ms->daemon = MHD_start_daemon(flags, 0, NULL, NULL, answer, ms,
								  MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
								  MHD_OPTION_CONNECTION_LIMIT, (unsigned) 16,
								  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 10,
								  MHD_OPTION_END);
	if (ms->daemon == NULL)
	{
		*errmsg = psprintf("cannot listen on %s for metrics (port in use?); fix: choose another --metrics-listen port", listen);
		free(ms);
		return NULL;
	}
	(void) len;
	return ms;
}

void
metrics_stop(MetricsServer *ms)
{
	if (ms == NULL)
		return;
	MHD_stop_daemon(ms->daemon);
	free(ms);
}
