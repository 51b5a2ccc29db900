/*
 * copy_lo.c
 *	  The large objects of a copy (copy_lo.h): the source's objects as the
 *	  exported snapshot has them, each under its own OID with its data and
 *	  comment, written on the target with its fingerprint (lo_sync.h).  A
 *	  resumed copy runs the pass again: it writes only what the target does
 *	  not hold yet.  What changes afterwards is the switchover's to carry.
 */
#include "copy_lo.h"
#include "log.h"
#include "lo_sync.h"
#include "outcome.h"
#include "units.h"

int
copy_large_objects_run(CopyContext *ctx)
{
	LargeObjectSyncResult r;
	char		bytes[32],
				took[32];

	if (!lo_sync(ctx->src, ctx->tgt, ctx->slot, false, ctx->interrupted, &r))
		return *ctx->interrupted ? OUTCOME_INTERRUPTED : OUTCOME_SQL;
	if (r.objects > 0 || r.deleted > 0)
		log_info("large objects: %lld in the snapshot (%s), %d written in %s; changes after it are carried by the switchover",
				 (long long) r.objects, format_bytes(r.source_bytes, bytes, sizeof(bytes)),
				 r.created + r.changed, format_duration(r.seconds, took, sizeof(took)));
	return OUTCOME_OK;
}
