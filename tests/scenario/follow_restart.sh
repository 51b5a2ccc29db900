#!/usr/bin/env bash
# Scenario: follow rides out a restarted target (immediate), a restarted
# source (fast) and a terminated walsender while writes go on: it reconnects
# with backoff, nothing is lost or applied twice.
. "$(dirname "$0")/../lib/harness.sh"
harness_start

src_sql -c "CREATE TABLE ledger (n bigint, note text)" -c "ALTER TABLE ledger REPLICA IDENTITY FULL" \
        -c "CREATE TABLE counter (id int PRIMARY KEY, v bigint)" -c "INSERT INTO counter VALUES (1, 0)"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"

"$PGCUTOVER" follow --source "$SRC_DSN" --target "$TGT_DSN" >"$HARNESS_DIR/follow.out" 2>"$HARNESS_DIR/follow.err" &
follower=$!

# a writer that keeps going through the source restart
(
  for i in $(seq 1 400); do
    src_sql -c "BEGIN; INSERT INTO ledger VALUES ($i, 'w'); UPDATE counter SET v = v + 1 WHERE id = 1; COMMIT;" >/dev/null 2>&1 || true
    sleep 0.02
  done
) &
writer=$!

sleep 1.5
cluster_restart tgt immediate
sleep 2
cluster_restart src fast
sleep 2
src_sql -c "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE active" >/dev/null
wait "$writer"

run_pgcutover status --source "$SRC_DSN" --target "$TGT_DSN" --wait-lag 0.5 --timeout 90
assert_eq 0 "$RC" "the follower caught up after the restarts"
assert_eq 0 "$(kill -0 "$follower" 2>/dev/null; echo $?)" "the same follower process is still running"
assert_contains "$(cat "$HARNESS_DIR/follow.err")" "reconnecting in" "it said it reconnects"
assert_contains "$(cat "$HARNESS_DIR/follow.err")" "reconnected" "it said it reconnected"
for _ in $(seq 1 100); do
  [ "$(src_sql -c "SELECT count(*) FROM ledger")" = "$(tgt_sql -c "SELECT count(*) FROM ledger")" ] && break
  sleep 0.1
done
assert_eq "$(src_sql -c "SELECT count(*) FROM ledger")" "$(tgt_sql -c "SELECT count(*) FROM ledger")" "ledger counts equal: nothing lost, nothing twice"
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "all tables identical"
kill -TERM "$follower"; set +e; wait "$follower"; rc=$?; set -e
cat "$HARNESS_DIR/follow.out" "$HARNESS_DIR/follow.err" >> "$HARNESS_DIR/all-output.log"
assert_eq 0 "$rc" "the follower stops cleanly afterwards"

done_testing
