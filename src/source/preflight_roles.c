/*
 * preflight_roles.c
 *	  The preflight checks of roles on the target (preflight_int.h).  Roles
 *	  are global, so nothing the copy restores brings them: the roles the
 *	  schema names (owners and grantees with --keep-acl, policies and user
 *	  mappings always) and whether --roles, --role-passwords and --keep-acl
 *	  can do their part as the target role; and the roles that regrole
 *	  values name, which the target cannot read back without them.
 */
#include <stdlib.h>
#include <string.h>

#include "pgconn.h"
#include "preflight_int.h"
#include "roles.h"
#include "strbuf.h"

/* "CREATE ROLE a; CREATE ROLE b;" for the fix of check_roles (quote_ident's quoting). */
static char *
create_role_statements(PGconn *tgt, const StrList *names, int max)
{
	char	   *array = db_text_array(names);
	char		limit[16];
	const char *params[2] = {array, limit};
	PGresult   *res;
	char	   *out;

	snprintf(limit, sizeof(limit), "%d", max);
	res = db_query_params(tgt,
						  "SELECT pg_catalog.string_agg(pg_catalog.format('CREATE ROLE %I;', n), ' ' ORDER BY i) "
						  "  || CASE WHEN pg_catalog.cardinality($1::text[]) > $2::int "
						  "       THEN pg_catalog.format(' (and %s more)', pg_catalog.cardinality($1::text[]) - $2::int) ELSE '' END "
						  "FROM pg_catalog.unnest($1::text[]) WITH ORDINALITY u(n, i) WHERE i <= $2::int",
						  2, params);
	out = pg_strdup(res && PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "CREATE ROLE ...;");
	PQclear(res);
	free(array);
	return out;
}

/*
 * Roles are global: the schema restore fails on the target when a role it
 * names is missing there -- an owner or a grantee with --keep-acl, a
 * policy's or a user mapping's role always -- after the slot exists.  With
 * --roles copy creates them (roles.h), which the target role must be
 * allowed to do.
 */
void
check_roles(Preflight *p)
{
	const Options *o = p->opts;
	StrList		needed = {0},
				missing = {0};
	PGresult   *res;

	if (o->role_passwords && !o->roles)
		findings_add(p->f, FINDING_FAIL, "role_passwords", "add --roles, or drop --role-passwords",
					 "--role-passwords carries the passwords of the roles --roles creates, and --roles is not given");
	else if (o->role_passwords)
	{
		char	   *can = db_scalar(p->src, "SELECT pg_catalog.has_table_privilege('pg_catalog.pg_authid', 'SELECT')");

		if (can && can[0] == 't')
			findings_add(p->f, FINDING_OK, "role_passwords", NULL, "the source role can read the password hashes (pg_authid)");
		else if (can)
			findings_add(p->f, FINDING_FAIL, "role_passwords",
						 "run copy as a superuser of the source, or drop --role-passwords and set the passwords on the target (ALTER ROLE ... PASSWORD)",
						 "--role-passwords needs pg_authid, which only superusers can read, and the source role is not one");
		free(can);
	}
	if (!roles_needed(p->src, o, o->keep_acl || o->roles, &needed) ||
		!roles_missing(p->tgt, &needed, &missing))
		goto done;
	if (missing.count > 0 && !o->roles)
	{
		char	   *create = create_role_statements(p->tgt, &missing, 20);
		char	   *fix = psprintf("add --roles (copy creates them, never as superusers), or create them on the target: %s", create);

		preflight_add_list(p, FINDING_FAIL, "roles", fix, &missing, 20,
						   "%d role(s) that %s name do not exist on the target, where restoring the schema would fail",
						   missing.count, o->keep_acl ? "the migrated objects' owners, GRANTs, default privileges, policies and user mappings"
						   : "policies (CREATE POLICY ... TO) or user mappings of the migrated objects");
		free(fix);
		free(create);
	}
	else if (o->roles)
	{
		res = db_query(p->tgt, "SELECT rolsuper OR rolcreaterole, current_user FROM pg_catalog.pg_roles WHERE rolname = current_user");
		if (res && PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] != 't')
		{
			char	   *fix = psprintf("ALTER ROLE %s CREATEROLE; on the target (as a superuser), or create the roles there yourself and drop --roles",
									   PQgetvalue(res, 0, 1));

			findings_add(p->f, FINDING_FAIL, "roles", fix,
						 "--roles creates roles on the target, and the target role %s may not (neither SUPERUSER nor CREATEROLE)",
						 PQgetvalue(res, 0, 1));
			free(fix);
		}
		else if (res)
		{
			char	   *list = missing.count ? preflight_name_list(&missing, 20) : pg_strdup("none");

			findings_add(p->f, FINDING_OK, "roles", NULL,
						 "%d role(s) the migrated objects need; copy creates the %d missing on the target (and their members and groups): %s",
						 needed.count, missing.count, list);
			free(list);
		}
		PQclear(res);
	}
	else if (needed.count > 0)
		findings_add(p->f, FINDING_OK, "roles", NULL, "the %d role(s) the schema restore names exist on the target",
					 needed.count);
	if (o->keep_acl)
	{
		char	   *super = db_scalar(p->tgt, "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user");

		StrList		no_create = {0};

		if (super && super[0] != 't' && roles_owners_without_create(p->src, o, &no_create) &&
			no_create.count > 0)
		{
			StrBuf		list;

			strbuf_init(&list);
			for (int i = 0; i < no_create.count; i++)
				strbuf_printf(&list, "%s%s", i > 0 ? ", " : "", no_create.items[i]);

			findings_add(p->f, FINDING_FAIL, "keep_acl",
						 "connect to the target as a superuser, or make each owner named the owner of its schema on the source (ALTER SCHEMA ... OWNER TO)",
						 "--keep-acl as a target role that is not a superuser: restoring an owner (ALTER ... OWNER TO) needs that owner's CREATE on the schema, which %s lack%s on the source",
						 list.data, no_create.count == 1 ? "s" : "");
			strbuf_free(&list);
		}
		else if (super && super[0] != 't')
			findings_add(p->f, FINDING_WARN, "keep_acl",
						 "connect to the target as a superuser, or GRANT each owner role to the target role",
						 "--keep-acl sets each object's owner (ALTER ... OWNER TO), which a role that is not a superuser may only do for roles it is a member of");
		strlist_free(&no_create);
		free(super);
	}
done:
	strlist_free(&needed);
	strlist_free(&missing);
}

/*
 * A regrole value is carried as the role's name, which the target reads
 * back only when that role exists there: else copy (or follow) stops.
 * Roles are global and --roles carries those the schema needs, not those
 * a table's values name, so the missing ones are named here, before any
 * slot.  Reads every regrole column (arrays and domains too).
 */
void
check_regrole_values(Preflight *p)
{
	PGresult   *cols = db_query(p->src,
								"SELECT n.nspname, c.relname, "
								"  pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname), "
								"  pg_catalog.quote_ident(a.attname), bt.typelem <> 0 "
								"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
								"JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
								"JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid "
								"JOIN pg_catalog.pg_type bt ON bt.oid = CASE ty.typtype WHEN 'd' THEN ty.typbasetype ELSE ty.oid END "
								"WHERE c.relkind = 'r' AND c.relpersistence = 'p' AND " CATALOG_USER_RELATION_FILTER
								" AND bt.oid IN ('pg_catalog.regrole'::pg_catalog.regtype, 'pg_catalog._regrole'::pg_catalog.regtype) "
								"ORDER BY 1, 2, a.attnum");
	StrList		named = {0},
				missing = {0};

	if (cols == NULL)
		return;
	for (int i = 0; i < PQntuples(cols); i++)
	{
		bool		array = PQgetvalue(cols, i, 4)[0] == 't';
		char	   *sql;
		PGresult   *res;

		if (!catalog_table_selected(p->opts, PQgetvalue(cols, i, 0), PQgetvalue(cols, i, 1)))
			continue;
		sql = psprintf("SELECT DISTINCT r.rolname FROM ONLY %s t CROSS JOIN LATERAL pg_catalog.unnest(%st.%s%s) v(o) "
					   "JOIN pg_catalog.pg_roles r ON r.oid = v.o ORDER BY 1",
					   PQgetvalue(cols, i, 2), array ? "" : "ARRAY[", PQgetvalue(cols, i, 3),
					   array ? "::pg_catalog.oid[]" : "::pg_catalog.oid]");
		res = db_query(p->src, sql);
		for (int r = 0; res && r < PQntuples(res); r++)
			if (!strlist_contains(&named, PQgetvalue(res, r, 0)))
				strlist_add(&named, PQgetvalue(res, r, 0));
		PQclear(res);
		free(sql);
	}
	if (named.count > 0 && roles_missing(p->tgt, &named, &missing) && missing.count > 0)
	{
		char	   *create = create_role_statements(p->tgt, &missing, 20);
		char	   *fix = psprintf("create them on the target (copy's --roles does not: they are named by values, not by the schema): %s", create);

		preflight_add_list(p, FINDING_FAIL, "regrole_values", fix, &missing, 20,
						   "%d role(s) that regrole values name do not exist on the target, which cannot read such a value back",
						   missing.count);
		free(fix);
		free(create);
	}
	else if (named.count > 0 && missing.count == 0)
		findings_add(p->f, FINDING_OK, "regrole_values", NULL,
					 "the %d role(s) that regrole values name exist on the target", named.count);
	strlist_free(&named);
	strlist_free(&missing);
	PQclear(cols);
}
