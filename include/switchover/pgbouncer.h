/*
 * pgbouncer.h
 *	  Moving the application's PgBouncer pools from the source to the target
 *	  during a switchover, so that clients see a pause instead of errors
 *	  (`switchover --pgbouncer ADMIN_DSN`).  Owned here: the admin console
 *	  sessions, finding the [databases] entries that point at the source,
 *	  PAUSE before the fence, repointing (the ini file rewritten, or
 *	  --repoint-command) and RELOAD, RESUME, and the measured pause windows.
 *
 *	  The sequence, per PgBouncer (one admin session each):
 *	    pgbouncer_prepare   SHOW DATABASES: the entries whose port and
 *	                        database are the source's (host equal, or both
 *	                        loopback); none: refused before anything runs.
 *	                        An entry already paused (a killed run) is taken
 *	                        over: resumed at the end or on abort.
 *	    pgbouncer_pause     PAUSE each entry; waits, bounded by the deadline,
 *	                        until PgBouncer says every server connection is
 *	                        released.  On timeout, RESUME and fail.
 *	    pgbouncer_repoint_and_resume
 *	                        rewrite host/port/dbname of the entries in the
 *	                        --pgbouncer-ini file (or run --repoint-command
 *	                        once), RELOAD, check SHOW DATABASES now names the
 *	                        target, RESUME.
 *	    pgbouncer_resume_all
 *	                        the abort path: RESUME whatever this run paused
 *	                        or took over (clients go on against the source).
 *
 *	  PgBouncer versions: PAUSE db, RESUME db, RELOAD and SHOW DATABASES are in
 *	  every supported release; only 1.18 is tested.  Columns are read by
 *	  name: a release whose SHOW DATABASES has no "paused" column (older than
 *	  about 1.12) works, but an entry a killed run left paused is not
 *	  recognised (resume it by hand).  The admin console cannot change a database entry in
 *	  any release, hence the file or the command.  Pool modes: transaction
 *	  (and statement) pooling is required for a short pause: PAUSE waits until
 *	  every server connection is back in the pool, which in session pooling
 *	  means until every client disconnects -- there PAUSE runs into the
 *	  deadline and the switchover aborts cleanly (RESUME, nothing fenced).
 *
 *	  The admin DSNs carry passwords: they are never logged or reported; each
 *	  PgBouncer is named by its host:port.
 */
#ifndef PGCUTOVER_PGBOUNCER_H
#define PGCUTOVER_PGBOUNCER_H

#include <stdbool.h>
#include <libpq-fe.h>
#include <jansson.h>

#include "options.h"
#include "outcome.h"

/* One PgBouncer: its admin session and the entries of the source's database. */
typedef struct PgBouncer
{
	const char *admin_dsn;		/* opts->pgbouncer[i]: has a password */
	const char *ini_path;		/* --pgbouncer-ini for it, or NULL */
	char	   *label;			/* "host:port", for messages and the report */
	PGconn	   *conn;			/* admin console session, NULL when lost */
	StrList		databases;		/* entry names pointing at the source */
	bool	   *paused;			/* per entry: PAUSE acknowledged (or taken
								 * over), not resumed yet */
	bool		taken_over;		/* some entry was paused by a killed run */
	bool		repointed;		/* the entries point at the target now */
	double		t_pause_sent;	/* now_seconds() of the first PAUSE; 0: none */
	double		paused_ms;		/* PAUSE sent to RESUME acknowledged */
} PgBouncer;

typedef struct PgBouncerSet
{
	int			count;			/* 0: no --pgbouncer, every call is a no-op */
	PgBouncer  *items;
	const Options *opts;
	/* what the entries become: the target's connection, without password */
	char	   *target_host;
	char	   *target_port;
	char	   *target_dbname;
	char	   *target_user;
	/* what they are now: the source's */
	char	   *source_host;
	char	   *source_port;
	char	   *source_dbname;
} PgBouncerSet;

/*
 * Connects to every --pgbouncer admin console and finds the entries that
 * point at src; takes over entries a killed run left paused.  tgt gives the
 * repoint values.  OUTCOME_CONNECTION, or OUTCOME_PREFLIGHT when a PgBouncer
 * has no such entry or the ini file lacks one (one error line each, with
 * the fix).  Always free the set with pgbouncer_finish.
 */
Outcome		pgbouncer_prepare(PgBouncerSet *set, const Options *opts, PGconn *src, PGconn *tgt);

/*
 * PAUSEs every entry, waiting until deadline (now_seconds() clock).  On
 * failure or timeout the entries paused so far are resumed and an error
 * logged.  --dry-run prints the statements.
 */
Outcome		pgbouncer_pause(PgBouncerSet *set, double deadline);

/*
 * Points every entry at the target (ini rewrite or --repoint-command),
 * RELOADs, checks, and RESUMEs.  On a repoint failure the ini files are put
 * back, RELOADed, and the entries stay paused for pgbouncer_resume_all.
 */
Outcome		pgbouncer_repoint_and_resume(PgBouncerSet *set);

/*
 * The abort path: RESUMEs every entry this run paused or took over.  Says so
 * loudly when the entries were already repointed.  true when nothing is
 * left paused.
 */
bool		pgbouncer_resume_all(PgBouncerSet *set);

/* The longest pause window over all PgBouncers, ms; 0 when none. */
double		pgbouncer_max_pause_ms(const PgBouncerSet *set);

/* [{admin, databases, paused_ms, taken_over, repointed}], new reference. */
json_t	   *pgbouncer_json(const PgBouncerSet *set);

/* Closes the sessions and frees the set (does not resume). */
void		pgbouncer_finish(PgBouncerSet *set);

#endif							/* PGCUTOVER_PGBOUNCER_H */
