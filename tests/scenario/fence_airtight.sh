#!/usr/bin/env bash
# Scenario: the default fence is airtight.  Writers of every kind a real
# application has write to the source through a switchover under load:
# plain and BEGIN READ WRITE clients reconnecting per transaction, long-lived
# sessions that asked for READ WRITE the JDBC way (SET SESSION
# CHARACTERISTICS) or turned default_transaction_read_only off, a superuser,
# and a session inside an open transaction when the fence falls.  After the
# switchover the source holds no row the target lacks, and no writer can
# commit on the source any more.  A prepared transaction refuses the
# switchover before anything is fenced.
. "$(dirname "$0")/../lib/harness.sh"
harness_start "max_prepared_transactions = 5"
PY=/usr/bin/python3
PGB=(-h 127.0.0.1 -p "$SRC_PORT" app)

src_sql -v pw="$TEST_PASSWORD" -f "$(dirname "$0")/../sql/ledger_app.sql"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"
follower_start
follower=$FOLLOWER

# --- status never calls an unknown slot missing ------------------------------
run_pgcutover status --json --source "host=127.0.0.1 port=1 dbname=app user=postgres password=$TEST_PASSWORD connect_timeout=2" --target "$TGT_DSN"
assert_eq 0 "$RC" "status with the source down exits 0"
assert_eq "source_unreachable None False" "$("$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["state"], d["slot_exists"], d["source_reachable"])' <<<"$OUT")" "status with the source down: source_unreachable, slot unknown"
assert_not_contains "$OUT$ERR" "copy again" "status with the source down advises no re-copy"
run_pgcutover status --target "$TGT_DSN" --wait-lag 5 --timeout 20
assert_eq 0 "$RC" "status --wait-lag without --source waits on the follower's lag and exits 0"
assert_not_contains "$OUT$ERR" "gone from the source" "status without --source does not call the slot gone"

# --- a prepared transaction refuses the switchover, nothing is fenced --------
src_sql -c "BEGIN" -c "INSERT INTO ledger (kind) VALUES ('2pc')" -c "PREPARE TRANSACTION 'before_fence'"
run_pgcutover switchover --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 4 "$RC" "prepared transaction: switchover refused (exit 4)"
assert_contains "$ERR" "before_fence" "prepared transaction: names its gid"
assert_contains "$ERR" "fix:" "prepared transaction: names the fix"
assert_eq t "$(cluster_sql src -c "SELECT datallowconn FROM pg_database WHERE datname = 'app'")" "prepared transaction: connections still allowed"
assert_eq 0 "$(cluster_sql src -c "SELECT count(*) FROM pg_db_role_setting WHERE array_to_string(setconfig, ',') LIKE '%read_only%'")" "prepared transaction: no read-only setting"
assert_eq following "$(tgt_sql -c "SELECT phase FROM pgcutover.migration")" "prepared transaction: still following"
src_sql -c "COMMIT PREPARED 'before_fence'"

# --- writers of every kind ---------------------------------------------------
w="$HARNESS_DIR/writers"; mkdir -p "$w"
echo "INSERT INTO ledger (kind) VALUES ('plain');" > "$w/plain.sql"
printf "BEGIN READ WRITE;\nINSERT INTO ledger (kind) VALUES ('begin_rw');\nCOMMIT;\n" > "$w/begin_rw.sql"
printf "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE;\nINSERT INTO ledger (kind) VALUES ('jdbc');\n" > "$w/jdbc.sql"
printf "SET default_transaction_read_only = off;\nINSERT INTO ledger (kind) VALUES ('guc_off');\n" > "$w/guc_off.sql"
printf "BEGIN READ WRITE;\nINSERT INTO ledger (kind) VALUES ('superuser');\nCOMMIT;\n" > "$w/superuser.sql"
printf "BEGIN;\nINSERT INTO ledger (kind) VALUES ('open_txn');\nSELECT pg_sleep(0.7);\nINSERT INTO ledger (kind) VALUES ('open_txn');\nCOMMIT;\n" > "$w/open_txn.sql"
pids=()
writer() {  # writer NAME USER [pgbench options]
  local name=$1 user=$2; shift 2
  PGPASSWORD=$TEST_PASSWORD "$PG_BIN/pgbench" -n -T 20 "$@" -f "$w/$name.sql" -U "$user" "${PGB[@]}" \
    >"$w/$name.log" 2>&1 &
  pids+=($!)
}
writer plain app_rw -C -R 40
writer begin_rw app_rw -C -R 40
writer jdbc app_rw -R 40
writer guc_off app_rw -R 40
writer superuser postgres -C -R 40
writer open_txn app_rw -c 2
sleep 2.5

run_pgcutover switchover --json --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "switchover under every kind of writer exits 0"
assert_contains "$OUT" '"fence"' "report has the fence step"
[ "$RC" = 0 ] || kill "$follower" 2>/dev/null || true
set +e; wait "$follower"; frc=$?; set -e
assert_eq 0 "$frc" "the follower exits 0 after the switchover"

# writes attempted now, every way, must all fail
try_write() {  # try_write USER SQL...: "committed" or "refused"
  local user=$1; shift
  if PGPASSWORD=$TEST_PASSWORD psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$SRC_PORT" -U "$user" -d app "$@" >/dev/null 2>&1; then
    echo committed
  else
    echo refused
  fi
}
assert_eq refused "$(try_write app_rw -c "INSERT INTO ledger (kind) VALUES ('late_plain')")" "after: a plain write is refused"
assert_eq refused "$(try_write app_rw -c "BEGIN READ WRITE" -c "INSERT INTO ledger (kind) VALUES ('late_rw')" -c "COMMIT")" "after: BEGIN READ WRITE is refused"
assert_eq refused "$(try_write app_rw -c "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE" -c "INSERT INTO ledger (kind) VALUES ('late_jdbc')")" "after: SET SESSION CHARACTERISTICS READ WRITE is refused"
assert_eq refused "$(try_write postgres -c "SET default_transaction_read_only = off" -c "INSERT INTO ledger (kind) VALUES ('late_super')")" "after: a superuser write is refused"
sleep 1
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done

# cleanup of a switched-over source: the slot goes, the fence stays
run_pgcutover cleanup --yes --source "$SRC_DSN" --target "$TGT_DSN" --keep-state
assert_eq 0 "$RC" "cleanup of the fenced old source exits 0"
assert_eq 0 "$(cluster_sql src -c "SELECT count(*) FROM pg_replication_slots")" "cleanup dropped the slot on the fenced source"
assert_eq refused "$(try_write app_rw -c "INSERT INTO ledger (kind) VALUES ('late_after_cleanup')")" "cleanup leaves the old source fenced"

# the verdict: the old source is readable
cluster_sql src -c "ALTER DATABASE app ALLOW_CONNECTIONS true" >/dev/null
for kind in plain begin_rw jdbc guc_off superuser open_txn; do
  n=$(src_sql -c "SELECT count(*) FROM ledger WHERE kind = '$kind'")
  assert_eq t "$([ "$n" -gt 0 ] && echo t || echo f)" "writer $kind really wrote before the fence ($n rows)"
done
assert_eq 0 "$(src_sql -c "SELECT count(*) FROM ledger WHERE kind LIKE 'late%'")" "no late write committed on the source"
src_ids=$(src_sql -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM ledger")
tgt_ids=$(tgt_sql -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM ledger")
assert_eq "$src_ids" "$tgt_ids" "the source has no ledger row the target lacks (ids equal)"
assert_eq 0 "$(src_sql -c "SELECT count(*) FROM ledger WHERE kind = 'open_txn'" | awk '{print $1 % 2}')" "open transactions committed whole or not at all"
done_testing
