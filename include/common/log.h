/*
 * log.h
 *	  Leveled logging to stderr, plain or JSON lines, with every line passed
 *	  through the redactor so that no password can ever be printed.
 */
#ifndef PGCUTOVER_LOG_H
#define PGCUTOVER_LOG_H

#include <stdbool.h>

typedef enum LogLevel
{
	LOG_DEBUG = 0,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR,
	LOG_NONE
} LogLevel;

void		log_init(LogLevel min_level, bool json_lines);
LogLevel	log_level(void);

/* The slot this process works on: a field of every --log-json line. */
void		log_set_slot(const char *slot);

/* Remember a secret (a password) that must be masked wherever it appears. */
void		log_add_secret(const char *secret);

/* Returns a malloc'd copy of text with DSN passwords and known secrets masked. */
char	   *log_redact(const char *text);

void		log_msg(LogLevel level, const char *fmt,...) __attribute__((format(printf, 2, 3)));

/* A finding of `check`: its check name is a field of the --log-json line. */
void		log_check(LogLevel level, const char *check, const char *fmt,...) __attribute__((format(printf, 3, 4)));

/*
 * With --log-json and a non-zero exit_code, the process's last line: an
 * error carrying exit_code.  Nothing otherwise (text logs end as they did).
 */
void		log_exit(const char *command, int exit_code);

/* The last error logged (redacted, malloc'd), or NULL if none was. */
char	   *log_last_error(void);

#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...)	log_msg(LOG_ERROR, __VA_ARGS__)

#endif
