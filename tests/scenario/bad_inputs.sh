#!/usr/bin/env bash
# Scenario: bad inputs, table-driven.  Every case asserts the exit code, the
# one error line (cause and fix on the same line), that no password is
# echoed, and that nothing changed that should not: slots on the source,
# schema pgcutover and the migration's phase on the target, every table's
# rows on both sides, and the source still writable.  docs/errors.md lists
# every case; keep both in step.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
PY=/usr/bin/python3
CASES=0

src_sql -c "CREATE TYPE mood AS ENUM ('ok', 'meh')" \
        -c "CREATE TABLE items (id int PRIMARY KEY, qty int, note text, m mood DEFAULT 'ok')" \
        -c "INSERT INTO items SELECT g, g, 'n' || g FROM generate_series(1, 200) g" \
        -c "CREATE TABLE ledger (id bigserial PRIMARY KEY, n int)"

# --- the world a refused command must leave as it was -----------------------
WORLD_SRC=src WORLD_TGT=tgt WORLD_TGT_DB=app
world() {
  local tdb=$WORLD_TGT_DB
  echo "slots: $(cluster_sql "$WORLD_SRC" -c "SELECT coalesce(string_agg(slot_name, ',' ORDER BY slot_name), '-') FROM pg_replication_slots")"
  echo "state tables: $(DB=$tdb cluster_sql "$WORLD_TGT" -c "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'pgcutover'")/$(DB=$tdb cluster_sql "$WORLD_TGT" -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgcutover'")"
  if [ "$(DB=$tdb cluster_sql "$WORLD_TGT" -c "SELECT to_regclass('pgcutover.migration') IS NOT NULL")" = t ]; then
    echo "phase: $(DB=$tdb cluster_sql "$WORLD_TGT" -c "SELECT coalesce(string_agg(slot_name || '=' || phase || '/fenced=' || (fenced_at IS NOT NULL), ','), 'none') FROM pgcutover.migration")"
  fi
  echo "source read-only settings: $(cluster_sql "$WORLD_SRC" -c "SELECT count(*) FROM pg_db_role_setting WHERE array_to_string(setconfig, ',') LIKE '%default_transaction_read_only%'")"
  echo "source writable: $(DB=app cluster_sql "$WORLD_SRC" -c "BEGIN" -c "CREATE TEMP TABLE w (x int)" -c "ROLLBACK" >/dev/null 2>&1 && echo yes || echo no)"
  echo "--- source rows"; db_fingerprint "$WORLD_SRC" app
  echo "--- target rows"; DB=$tdb db_fingerprint "$WORLD_TGT" "$tdb"
}

# line_of TEXT NEEDLE: the first line of TEXT containing NEEDLE
line_of() { grep -F -m1 -- "$2" <<<"$1" || true; }

# bad NAME EXIT PHRASE FIX -- ARGS...: one refused command, fully checked.
# KNOWN="..." before a call marks a known bug in a file this branch may not
# edit: its failures say "KNOWN BUG: ..." (see docs/errors.md).
bad() {
  local name=$1 want=$2 phrase=$3 fix=$4 before line tag=""
  shift 5
  [ -z "${KNOWN:-}" ] || tag=" (KNOWN BUG: $KNOWN)"
  before=$(world)
  run_pgcutover "$@"
  CASES=$((CASES + 1))
  assert_eq "$want" "$RC" "case $CASES $name: exit $want$tag"
  line=$(line_of "$OUT$ERR" "$phrase")
  echo "# case $CASES [$name] exit $RC: $(sed -E 's/^[0-9T:.-]+Z //' <<<"$line")"
  if [ -n "$line" ]; then pass "case $CASES $name: says [$phrase]"; else fail "case $CASES $name: says [$phrase]$tag" "got: $(head -c 400 <<<"$OUT$ERR")"; fi
  assert_contains "$line" "$fix" "case $CASES $name: the same line names the fix [$fix]$tag"
  assert_not_contains "$OUT$ERR" "$TEST_PASSWORD" "case $CASES $name: no password printed"
  assert_eq "$before" "$(world)" "case $CASES $name: nothing changed$tag"
  KNOWN=""
}
KNOWN=""
ADMIN_DSN() { echo "host=127.0.0.1 port=$1 dbname=${2:-app} user=${3:-postgres} password=$TEST_PASSWORD"; }
dead_port=$(free_port)

# === 1. the command line ======================================================
bad "unknown command" 2 'unknown command "frobnicate"' "fix: use one of check, copy" -- frobnicate
bad "unknown option" 2 'unknown option "--frob"' "fix: see 'pgcutover --help'" -- check --frob
bad "option without its value" 2 'option "--jobs" needs a value' "fix: see" -- copy --jobs
bad "option of another command" 2 "option --until-caught-up does not apply to command check" "fix: see 'pgcutover check --help'" -- check --until-caught-up --source "$SRC_DSN" --target "$TGT_DSN"
bad "conflicting options: --fence none without --fence-command" 2 "--fence=none needs --fence-command" "fix: give the command" -- switchover --fence none --source "$SRC_DSN" --target "$TGT_DSN"
bad "conflicting options: --fence-command without --fence none" 2 "--fence-command goes with --fence=none" "fix: add --fence=none" -- switchover --fence-command true --source "$SRC_DSN" --target "$TGT_DSN"
bad "invalid --fence mode" 2 'invalid --fence "bogus"' "fix: use default or none" -- switchover --fence bogus
bad "invalid slot name" 2 'invalid slot name "Bad-Name"' "fix: use 1-63 lower-case letters" -- copy --slot Bad-Name --source "$SRC_DSN" --target "$TGT_DSN"
bad "--jobs out of range (0)" 2 'invalid value "0" for --jobs' "fix:" -- copy --jobs 0 --source "$SRC_DSN" --target "$TGT_DSN"
bad "--jobs out of range (999999)" 2 'invalid value "999999" for --jobs' "100000" -- copy --jobs 999999 --source "$SRC_DSN" --target "$TGT_DSN"
bad "--wait-lag negative" 2 'invalid value "-1" for --wait-lag' "fix:" -- status --wait-lag -1 --target "$TGT_DSN"
bad "--split-threshold too small" 2 'invalid value "1kB" for --split-threshold' "fix:" -- copy --split-threshold 1kB --source "$SRC_DSN" --target "$TGT_DSN"
bad "no command" 2 "no command given" "fix: run 'pgcutover --help'" -- --source "$SRC_DSN"
bad "stray argument" 2 'unexpected argument "extra"' "fix: commands take options only" -- check extra
bad "unreadable --config" 2 "cannot read --config $HARNESS_DIR/nope.conf" "fix: give a readable file" -- check --config "$HARNESS_DIR/nope.conf"
bad "missing --source (copy)" 2 "copy needs both databases" "fix: pass --source and --target" -- copy --target "$TGT_DSN"
bad "missing --source (check)" 2 "no source database given" "fix: pass --source DSN or set PGCUTOVER_SOURCE" -- check --target "$TGT_DSN"
bad "missing --target (status)" 2 "status reads the target's state" "fix: pass --target" -- status --source "$SRC_DSN"
bad "invalid --endpos" 2 'invalid --endpos "not-an-lsn"' "fix: give a WAL position like 0/16B3748" -- follow --endpos not-an-lsn --source "$SRC_DSN" --target "$TGT_DSN"

# === 2. connections ===========================================================
bad "malformed DSN" 3 "cannot connect to source" "fix: fix the source DSN" -- copy --source "host=127.0.0.1 port=$SRC_PORT password=$TEST_PASSWORD bogus" --target "$TGT_DSN"
bad "unknown host" 3 'could not translate host name "no-such-host.invalid"' "fix: check the host name in the source DSN" -- copy --source "host=no-such-host.invalid dbname=app user=postgres password=$TEST_PASSWORD connect_timeout=5" --target "$TGT_DSN"
bad "connection refused (target)" 3 "cannot connect to target" "fix: start the target server or fix host/port" -- copy --source "$SRC_DSN" --target "$(ADMIN_DSN "$dead_port")"
bad "wrong password" 3 'password authentication failed for user "postgres"' "fix: check the user and password of the source DSN" -- copy --source "host=127.0.0.1 port=$SRC_PORT dbname=app user=postgres password=Wr0ng-$TEST_PASSWORD" --target "$TGT_DSN"
assert_not_contains "$OUT$ERR" "Wr0ng-" "wrong password: the wrong password is not echoed either"
bad "TLS required, server has none" 3 "server does not support SSL, but SSL was required" "fix: fix sslmode in the source DSN or enable SSL" -- copy --source "$SRC_DSN sslmode=require" --target "$TGT_DSN"
bad "unknown database" 3 'database "nope" does not exist' "fix: create the database/role named in the target DSN" -- check --source "$SRC_DSN" --target "$(ADMIN_DSN "$TGT_PORT" nope)"

# === 3. preflight: copy refuses before it creates anything ===================
bad "source == target" 4 "source and target are the same database" "fix: point --target at the new server/database" -- copy --source "$SRC_DSN" --target "$SRC_DSN"

if src_sql -c "SHOW output_plugin_libraries" >/dev/null 2>&1; then
  src_sql -c "ALTER SYSTEM SET output_plugin_libraries = 'pgoutput', 'test_decoding'" -c "SELECT pg_reload_conf()" >/dev/null
  sleep 0.3
  bad "output_plugin_libraries without wal2json" 4 "does not allow wal2json" "fix: ALTER SYSTEM SET output_plugin_libraries = 'pgoutput', 'test_decoding', 'wal2json'" -- copy --source "$SRC_DSN" --target "$TGT_DSN"
  src_sql -c "ALTER SYSTEM RESET output_plugin_libraries" -c "SELECT pg_reload_conf()" >/dev/null
  sleep 0.3
else
  pass "# SKIP output_plugin_libraries: the server predates it"
fi

# wal2json not loadable: only new backends of the source look in /nonexistent
src_sql -c "ALTER SYSTEM SET dynamic_library_path = '/nonexistent'" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.3
bad "wal2json not loadable" 4 "the wal2json output plugin is not installed on the source" "fix: install wal2json on the source server (Debian/Ubuntu: apt-get install postgresql-15-wal2json)" -- copy --source "$SRC_DSN" --target "$TGT_DSN"
src_sql -c "ALTER SYSTEM RESET dynamic_library_path" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.3

src_sql -c "CREATE ROLE lim LOGIN PASSWORD '$TEST_PASSWORD'" -c "GRANT SELECT ON ALL TABLES IN SCHEMA public TO lim"
bad "source role without REPLICATION" 4 "source role lim has neither REPLICATION nor SUPERUSER" "fix: ALTER ROLE lim REPLICATION" -- copy --source "$(ADMIN_DSN "$SRC_PORT" app lim)" --target "$TGT_DSN"
src_sql -c "ALTER ROLE lim REPLICATION" -c "REVOKE SELECT ON items FROM lim"
bad "source role without SELECT on a table" 4 "source role cannot read 1 table(s): public.items" "fix: GRANT USAGE ON SCHEMA <schema> TO <role>; GRANT SELECT ON ALL TABLES" -- copy --source "$(ADMIN_DSN "$SRC_PORT" app lim)" --target "$TGT_DSN"
cluster_sql tgt -c "CREATE ROLE tlim LOGIN PASSWORD '$TEST_PASSWORD'" -c "REVOKE CREATE ON SCHEMA public FROM PUBLIC"
bad "target role without CREATE" 4 "target role tlim cannot create schemas in database app" "fix: GRANT CREATE ON DATABASE app TO tlim" -- copy --source "$SRC_DSN" --target "$(ADMIN_DSN "$TGT_PORT" app tlim)"

# an extension the source uses and the target cannot install (a catalog row
# on the source only: both clusters share one installation)
src_sql -c "INSERT INTO pg_extension (oid, extname, extowner, extnamespace, extrelocatable, extversion) VALUES (4000000001, 'pgcutover_ghost_ext', 10, 2200, true, '1.0')"
bad "extension missing on the target" 4 "not available on the target: pgcutover_ghost_ext" "fix: install the package providing pgcutover_ghost_ext on the target server" -- copy --source "$SRC_DSN" --target "$TGT_DSN"
src_sql -c "DELETE FROM pg_extension WHERE extname = 'pgcutover_ghost_ext'"

src_sql -c "CREATE TABLE keyless (a int)"
bad "table without primary key or replica identity" 4 "have no primary key and no usable replica identity, their UPDATEs and DELETEs would be lost: public.keyless" "fix: add a primary key, or ALTER TABLE public.keyless REPLICA IDENTITY FULL" -- copy --source "$SRC_DSN" --target "$TGT_DSN"
src_sql -c "DROP TABLE keyless"

tgt_sql -c "CREATE TABLE items (id int)"
bad "target not empty" 4 "target already has 1 relation(s) that the copy would create: public.items" "fix: use an empty target database (DROP/CREATE DATABASE), or --allow-nonempty-target" -- copy --source "$SRC_DSN" --target "$TGT_DSN"
tgt_sql -c "DROP TABLE items"

mkdir -p "$HARNESS_DIR/emptybin" "$HARNESS_DIR/oldbin"
bad "no pg_dump in --pg-bin-dir" 4 "no executable pg_dump in --pg-bin-dir $HARNESS_DIR/emptybin" "fix: point it at a PostgreSQL 15 bin directory (apt-get install postgresql-client-15)" -- copy --pg-bin-dir "$HARNESS_DIR/emptybin" --source "$SRC_DSN" --target "$TGT_DSN"
# a pg_dump 14 (a stand-in that answers like one) against a 15 source
cat > "$HARNESS_DIR/oldbin/pg_dump" <<'SH'
#!/bin/sh
[ "$1" = "--version" ] && { echo "pg_dump (PostgreSQL) 14.11"; exit 0; }
echo "pg_dump: error: aborting because of server version mismatch" >&2; exit 1
SH
chmod +x "$HARNESS_DIR/oldbin/pg_dump"
bad "pg_dump older than the source" 4 "pg_dump in --pg-bin-dir $HARNESS_DIR/oldbin is version 14, older than the source server (15)" "fix: point --pg-bin-dir at a PostgreSQL 15 bin directory (apt-get install postgresql-client-15)" -- copy --pg-bin-dir "$HARNESS_DIR/oldbin" --source "$SRC_DSN" --target "$TGT_DSN"

# version downgrade: a proxy makes the source say it is PostgreSQL 16
pport=$(free_port)
"$PY" "$(dirname "$0")/../lib/verproxy.py" "$pport" "$SRC_PORT" 16.4 >"$HARNESS_DIR/proxy.log" 2>&1 &
proxy=$!
for _ in $(seq 1 50); do grep -q ready "$HARNESS_DIR/proxy.log" && break; sleep 0.1; done
bad "version downgrade (source 16 via proxy, target 15)" 4 "target major version 15 is older than source major version 16 (downgrade)" "fix: use a target of the same or a newer major version" -- check --source "$(ADMIN_DSN "$pport") sslmode=disable gssencmode=disable" --target "$TGT_DSN"
# copy stops even earlier, before looking for a pg_dump (none fits a downgrade)
bad "version downgrade: copy" 4 "target major version 15 is older than source major version 16 (downgrade)" "fix: use a target of the same or a newer major version" -- copy --source "$(ADMIN_DSN "$pport") sslmode=disable gssencmode=disable" --target "$TGT_DSN"
kill "$proxy"; wait "$proxy" 2>/dev/null || true

# === 4. state: commands in the wrong order ====================================
bad "status before anything" 7 "no migration for slot pgcutover on the target: never started there" "to start one, run 'pgcutover copy' into an empty target" -- status --source "$SRC_DSN" --target "$TGT_DSN"
bad "follow before copy" 7 "no completed copy for slot pgcutover on the target" "fix: run 'pgcutover copy' first" -- follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
bad "switchover before copy" 7 "no migration for slot pgcutover on the target" "fix: run copy and follow first" -- switchover --source "$SRC_DSN" --target "$TGT_DSN"
bad "cleanup without --yes on a non-tty" 2 "cleanup drops the slot pgcutover and the migration state and asks first" "fix: pass --yes" -- cleanup --source "$SRC_DSN" --target "$TGT_DSN" </dev/null

# === 5. an aux source: wal_level, slots and WAL senders ======================
cluster_start aux "wal_level = replica"
AUX_PORT=$(cluster_port aux)
cluster_sql aux -c "CREATE DATABASE app"
DB=app cluster_sql aux -c "CREATE TABLE t (id int PRIMARY KEY)"
WORLD_SRC=aux
bad "wal_level=replica" 4 "wal_level is replica on the source, logical decoding needs logical" "fix: ALTER SYSTEM SET wal_level = logical; then restart the source server" -- copy --source "$(ADMIN_DSN "$AUX_PORT")" --target "$TGT_DSN"
{ echo "wal_level = logical"; echo "max_replication_slots = 2"; echo "max_wal_senders = 1"; } >> "$HARNESS_DIR/aux/data/postgresql.conf"
cluster_restart aux
# one walsender streaming a slot: the only WAL sender is taken
DB=app cluster_sql aux -c "SELECT pg_create_logical_replication_slot('held', 'test_decoding')" >/dev/null
"$PG_BIN/pg_recvlogical" -h "$HARNESS_DIR/aux" -p "$AUX_PORT" -U postgres -d app -S held --start -f /dev/null >/dev/null 2>&1 &
recv=$!
for _ in $(seq 1 50); do [ "$(cluster_sql aux -c "SELECT count(*) FROM pg_stat_replication")" = 1 ] && break; sleep 0.1; done
bad "no free WAL sender" 4 "no free WAL senders on the source (1 of 1 in use)" "fix: ALTER SYSTEM SET max_wal_senders = 10; then restart the source server" -- copy --source "$(ADMIN_DSN "$AUX_PORT")" --target "$TGT_DSN"
DB=app cluster_sql aux -c "SELECT pg_create_physical_replication_slot('filler')" >/dev/null
bad "no free replication slot" 4 "no free replication slots on the source (2 of 2 in use)" "fix: ALTER SYSTEM SET max_replication_slots = 10; then restart the source server" -- copy --source "$(ADMIN_DSN "$AUX_PORT")" --target "$TGT_DSN"
kill "$recv" 2>/dev/null; wait "$recv" 2>/dev/null || true
WORLD_SRC=src
as_pg "$PG_BIN/pg_ctl" -D "$HARNESS_DIR/aux/data" -m fast stop >/dev/null

# === 6. after copy ============================================================
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "setup: copy exits 0"
src_sql -c "INSERT INTO items VALUES (1001, 1, 'after copy')"
run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
assert_eq 0 "$RC" "setup: follow --until-caught-up exits 0"

cluster_sql tgt -c "CREATE DATABASE app2"
WORLD_TGT_DB=app2
bad "slot already exists (another migration's)" 7 'replication slot "pgcutover" already exists on the source' "fix: pass another --slot, or drop it with 'pgcutover cleanup --slot pgcutover'" -- copy --source "$SRC_DSN" --target "$(ADMIN_DSN "$TGT_PORT" app2)"
WORLD_TGT_DB=app

bad "switchover without a follower" 7 "no follower is running for slot pgcutover" "fix: start 'pgcutover follow' and retry" -- switchover --source "$SRC_DSN" --target "$TGT_DSN"
bad "--endpos in the past" 0 "--endpos 0/100 is" "fix:" -- follow --endpos 0/100 --source "$SRC_DSN" --target "$TGT_DSN"
bad "metrics on a public address" 2 "--metrics-listen 0.0.0.0:9 is not a loopback address" "fix: use 127.0.0.1:PORT, or add --metrics-allow-public" -- follow --metrics-listen 0.0.0.0:9 --source "$SRC_DSN" --target "$TGT_DSN"
bad "metrics on a public address, source down" 2 "is not a loopback address" "fix:" -- follow --metrics-listen 0.0.0.0:9 --source "$(ADMIN_DSN "$dead_port")" --target "$TGT_DSN"

# the slot held by another program
"$PG_BIN/pg_recvlogical" -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres -d app -S pgcutover --start -o format-version=2 -f /dev/null >/dev/null 2>&1 &
recv=$!
for _ in $(seq 1 50); do [ "$(src_sql -c "SELECT active FROM pg_replication_slots WHERE slot_name = 'pgcutover'")" = t ] && break; sleep 0.1; done
bad "slot in use by another process" 7 "slot pgcutover is in use by another process" "fix: stop the other follower first" -- follow --until-caught-up --source "$SRC_DSN" --target "$TGT_DSN"
bad "cleanup while the slot is in use" 7 "slot pgcutover is in use" "fix: stop 'pgcutover follow' first" -- cleanup --yes --keep-state --source "$SRC_DSN" --target "$TGT_DSN"
kill "$recv"; wait "$recv" 2>/dev/null || true
for _ in $(seq 1 50); do [ "$(src_sql -c "SELECT active FROM pg_replication_slots WHERE slot_name = 'pgcutover'")" = f ] && break; sleep 0.1; done

# a follower runs: a second one refuses; lag stays sane on an idle pair
start_follower() {
  "$PGCUTOVER" follow --source "$SRC_DSN" --target "$TGT_DSN" >"$HARNESS_DIR/follower.out" 2>"$HARNESS_DIR/follower.err" &
  FOLLOWER=$!
  for _ in $(seq 1 100); do
    [ "$(tgt_sql -c "SELECT count(*) FROM pgcutover.follower WHERE phase = 'following' AND pid = $FOLLOWER")" = 1 ] && break
    sleep 0.05
  done
}
stop_follower() {  # stop_follower SIGNAL: sets FRC
  kill -"$1" "$FOLLOWER"; set +e; wait "$FOLLOWER"; FRC=$?; set -e
  cat "$HARNESS_DIR/follower.out" "$HARNESS_DIR/follower.err" >> "$HARNESS_DIR/all-output.log"
}
start_follower
bad "two followers on one slot" 7 "another pgcutover follow is already running for slot pgcutover" "fix: stop it first" -- follow --until-caught-up --source "$SRC_DSN" --target "$TGT_DSN"
src_sql -c "INSERT INTO items VALUES (1002, 2, 'first follower still works')"
for _ in $(seq 1 100); do [ "$(tgt_sql -c "SELECT count(*) FROM items WHERE id = 1002")" = 1 ] && break; sleep 0.05; done
assert_eq 1 "$(tgt_sql -c "SELECT count(*) FROM items WHERE id = 1002")" "two followers: the first one keeps applying"

# clock skew cannot show: lag is measured on the source's clock only, so on an
# idle caught-up pair it is >= 0 and small (the unit test test_lagtrack covers
# skewed clocks)
sleep 2.5
run_pgcutover status --json --source "$SRC_DSN" --target "$TGT_DSN"
CASES=$((CASES + 1))
assert_eq 0 "$RC" "case $CASES clock skew: status exits 0"
assert_eq "ok" "$("$PY" -c 'import json,sys; d=json.load(sys.stdin); s=d["lag_seconds"]; b=d["lag_bytes"]; print("ok" if s is not None and 0 <= s < 2 and 0 <= b < 1e6 else "lag_seconds=%s lag_bytes=%s" % (s, b))' <<<"$OUT")" \
  "case $CASES clock skew: lag_seconds and lag_bytes >= 0 and small on an idle pair"

# --- SIGINT/SIGTERM during switchover: exit 10 at once, fence lifted ----------
for sig in INT TERM; do
  before=$(world)
  "$PGCUTOVER" switchover --skip-verify --post-command "sleep 30" --source "$SRC_DSN" --target "$TGT_DSN" \
    >"$HARNESS_DIR/sw.out" 2>"$HARNESS_DIR/sw.err" &
  sw=$!
  # the fence must be up when the signal lands; under ASan on a busy CI
  # machine the lag wait and the drain can take several seconds
  for _ in $(seq 1 1200); do grep -q "step sequences" "$HARNESS_DIR/sw.err" && break; sleep 0.05; done
  grep -q "step sequences" "$HARNESS_DIR/sw.err" || sed 's/^/# sw.err (no sequences step yet): /' "$HARNESS_DIR/sw.err"
  t0=$(date +%s.%N)
  kill -"$sig" "$sw"; set +e; wait "$sw"; rc=$?; set -e
  took=$(echo "$(date +%s.%N) - $t0" | bc)
  cat "$HARNESS_DIR/sw.out" "$HARNESS_DIR/sw.err" >> "$HARNESS_DIR/all-output.log"
  CASES=$((CASES + 1))
  assert_eq 10 "$rc" "case $CASES SIG$sig during switchover: exit 10"
  [ "$rc" = 10 ] || sed 's/^/# sw.err: /' "$HARNESS_DIR/sw.err"
  assert_eq 1 "$(echo "$took < 5" | bc)" "case $CASES SIG$sig during switchover: stops the post command at once ($took s)"
  assert_contains "$(cat "$HARNESS_DIR/sw.err")" "the fence is lifted" "case $CASES SIG$sig during switchover: says the fence is lifted"
  assert_eq "$before" "$(world)" "case $CASES SIG$sig during switchover: source writable, nothing else changed"
  assert_eq 1 "$(tgt_sql -c "SELECT count(*) FROM pgcutover.follower WHERE phase = 'following'")" "case $CASES SIG$sig during switchover: the follower goes on"
done

# --- SIGINT during follow: finishes the transaction, exit 0; two SIGTERMs in a
#     big transaction: exit 10, nothing half-applied, a rerun applies it once
stop_follower INT
CASES=$((CASES + 1))
assert_eq 0 "$FRC" "case $CASES SIGINT during follow: exit 0 (documented)"
assert_eq stopped "$(tgt_sql -c "SELECT phase FROM pgcutover.follower")" "case $CASES SIGINT during follow: state says stopped"
src_sql -c "INSERT INTO ledger (n) SELECT g FROM generate_series(1, 300000) g"
"$PGCUTOVER" follow --source "$SRC_DSN" --target "$TGT_DSN" >"$HARNESS_DIR/follower.out" 2>"$HARNESS_DIR/follower.err" &
FOLLOWER=$!
# both signals while the big transaction is being written on the target
# (its writing session has an xid), not before it arrives or after it committed
for _ in $(seq 1 500); do
  [ "$(tgt_sql -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgcutover' AND backend_xid IS NOT NULL AND query ILIKE '%ledger%'")" = 1 ] && break
  sleep 0.01
done
kill -TERM "$FOLLOWER"; sleep 0.05
stop_follower TERM
CASES=$((CASES + 1))
assert_eq 10 "$FRC" "case $CASES two SIGTERMs during follow: exit 10"
assert_contains "$(cat "$HARNESS_DIR/follower.err")" "second signal: stopping now" "case $CASES two SIGTERMs during follow: says the transaction is rolled back"
n=$(tgt_sql -c "SELECT count(*) FROM ledger")
assert_eq 1 "$([ "$n" = 0 ] || [ "$n" = 300000 ] && echo 1 || echo 0)" "case $CASES two SIGTERMs during follow: the transaction is all or nothing ($n rows)"
run_pgcutover follow --until-caught-up --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "case $CASES rerun after SIGTERM: exit 0"
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "case $CASES rerun after SIGTERM: every table identical"

# --- unsupported/missing type on the target: follow stops, applies nothing ----
tgt_sql -c "ALTER TABLE items ALTER COLUMN m DROP DEFAULT" -c "ALTER TABLE items ALTER COLUMN m TYPE int USING 0" -c "DROP TYPE mood"
src_sql -c "INSERT INTO items VALUES (1003, 3, 'typed', 'meh')"
tfp=$(db_fingerprint tgt)
run_pgcutover follow --until-caught-up --source "$SRC_DSN" --target "$TGT_DSN"
CASES=$((CASES + 1))
kb=""
assert_eq 8 "$RC" "case $CASES type missing on the target: schema drift exit 8 $kb"
line=$(line_of "$ERR" 'public.items')
assert_contains "$line" 'column "m"' "case $CASES type missing on the target: the line names the column $kb"
assert_contains "$line" "fix:" "case $CASES type missing on the target: the line names the fix $kb"
assert_eq "$tfp" "$(db_fingerprint tgt)" "case $CASES type missing on the target: nothing applied"
tgt_sql -c "CREATE TYPE mood AS ENUM ('ok', 'meh')" -c "ALTER TABLE items ALTER COLUMN m TYPE mood USING 'ok'" -c "ALTER TABLE items ALTER COLUMN m SET DEFAULT 'ok'"
run_pgcutover follow --until-caught-up --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "case $CASES type restored: follow goes on"

# --- verify on a diverged target ------------------------------------------------
tgt_sql -c "SET session_replication_role = replica" -c "UPDATE items SET note = 'diverged' WHERE id = 7"
bad "verify on a diverged target" 5 "verify found 1 different table(s)" "fix:" -- verify --source "$SRC_DSN" --target "$TGT_DSN" --exclude-table public.ledger
assert_contains "$OUT" "MISMATCH  public.items" "verify on a diverged target: names the table"
tgt_sql -c "SET session_replication_role = replica" -c "UPDATE items SET note = 'n7' WHERE id = 7"

# --- SIGINT/SIGTERM during copy: exit 10, slot and snapshot kept, rerun resumes -
cluster_sql src -c "CREATE DATABASE big"
cluster_sql tgt -c "CREATE DATABASE big"
DB=big cluster_sql src -c "CREATE TABLE big (id int PRIMARY KEY, pad text)" \
  -c "INSERT INTO big SELECT g, repeat('x', 100) FROM generate_series(1, 1500000) g" -c "CREATE TABLE small (id int PRIMARY KEY)"
BIG_SRC=$(ADMIN_DSN "$SRC_PORT" big); BIG_TGT=$(ADMIN_DSN "$TGT_PORT" big)
for sig in INT TERM; do
  "$PGCUTOVER" copy --jobs 1 --slot big --source "$BIG_SRC" --target "$BIG_TGT" >"$HARNESS_DIR/cp.out" 2>"$HARNESS_DIR/cp.err" &
  cp=$!
  for _ in $(seq 1 300); do
    [ "$(DB=big cluster_sql tgt -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'big' AND query LIKE 'COPY%'")" != 0 ] && break
    sleep 0.02
  done
  kill -"$sig" "$cp"; set +e; wait "$cp"; rc=$?; set -e
  cat "$HARNESS_DIR/cp.out" "$HARNESS_DIR/cp.err" >> "$HARNESS_DIR/all-output.log"
  CASES=$((CASES + 1))
  assert_eq 10 "$rc" "case $CASES SIG$sig during copy: exit 10"
  line=$(line_of "$(cat "$HARNESS_DIR/cp.err")" "copy interrupted")
  assert_contains "$line" "rerun 'pgcutover copy' to resume" "case $CASES SIG$sig during copy: one line says how to resume"
  assert_eq 1 "$(src_sql -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'big'")" "case $CASES SIG$sig during copy: the slot is kept"
  assert_eq copy_data "$(DB=big cluster_sql tgt -c "SELECT phase FROM pgcutover.migration")" "case $CASES SIG$sig during copy: state says copy_data"
  # the first time the whole (single-job) table was rolled back: nothing half-copied
  assert_eq 0 "$(DB=big cluster_sql tgt -c "SELECT count(*) FROM pgcutover.copy_job WHERE relname = 'big' AND status = 'done'")" "case $CASES SIG$sig during copy: the interrupted job is not marked done"
done
run_pgcutover copy --jobs 1 --slot big --source "$BIG_SRC" --target "$BIG_TGT"
assert_eq 0 "$RC" "after SIGINT and SIGTERM: the rerun resumes and completes"
assert_eq "$(db_fingerprint src big)" "$(db_fingerprint tgt big)" "after SIGINT and SIGTERM: the copy equals the source"
run_pgcutover cleanup --yes --slot big --source "$BIG_SRC" --target "$BIG_TGT"
assert_eq 0 "$RC" "big: cleanup exits 0"

# --- major versions (issue 17) ----------------------------------------------------
# a pg_dump 17 (a stand-in) against a 15 target: its SET transaction_timeout
# would fail the restore after the slot exists, so copy and check refuse it first
mkdir -p "$HARNESS_DIR/newbin"
cat > "$HARNESS_DIR/newbin/pg_dump" <<'SH'
#!/bin/sh
[ "$1" = "--version" ] && { echo "pg_dump (PostgreSQL) 17.6"; exit 0; }
echo "pg_dump: the stand-in only says its version" >&2; exit 1
SH
chmod +x "$HARNESS_DIR/newbin/pg_dump"
bad "pg_dump newer than the target: copy" 4 "pg_dump in --pg-bin-dir $HARNESS_DIR/newbin is version 17, newer than the target server (15)" "fix: point --pg-bin-dir at a PostgreSQL 15 bin directory (apt-get install postgresql-client-15)" -- copy --slot newbin --pg-bin-dir "$HARNESS_DIR/newbin" --source "$SRC_DSN" --target "$TGT_DSN"
bad "pg_dump newer than the target: check" 4 "FAIL  pg_dump" "fix: point --pg-bin-dir at a PostgreSQL 15 bin directory (apt-get install postgresql-client-15)" -- check --slot newbin --pg-bin-dir "$HARNESS_DIR/newbin" --source "$SRC_DSN" --target "$TGT_DSN"
# a source older than 13: a proxy makes it say it is PostgreSQL 12
pport=$(free_port)
"$PY" "$(dirname "$0")/../lib/verproxy.py" "$pport" "$SRC_PORT" 12.22 >"$HARNESS_DIR/proxy.log" 2>&1 &
proxy=$!
for _ in $(seq 1 50); do grep -q ready "$HARNESS_DIR/proxy.log" && break; sleep 0.1; done
bad "source older than 13 (12 via proxy): check" 4 "source runs PostgreSQL 12.22, pgcutover needs 13 or later" "fix: upgrade the source to PostgreSQL 13 or later" -- check --slot v12 --source "$(ADMIN_DSN "$pport") sslmode=disable gssencmode=disable" --target "$TGT_DSN"
bad "source older than 13 (12 via proxy): copy" 4 "preflight version: source runs PostgreSQL 12.22" "fix: upgrade the source to PostgreSQL 13 or later" -- copy --slot v12 --source "$(ADMIN_DSN "$pport") sslmode=disable gssencmode=disable" --target "$TGT_DSN"
kill "$proxy"; wait "$proxy" 2>/dev/null || true

# --- rerun works after the interrupted switchovers ------------------------------
start_follower
run_pgcutover switchover --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "switchover after the interrupted ones exits 0"
assert_source_fenced app
set +e; wait "$FOLLOWER"; set -e
cat "$HARNESS_DIR/follower.out" "$HARNESS_DIR/follower.err" >> "$HARNESS_DIR/all-output.log"
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "after the switchover every table is identical"

echo "# $CASES bad-input cases"
done_testing
