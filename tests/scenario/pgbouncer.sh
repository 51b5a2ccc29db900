#!/usr/bin/env bash
# Scenario: switchover through a real PgBouncer (transaction pooling) with
# zero client errors.  Two pgbench runs write a ledger through PgBouncer
# (one reconnecting per transaction, one persistent) while `switchover
# --pgbouncer --pgbouncer-ini` pauses, fences, drains, verifies, rewrites
# the entry, reloads and resumes.  Also: the usage error without a repoint
# method, a dry run that changes nothing, a refusal when no entry points at
# the source, and an abort (verify mismatch) that leaves PgBouncer resumed
# and pointing at the source with clients still working.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
PY=/usr/bin/python3
LEDGER="$(dirname "$0")/../sql/ledger.pgbench"

"$PG_BIN/pgbench" -i -q -s 1 -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >/dev/null 2>&1
src_sql -c "ALTER TABLE pgbench_history REPLICA IDENTITY FULL" \
        -c "CREATE TABLE ledger (id bigserial PRIMARY KEY, n int, at timestamptz DEFAULT now())"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"
follower_start

pgbouncer_start pgb transaction
pgbouncer_set_database pgb app src
BOUNCER_PORT=$(cluster_port pgb)
ADMIN_DSN=$(pgbouncer_admin_dsn pgb)
INI="$HARNESS_DIR/pgb/pgbouncer.ini"        # %includes databases.ini, where the entry is
ENTRY_FILE="$HARNESS_DIR/pgb/databases.ini"
entry_row() { pgbouncer_admin pgb -c "SHOW DATABASES" | awk -F'|' '$1 == "app" { print $3 "|" $4 "|" $12 }'; }  # port|database|paused (1.18 columns)
entry_port() { entry_row | cut -d'|' -f1; }
through_bouncer() { PGPASSWORD=$TEST_PASSWORD psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$BOUNCER_PORT" -U postgres -d app "$@"; }
assert_eq "$SRC_PORT" "$(entry_port)" "PgBouncer's entry points at the source"
assert_eq 1 "$(through_bouncer -c "SELECT 1")" "clients reach the source through PgBouncer"

# pgbench_through_bouncer NAME SECONDS [pgbench args]: in the background, PID in BENCH_PID
pgbench_through_bouncer() {
  local name=$1 secs=$2; shift 2
  PGPASSWORD=$TEST_PASSWORD "$PG_BIN/pgbench" -n -R 100 -T "$secs" -f "$LEDGER" "$@" \
    -h 127.0.0.1 -p "$BOUNCER_PORT" -U postgres app >"$HARNESS_DIR/pgbench-$name.log" 2>&1 &
  BENCH_PID=$!
}
# pgbench_verdict NAME EXIT: "ok" when pgbench exited 0, no client aborted and 0 transactions failed
pgbench_verdict() {
  local log="$HARNESS_DIR/pgbench-$1.log" failed
  failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$log")
  if [ "$2" = 0 ] && [ "$failed" = 0 ] && ! grep -q "aborted" "$log"; then echo ok
  else echo "exit $2, failed [$failed]: $(grep -m3 -E 'error|abort' "$log" | tr '\n' ' ')"; fi
}
pgbench_processed() { sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$HARNESS_DIR/pgbench-$1.log"; }

# --pgbouncer without a way to repoint: usage error, one line naming the fix
run_pgcutover switchover --pgbouncer "$ADMIN_DSN" --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 2 "$RC" "--pgbouncer without --pgbouncer-ini/--repoint-command: usage error"
assert_contains "$ERR" "fix: add --pgbouncer-ini PATH" "the usage error names the fix"
assert_eq 1 "$(wc -l <<<"$ERR")" "the usage error is one line"

# dry run: the PgBouncer statements in order, nothing changes
ini_before=$(md5sum "$ENTRY_FILE" | cut -d' ' -f1)
run_pgcutover switchover --dry-run --pgbouncer "$ADMIN_DSN" --pgbouncer-ini "$INI" --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "dry run exits 0"
order=$(grep -E "^\[pgbouncer 127.0.0.1:$BOUNCER_PORT\] (PAUSE app|RELOAD|RESUME app|-- in )" <<<"$OUT" | sed -E 's/^\[pgbouncer [^]]*\] //; s/^-- in .*/rewrite/' | tr '\n' ' ')
assert_eq "PAUSE app; rewrite RELOAD; RESUME app; " "$order" "dry run prints PAUSE, the rewrite, RELOAD, RESUME in order"
assert_contains "$OUT" "app = host=127.0.0.1 port=$TGT_PORT dbname=app" "dry run shows the new entry"
assert_eq "$ini_before" "$(md5sum "$ENTRY_FILE" | cut -d' ' -f1)" "dry run: the ini file is unchanged"
assert_eq "$SRC_PORT|app|0" "$(entry_row)" "dry run: the entry still points at the source, not paused"
assert_eq 1 "$([ -e "$ENTRY_FILE.pgcutover-backup" ] && echo 0 || echo 1)" "dry run: no backup file"

# no entry points at the source: refused before anything happens
pgbouncer_start other transaction
pgbouncer_set_database other app tgt
run_pgcutover switchover --pgbouncer "$(pgbouncer_admin_dsn other)" --pgbouncer-ini "$HARNESS_DIR/other/pgbouncer.ini" \
  --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 4 "$RC" "no entry pointing at the source: preflight exit code"
assert_contains "$ERR" "app -> 127.0.0.1:$TGT_PORT/app" "the refusal lists what PgBouncer has"
assert_contains "$ERR" "fix: point an entry at the source" "the refusal names the fix"
assert_eq 0 "$(src_sql -c "SELECT count(*) FROM pg_db_role_setting WHERE array_to_string(setconfig, ',') LIKE '%default_transaction_read_only%'")" "refusal: the source was not fenced"

# PAUSE cannot finish (a query holds its server connection): at --timeout
# the entry is resumed, nothing is fenced, the running query is unharmed
through_bouncer -c "SELECT pg_sleep(7)" >/dev/null 2>&1 &
long_query=$!
sleep 0.5
run_pgcutover switchover --timeout 3 --pgbouncer "$ADMIN_DSN" --pgbouncer-ini "$INI" --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 9 "$RC" "PAUSE past --timeout: timeout exit code"
assert_contains "$ERR" "PAUSE app did not finish within --timeout" "the timeout names PAUSE and the fix"
assert_eq "$SRC_PORT|app|0" "$(entry_row)" "PAUSE timeout: the entry is resumed, at the source"
assert_eq 0 "$(src_sql -c "SELECT count(*) FROM pg_db_role_setting WHERE array_to_string(setconfig, ',') LIKE '%default_transaction_read_only%'")" "PAUSE timeout: the source was never fenced"
assert_eq 1 "$(through_bouncer -c "SELECT 1")" "PAUSE timeout: new queries go through"
set +e; wait "$long_query"; lrc=$?; set -e
assert_eq 0 "$lrc" "PAUSE timeout: the query that held the pool finished without error"

# SIGINT while PAUSE waits: the entry is resumed, exit 10
through_bouncer -c "SELECT pg_sleep(6)" >/dev/null 2>&1 &
long_query=$!
sleep 0.5
"$PGCUTOVER" switchover --pgbouncer "$ADMIN_DSN" --pgbouncer-ini "$INI" --source "$SRC_DSN" --target "$TGT_DSN" \
  >"$HARNESS_DIR/sw-int.out" 2>"$HARNESS_DIR/sw-int.err" &
sw=$!
for _ in $(seq 1 100); do [ "$(pgbouncer_admin pgb -c "SHOW DATABASES" | awk -F'|' '$1 == "app" { print $12 }')" = 1 ] && break; sleep 0.05; done
kill -INT "$sw"; set +e; wait "$sw"; rc=$?; set -e
cat "$HARNESS_DIR/sw-int.out" "$HARNESS_DIR/sw-int.err" >> "$HARNESS_DIR/all-output.log"
assert_eq 10 "$rc" "SIGINT during PAUSE: interrupted exit code"
assert_eq "$SRC_PORT|app|0" "$(entry_row)" "SIGINT during PAUSE: the entry is resumed, at the source"
set +e; wait "$long_query"; lrc=$?; set -e
assert_eq 0 "$lrc" "SIGINT during PAUSE: the running query finished without error"

# abort: a verify mismatch with --abort-on-mismatch, clients writing through PgBouncer
tgt_sql -c "SET session_replication_role = replica" -c "UPDATE pgbench_branches SET bbalance = bbalance + 1 WHERE bid = 1"
pgbench_through_bouncer abort 10 -c 2
bench_abort=$BENCH_PID
sleep 2
run_pgcutover switchover --json --abort-on-mismatch --pgbouncer "$ADMIN_DSN" --pgbouncer-ini "$INI" \
  --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 5 "$RC" "abort: verification exit code"
assert_contains "$ERR" "switchover aborted" "abort: says it aborted"
assert_contains "$ERR" "resumed: clients use the source again" "abort: says PgBouncer is resumed"
assert_eq "$SRC_PORT|app|0" "$(entry_row)" "abort: PgBouncer resumed and pointing at the source"
assert_eq "$ini_before" "$(md5sum "$ENTRY_FILE" | cut -d' ' -f1)" "abort: the ini file is unchanged"
assert_contains "$("$PY" -c 'import json,sys; print(" ".join(s["step"] for s in json.load(sys.stdin)["steps"]))' <<<"$OUT")" "pause fence drain" "abort: PgBouncer was paused before the fence"
set +e; wait "$bench_abort"; brc=$?; set -e
assert_eq ok "$(pgbench_verdict abort "$brc")" "abort: pgbench through PgBouncer saw no failed transaction"
assert_eq 1 "$(through_bouncer -c "INSERT INTO ledger (n) VALUES (-1) RETURNING 1")" "abort: clients write through PgBouncer again"
tgt_sql -c "SET session_replication_role = replica" -c "UPDATE pgbench_branches SET bbalance = bbalance - 1 WHERE bid = 1"

# the real thing: two pgbench runs through PgBouncer span the switchover
mode_before=$(stat -c '%a %U' "$ENTRY_FILE")
pgbench_through_bouncer reconnect 14 -c 2 -C
bench_c=$BENCH_PID
pgbench_through_bouncer persistent 14 -c 2
bench_p=$BENCH_PID
sleep 3
run_pgcutover switchover --json --pgbouncer "$ADMIN_DSN" --pgbouncer-ini "$INI" --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "switchover through PgBouncer exits 0"
[ "$RC" = 0 ] || echo "$ERR" | tail -5
assert_eq "pause fence drain sequences verify resume" "$("$PY" -c 'import json,sys; print(" ".join(s["step"] for s in json.load(sys.stdin)["steps"]))' <<<"$OUT")" "steps: pause before the fence, resume after verify"
pause_ms=$("$PY" -c 'import json,sys; print(json.load(sys.stdin).get("max_client_pause_ms", -1))' <<<"$OUT")
assert_eq 1 "$(echo "$pause_ms > 0 && $pause_ms < 10000" | bc)" "report has max_client_pause_ms ($pause_ms ms)"
assert_eq "127.0.0.1:$BOUNCER_PORT app" "$("$PY" -c 'import json,sys; b=json.load(sys.stdin)["pgbouncer"][0]; print(b["admin"], " ".join(b["databases"]))' <<<"$OUT")" "report names the PgBouncer (no password) and its databases"
assert_eq "$TGT_PORT|app|0" "$(entry_row)" "SHOW DATABASES: the entry points at the target, resumed"
assert_contains "$(cat "$ENTRY_FILE.pgcutover-backup")" "port=$SRC_PORT" "the previous ini file is kept as .pgcutover-backup"
assert_eq "$mode_before" "$(stat -c '%a %U' "$ENTRY_FILE")" "the rewritten file keeps its mode and owner"
set +e; wait "$bench_c"; rc_c=$?; wait "$bench_p"; rc_p=$?; set -e
assert_eq ok "$(pgbench_verdict reconnect "$rc_c")" "pgbench -C through PgBouncer: 0 failed transactions"
assert_eq ok "$(pgbench_verdict persistent "$rc_p")" "persistent pgbench through PgBouncer: 0 failed transactions"
set +e; wait "$FOLLOWER"; frc=$?; set -e
assert_eq 0 "$frc" "the follower exits 0 after the switchover"

# every committed transaction is on the target: the source's ledger (read
# from the fenced old source) and every transaction pgbench counted
cluster_sql src -c "ALTER DATABASE app ALLOW_CONNECTIONS true" >/dev/null
src_max=$(src_sql -c "SELECT max(id) FROM ledger")
assert_eq "$(src_sql -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM ledger")" \
          "$(tgt_sql -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM ledger WHERE id <= $src_max")" "the ledger ids on both sides are equal"
written=$(( $(pgbench_processed abort) + $(pgbench_processed reconnect) + $(pgbench_processed persistent) + 1 ))
assert_eq "$written" "$(tgt_sql -c "SELECT count(*) FROM ledger")" "the target has every transaction pgbench committed ($written)"
assert_eq t "$(tgt_sql -c "SELECT count(*) > 0 FROM ledger WHERE id > $src_max")" "pgbench kept writing through PgBouncer after the switchover"
assert_eq 1 "$(through_bouncer -c "INSERT INTO ledger (n) VALUES (-77) RETURNING 1")" "a write through PgBouncer after the switchover succeeds"
assert_eq "1 0" "$(tgt_sql -c "SELECT count(*) FROM ledger WHERE n = -77") $(src_sql -c "SELECT count(*) FROM ledger WHERE n = -77")" "it landed on the target, not the source"

done_testing
