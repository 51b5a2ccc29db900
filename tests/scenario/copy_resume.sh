#!/usr/bin/env bash
# Scenario: kill -9 and SIGINT in the middle of the data phase, then resume in
# the same snapshot; and the clear refusal when the snapshot is gone.
. "$(dirname "$0")/../lib/harness.sh"
harness_start

"$PG_BIN/pgbench" -i -q -s 8 -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >/dev/null 2>&1
src_sql -c "ALTER TABLE pgbench_history REPLICA IDENTITY FULL"
snapshot_fp=$(db_fingerprint src)

done_jobs() { DB=${1:-app} cluster_sql tgt -c "SELECT count(*) FILTER (WHERE status = 'done') FROM pgcutover.copy_job" 2>/dev/null || echo 0; }

# start a copy that writes after its slot exists, and stop it once some jobs are done
start_copy_and_stop() {  # start_copy_and_stop SIGNAL TARGET_DSN SLOT DB
  "$PGCUTOVER" copy --source "$SRC_DSN" --target "$2" --slot "$3" --jobs 1 --split-threshold 2MB \
    >>"$HARNESS_DIR/all-output.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 600); do
    [ "$(done_jobs "$4")" -ge 3 ] && break
    sleep 0.02
  done
  kill -"$1" "$pid"
  set +e; wait "$pid"; STOP_RC=$?; set -e
}

# 1. kill -9 in the data phase, then resume
start_copy_and_stop KILL "$TGT_DSN" pgcutover app
assert_eq 137 "$STOP_RC" "copy was killed by SIGKILL"
partial=$(done_jobs)
total=$(tgt_sql -c "SELECT count(*) FROM pgcutover.copy_job")
if [ "$partial" -lt "$total" ]; then pass "killed mid-data ($partial of $total jobs done)"; else fail "kill came too late ($partial of $total)"; fi
src_sql -c "INSERT INTO pgbench_history VALUES (1, 1, 1, 42, now(), 'after consistency')"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN" --slot pgcutover
assert_eq 0 "$RC" "rerun after kill -9 exits 0"
assert_contains "$OUT" "(resumed)" "rerun says it resumed"
assert_contains "$ERR" "resuming the copy of slot pgcutover in phase copy_data" "rerun resumes in the data phase"
assert_eq "$snapshot_fp" "$(db_fingerprint tgt)" "after kill -9 and resume, the target equals the snapshot (no row twice, none lost)"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM pg_index WHERE NOT indisvalid")" "all indexes valid after resume"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM pgcutover.copy_job WHERE status <> 'done'")" "every job done"

# 2. SIGINT: a clean stop with its own exit code, then resume
cluster_sql tgt -c "CREATE DATABASE app2"
TGT2="host=127.0.0.1 port=$TGT_PORT dbname=app2 user=postgres password=$TEST_PASSWORD"
snapshot_fp=$(db_fingerprint src)   # includes the row written after the first slot
start_copy_and_stop INT "$TGT2" second app2
assert_eq 10 "$STOP_RC" "SIGINT: interrupted exit code"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT2" --slot second
assert_eq 0 "$RC" "rerun after SIGINT exits 0"
assert_eq "$snapshot_fp" "$(db_fingerprint tgt app2)" "after SIGINT and resume, the target equals the snapshot"

# 3. the snapshot is gone (its keeper died): a resume is refused, clearly
cluster_sql tgt -c "CREATE DATABASE app3"
TGT3="host=127.0.0.1 port=$TGT_PORT dbname=app3 user=postgres password=$TEST_PASSWORD"
start_copy_and_stop KILL "$TGT3" third app3
keeper=$(DB=app3 cluster_sql tgt -c "SELECT keeper_pid FROM pgcutover.migration")
kill -9 "$keeper"
sleep 0.2
run_pgcutover copy --source "$SRC_DSN" --target "$TGT3" --slot third
assert_eq 7 "$RC" "snapshot gone: state exit code"
assert_contains "$ERR" "a consistent resume is impossible" "snapshot gone: says why"
assert_contains "$ERR" "pgcutover cleanup --slot third" "snapshot gone: names the fix"
assert_eq copy_data "$(DB=app3 cluster_sql tgt -c "SELECT phase FROM pgcutover.migration")" "snapshot gone: nothing changed in the state"

done_testing
