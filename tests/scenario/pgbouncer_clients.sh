#!/usr/bin/env bash
# Scenario (review): switchover through PgBouncer with clients the way real
# applications connect: two entries naming the same source database (one
# with host=localhost, one with 127.0.0.1), pgbench -M extended and
# -M prepared, and a client inside a transaction (BEGIN; INSERT; sleep 2;
# COMMIT) when PAUSE is sent.  Every entry must move to the target and no
# client may see an error.
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
dir="$HARNESS_DIR/pgb"
{
  echo "app = host=localhost port=$SRC_PORT dbname=app"
  echo "app_ro = host=127.0.0.1 port=$SRC_PORT dbname=app"
} > "$dir/databases.ini"
pgbouncer_admin pgb -c "RELOAD" >/dev/null
BOUNCER_PORT=$(cluster_port pgb)
ADMIN_DSN=$(pgbouncer_admin_dsn pgb)
INI="$dir/pgbouncer.ini"
pgbouncer_admin pgb -c "SHOW DATABASES" | awk -F'|' '$1 ~ /^app/ { print "# entry: " $1 " " $2 ":" $3 "/" $4 " paused=" $12 }'

bench() {  # bench NAME ENTRY SECONDS [pgbench args]
  local name=$1 entry=$2 secs=$3; shift 3
  PGPASSWORD=$TEST_PASSWORD "$PG_BIN/pgbench" -n -R 50 -T "$secs" -f "$LEDGER" "$@" \
    -h 127.0.0.1 -p "$BOUNCER_PORT" -U postgres "$entry" >"$HARNESS_DIR/pgbench-$name.log" 2>&1 &
  BENCH_PID=$!
}
verdict() {
  local log="$HARNESS_DIR/pgbench-$1.log" failed
  failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$log")
  if [ "$2" = 0 ] && [ "$failed" = 0 ] && ! grep -q "aborted" "$log"; then echo ok
  else echo "exit $2, failed [$failed]: $(grep -m2 -E 'error|abort' "$log" | tr '\n' ' ')"; fi
}
# --- baseline without a switchover: is -M prepared usable through this PgBouncer at all?
bench base_prepared app_ro 2 -c 2 -M prepared   # two clients share server connections
b=$BENCH_PID; set +e; wait $b; brc=$?; set -e
echo "# baseline -M prepared (no switchover): $(verdict base_prepared $brc)"

bench extended app 12 -c 2 -M extended; b_ext=$BENCH_PID
bench prepared app 12 -c 1 -M prepared; b_prep=$BENCH_PID
bench alias app_ro 12 -c 2; b_alias=$BENCH_PID
sleep 2
# a client inside a transaction when PAUSE is sent
PGPASSWORD=$TEST_PASSWORD psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$BOUNCER_PORT" -U postgres -d app \
  -c "BEGIN" -c "INSERT INTO ledger (n) VALUES (-555)" -c "SELECT pg_sleep(2)" -c "COMMIT" >"$HARNESS_DIR/midtx.log" 2>&1 &
midtx=$!
sleep 0.3
run_pgcutover switchover --json --skip-verify --pgbouncer "$ADMIN_DSN" --pgbouncer-ini "$INI" --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "switchover through PgBouncer with two entries exits 0"
[ "$RC" = 0 ] || echo "$ERR" | tail -6 | sed 's/^/#   /'
echo "$ERR" | grep -iE "pgbouncer|pause|resume|entry" | head -8 | sed 's/^/#   /'
pgbouncer_admin pgb -c "SHOW DATABASES" | awk -F'|' '$1 ~ /^app/ { print "# entry after: " $1 " " $2 ":" $3 "/" $4 " paused=" $12 }'
assert_eq "$TGT_PORT $TGT_PORT" "$(pgbouncer_admin pgb -c "SHOW DATABASES" | awk -F'|' '$1 == "app" || $1 == "app_ro" { print $3 }' | tr '\n' ' ' | sed 's/ $//')" "both entries point at the target"
set +e; wait $midtx; mrc=$?; set -e
assert_eq 0 "$mrc" "the client inside a transaction at PAUSE committed ($(tr '\n' ' ' < "$HARNESS_DIR/midtx.log"))"
set +e; wait $b_ext; r1=$?; wait $b_prep; r2=$?; wait $b_alias; r3=$?; set -e
assert_eq ok "$(verdict extended $r1)" "pgbench -M extended through PgBouncer: no failure"
# protocol-level prepared statements do not survive PgBouncer 1.18 transaction
# pooling even without a switchover (see the baseline): reported, not asserted
echo "# pgbench -M prepared -c 1 across the switchover: $(verdict prepared $r2)"
assert_eq ok "$(verdict alias $r3)" "pgbench through the second entry (app_ro): no failure"
set +e; wait "$FOLLOWER"; set -e
assert_eq 1 "$(tgt_sql -c "SELECT count(*) FROM ledger WHERE n = -555")" "the mid-transaction insert is on the target"
assert_eq 1 "$(PGPASSWORD=$TEST_PASSWORD psql -X -q -At -h 127.0.0.1 -p "$BOUNCER_PORT" -U postgres -d app_ro -c "INSERT INTO ledger (n) VALUES (-77) RETURNING 1" 2>&1)" "a write through app_ro after the switchover succeeds"
done_testing
