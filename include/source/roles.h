/*
 * roles.h
 *	  The roles the migrated objects need, and carrying them (copy --roles).
 *
 *	  A role is needed when it owns, grants or is granted something pg_dump
 *	  dumps with the run's filters (relations, their columns, schemas,
 *	  functions, types and the other schema objects, default privileges,
 *	  foreign servers, event triggers, publications) -- these only matter
 *	  with --keep-acl or --roles -- or when a statement pg_dump always emits
 *	  names it (CREATE POLICY ... TO, CREATE USER MAPPING FOR).  Roles are
 *	  global: `check` fails before any slot exists when one is missing on the
 *	  target, and `copy --roles` creates them in the transaction that
 *	  restores the schema.
 *
 *	  Carried: the needed roles, the roles that are members of them (those
 *	  who log in and use the grants), and the roles all of those are members
 *	  of, with their memberships, LOGIN, INHERIT, CREATEDB, CREATEROLE,
 *	  connection limit, VALID UNTIL, comment and settings.  Never SUPERUSER,
 *	  REPLICATION or BYPASSRLS (the source's superuser arrives as an ordinary
 *	  role, and copy says so); password hashes only with --role-passwords
 *	  (they are in pg_authid, readable by superusers only).  A role that
 *	  exists on the target is left as it is; nothing is ever dropped.
 */
#ifndef PGCUTOVER_ROLES_H
#define PGCUTOVER_ROLES_H

#include <stdbool.h>
#include <libpq-fe.h>

#include "options.h"
#include "strbuf.h"

/*
 * Names of the roles the selected objects of src need, sorted (PUBLIC and
 * the predefined pg_* roles left out).  With acl false, only those named by
 * statements pg_dump --no-owner --no-acl still emits.  false on SQL error.
 */
bool		roles_needed(PGconn *src, const Options *opts, bool acl, StrList *names);

/* Appends to *missing those of names that do not exist on tgt. */
bool		roles_missing(PGconn *tgt, const StrList *names, StrList *missing);

/*
 * "role on schema" for each owner of a migrated relation or function that
 * may not CREATE in its schema on src (a superuser made it there): a target
 * role that is not a superuser cannot restore that owner (ALTER ... OWNER
 * TO needs the new owner's CREATE on the schema).  false on SQL error.
 */
bool		roles_owners_without_create(PGconn *src, const Options *opts, StrList *out);

/*
 * The SQL that creates on tgt what --roles carries (see above) and grants
 * the memberships between carried roles of which at least one is new.
 * Logs a line per role it leaves alone (exists), creates without an
 * attribute (SUPERUSER, REPLICATION, BYPASSRLS), or without its password.
 * The password hashes (--role-passwords) come apart, one ALTER ROLE ...
 * PASSWORD statement each in *passwords, to be run on their own: a failing
 * statement's text must never reach a log.  *created counts the roles it
 * creates.  A target role that is not a superuser (CREATEROLE) is made a
 * member of each role it creates: the restore's ALTER ... OWNER TO needs
 * that.  false on SQL error.
 */
bool		roles_script(PGconn *src, PGconn *tgt, const Options *opts, StrBuf *sql,
						 StrList *passwords, int *created);

#endif
