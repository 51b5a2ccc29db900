#!/usr/bin/env bash
# Scenario: every `sh` block of docs/runbook.md, in order, against throwaway
# clusters: the runbook's commands work as written.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
runbook="$(cd "$(dirname "$0")/../.." && pwd)/docs/runbook.md"

"$PG_BIN/pgbench" -i -q -s 1 -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >/dev/null 2>&1
src_sql -c "ALTER TABLE pgbench_history REPLICA IDENTITY FULL"
for db in account knowledge_db; do
  cluster_sql src -c "CREATE DATABASE $db"
  cluster_sql tgt -c "CREATE DATABASE $db"
  DB=$db cluster_sql src -c "CREATE TABLE items (id serial PRIMARY KEY, v text)" \
    -c "INSERT INTO items (v) SELECT md5(g::text) FROM generate_series(1, 500) g"
done

# the sh blocks, in order, as one script
metrics_port=$(free_port)
awk '/^```sh$/ { inblock = 1; next } /^```/ { inblock = 0; next } inblock' "$runbook" |
  sed "s/127.0.0.1:9187/127.0.0.1:$metrics_port/" > "$HARNESS_DIR/runbook.sh"
nblocks=$(grep -c '^```sh$' "$runbook")
assert_eq 1 "$([ "$nblocks" -ge 6 ] && echo 1 || echo 0)" "the runbook has $nblocks shell blocks"
mkdir -p "$HARNESS_DIR/work"
set +e
(
  cd "$HARNESS_DIR/work"
  export PGCUTOVER_SOURCE="$SRC_DSN" PGCUTOVER_TARGET="$TGT_DSN" PATH="$(dirname "$PGCUTOVER"):$PATH"
  trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
  set -euo pipefail
  . "$HARNESS_DIR/runbook.sh"
  wait
) >"$HARNESS_DIR/runbook.out" 2>&1
rc=$?
set -e
cat "$HARNESS_DIR/runbook.out" "$HARNESS_DIR/work/follow.log" >> "$HARNESS_DIR/all-output.log" 2>/dev/null || true
assert_eq 0 "$rc" "every runbook command succeeded"
[ "$rc" = 0 ] || tail -20 "$HARNESS_DIR/runbook.out"
assert_contains "$(cat "$HARNESS_DIR/runbook.out")" "switchover complete" "the runbook's switchover ran"
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "app: target equals source"
for db in account knowledge_db; do
  assert_source_fenced "$db"
  assert_eq "$(db_fingerprint src $db)" "$(db_fingerprint tgt $db)" "$db: migrated by the runbook's migrate"
done
assert_eq "0 0" "$(src_sql -c "SELECT count(*) FROM pg_replication_slots") $(tgt_sql -c "SELECT count(*) FROM pg_replication_slots")" "no slot left on either side"

done_testing
