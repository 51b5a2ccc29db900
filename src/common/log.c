/*
 * log.c
 *	  The logger.  Its settings are process-wide by nature (like stderr
 *	  itself), are written once at start-up before any thread exists, and
 *	  only read afterwards; output is serialised with a mutex so that copy
 *	  workers never interleave lines.  The one thing it writes later, under
 *	  that mutex, is the last error logged: the message of the failure
 *	  document a --json command prints when it has none of its own.
 *
 *	  A --log-json line (docs/json.md) is one compact object: ts, level,
 *	  msg, and when known fix (the "; fix: ..." of the message, split off),
 *	  slot (the context the CLI sets once), check (a finding of `check`),
 *	  exit_code (the last line of a process exiting non-zero).  Every
 *	  string in it went through the redactor.
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
#include "units.h"

static struct
{
	LogLevel	min_level;
	bool		json_lines;
	int			nsecrets;		/* secrets: under secrets_lock (a password
								 * typed at a prompt arrives from any thread) */
	char	  **secrets;
	char	   *slot;			/* the slot the process works on, or NULL */
	char	   *last_error;		/* redacted, under lock */
	pthread_mutex_t lock;
	pthread_mutex_t secrets_lock;
}			logger = {LOG_INFO, false, 0, NULL, NULL, NULL, PTHREAD_MUTEX_INITIALIZER,
PTHREAD_MUTEX_INITIALIZER};

#define FIX_SEPARATOR "; fix: "

static const char *level_names[] = {"debug", "info", "warning", "error"};

void
log_init(LogLevel min_level, bool json_lines)
{
	logger.min_level = min_level;
	logger.json_lines = json_lines;
}

void
log_set_slot(const char *slot)
{
	free(logger.slot);
	logger.slot = slot ? pg_strdup(slot) : NULL;
}

LogLevel
log_level(void)
{
	return logger.min_level;
}

void
log_add_secret(const char *secret)
{
	bool		known = false;

	if (secret == NULL || secret[0] == '\0')
		return;
	pthread_mutex_lock(&logger.secrets_lock);
	for (int i = 0; i < logger.nsecrets && !known; i++)
		known = strcmp(logger.secrets[i], secret) == 0;
	if (!known)
	{
		logger.secrets = pg_realloc(logger.secrets, sizeof(char *) * (logger.nsecrets + 1));
		logger.secrets[logger.nsecrets++] = pg_strdup(secret);
	}
	pthread_mutex_unlock(&logger.secrets_lock);
}

/*
 * Replaces every occurrence of needle in *text with "***", searching on
 * after each replacement (a secret may be part of "***").
 */
static void
mask_all(char **text, const char *needle)
{
	size_t		nlen = strlen(needle);
	size_t		from = 0;
	char	   *hit;

	while ((hit = strstr(*text + from, needle)) != NULL)
	{
		size_t		at = (size_t) (hit - *text);
		char	   *masked = psprintf("%.*s***%s", (int) at, *text, hit + nlen);

		free(*text);
		*text = masked;
		from = at + 3;
	}
}

char *
log_redact(const char *text)
{
	char	   *out = dsn_redact(text);

	pthread_mutex_lock(&logger.secrets_lock);
	for (int i = 0; i < logger.nsecrets; i++)
		mask_all(&out, logger.secrets[i]);
	pthread_mutex_unlock(&logger.secrets_lock);
	return out;
}

/* The current time as RFC 3339 UTC with milliseconds. */
static void
timestamp_now(char *stamp, size_t size)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	format_rfc3339((double) tv.tv_sec + tv.tv_usec / 1e6, stamp, size);
}

/* Adds key: redacted text to a JSON line, unless text is NULL. */
static void
set_redacted(json_t *line, const char *key, const char *text)
{
	char	   *clean;

	if (text == NULL)
		return;
	clean = log_redact(text);
	json_object_set_new(line, key, json_string(clean));
	free(clean);
}

/* The JSON line of a message: ts, level, msg, fix and the known context. */
static char *
json_line(const char *stamp, LogLevel level, const char *msg, const char *check, int exit_code)
{
	const char *fix = strstr(msg, FIX_SEPARATOR);
	char	   *text = fix ? psprintf("%.*s", (int) (fix - msg), msg) : pg_strdup(msg);
	json_t	   *line = json_pack("{s:s, s:s, s:s}", "ts", stamp, "level", level_names[level], "msg", text);
	char	   *s;

	set_redacted(line, "fix", fix ? fix + strlen(FIX_SEPARATOR) : NULL);
	set_redacted(line, "slot", logger.slot);
	set_redacted(line, "check", check);
	if (exit_code != 0)
		json_object_set_new(line, "exit_code", json_integer(exit_code));
	s = json_dumps(line, JSON_COMPACT);
	json_decref(line);
	free(text);
	return s;
}

/* Prints one redacted message; check and exit_code go to JSON lines only. */
static void
emit(LogLevel level, const char *check, int exit_code, const char *raw)
{
	char	   *msg;
	char		stamp[64];
	size_t		len = strlen(raw);
	char	   *trimmed = pg_strdup(raw);

	/* one line per message: drop trailing newlines from libpq errors */
	while (len > 0 && (trimmed[len - 1] == '\n' || trimmed[len - 1] == '\r'))
		trimmed[--len] = '\0';
	msg = log_redact(trimmed);
	free(trimmed);
	timestamp_now(stamp, sizeof(stamp));

	pthread_mutex_lock(&logger.lock);
	if (level == LOG_ERROR)
	{
		free(logger.last_error);
		logger.last_error = pg_strdup(msg);
	}
	if (logger.json_lines)
	{
		char	   *s = json_line(stamp, level, msg, check, exit_code);

		fprintf(stderr, "%s\n", s);
		free(s);
	}
	else
		fprintf(stderr, "%s %s: %s\n", stamp, level_names[level], msg);
	fflush(stderr);
	pthread_mutex_unlock(&logger.lock);
	free(msg);
}

static void vemit(LogLevel level, const char *check, const char *fmt, va_list ap)
			__attribute__((format(printf, 3, 0)));

/* Formats and prints one message; check goes to JSON lines only. */
static void
vemit(LogLevel level, const char *check, const char *fmt, va_list ap)
{
	char	   *raw;

	if (level < logger.min_level)
		return;
	if (vasprintf(&raw, fmt, ap) < 0)
		return;
	emit(level, check, 0, raw);
	free(raw);
}

void
log_msg(LogLevel level, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vemit(level, NULL, fmt, ap);
	va_end(ap);
}

void
log_check(LogLevel level, const char *check, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vemit(level, check, fmt, ap);
	va_end(ap);
}

void
log_exit(const char *command, int exit_code)
{
	char	   *raw;

	if (exit_code == 0 || !logger.json_lines)
		return;
	raw = psprintf("pgcutover %s exits with code %d", command ? command : "", exit_code);
	emit(LOG_ERROR, NULL, exit_code, raw);
	free(raw);
}

char *
log_last_error(void)
{
	char	   *copy;

	pthread_mutex_lock(&logger.lock);
	copy = logger.last_error ? pg_strdup(logger.last_error) : NULL;
	pthread_mutex_unlock(&logger.lock);
	return copy;
}
