#!/usr/bin/env bash
# Scenario: `pgcutover check` against real clusters, good and bad.
. "$(dirname "$0")/../lib/harness.sh"
harness_start

PGBENCH="$PG_BIN/pgbench"
"$PGBENCH" -i -s 1 -q -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >/dev/null 2>&1
src_sql -c "ALTER TABLE pgbench_history REPLICA IDENTITY FULL"

# 1. a good pair checks clean
run_pgcutover check --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "good pair: exit 0"
assert_contains "$OUT" "ok    wal2json" "good pair: wal2json loads"
assert_not_contains "$OUT" "FAIL" "good pair: no FAIL line"
assert_eq 0 "$(src_sql -c "SELECT count(*) FROM pg_replication_slots")" "check leaves no slot behind"

# 2. --json gives every finding as data
run_pgcutover check --json --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "json: exit 0"
assert_eq "True 0" "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["ok"], d["failures"])' <<<"$OUT")" "json: ok and zero failures"
assert_eq "yes" "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print("yes" if {"wal_level","wal2json","replica_identity","extensions","target_empty"} <= {f["check"] for f in d["findings"]} else "no")' <<<"$OUT")" "json: findings carry check names"

# 3. output_plugin_libraries without wal2json
if src_sql -c "SHOW output_plugin_libraries" >/dev/null 2>&1; then
  src_sql -c "ALTER SYSTEM SET output_plugin_libraries = 'pgoutput', 'test_decoding'" -c "SELECT pg_reload_conf()" >/dev/null
  sleep 0.5
  run_pgcutover check --source "$SRC_DSN" --target "$TGT_DSN"
  assert_eq 4 "$RC" "plugin not allowed: preflight exit code"
  assert_contains "$OUT" "FAIL  wal2json" "plugin not allowed: FAIL line"
  assert_contains "$OUT" "output_plugin_libraries = 'pgoutput', 'test_decoding', 'wal2json'" "plugin not allowed: fix names the setting"
  src_sql -c "ALTER SYSTEM RESET output_plugin_libraries" -c "SELECT pg_reload_conf()" >/dev/null
  sleep 0.5
else
  pass "# SKIP server predates output_plugin_libraries"
fi

# 4. a table with no primary key and default replica identity
src_sql -c 'CREATE TABLE "No Key"(a int, b text)'
run_pgcutover check --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 4 "$RC" "no PK: preflight exit code"
assert_contains "$OUT" 'FAIL  replica_identity' "no PK: FAIL line"
assert_contains "$OUT" 'public."No Key"' "no PK: names the table"
assert_contains "$OUT" 'REPLICA IDENTITY FULL' "no PK: fix given"
run_pgcutover check --source "$SRC_DSN" --target "$TGT_DSN" --exclude-table 'public.No Key'
assert_eq 0 "$RC" "no PK excluded: exit 0"
src_sql -c 'ALTER TABLE "No Key" REPLICA IDENTITY FULL'

# 4b. filters that match nothing fail check, and copy, before any slot exists
run_pgcutover check --source "$SRC_DSN" --target "$TGT_DSN" --include-table publc.pgbench_accounts
assert_eq 4 "$RC" "include-table typo: preflight exit code"
assert_contains "$OUT" "FAIL  filters" "include-table typo: FAIL line"
assert_contains "$OUT" "--include-table publc.pgbench_accounts matches no table" "include-table typo: names the filter"
assert_contains "$OUT" "did you mean public.pgbench_accounts" "include-table typo: suggests the table"
run_pgcutover check --source "$SRC_DSN" --target "$TGT_DSN" --exclude-table pgbench_historyy
assert_eq 4 "$RC" "exclude-table typo: preflight exit code"
assert_contains "$OUT" "--exclude-table pgbench_historyy matches no table" "exclude-table typo: names the filter"
run_pgcutover check --source "$SRC_DSN" --target "$TGT_DSN" --include-schema public --exclude-schema public
assert_eq 4 "$RC" "filters selecting nothing: preflight exit code"
assert_contains "$OUT" "the filters select none of the source's" "filters selecting nothing: says so"
run_pgcutover check --source "$SRC_DSN" --target "$TGT_DSN" --include-table pgbench_accounts --include-table public.pgbench_branches
assert_eq 0 "$RC" "matching filters: exit 0"
assert_contains "$OUT" "the filters select 2 of the source's" "matching filters: counts the selection"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN" --include-table publc.pgbench_accounts
assert_eq 4 "$RC" "copy with a filter typo: preflight exit code"
assert_contains "$ERR" "--include-table publc.pgbench_accounts matches no table" "copy with a filter typo: names the filter"
assert_eq 0 "$(src_sql -c "SELECT count(*) FROM pg_replication_slots")" "copy with a filter typo: no slot created"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" "copy with a filter typo: target untouched"

# 5. role without REPLICATION
src_sql -c "CREATE ROLE norepl LOGIN PASSWORD '$TEST_PASSWORD'" -c "GRANT SELECT ON ALL TABLES IN SCHEMA public TO norepl"
run_pgcutover check --source "host=127.0.0.1 port=$SRC_PORT dbname=app user=norepl password=$TEST_PASSWORD" --target "$TGT_DSN"
assert_eq 4 "$RC" "no REPLICATION: exit code"
assert_contains "$OUT" "FAIL  replication_role" "no REPLICATION: FAIL line"
assert_contains "$OUT" "ALTER ROLE norepl REPLICATION" "no REPLICATION: fix given"

# 6. role without SELECT on a table
src_sql -c "ALTER ROLE norepl REPLICATION" -c "REVOKE SELECT ON pgbench_branches FROM norepl"
run_pgcutover check --source "host=127.0.0.1 port=$SRC_PORT dbname=app user=norepl password=$TEST_PASSWORD" --target "$TGT_DSN"
assert_eq 4 "$RC" "no SELECT: exit code"
assert_contains "$OUT" "FAIL  select_privilege" "no SELECT: FAIL line"
assert_contains "$OUT" "public.pgbench_branches" "no SELECT: names the table"

# 7. unreachable host and unknown host
dead_port=$(free_port)
run_pgcutover check --source "host=127.0.0.1 port=$dead_port dbname=app user=postgres connect_timeout=5" --target "$TGT_DSN"
assert_eq 3 "$RC" "unreachable: connection exit code"
assert_contains "$OUT" "FAIL  connect_source" "unreachable: FAIL line"
assert_contains "$OUT" "fix: start the source server or fix host/port" "unreachable: fix given"
run_pgcutover check --source "host=no-such-host.invalid dbname=app user=postgres connect_timeout=5" --target "$TGT_DSN"
assert_eq 3 "$RC" "unknown host: connection exit code"
assert_contains "$OUT" "check the host name" "unknown host: fix given"

# 8. wrong password: FAIL, and the password is never echoed
run_pgcutover check --source "host=127.0.0.1 port=$SRC_PORT dbname=app user=postgres password=Wr0ng-Secret-77" --target "$TGT_DSN"
assert_eq 3 "$RC" "wrong password: connection exit code"
assert_contains "$OUT" "password authentication failed" "wrong password: cause named"
assert_not_contains "$OUT$ERR" "Wr0ng-Secret-77" "wrong password: password not printed"

# 9. malformed DSN
run_pgcutover check --source "host=127.0.0.1 port=$SRC_PORT password=Wr0ng-Secret-77 bogus" --target "$TGT_DSN"
assert_eq 3 "$RC" "malformed DSN: connection exit code"
assert_contains "$OUT" "fix the source DSN" "malformed DSN: fix given"
assert_not_contains "$OUT$ERR" "Wr0ng-Secret-77" "malformed DSN: password not printed"

# 10. SQLAlchemy URL with a password works and the password is printed nowhere
run_pgcutover check --verbose --source "postgresql+psycopg2://postgres:$TEST_PASSWORD@127.0.0.1:$SRC_PORT/app" --target "$TGT_DSN"
assert_eq 0 "$RC" "sqlalchemy URL: exit 0"
assert_contains "$ERR" "SQLAlchemy URL" "sqlalchemy URL: warning says it was normalised"
assert_contains "$ERR" "postgresql://postgres:***@127.0.0.1" "sqlalchemy URL: redacted in the warning"
assert_not_contains "$OUT$ERR" "$TEST_PASSWORD" "sqlalchemy URL: password not printed"
PGCUTOVER_SOURCE="postgres+asyncpg://postgres:$TEST_PASSWORD@127.0.0.1:$SRC_PORT/app" PGCUTOVER_TARGET="$TGT_DSN" \
  run_pgcutover check
assert_eq 0 "$RC" "DSNs from the environment work"

# 11. missing extension on the target: an extension whose files exist only while
#     the source creates it (both clusters share one installation)
extdir=$("$PG_BIN/pg_config" --sharedir)/extension
if [ -w "$extdir" ]; then
  printf "comment = 'test'\ndefault_version = '1.0'\nrelocatable = true\n" > "$extdir/pgcutover_test_ext.control"
  echo "CREATE FUNCTION pgcutover_test_fn() RETURNS int LANGUAGE sql AS 'SELECT 1';" > "$extdir/pgcutover_test_ext--1.0.sql"
  src_sql -c "CREATE EXTENSION pgcutover_test_ext"
  rm -f "$extdir/pgcutover_test_ext.control" "$extdir/pgcutover_test_ext--1.0.sql"
  run_pgcutover check --source "$SRC_DSN" --target "$TGT_DSN"
  assert_eq 4 "$RC" "missing extension: exit code"
  assert_contains "$OUT" "FAIL  extensions" "missing extension: FAIL line"
  assert_contains "$OUT" "pgcutover_test_ext" "missing extension: names it"
  src_sql -c "DROP EXTENSION pgcutover_test_ext" >/dev/null 2>&1 || src_sql -c "DELETE FROM pg_extension WHERE extname = 'pgcutover_test_ext'"
else
  pass "# SKIP cannot write $extdir"
fi

# 12. non-empty target
tgt_sql -c "CREATE TABLE pgbench_accounts(aid int)"
run_pgcutover check --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 4 "$RC" "non-empty target: exit code"
assert_contains "$OUT" "FAIL  target_empty" "non-empty target: FAIL line"
assert_contains "$OUT" "public.pgbench_accounts" "non-empty target: names the table"
run_pgcutover check --source "$SRC_DSN" --target "$TGT_DSN" --allow-nonempty-target
assert_eq 0 "$RC" "non-empty target allowed: exit 0"
tgt_sql -c "DROP TABLE pgbench_accounts"

# 13. source == target
run_pgcutover check --source "$SRC_DSN" --target "$SRC_DSN"
assert_eq 4 "$RC" "same database: exit code"
assert_contains "$OUT" "FAIL  distinct_databases" "same database: FAIL line"

# 14. wal_level = replica
cluster_start rep "wal_level = replica"
REP_PORT=$(cluster_port rep)
run_pgcutover check --source "host=127.0.0.1 port=$REP_PORT dbname=postgres user=postgres password=$TEST_PASSWORD" --target "$TGT_DSN"
assert_eq 4 "$RC" "wal_level replica: exit code"
assert_contains "$OUT" "FAIL  wal_level" "wal_level replica: FAIL line"
assert_contains "$OUT" "ALTER SYSTEM SET wal_level = logical" "wal_level replica: fix given"

done_testing
