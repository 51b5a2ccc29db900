#!/usr/bin/env bash
# Scenario: copy starts while transactions are open on the source.  Creating
# the slot waits for every transaction holding an xid, in any database of the
# server, prepared ones too; copy must say which (pid, state, application,
# how long open, the fix), keep saying it, and count the wait in its times.
. "$(dirname "$0")/../lib/harness.sh"
harness_start "max_prepared_transactions = 5"

src_sql -c "CREATE TABLE t (id int PRIMARY KEY, v text)" \
        -c "INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 1000) g"

# holder NAME DB: a psql session in DB fed through a fifo (fd 3<NAME>), application_name NAME
holder_open() {
  local name=$1 db=$2
  mkfifo "$HARNESS_DIR/$name.fifo"
  PGAPPNAME=$name DB=$db cluster_sql src < "$HARNESS_DIR/$name.fifo" >/dev/null 2>&1 &
  eval "exec {fd_$name}>\"\$HARNESS_DIR/\$name.fifo\""
}
holder_send() { local fd="fd_$1"; echo "$2" >&"${!fd}"; }
holder_close() { local fd="fd_$1"; eval "exec ${!fd}>&-"; }
holder_pid() {  # waits until session NAME holds an xid, prints its pid
  local pid=""
  for _ in $(seq 1 100); do
    pid=$(cluster_sql src -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$1' AND backend_xid IS NOT NULL")
    [ -n "$pid" ] && break
    sleep 0.05
  done
  echo "$pid"
}
# wait_for FILE TEXT SECONDS: until FILE contains TEXT; prints the seconds it took
wait_for() {
  local t0=$SECONDS
  for _ in $(seq 1 $(($3 * 10))); do
    grep -qF -- "$2" "$1" 2>/dev/null && break
    sleep 0.1
  done
  echo $((SECONDS - t0))
}

# --- 1. a session idle in transaction after an INSERT, in the same database
holder_open writer app
holder_send writer "BEGIN; INSERT INTO t VALUES (5000, 'open while copy starts');"
writer_pid=$(holder_pid writer)
[ -n "$writer_pid" ] || fail "the holding session got an xid"

# a transaction that only read (no xid) does not hold the slot up, and is not named
holder_open reader app
holder_send reader "BEGIN; SELECT count(*) FROM t;"

# check names the transaction at once instead of waiting for it
t0=$SECONDS
run_pgcutover check --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "check passes while a transaction is open (a warning)"
assert_contains "$OUT" "warn  open_transactions" "check warns open_transactions"
assert_contains "$OUT" "pid $writer_pid (user postgres, application writer" "check names the session a slot would wait for"
assert_eq True "$([ $((SECONDS - t0)) -lt 8 ] && echo True || echo False)" "check does not wait for the transaction ($((SECONDS - t0)) s)"

start=$(date +%s.%N)
"$PGCUTOVER" copy --source "$SRC_DSN" --target "$TGT_DSN" --json \
  > "$HARNESS_DIR/copy1.json" 2> "$HARNESS_DIR/copy1.err" &
copy_pid=$!
took=$(wait_for "$HARNESS_DIR/copy1.err" "pid $writer_pid " 8)
named=$(date +%s.%N)
err=$(cat "$HARNESS_DIR/copy1.err")
assert_contains "$err" "pid $writer_pid " "within 8 s, copy names the session the slot creation waits for (took ${took} s)"
assert_contains "$err" "idle in transaction" "it says the session's state"
assert_contains "$err" "application writer" "it says the session's application_name"
assert_contains "$err" "INSERT INTO t VALUES (5000" "it shows the session's last query"
assert_contains "$err" "transaction open " "it says how long the transaction has been open"
assert_contains "$err" "fix: wait for them to end, or end them on the source: SELECT pg_terminate_backend($writer_pid);" \
  "it gives the fix: wait, or pg_terminate_backend of that pid"
# and keeps saying it
for _ in $(seq 1 80); do
  [ "$(grep -c "creating slot pgcutover waits" "$HARNESS_DIR/copy1.err" || true)" -ge 2 ] && break
  sleep 0.1
done
assert_eq 2 "$(grep -c "creating slot pgcutover waits" "$HARNESS_DIR/copy1.err" || true)" "it says it again about 5 s later"
assert_not_contains "$err" "application reader" "a transaction without an xid is not named"
kill -0 "$copy_pid" 2>/dev/null && pass "copy is still waiting while the transaction is open" || fail "copy is still waiting while the transaction is open"
assert_eq 0 "$(grep -c "SELECT pg_terminate_backend" <<<"$(cluster_sql src -c "SELECT query FROM pg_stat_activity")" || true)" \
  "pgcutover never ends the session itself"

holder_send writer "COMMIT;"
holder_close writer
holder_close reader
ended=$(date +%s.%N)
set +e; wait "$copy_pid"; RC=$?; set -e
cat "$HARNESS_DIR/copy1.json" "$HARNESS_DIR/copy1.err" >> "$HARNESS_DIR/all-output.log"
assert_eq 0 "$RC" "copy finishes once the transaction ends"
waited=$(python3 -c "print(round($ended - $named, 1))")
json=$(cat "$HARNESS_DIR/copy1.json")
assert_eq True "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["seconds"]["slot"] >= '"$waited"' - 0.5)' <<<"$json")" \
  "JSON seconds.slot counts the wait (at least the $waited s from the first message to the commit)"
assert_eq True "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["seconds_total"] >= '"$waited"' - 0.5)' <<<"$json")" \
  "JSON seconds_total counts the wait"
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "the target holds the source, the row of the waited-for transaction included"

# --- 2. a prepared transaction, and a transaction open in another database
cluster_sql tgt -c "CREATE DATABASE app2"
TGT2="host=127.0.0.1 port=$TGT_PORT dbname=app2 user=postgres password=$TEST_PASSWORD"
src_sql -c "BEGIN; INSERT INTO t VALUES (6000, 'prepared'); PREPARE TRANSACTION 'pgcutover test gid'"
holder_open elsewhere postgres
holder_send elsewhere "BEGIN; SELECT pg_current_xact_id();"
elsewhere_pid=$(holder_pid elsewhere)

"$PGCUTOVER" copy --source "$SRC_DSN" --target "$TGT2" --slot second \
  > "$HARNESS_DIR/copy2.out" 2> "$HARNESS_DIR/copy2.err" &
copy_pid=$!
wait_for "$HARNESS_DIR/copy2.err" "pid $elsewhere_pid " 8 >/dev/null
err=$(cat "$HARNESS_DIR/copy2.err")
assert_contains "$err" "pid $elsewhere_pid (user postgres, application elsewhere, database postgres" \
  "a transaction in another database of the server is named too"
assert_contains "$err" "prepared transaction 'pgcutover test gid' (owner postgres, database app" "a prepared transaction is named"
assert_contains "$err" "COMMIT PREPARED or ROLLBACK PREPARED 'pgcutover test gid'" "with its fix"
holder_send elsewhere "COMMIT;"
holder_close elsewhere
src_sql -c "ROLLBACK PREPARED 'pgcutover test gid'"
set +e; wait "$copy_pid"; RC=$?; set -e
cat "$HARNESS_DIR/copy2.out" "$HARNESS_DIR/copy2.err" >> "$HARNESS_DIR/all-output.log"
assert_eq 0 "$RC" "the second copy finishes once both end"
assert_contains "$(cat "$HARNESS_DIR/copy2.out")" "this run: slot " "the summary shows the slot's time"
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt app2)" "the second target holds the source"

done_testing
