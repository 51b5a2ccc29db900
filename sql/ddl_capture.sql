-- sql/ddl_capture.sql
-- DDL capture on the SOURCE, installed by `pgcutover ddl-capture install`
-- (needs superuser: event triggers do) and removed by `ddl-capture remove`
-- or `cleanup`.  Idempotent.
--
-- Every DDL command is written into the WAL as a TRANSACTIONAL logical
-- message (prefix 'pgcutover.ddl') in the command's own transaction, so it
-- reaches `follow` at exactly its place among the row changes, and not at
-- all when the transaction rolls back.  The message is JSON:
--   command      the client's query string (current_query())
--   tag          the command tag, e.g. "ALTER TABLE"
--   exec, seq    which query string execution, and the how-manieth DDL of it
--                (a query string may hold several statements)
--   search_path, role
--   objects      what the command created or altered (type, schema, identity)
--   dropped      what it dropped
--   rewrites     tables it rewrote, with pg_event_trigger_table_rewrite_reason()
--   new_missing  columns it added with a default computed once (attmissingval)
--   error        set instead when capturing failed (follow then stops)
-- Temporary objects are not captured.  The functions are SECURITY DEFINER
-- (pg_logical_emit_message needs rights the DDL's role may lack) and pin
-- their search_path right after reading the caller's.

CREATE SCHEMA IF NOT EXISTS pgcutover;
REVOKE ALL ON SCHEMA pgcutover FROM PUBLIC;

-- ddl_command_start: which columns carry a missing value before the command
CREATE OR REPLACE FUNCTION pgcutover.ddl_capture_start() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM set_config('pgcutover.ddl_missing_before',
        coalesce((SELECT string_agg(attrelid::text || '.' || attnum::text, ',')
                  FROM pg_attribute WHERE atthasmissing), ''), true);
EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'pgcutover DDL capture (start): %', SQLERRM;
END $$;

-- sql_drop: what a DROP removed (ddl_command_end fires after it)
CREATE OR REPLACE FUNCTION pgcutover.ddl_capture_drop() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM set_config('pgcutover.ddl_dropped',
        coalesce((SELECT json_agg(json_build_object('type', object_type, 'schema', schema_name,
                                                    'identity', object_identity))::text
                  FROM pg_event_trigger_dropped_objects()
                  WHERE NOT is_temporary AND (original OR normal)), ''), true);
EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'pgcutover DDL capture (drop): %', SQLERRM;
END $$;

-- table_rewrite: a rewrite whose new values the stream does not carry
CREATE OR REPLACE FUNCTION pgcutover.ddl_capture_rewrite() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    seen text := coalesce(nullif(current_setting('pgcutover.ddl_rewrites', true), ''), '[]');
BEGIN
    PERFORM set_config('pgcutover.ddl_rewrites',
        (seen::jsonb || jsonb_build_array(jsonb_build_object(
            'table', pg_event_trigger_table_rewrite_oid()::regclass::text,
            'reason', pg_event_trigger_table_rewrite_reason())))::text, true);
EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'pgcutover DDL capture (rewrite): %', SQLERRM;
END $$;

-- ddl_command_end: the message.  Not SET search_path: it must read the
-- caller's first, then pins it for the rest of the transaction's command.
CREATE OR REPLACE FUNCTION pgcutover.ddl_capture_end() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    -- pg_catalog-qualified until search_path is pinned below
    caller_path pg_catalog.text := pg_catalog.current_setting('search_path');
    caller_role pg_catalog.text := pg_catalog.current_setting('role');
    objects pg_catalog.json;
    dropped pg_catalog.text;
    rewrites pg_catalog.text;
    new_missing pg_catalog.json;
    exec_key pg_catalog.text;
    prev pg_catalog.text;
    seq pg_catalog.int4 := 1;
    settings pg_catalog.text[];
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF caller_role = 'none' THEN
        caller_role := session_user;
    END IF;
    dropped := coalesce(nullif(current_setting('pgcutover.ddl_dropped', true), ''), '[]');
    rewrites := coalesce(nullif(current_setting('pgcutover.ddl_rewrites', true), ''), '[]');
    PERFORM set_config('pgcutover.ddl_dropped', '', true),
            set_config('pgcutover.ddl_rewrites', '', true);

    SELECT json_agg(json_build_object('type', object_type, 'schema', schema_name,
                                      'identity', object_identity, 'in_extension', in_extension))
      INTO objects
    FROM pg_event_trigger_ddl_commands()
    WHERE schema_name IS DISTINCT FROM 'pg_temp';

    -- only temporary objects (or nothing at all): nothing to replicate
    IF objects IS NULL AND dropped = '[]'
       AND (SELECT count(*) FROM pg_event_trigger_ddl_commands()) > 0 THEN
        PERFORM set_config('search_path', caller_path, true);
        RETURN;
    END IF;
    IF objects IS NULL AND dropped = '[]' AND tg_tag LIKE 'DROP %' THEN
        PERFORM set_config('search_path', caller_path, true);
        RETURN;                 -- a DROP of temporary objects only
    END IF;

    -- columns that got a missing value in this command, in fixed settings
    settings := ARRAY[current_setting('datestyle'), current_setting('intervalstyle'),
                      current_setting('timezone'), current_setting('extra_float_digits')];
    PERFORM set_config('datestyle', 'ISO, YMD', true), set_config('intervalstyle', 'postgres', true),
            set_config('timezone', 'UTC', true), set_config('extra_float_digits', '3', true);
    SELECT json_agg(json_build_object('schema', n.nspname, 'table', c.relname,
                                      'column', a.attname, 'value', a.attmissingval::text))
      INTO new_missing
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE a.atthasmissing AND NOT a.attisdropped    -- partitions too, so no filter by object
      AND NOT (a.attrelid::text || '.' || a.attnum::text) = ANY (
          string_to_array(coalesce(current_setting('pgcutover.ddl_missing_before', true), ''), ','));
    PERFORM set_config('datestyle', settings[1], true), set_config('intervalstyle', settings[2], true),
            set_config('timezone', settings[3], true), set_config('extra_float_digits', settings[4], true);

    -- statements of one query string share the backend and statement_timestamp()
    exec_key := pg_backend_pid()::text || '/' || statement_timestamp()::text;
    prev := coalesce(current_setting('pgcutover.ddl_exec', true), '');
    IF split_part(prev, '#', 1) = exec_key THEN
        seq := split_part(prev, '#', 2)::int + 1;
    END IF;
    PERFORM set_config('pgcutover.ddl_exec', exec_key || '#' || seq, false);

    PERFORM pg_logical_emit_message(true, 'pgcutover.ddl', json_build_object(
        'command', current_query(), 'tag', tg_tag, 'exec', exec_key, 'seq', seq,
        'search_path', caller_path, 'role', caller_role,
        'objects', coalesce(objects, '[]'::json), 'dropped', dropped::json,
        'rewrites', rewrites::json, 'new_missing', coalesce(new_missing, '[]'::json))::text);
    -- Decoding stamps a message with the END of its WAL record, a row change
    -- with its start: the next row change, if in another (sub)transaction,
    -- would tie with the message and may be decoded before it.  One more
    -- record in between breaks the tie.
    PERFORM pg_logical_emit_message(true, 'pgcutover.ddl_end', '');
    PERFORM set_config('search_path', caller_path, true);
EXCEPTION WHEN OTHERS THEN
    -- never fail the application's DDL; make follow stop on it instead
    PERFORM pg_catalog.pg_logical_emit_message(true, 'pgcutover.ddl', pg_catalog.json_build_object(
        'command', pg_catalog.current_query(), 'tag', tg_tag, 'error', SQLERRM)::pg_catalog.text);
    PERFORM pg_catalog.set_config('search_path', caller_path, true);
    RAISE WARNING 'pgcutover DDL capture: %', SQLERRM;
END $$;

REVOKE ALL ON FUNCTION pgcutover.ddl_capture_start(), pgcutover.ddl_capture_drop(),
    pgcutover.ddl_capture_rewrite(), pgcutover.ddl_capture_end() FROM PUBLIC;

DROP EVENT TRIGGER IF EXISTS pgcutover_ddl_start;
DROP EVENT TRIGGER IF EXISTS pgcutover_ddl_drop;
DROP EVENT TRIGGER IF EXISTS pgcutover_ddl_rewrite;
DROP EVENT TRIGGER IF EXISTS pgcutover_ddl_end;
CREATE EVENT TRIGGER pgcutover_ddl_start ON ddl_command_start
    EXECUTE FUNCTION pgcutover.ddl_capture_start();
CREATE EVENT TRIGGER pgcutover_ddl_drop ON sql_drop
    EXECUTE FUNCTION pgcutover.ddl_capture_drop();
CREATE EVENT TRIGGER pgcutover_ddl_rewrite ON table_rewrite
    EXECUTE FUNCTION pgcutover.ddl_capture_rewrite();
CREATE EVENT TRIGGER pgcutover_ddl_end ON ddl_command_end
    EXECUTE FUNCTION pgcutover.ddl_capture_end();
