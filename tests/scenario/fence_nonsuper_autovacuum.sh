#!/usr/bin/env bash
# Scenario (review): the default fence with the least-privileged role of
# docs/privileges.md (database owner + pg_signal_backend, no superuser) while
# an autovacuum worker is busy on the source database.  Autovacuum writes no
# user transaction, so the switchover must succeed (the fence leaves
# background processes alone), and in any case the source must be left
# exactly as before.
. "$(dirname "$0")/../lib/harness.sh"
harness_start "autovacuum_naptime = 1" "autovacuum_vacuum_cost_delay = 100" "autovacuum_vacuum_cost_limit = 1"
src_sql <<SQL
CREATE TABLE ledger (id bigserial PRIMARY KEY, kind text NOT NULL);
CREATE TABLE big (id int PRIMARY KEY, pad text);
INSERT INTO big SELECT g, repeat('x', 200) FROM generate_series(1, 60000) g;
CREATE ROLE mig_src LOGIN REPLICATION PASSWORD '$TEST_PASSWORD';
GRANT SELECT ON ALL TABLES IN SCHEMA public TO mig_src;
GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO mig_src;
ALTER DATABASE app OWNER TO mig_src;
GRANT pg_signal_backend TO mig_src;
SQL
S="host=127.0.0.1 port=$SRC_PORT dbname=app user=mig_src password=$TEST_PASSWORD"
run_pgcutover copy --source "$S" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"
"$PGCUTOVER" follow --source "$S" --target "$TGT_DSN" >>"$HARNESS_DIR/all-output.log" 2>&1 &
follower=$!
for _ in $(seq 1 100); do
  [ "$(tgt_sql -c "SELECT count(*) FROM pgcutover.follower WHERE phase = 'following'" 2>/dev/null)" = 1 ] && break
  sleep 0.1
done
# dead tuples for autovacuum, which then crawls (cost_limit 1)
src_sql -c "UPDATE big SET pad = pad || 'y'" -c "DELETE FROM big WHERE id % 2 = 0"
for _ in $(seq 1 100); do
  [ "$(cluster_sql src -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' AND datname = 'app'")" -ge 1 ] && break
  sleep 0.2
done
assert_eq 1 "$(cluster_sql src -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' AND datname = 'app'")" "an autovacuum worker is busy on the source database"
echo "# as mig_src, the autovacuum worker looks like: $(PGPASSWORD=$TEST_PASSWORD psql -X -At -h 127.0.0.1 -p "$SRC_PORT" -U mig_src -d app -c "SELECT pid, usename, backend_type FROM pg_stat_activity WHERE datname = 'app' AND pid <> pg_backend_pid()" | tr '\n' ' ')"
tgt_sql -c "SELECT 1" >/dev/null
run_pgcutover switchover --source "$S" --target "$TGT_DSN" --timeout 60
echo "# switchover rc=$RC err: $(grep -E 'error|fix' <<<"$ERR" | head -3)"
assert_eq 0 "$RC" "switchover as owner + pg_signal_backend with autovacuum busy exits 0"
assert_not_contains "$ERR" "role ?" "no session named with an unknown role"
if [ "$RC" != 0 ]; then
  assert_eq t "$(cluster_sql src -c "SELECT datallowconn FROM pg_database WHERE datname = 'app'")" "after the failed fence: connections allowed again"
  assert_eq 0 "$(cluster_sql src -c "SELECT count(*) FROM pg_db_role_setting WHERE array_to_string(setconfig, ',') LIKE '%read_only%'")" "after the failed fence: no read-only setting left"
  kill "$follower" 2>/dev/null || true
fi
wait "$follower" 2>/dev/null || true
done_testing
