#!/usr/bin/env bash
# Scenario: with the copy's table filters in effect the walsender decodes
# only the migrated tables (wal2json add-tables, names escaped), not only
# apply: a large write to a table left out costs the source no output
# (the bytes the walsender's TCP socket sent, ss), one to a migrated table
# does.  Captured DDL, a logical message, still arrives, and a migrated
# table whose name needs wal2json's escapes (a dot, a comma, a blank) is
# streamed.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
FOLLOW_ERR="$HARNESS_DIR/follow.err"

src_sql -c "CREATE TABLE kept (id int PRIMARY KEY, pad text)" \
        -c 'CREATE TABLE "we.ird, x" (id int PRIMARY KEY)' \
        -c "CREATE TABLE left_out (id int PRIMARY KEY, pad text)"
run_pgcutover ddl-capture install --source "$SRC_DSN"
assert_eq 0 "$RC" "ddl-capture install exits 0"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN" --include-table public.kept --include-table "public.we.ird, x"
assert_eq 0 "$RC" "copy of two tables exits 0"

"$PGCUTOVER" follow -v --source "$SRC_DSN" --target "$TGT_DSN" >"$HARNESS_DIR/follow.out" 2>"$FOLLOW_ERR" &
follower=$!
walsender=""
for _ in $(seq 1 300); do
  walsender=$(src_sql -c "SELECT active_pid FROM pg_replication_slots WHERE slot_name = 'pgcutover' AND active")
  [ -n "$walsender" ] && break
  sleep 0.1
done
assert_contains "$(cat "$FOLLOW_ERR")" "wal2json add-tables 'public.kept,public.we\\.ird\\,\\ x'" "follow asks wal2json for the two migrated tables, escaped"

client_port=$(src_sql -c "SELECT client_port FROM pg_stat_replication WHERE pid = $walsender")
written() {  # the bytes the walsender sent on its socket (tcp_info)
  ss -tin state established "( sport = :$SRC_PORT and dport = :$client_port )" | grep -o 'bytes_sent:[0-9]*' | cut -d: -f2
}
# until_confirmed: the slot is confirmed past the source's current position
until_confirmed() {
  local lsn; lsn=$(src_sql -c "SELECT pg_current_wal_lsn()")
  for _ in $(seq 1 300); do
    [ "$(src_sql -c "SELECT confirmed_flush_lsn >= '$lsn' FROM pg_replication_slots WHERE slot_name = 'pgcutover'")" = t ] && return 0
    sleep 0.1
  done
  return 1
}
w0=$(written)
echo "# walsender $walsender (client port $client_port) sent $w0 bytes so far"
src_sql -c "INSERT INTO left_out SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g"
until_confirmed || true
w1=$(written)
src_sql -c "INSERT INTO kept SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g"
until_confirmed || true
w2=$(written)
[ -n "$w0" ] && [ $((w1 - w0)) -lt 200000 ] && pass "20000 rows of a table left out: the walsender sent $((w1 - w0)) bytes" \
  || fail "20000 rows of a table left out cost the walsender no output" "it wrote $((w1 - w0)) bytes"
[ $((w2 - w1)) -gt 1000000 ] && pass "20000 rows of a migrated table: the walsender sent $((w2 - w1)) bytes" \
  || fail "20000 rows of a migrated table are streamed" "the walsender wrote $((w2 - w1)) bytes"

src_sql -c "ALTER TABLE kept ADD COLUMN c int DEFAULT 7" -c "UPDATE kept SET c = 8 WHERE id <= 10" \
        -c 'INSERT INTO "we.ird, x" SELECT generate_series(1, 50)' >/dev/null
run_pgcutover status --source "$SRC_DSN" --target "$TGT_DSN" --wait-lag 0 --timeout 60
assert_eq 0 "$RC" "follow caught up"
for _ in $(seq 1 100); do
  [ "$(tgt_sql -c 'SELECT count(*) FROM "we.ird, x"')" = 50 ] && break
  sleep 0.1
done
assert_eq "20000|140010" "$(tgt_sql -c "SELECT count(*), sum(c) FROM kept")" "the captured DDL (a logical message) and the rows after it arrived"
assert_eq 50 "$(tgt_sql -c 'SELECT count(*) FROM "we.ird, x"')" "the table with a dot, a comma and a blank in its name is streamed"

kill -TERM "$follower"; set +e; wait "$follower"; rc=$?; set -e
cat "$HARNESS_DIR/follow.out" "$FOLLOW_ERR" >>"$HARNESS_DIR/all-output.log"
assert_eq 0 "$rc" "the follower stops cleanly on SIGTERM"

done_testing
