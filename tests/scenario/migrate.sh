#!/usr/bin/env bash
# Scenario: `migrate` of two databases while pgbench writes to one of them:
# copy, follow, switch over, clean up, one report; and migrate that keeps
# following until SIGINT.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
PY=/usr/bin/python3

cluster_sql src -c "CREATE DATABASE app2"
cluster_sql tgt -c "CREATE DATABASE app2"
"$PG_BIN/pgbench" -i -q -s 1 -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >/dev/null 2>&1
src_sql -c "ALTER TABLE pgbench_history REPLICA IDENTITY FULL" -c "CREATE TABLE ledger (id bigserial PRIMARY KEY, n int)"
DB=app2 cluster_sql src -c "CREATE TABLE docs (id serial PRIMARY KEY, body text)" \
  -c "INSERT INTO docs (body) SELECT md5(g::text) FROM generate_series(1, 1000) g"
SRC_BASE="host=127.0.0.1 port=$SRC_PORT dbname=postgres user=postgres password=$TEST_PASSWORD"
TGT_BASE="host=127.0.0.1 port=$TGT_PORT dbname=postgres user=postgres password=$TEST_PASSWORD"

"$PG_BIN/pgbench" -n -c 2 -R 200 -T 20 -f "$(dirname "$0")/../sql/ledger.pgbench" -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app \
  >"$HARNESS_DIR/pgbench.log" 2>&1 &
bench=$!
sleep 1
run_pgcutover migrate --json --switchover --database app --database app2 --source "$SRC_BASE" --target "$TGT_BASE"
assert_eq 0 "$RC" "migrate --switchover of two databases exits 0"
set +e; wait "$bench"; set -e
assert_source_fenced app
assert_source_fenced app2
assert_eq "True 2 pgcutover_app pgcutover_app2" "$("$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["ok"], len(d["databases"]), " ".join(x["slot"] for x in d["databases"]))' <<<"$OUT")" "report: both databases with their slots"
assert_eq "True True" "$("$PY" -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(str(x["switchover"]["ok"] and x["switchover"]["downtime_ms"] > 0) for x in d["databases"]))' <<<"$OUT")" "report: downtime per database"
assert_eq "$(src_sql -c "SELECT count(*) FROM ledger")" "$(tgt_sql -c "SELECT count(*) FROM ledger")" "every committed ledger row is on the target"
assert_eq t "$(src_sql -c "SELECT count(*) > 100 FROM ledger")" "pgbench really wrote during the test"
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "app identical"
assert_eq "$(db_fingerprint src app2)" "$(db_fingerprint tgt app2)" "app2 identical"
assert_eq 0 "$(src_sql -c "SELECT count(*) FROM pg_replication_slots")" "slots dropped"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgcutover'")" "state dropped"
src_sql -c "INSERT INTO ledger (n) VALUES (1)" >/dev/null 2>&1 && ro=no || ro=yes
assert_eq yes "$ro" "the old source stays read-only after cleanup"

# migrate without --switchover keeps following until SIGINT
cluster_sql src -c "CREATE DATABASE app3"
cluster_sql tgt -c "CREATE DATABASE app3"
DB=app3 cluster_sql src -c "CREATE TABLE t (id int PRIMARY KEY)" -c "INSERT INTO t SELECT generate_series(1, 10)"
SRC3="host=127.0.0.1 port=$SRC_PORT dbname=app3 user=postgres password=$TEST_PASSWORD"
TGT3="host=127.0.0.1 port=$TGT_PORT dbname=app3 user=postgres password=$TEST_PASSWORD"
"$PGCUTOVER" migrate --source "$SRC3" --target "$TGT3" >"$HARNESS_DIR/m3.out" 2>"$HARNESS_DIR/m3.err" &
m=$!
for _ in $(seq 1 200); do grep -q "every database has caught up" "$HARNESS_DIR/m3.err" && break; sleep 0.05; done
DB=app3 cluster_sql src -c "INSERT INTO t VALUES (11)"
for _ in $(seq 1 100); do [ "$(DB=app3 cluster_sql tgt -c "SELECT count(*) FROM t")" = 11 ] && break; sleep 0.05; done
assert_eq 11 "$(DB=app3 cluster_sql tgt -c "SELECT count(*) FROM t")" "keeps following after catching up"
kill -INT "$m"; set +e; wait "$m"; rc=$?; set -e
cat "$HARNESS_DIR/m3.out" "$HARNESS_DIR/m3.err" >> "$HARNESS_DIR/all-output.log"
assert_eq 0 "$rc" "SIGINT stops migrate cleanly"
assert_eq stopped "$(DB=app3 cluster_sql tgt -c "SELECT phase FROM pgcutover.follower")" "the follower stopped cleanly"

done_testing
