/*
 * large_objects.c
 *	  Table pgcutover.large_object: the fingerprint of every large object
 *	  pgcutover wrote on the target, recorded in the transaction that wrote
 *	  it (see lo_state.h).  Arrays go to the server as text literals of
 *	  OIDs, sizes and hex digests: nothing in them needs quoting.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "lo_state.h"
#include "pgconn.h"
#include "strbuf.h"

bool
lo_prints_from_result(PGresult *res, LargeObjectPrintList *out)
{
	memset(out, 0, sizeof(*out));
	if (res == NULL)
		return false;
	out->count = PQntuples(res);
	out->items = pg_malloc0(sizeof(LargeObjectPrint) * (out->count > 0 ? out->count : 1));
	for (int i = 0; i < out->count; i++)
	{
		LargeObjectPrint *p = &out->items[i];

		p->loid = (uint32_t) strtoul(PQgetvalue(res, i, 0), NULL, 10);
		p->bytes = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		snprintf(p->fingerprint, sizeof(p->fingerprint), "%s", PQgetvalue(res, i, 2));
	}
	PQclear(res);
	return true;
}

bool
lo_state_load(PGconn *tgt, const char *slot, LargeObjectPrintList *out)
{
	const char *params[1] = {slot};
	PGresult   *res = db_query_params(tgt,
									  "SELECT l.loid::bigint, l.bytes, "
									  "  CASE WHEN m.oid IS NULL THEN '' ELSE l.fingerprint END "
									  "FROM pgcutover.large_object l "
									  "LEFT JOIN pg_catalog.pg_largeobject_metadata m ON m.oid = l.loid "
									  "WHERE l.slot_name = $1 ORDER BY l.loid",
									  1, params);

	return lo_prints_from_result(res, out);
}

/* "{1,2,3}" of the OIDs. */
static void
append_loids(StrBuf *sb, const uint32_t *loids, const LargeObjectPrint *prints, int n)
{
	strbuf_append(sb, "{");
	for (int i = 0; i < n; i++)
		strbuf_printf(sb, "%s%u", i > 0 ? "," : "", loids ? loids[i] : prints[i].loid);
	strbuf_append(sb, "}");
}

bool
lo_state_record(PGconn *tgt, const char *slot, const LargeObjectPrint *prints, int n)
{
	StrBuf		loids = {0},
				bytes = {0},
				fingerprints = {0};
	const char *params[4];
	PGresult   *res;

	if (n == 0)
		return true;
	append_loids(&loids, NULL, prints, n);
	strbuf_append(&bytes, "{");
	strbuf_append(&fingerprints, "{");
	for (int i = 0; i < n; i++)
	{
		strbuf_printf(&bytes, "%s%lld", i > 0 ? "," : "", (long long) prints[i].bytes);
		strbuf_printf(&fingerprints, "%s%s", i > 0 ? "," : "", prints[i].fingerprint);
	}
	strbuf_append(&bytes, "}");
	strbuf_append(&fingerprints, "}");
	params[0] = slot;
	params[1] = loids.data;
	params[2] = bytes.data;
	params[3] = fingerprints.data;
	res = db_query_params(tgt,
						  "INSERT INTO pgcutover.large_object (slot_name, loid, bytes, fingerprint) "
						  "SELECT $1, l, b, f FROM unnest($2::oid[], $3::bigint[], $4::text[]) AS u(l, b, f) "
						  "ON CONFLICT (slot_name, loid) DO UPDATE "
						  "SET bytes = excluded.bytes, fingerprint = excluded.fingerprint, written_at = now()",
						  4, params);
	PQclear(res);
	strbuf_free(&loids);
	strbuf_free(&bytes);
	strbuf_free(&fingerprints);
	return res != NULL;
}

bool
lo_state_forget(PGconn *tgt, const char *slot, const uint32_t *loids, int n)
{
	StrBuf		list = {0};
	const char *params[2];
	PGresult   *res;

	if (n == 0)
		return true;
	append_loids(&list, loids, NULL, n);
	params[0] = slot;
	params[1] = list.data;
	res = db_query_params(tgt,
						  "DELETE FROM pgcutover.large_object WHERE slot_name = $1 AND loid = ANY ($2::oid[])",
						  2, params);
	PQclear(res);
	strbuf_free(&list);
	return res != NULL;
}

bool
lo_state_exists(PGconn *tgt)
{
	char	   *found = db_scalar(tgt, "SELECT pg_catalog.to_regclass('pgcutover.large_object') IS NOT NULL");
	bool		exists = found && found[0] == 't';

	free(found);
	return exists;
}

void
lo_print_list_free(LargeObjectPrintList *list)
{
	free(list->items);
	memset(list, 0, sizeof(*list));
}
