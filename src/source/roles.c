/*
 * roles.c
 *	  The roles the migrated objects need, and the SQL that carries them
 *	  (roles.h): which roles, read from the source's catalogs with the run's
 *	  filters; which of them the target lacks; and CREATE ROLE, COMMENT,
 *	  ALTER ROLE ... SET and GRANT statements for those it creates, built
 *	  from pg_roles (pg_authid only for --role-passwords).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "log.h"
#include "pgconn.h"
#include "roles.h"

/* Schemas whose objects are never the application's. */
#define USER_SCHEMA(n) \
	"(" n ".nspname NOT IN ('pg_catalog', 'information_schema', 'pgcutover') " \
	"AND " n ".nspname !~ '^pg_(toast|temp_|toast_temp_)')"

/* Not a member of an extension (pg_dump leaves those to CREATE EXTENSION). */
#define NOT_EXTENSION_MEMBER(cat, alias) \
	"NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e WHERE e.classid = '" cat "'::pg_catalog.regclass " \
	"AND e.objid = " alias ".oid AND e.deptype = 'e')"

/* A catalog of schema objects that have an owner and, maybe, an ACL. */
typedef struct OwnedCatalog
{
	const char *catalog;
	const char *owner;
	const char *nsp;
	const char *acl;			/* NULL: none */
	const char *extra;			/* more conditions, or NULL */
} OwnedCatalog;

static const OwnedCatalog owned_catalogs[] = {
	{"pg_proc", "proowner", "pronamespace", "proacl", NULL},
	{"pg_type", "typowner", "typnamespace", "typacl",
		"(o.typrelid = 0 OR (SELECT k.relkind FROM pg_catalog.pg_class k WHERE k.oid = o.typrelid) = 'c') "
	"AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type a WHERE a.typarray = o.oid)"},
	{"pg_collation", "collowner", "collnamespace", NULL, NULL},
	{"pg_conversion", "conowner", "connamespace", NULL, NULL},
	{"pg_operator", "oprowner", "oprnamespace", NULL, NULL},
	{"pg_opclass", "opcowner", "opcnamespace", NULL, NULL},
	{"pg_opfamily", "opfowner", "opfnamespace", NULL, NULL},
	{"pg_ts_config", "cfgowner", "cfgnamespace", NULL, NULL},
	{"pg_ts_dict", "dictowner", "dictnamespace", NULL, NULL},
	{"pg_statistic_ext", "stxowner", "stxnamespace", NULL, NULL},
};

/* " UNION ALL SELECT grantee and grantor of acl" for a LATERAL list of roles. */
static void
append_owner_and_acl(StrBuf *sql, const char *owner, const char *acl)
{
	strbuf_printf(sql, "LATERAL (SELECT %s", owner);
	if (acl)
		strbuf_printf(sql, " UNION ALL SELECT x.grantee FROM pg_catalog.aclexplode(%s) x"
					  " UNION ALL SELECT x.grantor FROM pg_catalog.aclexplode(%s) x", acl, acl);
	strbuf_append(sql, ") r(role)");
}

/*
 * One row per (role, object): scope 'rel' (a relation, selected by the table
 * filters), 'nsp' (another object of a schema) or 'global'; always: named
 * even by pg_dump --no-owner --no-acl.
 */
static char *
needed_query(void)
{
	StrBuf		sql;

	strbuf_init(&sql);
	strbuf_append(&sql,
				  "WITH objs(role, scope, always, nsp, rel) AS ("
				  "SELECT r.role, 'rel', false, n.nspname, c.relname "
				  "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace, ");
	append_owner_and_acl(&sql, "c.relowner", "c.relacl");
	strbuf_append(&sql, " WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S') AND " CATALOG_USER_RELATION_FILTER
				  " UNION ALL SELECT r.role, 'rel', false, n.nspname, c.relname "
				  "FROM pg_catalog.pg_attribute t JOIN pg_catalog.pg_class c ON c.oid = t.attrelid "
				  "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace, ");
	append_owner_and_acl(&sql, "c.relowner", "t.attacl");
	strbuf_append(&sql, " WHERE t.attacl IS NOT NULL AND " CATALOG_USER_RELATION_FILTER
				  " UNION ALL SELECT pr.role, 'rel', true, n.nspname, c.relname "
				  "FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c ON c.oid = p.polrelid "
				  "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace, "
				  "pg_catalog.unnest(p.polroles) pr(role) WHERE " CATALOG_USER_RELATION_FILTER
				  " UNION ALL SELECT r.role, 'nsp', false, n.nspname, NULL FROM pg_catalog.pg_namespace n, ");
	append_owner_and_acl(&sql, "n.nspowner", "n.nspacl");
	strbuf_append(&sql, " WHERE " USER_SCHEMA("n") " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e "
				  "WHERE e.classid = 'pg_namespace'::pg_catalog.regclass AND e.objid = n.oid AND e.deptype = 'e')");
	for (size_t i = 0; i < sizeof(owned_catalogs) / sizeof(owned_catalogs[0]); i++)
	{
		const OwnedCatalog *oc = &owned_catalogs[i];
		char		owner[64],
					acl[64];

		snprintf(owner, sizeof(owner), "o.%s", oc->owner);
		snprintf(acl, sizeof(acl), "o.%s", oc->acl ? oc->acl : "");
		strbuf_printf(&sql, " UNION ALL SELECT r.role, 'nsp', false, n.nspname, NULL "
					  "FROM pg_catalog.%s o JOIN pg_catalog.pg_namespace n ON n.oid = o.%s, ",
					  oc->catalog, oc->nsp);
		append_owner_and_acl(&sql, owner, oc->acl ? acl : NULL);
		strbuf_printf(&sql, " WHERE " USER_SCHEMA("n") " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e "
					  "WHERE e.classid = 'pg_catalog.%s'::pg_catalog.regclass AND e.objid = o.oid AND e.deptype = 'e')%s%s",
					  oc->catalog, oc->extra ? " AND " : "", oc->extra ? oc->extra : "");
	}
	/* default privileges, in a schema or everywhere */
	strbuf_append(&sql, " UNION ALL SELECT r.role, CASE WHEN d.defaclnamespace = 0 THEN 'global' ELSE 'nsp' END, "
				  "false, n.nspname, NULL FROM pg_catalog.pg_default_acl d "
				  "LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace, ");
	append_owner_and_acl(&sql, "d.defaclrole", "d.defaclacl");
	/* global objects pg_dump dumps without a schema filter */
	strbuf_append(&sql, " UNION ALL SELECT r.role, 'global', false, NULL, NULL FROM pg_catalog.pg_foreign_data_wrapper w, ");
	append_owner_and_acl(&sql, "w.fdwowner", "w.fdwacl");
	strbuf_append(&sql, " WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e WHERE e.classid = "
				  "'pg_catalog.pg_foreign_data_wrapper'::pg_catalog.regclass AND e.objid = w.oid AND e.deptype = 'e')"
				  " UNION ALL SELECT r.role, 'global', false, NULL, NULL FROM pg_catalog.pg_foreign_server s, ");
	append_owner_and_acl(&sql, "s.srvowner", "s.srvacl");
	strbuf_append(&sql, " UNION ALL SELECT u.umuser, 'global', true, NULL, NULL FROM pg_catalog.pg_user_mappings u"
				  " UNION ALL SELECT t.evtowner, 'global', false, NULL, NULL FROM pg_catalog.pg_event_trigger t "
				  "WHERE t.evtname !~ '^pgcutover_ddl_'"
				  " UNION ALL SELECT p.pubowner, 'global', false, NULL, NULL FROM pg_catalog.pg_publication p) "
				  "SELECT DISTINCT a.rolname, o.scope, o.always, o.nsp, o.rel "
				  "FROM objs o JOIN pg_catalog.pg_roles a ON a.oid = o.role "
				  "WHERE a.rolname !~ '^pg_' ORDER BY 1");
	return sql.data;
}

/* Does a (scope, schema, relation) row name an object pg_dump dumps with opts? */
static bool
object_selected(const Options *opts, const char *scope, const char *nsp, const char *rel)
{
	if (strcmp(scope, "rel") == 0)
		return catalog_table_selected(opts, nsp, rel);
	/* pg_dump -t dumps the matching relations only; -n no global objects */
	if (opts->include_table.count > 0)
		return false;
	if (strcmp(scope, "nsp") == 0)
		return catalog_schema_selected(opts, nsp);
	return opts->include_schema.count == 0;
}

bool
roles_needed(PGconn *src, const Options *opts, bool acl, StrList *names)
{
	char	   *sql = needed_query();
	PGresult   *res = db_query(src, sql);

	free(sql);
	if (res == NULL)
		return false;
	for (int i = 0; i < PQntuples(res); i++)
	{
		const char *name = PQgetvalue(res, i, 0);

		if ((acl || PQgetvalue(res, i, 2)[0] == 't') && !strlist_contains(names, name) &&
			object_selected(opts, PQgetvalue(res, i, 1), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4)))
			strlist_add(names, name);
	}
	PQclear(res);
	return true;
}

bool
roles_missing(PGconn *tgt, const StrList *names, StrList *missing)
{
	char	   *array = db_text_array(names);
	const char *params[1] = {array};
	PGresult   *res = db_query_params(tgt,
									  "SELECT n FROM pg_catalog.unnest($1::text[]) WITH ORDINALITY u(n, i) "
									  "WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = u.n) ORDER BY i",
									  1, params);

	free(array);
	if (res == NULL)
		return false;
	for (int i = 0; i < PQntuples(res); i++)
		strlist_add(missing, PQgetvalue(res, i, 0));
	PQclear(res);
	return true;
}

bool
roles_owners_without_create(PGconn *src, const Options *opts, StrList *out)
{
	PGresult   *res = db_query(src,
								"SELECT DISTINCT n.nspname, c.relname, pg_catalog.quote_ident(a.rolname), "
								"  pg_catalog.quote_ident(n.nspname) "
								"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
								"JOIN pg_catalog.pg_roles a ON a.oid = c.relowner "
								"WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S') AND " CATALOG_USER_RELATION_FILTER
								" AND NOT a.rolsuper AND n.nspowner <> c.relowner"
								" AND NOT pg_catalog.has_schema_privilege(c.relowner, n.oid, 'CREATE') "
								"UNION ALL SELECT DISTINCT n.nspname, NULL, pg_catalog.quote_ident(a.rolname), "
								"  pg_catalog.quote_ident(n.nspname) "
								"FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
								"JOIN pg_catalog.pg_roles a ON a.oid = p.proowner "
								"WHERE " USER_SCHEMA("n") " AND NOT a.rolsuper AND n.nspowner <> p.proowner"
								" AND NOT pg_catalog.has_schema_privilege(p.proowner, n.oid, 'CREATE') "
								" AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e WHERE e.classid = "
								"'pg_catalog.pg_proc'::pg_catalog.regclass AND e.objid = p.oid AND e.deptype = 'e') "
								"ORDER BY 3, 4");

	if (res == NULL)
		return false;
	for (int i = 0; i < PQntuples(res); i++)
	{
		char	   *pair = psprintf("%s on schema %s", PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
		bool		selected = PQgetisnull(res, i, 1)
			? object_selected(opts, "nsp", PQgetvalue(res, i, 0), NULL)
			: catalog_table_selected(opts, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));

		if (selected && !strlist_contains(out, pair))
			strlist_add(out, pair);
		free(pair);
	}
	PQclear(res);
	return true;
}

/*
 * The needed roles, the roles that are members of them (recursively), and
 * the roles all of these are members of (recursively), with what a CREATE
 * ROLE needs: 0 name, 1-6 super, inherit, createrole, createdb, login,
 * replication, 7 bypassrls, 8 connlimit, 9 valid until, 10 password (NULL
 * without --role-passwords), 11 comment, 12 the ALTER ROLE ... SET
 * statements (E'\n'-separated; a list setting only when it reads as a list
 * of identifiers, as the server writes it).
 */
static PGresult *
carried_roles(PGconn *src, const Options *opts, const StrList *needed)
{
	char	   *array = db_text_array(needed);
	const char *params[1] = {array};
	char	   *sql = psprintf(
							   "WITH RECURSIVE down(oid) AS ("
							   "  SELECT oid FROM pg_catalog.pg_roles WHERE rolname = ANY ($1::text[]) "
							   "  UNION SELECT m.member FROM pg_catalog.pg_auth_members m JOIN down d ON m.roleid = d.oid), "
							   "up(oid) AS (SELECT oid FROM down "
							   "  UNION SELECT m.roleid FROM pg_catalog.pg_auth_members m JOIN up u ON m.member = u.oid) "
							   "SELECT r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin, "
							   "  r.rolreplication, r.rolbypassrls, r.rolconnlimit, r.rolvaliduntil::text, %s, "
							   "  pg_catalog.shobj_description(r.oid, 'pg_authid'), "
							   "  (SELECT pg_catalog.string_agg(pg_catalog.format('ALTER ROLE %%I SET %%s TO %%s', r.rolname, "
							   "      pg_catalog.split_part(c, '=', 1), "
							   "      CASE WHEN pg_catalog.split_part(c, '=', 1) IN ('search_path', 'temp_tablespaces', "
							   "             'session_preload_libraries', 'local_preload_libraries') "
							   "           THEN pg_catalog.substr(c, pg_catalog.strpos(c, '=') + 1) "
							   "           ELSE pg_catalog.quote_literal(pg_catalog.substr(c, pg_catalog.strpos(c, '=') + 1)) END), E';\n') "
							   "   FROM pg_catalog.pg_db_role_setting s, pg_catalog.unnest(s.setconfig) c "
							   "   WHERE s.setrole = r.oid AND s.setdatabase = 0 "
							   "     AND pg_catalog.split_part(c, '=', 1) ~ '^[A-Za-z_][A-Za-z0-9_.]*$' "
							   "     AND (pg_catalog.split_part(c, '=', 1) NOT IN ('search_path', 'temp_tablespaces', "
							   "             'session_preload_libraries', 'local_preload_libraries') "
							   "          OR pg_catalog.substr(c, pg_catalog.strpos(c, '=') + 1) "
							   "             ~ '^(\"([^\"]|\"\")*\"|[A-Za-z0-9_$]+)(, (\"([^\"]|\"\")*\"|[A-Za-z0-9_$]+))*$')) "
							   "FROM pg_catalog.pg_roles r WHERE r.oid IN (SELECT oid FROM up) AND r.rolname !~ '^pg_' "
							   "ORDER BY r.rolname",
							   opts->role_passwords
							   ? "(SELECT a.rolpassword FROM pg_catalog.pg_authid a WHERE a.oid = r.oid)"
							   : "NULL::text");
	PGresult   *res = db_query_params(src, sql, 1, params);

	free(sql);
	free(array);
	return res;
}

/* Appends one role's CREATE ROLE, COMMENT and settings to sql, and logs what it leaves out. */
static void
append_create_role(PGconn *tgt, const Options *opts, const PGresult *r, int i, StrBuf *sql,
				   StrList *passwords)
{
	const char *name = PQgetvalue(r, i, 0);
	char	   *ident = PQescapeIdentifier(tgt, name, strlen(name));
	const char *dropped[3] = {"SUPERUSER", "REPLICATION", "BYPASSRLS"};
	const int	dropped_col[3] = {1, 6, 7};
	bool		login = PQgetvalue(r, i, 5)[0] == 't';

	strbuf_printf(sql, "CREATE ROLE %s WITH NOSUPERUSER %sINHERIT %sCREATEROLE %sCREATEDB %sLOGIN NOREPLICATION NOBYPASSRLS CONNECTION LIMIT %s",
				  ident, PQgetvalue(r, i, 2)[0] == 't' ? "" : "NO", PQgetvalue(r, i, 3)[0] == 't' ? "" : "NO",
				  PQgetvalue(r, i, 4)[0] == 't' ? "" : "NO", login ? "" : "NO", PQgetvalue(r, i, 8));
	if (!PQgetisnull(r, i, 9))
	{
		char	   *lit = PQescapeLiteral(tgt, PQgetvalue(r, i, 9), strlen(PQgetvalue(r, i, 9)));

		strbuf_printf(sql, " VALID UNTIL %s", lit);
		PQfreemem(lit);
	}
	if (!PQgetisnull(r, i, 10))
	{
		char	   *lit = PQescapeLiteral(tgt, PQgetvalue(r, i, 10), strlen(PQgetvalue(r, i, 10)));
		char	   *stmt = psprintf("ALTER ROLE %s PASSWORD %s", ident, lit);

		strlist_add(passwords, stmt);
		free(stmt);
		PQfreemem(lit);
	}
	strbuf_append(sql, ";\n");
	if (!PQgetisnull(r, i, 11))
	{
		char	   *lit = PQescapeLiteral(tgt, PQgetvalue(r, i, 11), strlen(PQgetvalue(r, i, 11)));

		strbuf_printf(sql, "COMMENT ON ROLE %s IS %s;\n", ident, lit);
		PQfreemem(lit);
	}
	if (!PQgetisnull(r, i, 12))
		strbuf_printf(sql, "%s;\n", PQgetvalue(r, i, 12));
	for (int a = 0; a < 3; a++)
		if (PQgetvalue(r, i, dropped_col[a])[0] == 't')
			log_warn("role %s has %s on the source: created on the target without it; fix: ALTER ROLE %s %s; on the target if it really needs it",
					 name, dropped[a], ident, dropped[a]);
	if (login && !opts->role_passwords)
		log_info("role %s is created without a password%s", name,
				 " (pass --role-passwords to carry its hash; or set one: ALTER ROLE ... PASSWORD on the target)");
	PQfreemem(ident);
}

/*
 * A target role that is not a superuser may make an object's owner only a
 * role it is a member of (ALTER ... OWNER TO, in the restore): it becomes a
 * member of each role it creates, which CREATEROLE allows.
 */
static bool
append_self_grants(PGconn *tgt, const StrList *created, StrBuf *sql)
{
	PGresult   *res;
	bool		super;

	if (created->count == 0)
		return true;
	if ((res = db_query(tgt, "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user")) == NULL)
		return false;
	super = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	if (super)
		return true;
	for (int i = 0; i < created->count; i++)
	{
		char	   *ident = PQescapeIdentifier(tgt, created->items[i], strlen(created->items[i]));

		strbuf_printf(sql, "GRANT %s TO CURRENT_USER;\n", ident);
		PQfreemem(ident);
	}
	log_info("the target role %s is not a superuser: it is made a member of the %d role(s) it creates, so that the restore may make them owners; fix, once migrated, if unwanted: REVOKE them from it",
			 PQuser(tgt), created->count);
	return true;
}

/* GRANT role TO member for memberships between carried roles, one end new. */
static bool
append_memberships(PGconn *src, PGconn *tgt, const StrList *carried, const StrList *created, StrBuf *sql)
{
	char	   *array = db_text_array(carried);
	const char *params[1] = {array};
	PGresult   *res = db_query_params(src,
									  "SELECT g.rolname, u.rolname, pg_catalog.bool_or(m.admin_option) "
									  "FROM pg_catalog.pg_auth_members m "
									  "JOIN pg_catalog.pg_roles g ON g.oid = m.roleid JOIN pg_catalog.pg_roles u ON u.oid = m.member "
									  "WHERE g.rolname = ANY ($1::text[]) AND u.rolname = ANY ($1::text[]) "
									  "GROUP BY 1, 2 ORDER BY 1, 2",	/* from 16 on, one row per grantor */
									  1, params);

	free(array);
	if (res == NULL)
		return false;
	for (int i = 0; i < PQntuples(res); i++)
	{
		const char *group = PQgetvalue(res, i, 0);
		const char *member = PQgetvalue(res, i, 1);
		char	   *g,
				   *u;

		if (!strlist_contains(created, group) && !strlist_contains(created, member))
			continue;			/* two roles of the target's: theirs to keep */
		g = PQescapeIdentifier(tgt, group, strlen(group));
		u = PQescapeIdentifier(tgt, member, strlen(member));
		strbuf_printf(sql, "GRANT %s TO %s%s;\n", g, u, PQgetvalue(res, i, 2)[0] == 't' ? " WITH ADMIN OPTION" : "");
		PQfreemem(g);
		PQfreemem(u);
	}
	PQclear(res);
	return true;
}

bool
roles_script(PGconn *src, PGconn *tgt, const Options *opts, StrBuf *sql, StrList *passwords,
			 int *created)
{
	StrList		needed = {0},
				carried = {0},
				missing = {0},
				made = {0};
	PGresult   *res = NULL;
	bool		ok = false;

	*created = 0;
	if (!roles_needed(src, opts, true, &needed))
		goto done;
	if ((res = carried_roles(src, opts, &needed)) == NULL)
		goto done;
	for (int i = 0; i < PQntuples(res); i++)
		strlist_add(&carried, PQgetvalue(res, i, 0));
	if (!roles_missing(tgt, &carried, &missing))
		goto done;
	for (int i = 0; i < PQntuples(res); i++)
	{
		const char *name = PQgetvalue(res, i, 0);

		if (!strlist_contains(&missing, name))
		{
			log_info("role %s exists on the target: left as it is (attributes, password and memberships unchanged)", name);
			continue;
		}
		append_create_role(tgt, opts, res, i, sql, passwords);
		strlist_add(&made, name);
		(*created)++;
	}
	ok = append_memberships(src, tgt, &carried, &made, sql) &&
		append_self_grants(tgt, &made, sql);
done:
	PQclear(res);
	strlist_free(&needed);
	strlist_free(&carried);
	strlist_free(&missing);
	strlist_free(&made);
	return ok;
}
