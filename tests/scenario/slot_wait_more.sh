#!/usr/bin/env bash
# Scenario: what slot creation waits for, more variants (issue 19, class 10),
# on a PostgreSQL 13 source: three transactions open in two databases when
# copy starts, ended one after the other while writes go on; copy names the
# one it waits on first, then the next ones as they become what it waits
# for, never one that ended; then follow and switchover end equal.
. "$(dirname "$0")/../lib/harness.sh"
harness_start_versions 13 15

src_sql -c "CREATE TABLE t (id int PRIMARY KEY, v text)" \
        -c "INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 1000) g" >/dev/null
cluster_sql src -c "CREATE DATABASE other" >/dev/null

# holder NAME DB: a psql session in DB fed through a fifo, application_name NAME
holder_open() {
  local name=$1 db=$2
  mkfifo "$HARNESS_DIR/$name.fifo"
  PGAPPNAME=$name DB=$db cluster_sql src < "$HARNESS_DIR/$name.fifo" >/dev/null 2>&1 &
  eval "exec {fd_$name}>\"\$HARNESS_DIR/\$name.fifo\""
}
holder_send() { local fd="fd_$1"; echo "$2" >&"${!fd}"; }
holder_close() { local fd="fd_$1"; eval "exec ${!fd}>&-"; }
holder_pid() {
  local pid=""
  for _ in $(seq 1 100); do
    pid=$(cluster_sql src -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$1' AND backend_xid IS NOT NULL")
    [ -n "$pid" ] && break
    sleep 0.05
  done
  echo "$pid"
}
# the last "waits" line of the copy's log
last_wait() { grep "creating slot pgcutover waits" "$HARNESS_DIR/copy.err" | tail -n 1; }
# wait_for_line TEXT SECONDS: until a "waits" line written after the first N contains TEXT
wait_for_new() {  # wait_for_new COUNT_BEFORE TEXT SECONDS
  for _ in $(seq 1 $(($3 * 10))); do
    [ "$(grep -c "creating slot pgcutover waits" "$HARNESS_DIR/copy.err" 2>/dev/null || true)" -gt "$1" ] &&
      grep "creating slot pgcutover waits" "$HARNESS_DIR/copy.err" | tail -n 1 | grep -qF -- "$2" && return 0
    sleep 0.1
  done
  return 1
}
nwaits() { grep -c "creating slot pgcutover waits" "$HARNESS_DIR/copy.err" 2>/dev/null || true; }

holder_open first app;  holder_send first "BEGIN; UPDATE t SET v = 'first' WHERE id = 1;"
first=$(holder_pid first)
holder_open second other; holder_send second "BEGIN; SELECT txid_current();"
second=$(holder_pid second)
holder_open third app;  holder_send third "BEGIN; INSERT INTO t VALUES (5001, 'third');"
third=$(holder_pid third)
[ -n "$first" ] && [ -n "$second" ] && [ -n "$third" ] || fail "the three sessions hold an xid"

"$PGCUTOVER" copy --source "$SRC_DSN" --target "$TGT_DSN" >"$HARNESS_DIR/copy.out" 2>"$HARNESS_DIR/copy.err" &
copy_pid=$!
wait_for_new 0 "pid $first " 8 && ok=yes || ok=no
assert_eq yes "$ok" "copy names the oldest transaction first"
line=$(last_wait)
assert_contains "$line" "pid $second (user postgres, application second, database other" "and the one in the other database"
assert_contains "$line" "pid $third " "and the third"

# the first ends: the next message no longer names it
n=$(nwaits); holder_send first "COMMIT;"
wait_for_new "$n" "pid $second " 8 && ok=yes || ok=no
assert_eq yes "$ok" "after the first commits copy says it waits for the others"
assert_not_contains "$(last_wait)" "pid $first " "a transaction that ended is not named again"
n=$(nwaits); holder_send second "ROLLBACK;"
wait_for_new "$n" "pid $third " 8 && ok=yes || ok=no
assert_eq yes "$ok" "then only the third"
assert_not_contains "$(last_wait)" "pid $second " "the rolled back one is not named again"
kill -0 "$copy_pid" 2>/dev/null && pass "copy still waits while one is open" || fail "copy still waits while one is open"
holder_send third "COMMIT;"
holder_close first; holder_close second; holder_close third
set +e; wait "$copy_pid"; RC=$?; set -e
cat "$HARNESS_DIR/copy.out" "$HARNESS_DIR/copy.err" >> "$HARNESS_DIR/all-output.log"
assert_eq 0 "$RC" "copy finishes once the last one commits"
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "the target holds the source, the rows of the waited-for transactions included"

follower_start
src_sql -c "UPDATE t SET v = v || '!' WHERE id % 7 = 0" -c "DELETE FROM t WHERE id % 11 = 0" >/dev/null
run_pgcutover switchover --source "$SRC_DSN" --target "$TGT_DSN" --yes --timeout 60s
assert_eq 0 "$RC" "switchover exits 0"
[ "$RC" = 0 ] || kill "$FOLLOWER" 2>/dev/null || true
wait "$FOLLOWER" 2>/dev/null || true
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "identical after follow and switchover"
done_testing
