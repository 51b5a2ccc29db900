#!/usr/bin/env bash
# Scenario (review): operations around a switchover without --reverse:
# a dry run changes nothing; a second logical consumer (pg_recvlogical on
# its own slot) connected during the switchover; status afterwards (source
# up and down); cleanup --yes twice and status after cleanup.
# Fails now: after `cleanup` (state dropped) `status` says "no migration ...
# (never started); run 'pgcutover copy' first", although the old source carries
# schema pgcutover_fence; and copy then advises DROP/CREATE DATABASE on the
# target, which is the new primary.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
PY=/usr/bin/python3
src_sql -c "CREATE TABLE ledger (id bigserial PRIMARY KEY, n int)" -c "INSERT INTO ledger (n) SELECT g FROM generate_series(1, 100) g"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"
follower_start
follower=$FOLLOWER
PGPASSWORD=$TEST_PASSWORD "$PG_BIN/pg_recvlogical" -h 127.0.0.1 -p "$SRC_PORT" -U postgres -d app --slot other --create-slot -P test_decoding
PGPASSWORD=$TEST_PASSWORD "$PG_BIN/pg_recvlogical" -h 127.0.0.1 -p "$SRC_PORT" -U postgres -d app --slot other --start -f "$HARNESS_DIR/other.out" \
  >"$HARNESS_DIR/recvlogical.log" 2>&1 &
recv=$!
sleep 1
assert_eq 1 "$(cluster_sql src -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'other' AND active")" "the second consumer is streaming"

snapshot() {
  cluster_sql src -c "SELECT datallowconn, datconnlimit FROM pg_database WHERE datname = 'app'"
  cluster_sql src -c "SELECT coalesce(string_agg(array_to_string(setconfig, ','), ';'), '') FROM pg_db_role_setting"
  src_sql -c "SELECT count(*) FROM pg_trigger WHERE tgname = 'pgcutover_fence'"
  src_sql -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgcutover_fence'"
  tgt_sql -c "SELECT phase FROM pgcutover.migration"
}
before=$(snapshot)
run_pgcutover switchover --dry-run --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "dry run exits 0"
assert_eq "$before" "$(snapshot)" "dry run changes nothing (datallowconn, db settings, triggers, phase)"
assert_eq 1 "$(cluster_sql src -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'other' AND active")" "dry run: the second consumer still streams"

src_sql -c "INSERT INTO ledger (n) VALUES (1000)"
run_pgcutover switchover --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "switchover with a second logical consumer exits 0"
echo "$OUT$ERR" | grep -iE "other|walsender|recvlogical|terminat|ended|consumer|slot" | head -6 | sed 's/^/# switchover: /'
set +e; wait "$follower"; set -e
sleep 1
echo "# pg_recvlogical said: $(tr '\n' ' ' < "$HARNESS_DIR/recvlogical.log" | cut -c1-300)"
kill "$recv" 2>/dev/null || true; wait "$recv" 2>/dev/null || true
assert_source_fenced

# status after the switchover
run_pgcutover status --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "status after the switchover exits 0"
assert_contains "$OUT" "switched_over" "status says switched_over"
echo "$OUT" | head -12 | sed 's/^/# status: /'
run_pgcutover status --json --source "$SRC_DSN" --target "$TGT_DSN"
echo "# status --json: $(echo "$OUT" | tr -d '\n' | cut -c1-600)"
run_pgcutover status --json --source "host=127.0.0.1 port=1 dbname=app user=postgres password=x connect_timeout=2" --target "$TGT_DSN"
assert_eq 0 "$RC" "status after the switchover, source down: exit 0"
echo "# status --json (source down): $(echo "$OUT" | tr -d '\n' | cut -c1-400) $ERR"
assert_not_contains "$OUT$ERR" "slot missing" "source down after switchover: never 'slot missing'"
# the source is down for real: stop the cluster briefly
as_pg "$PG_BIN/pg_ctl" -D "$HARNESS_DIR/src/data" -w -m fast stop >/dev/null
run_pgcutover status --source "$SRC_DSN connect_timeout=2" --target "$TGT_DSN"
echo "# status (source stopped) rc=$RC: $(echo "$OUT$ERR" | tr '\n' ' ' | cut -c1-400)"
assert_not_contains "$OUT$ERR" "missing" "source stopped after switchover: never 'missing'"
as_pg "$PG_BIN/pg_ctl" -D "$HARNESS_DIR/src/data" -l "$HARNESS_DIR/src/log" -w -o "-p $SRC_PORT" start >/dev/null

# cleanup twice, then status
run_pgcutover cleanup --yes --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "cleanup after the switchover exits 0"
echo "# cleanup 1: $(echo "$OUT$ERR" | tr '\n' ' ' | cut -c1-400)"
assert_eq 0 "$(cluster_sql src -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'pgcutover%'")" "cleanup dropped pgcutover's slot"
assert_eq 1 "$(cluster_sql src -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'other'")" "cleanup left the other consumer's slot alone"
assert_source_fenced
run_pgcutover cleanup --yes --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "cleanup a second time exits 0"
echo "# cleanup 2: $(echo "$OUT$ERR" | tr '\n' ' ' | cut -c1-400)"
run_pgcutover status --source "$SRC_DSN" --target "$TGT_DSN"
echo "# status after cleanup rc=$RC: $(echo "$OUT$ERR" | tr '\n' ' ' | cut -c1-400)"
assert_not_contains "$OUT$ERR" "run 'pgcutover copy'" "status after a switched-over and cleaned-up migration does not advise 'pgcutover copy'"
assert_not_contains "$OUT$ERR" "never started" "status after a switched-over and cleaned-up migration does not call it never started"
# what following that advice does to the new primary
tgt_sql -c "INSERT INTO ledger (n) VALUES (-4242)"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
echo "# copy after cleanup rc=$RC: $(echo "$OUT$ERR" | tr '\n' ' ' | cut -c1-400)"
assert_eq 1 "$(tgt_sql -c "SELECT count(*) FROM ledger WHERE n = -4242")" "the new primary's own write survives a 'pgcutover copy' run after cleanup"
done_testing
