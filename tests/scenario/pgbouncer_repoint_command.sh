#!/usr/bin/env bash
# Scenario: switchover --pgbouncer with --repoint-command (the configuration
# is managed elsewhere): the command gets the target as PGCUTOVER_TARGET_*
# (never a password), rewrites the entry its own way, pgcutover RELOADs,
# checks the entry now names the target and RESUMEs; clients through
# PgBouncer see no error and land on the target.  A command that fails
# aborts the switchover with the entry resumed on the source.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
LEDGER="$(dirname "$0")/../sql/ledger.pgbench"
"$PG_BIN/pgbench" -i -q -s 1 -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >/dev/null 2>&1
src_sql -c "ALTER TABLE pgbench_history REPLICA IDENTITY FULL" \
        -c "CREATE TABLE ledger (id bigserial PRIMARY KEY, n int, at timestamptz DEFAULT now())"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"
follower_start
pgbouncer_start pgb transaction
pgbouncer_set_database pgb app src
dir="$HARNESS_DIR/pgb"
ADMIN_DSN=$(pgbouncer_admin_dsn pgb)
entry_port() { pgbouncer_admin pgb -c "SHOW DATABASES" | awk -F'|' '$1 == "app" { print $3 }'; }
entry_paused() { pgbouncer_admin pgb -c "SHOW DATABASES" | awk -F'|' '$1 == "app" { print $12 }'; }

# a repoint command that fails: the switchover aborts, clients stay on the source
run_pgcutover switchover --source "$SRC_DSN" --target "$TGT_DSN" --skip-verify \
  --pgbouncer "$ADMIN_DSN" --repoint-command "exit 3"
assert_eq 1 "$([ "$RC" -ne 0 ] && echo 1 || echo 0)" "a failing --repoint-command fails the switchover (exit $RC)"
assert_eq "$SRC_PORT 0" "$(entry_port) $(entry_paused)" "after the failed repoint the entry is resumed on the source"
assert_eq t "$(src_sql -c "SELECT datallowconn FROM pg_database WHERE datname = 'app'")" "after the failed repoint the fence is lifted"
PGPASSWORD=$TEST_PASSWORD psql -X -q -h 127.0.0.1 -p "$(cluster_port pgb)" -U postgres -d app -c "INSERT INTO ledger (n) VALUES (-1)" >/dev/null 2>&1 \
  && ok=yes || ok=no
assert_eq yes "$ok" "after the failed repoint clients write through PgBouncer again"
[ "$(tgt_sql -c "SELECT count(*) FROM pgcutover.follower WHERE phase = 'following'")" = 1 ] || follower_start

# the real one, under load through PgBouncer
cat > "$HARNESS_DIR/repoint.sh" <<SH
#!/bin/sh
env > "$HARNESS_DIR/repoint.env"
printf 'app = host=%s port=%s dbname=%s\n' "\$PGCUTOVER_TARGET_HOST" "\$PGCUTOVER_TARGET_PORT" "\$PGCUTOVER_TARGET_DBNAME" > "$dir/databases.ini"
SH
chmod +x "$HARNESS_DIR/repoint.sh"
PGPASSWORD=$TEST_PASSWORD "$PG_BIN/pgbench" -n -C -R 80 -T 8 -f "$LEDGER" -h 127.0.0.1 -p "$(cluster_port pgb)" -U postgres app \
  >"$HARNESS_DIR/pgbench.log" 2>&1 &
bench=$!
sleep 2
run_pgcutover switchover --json --source "$SRC_DSN" --target "$TGT_DSN" \
  --pgbouncer "$ADMIN_DSN" --repoint-command "$HARNESS_DIR/repoint.sh"
assert_eq 0 "$RC" "switchover with --repoint-command exits 0"
set +e; wait "$bench"; brc=$?; set -e
failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$HARNESS_DIR/pgbench.log")
assert_eq "0 0" "$brc ${failed:-?}" "pgbench -C through PgBouncer: exit 0, no failed transaction"
assert_eq "$TGT_PORT 0" "$(entry_port) $(entry_paused)" "the entry names the target and is resumed"
assert_eq "$TGT_PORT app" "$(sed -n 's/^PGCUTOVER_TARGET_PORT=//p' "$HARNESS_DIR/repoint.env") $(sed -n 's/^PGCUTOVER_TARGET_DBNAME=//p' "$HARNESS_DIR/repoint.env")" "the command got the target's port and database"
# (the test's own SRC_DSN/TGT_DSN are inherited: only what pgcutover adds counts)
assert_eq 0 "$(grep -c -e '^PGPASSWORD=' -e "^PGCUTOVER_.*$TEST_PASSWORD" "$HARNESS_DIR/repoint.env" || true)" "pgcutover gives the command no password"
set +e; wait "$FOLLOWER"; set -e
assert_source_fenced app
src_max=$(src_sql -c "SELECT coalesce(max(id), 0) FROM ledger")
assert_eq "$(src_sql -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM ledger")" \
  "$(tgt_sql -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM ledger WHERE id <= $src_max")" "every ledger row of the source is on the target"
PGPASSWORD=$TEST_PASSWORD psql -X -q -h 127.0.0.1 -p "$(cluster_port pgb)" -U postgres -d app -c "INSERT INTO ledger (n) VALUES (-2)" >/dev/null
assert_eq "1 0" "$(tgt_sql -c "SELECT count(*) FROM ledger WHERE n = -2") $(src_sql -c "SELECT count(*) FROM ledger WHERE n = -2")" "a write through PgBouncer afterwards lands on the target"
done_testing
