/*
 * lo_sync.c
 *	  The source's large objects and how they reach the target (lo_sync.h):
 *	  the census `check` and the switchover judge, and the pass that makes
 *	  the target's objects the source's.
 *
 *	  A pass reads the source's fingerprints in one statement (md5 of each
 *	  object's data and of its comment), merges them by OID with the ones
 *	  recorded on the target, unlinks what is gone, and writes what is new
 *	  or changed in batches: one source statement reads a batch's first
 *	  chunks and comments, one target transaction unlinks the old objects,
 *	  writes each with lo_from_bytea under its own OID (tables refer to
 *	  large objects by OID), appends the further chunks of a large one with
 *	  lo_put, sets the comments and records the fingerprints.  Data travels
 *	  in binary: a bytea is never doubled to hex on the wire.
 *
 *	  Owners and grants are not carried: like the tables (pg_dump
 *	  --no-owner --no-acl), the objects belong to the target's role.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "log.h"
#include "lo_state.h"
#include "lo_sync.h"
#include "pgconn.h"
#include "strbuf.h"
#include "units.h"

/* Bytes of one object per statement: lo_get's chunk, lo_put's append. */
#define LO_CHUNK_BYTES		(4 * 1024 * 1024)
/* A batch ends at this many objects or first-chunk bytes. */
#define LO_BATCH_OBJECTS	200
#define LO_BATCH_BYTES		(16 * 1024 * 1024)

/* The fingerprint: see sql/state.sql, pgcutover.large_object. */
#define FINGERPRINT_SQL \
	"pg_catalog.md5(d.data) || '/' || coalesce(pg_catalog.md5(c.description), '-')"
#define COMMENT_JOIN \
	"LEFT JOIN pg_catalog.pg_description c ON c.objoid = m.oid " \
	"  AND c.classoid = 'pg_catalog.pg_largeobject'::pg_catalog.regclass AND c.objsubid = 0 "

bool
lo_census(PGconn *src, LargeObjectCensus *census)
{
	/*
	 * lo_get needs SELECT on the object, unless the role is a superuser or
	 * lo_compat_privileges is on: its owner's, or granted (to PUBLIC, or to a
	 * role this one inherits from).
	 */
	PGresult   *res = db_query(src,
							   "SELECT count(*), pg_catalog.pg_total_relation_size('pg_catalog.pg_largeobject'), "
							   "  count(*) FILTER (WHERE NOT (r.rolsuper "
							   "    OR pg_catalog.current_setting('lo_compat_privileges')::bool "
							   "    OR pg_catalog.pg_has_role(m.lomowner, 'USAGE') "
							   "    OR EXISTS (SELECT 1 FROM pg_catalog.aclexplode(coalesce(m.lomacl, "
							   "          pg_catalog.acldefault('L', m.lomowner))) a "
							   "        WHERE a.privilege_type = 'SELECT' "
							   "          AND (a.grantee = 0 OR pg_catalog.pg_has_role(a.grantee, 'USAGE'))))) "
							   "FROM pg_catalog.pg_roles r "
							   "LEFT JOIN pg_catalog.pg_largeobject_metadata m ON true "
							   "WHERE r.rolname = current_user "
							   "GROUP BY r.rolsuper");

	memset(census, 0, sizeof(*census));
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1)
	{
		census->count = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		census->stored_bytes = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		census->unreadable = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	}
	PQclear(res);
	return true;
}

char *
lo_census_refusal(const LargeObjectCensus *census, const char **fix)
{
	char		stored[32],
				limit[32];

	if (census->unreadable > 0)
	{
		*fix = "connect as their owner or a superuser, or GRANT SELECT ON LARGE OBJECT <oid> TO this role";
		return psprintf("%lld of the source's %lld large object(s) cannot be read by this role (lo_get needs SELECT on each)",
						(long long) census->unreadable, (long long) census->count);
	}
	if (census->count <= LO_MAX_OBJECTS && census->stored_bytes <= LO_MAX_STORED_BYTES)
		return NULL;
	*fix = "move them to bytea columns, remove unused ones (vacuumlo, then VACUUM FULL pg_largeobject), or migrate this database with pg_dump and pg_restore in a maintenance window";
	format_bytes(census->stored_bytes, stored, sizeof(stored));
	format_bytes(LO_MAX_STORED_BYTES, limit, sizeof(limit));
	return psprintf("%lld large object(s), %s stored in pg_largeobject: more than the switchover can re-read inside the write downtime (at most %d objects and %s; logical decoding does not carry them)",
					(long long) census->count, stored, LO_MAX_OBJECTS, limit);
}

/* Runs a statement with binary results (and binary parameters where lengths say so). */
static PGresult *
exec_binary(PGconn *conn, const char *sql, int nparams, const char *const *values,
			const int *lengths, const int *formats)
{
	PGresult   *res = PQexecParams(conn, sql, nparams, NULL, values, lengths, formats, 1);

	if (PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK)
		return res;
	{
		char	   *err = db_error(conn);

		log_error("large objects: %s", err);
		free(err);
	}
	PQclear(res);
	return NULL;
}

static uint32_t
binary_oid(const PGresult *res, int row, int column)
{
	uint32_t	v;

	memcpy(&v, PQgetvalue(res, row, column), sizeof(v));
	return ntohl(v);
}

/* The source's fingerprints, by OID; false on error (logged). */
static bool
read_source_prints(PGconn *src, LargeObjectPrintList *out)
{
	/* OFFSET 0: one lo_get per object, not one per use of its value */
	PGresult   *res = db_query(src,
							   "SELECT m.oid::bigint, pg_catalog.octet_length(d.data), " FINGERPRINT_SQL " "
							   "FROM pg_catalog.pg_largeobject_metadata m "
							   "CROSS JOIN LATERAL (SELECT pg_catalog.lo_get(m.oid) AS data OFFSET 0) d "
							   COMMENT_JOIN
							   "ORDER BY m.oid");

	return lo_prints_from_result(res, out);
}

/* "{1,2,3}" of n OIDs, malloc'd. */
static char *
oid_array(const uint32_t *loids, int n)
{
	StrBuf		sb = {0};

	strbuf_append(&sb, "{");
	for (int i = 0; i < n; i++)
		strbuf_printf(&sb, "%s%u", i > 0 ? "," : "", loids[i]);
	strbuf_append(&sb, "}");
	return sb.data;
}

/* Unlinks the target's objects of these OIDs, if there; the caller's transaction. */
static bool
unlink_on_target(PGconn *tgt, const uint32_t *loids, int n)
{
	char	   *list = oid_array(loids, n);
	const char *params[1] = {list};
	PGresult   *res = db_query_params(tgt,
									  "SELECT count(pg_catalog.lo_unlink(oid)) FROM pg_catalog.pg_largeobject_metadata "
									  "WHERE oid = ANY ($1::pg_catalog.oid[])",
									  1, params);

	PQclear(res);
	free(list);
	return res != NULL;
}

/* The rest of one object after its first chunk: lo_get there, lo_put here. */
static bool
append_chunks(PGconn *src, PGconn *tgt, const LargeObjectPrint *p, int64_t *moved)
{
	char		oid[16];

	snprintf(oid, sizeof(oid), "%u", p->loid);
	for (int64_t offset = LO_CHUNK_BYTES; offset < p->bytes; offset += LO_CHUNK_BYTES)
	{
		char		off[32],
					len[16];
		const char *get[3] = {oid, off, len};
		PGresult   *chunk;
		PGresult   *put;

		snprintf(off, sizeof(off), "%lld", (long long) offset);
		snprintf(len, sizeof(len), "%d", LO_CHUNK_BYTES);
		if ((chunk = exec_binary(src, "SELECT pg_catalog.lo_get($1::pg_catalog.oid, $2::bigint, $3::int)",
								 3, get, NULL, NULL)) == NULL)
			return false;
		{
			const char *values[3] = {oid, off, PQgetvalue(chunk, 0, 0)};
			int			lengths[3] = {0, 0, PQgetlength(chunk, 0, 0)};
			int			formats[3] = {0, 0, 1};

			put = exec_binary(tgt, "SELECT pg_catalog.lo_put($1::pg_catalog.oid, $2::bigint, $3::bytea)",
							  3, values, lengths, formats);
			*moved += lengths[2];
		}
		PQclear(chunk);
		PQclear(put);
		if (put == NULL)
			return false;
	}
	return true;
}

/*
 * Writes the n objects of prints on the target in one transaction, with
 * their fingerprints: each unlinked if there, made again under its OID from
 * its first chunk, its further chunks appended, its comment set.
 */
static bool
move_batch(PGconn *src, PGconn *tgt, const char *slot, const LargeObjectPrint *prints, int n,
		   int64_t *moved)
{
	uint32_t   *loids = pg_malloc0(sizeof(uint32_t) * n);
	char	   *list;
	char		chunk[16];
	const char *params[2];
	PGresult   *heads;
	bool		ok = false;

	for (int i = 0; i < n; i++)
		loids[i] = prints[i].loid;
	list = oid_array(loids, n);
	snprintf(chunk, sizeof(chunk), "%d", LO_CHUNK_BYTES);
	params[0] = list;
	params[1] = chunk;
	heads = exec_binary(src,
						"SELECT m.oid, pg_catalog.lo_get(m.oid, 0, $2::int), c.description "
						"FROM unnest($1::pg_catalog.oid[]) WITH ORDINALITY AS m(oid, n) "
						COMMENT_JOIN
						"ORDER BY m.n",
						2, params, NULL, NULL);
	if (heads == NULL || PQntuples(heads) != n)
		goto done;
	if (!db_exec(tgt, "BEGIN") || !unlink_on_target(tgt, loids, n))
		goto rollback;
	for (int i = 0; i < n; i++)
	{
		char		oid[16];
		const char *values[2] = {oid, PQgetvalue(heads, i, 1)};
		int			lengths[2] = {0, PQgetlength(heads, i, 1)};
		int			formats[2] = {0, 1};
		PGresult   *res;

		if (binary_oid(heads, i, 0) != loids[i])
			goto rollback;
		snprintf(oid, sizeof(oid), "%u", loids[i]);
		res = exec_binary(tgt, "SELECT pg_catalog.lo_from_bytea($1::pg_catalog.oid, $2::bytea)",
						  2, values, lengths, formats);
		PQclear(res);
		if (res == NULL)
			goto rollback;
		*moved += lengths[1];
		if (!append_chunks(src, tgt, &prints[i], moved))
			goto rollback;
		if (!PQgetisnull(heads, i, 2))
		{
			char	   *lit = db_quote_literal(tgt, PQgetvalue(heads, i, 2));
			char	   *sql = psprintf("COMMENT ON LARGE OBJECT %u IS %s", loids[i], lit);
			bool		commented = db_exec(tgt, sql);

			free(sql);
			free(lit);
			if (!commented)
				goto rollback;
		}
	}
	if (!lo_state_record(tgt, slot, prints, n) || !db_exec(tgt, "COMMIT"))
		goto rollback;
	ok = true;
	goto done;
rollback:
	PQclear(PQexec(tgt, "ROLLBACK"));
done:
	PQclear(heads);
	free(list);
	free(loids);
	return ok;
}

/*
 * Unlinks on the target the objects gone from the source, LO_BATCH_OBJECTS
 * to a transaction: lo_unlink takes a lock per object.
 */
static bool
delete_gone(PGconn *tgt, const char *slot, const uint32_t *loids, int n)
{
	for (int first = 0; first < n; first += LO_BATCH_OBJECTS)
	{
		int			k = n - first < LO_BATCH_OBJECTS ? n - first : LO_BATCH_OBJECTS;

		if (!db_exec(tgt, "BEGIN") || !unlink_on_target(tgt, loids + first, k) ||
			!lo_state_forget(tgt, slot, loids + first, k) || !db_exec(tgt, "COMMIT"))
		{
			PQclear(PQexec(tgt, "ROLLBACK"));
			return false;
		}
	}
	return true;
}

/* The merge by OID (lo_sync.h); pure, unit-tested. */
void
lo_plan_pass(const LargeObjectPrintList *source, const LargeObjectPrintList *target,
			 LargeObjectPrint *move, int *nmove, uint32_t *gone, int *ngone,
			 LargeObjectSyncResult *result)
{
	int			s = 0,
				t = 0;

	*nmove = *ngone = 0;
	while (s < source->count || t < target->count)
	{
		const LargeObjectPrint *sp = s < source->count ? &source->items[s] : NULL;
		const LargeObjectPrint *tp = t < target->count ? &target->items[t] : NULL;

		if (tp == NULL || (sp && sp->loid < tp->loid))
		{
			move[(*nmove)++] = *sp;
			result->created++;
			s++;
		}
		else if (sp == NULL || tp->loid < sp->loid)
		{
			gone[(*ngone)++] = tp->loid;
			t++;
		}
		else
		{
			if (strcmp(sp->fingerprint, tp->fingerprint) != 0)
			{
				move[(*nmove)++] = *sp;
				result->changed++;
			}
			s++;
			t++;
		}
	}
	result->deleted = *ngone;
}

/* --dry-run: what the pass would do, the first PLAN_LINES objects of each kind by name. */
#define PLAN_LINES 20

static void
print_plan(const LargeObjectPrint *move, int nmove, const uint32_t *gone, int ngone)
{
	for (int i = 0; i < ngone && i < PLAN_LINES; i++)
		printf("[target] SELECT pg_catalog.lo_unlink(%u);\n", gone[i]);
	if (ngone > PLAN_LINES)
		printf("[target] -- and lo_unlink of %d more large objects gone from the source\n", ngone - PLAN_LINES);
	for (int i = 0; i < nmove && i < PLAN_LINES; i++)
		printf("[source->target] -- large object %u (%lld bytes): lo_get on the source; lo_unlink, lo_from_bytea(%u, data), COMMENT ON LARGE OBJECT on the target\n",
			   move[i].loid, (long long) move[i].bytes, move[i].loid);
	if (nmove > PLAN_LINES)
		printf("[source->target] -- and %d more large objects new or changed on the source\n", nmove - PLAN_LINES);
}

bool
lo_sync(PGconn *src, PGconn *tgt, const char *slot, bool dry_run,
		volatile sig_atomic_t *interrupted, LargeObjectSyncResult *result)
{
	double		t0 = now_seconds();
	bool		own_snapshot = PQtransactionStatus(src) == PQTRANS_IDLE;
	LargeObjectPrintList source = {0},
				target = {0};
	LargeObjectPrint *move = NULL;
	uint32_t   *gone = NULL;
	int			nmove = 0,
				ngone = 0;
	bool		ok = false;

	memset(result, 0, sizeof(*result));
	if (own_snapshot && !db_exec(src, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"))
		return false;
	if (!read_source_prints(src, &source) || !lo_state_load(tgt, slot, &target))
		goto done;
	result->objects = source.count;
	for (int i = 0; i < source.count; i++)
		result->source_bytes += source.items[i].bytes;
	move = pg_malloc0(sizeof(LargeObjectPrint) * (source.count + 1));
	gone = pg_malloc0(sizeof(uint32_t) * (target.count + 1));
	lo_plan_pass(&source, &target, move, &nmove, gone, &ngone, result);
	if (dry_run)
	{
		print_plan(move, nmove, gone, ngone);
		ok = true;
		goto done;
	}
	if (!delete_gone(tgt, slot, gone, ngone))
		goto done;
	for (int first = 0; first < nmove;)
	{
		int			n = 0;
		int64_t		bytes = 0;

		if (interrupted && *interrupted)
		{
			log_error("large objects: interrupted after %d of %d", first, nmove);
			goto done;
		}
		while (first + n < nmove && n < LO_BATCH_OBJECTS && (n == 0 || bytes < LO_BATCH_BYTES))
		{
			int64_t		b = move[first + n].bytes;

			bytes += b < LO_CHUNK_BYTES ? b : LO_CHUNK_BYTES;
			n++;
		}
		if (!move_batch(src, tgt, slot, move + first, n, &result->bytes_moved))
		{
			log_error("large objects: cannot write large object(s) %u..%u on the target (the server's message is above)",
					  move[first].loid, move[first + n - 1].loid);
			goto done;
		}
		first += n;
	}
	ok = true;
done:
	if (own_snapshot)
		PQclear(PQexec(src, "ROLLBACK"));
	result->seconds = now_seconds() - t0;
	lo_print_list_free(&source);
	lo_print_list_free(&target);
	free(move);
	free(gone);
	return ok;
}
