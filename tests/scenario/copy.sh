#!/usr/bin/env bash
# Scenario: `pgcutover copy` of every table shape and many types; writes made
# after the slot's consistent point stay out of the target and in the slot.
. "$(dirname "$0")/../lib/harness.sh"
harness_start

src_sql -f "$(dirname "$0")/../sql/shapes.sql" >/dev/null
snapshot_fp=$(db_fingerprint src)
snapshot_seq=$(db_sequences src)
schema_of() {  # pg_dump --schema-only minus pgcutover's own schema and the random \restrict key
  "$PG_BIN/pg_dump" -s -N pgcutover -h "$HARNESS_DIR/$1" -p "$(cluster_port "$1")" -U postgres app | grep -v '^\\\(un\)\?restrict'
}
src_schema=$(schema_of src)

# copy in the background; as soon as the slot exists, write to the source
"$PGCUTOVER" copy --source "$SRC_DSN" --target "$TGT_DSN" --split-threshold 1MB --jobs 2 --json \
  > "$HARNESS_DIR/copy.json" 2> "$HARNESS_DIR/copy.err" &
copy_pid=$!
for _ in $(seq 1 300); do
  [ "$(src_sql -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'pgcutover'")" = 1 ] && break
  sleep 0.05
done
src_sql -c "INSERT INTO parent VALUES (1000, 'written during copy')" \
        -c "UPDATE \"Mixed Case\".\"Table Name\" SET \"select\" = 'changed during copy' WHERE \"Id\" = 1" \
        >/dev/null
set +e; wait "$copy_pid"; RC=$?; set -e
cat "$HARNESS_DIR/copy.json" "$HARNESS_DIR/copy.err" >> "$HARNESS_DIR/all-output.log"
assert_eq 0 "$RC" "copy exits 0"

assert_eq "$snapshot_fp" "$(db_fingerprint tgt)" "every table on the target equals the source snapshot (row checksums)"
assert_eq "$snapshot_seq" "$(db_sequences tgt)" "sequences equal the snapshot's values"
assert_eq "$src_schema" "$(schema_of tgt)" "schema (pg_dump -s) of target equals source"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM parent WHERE id = 1000")" "a row inserted after the consistent point is not copied"
assert_eq plain "$(tgt_sql -c "SELECT \"select\" FROM \"Mixed Case\".\"Table Name\" WHERE \"Id\" = 1")" "an update after the consistent point is not copied"
peek=$(src_sql -c "SELECT string_agg(data, E'\n') FROM pg_logical_slot_peek_changes('pgcutover', NULL, NULL, 'format-version', '2')")
assert_contains "$peek" '"written during copy"' "the slot holds the insert made during the copy"
assert_contains "$peek" '"changed during copy"' "the slot holds the update made during the copy"

json=$(cat "$HARNESS_DIR/copy.json")
ntables=$(src_sql -c "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'")
nrows=$(awk -F'|' '{ s += $2 } END { print s }' <<<"$snapshot_fp")
assert_eq "True 0 $ntables $nrows" "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["ok"], d["exit_code"], d["tables"], d["rows"])' <<<"$json")" "JSON report: ok, tables and rows"
assert_eq "$(src_sql -c "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'pgcutover'")" \
  "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["consistent_lsn"])' <<<"$json")" "JSON report: consistent LSN is the slot's"
assert_eq copied "$(tgt_sql -c "SELECT phase FROM pgcutover.migration")" "state says copied"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relname = 'child' AND t.tgname = 'child_touch'" | grep -c '^0$' || true)" "triggers are created on the target"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM pg_index WHERE NOT indisvalid")" "every index on the target is valid"

# a second run knows the copy is done
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "rerun after completion exits 0"
assert_contains "$ERR" "already complete" "rerun says the copy is complete"

# the slot name is taken: a new copy into another database refuses clearly
cluster_sql tgt -c "CREATE DATABASE app2"
TGT2="host=127.0.0.1 port=$TGT_PORT dbname=app2 user=postgres password=$TEST_PASSWORD"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT2"
assert_eq 7 "$RC" "slot already exists: state exit code"
assert_contains "$ERR" 'replication slot "pgcutover" already exists' "slot already exists: says so"
assert_contains "$ERR" "pgcutover cleanup --slot pgcutover" "slot already exists: names the fix"

# a non-empty target is refused before anything is created on the source
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN" --slot second
assert_eq 4 "$RC" "non-empty target: preflight exit code"
assert_contains "$ERR" "target_empty" "non-empty target: names the check"
assert_eq 0 "$(src_sql -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'second'")" "non-empty target: no slot created"

# filters: copy only one schema into a fresh database
cluster_sql tgt -c "CREATE DATABASE app3"
TGT3="host=127.0.0.1 port=$TGT_PORT dbname=app3 user=postgres password=$TEST_PASSWORD"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT3" --slot filtered --exclude-schema "Mixed Case" --exclude-table no_pk --exclude-table public.scratch
assert_eq 0 "$RC" "filtered copy exits 0"
assert_eq "$(src_sql -c "SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public' AND c.relname NOT IN ('no_pk', 'scratch')")" \
  "$(DB=app3 cluster_sql tgt -c "SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgcutover')")" "filtered copy: excluded schema and tables are left out"
assert_eq 500 "$(DB=app3 cluster_sql tgt -c "SELECT count(*) FROM child")" "filtered copy: included tables have their rows"

# dry run changes nothing
run_pgcutover copy --dry-run --source "$SRC_DSN" --target "$TGT3" --slot dry
assert_contains "$OUT" "dry run" "dry run prints its plan"
assert_eq 0 "$(src_sql -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'dry'")" "dry run creates no slot"

# --backup writes a pg_dump of the same snapshot with its checksum
cluster_sql tgt -c "CREATE DATABASE app4"
TGT4="host=127.0.0.1 port=$TGT_PORT dbname=app4 user=postgres password=$TEST_PASSWORD"
mkdir -p "$HARNESS_DIR/backup"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT4" --slot backed_up --backup "$HARNESS_DIR/backup"
assert_eq 0 "$RC" "copy with --backup exits 0"
assert_contains "$OUT" "backup: $HARNESS_DIR/backup/app-backed_up.dump" "copy names the backup"
assert_eq "OK" "$(cd "$HARNESS_DIR/backup" && sha256sum -c app-backed_up.dump.sha256 2>/dev/null | sed 's/.*: //')" "the backup's .sha256 verifies"
assert_contains "$("$PG_BIN/pg_restore" -l "$HARNESS_DIR/backup/app-backed_up.dump")" "TABLE DATA public parent" "the backup is a pg_dump archive with the data"

# a pg_dump directory without pg_dump, and a table copy would lose updates of
cluster_sql tgt -c "CREATE DATABASE app5"
TGT5="host=127.0.0.1 port=$TGT_PORT dbname=app5 user=postgres password=$TEST_PASSWORD"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT5" --slot nobin --pg-bin-dir /nonexistent
assert_eq 4 "$RC" "missing pg_dump: preflight exit code"
assert_contains "$ERR" "no executable pg_dump in --pg-bin-dir /nonexistent" "missing pg_dump: says where it looked"
src_sql -c "CREATE TABLE keyless (a int)"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT5" --slot nokey
assert_eq 4 "$RC" "table without key: refused"
assert_contains "$ERR" "public.keyless" "table without key: names it"
assert_eq 0 "$(src_sql -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name IN ('nobin', 'nokey')")" "refused copies create no slot"
src_sql -c "DROP TABLE keyless"

done_testing
