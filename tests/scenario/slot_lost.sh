#!/usr/bin/env bash
# Scenario: the slot is lost.
#   (a) dropped behind follow's back (walsender terminated, then
#       pg_drop_replication_slot) while follow runs, and again between runs;
#   (b) invalidated by the source because max_slot_wal_keep_size was
#       exceeded while no follower ran (wal_status = 'lost').
# Either way follow must stop with exit 7 and say a re-copy is needed,
# status must say so (slot_missing / slot_lost), and nothing is applied
# partially.
. "$(dirname "$0")/../lib/harness.sh"
harness_start "max_slot_wal_keep_size = 48MB" "max_wal_size = 64MB" "min_wal_size = 32MB"

src_sql -c "CREATE TABLE ledger (id bigserial PRIMARY KEY, n int)"
src_sql -c "INSERT INTO ledger (n) SELECT g FROM generate_series(1, 100) g"

# --- (a) dropped while follow runs -------------------------------------------
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"
"$PGCUTOVER" follow --source "$SRC_DSN" --target "$TGT_DSN" >"$HARNESS_DIR/follow.out" 2>"$HARNESS_DIR/follow.err" &
follower=$!
for _ in $(seq 1 100); do
  [ "$(src_sql -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'pgcutover' AND active")" = 1 ] && break
  sleep 0.05
done
src_sql -c "INSERT INTO ledger (n) VALUES (101)"
for _ in $(seq 1 100); do [ "$(tgt_sql -c "SELECT count(*) FROM ledger")" = 101 ] && break; sleep 0.05; done
assert_eq 101 "$(tgt_sql -c "SELECT count(*) FROM ledger")" "(a) the follower applies"
# the follower waits 1 s before it reconnects: time enough to drop the slot
src_sql -c "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = 'pgcutover' AND active" >/dev/null
for _ in $(seq 1 50); do
  src_sql -c "SELECT pg_drop_replication_slot('pgcutover')" >/dev/null 2>&1 && break
  sleep 0.02
done
assert_eq 0 "$(src_sql -c "SELECT count(*) FROM pg_replication_slots")" "(a) the slot was dropped while follow ran"
src_sql -c "INSERT INTO ledger (n) VALUES (102)"   # written after the slot is gone: never streamed
applied_before=$(tgt_sql -c "SELECT applied_lsn FROM pgcutover.apply_progress")
echo "# slot dropped at $(date +%T.%N); waiting up to 20 s for follow to give up"
rc=running
for _ in $(seq 1 200); do
  if ! kill -0 "$follower" 2>/dev/null; then set +e; wait "$follower"; rc=$?; set -e; break; fi
  sleep 0.1
done
if [ "$rc" = running ]; then
  kill -TERM "$follower" 2>/dev/null || true
  set +e; wait "$follower"; set -e
fi
cat "$HARNESS_DIR/follow.out" "$HARNESS_DIR/follow.err" >> "$HARNESS_DIR/all-output.log"
assert_eq 7 "$rc" "(a) follow gives up with the state exit code when its slot is dropped (instead of reconnecting forever)"
assert_contains "$(cat "$HARNESS_DIR/follow.err")" "slot pgcutover does not exist on the source" "(a) follow says the slot is gone"
assert_contains "$(cat "$HARNESS_DIR/follow.err")" "re-copy" "(a) follow says a re-copy is needed"
assert_eq "$applied_before" "$(tgt_sql -c "SELECT applied_lsn FROM pgcutover.apply_progress")" "(a) nothing applied after the slot was gone"
assert_eq 101 "$(tgt_sql -c "SELECT count(*) FROM ledger")" "(a) the target is unchanged"

# between runs: a new follow refuses at once
run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
assert_eq 7 "$RC" "(a) follow without its slot: exit 7"
assert_contains "$ERR" "does not exist on the source" "(a) ... says the slot is gone"
assert_contains "$ERR" "re-copy after 'pgcutover cleanup'" "(a) ... and names the fix"
run_pgcutover status --json --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "(a) status exits 0"
assert_eq slot_missing "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])' <<<"$OUT")" "(a) status state is slot_missing"
assert_contains "$OUT" "copy again" "(a) status says a re-copy is needed"
run_pgcutover status --source "$SRC_DSN" --target "$TGT_DSN" --wait-lag 1 --timeout 30
assert_eq 7 "$RC" "(a) status --wait-lag gives up at once without a slot (no 30 s wait)"
assert_contains "$ERR" "copy again" "(a) status --wait-lag says why"
run_pgcutover switchover --source "$SRC_DSN" --target "$TGT_DSN" --timeout 10
assert_eq 7 "$RC" "(a) switchover without a slot: exit 7"
run_pgcutover cleanup --yes --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "(a) cleanup exits 0 with the slot already gone"

# --- (b) invalidated by max_slot_wal_keep_size ---------------------------------
tgt_sql -c "DROP TABLE ledger"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "(b) copy again exits 0"
run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
assert_eq 0 "$RC" "(b) follow --until-caught-up exits 0"
tgt_before=$(db_fingerprint tgt)
applied_before=$(tgt_sql -c "SELECT applied_lsn FROM pgcutover.apply_progress")
# with no follower, write more WAL than max_slot_wal_keep_size allows
src_sql -c "CREATE TABLE filler (id bigserial PRIMARY KEY, v text)"
status=reserved
for i in $(seq 1 40); do
  src_sql -c "INSERT INTO ledger (n) VALUES (1000 + $i)" \
          -c "INSERT INTO filler (v) SELECT repeat('x', 1000) FROM generate_series(1, 4000)" \
          -c "SELECT pg_switch_wal()" -c "CHECKPOINT" >/dev/null
  status=$(src_sql -c "SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'pgcutover'")
  [ "$status" = lost ] && break
done
echo "# wal_status $status after $i rounds of ~4 MB WAL"
assert_eq lost "$status" "(b) the source invalidated the slot (wal_status lost)"

run_pgcutover status --json --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq slot_lost "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])' <<<"$OUT")" "(b) status state is slot_lost"
assert_contains "$OUT" "copy again" "(b) status says a re-copy is needed"
run_pgcutover status --source "$SRC_DSN" --target "$TGT_DSN"
assert_contains "$OUT" "invalidated" "(b) human status says the slot was invalidated"
run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
assert_eq 7 "$RC" "(b) follow on an invalidated slot: exit 7"
assert_contains "$ERR" "was invalidated" "(b) follow says the slot was invalidated"
assert_contains "$ERR" "re-copy" "(b) follow says a re-copy is needed"
assert_eq 1 "$(grep -c 'error:' <<<"$ERR")" "(b) one error line: $(grep 'error:' <<<"$ERR" | head -c 300)"
assert_eq "$applied_before" "$(tgt_sql -c "SELECT applied_lsn FROM pgcutover.apply_progress")" "(b) nothing applied"
assert_eq "$tgt_before" "$(db_fingerprint tgt)" "(b) the target is unchanged"

# the documented way out: cleanup, copy again, follow: identical
run_pgcutover cleanup --yes --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "(b) cleanup of the invalidated slot exits 0"
tgt_sql -c "DROP TABLE ledger"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "(b) the re-copy exits 0"
src_sql -c "INSERT INTO ledger (n) VALUES (-1)"
run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
assert_eq 0 "$RC" "(b) follow after the re-copy exits 0"
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "(b) after the re-copy the target equals the source"

done_testing
