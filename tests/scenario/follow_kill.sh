#!/usr/bin/env bash
# Scenario: follow while pgbench writes, killed with SIGKILL at random
# moments and restarted; at the end the target equals the source and the
# key-less ledger shows no transaction applied twice.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
CYCLES=${CYCLES:-5}

"$PG_BIN/pgbench" -i -q -s 1 -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >/dev/null 2>&1
src_sql -c "ALTER TABLE pgbench_history REPLICA IDENTITY FULL" \
        -c "CREATE TABLE ledger (n bigint, note text)" -c "ALTER TABLE ledger REPLICA IDENTITY FULL"
cat > "$HARNESS_DIR/ledger.sql" <<'SQL'
\set aid random(1, 100000)
\set delta random(-5000, 5000)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, :aid, :delta, now());
INSERT INTO ledger VALUES (:aid, 'tx ' || :delta);
COMMIT;
SQL

run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"

"$PG_BIN/pgbench" -n -c 2 -T $((CYCLES * 2 + 2)) -R 300 -f "$HARNESS_DIR/ledger.sql" \
  -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >"$HARNESS_DIR/pgbench.log" 2>&1 &
bench=$!

killed=0
for cycle in $(seq 1 "$CYCLES"); do
  "$PGCUTOVER" follow --source "$SRC_DSN" --target "$TGT_DSN" >>"$HARNESS_DIR/all-output.log" 2>&1 &
  pid=$!
  sleep "$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.2f", 0.3 + rand() * 1.5 }')"
  if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
  set +e; wait "$pid"; set -e
done
assert_eq "$CYCLES" "$killed" "follow was killed with SIGKILL $CYCLES times while applying"
set +e; wait "$bench"; bench_rc=$?; set -e
assert_eq 0 "$bench_rc" "pgbench ran without errors"
assert_eq t "$(tgt_sql -c "SELECT txns > 0 FROM pgcutover.apply_progress")" "transactions were applied between the kills"

run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
assert_eq 0 "$RC" "final follow --until-caught-up exits 0"
assert_eq "$(src_sql -c "SELECT count(*) FROM ledger")" "$(tgt_sql -c "SELECT count(*) FROM ledger")" "ledger counts equal: nothing lost, nothing applied twice"
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "every table identical after $CYCLES kills"

done_testing
