/*
 * pgversion.h
 *	  What depends on the PostgreSQL major versions at hand, as pure
 *	  functions of them: the oldest server pgcutover works with, the
 *	  signature of pg_logical_emit_message a GRANT must name, and which
 *	  installed pg_dump suits a source and target pair.
 */
#ifndef PGCUTOVER_PGVERSION_H
#define PGCUTOVER_PGVERSION_H

/*
 * The oldest major version of a source or target: the code relies on 13
 * (pg_replication_slots.wal_status, attgenerated, pg_partition_tree,
 * EXECUTE FUNCTION in triggers, hashtextextended, pg_current_xact_id, xid8,
 * pg_snapshot).
 */
#define PG_MIN_SUPPORTED_MAJOR 13

/*
 * The function pg_logical_emit_message as a GRANT names it on a server of
 * this major version: PostgreSQL 17 added a fourth argument, flush.
 */
const char *emit_message_signature(int major);

/*
 * The major version of the pg_dump to run, out of the installed ones
 * (installed[0..ninstalled-1], any order), for dumping a source of
 * source_major and restoring on a target of target_major: pg_dump refuses
 * a server newer than itself, and a pg_dump newer than the target writes
 * what the target may reject (SET transaction_timeout from 17 on).  So the
 * highest installed version from source_major to target_major (the
 * target's own when installed); 0 when none fits.
 */
int			pg_dump_choose_major(const int *installed, int ninstalled,
								 int source_major, int target_major);

#endif
