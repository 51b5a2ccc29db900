/*
 * metrics.c
 *	  Prometheus text format over libmicrohttpd.  The HTTP thread never
 *	  touches the follow loop's state: it copies the snapshot under the lock
 *	  and renders it.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "metrics.h"
#include "alloc.h"
#include "strbuf.h"

struct MetricsServer
{
	struct MHD_Daemon *daemon;
	pthread_mutex_t lock;
	MetricsSnapshot snap;
	char	   *slot;
};

static void
metric(StrBuf *b, const char *name, const char *type, const char *help, const char *slot, double value)
{
	strbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s{slot=\"%s\"} %.17g\n", name, help, name, type, name,
				  slot, value);
}

char *
metrics_render(const MetricsSnapshot *s, const char *slot)
{
	StrBuf		b;

	strbuf_init(&b);
	metric(&b, "pgcutover_up", "gauge", "1 while follow runs and applies", slot, s->up ? 1 : 0);
	metric(&b, "pgcutover_lag_bytes", "gauge", "Source WAL position minus the durably applied position, in bytes",
		   slot, (double) s->lag_bytes);
	if (s->lag_seconds >= 0)
		metric(&b, "pgcutover_lag_seconds", "gauge",
			   "Seconds between the source clock now and the newest applied commit or heartbeat", slot, s->lag_seconds);
	metric(&b, "pgcutover_applied_transactions_total", "counter", "Source transactions applied by this process",
		   slot, (double) s->transactions);
	metric(&b, "pgcutover_applied_rows_total", "counter", "Row changes applied by this process", slot, (double) s->rows);
	metric(&b, "pgcutover_applied_groups_total", "counter", "Target transactions committed by this process",
		   slot, (double) s->groups);
	metric(&b, "pgcutover_applied_lsn_bytes", "gauge", "Durably applied source WAL position, as a byte offset",
		   slot, (double) s->applied_lsn);
	metric(&b, "pgcutover_source_lsn_bytes", "gauge", "Source current WAL position, as a byte offset",
		   slot, (double) s->source_lsn);
	metric(&b, "pgcutover_slot_retained_wal_bytes", "gauge", "WAL the source keeps for the slot",
		   slot, (double) s->slot_retained_wal_bytes);
	metric(&b, "pgcutover_start_time_seconds", "gauge", "Unix time follow started", slot, s->start_time);
	return b.data;
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	   const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	MetricsServer *ms = cls;
	MetricsSnapshot snap;
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
	{
		pthread_mutex_lock(&ms->lock);
		snap = ms->snap;
		pthread_mutex_unlock(&ms->lock);
		body = metrics_render(&snap, ms->slot);
	}
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

	return check_listen(listen, allow_public, &addr, &len, errmsg);
}

MetricsServer *
metrics_start(const char *listen, bool allow_public, const char *slot, char **errmsg)
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
	pthread_mutex_init(&ms->lock, NULL);
	ms->slot = pg_strdup(slot);
	ms->daemon = MHD_start_daemon(flags, 0, NULL, NULL, answer, ms,
								  MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
								  MHD_OPTION_CONNECTION_LIMIT, (unsigned) 16,
								  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 10,
								  MHD_OPTION_END);
	if (ms->daemon == NULL)
	{
		*errmsg = psprintf("cannot listen on %s for metrics (port in use?); fix: choose another --metrics-listen port", listen);
		free(ms->slot);
		free(ms);
		return NULL;
	}
	(void) len;
	return ms;
}

void
metrics_update(MetricsServer *ms, const MetricsSnapshot *snap)
{
	if (ms == NULL)
		return;
	pthread_mutex_lock(&ms->lock);
	ms->snap = *snap;
	pthread_mutex_unlock(&ms->lock);
}

void
metrics_stop(MetricsServer *ms)
{
	if (ms == NULL)
		return;
	MHD_stop_daemon(ms->daemon);
	pthread_mutex_destroy(&ms->lock);
	free(ms->slot);
	free(ms);
}
