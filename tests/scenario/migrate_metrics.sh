#!/usr/bin/env bash
# Scenario: `migrate --database app --database app2 --metrics-listen H:P`
# serves both databases' followers on the one endpoint, told apart by the
# labels slot and database (before, the second follower could not bind the
# port and migrate exited 7).  SIGINT stops it cleanly, endpoint included.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
cluster_sql src -c "CREATE DATABASE app2"
cluster_sql tgt -c "CREATE DATABASE app2"
src_sql -c "CREATE TABLE t (id int PRIMARY KEY)" -c "INSERT INTO t SELECT generate_series(1, 10)"
DB=app2 cluster_sql src -c "CREATE TABLE docs (id int PRIMARY KEY)" -c "INSERT INTO docs SELECT generate_series(1, 10)"
SRC_BASE="host=127.0.0.1 port=$SRC_PORT dbname=postgres user=postgres password=$TEST_PASSWORD"
TGT_BASE="host=127.0.0.1 port=$TGT_PORT dbname=postgres user=postgres password=$TEST_PASSWORD"
port=$(free_port)

"$PGCUTOVER" migrate --database app --database app2 --source "$SRC_BASE" --target "$TGT_BASE" \
  --metrics-listen "127.0.0.1:$port" >"$HARNESS_DIR/m.out" 2>"$HARNESS_DIR/m.err" &
m=$!
for _ in $(seq 1 1200); do
  grep -q "every database has caught up" "$HARNESS_DIR/m.err" && break
  kill -0 "$m" 2>/dev/null || break
  sleep 0.1
done
assert_contains "$(cat "$HARNESS_DIR/m.err")" "every database has caught up" "both followers run and catch up"
assert_contains "$(cat "$HARNESS_DIR/m.err")" "serving the metrics of 2 databases on http://127.0.0.1:$port/metrics" "one endpoint, logged"
DB=app2 cluster_sql src -c "INSERT INTO docs VALUES (11)"
for _ in $(seq 1 60); do
  metrics=$(curl -sf --max-time 5 "http://127.0.0.1:$port/metrics" || true)
  grep -qE '^pgcutover_applied_transactions_total\{slot="pgcutover_app2",database="app2"\} [1-9]' <<<"$metrics" && break
  sleep 0.25
done
assert_contains "$metrics" 'pgcutover_up{slot="pgcutover_app",database="app"} 1' "app's follower is up on the endpoint"
assert_contains "$metrics" 'pgcutover_up{slot="pgcutover_app2",database="app2"} 1' "app2's follower is up on the same endpoint"
assert_eq 1 "$(grep -cE '^pgcutover_applied_transactions_total\{slot="pgcutover_app2",database="app2"\} [1-9]' <<<"$metrics")" "app2's applied transaction is counted under its labels"
assert_eq 1 "$(grep -c '^# TYPE pgcutover_lag_bytes gauge' <<<"$metrics")" "each family once, a sample per database"
assert_eq 2 "$(grep -c '^pgcutover_lag_bytes{' <<<"$metrics")" "lag of both databases"
lint=$(promtool check metrics <<<"$metrics" 2>&1) && rc=0 || rc=$?
assert_eq 0 "$rc" "promtool check metrics accepts the two-database exposition"

# SIGINT: the followers stop, migrate exits 0 and the endpoint goes with it
kill -INT "$m"
for _ in $(seq 1 600); do kill -0 "$m" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$m" 2>/dev/null; then
  echo "# migrate still runs 60 s after SIGINT; its stderr ends with:"; tail -n 5 "$HARNESS_DIR/m.err" | sed 's/^/#   /'
  kill -9 "$m" 2>/dev/null || true
fi
set +e; wait "$m"; rc=$?; set -e
cat "$HARNESS_DIR/m.out" "$HARNESS_DIR/m.err" >> "$HARNESS_DIR/all-output.log"
assert_eq 0 "$rc" "SIGINT stops migrate cleanly"
assert_eq "" "$(curl -sf --max-time 5 "http://127.0.0.1:$port/metrics" 2>/dev/null || true)" "the endpoint is gone with migrate"

done_testing
