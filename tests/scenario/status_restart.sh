#!/usr/bin/env bash
# Scenario: `status --wait-lag` does not pass a follower that has just
# (re)started with a backlog it cannot apply yet.  The follower row kept
# the last run's lag (caught up) until the new follower's first reading,
# and the new follower, holding its lock, looked alive: wait-lag passed
# while the backlog was still to apply (bench/lag's second round measured
# seconds of lag that way).  Fails on the code before the fix (exit 0).
. "$(dirname "$0")/../lib/harness.sh"
harness_start

"$PG_BIN/pgbench" -i -q -s 1 -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >/dev/null 2>&1
src_sql -c "ALTER TABLE pgbench_history REPLICA IDENTITY FULL"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"
# a first follower catches up, then stops on SIGTERM: its row says lag 0
"$PGCUTOVER" follow --source "$SRC_DSN" --target "$TGT_DSN" >>"$HARNESS_DIR/all-output.log" 2>&1 &
first=$!
run_pgcutover status --source "$SRC_DSN" --target "$TGT_DSN" --wait-lag 0.1 --timeout 60 --quiet
assert_eq 0 "$RC" "a first follower catches up"
sleep 1.5
kill -TERM "$first"; wait "$first" || true
assert_eq t "$(tgt_sql -c "SELECT lag_seconds <= 0.1 FROM pgcutover.follower")" "the stopped follower's row says it was caught up"

# a backlog of 30k transactions while nothing follows
"$PG_BIN/pgbench" -n -b simple-update -c 4 -j 2 -t 7500 -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >/dev/null 2>&1
want=$(src_sql -c "SELECT count(*) FROM pgbench_history")

# the target's history table locked for a while: the new follower cannot
# apply, its lag stays what the backlog makes it
tgt_sql -c "BEGIN" -c "LOCK TABLE pgbench_history IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(6)" -c "COMMIT" >/dev/null &
locker=$!
sleep 0.3
"$PGCUTOVER" follow --source "$SRC_DSN" --target "$TGT_DSN" >>"$HARNESS_DIR/all-output.log" 2>&1 &
follower=$!
# as soon as the new follower holds its lock
for _ in $(seq 1 100); do
  [ "$(tgt_sql -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" -gt 0 ] && break
  sleep 0.02
done
run_pgcutover status --source "$SRC_DSN" --target "$TGT_DSN" --wait-lag 0.1 --timeout 2 --quiet
assert_eq 9 "$RC" "status --wait-lag does not pass a restarted follower that cannot apply its backlog (exit 9: timeout)"
wait "$locker"
run_pgcutover status --source "$SRC_DSN" --target "$TGT_DSN" --wait-lag 0.1 --timeout 60 --quiet
assert_eq 0 "$RC" "status --wait-lag returns once the backlog is applied"
assert_eq "$want" "$(tgt_sql -c "SELECT count(*) FROM pgbench_history")" "when it returns, the backlog is applied"
kill -TERM "$follower"; wait "$follower" || true

done_testing
