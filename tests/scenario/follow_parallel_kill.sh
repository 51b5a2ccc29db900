#!/usr/bin/env bash
# Scenario: follow --apply-jobs 4 while clients write, killed with SIGKILL
# 20 times at random moments (mid-range, between the ordered commits of
# ranges, at start-up) and restarted each time; between kills it works
# through the backlog the kill left, in parallel.  Then killed right after
# its 2nd to 7th range commit on a backlog, where later ranges are open.  At the end the ledger
# (key-less: a row applied twice would stay twice) has the source's rows,
# no id twice, and every table equals the source's.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
CYCLES=${CYCLES:-20}

"$PG_BIN/pgbench" -i -q -s 1 -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >/dev/null 2>&1
src_sql -c "ALTER TABLE pgbench_history REPLICA IDENTITY FULL" \
        -c "CREATE TABLE ledger (id bigserial, aid int, note text)" \
        -c "ALTER TABLE ledger REPLICA IDENTITY FULL"
cat > "$HARNESS_DIR/ledger.sql" <<'SQL'
\set aid random(1, 100000)
\set delta random(-5000, 5000)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
UPDATE pgbench_tellers SET tbalance = tbalance + :delta WHERE tid = 1 + :aid % 10;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, :aid, :delta, now());
INSERT INTO ledger (aid, note) VALUES (:aid, 'tx ' || :delta);
COMMIT;
SQL

run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"

"$PG_BIN/pgbench" -n -c 3 -T $((CYCLES * 3 / 2 + 4)) -R 600 -f "$HARNESS_DIR/ledger.sql" \
  -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >"$HARNESS_DIR/pgbench.log" 2>&1 &
bench=$!

killed=0
for cycle in $(seq 1 "$CYCLES"); do
  "$PGCUTOVER" follow --source "$SRC_DSN" --target "$TGT_DSN" --apply-jobs 4 >>"$HARNESS_DIR/all-output.log" 2>&1 &
  pid=$!
  sleep "$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.2f", 0.2 + rand() * 0.9 }')"
  if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
  set +e; wait "$pid"; set -e
  # a backlog for the next run to take in parallel
  sleep 0.$((5 + RANDOM % 5))
done
assert_eq "$CYCLES" "$killed" "follow --apply-jobs 4 was killed with SIGKILL $CYCLES times while applying"
set +e; wait "$bench"; bench_rc=$?; set -e
assert_eq 0 "$bench_rc" "pgbench ran without errors"
assert_eq t "$(tgt_sql -c "SELECT txns > 0 FROM pgcutover.apply_progress")" "transactions were applied between the kills"
parallel_runs=$(grep -c "applying with up to 4 sessions" "$HARNESS_DIR/all-output.log" || true)
assert_eq t "$([ "$parallel_runs" -ge 3 ] && echo t || echo f)" "backlogs were applied by several sessions ($parallel_runs of $CYCLES runs)"
assert_not_contains "$(cat "$HARNESS_DIR/all-output.log")" "deadlock" "no deadlock between the sessions"

# Then at the most delicate moments: right after the n-th range commits,
# while later ranges are open or half committed (the test hook dies as
# kill -9 does).
"$PG_BIN/pgbench" -n -c 3 -t 1500 -f "$HARNESS_DIR/ledger.sql" \
  -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >>"$HARNESS_DIR/pgbench.log" 2>&1
died=""
for n in 2 3 4 5 6 7; do
  PGCUTOVER_TEST_KILL_AFTER_RANGES=$n run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --apply-jobs 4
  died+="$RC "
done
assert_eq "137 137 137 137 137 137 " "$died" "follow --apply-jobs 4 died right after range commit 2, 3, 4, 5, 6 and 7"

run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up --apply-jobs 4
assert_eq 0 "$RC" "final follow --apply-jobs 4 --until-caught-up exits 0"
assert_eq "$(src_sql -c "SELECT count(*) FROM ledger")" "$(tgt_sql -c "SELECT count(*) FROM ledger")" "ledger counts equal: nothing lost, nothing applied twice"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) - count(DISTINCT id) FROM ledger")" "no ledger id twice on the target"
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "every table identical after $CYCLES kills"

done_testing
