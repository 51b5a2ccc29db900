#!/usr/bin/env bash
# Scenario: lag, `status` in every situation, --wait-lag, and /metrics.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
PY=/usr/bin/python3
jget() { "$PY" -c 'import json,sys; d=json.load(sys.stdin); v=d[sys.argv[1]]; print("null" if v is None else v)' "$1" <<<"$OUT"; }
status_json() { run_pgcutover status --json --source "$SRC_DSN" --target "$TGT_DSN"; }

# never started
status_json
assert_eq 7 "$RC" "never started: exit code"
assert_eq never_started "$(jget state)" "never started: state"

src_sql -c "CREATE TABLE t (id int PRIMARY KEY, v text)" -c "INSERT INTO t SELECT g, 'x' FROM generate_series(1, 100) g"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
status_json
assert_eq 0 "$RC" "copied: exit 0"
assert_eq copied "$(jget state)" "copied: state"
assert_eq False "$(jget follower_alive)" "copied: no follower"
assert_contains "$OUT" "no follower is running" "copied: warns that nothing follows"

# a public metrics address is refused
run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --metrics-listen 0.0.0.0:9
assert_eq 2 "$RC" "public metrics address: usage exit code"
assert_contains "$ERR" "is not a loopback address" "public metrics address: says why"

# a running follower: lag goes to 0 on an idle source thanks to heartbeats
port=$(free_port)
"$PGCUTOVER" follow --source "$SRC_DSN" --target "$TGT_DSN" --metrics-listen "127.0.0.1:$port" \
  >>"$HARNESS_DIR/all-output.log" 2>&1 &
follower=$!
for _ in $(seq 1 100); do
  status_json
  [ "$(jget state)" = following ] && [ "$(jget lag_seconds)" = 0.0 ] && break
  sleep 0.1
done
assert_eq following "$(jget state)" "running: state following"
assert_eq True "$(jget follower_alive)" "running: follower alive"
assert_eq "$follower" "$(jget follower_pid)" "running: follower pid"
assert_eq 0.0 "$(jget lag_seconds)" "running, idle source: lag 0 s"
for f in state slot source_lsn applied_lsn lag_bytes lag_seconds txn_per_sec rows_per_sec follower_pid \
         follower_alive slot_retained_wal_bytes last_error; do
  "$PY" -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if sys.argv[1] in d else 1)' "$f" <<<"$OUT" \
    && pass "status --json has $f" || fail "status --json has $f"
done

# changes are applied and counted; --wait-lag returns at once when caught up
src_sql -c "INSERT INTO t SELECT g, 'y' FROM generate_series(101, 200) g"
run_pgcutover status --source "$SRC_DSN" --target "$TGT_DSN" --wait-lag 1 --timeout 20
assert_eq 0 "$RC" "--wait-lag 1 returns 0 while the follower keeps up"
for _ in $(seq 1 50); do [ "$(tgt_sql -c "SELECT count(*) FROM t")" = 200 ] && break; sleep 0.1; done
assert_eq 200 "$(tgt_sql -c "SELECT count(*) FROM t")" "rows applied while following"
sleep 1.2
assert_eq t "$(tgt_sql -c "SELECT txns >= 1 AND rows >= 100 FROM pgcutover.follower")" "follower state counts the applied transaction"

# /metrics parses as Prometheus text
metrics=$(curl -sf "http://127.0.0.1:$port/metrics")
parsed=$("$PY" - <<PYEOF
from prometheus_client.parser import text_string_to_metric_families
text = '''$metrics'''
fams = {f.name: f for f in text_string_to_metric_families(text)}
need = ["pgcutover_up", "pgcutover_lag_bytes", "pgcutover_lag_seconds",
        "pgcutover_applied_transactions", "pgcutover_applied_rows"]
missing = [n for n in need if n not in fams]
up = fams["pgcutover_up"].samples[0].value
rows = fams["pgcutover_applied_rows"].samples[0].value
print("missing:" + ",".join(missing) if missing else "ok up=%d rows>=100:%s" % (up, rows >= 100))
PYEOF
)
assert_eq "ok up=1 rows>=100:True" "$parsed" "/metrics parses as Prometheus text with the expected families"
assert_eq 404 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nope")" "/nope is 404"

# stopped: lag grows while writes continue
kill -TERM "$follower"; set +e; wait "$follower"; set -e
src_sql -c "INSERT INTO t VALUES (1000, 'while stopped')"
sleep 1.5
status_json
assert_eq stopped "$(jget state)" "stopped: state"
assert_eq False "$(jget follower_alive)" "stopped: follower not alive"
assert_eq True "$("$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["lag_bytes"] > 0 and d["lag_seconds"] >= 1.0)' <<<"$OUT")" "stopped: lag bytes and seconds grow"

# --wait-lag times out when nothing follows
start=$(date +%s.%N)
run_pgcutover status --source "$SRC_DSN" --target "$TGT_DSN" --wait-lag 0.5 --timeout 2
took=$(echo "$(date +%s.%N) - $start" | bc)
assert_eq 9 "$RC" "--wait-lag times out with exit 9"
assert_eq 1 "$(echo "$took >= 1.9 && $took < 6" | bc)" "--wait-lag waited about --timeout ($took s)"

# a follower that is killed: state says it is gone
"$PGCUTOVER" follow --source "$SRC_DSN" --target "$TGT_DSN" >>"$HARNESS_DIR/all-output.log" 2>&1 &
follower=$!
for _ in $(seq 1 50); do status_json; [ "$(jget state)" = following ] && break; sleep 0.1; done
kill -9 "$follower"; set +e; wait "$follower"; set -e
sleep 0.3
status_json
assert_eq False "$(jget follower_alive)" "killed: follower not alive"
assert_eq stopped "$(jget state)" "killed: state stopped"

# heartbeats denied: follow says what to GRANT and goes on with byte lag
src_sql -c "REVOKE EXECUTE ON FUNCTION pg_logical_emit_message(boolean, text, text) FROM PUBLIC" \
        -c "CREATE ROLE rep LOGIN REPLICATION PASSWORD '$TEST_PASSWORD'" -c "GRANT SELECT ON ALL TABLES IN SCHEMA public TO rep"
REP_DSN="host=127.0.0.1 port=$SRC_PORT dbname=app user=rep password=$TEST_PASSWORD"
"$PGCUTOVER" follow --source "$REP_DSN" --target "$TGT_DSN" >"$HARNESS_DIR/rep.out" 2>"$HARNESS_DIR/rep.err" &
follower=$!
for _ in $(seq 1 50); do grep -q "heartbeats are off" "$HARNESS_DIR/rep.err" && break; sleep 0.1; done
src_sql -c "INSERT INTO t VALUES (2000, 'no heartbeat')"
for _ in $(seq 1 50); do [ "$(tgt_sql -c "SELECT count(*) FROM t WHERE id = 2000")" = 1 ] && break; sleep 0.1; done
kill -TERM "$follower"; set +e; wait "$follower"; rc=$?; set -e
cat "$HARNESS_DIR/rep.out" "$HARNESS_DIR/rep.err" >> "$HARNESS_DIR/all-output.log"
assert_contains "$(cat "$HARNESS_DIR/rep.err")" "GRANT EXECUTE ON FUNCTION pg_catalog.pg_logical_emit_message(boolean, text, text) TO rep" "heartbeat denied: names the GRANT"
assert_eq 1 "$(tgt_sql -c "SELECT count(*) FROM t WHERE id = 2000")" "heartbeat denied: changes still applied"
assert_eq 0 "$rc" "heartbeat denied: follow still stops cleanly"

# the slot dropped behind our back
src_sql -c "SELECT pg_drop_replication_slot('pgcutover')" >/dev/null
status_json
assert_eq slot_missing "$(jget state)" "slot missing: state"
assert_contains "$OUT" "is gone from the source" "slot missing: warning"

done_testing
