/*
 * pgconn.h
 *	  Thin helpers over libpq: connecting with a one-line, password-free
 *	  error that names the fix (asking for a missing password on the
 *	  terminal), and running statements with errors logged.
 */
#ifndef PGCUTOVER_PGCONN_H
#define PGCUTOVER_PGCONN_H

#include <stdbool.h>
#include <libpq-fe.h>

#include "options.h"

typedef enum ConnKind
{
	CONN_NORMAL,
	CONN_REPLICATION,			/* replication=database */
	CONN_MAINTENANCE			/* a normal session on the server's "postgres"
								 * database instead of the DSN's */
} ConnKind;

/*
 * Connects; on failure returns NULL and sets *errmsg (malloc'd, one line,
 * redacted, with a fix).  'who' is "source" or "target" for messages.
 */
PGconn	   *db_connect(const char *dsn, const char *who, ConnKind kind, char **errmsg);

/*
 * Whether db_connect may ask for a password on the terminal (default yes;
 * -w/--no-password says no).  It asks only when stdin is a terminal, the
 * server wants a password and the DSN, PGPASSWORD and ~/.pgpass gave none;
 * the typed password serves every later connection of the process to the
 * same server and role.
 */
void		db_password_prompt(bool allowed);

/*
 * The password typed on the terminal that dsn connected with (malloc'd), or
 * NULL: for a child (pg_dump) that gets it through PGPASSWORD, never argv.
 */
char	   *db_known_password(const char *dsn);

/*
 * Connects to both databases of opts (normal sessions); on failure logs the
 * one-line error, leaves both NULL and returns false.
 */
bool		db_connect_both(const Options *opts, PGconn **src, PGconn **tgt);

/* Runs a statement; logs and returns NULL on error (result cleared). */
PGresult   *db_query(PGconn *conn, const char *sql);
PGresult   *db_query_params(PGconn *conn, const char *sql, int nparams,
							const char *const *params);
bool		db_exec(PGconn *conn, const char *sql);

/* Runs a statement with parameters for its side effect; false (logged) on error. */
bool		db_exec_params(PGconn *conn, const char *sql, int nparams, const char *const *params);

/* Like db_query but returns the first column of the first row, malloc'd. */
char	   *db_scalar(PGconn *conn, const char *sql);

/* Quoted identifier / literal, malloc'd with pg_strdup. */
char	   *db_quote_ident(PGconn *conn, const char *ident);
char	   *db_quote_literal(PGconn *conn, const char *lit);

/* The first line of the connection's last error, redacted, malloc'd. */
char	   *db_error(PGconn *conn);

/* A text[] literal of the list's items, malloc'd. */
char	   *db_text_array(const StrList *list);

/* Server major version (e.g. 15) */
int			db_major_version(PGconn *conn);

/* The database's encoding as the server reported it ("UTF8", "LATIN1"...). */
const char *db_server_encoding(PGconn *conn);

/*
 * Declares the encoding of the text this session sends and receives
 * (libpq's PQsetClientEncoding, so that its escaping follows); on failure
 * returns false and sets *errmsg (malloc'd, one line with the fix).
 */
bool		db_set_client_encoding(PGconn *conn, const char *encoding, const char *who,
								   char **errmsg);

#endif
