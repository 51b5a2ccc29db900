/*
 * preflight.c
 *	  The preflight checks, which `check` prints and `copy` runs before it
 *	  starts.  Each check_* function looks at one thing and adds one finding
 *	  (ok, warn or FAIL) naming what it saw and the exact fix.  Queries are
 *	  read-only; the only thing created anywhere is a temporary replication
 *	  slot on the source, to prove wal2json loads.
 *
 *	  This file owns the run, which checks in which order, and the helpers
 *	  that make a list of names a finding.  The checks live by subject in
 *	  preflight_server.c, preflight_data.c, preflight_encoding.c and
 *	  preflight_roles.c (preflight_int.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgconn.h"
#include "preflight_int.h"

/* Comma-separated list of at most 'max' names, "and N more" after that. */
char *
preflight_name_list(const StrList *names, int max)
{
	int			n = names->count;
	size_t		len = 1;
	char	   *out;

	for (int i = 0; i < n && i < max; i++)
		len += strlen(names->items[i]) + 2;
	len += 32;
	out = pg_malloc0(len);
	for (int i = 0; i < n && i < max; i++)
	{
		if (i > 0)
			strcat(out, ", ");
		strcat(out, names->items[i]);
	}
	if (n > max)
		snprintf(out + strlen(out), len - strlen(out), " and %d more", n - max);
	return out;
}

/*
 * Runs a catalog query on the source whose rows are a relation's schema,
 * its name, and what to call it in a finding, and adds the last of each row
 * whose relation the filters select to 'names'.  False when the query
 * failed (db_query logged why): the check then adds no finding.
 */
bool
preflight_selected_names(Preflight *p, const char *sql, StrList *names)
{
	PGresult   *res = db_query(p->src, sql);

	if (res == NULL)
		return false;
	for (int i = 0; i < PQntuples(res); i++)
		if (catalog_table_selected(p->opts, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1)))
			strlist_add(names, PQgetvalue(res, i, 2));
	PQclear(res);
	return true;
}

/*
 * Adds a finding about a list of names: fmt's text, then ": " and the first
 * 'max' names ("and N more" after them).
 */
void
preflight_add_list(Preflight *p, FindingStatus status, const char *check, const char *fix,
				   const StrList *names, int max, const char *fmt,...)
{
	va_list		ap;
	char	   *what;
	char	   *list = preflight_name_list(names, max);

	va_start(ap, fmt);
	what = pvsprintf(fmt, ap);
	va_end(ap);
	findings_add(p->f, status, check, fix, "%s: %s", what, list);
	free(what);
	free(list);
}

void
preflight_run(PGconn *src, PGconn *tgt, const Options *opts, Findings *f)
{
	Preflight	p = {src, tgt, opts, f, {NULL, 0}, false};

	if (src == NULL || tgt == NULL)
		return;
	if (!catalog_list_tables(src, opts, &p.tables))
		findings_add(f, FINDING_FAIL, "tables", "see the error above", "cannot list the source's tables");

	check_versions(&p);
	check_pg_dump(&p);
	check_same_server(&p);
	check_wal_level(&p);
	check_capacity(&p, "replication_slots", "max_replication_slots",
				   "SELECT count(*) FROM pg_catalog.pg_replication_slots", "replication slots");
	check_capacity(&p, "wal_senders", "max_wal_senders",
				   "SELECT count(*) FROM pg_catalog.pg_stat_replication", "WAL senders");
	check_replication_role(&p);
	check_wal2json(&p);
	check_emit_message(&p);
	check_slot_free(&p);
	check_filters(&p);
	check_select_privilege(&p);
	check_target_create(&p);
	check_replica_identity(&p);
	check_float_identity(&p);
	check_encoding(&p);
	check_large_objects(&p);
	check_hash_partition_encoding(&p);
	check_ambiguous_reg_values(&p);
	check_regrole_values(&p);
	check_ddl_capture(&p);
	check_fence(&p);
	check_extensions(&p);
	check_disk(&p);
	check_target_empty(&p);
	check_roles(&p);
	catalog_free_tables(&p.tables);
}
