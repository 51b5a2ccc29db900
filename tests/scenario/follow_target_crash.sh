#!/usr/bin/env bash
# Scenario: apply commits with synchronous_commit = off, so a target crash
# loses its last commits; follow must then have confirmed to the source
# only what the target had flushed, so that the slot still holds them.
# While pgbench appends to a key-less ledger, each cycle either kills
# follow with SIGKILL or crashes the target (immediate shutdown: WAL not yet
# written by its WAL writer is gone) under a running follower.  At the end
# the ledger has every source row exactly once.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
CYCLES=${CYCLES:-6}

src_sql -c "CREATE SEQUENCE ledger_id" \
        -c "CREATE TABLE ledger (id bigint NOT NULL DEFAULT nextval('ledger_id'), n int)" \
        -c "ALTER TABLE ledger REPLICA IDENTITY FULL"
cat > "$HARNESS_DIR/ledger.sql" <<'SQL'
INSERT INTO ledger (n) VALUES (1);
SQL

run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"

"$PG_BIN/pgbench" -n -c 2 -T $((CYCLES * 3 + 4)) -R 400 -f "$HARNESS_DIR/ledger.sql" \
  -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >"$HARNESS_DIR/pgbench.log" 2>&1 &
bench=$!

crashes=0
kills=0
for cycle in $(seq 1 "$CYCLES"); do
  "$PGCUTOVER" follow --source "$SRC_DSN" --target "$TGT_DSN" >>"$HARNESS_DIR/all-output.log" 2>&1 &
  pid=$!
  sleep "$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.2f", 1.2 + rand() * 1.0 }')"
  if [ $((cycle % 2)) = 0 ]; then
    # the follower has confirmed what it could; its last commits may be in
    # the target's WAL buffers only
    cluster_restart tgt immediate && crashes=$((crashes + 1))
  fi
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  set +e; wait "$pid"; set -e
done
assert_eq $((CYCLES / 2)) "$crashes" "the target crashed $((CYCLES / 2)) times under a running follower"
assert_eq "$CYCLES" "$kills" "follow was killed with SIGKILL $CYCLES times"
set +e; wait "$bench"; bench_rc=$?; set -e
assert_eq 0 "$bench_rc" "pgbench ran without errors"

run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
assert_eq 0 "$RC" "final follow --until-caught-up exits 0"
src=$(src_sql -c "SELECT count(*), count(DISTINCT id), sum(id) FROM ledger")
assert_eq "$src" "$(tgt_sql -c "SELECT count(*), count(DISTINCT id), sum(id) FROM ledger")" \
  "ledger equal: nothing lost, nothing applied twice ($src)"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM (SELECT id FROM ledger GROUP BY id HAVING count(*) > 1) d")" "no ledger id twice on the target"
# a clean stop waits for the target's flush: the slot is confirmed up to
# the applied position (switchover reads it so)
applied=$(tgt_sql -c "SELECT applied_lsn FROM pgcutover.apply_progress")
assert_eq t "$(src_sql -c "SELECT confirmed_flush_lsn >= '$applied' FROM pg_replication_slots WHERE slot_name = 'pgcutover'")" \
  "after a clean stop the slot is confirmed up to the applied position $applied"

done_testing
