#!/usr/bin/env bash
# Scenario: schema changes during follow, carried in the stream by DDL
# capture, while pgbench and a second writer keep writing.  Every kind of
# DDL the issue lists is replayed at its place among the row changes; the
# unsafe ones stop follow with the command and the fix, and
# --resume-after-ddl continues.  At the end (after a switchover) row
# checksums and `pg_dump --schema-only` of both sides are identical.
. "$(dirname "$0")/../lib/harness.sh"
harness_start

"$PG_BIN/pgbench" -i -q -s 1 -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >/dev/null 2>&1
src_sql -c "ALTER TABLE pgbench_history REPLICA IDENTITY FULL" \
        -c "CREATE TABLE ledger (id bigserial PRIMARY KEY, n int)" \
        -c "CREATE TABLE items (id serial PRIMARY KEY, qty int DEFAULT 1, note text DEFAULT 'n')" \
        -c "INSERT INTO items (qty, note) SELECT g, 'n' || g FROM generate_series(1, 200) g" \
        -c "CREATE TABLE dropme (id int PRIMARY KEY)" -c "INSERT INTO dropme SELECT generate_series(1, 50)" \
        -c "CREATE TABLE marks (id int PRIMARY KEY)" \
        -c "CREATE TABLE legacy (id int PRIMARY KEY)" -c "INSERT INTO legacy SELECT generate_series(1, 20)" \
        -c "ALTER TABLE legacy ADD COLUMN flag text DEFAULT 'old'" -c "UPDATE legacy SET flag = 'changed' WHERE id <= 5" \
        -c "CREATE TABLE old2 (id int PRIMARY KEY)"

# capture: not installed yet, then installed (twice: idempotent)
run_pgcutover ddl-capture status --source "$SRC_DSN"
assert_contains "$OUT" "not installed" "status before install"
run_pgcutover ddl-capture install --source "$SRC_DSN"
assert_eq 0 "$RC" "ddl-capture install exits 0"
run_pgcutover ddl-capture install --json --source "$SRC_DSN"
assert_contains "$OUT" '"installed": true' "install is idempotent and reports it"
src_sql -c "CREATE ROLE app_user LOGIN" -c "GRANT ALL ON SCHEMA public TO app_user" \
        -c "CREATE SCHEMA app_user AUTHORIZATION app_user"
assert_eq ok "$(DB=app cluster_sql src -U app_user -c "CREATE TABLE scratch (i int); DROP TABLE scratch" >/dev/null 2>&1 && echo ok || echo failed)" \
  "a role without privileges on pg_logical_emit_message can still run DDL"

run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM pg_event_trigger")" "copy does not bring the capture triggers to the target"

# load: pgbench with a ledger, and a writer on the table whose shape changes
"$PG_BIN/pgbench" -n -c 2 -T 600 -R 200 -f "$(dirname "$0")/../sql/ledger.pgbench" \
  -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >"$HARNESS_DIR/pgbench.log" 2>&1 &
BENCH=$!
( while [ ! -f "$HARNESS_DIR/stop-writer" ] && [ -d "$HARNESS_DIR/src" ]; do
    src_sql -c "INSERT INTO items DEFAULT VALUES; UPDATE items SET id = id WHERE id = (SELECT max(id) - 3 FROM items)" >/dev/null 2>&1 || true
    sleep 0.02
  done ) &
WRITER=$!

FOLLOW_LOG=$HARNESS_DIR/follow.log
start_follow() {
  [ -f "$FOLLOW_LOG" ] && cat "$FOLLOW_LOG" >>"$HARNESS_DIR/all-output.log"
  "$PGCUTOVER" follow --source "$SRC_DSN" --target "$TGT_DSN" "$@" >"$FOLLOW_LOG" 2>&1 &
  FOLLOWER=$!
}
mark=0
# a row after the DDL, and wait until it is on the target (or follow died)
sync_mark() {
  mark=$((mark + 1))
  src_sql -c "INSERT INTO marks VALUES ($mark)"
  for _ in $(seq 1 300); do
    [ "$(tgt_sql -c "SELECT count(*) FROM marks WHERE id = $mark")" = 1 ] && return 0
    kill -0 "$FOLLOWER" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
col_type() { tgt_sql -c "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = '$1'::regclass AND attname = '$2' AND NOT attisdropped"; }

start_follow
sync_mark
assert_contains "$(cat "$FOLLOW_LOG")" "DDL capture is installed on the source" "follow sees capture installed (default --ddl=apply)"

# ADD COLUMN with a constant default and with now() (computed once per side)
src_sql -c "ALTER TABLE items ADD COLUMN added int DEFAULT 7"
src_sql -c "ALTER TABLE items ADD COLUMN created timestamptz DEFAULT now()"
sleep 0.2
sync_mark
assert_eq integer "$(col_type items added)" "ADD COLUMN replayed"
assert_eq "$(src_sql -c "SELECT count(DISTINCT created) || ' ' || min(created) FROM items WHERE id <= 200")" \
          "$(tgt_sql -c "SELECT count(DISTINCT created) || ' ' || min(created) FROM items WHERE id <= 200")" \
          "ADD COLUMN DEFAULT now(): existing rows carry the source's value, not the target's"

# ALTER COLUMN TYPE int -> bigint, then a value only bigint holds
src_sql -c "ALTER TABLE items ALTER COLUMN qty TYPE bigint" -c "UPDATE items SET qty = 5000000000 WHERE id = 1"
sync_mark
assert_eq bigint "$(col_type items qty)" "ALTER COLUMN TYPE replayed"
assert_eq 5000000000 "$(tgt_sql -c "SELECT qty FROM items WHERE id = 1")" "a bigint value arrives after the type change"

# RENAME COLUMN, then rows using the new name
src_sql -c "ALTER TABLE items RENAME COLUMN note TO remark" -c "UPDATE items SET remark = 'renamed' WHERE id = 2"
sync_mark
assert_eq renamed "$(tgt_sql -c "SELECT remark FROM items WHERE id = 2")" "RENAME COLUMN replayed, rows follow the new name"

# DROP COLUMN
src_sql -c "ALTER TABLE items DROP COLUMN added"
sync_mark
assert_eq "" "$(col_type items added)" "DROP COLUMN replayed"

# CREATE TABLE + inserts (one transaction), an identity column among them
src_sql -c "CREATE TABLE later (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text)" \
        -c "INSERT INTO later (v) SELECT 'v' || g FROM generate_series(1, 30) g" \
        -c "UPDATE later SET v = 'changed' WHERE id = 3"
sync_mark
assert_eq 30 "$(tgt_sql -c "SELECT count(*) FROM later")" "CREATE TABLE replayed and its rows arrive"
assert_eq changed "$(tgt_sql -c "SELECT v FROM later WHERE id = 3")" "updates of the new table arrive"

# CREATE INDEX (CONCURRENTLY on the source), ADD and DROP CONSTRAINT
src_sql -c "CREATE INDEX CONCURRENTLY items_qty ON items (qty)"
src_sql -c "ALTER TABLE items ADD CONSTRAINT qty_nonneg CHECK (qty >= 0)"
src_sql -c "ALTER TABLE later ADD CONSTRAINT later_v_key UNIQUE (v)"
src_sql -c "ALTER TABLE items DROP CONSTRAINT qty_nonneg"
sync_mark
assert_eq 1 "$(tgt_sql -c "SELECT count(*) FROM pg_indexes WHERE indexname = 'items_qty'")" "CREATE INDEX replayed"
assert_eq 1 "$(tgt_sql -c "SELECT count(*) FROM pg_constraint WHERE conname = 'later_v_key'")" "ADD CONSTRAINT replayed"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM pg_constraint WHERE conname = 'qty_nonneg'")" "DROP CONSTRAINT replayed"

# kill -9 right after DDL, several times: a rerun never replays a DDL twice
for k in 1 2 3; do
  src_sql -c "ALTER TABLE later ADD COLUMN k$k int DEFAULT $k" -c "INSERT INTO later (v) VALUES ('k$k')"
  sleep "0.$((RANDOM % 4))"
  kill -9 "$FOLLOWER" 2>/dev/null || true; set +e; wait "$FOLLOWER"; set -e
  start_follow
done
sync_mark
assert_eq "1 2 3" "$(tgt_sql -c "SELECT k1 || ' ' || k2 || ' ' || k3 FROM later WHERE v = 'k3'")" "kill -9 around DDL: every DDL replayed exactly once"
assert_not_contains "$(cat "$HARNESS_DIR/all-output.log" "$FOLLOW_LOG")" "already exists" "kill -9 around DDL: no DDL applied twice"

# a column added before the copy keeps a computed-once value on the source
# only: commands on its table (CONCURRENTLY ones commit in between) must not
# touch its rows on the target
src_sql -c "CREATE INDEX CONCURRENTLY legacy_flag ON legacy (flag)"
src_sql -c "ALTER TABLE legacy ADD COLUMN z int" -c "UPDATE legacy SET flag = 'later' WHERE id = 6"
sync_mark
assert_eq "$(src_sql -c "SELECT string_agg(id || flag, ',' ORDER BY id) FROM legacy")" \
          "$(tgt_sql -c "SELECT string_agg(id || flag, ',' ORDER BY id) FROM legacy")" "older default-valued columns are left alone"

# "$user" in search_path means the role that ran the DDL, on the source
DB=app cluster_sql src -U app_user -c "CREATE TABLE mine (id int PRIMARY KEY)"
# a no-op DROP before the real one in one query string
src_sql -c "DROP TABLE IF EXISTS nothing_here; DROP TABLE old2"
sync_mark
assert_eq app_user "$(tgt_sql -c "SELECT schemaname FROM pg_tables WHERE tablename = 'mine'")" "\$user resolves to the source role's schema"
assert_eq "" "$(tgt_sql -c "SELECT to_regclass('old2')")" "the DROP that ran is replayed, not the no-op before it"

# DDL in a rolled-back transaction never reaches the target
src_sql -c "BEGIN" -c "ALTER TABLE items ADD COLUMN ghost int" -c "INSERT INTO items (qty) VALUES (1)" -c "ROLLBACK"
sync_mark
assert_eq "" "$(col_type items ghost)" "rolled-back DDL is not replayed"

# DDL and row changes in one transaction, sent as ONE query string
src_sql -c "BEGIN; INSERT INTO later (v) VALUES ('before'); ALTER TABLE later ADD COLUMN w int DEFAULT 1; INSERT INTO later (v, w) VALUES ('after', 5); UPDATE later SET w = 9 WHERE v = 'before'; COMMIT"
sync_mark
assert_eq "1|9 5" "$(tgt_sql -c "SELECT count(*) FILTER (WHERE v = 'before') || '|' || string_agg(w::text, ' ' ORDER BY id) FROM later WHERE v IN ('before', 'after')")" \
  "multi-statement string: only its DDL is replayed, its rows arrive once"

# CREATE TABLE AS: its rows travel BEFORE the command; with rows, follow
# stops on the missing table, the operator creates it, follow goes on
src_sql -c "BEGIN" -c "CREATE TABLE snap AS SELECT id, qty FROM items WHERE id <= 10" -c "ALTER TABLE snap ADD PRIMARY KEY (id)" -c "COMMIT"
set +e; wait "$FOLLOWER"; rc=$?; set -e
log=$(cat "$FOLLOW_LOG")
assert_eq 8 "$rc" "CREATE TABLE AS with rows: follow stops (exit 8)"
assert_contains "$log" 'table "public"."snap" has changes on the source but does not exist on the target' "CREATE TABLE AS: names the table"
tgt_sql -c "CREATE TABLE snap (id int, qty bigint)"
start_follow
sync_mark
assert_eq 10 "$(tgt_sql -c "SELECT count(*) FROM snap")" "CREATE TABLE AS: rows arrive exactly once"
assert_eq 1 "$(tgt_sql -c "SELECT count(*) FROM pg_constraint WHERE conrelid = 'snap'::regclass AND contype = 'p'")" "CREATE TABLE AS: the later ALTER is replayed"
# ... and without rows it is simply replayed
src_sql -c "SELECT id, qty INTO snap_empty FROM items WHERE id < 0" -c "ALTER TABLE snap_empty ADD PRIMARY KEY (id)"
sync_mark
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM snap_empty")" "SELECT INTO without rows: replayed, empty"

# DROP TABLE
src_sql -c "DROP TABLE dropme"
sync_mark
assert_eq "" "$(tgt_sql -c "SELECT to_regclass('dropme')")" "DROP TABLE replayed"

# temporary objects are not replayed
src_sql -c "CREATE TEMP TABLE tmp_x (i int); CREATE INDEX ON tmp_x (i); DROP TABLE tmp_x"
sync_mark
assert_eq 1 "$(kill -0 "$FOLLOWER" 2>/dev/null && echo 1 || echo 0)" "temporary tables do not disturb follow"

# unsafe: DDL from a DO block cannot be told apart from its DML -> clear stop
src_sql -c "DO \$\$ BEGIN EXECUTE 'ALTER TABLE items ADD COLUMN from_do int'; INSERT INTO marks VALUES (-1); END \$\$"
set +e; wait "$FOLLOWER"; rc=$?; set -e
log=$(cat "$FOLLOW_LOG")
assert_eq 8 "$rc" "DDL in a DO block: follow stops with exit 8"
assert_contains "$log" "ALTER TABLE public.items" "the stop names the command and table"
assert_contains "$log" "function, procedure or DO block" "the stop says why"
assert_contains "$log" "--resume-after-ddl" "the stop names the fix"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM marks WHERE id = -1")" "nothing of that transaction was applied"
tgt_sql -c "ALTER TABLE items ADD COLUMN from_do int"
# without the flag the same stop again
run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
assert_eq 8 "$RC" "rerun without --resume-after-ddl stops again"
start_follow --resume-after-ddl
sync_mark
assert_contains "$(cat "$FOLLOW_LOG")" "skipping the DDL at" "--resume-after-ddl skips exactly that command"
assert_eq 1 "$(tgt_sql -c "SELECT count(*) FROM marks WHERE id = -1")" "and applies the rest of its transaction"

# unsafe: a volatile default rewrites the table with values the stream lacks
src_sql -c "ALTER TABLE items ADD COLUMN r float8 DEFAULT random()"
set +e; wait "$FOLLOWER"; rc=$?; set -e
log=$(cat "$FOLLOW_LOG")
assert_eq 8 "$rc" "volatile default: follow stops with exit 8"
assert_contains "$log" "volatile default" "volatile default: says why"
tgt_sql -c "ALTER TABLE items ADD COLUMN r float8" -c "ALTER TABLE items ALTER COLUMN r SET DEFAULT random()"
src_sql -c "SELECT id, r FROM items" | sed 's/|/,/' >"$HARNESS_DIR/r.csv"
tgt_sql -c "CREATE TEMP TABLE r (id int, r float8)" -c "\\copy r FROM '$HARNESS_DIR/r.csv' CSV" \
        -c "SET session_replication_role = replica" -c "UPDATE items SET r = r.r FROM r WHERE items.id = r.id"
start_follow --resume-after-ddl
sync_mark

# --ddl=stop: stop at any captured DDL, say so
kill -TERM "$FOLLOWER"; set +e; wait "$FOLLOWER"; set -e
start_follow --ddl=stop
sync_mark
src_sql -c "COMMENT ON TABLE items IS 'items'"
set +e; wait "$FOLLOWER"; rc=$?; set -e
assert_eq 8 "$rc" "--ddl=stop: exit 8 at the next DDL"
assert_contains "$(cat "$FOLLOW_LOG")" "follow runs with --ddl=stop" "--ddl=stop: says why"
tgt_sql -c "COMMENT ON TABLE items IS 'items'"
start_follow --resume-after-ddl --ddl-exclude '^public\.ignored'
sync_mark

# --ddl-exclude skips objects matching it
src_sql -c "CREATE TABLE ignored (i int PRIMARY KEY)"
sync_mark
assert_eq "" "$(tgt_sql -c "SELECT to_regclass('ignored')")" "--ddl-exclude: matching DDL is skipped"
src_sql -c "DROP TABLE ignored"

# finish: stop the writers, switch over (restores identity columns), compare
touch "$HARNESS_DIR/stop-writer"; wait "$WRITER"
kill -TERM "$BENCH" 2>/dev/null || true; set +e; wait "$BENCH"; set -e
sync_mark
run_pgcutover switchover --source "$SRC_DSN" --target "$TGT_DSN" --timeout 120
assert_eq 0 "$RC" "switchover after all the DDL exits 0 (verify included)"
[ "$RC" = 0 ] || { echo "# $(tail -c 1500 <<<"$OUT$ERR")"; kill -TERM "$FOLLOWER"; }
set +e; wait "$FOLLOWER"; set -e
cat "$FOLLOW_LOG" >>"$HARNESS_DIR/all-output.log"
assert_source_fenced app
replayed=$(grep -c "replayed DDL on the target" "$HARNESS_DIR/all-output.log" || true)
assert_eq 1 "$([ "$replayed" -ge 14 ] && echo 1 || echo 0)" "follow logged every replayed DDL ($replayed)"
assert_eq "$(src_sql -c "SELECT count(*) FROM ledger")" "$(tgt_sql -c "SELECT count(*) FROM ledger")" "ledger counts equal"
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "every table identical"

run_pgcutover cleanup --yes --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "cleanup exits 0"
assert_eq 0 "$(src_sql -c "SELECT count(*) FROM pg_event_trigger")" "cleanup removes DDL capture from the source"
schema() {
  # the old source's rest fence (schema pgcutover_fence, a trigger per table) is ours
  as_pg "$PG_BIN/pg_dump" -s -O -x -N pgcutover -N pgcutover_fence -h "$HARNESS_DIR/$1" -p "$(cluster_port "$1")" -U postgres app |
    grep -v -e '^--' -e '^\\restrict' -e '^\\unrestrict' -e '^$' -e 'pgcutover_fence' || true
}
diff <(schema src) <(schema tgt) >"$HARNESS_DIR/schema.diff" && d=clean || d="differs: $(head -c 600 "$HARNESS_DIR/schema.diff")"
assert_eq clean "$d" "pg_dump --schema-only of source and target identical"

done_testing
