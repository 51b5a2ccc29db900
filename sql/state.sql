-- sql/state.sql
-- The pgcutover state schema on the TARGET.  Installed by copy (idempotent:
-- every statement may run again), dropped by cleanup.  One migration per
-- replication slot.  Everything a rerun needs to resume lives here, written
-- in the same target transaction as the work it describes.

CREATE SCHEMA IF NOT EXISTS pgcutover;

CREATE TABLE IF NOT EXISTS pgcutover.migration (
    slot_name        text PRIMARY KEY,
    run_id           text NOT NULL,
    phase            text NOT NULL,   -- copy_schema, copy_data, copy_post, copied, following, ...
    source_sysid     text,
    source_dbname    text,
    source_version   int,
    consistent_lsn   pg_lsn,
    snapshot_name    text,
    keeper_socket    text,
    keeper_pid       int,
    include_schema   text[] NOT NULL DEFAULT '{}',   -- the copy's filters, which follow keeps
    exclude_schema   text[] NOT NULL DEFAULT '{}',
    include_table    text[] NOT NULL DEFAULT '{}',
    exclude_table    text[] NOT NULL DEFAULT '{}',
    copy_started_at  timestamptz,
    copy_finished_at timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- One row per unit of data copy: a whole table, or one CTID block range of a
-- large one.  status flips to 'done' in the same transaction as its COPY.
CREATE TABLE IF NOT EXISTS pgcutover.copy_job (
    slot_name    text NOT NULL REFERENCES pgcutover.migration ON DELETE CASCADE,
    nspname      text NOT NULL,
    relname      text NOT NULL,
    part         int NOT NULL,
    parts        int NOT NULL,
    block_from   bigint,              -- NULL: whole table
    block_to     bigint,              -- exclusive; NULL: to the end
    est_bytes    bigint NOT NULL DEFAULT 0,
    binary_copy  boolean NOT NULL DEFAULT true,
    columns      text NOT NULL DEFAULT '',       -- quoted column list, generated columns left out
    status       text NOT NULL DEFAULT 'pending',   -- pending, running, done
    rows_copied  bigint,              -- running: streamed so far, not committed yet
    bytes_copied bigint,
    started_at   timestamptz,
    finished_at  timestamptz,
    PRIMARY KEY (slot_name, nspname, relname, part)
);

-- The post-data schema (indexes, constraints, triggers, ...) as one step per
-- pg_dump TOC entry, captured in the snapshot so a resume never needs it.
CREATE TABLE IF NOT EXISTS pgcutover.post_step (
    slot_name   text NOT NULL REFERENCES pgcutover.migration ON DELETE CASCADE,
    step        int NOT NULL,
    stage       int NOT NULL,        -- 1 indexes/keys, 2 index attach, 3 foreign keys, 4 the rest
    kind        text NOT NULL,       -- pg_dump's Type
    name        text NOT NULL,
    sql         text NOT NULL,
    status      text NOT NULL DEFAULT 'pending',
    seconds     double precision,
    PRIMARY KEY (slot_name, step)
);

-- copy: progress for `status`.  The copy's leader marks the jobs in flight
-- 'running' with their counts so far (at most once a second, in one
-- statement) and keeps its estimate (percent, rate, ETA) in
-- phase_log.detail; a post-data step is 'running' from started_at.  A run
-- that ends or dies leaves 'running' rows that the next run resets.
ALTER TABLE pgcutover.post_step ADD COLUMN IF NOT EXISTS started_at timestamptz;

-- Sequence values read in the snapshot, set on the target at the end of copy.
CREATE TABLE IF NOT EXISTS pgcutover.copy_sequence (
    slot_name   text NOT NULL REFERENCES pgcutover.migration ON DELETE CASCADE,
    nspname     text NOT NULL,
    relname     text NOT NULL,
    last_value  bigint NOT NULL,
    is_called   boolean NOT NULL,
    PRIMARY KEY (slot_name, nspname, relname)
);

-- Large objects as the target holds them: one row per object pgcutover
-- wrote there (copy, in the snapshot; switchover, before and inside the
-- fence), in the same target transaction as the object.  fingerprint is
-- md5(data) '/' md5(comment) ('-' without one) as the source had them: a
-- pass re-reads the source's fingerprints and moves only the objects whose
-- fingerprint differs or that are new, and unlinks those gone.
CREATE TABLE IF NOT EXISTS pgcutover.large_object (
    slot_name    text NOT NULL REFERENCES pgcutover.migration ON DELETE CASCADE,
    loid         oid NOT NULL,
    bytes        bigint NOT NULL,
    fingerprint  text NOT NULL,
    written_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (slot_name, loid)
);

-- Durations of each phase, for the report.
CREATE TABLE IF NOT EXISTS pgcutover.phase_log (
    slot_name   text NOT NULL REFERENCES pgcutover.migration ON DELETE CASCADE,
    phase       text NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    detail      jsonb,
    PRIMARY KEY (slot_name, phase)
);

-- follow: the position durably applied, advanced in the same target
-- transaction as the changes it covers (this is the exactly-once guarantee).
CREATE TABLE IF NOT EXISTS pgcutover.apply_progress (
    slot_name          text PRIMARY KEY REFERENCES pgcutover.migration ON DELETE CASCADE,
    applied_lsn        pg_lsn NOT NULL,
    source_commit_time timestamptz,
    txns               bigint NOT NULL DEFAULT 0,
    rows               bigint NOT NULL DEFAULT 0,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- follow: GENERATED ALWAYS identity columns switched to BY DEFAULT on the
-- target while it is a replica (an UPDATE cannot set an ALWAYS column);
-- switchover and cleanup switch them back.
CREATE TABLE IF NOT EXISTS pgcutover.identity_always (
    slot_name  text NOT NULL REFERENCES pgcutover.migration ON DELETE CASCADE,
    nspname    text NOT NULL,
    relname    text NOT NULL,
    attname    text NOT NULL,
    PRIMARY KEY (slot_name, nspname, relname, attname)
);

-- follow: its live state, rewritten at most once a second, for `status`
-- and for people.  The follower holds an advisory lock while it runs.
CREATE TABLE IF NOT EXISTS pgcutover.follower (
    slot_name               text PRIMARY KEY REFERENCES pgcutover.migration ON DELETE CASCADE,
    pid                     int,
    host                    text,
    started_at              timestamptz,
    phase                   text,          -- following, stopped, failed
    applied_lsn             pg_lsn,
    source_lsn              pg_lsn,
    lag_bytes               bigint,
    lag_seconds             double precision,
    txns                    bigint,
    rows                    bigint,
    txn_per_sec             double precision,
    rows_per_sec            double precision,
    slot_retained_wal_bytes bigint,
    wal_status              text,
    heartbeat               boolean,
    behind_since            timestamptz,
    last_error              text,
    updated_at              timestamptz
);

-- switchover: the fence, so that an abort or cleanup can lift it.
ALTER TABLE pgcutover.migration ADD COLUMN IF NOT EXISTS fenced_at timestamptz;
ALTER TABLE pgcutover.migration ADD COLUMN IF NOT EXISTS fence_mode text;
ALTER TABLE pgcutover.migration ADD COLUMN IF NOT EXISTS switched_over_at timestamptz;
-- what the fence changed on the source, as it was before (JSON: connection
-- rights, the database's own read-only setting, its grants), so that an
-- abort, a later run or cleanup restores exactly that.
ALTER TABLE pgcutover.migration ADD COLUMN IF NOT EXISTS fence_prior text;
-- --reverse, on the old source: the fence_prior of the forward switchover
-- that left this database fenced at rest, so that switching back over lifts
-- that fence (pgcutover_fence and the read-only default) as it was before.
ALTER TABLE pgcutover.migration ADD COLUMN IF NOT EXISTS rest_fence_prior text;

-- follow: the backend pids of the follower's own sessions on the source,
-- which the switchover's fence spares (it ends every other session).
ALTER TABLE pgcutover.follower ADD COLUMN IF NOT EXISTS source_pids int[];

-- follow: one row a second of what its follower row said (written by the
-- same statement), kept for an hour, for the lag picture and the catch-up
-- estimate of `status`.  Positions as pg_lsn: the rates are their
-- differences.  Created here, so an older schema gains it on the next start.
CREATE TABLE IF NOT EXISTS pgcutover.lag_history (
    slot_name    text NOT NULL REFERENCES pgcutover.migration ON DELETE CASCADE,
    at           timestamptz NOT NULL,
    lag_bytes    bigint NOT NULL,
    lag_seconds  double precision,         -- NULL: unknown
    applied_lsn  pg_lsn NOT NULL,
    source_lsn   pg_lsn,                   -- NULL: unknown
    txn_per_sec  double precision,
    rows_per_sec double precision,
    PRIMARY KEY (slot_name, at)
);

-- follow --ddl: a captured DDL command that stopped follow (it failed on the
-- target, or --ddl=stop); `follow --resume-after-ddl` skips exactly this one.
ALTER TABLE pgcutover.apply_progress ADD COLUMN IF NOT EXISTS ddl_stop_lsn pg_lsn;

-- follow: switch every GENERATED ALWAYS identity column of the target to BY
-- DEFAULT and record it (again after each replayed DDL, which may have made
-- new ones); forget columns that no longer exist.  Returns how many there are.
ALTER TABLE pgcutover.identity_always ADD COLUMN IF NOT EXISTS attrelid oid;
ALTER TABLE pgcutover.identity_always ADD COLUMN IF NOT EXISTS attnum int;

CREATE OR REPLACE FUNCTION pgcutover.relax_identity(slot text) RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
BEGIN
    -- every caller of this function (apply's start, each replayed DDL) is
    -- also where triggers that would fire on apply must be quieted
    PERFORM pgcutover.quiet_triggers(slot);
    -- the column's number outlives renames of the table, its schema or itself
    UPDATE pgcutover.identity_always i SET attrelid = c.oid, attnum = a.attnum
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE i.slot_name = slot AND i.attrelid IS NULL AND n.nspname = i.nspname
      AND c.relname = i.relname AND a.attname = i.attname AND NOT a.attisdropped;
    UPDATE pgcutover.identity_always i SET nspname = n.nspname, relname = c.relname, attname = a.attname
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE i.slot_name = slot AND a.attrelid = i.attrelid AND a.attnum = i.attnum AND NOT a.attisdropped
      AND (n.nspname, c.relname, a.attname) IS DISTINCT FROM (i.nspname, i.relname, i.attname);
    INSERT INTO pgcutover.identity_always (slot_name, nspname, relname, attname, attrelid, attnum)
    SELECT slot, n.nspname, c.relname, a.attname, c.oid, a.attnum
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE a.attidentity = 'a' AND NOT a.attisdropped AND n.nspname <> 'pgcutover'
    ON CONFLICT DO NOTHING;
    -- dropped columns (or tables), or no identity any more
    DELETE FROM pgcutover.identity_always i
    WHERE i.slot_name = slot AND NOT EXISTS (
        SELECT 1 FROM pg_attribute a
        WHERE a.attrelid = i.attrelid AND a.attnum = i.attnum
          AND a.attidentity <> '' AND NOT a.attisdropped);
    FOR r IN SELECT i.nspname, i.relname, i.attname
             FROM pgcutover.identity_always i
             JOIN pg_namespace n ON n.nspname = i.nspname
             JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = i.relname
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = i.attname
             WHERE i.slot_name = slot AND a.attidentity = 'a'
    LOOP
        EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN %I SET GENERATED BY DEFAULT',
                       r.nspname, r.relname, r.attname);
    END LOOP;
    RETURN (SELECT count(*) FROM pgcutover.identity_always WHERE slot_name = slot);
END $$;

-- follow --ddl=apply: a column added with a non-volatile default (ADD COLUMN
-- ... DEFAULT now()) gives the existing rows a value computed once, when the
-- command ran.  Replayed on the target it is computed again, later.  The
-- source's value (attmissingval as text, in these fixed settings on both
-- sides) is set on the rows the target has at that point when they differ.
CREATE OR REPLACE FUNCTION pgcutover.ddl_fix_missing(nsp text, rel text, col text, source_value text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD' SET intervalstyle = 'postgres' SET timezone = 'UTC'
SET extra_float_digits = 3 AS $$
DECLARE
    target_value text;
    coltype text;
    n bigint;
BEGIN
    SELECT a.attmissingval::text, format_type(a.atttypid, a.atttypmod)
      INTO target_value, coltype
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace ns ON ns.oid = c.relnamespace
    WHERE ns.nspname = nsp AND c.relname = rel AND a.attname = col AND NOT a.attisdropped;
    -- only a column the replayed command itself gave a computed-once value
    -- (a NULL attmissingval: the target's rows hold their own values)
    IF coltype IS NULL OR target_value IS NULL OR target_value = source_value THEN
        RETURN 0;
    END IF;
    EXECUTE format('UPDATE ONLY %I.%I SET %I = (%L::%s[])[1]', nsp, rel, col, source_value, coltype);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- verify --online: one row per verification of a slot's migration.  The row
-- is also the protocol between `verify --online` and the running follower
-- (src/verify/online.c and src/follow/verify_barrier.c say who writes what):
--   requested  -> holding    the follower stopped at a transaction boundary
--              -> lsn_known  the verifier's source snapshot shows lsn
--              -> exported   the follower applied everything up to lsn and
--                            nothing after, and exported target_snapshot
--              -> imported   the verifier's sessions hold both snapshots;
--                            the follower lets its exporting session go
--              -> done / failed.
-- Each step is followed by NOTIFY pgcutover_verify.
CREATE TABLE IF NOT EXISTS pgcutover.verification (
    id              bigserial PRIMARY KEY,
    slot_name       text NOT NULL REFERENCES pgcutover.migration ON DELETE CASCADE,
    mode            text NOT NULL,          -- online, full, incremental
    state           text NOT NULL,
    lsn             pg_lsn,                 -- online: the position both sides are compared at
    target_snapshot text,                   -- online: exported by the follower at lsn
    target_pg_snapshot text,                -- online: pg_current_snapshot() of that export
    pause_ms        double precision,       -- online: how long the follower stood still
    target_shapes   jsonb,                  -- online: pgcutover.table_shapes() in that snapshot
    rows_compared   bigint,
    tables_checked  int,
    mismatches      int,
    ok              boolean,
    verdicts        jsonb,                  -- per table: {table, match, rows, differing_keys}
    error           text,
    requested_at    timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);
CREATE INDEX IF NOT EXISTS verification_slot ON pgcutover.verification (slot_name, id);

-- follow: the key of every row it applied after the lsn of an online
-- verification (written in the same target transaction as the row), so that
-- switchover --verify incremental compares only those keys.
CREATE TABLE IF NOT EXISTS pgcutover.changed_key (
    verification_id bigint NOT NULL REFERENCES pgcutover.verification ON DELETE CASCADE,
    nspname         text NOT NULL,
    relname         text NOT NULL,
    key             jsonb NOT NULL,         -- {"column": "text value", ...}
    PRIMARY KEY (verification_id, nspname, relname, key)
);

-- follow: tables whose changes after that lsn can not be told by key (no
-- key, TRUNCATE, too many keys): the incremental verify compares them whole.
CREATE TABLE IF NOT EXISTS pgcutover.changed_table (
    verification_id bigint NOT NULL REFERENCES pgcutover.verification ON DELETE CASCADE,
    nspname         text NOT NULL,
    relname         text NOT NULL,
    reason          text NOT NULL,
    PRIMARY KEY (verification_id, nspname, relname)
);

-- verify --online: writes on the target by anyone but the follower, noted by
-- a statement trigger on every table (pgcutover_target_write, installed by
-- pgcutover.watch_target_writes, dropped with this function at switchover
-- and by cleanup).  The incremental verify compares such tables whole when
-- the writing transaction is not in the online verification's snapshot.
CREATE TABLE IF NOT EXISTS pgcutover.target_write (
    nspname   text NOT NULL,
    relname   text NOT NULL,
    xid       xid8 NOT NULL,
    noted_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (nspname, relname, xid)
);

CREATE OR REPLACE FUNCTION pgcutover.note_target_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO pgcutover.target_write (nspname, relname, xid)
    VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, pg_current_xact_id())
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

-- Puts the trigger on one table (a quoted qualified name) if it exists and
-- lacks it; true when it was added.  One table a call, each in its own
-- transaction: the table's lock is held only that long (holding several
-- while the follower writes them in another order would deadlock).
DROP FUNCTION IF EXISTS pgcutover.watch_target_writes(text[]);
CREATE OR REPLACE FUNCTION pgcutover.watch_target_write(name text) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t regclass := to_regclass(name);
BEGIN
    IF t IS NULL OR EXISTS (SELECT 1 FROM pg_trigger
                            WHERE tgrelid = t AND tgname = 'pgcutover_target_write') THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TRIGGER pgcutover_target_write AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE '
                   'ON %s FOR EACH STATEMENT '
                   'WHEN (pg_catalog.current_setting(''pgcutover.role'', true) IS DISTINCT FROM ''follower'') '
                   'EXECUTE FUNCTION pgcutover.note_target_write()', t);
    EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER pgcutover_target_write', t);
    RETURN true;
END $$;

-- Takes the triggers of watch_target_writes off every table again.
CREATE OR REPLACE FUNCTION pgcutover.unwatch_target_writes() RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t regclass;
    n int := 0;
BEGIN
    FOR t IN SELECT tgrelid::regclass FROM pg_trigger WHERE tgname = 'pgcutover_target_write' LOOP
        EXECUTE format('DROP TRIGGER pgcutover_target_write ON %s', t);
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;

-- The shape of every user table of this database: its storage (relfilenode:
-- a rewrite, TRUNCATE or VACUUM FULL changes it) and its columns.  verify
-- --online records it in the target's snapshot; the incremental verify
-- compares whole every table whose shape changed since (DDL on the target,
-- or DDL follow replayed).
CREATE OR REPLACE FUNCTION pgcutover.table_shapes()
RETURNS TABLE (nspname text, relname text, shape text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT n.nspname::text, c.relname::text,
           md5(c.relfilenode::text || ':' || coalesce((
               SELECT string_agg(a.attnum || ' ' || a.attname || ' ' || a.atttypid || ' ' || a.atttypmod
                                 || ' ' || a.attisdropped, ',' ORDER BY a.attnum)
               FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0), ''))
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgcutover')
      AND n.nspname !~ '^pg_'
$$;

-- copy and follow: triggers (and rules) that fire in replica role, that is
-- ENABLE ALWAYS or ENABLE REPLICA ones, would fire again on the target for
-- every row apply writes (an audit trigger inserts its row twice: once on
-- the source, streamed, once here).  While the target is a replica they are
-- disabled, their state recorded first, in the same transaction (a kill in
-- between loses nothing); switchover and cleanup restore them.  Keyed by
-- the object's oid, which outlives renames.  pgcutover's own triggers are
-- left alone.
CREATE TABLE IF NOT EXISTS pgcutover.quieted_trigger (
    slot_name  text NOT NULL REFERENCES pgcutover.migration ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('trigger', 'rule')),
    objid      oid NOT NULL,           -- pg_trigger.oid or pg_rewrite.oid
    nspname    text NOT NULL,
    relname    text NOT NULL,
    name       text NOT NULL,
    enabled    text NOT NULL CHECK (enabled IN ('A', 'R')),   -- ALWAYS, REPLICA
    is_clone   boolean NOT NULL DEFAULT false,  -- a partition's copy of its parent's trigger
    PRIMARY KEY (slot_name, kind, objid)
);

-- What fires in replica role on the target now, by the recorded kind,
-- objid, names and state ('A' or 'R'; 'D' once quieted), and whether this
-- role may alter its table (owner, or a member of the owner's role).
CREATE OR REPLACE FUNCTION pgcutover.replica_firing()
RETURNS TABLE (kind text, objid oid, nspname text, relname text, name text,
               enabled text, is_clone boolean, may_alter boolean)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'trigger', t.oid, n.nspname::text, c.relname::text, t.tgname::text,
           t.tgenabled::text, t.tgparentid <> 0, pg_has_role(c.relowner, 'USAGE')
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace
    WHERE NOT t.tgisinternal AND pn.nspname NOT IN ('pgcutover', 'pgcutover_fence')
      AND n.nspname NOT IN ('pgcutover', 'pgcutover_fence')
    UNION ALL
    SELECT 'rule', r.oid, n.nspname::text, c.relname::text, r.rulename::text,
           r.ev_enabled::text, false, pg_has_role(c.relowner, 'USAGE')
    FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE r.rulename <> '_RETURN' AND c.relkind IN ('r', 'p')
      AND n.nspname NOT IN ('pgcutover', 'pgcutover_fence')
$$;

-- Records, then disables, every ENABLE ALWAYS/REPLICA trigger and rule of
-- the target (again after each replayed DDL: new ones, renamed ones, one
-- enabled again by the DDL); forgets dropped ones.  Those on a table this
-- role may not alter (not migrated: another owner's) are left.  Nothing
-- once the migration is switched over: the target is the primary then.
-- Returns how many are quieted.
CREATE OR REPLACE FUNCTION pgcutover.quiet_triggers(slot text) RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
BEGIN
    IF EXISTS (SELECT 1 FROM pgcutover.migration m
               WHERE m.slot_name = slot AND m.phase = 'switched_over') THEN
        RETURN 0;
    END IF;
    DELETE FROM pgcutover.quieted_trigger q
    WHERE q.slot_name = slot AND NOT EXISTS (
        SELECT 1 FROM pgcutover.replica_firing() f WHERE f.kind = q.kind AND f.objid = q.objid);
    UPDATE pgcutover.quieted_trigger q
    SET nspname = f.nspname, relname = f.relname, name = f.name
    FROM pgcutover.replica_firing() f
    WHERE q.slot_name = slot AND f.kind = q.kind AND f.objid = q.objid
      AND (f.nspname, f.relname, f.name) IS DISTINCT FROM (q.nspname, q.relname, q.name);
    INSERT INTO pgcutover.quieted_trigger AS q
        (slot_name, kind, objid, nspname, relname, name, enabled, is_clone)
    SELECT slot, f.kind, f.objid, f.nspname, f.relname, f.name, f.enabled, f.is_clone
    FROM pgcutover.replica_firing() f WHERE f.enabled IN ('A', 'R') AND f.may_alter
    ON CONFLICT (slot_name, kind, objid) DO UPDATE SET enabled = EXCLUDED.enabled;
    -- a parent's statement reaches its partitions' clones too: parents first
    FOR r IN SELECT q.kind, q.nspname, q.relname, q.name
             FROM pgcutover.quieted_trigger q JOIN pgcutover.replica_firing() f
               ON f.kind = q.kind AND f.objid = q.objid
             WHERE q.slot_name = slot AND f.enabled <> 'D'
             ORDER BY q.is_clone, q.nspname, q.relname, q.name
    LOOP
        EXECUTE format('ALTER TABLE %I.%I DISABLE %s %I',
                       r.nspname, r.relname, upper(r.kind), r.name);
    END LOOP;
    RETURN (SELECT count(*) FROM pgcutover.quieted_trigger q WHERE q.slot_name = slot);
END $$;

-- The statements that give the quieted triggers and rules of slot the state
-- the source has now, parents before partitions.  source_state maps
-- 'kind|schema|table|name' to the source's pg_trigger.tgenabled or
-- pg_rewrite.ev_enabled ('O', 'D', 'A', 'R'): the switchover reads it inside
-- its fence, so a state that replayed DDL changed after the copy (ENABLE,
-- DISABLE) is the one given back.  One the source lacks, or no
-- source_state at all (cleanup), gets the state recorded when quieted.
CREATE OR REPLACE FUNCTION pgcutover.unquiet_statements_as(slot text, source_state jsonb)
RETURNS SETOF text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT format('ALTER TABLE %I.%I %s %s %I', q.nspname, q.relname,
                  CASE s.enabled WHEN 'A' THEN 'ENABLE ALWAYS' WHEN 'R' THEN 'ENABLE REPLICA'
                                 WHEN 'O' THEN 'ENABLE' ELSE 'DISABLE' END,
                  upper(q.kind), q.name)
    FROM pgcutover.quieted_trigger q JOIN pgcutover.replica_firing() f
      ON f.kind = q.kind AND f.objid = q.objid
    CROSS JOIN LATERAL (SELECT coalesce(source_state ->> (q.kind || '|' || q.nspname || '|' || q.relname || '|' || q.name),
                                        q.enabled) AS enabled) s
    WHERE q.slot_name = slot
    ORDER BY q.is_clone, q.nspname, q.relname, q.name
$$;

-- The same with the recorded states (--dry-run of cleanup).
CREATE OR REPLACE FUNCTION pgcutover.unquiet_statements(slot text) RETURNS SETOF text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT pgcutover.unquiet_statements_as(slot, NULL)
$$;

-- Switchover (the target becomes the primary) and cleanup: restores them
-- and forgets them, in one transaction.  Returns how many were restored.
CREATE OR REPLACE FUNCTION pgcutover.unquiet_triggers_as(slot text, source_state jsonb) RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    stmt text;
    n int := 0;
BEGIN
    FOR stmt IN SELECT pgcutover.unquiet_statements_as(slot, source_state) LOOP
        EXECUTE stmt;
        n := n + 1;
    END LOOP;
    DELETE FROM pgcutover.quieted_trigger q WHERE q.slot_name = slot;
    RETURN n;
END $$;

CREATE OR REPLACE FUNCTION pgcutover.unquiet_triggers(slot text) RETURNS int
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT pgcutover.unquiet_triggers_as(slot, NULL)
$$;
