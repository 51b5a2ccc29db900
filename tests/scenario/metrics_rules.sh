#!/usr/bin/env bash
# Scenario: the monitoring kit.  docs/prometheus-alerts.yml passes promtool's
# check and its unit tests (tests/monitoring/alerts_test.yml: each alert fires
# on a synthetic series and not otherwise), docs/grafana-dashboard.json is
# JSON, and every metric name the rules and the dashboard use is served by a
# real follower's /metrics, labelled slot and database.
. "$(dirname "$0")/../lib/harness.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

out=$(promtool check rules "$ROOT/docs/prometheus-alerts.yml" 2>&1) && rc=0 || rc=$?
assert_eq 0 "$rc" "promtool check rules docs/prometheus-alerts.yml"
out=$(promtool test rules "$ROOT/tests/monitoring/alerts_test.yml" 2>&1) && rc=0 || rc=$?
assert_eq 0 "$rc" "promtool test rules: every alert fires on its synthetic series, and only then"
[ "$rc" = 0 ] || echo "$out" | sed 's/^/# /'
jq -e '.panels | length > 0' "$ROOT/docs/grafana-dashboard.json" >/dev/null && pass "the Grafana dashboard is JSON with panels" || fail "the Grafana dashboard is JSON with panels"

used=$( { grep -oE 'pgcutover_[a-z_]+' "$ROOT/docs/prometheus-alerts.yml";
          jq -r '.panels[].targets[].expr, (.templating.list[] | .definition // empty)' "$ROOT/docs/grafana-dashboard.json" | grep -oE 'pgcutover_[a-z_]+'; } | sort -u)
assert_eq t "$([ "$(wc -l <<<"$used")" -ge 10 ] && echo t || echo f)" "the rules and the dashboard use the metrics ($(wc -l <<<"$used") names)"

harness_start
src_sql -c "CREATE TABLE t (id int PRIMARY KEY, v text)" -c "INSERT INTO t SELECT g, 'x' FROM generate_series(1, 100) g"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
port=$(free_port)
follower_start --metrics-listen "127.0.0.1:$port"
src_sql -c "INSERT INTO t VALUES (101, 'y')"
for _ in $(seq 1 60); do
  metrics=$(curl -sf "http://127.0.0.1:$port/metrics" || true)
  grep -q '^pgcutover_last_applied_commit_timestamp_seconds{' <<<"$metrics" && grep -q '^pgcutover_lag_seconds{' <<<"$metrics" && break
  sleep 0.25
done
missing=""
for name in $used; do
  grep -qE "^$name\{" <<<"$metrics" || missing="$missing $name"
done
assert_eq "" "$missing" "every metric of the rules and the dashboard is in a real follower's /metrics"
assert_eq 0 "$(grep -vE '^#' <<<"$metrics" | grep -cvE '^pgcutover_[a-z_]+\{slot="pgcutover",database="app"(,[a-z]+="[^"]*")?\} [0-9.e+]+$' || true)" \
  "every sample is labelled slot and database"
assert_contains "$metrics" "pgcutover_build_info{slot=\"pgcutover\",database=\"app\",version=\"$("$PGCUTOVER" --version | awk '{print $2}')\"} 1" "build_info carries the version"
assert_contains "$metrics" 'pgcutover_phase{slot="pgcutover",database="app",phase="following"} 1' "phase: following"
assert_contains "$metrics" 'pgcutover_errors_total{slot="pgcutover",database="app"} 0' "no errors yet"
lint=$(promtool check metrics <<<"$metrics" 2>&1) && rc=0 || rc=$?
assert_eq 0 "$rc" "promtool check metrics accepts the exposition"
[ "$rc" = 0 ] || echo "$lint" | sed 's/^/# /'

# a lost target connection: the follower reconnects and counts it
tgt_sql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'app' AND pid <> pg_backend_pid() AND backend_type = 'client backend'" >/dev/null
for _ in $(seq 1 80); do
  metrics=$(curl -sf "http://127.0.0.1:$port/metrics" || true)
  grep -qE '^pgcutover_reconnects_total\{[^}]*\} [1-9]' <<<"$metrics" && grep -q 'phase="following"} 1' <<<"$metrics" && break
  sleep 0.25
done
assert_eq 1 "$(grep -cE '^pgcutover_reconnects_total\{[^}]*\} [1-9]' <<<"$metrics")" "a lost target connection counts a reconnect"
assert_eq 1 "$(grep -cE '^pgcutover_errors_total\{[^}]*\} [1-9]' <<<"$metrics")" "and an error"
assert_contains "$metrics" 'pgcutover_phase{slot="pgcutover",database="app",phase="following"} 1' "following again after the reconnect"
kill -TERM "$FOLLOWER"; set +e; wait "$FOLLOWER"; rc=$?; set -e
assert_eq 0 "$rc" "the follower with its metrics endpoint stops cleanly"

done_testing
