-- sql/ddl_capture_remove.sql
-- Removes DDL capture from the SOURCE (`pgcutover ddl-capture remove`, and
-- `cleanup`).  Idempotent.  The schema goes too when nothing else is in it
-- (after `switchover --reverse` it also holds the reverse direction's state).

DROP EVENT TRIGGER IF EXISTS pgcutover_ddl_end;
DROP EVENT TRIGGER IF EXISTS pgcutover_ddl_rewrite;
DROP EVENT TRIGGER IF EXISTS pgcutover_ddl_drop;
DROP EVENT TRIGGER IF EXISTS pgcutover_ddl_start;
DROP FUNCTION IF EXISTS pgcutover.ddl_capture_start(), pgcutover.ddl_capture_drop(),
    pgcutover.ddl_capture_rewrite(), pgcutover.ddl_capture_end(),
    pgcutover.ddl_capture_message(text, text, text);

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                   JOIN pg_catalog.pg_namespace n ON n.oid = d.refobjid
                   WHERE d.refclassid = 'pg_catalog.pg_namespace'::pg_catalog.regclass
                     AND n.nspname = 'pgcutover') THEN
        DROP SCHEMA IF EXISTS pgcutover;
    END IF;
END $$;
