#!/usr/bin/env bash
# Scenario: switchover under pgbench load with a ledger; dry run; abort on a
# verification mismatch and on SIGINT (source writable again, follower still
# applying); cleanup twice.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
PY=/usr/bin/python3

"$PG_BIN/pgbench" -i -q -s 1 -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >/dev/null 2>&1
src_sql -c "ALTER TABLE pgbench_history REPLICA IDENTITY FULL" \
        -c "CREATE TABLE ledger (id bigserial PRIMARY KEY, n int, at timestamptz DEFAULT now())" \
        -c "CREATE TABLE canary (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text)" \
        -c "INSERT INTO canary (v) SELECT 'c' || g FROM generate_series(1, 10) g"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"

start_follower() {
  "$PGCUTOVER" follow --source "$SRC_DSN" --target "$TGT_DSN" >>"$HARNESS_DIR/all-output.log" 2>&1 &
  FOLLOWER=$!
  for _ in $(seq 1 100); do
    [ "$(tgt_sql -c "SELECT count(*) FROM pgcutover.follower WHERE phase = 'following'" 2>/dev/null)" = 1 ] && break
    sleep 0.05
  done
}
source_writable() { src_sql -c "INSERT INTO ledger (n) VALUES (-1)" >/dev/null 2>&1 && echo yes || echo no; }
start_follower

# dry run: prints the statements, changes nothing
run_pgcutover switchover --dry-run --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "dry run exits 0"
assert_contains "$OUT" "ALTER DATABASE \"app\" SET default_transaction_read_only = on" "dry run prints the fence"
assert_contains "$OUT" "pg_logical_emit_message(true, 'pgcutover'" "dry run prints the marker"
assert_contains "$OUT" "pg_terminate_backend" "dry run prints the session termination"
assert_contains "$OUT" "ALLOW_CONNECTIONS false" "dry run prints the connection fence"
assert_contains "$OUT" "prepared" "dry run prints the prepared-transaction check"
assert_contains "$OUT" "verify: row count and checksum" "dry run prints the verify step"
assert_contains "$OUT" "every write is refused" "dry run ends with the fence left in place (write-refusing triggers)"
assert_not_contains "$OUT" "RESET default_transaction_read_only" "dry run prints no RESET the real run never does"
assert_eq yes "$(source_writable)" "dry run: source still writable"
assert_eq following "$(tgt_sql -c "SELECT phase FROM pgcutover.migration")" "dry run: migration still following"

# a target that differs: --abort-on-mismatch lifts the fence, the follower goes on
tgt_sql -c "SET session_replication_role = replica" -c "DELETE FROM canary WHERE id = 1"
run_pgcutover switchover --abort-on-mismatch --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 5 "$RC" "mismatch: verification exit code"
assert_contains "$ERR" "switchover aborted" "mismatch: says it aborted"
assert_contains "$ERR" "public.canary" "mismatch: names the table"
assert_eq yes "$(source_writable)" "mismatch: source writable again"
assert_eq 0 "$(src_sql -c "SELECT count(*) FROM pg_db_role_setting WHERE array_to_string(setconfig, ',') LIKE '%default_transaction_read_only%'")" "mismatch: no read-only setting left on the source"
src_sql -c "INSERT INTO ledger (n) VALUES (-2)"
for _ in $(seq 1 100); do [ "$(tgt_sql -c "SELECT count(*) FROM ledger WHERE n = -2")" = 1 ] && break; sleep 0.05; done
assert_eq 1 "$(tgt_sql -c "SELECT count(*) FROM ledger WHERE n = -2")" "mismatch: the follower keeps applying"
tgt_sql -c "INSERT INTO canary (id, v) OVERRIDING SYSTEM VALUE VALUES (1, 'c1')"

# SIGINT during the post command: the fence is lifted
"$PGCUTOVER" switchover --source "$SRC_DSN" --target "$TGT_DSN" --skip-verify --post-command "sleep 20" \
  >"$HARNESS_DIR/sw-int.out" 2>"$HARNESS_DIR/sw-int.err" &
sw=$!
for _ in $(seq 1 200); do grep -q "step sequences" "$HARNESS_DIR/sw-int.err" && break; sleep 0.05; done
sleep 0.3
kill -INT "$sw"; set +e; wait "$sw"; rc=$?; set -e
cat "$HARNESS_DIR/sw-int.out" "$HARNESS_DIR/sw-int.err" >> "$HARNESS_DIR/all-output.log"
assert_eq 1 "$([ "$rc" -ne 0 ] && echo 1 || echo 0)" "SIGINT: switchover fails (exit $rc)"
assert_contains "$(cat "$HARNESS_DIR/sw-int.err")" "the fence is lifted" "SIGINT: says the fence is lifted"
assert_eq yes "$(source_writable)" "SIGINT: source writable again"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM pgcutover.follower WHERE phase <> 'following'")" "SIGINT: follower still following"

# the real thing, under load
"$PG_BIN/pgbench" -n -c 2 -R 200 -T 30 -f "$(dirname "$0")/../sql/ledger.pgbench" -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app \
  >"$HARNESS_DIR/pgbench.log" 2>&1 &
bench=$!
sleep 3
run_pgcutover switchover --json --reverse --source "$SRC_DSN" --target "$TGT_DSN" --sequence-gap 1000 --post-command "true"
assert_eq 0 "$RC" "switchover exits 0"
downtime=$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["downtime_ms"])' <<<"$OUT")
assert_eq 1 "$(echo "$downtime > 0 && $downtime < 5000" | bc)" "write downtime reported ($downtime ms)"
assert_eq "fence drain sequences verify reverse post" "$("$PY" -c 'import json,sys; print(" ".join(s["step"] for s in json.load(sys.stdin)["steps"]))' <<<"$OUT")" "report splits the time by step"
set +e; wait "$bench"; set -e   # pgbench loses its sessions at the fence
set +e; wait "$FOLLOWER"; frc=$?; set -e
assert_eq 0 "$frc" "the follower exits 0 after the switchover"
run_pgcutover status --json --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq "switched_over cleanup" "$("$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["state"], "cleanup" if "cleanup" in (d["next_step"] or "") and d["switched_over_at"] else "-")' <<<"$OUT")" "status after the switchover: switched_over, when, and the next step"
assert_not_contains "$OUT" "start 'pgcutover follow'" "status after the switchover does not ask to start follow"
assert_eq no "$(source_writable)" "the source is read-only"
assert_eq "$(src_sql -c "SELECT count(*) FROM ledger")" "$(tgt_sql -c "SELECT count(*) FROM ledger")" "every committed ledger row is on the target"
assert_eq t "$(src_sql -c "SELECT count(*) > 100 FROM ledger")" "pgbench really wrote during the test"
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "all tables identical"
assert_eq t "$(tgt_sql -c "SELECT last_value >= (SELECT max(id) FROM ledger) + 1000 FROM ledger_id_seq")" "target sequence is ahead by the gap"
assert_eq a "$(tgt_sql -c "SELECT attidentity FROM pg_attribute WHERE attrelid = 'canary'::regclass AND attname = 'id'")" "identity column is GENERATED ALWAYS again"
tgt_sql -c "INSERT INTO ledger (n) VALUES (42)" -c "INSERT INTO canary (v) VALUES ('after')"
pass "the target is writable, its sequences and identity work"
run_pgcutover verify --source "$SRC_DSN" --target "$TGT_DSN" --exclude-table ledger --exclude-table canary
assert_eq 0 "$RC" "verify after switchover: exit 0"
assert_contains "$OUT" "differ" "verify prints a summary"
run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
assert_eq 7 "$RC" "follow after switchover is refused"

# the rollback path: the new primary's writes flow back to the old source
run_pgcutover follow --source "$TGT_DSN" --target "$SRC_DSN" --slot pgcutover_reverse --until-caught-up
assert_eq 0 "$RC" "reverse follow exits 0"
assert_eq 1 "$(src_sql -c "SELECT count(*) FROM ledger WHERE n = 42")" "a write on the new primary reached the old source"
assert_eq "$(db_fingerprint tgt)" "$(db_fingerprint src)" "old source identical to the new primary again"
run_pgcutover cleanup --yes --source "$TGT_DSN" --target "$SRC_DSN" --slot pgcutover_reverse
assert_eq 0 "$RC" "cleanup of the reverse direction exits 0"

# cleanup, twice
run_pgcutover cleanup --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 2 "$RC" "cleanup without --yes and without a terminal refuses"
run_pgcutover cleanup --dry-run --source "$SRC_DSN" --target "$TGT_DSN"
assert_contains "$OUT" "pg_drop_replication_slot" "cleanup --dry-run prints what it would drop"
assert_eq 1 "$(src_sql -c "SELECT count(*) FROM pg_replication_slots")" "cleanup --dry-run drops nothing"
run_pgcutover cleanup --yes --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "cleanup exits 0"
assert_eq 0 "$(src_sql -c "SELECT count(*) FROM pg_replication_slots")" "cleanup dropped the slot"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgcutover'")" "cleanup dropped the state schema"
run_pgcutover cleanup --yes --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "cleanup again exits 0"

done_testing
