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
--   search_path  the caller's, with "$user" resolved to the role that ran
--                the DDL; role
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
    -- 'ok:' says it was taken in this transaction (a CONCURRENTLY command
    -- commits in between, and then nothing is known: no fix is sent)
    PERFORM set_config('pgcutover.ddl_missing_before',
        'ok:' || coalesce((SELECT string_agg(attrelid::text || '.' || attnum::text, ',')
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

-- The message for the command that just ended, or NULL when there is
-- nothing to replicate.  Counts every DDL of the query string (seq) first.
-- Fixed output settings for attmissingval's text.
CREATE OR REPLACE FUNCTION pgcutover.ddl_capture_message(caller_path text, caller_role text, tag text)
RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD' SET intervalstyle = 'postgres' SET timezone = 'UTC'
SET extra_float_digits = 3 AS $$
DECLARE
    -- statements of one query string share the backend and statement_timestamp()
    exec_key text := pg_backend_pid()::text || '/' || statement_timestamp()::text;
    prev text := coalesce(current_setting('pgcutover.ddl_exec', true), '');
    seq int := 1;
    dropped text := coalesce(nullif(current_setting('pgcutover.ddl_dropped', true), ''), '[]');
    rewrites text := coalesce(nullif(current_setting('pgcutover.ddl_rewrites', true), ''), '[]');
    before text := coalesce(current_setting('pgcutover.ddl_missing_before', true), '');
    objects json;
    new_missing json;
BEGIN
    IF split_part(prev, '#', 1) = exec_key THEN
        seq := split_part(prev, '#', 2)::int + 1;
    END IF;
    PERFORM set_config('pgcutover.ddl_exec', exec_key || '#' || seq, false),
            set_config('pgcutover.ddl_dropped', '', true),
            set_config('pgcutover.ddl_rewrites', '', true),
            set_config('pgcutover.ddl_missing_before', '', true);

    -- temporary objects and the insides of an extension script are not replicated
    -- (parent: the table of an index, constraint or trigger, which the
    -- statement names when the object itself got a generated name)
    SELECT json_agg(json_build_object('type', d.object_type, 'schema', d.schema_name,
                                      'identity', d.object_identity, 'parent',
                                      (SELECT r.relname FROM pg_class r WHERE r.oid = CASE
                                           WHEN d.classid = 'pg_class'::regclass
                                               THEN (SELECT i.indrelid FROM pg_index i WHERE i.indexrelid = d.objid)
                                           WHEN d.classid = 'pg_constraint'::regclass
                                               THEN (SELECT k.conrelid FROM pg_constraint k WHERE k.oid = d.objid)
                                           WHEN d.classid = 'pg_trigger'::regclass
                                               THEN (SELECT t.tgrelid FROM pg_trigger t WHERE t.oid = d.objid)
                                           END)))
      INTO objects
    FROM pg_event_trigger_ddl_commands() d
    WHERE d.schema_name IS DISTINCT FROM 'pg_temp' AND NOT d.in_extension;
    IF objects IS NULL AND dropped = '[]' THEN
        RETURN NULL;            -- only those, or a no-op (IF [NOT] EXISTS)
    END IF;

    -- columns of this command's tables (and their partitions) that got a
    -- default computed once, that had none before it
    IF before LIKE 'ok:%' THEN
        SELECT json_agg(json_build_object('schema', n.nspname, 'table', c.relname,
                                          'column', a.attname, 'value', a.attmissingval::text))
          INTO new_missing
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE a.atthasmissing AND NOT a.attisdropped
          AND a.attrelid IN (SELECT d.objid FROM pg_event_trigger_ddl_commands() d
                             WHERE d.object_type = 'table'
                             UNION
                             SELECT t.relid FROM pg_event_trigger_ddl_commands() d,
                                    LATERAL pg_partition_tree(d.objid) t
                             WHERE d.object_type = 'table')
          AND NOT (a.attrelid::text || '.' || a.attnum::text) = ANY (
              string_to_array(substr(before, 4), ','));
    END IF;

    RETURN json_build_object(
        'command', current_query(), 'tag', tag, 'exec', exec_key, 'seq', seq,
        -- "$user" is the role that ran the DDL here, not follow's role there
        'search_path', replace(replace(caller_path, '"$user"', quote_ident(caller_role)),
                               '$user', quote_ident(caller_role)),
        'role', caller_role,
        'objects', coalesce(objects, '[]'::json), 'dropped', dropped::json,
        'rewrites', rewrites::json, 'new_missing', coalesce(new_missing, '[]'::json))::text;
END $$;

-- ddl_command_end: emits the message.  Not SET search_path: it reads the
-- caller's search_path first (everything pg_catalog-qualified until then),
-- then pins the path.  Whatever happens, the application's DDL does not fail.
CREATE OR REPLACE FUNCTION pgcutover.ddl_capture_end() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    caller_path pg_catalog.text := pg_catalog.current_setting('search_path');
    caller_role pg_catalog.text := pg_catalog.current_setting('role');
    msg pg_catalog.text;
    failure pg_catalog.text;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    BEGIN
        IF caller_role = 'none' THEN
            caller_role := session_user;
        END IF;
        msg := pgcutover.ddl_capture_message(caller_path, caller_role, tg_tag);
        IF msg IS NOT NULL THEN
            -- in UTF-8 whatever the database's encoding: follow reads it as JSON
            PERFORM pg_logical_emit_message(true, 'pgcutover.ddl', pg_catalog.convert_to(msg, 'UTF8'));
            -- Decoding stamps a message with the END of its WAL record, a row
            -- change with its start: the next row change, if in another
            -- (sub)transaction, would tie with the message and may be decoded
            -- before it.  One more record in between breaks the tie.
            PERFORM pg_logical_emit_message(true, 'pgcutover.ddl_end', '');
        END IF;
    EXCEPTION WHEN OTHERS THEN
        failure := SQLERRM;
        BEGIN
            -- follow stops on this one instead
            PERFORM pg_logical_emit_message(true, 'pgcutover.ddl', pg_catalog.convert_to(json_build_object(
                'command', current_query(), 'tag', tg_tag, 'error', failure)::text, 'UTF8'));
            PERFORM pg_logical_emit_message(true, 'pgcutover.ddl_end', '');
        EXCEPTION WHEN OTHERS THEN
            NULL;
        END;
        RAISE WARNING 'pgcutover DDL capture: %', failure;
    END;
    PERFORM set_config('search_path', caller_path, true);
END $$;

REVOKE ALL ON FUNCTION pgcutover.ddl_capture_start(), pgcutover.ddl_capture_drop(),
    pgcutover.ddl_capture_rewrite(), pgcutover.ddl_capture_end(),
    pgcutover.ddl_capture_message(text, text, text) FROM PUBLIC;

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
-- also in sessions with session_replication_role = replica (or local)
ALTER EVENT TRIGGER pgcutover_ddl_start ENABLE ALWAYS;
ALTER EVENT TRIGGER pgcutover_ddl_drop ENABLE ALWAYS;
ALTER EVENT TRIGGER pgcutover_ddl_rewrite ENABLE ALWAYS;
ALTER EVENT TRIGGER pgcutover_ddl_end ENABLE ALWAYS;
