#!/usr/bin/env bash
# Scenario: one follower, started once, rides out faults on the target and
# the source while pgbench writes a key-less ledger on the source:
#   1. the target refuses connections for ~3 s after follow's sessions were
#      terminated: follow retries with backoff and resumes;
#   2. a table held in ACCESS EXCLUSIVE mode by someone else: follow waits;
#   3. the source restarted with -m immediate: the slot restarts behind what
#      was applied, nothing is applied twice;
#   4. lock_timeout, statement_timeout (1 ms) and
#      idle_in_transaction_session_timeout (1 s) set on the target database:
#      follow's own settings win, status and verify still work.
# At the end the target equals the source, with no ledger row twice.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
PY=/usr/bin/python3
FOLLOW_ERR="$HARNESS_DIR/follow.err"

# our own psql sessions on the target must not be hit by the timeouts set in case 4
tgt0() { PGOPTIONS="-c statement_timeout=0 -c lock_timeout=0 -c idle_in_transaction_session_timeout=0" tgt_sql "$@"; }
log_lines() { wc -l <"$FOLLOW_ERR"; }
log_since() { tail -n +"$(($1 + 1))" "$FOLLOW_ERR"; }
alive() { kill -0 "$follower" 2>/dev/null && echo yes || echo no; }
# wait_log N TEXT SECONDS: waits until TEXT appears in follow's log after line N
wait_log() {
  local i
  for i in $(seq 1 $(($3 * 10))); do
    if log_since "$1" | grep -qF -- "$2"; then return 0; fi
    sleep 0.1
  done
  return 1
}
# new_mark: writes a marker row on the source, prints its id.  Once follow
# has applied it, everything committed before it is applied too.
new_mark() { src_sql -c "INSERT INTO marks SELECT coalesce(max(id), 0) + 1 FROM marks RETURNING id"; }
# mark SECONDS: a new marker, waited for on the target; prints yes or no
mark() { wait_mark "$(new_mark)" "$1"; }
# wait_mark ID SECONDS: prints yes once the target has marker ID, no after SECONDS
wait_mark() {
  local i
  for i in $(seq 1 $(($2 * 10))); do
    if [ "$(tgt0 -c "SELECT count(*) FROM marks WHERE id = $1")" = 1 ]; then echo yes; return 0; fi
    sleep 0.1
  done
  echo no
}
# follow's sessions on the target database (state, apply, catalog)
follow_sessions() {
  cluster_sql tgt -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'app' AND application_name = 'pgcutover'"
}
terminate_follow_sessions() {
  cluster_sql tgt -c "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                      WHERE datname = 'app' AND application_name = 'pgcutover' AND pid <> pg_backend_pid()) t"
}

"$PG_BIN/pgbench" -i -q -s 1 -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >/dev/null 2>&1
# ledger ids are source transaction ids: unique on the source, so a row
# applied twice shows as a duplicate id on the target
src_sql -c "ALTER TABLE pgbench_history REPLICA IDENTITY FULL" \
        -c "CREATE TABLE ledger (id bigint, aid int, delta int)" -c "ALTER TABLE ledger REPLICA IDENTITY FULL" \
        -c "CREATE TABLE marks (id int PRIMARY KEY, at timestamptz DEFAULT now())"
cat >"$HARNESS_DIR/ledger.sql" <<'SQL'
\set aid random(1, 100000)
\set delta random(-5000, 5000)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, :aid, :delta, now());
INSERT INTO ledger VALUES (txid_current(), :aid, :delta);
COMMIT;
SQL

run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"

"$PGCUTOVER" follow --source "$SRC_DSN" --target "$TGT_DSN" >"$HARNESS_DIR/follow.out" 2>"$FOLLOW_ERR" &
follower=$!

# the writer: short pgbench runs back to back, so that it goes on after the
# source restart; stops when told to, or when the test is gone
main=$$
(
  while [ -d "$HARNESS_DIR" ] && [ ! -e "$HARNESS_DIR/stop-writer" ] && kill -0 "$main" 2>/dev/null; do
    "$PG_BIN/pgbench" -n -c 2 -T 2 -R 200 -f "$HARNESS_DIR/ledger.sql" \
      -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >>"$HARNESS_DIR/pgbench.log" 2>&1 \
      || echo "pgbench exit $?" >>"$HARNESS_DIR/pgbench.log" 2>/dev/null || true
    sleep 0.1
  done
) &
writer=$!

assert_eq yes "$(mark 20)" "follow applies under the pgbench load"

# --- 1. the target refuses connections for ~3 s ------------------------------
n0=$(log_lines)
cluster_sql tgt -c "ALTER DATABASE app ALLOW_CONNECTIONS false"
killed=$(terminate_follow_sessions)
[ "$killed" -ge 1 ] && pass "follow's target sessions were terminated ($killed)" || fail "follow's target sessions were terminated" "terminated $killed"
m1=$(new_mark)    # written while the target refuses
sleep 1.5
assert_eq 0 "$(follow_sessions)" "no follow session on the refusing target"
assert_eq yes "$(alive)" "follow keeps running while the target refuses connections"
sleep 1
cluster_sql tgt -c "ALTER DATABASE app ALLOW_CONNECTIONS true"
wait_log "$n0" "reconnected" 30 || true
case1=$(log_since "$n0")
assert_contains "$case1" "terminating connection due to administrator command" "case 1: follow logged the lost target connection"
assert_contains "$case1" "not currently accepting connections" "case 1: follow logged the refused reconnect"
assert_contains "$case1" "fix: the target database refuses connections (ALLOW_CONNECTIONS false)" "case 1: the refused reconnect names the cause and the fix"
assert_contains "$case1" "reconnecting in 1 s" "case 1: follow retried after 1 s"
assert_contains "$case1" "reconnecting in 2 s" "case 1: and backed off to 2 s"
assert_contains "$case1" "reconnected" "case 1: follow reconnected"
assert_eq yes "$(wait_mark "$m1" 20)" "case 1: the change written while the target refused is applied"
assert_eq yes "$(mark 20)" "case 1: follow keeps applying afterwards"
assert_eq yes "$(alive)" "case 1: the same follower is still running"

# --- 2. a lock held on the target by someone else ----------------------------
# hold_lock SECONDS LABEL: ledger locked ACCESS EXCLUSIVE on the target for
# SECONDS; follow must wait for it, then go on
hold_lock() {
  local secs=$1 label=$2 n m i waited=0 holder
  n=$(log_lines)
  tgt0 -c "BEGIN" -c "LOCK TABLE ledger IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep($secs)" -c "COMMIT" >/dev/null &
  holder=$!
  for i in $(seq 1 50); do
    [ "$(tgt0 -c "SELECT count(*) FROM pg_locks WHERE relation = 'public.ledger'::regclass AND mode = 'AccessExclusiveLock' AND granted")" = 1 ] && break
    sleep 0.1
  done
  m=$(new_mark)
  for i in $(seq 1 $(((secs - 1) * 10))); do
    if [ "$(tgt0 -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'app' AND application_name = 'pgcutover' AND wait_event_type = 'Lock'")" -ge 1 ]; then
      waited=1; break
    fi
    sleep 0.1
  done
  assert_eq 1 "$waited" "$label: follow waits for the lock"
  assert_eq 0 "$(tgt0 -c "SELECT count(*) FROM marks WHERE id = $m")" "$label: nothing after the locked table is applied while it is locked"
  set +e; wait "$holder"; hrc=$?; set -e
  assert_eq 0 "$hrc" "$label: the lock holder ran its ${secs} s"
  assert_eq yes "$(wait_mark "$m" 20)" "$label: follow proceeds once the lock is released"
  assert_eq yes "$(alive)" "$label: the follower is still running"
  assert_not_contains "$(log_since "$n")" "reconnecting" "$label: follow waited instead of failing"
}
hold_lock 5 "case 2"

# --- 3. the source restarted with -m immediate -------------------------------
n0=$(log_lines)
cluster_restart src immediate
wait_log "$n0" "reconnected" 40 || true
case3=$(log_since "$n0")
assert_contains "$case3" "reconnecting in" "case 3: follow logged the lost source and retried"
assert_contains "$case3" "reconnected" "case 3: follow reconnected to the restarted source"
assert_eq yes "$(mark 30)" "case 3: follow applies after the source restart"
assert_eq yes "$(alive)" "case 3: the same follower is still running"
assert_eq 0 "$(tgt0 -c "SELECT count(*) - count(DISTINCT id) FROM ledger")" "case 3: no ledger row applied twice across the source crash restart"

# --- 4. timeouts set on the target database ----------------------------------
cluster_sql tgt -c "ALTER DATABASE app SET statement_timeout = '1ms'" \
                -c "ALTER DATABASE app SET lock_timeout = '1ms'" \
                -c "ALTER DATABASE app SET idle_in_transaction_session_timeout = '1s'"
assert_eq "1ms|1ms|1s" "$(DB=app cluster_sql tgt -c "SELECT current_setting('statement_timeout') || '|' || current_setting('lock_timeout') || '|' || current_setting('idle_in_transaction_session_timeout')")" \
  "case 4: new target sessions get the 1 ms timeouts"
n0=$(log_lines)
terminate_follow_sessions >/dev/null    # follow reconnects: its new sessions get the settings
wait_log "$n0" "reconnected" 20 || true
assert_contains "$(log_since "$n0")" "reconnected" "case 4: follow reconnected into sessions with the 1 ms timeouts"
assert_eq yes "$(mark 20)" "case 4: follow applies with statement_timeout = 1ms on the target database"
hold_lock 3 "case 4 (lock_timeout = 1ms on the database)"
run_pgcutover status --json --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "case 4: status --json works with statement_timeout = 1ms on the target ($(head -c 300 <<<"$ERR"))"
assert_eq True "$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["follower_alive"])' <<<"$OUT" 2>&1)" "case 4: status --json sees the follower"

# --- the end: writer stopped, follow caught up, both sides equal -------------
touch "$HARNESS_DIR/stop-writer"
wait "$writer"
run_pgcutover status --source "$SRC_DSN" --target "$TGT_DSN" --wait-lag 0 --timeout 60
assert_eq 0 "$RC" "status --wait-lag 0 returns once follow caught up (statement_timeout = 1ms on the target)"
assert_eq yes "$(mark 30)" "a marker written after the writer stopped is applied"
run_pgcutover verify --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "verify works and finds no difference with statement_timeout = 1ms on the target ($(head -c 300 <<<"$ERR"))"
assert_eq yes "$(alive)" "one follower ran through every fault"
assert_eq "$(src_sql -c "SELECT count(*) FROM ledger")" "$(tgt0 -c "SELECT count(*) FROM ledger")" "ledger counts equal: nothing lost"
assert_eq 0 "$(tgt0 -c "SELECT count(*) - count(DISTINCT id) FROM ledger")" "no ledger id twice on the target"
assert_eq 0 "$(src_sql -c "SELECT count(*) - count(DISTINCT id) FROM ledger")" "no ledger id twice on the source either"
[ "$(src_sql -c "SELECT count(*) FROM ledger")" -ge 1000 ] && pass "the writer wrote a real load" || fail "the writer wrote a real load"
cluster_sql tgt -c "ALTER DATABASE app RESET ALL"
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "every table identical"

kill -TERM "$follower"; set +e; wait "$follower"; rc=$?; set -e
cat "$HARNESS_DIR/follow.out" "$FOLLOW_ERR" "$HARNESS_DIR/pgbench.log" >>"$HARNESS_DIR/all-output.log"
assert_eq 0 "$rc" "the follower stops cleanly on SIGTERM"

done_testing
