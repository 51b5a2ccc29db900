/*
 * triggers.c
 *	  The quieted triggers and rules of the target (pgcutover.quieted_trigger):
 *	  copy quiets them after its post-data, switchover and cleanup restore
 *	  them (the switchover to the states the source has inside its fence).  The work is done by the schema's functions (sql/state.sql), each
 *	  one transaction, so the recorded state and the catalog never part.
 */
#include <stdlib.h>

#include "pgconn.h"
#include "state.h"
#include "triggers.h"

int
triggers_quiet(PGconn *tgt, const char *slot)
{
	const char *params[1] = {slot};
	PGresult   *res = db_query_params(tgt, "SELECT pgcutover.quiet_triggers($1)", 1, params);
	int			quieted = -1;

	if (res != NULL && PQntuples(res) == 1)
		quieted = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return quieted;
}

/* Is the state schema's function there?  An older or absent schema quieted nothing. */
static bool
has_quieted_triggers(PGconn *tgt)
{
	PGresult   *res = PQexec(tgt, "SELECT pg_catalog.to_regclass('pgcutover.quieted_trigger') IS NOT NULL");
	bool		has = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		PQgetvalue(res, 0, 0)[0] == 't';

	PQclear(res);
	return has;
}

char *
triggers_source_states(PGconn *src)
{
	return db_scalar(src,
					 "SELECT coalesce(pg_catalog.jsonb_object_agg(k, e), '{}')::text FROM ("
					 "  SELECT 'trigger|' || n.nspname || '|' || c.relname || '|' || t.tgname AS k, t.tgenabled::text AS e "
					 "  FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid "
					 "  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal "
					 "  UNION ALL "
					 "  SELECT 'rule|' || n.nspname || '|' || c.relname || '|' || r.rulename, r.ev_enabled::text "
					 "  FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class "
					 "  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE r.rulename <> '_RETURN') s");
}

bool
triggers_restore_statements(PGconn *tgt, const char *slot, const char *source_states, StrList *statements)
{
	const char *params[2] = {slot, source_states};
	PGresult   *res;
	bool		ok;

	if (!has_quieted_triggers(tgt))
		return false;
	res = PQexecParams(tgt, "SELECT pgcutover.unquiet_statements_as($1, $2::jsonb)", 2, NULL, params, NULL, NULL, 0);
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	for (int i = 0; ok && i < PQntuples(res); i++)
		strlist_add(statements, PQgetvalue(res, i, 0));
	PQclear(res);
	return ok;
}

int
triggers_restore(PGconn *tgt, const char *slot, const char *source_states)
{
	const char *params[2] = {slot, source_states};
	PGresult   *res;
	int			restored = -1;

	if (!has_quieted_triggers(tgt))
		return 0;
	res = db_query_params(tgt, "SELECT pgcutover.unquiet_triggers_as($1, $2::jsonb)", 2, params);
	if (res != NULL && PQntuples(res) == 1)
		restored = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return restored;
}
