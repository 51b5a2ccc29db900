/*
 * partroute.h
 *	  Which partitions load and apply through their partition root.
 *
 *	  A hash partition holds the rows whose key hashes to its remainder, and
 *	  some hash functions depend on the database: an enum hashes its label's
 *	  OID, which the target assigns anew; a nondeterministic collation hashes
 *	  an ICU sort key; a user's operator class or a key expression may do
 *	  anything.  A row of such a tree may belong to another leaf on the
 *	  target, so its rows go to the tree's root there (COPY at copy, every
 *	  INSERT, UPDATE and DELETE while following), which routes them by the
 *	  target's own hashes: pg_dump's --load-via-partition-root.  Every hash
 *	  key of a built-in type below, with its default operator class and a
 *	  deterministic collation (if any), hashes the value's bytes alone and
 *	  keeps copying per leaf.  Anything else routes: when unsure, the root.
 *
 *	  One rule for the source (copy, verify) and the target (apply), read
 *	  from the catalog alone, so both sides agree.
 */
#ifndef PGCUTOVER_PARTROUTE_H
#define PGCUTOVER_PARTROUTE_H

#define PARTROUTE_PORTABLE_HASH_TYPES \
	"'pg_catalog.int2'::pg_catalog.regtype, 'pg_catalog.int4'::pg_catalog.regtype, " \
	"'pg_catalog.int8'::pg_catalog.regtype, 'pg_catalog.numeric'::pg_catalog.regtype, " \
	"'pg_catalog.float4'::pg_catalog.regtype, 'pg_catalog.float8'::pg_catalog.regtype, " \
	"'pg_catalog.bool'::pg_catalog.regtype, 'pg_catalog.char'::pg_catalog.regtype, " \
	"'pg_catalog.text'::pg_catalog.regtype, 'pg_catalog.varchar'::pg_catalog.regtype, " \
	"'pg_catalog.bpchar'::pg_catalog.regtype, 'pg_catalog.name'::pg_catalog.regtype, " \
	"'pg_catalog.bytea'::pg_catalog.regtype, 'pg_catalog.uuid'::pg_catalog.regtype, " \
	"'pg_catalog.date'::pg_catalog.regtype, 'pg_catalog.time'::pg_catalog.regtype, " \
	"'pg_catalog.timetz'::pg_catalog.regtype, 'pg_catalog.timestamp'::pg_catalog.regtype, " \
	"'pg_catalog.timestamptz'::pg_catalog.regtype, 'pg_catalog.interval'::pg_catalog.regtype, " \
	"'pg_catalog.inet'::pg_catalog.regtype, 'pg_catalog.cidr'::pg_catalog.regtype, " \
	"'pg_catalog.macaddr'::pg_catalog.regtype, 'pg_catalog.macaddr8'::pg_catalog.regtype, " \
	"'pg_catalog.jsonb'::pg_catalog.regtype, 'pg_catalog.pg_lsn'::pg_catalog.regtype, " \
	"'pg_catalog.oid'::pg_catalog.regtype"

/*
 * An SQL expression: the OID of the partition root that the leaf 'relid'
 * (an SQL expression of type oid or regclass) loads and applies through,
 * or NULL when it copies and applies as itself.
 */
#define PARTROUTE_ROOT_SQL(relid) \
	"(SELECT pg_catalog.pg_partition_root(" relid ") WHERE EXISTS (" \
	"  SELECT 1 FROM pg_catalog.pg_partition_ancestors(" relid ") anc(relid) " \
	"  JOIN pg_catalog.pg_partitioned_table pt ON pt.partrelid = anc.relid AND pt.partstrat = 'h' " \
	"  CROSS JOIN LATERAL ROWS FROM (pg_catalog.unnest(pt.partattrs::pg_catalog.int2[]), " \
	"    pg_catalog.unnest(pt.partclass::pg_catalog.oid[]), " \
	"    pg_catalog.unnest(pt.partcollation::pg_catalog.oid[])) k(attnum, opclass, coll) " \
	"  LEFT JOIN pg_catalog.pg_attribute ka ON ka.attrelid = anc.relid AND ka.attnum = k.attnum " \
	"  LEFT JOIN pg_catalog.pg_opclass oc ON oc.oid = k.opclass " \
	"  LEFT JOIN pg_catalog.pg_collation co ON co.oid = k.coll " \
	"  WHERE k.attnum = 0 OR ka.atttypid IS NULL OR oc.oid IS NULL " \
	"    OR NOT oc.opcdefault OR oc.opcnamespace <> 'pg_catalog'::pg_catalog.regnamespace " \
	"    OR ka.atttypid NOT IN (" PARTROUTE_PORTABLE_HASH_TYPES ") " \
	"    OR (co.oid IS NOT NULL AND NOT co.collisdeterministic)))"

#endif
