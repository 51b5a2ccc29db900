/*
 * log.c
 *	  The logger.  Its settings are process-wide by nature (like stderr
 *	  itself), are written once at start-up before any thread exists, and
 *	  only read afterwards; output is serialised with a mutex so that copy
 *	  workers never interleave lines.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <jansson.h>

#include "dsn.h"
#include "log.h"
#include "alloc.h"

#define MAX_SECRETS 8

static struct
{
	LogLevel	min_level;
	bool		json_lines;
	int			nsecrets;
	char	   *secrets[MAX_SECRETS];
	pthread_mutex_t lock;
}			logger = {LOG_INFO, false, 0, {NULL}, PTHREAD_MUTEX_INITIALIZER};

static const char *level_names[] = {"debug", "info", "warning", "error"};

void
log_init(LogLevel min_level, bool json_lines)
{
	logger.min_level = min_level;
	logger.json_lines = json_lines;
}

LogLevel
log_level(void)
{
	return logger.min_level;
}

void
log_add_secret(const char *secret)
{
	if (secret == NULL || secret[0] == '\0' || logger.nsecrets == MAX_SECRETS)
		return;
	for (int i = 0; i < logger.nsecrets; i++)
		if (strcmp(logger.secrets[i], secret) == 0)
			return;
	logger.secrets[logger.nsecrets++] = pg_strdup(secret);
}

/* Replaces every occurrence of needle in *text with "***". */
static void
mask_all(char **text, const char *needle)
{
	size_t		nlen = strlen(needle);
	char	   *hit;

	while ((hit = strstr(*text, needle)) != NULL)
	{
		char	   *masked = psprintf("%.*s***%s", (int) (hit - *text), *text,
									  hit + nlen);

		free(*text);
		*text = masked;
	}
}

char *
log_redact(const char *text)
{
	char	   *out = dsn_redact(text);

	for (int i = 0; i < logger.nsecrets; i++)
		mask_all(&out, logger.secrets[i]);
	return out;
}

void
log_msg(LogLevel level, const char *fmt,...)
{
	va_list		ap;
	char	   *raw;
	char	   *msg;
	struct timeval tv;
	struct tm	tm;
	char		stamp[64];
	size_t		len;

	if (level < logger.min_level)
		return;

	va_start(ap, fmt);
	if (vasprintf(&raw, fmt, ap) < 0)
		raw = NULL;
	va_end(ap);
	if (raw == NULL)
		return;
	/* one line per message: drop trailing newlines from libpq errors */
	len = strlen(raw);
	while (len > 0 && (raw[len - 1] == '\n' || raw[len - 1] == '\r'))
		raw[--len] = '\0';
	msg = log_redact(raw);
	free(raw);

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	len = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + len, sizeof(stamp) - len, ".%03dZ", (int) (tv.tv_usec / 1000));

	pthread_mutex_lock(&logger.lock);
	if (logger.json_lines)
	{
		json_t	   *line = json_pack("{s:s, s:s, s:s}", "ts", stamp,
									 "level", level_names[level], "msg", msg);
		char	   *s = json_dumps(line, JSON_COMPACT);

		fprintf(stderr, "%s\n", s);
		free(s);
		json_decref(line);
	}
	else
		fprintf(stderr, "%s %s: %s\n", stamp, level_names[level], msg);
	fflush(stderr);
	pthread_mutex_unlock(&logger.lock);
	free(msg);
}
