/*
 * switchover_matviews.c
 *	  The switchover's last step (switchover_int.h), after the end and so
 *	  outside the write downtime: the target's materialized views, whose
 *	  rows follow skipped, are given the source's state, in dependency
 *	  order; and a rerun after a kill in this step does it again.
 */
#include <stdlib.h>
#include <string.h>

#include "fence.h"
#include "log.h"
#include "pgconn.h"
#include "state.h"
#include "switchover_int.h"

/*
 * The target's materialized views in dependency order (a view over another,
 * also through plain views, comes after it), with the statement that gives
 * each the source's state: REFRESH where the source's is populated
 * (CONCURRENTLY where the target's is populated and has the unique index
 * that needs, so readers are not blocked), REFRESH ... WITH NO DATA where
 * the source's is not and the target's is; none where both are not.
 * $1: the source's populated views, $2 its unpopulated ones, as
 * "schema.name" texts of quote_ident'd parts.
 */
static const char refresh_matviews_sql[] =
	"WITH RECURSIVE rel AS ("
	"  SELECT c.oid, c.relkind, c.relispopulated, "
	"    pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS name "
	"  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	"  WHERE c.relkind IN ('m', 'v') AND n.nspname NOT IN ('pg_catalog', 'information_schema')), "
	"edge AS ("
	"  SELECT DISTINCT r.ev_class AS rel, d.refobjid AS dep "
	"  FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_depend d "
	"    ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = r.oid "
	"    AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
	"  WHERE r.ev_class IN (SELECT oid FROM rel) AND d.refobjid IN (SELECT oid FROM rel) "
	"    AND d.refobjid <> r.ev_class), "
	"depth(oid, depth) AS ("
	"  SELECT oid, 0 FROM rel "
	"  UNION ALL SELECT e.rel, depth.depth + 1 FROM edge e JOIN depth ON depth.oid = e.dep WHERE depth.depth < 100) "
	"SELECT rel.name, CASE "
	"  WHEN rel.name = ANY ($1::text[]) THEN 'REFRESH MATERIALIZED VIEW ' || "
	"    CASE WHEN rel.relispopulated AND EXISTS (SELECT 1 FROM pg_catalog.pg_index i "
	"        WHERE i.indrelid = rel.oid AND i.indisunique AND i.indisvalid AND i.indpred IS NULL "
	"        AND i.indexprs IS NULL) THEN 'CONCURRENTLY ' ELSE '' END || rel.name "
	"  WHEN rel.name = ANY ($2::text[]) AND rel.relispopulated THEN "
	"    'REFRESH MATERIALIZED VIEW ' || rel.name || ' WITH NO DATA' END, "
	"  rel.relispopulated "
	"FROM rel JOIN (SELECT oid, max(depth) AS depth FROM depth GROUP BY oid) d ON d.oid = rel.oid "
	"WHERE rel.relkind = 'm' ORDER BY d.depth, rel.name";

/*
 * Do the source's and the target's view name hold the same rows?  Then the
 * target's is left as it is: the source did not refresh it since the copy,
 * or follow replayed its refreshes (DDL capture), and a refresh here would
 * make it differ from the source's.  Any failure counts as "not the same".
 */
static bool
same_matview_rows(Switchover *sw, const char *name)
{
	char	   *sql = psprintf("SELECT count(*), pg_catalog.md5(coalesce(pg_catalog.string_agg(r::text, E'\\n' "
							   "ORDER BY r::text COLLATE \"C\"), '')) FROM %s r", name);
	PGresult   *src = PQexec(sw->src, sql);
	PGresult   *tgt = PQexec(sw->tgt, sql);
	bool		same = PQresultStatus(src) == PGRES_TUPLES_OK && PQresultStatus(tgt) == PGRES_TUPLES_OK &&
		PQntuples(src) == 1 && PQntuples(tgt) == 1 &&
		strcmp(PQgetvalue(src, 0, 0), PQgetvalue(tgt, 0, 0)) == 0 &&
		strcmp(PQgetvalue(src, 0, 1), PQgetvalue(tgt, 0, 1)) == 0;

	PQclear(src);
	PQclear(tgt);
	free(sql);
	return same;
}

/*
 * After the target is open (outside the write downtime: writes go on while
 * the views are refreshed, like between two refreshes on the source):
 * its materialized views are given the source's state; one whose rows are
 * the source's already is left alone.  Follow skipped
 * their rows (a replica's views are refreshed here, once).  A view that
 * cannot be refreshed is a warning: the switchover is done.
 */
void
refresh_matviews(Switchover *sw)
{
	double		t0 = now_seconds();
	PGresult   *src = PQexec(sw->src,
							 "SELECT pg_catalog.array_agg(name) FILTER (WHERE relispopulated)::text, "
							 "  pg_catalog.array_agg(name) FILTER (WHERE NOT relispopulated)::text "
							 "FROM (SELECT c.relispopulated, pg_catalog.quote_ident(n.nspname) || '.' || "
							 "  pg_catalog.quote_ident(c.relname) AS name FROM pg_catalog.pg_class c "
							 "  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'm') m");
	PGresult   *plan = NULL;
	const char *params[2];

	if (PQresultStatus(src) != PGRES_TUPLES_OK || PQntuples(src) != 1)
	{
		char	   *e = db_error(sw->src);

		log_warn("cannot read the source's materialized views (%s): the target's are as copy left them; fix: REFRESH MATERIALIZED VIEW each on the target", e);
		free(e);
		goto done;
	}
	/* a rerun after a kill in this step does it again (refresh_matviews_after_kill) */
	if (!sw->opts->dry_run)
		(void) state_phase_begin(sw->tgt, sw->opts->slot, "refresh_matviews");
	if (PQgetisnull(src, 0, 0) && PQgetisnull(src, 0, 1))
	{
		if (!sw->opts->dry_run)
			(void) state_phase_end(sw->tgt, sw->opts->slot, "refresh_matviews");
		goto done;				/* none: no step */
	}
	params[0] = PQgetisnull(src, 0, 0) ? "{}" : PQgetvalue(src, 0, 0);
	params[1] = PQgetisnull(src, 0, 1) ? "{}" : PQgetvalue(src, 0, 1);
	if ((plan = db_query_params(sw->tgt, refresh_matviews_sql, 2, params)) == NULL)
	{
		log_warn("cannot read the target's materialized views: they are as copy left them; fix: REFRESH MATERIALIZED VIEW each on the target, views over other views last");
		goto done;
	}
	for (int i = 0; i < PQntuples(plan); i++)
	{
		const char *name = PQgetvalue(plan, i, 0);
		const char *sql = PQgetvalue(plan, i, 1);

		bool		populated = PQgetvalue(plan, i, 2)[0] == 't';

		if (PQgetisnull(plan, i, 1))
			continue;			/* WITH NO DATA on both sides, or not on the source */
		if (populated && strstr(sql, "WITH NO DATA") == NULL && !sw->opts->dry_run &&
			same_matview_rows(sw, name))
		{
			sw->result->matviews_equal++;
			continue;
		}
		if (run_or_print(sw->tgt, "target", sql, sw->opts->dry_run))
			sw->result->matviews_refreshed++;
		else
			log_warn("materialized view %s could not be refreshed on the target (above): it is as copy left it; fix: %s; there", name, sql);
	}
	step_done(sw, "refresh_matviews", t0);
	if (!sw->opts->dry_run)
		(void) state_phase_end(sw->tgt, sw->opts->slot, "refresh_matviews");
	if (!sw->opts->dry_run)
		log_info("materialized views on the target: %d refreshed, %d already equal to the source's",
				 sw->result->matviews_refreshed, sw->result->matviews_equal);
done:
	PQclear(plan);
	PQclear(src);
}

/*
 * A rerun of a switchover that was killed once the target was the primary
 * (the migration is switched over) but before its refresh_matviews step had
 * ended: the views that run left are refreshed now (those whose rows are
 * the source's already are left alone, as in the step).
 */
void
refresh_matviews_after_kill(Switchover *sw)
{
	char	   *err = NULL;

	if (sw->opts->dry_run || state_phase_finished(sw->tgt, sw->opts->slot, "refresh_matviews"))
		return;
	if ((sw->src = db_connect(sw->opts->source, "source", CONN_NORMAL, &err)) == NULL)
	{
		log_warn("the interrupted switchover had not refreshed every materialized view of the target, and the old source cannot be read to compare them (%s); fix: REFRESH MATERIALIZED VIEW each on the target, views over other views last",
				 err);
		free(err);
		return;
	}
	log_info("the interrupted switchover had not ended its refresh_matviews step: it is done now");
	refresh_matviews(sw);
}
