/*
 * fence.h
 *	  Stopping every write on the source for the switchover, and lifting
 *	  that.  Every statement goes through one function that can print it
 *	  instead (--dry-run).
 *
 *	  The default fence is airtight: after fence_raise returns true, no
 *	  session but the caller's own and the follower's walsender exists on
 *	  the source database (the follower's are pgcutover's own), and none can
 *	  start, so no transaction of anyone
 *	  else can commit there, whatever it asks for (BEGIN READ WRITE, SET
 *	  SESSION CHARACTERISTICS, default_transaction_read_only = off, a
 *	  superuser).  How:
 *
 *	    1. ALTER DATABASE ... ALLOW_CONNECTIONS false (from another database
 *	       of the server: PostgreSQL refuses it for the current one): no new
 *	       session, not even a superuser's, passes the check done at
 *	       connection start;
 *	       and ... SET default_transaction_read_only = on, for whoever the
 *	       database is opened to again (a rest fence, see below).
 *	    2. End every other session of the database (client backends,
 *	       walsenders but the follower's, logical replication workers) and
 *	       wait until none is left.  "Every" includes backends still
 *	       starting: such a backend holds a lock on the database object from
 *	       before it reads datallowconn until after it shows in
 *	       pg_stat_activity, so the union of both views misses nobody who
 *	       read the old datallowconn.  A session this role may not end (a
 *	       superuser's, without superuser) fails the fence: it could still
 *	       write.
 *	    3. Prepared transactions of the database fail the fence too: one
 *	       prepared before could be committed by anyone once connections are
 *	       allowed again.  fence_prepared_xacts lets the caller refuse them
 *	       before anything changes.
 *
 *	  fence_lift restores exactly what fence_read_prior saw (connection
 *	  rights, the database's own read-only setting); the fence changes no
 *	  grant.  After the switchover, fence_rest swaps the closed door for
 *	  write-refusing triggers, so the old source can be read again.
 *	  Whoever restores may no longer reach the fenced database: the lift
 *	  works from any database of the server (fence_connect_maintenance).
 */
#ifndef PGCUTOVER_FENCE_H
#define PGCUTOVER_FENCE_H

#include <stdbool.h>
#include <libpq-fe.h>

#include "outcome.h"

/* What the fence changes, as it was before; kept in the state as JSON. */
typedef struct FencePrior
{
	bool		allow_connections;	/* pg_database.datallowconn */
	char	   *read_only;		/* the database's own default_transaction_read_only, NULL: none */
	char	   *acl;			/* pg_database.datacl as text, NULL: the default */
} FencePrior;

/* Reads the prior state of the connection's database; false on SQL error. */
bool		fence_read_prior(PGconn *src, FencePrior *prior);
char	   *fence_prior_to_json(const FencePrior *prior);
bool		fence_prior_from_json(const char *json, FencePrior *prior);
void		fence_prior_free(FencePrior *prior);

/*
 * Prepared transactions of the connection's database: their count (-1 on
 * SQL error), and in *what (malloc'd) a description of the first few.
 */
int			fence_prepared_xacts(PGconn *src, char **what);

/*
 * Raises the airtight fence on src's database.  PostgreSQL refuses to close
 * the current database to connections, so that statement runs on
 * maintenance, a session on another database of the server opened
 * beforehand (fence_connect_maintenance).  keep_pids (an int[] literal)
 * are sessions to spare besides src's own: the follower's (its walsender
 * and the sessions it publishes in the state).  Waits for ended
 * sessions until deadline (now_seconds()); *terminated counts them.  On
 * failure returns OUTCOME_SQL (a statement failed) or OUTCOME_PREFLIGHT
 * (sessions this role may not end, or that did not end), with *errmsg
 * (malloc'd, one line with a fix); the caller lifts what was raised.
 */
Outcome		fence_raise(PGconn *src, PGconn *maintenance, const char *keep_pids, double deadline,
						bool dry_run, int *terminated, char **errmsg);

/*
 * Lifts the fence of database dbname, restoring prior.  conn is a session on
 * that database or on any other of the server.
 */
bool		fence_lift(PGconn *conn, const char *dbname, const FencePrior *prior, bool dry_run);

/*
 * The fence a switched-over source keeps: a statement trigger on every user
 * table and partition (schema pgcutover_fence) refusing INSERT, UPDATE,
 * DELETE and TRUNCATE, whoever asks (READ WRITE, superusers) unless in
 * session_replication_role replica, which is how the reverse follower
 * writes and which ordinary roles may not set; then connections are allowed
 * again as before the fence (prior), so the old source can be read and
 * compared.  Made in one transaction: if this role cannot put a trigger on
 * some table, nothing is made, false with *errmsg, and the database stays
 * closed to connections (still airtight).  Lifted by DROP SCHEMA
 * pgcutover_fence CASCADE.
 */
bool		fence_rest(PGconn *src, const char *dbname, const FencePrior *prior, bool dry_run,
					   char **errmsg);

/*
 * Switching back over (--reverse): the database conn is on was left fenced
 * at rest by the switchover away from it; its writes are taken again:
 * pgcutover_fence dropped, then its settings restored as prior_json (the
 * forward fence's prior) says.
 */
bool		fence_rest_lift(PGconn *conn, const char *dbname, const char *prior_json, bool dry_run);

/*
 * A session on the "postgres" database of the server dsn names (same host,
 * user, password), for lifting a fence when the fenced database refuses
 * connections.  NULL with *errmsg on failure.
 */
PGconn	   *fence_connect_maintenance(const char *dsn, const char *who, char **errmsg);

/*
 * Lifts the fence of dbname as the state recorded it (prior_json, from
 * pgcutover.migration.fence_prior; NULL or unreadable: connections allowed
 * and no read-only setting of the database's own).
 */
bool		fence_lift_recorded(PGconn *conn, const char *dbname, const char *prior_json, bool dry_run);

/*
 * A session on the fenced database dbname for whoever raised the fence
 * (a rerun after a killed switchover): for the moment it takes to connect,
 * the database opens to this role alone (CONNECT revoked from PUBLIC and
 * every other role first, given back right after), then closes again.
 * Only a superuser could slip in meanwhile; the caller raises the fence at
 * once.  maintenance is a session on another database of the server.
 * NULL (logged) on failure.
 */
PGconn	   *fence_reenter(PGconn *maintenance, const char *dsn, const char *dbname);

/* Whether a connection error means the database refuses connections (ALLOW_CONNECTIONS false). */
bool		fence_refused_connection(const char *errmsg);

/* Runs sql on conn, or prints it (prefixed with who) when dry_run. */
bool		run_or_print(PGconn *conn, const char *who, const char *sql, bool dry_run);

/* Runs a user command through /bin/sh; false unless it exits 0. */
bool		run_shell_command(const char *what, const char *command, bool dry_run);

/* Restores the GENERATED ALWAYS identity columns follow relaxed. */
bool		restore_identity_columns(PGconn *tgt, const char *slot, bool dry_run);

#endif
