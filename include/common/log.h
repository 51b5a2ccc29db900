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

/* Remember a secret (a password) that must be masked wherever it appears. */
void		log_add_secret(const char *secret);

/* Returns a malloc'd copy of text with DSN passwords and known secrets masked. */
char	   *log_redact(const char *text);

void		log_msg(LogLevel level, const char *fmt,...) __attribute__((format(printf, 2, 3)));

#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...)	log_msg(LOG_ERROR, __VA_ARGS__)

#endif
