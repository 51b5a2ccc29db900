#!/usr/bin/env bash
# Scenario: a whole migration with least-privileged roles (docs/privileges.md)
# while an application writes, over identifiers with quotes, semicolons,
# spaces, backslashes and unicode; then the security checks: file and socket
# modes, metrics on loopback, no password in argv, status or the state schema.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
PY=/usr/bin/python3

# --- schema: awkward names, an identity column, a sequence, a foreign key ----
src_sql <<'SQL'
CREATE SCHEMA "we""ird; DROP TABLE x;--";
CREATE TABLE "we""ird; DROP TABLE x;--"."Ünïcödé 表" (
  "id ""key""" int PRIMARY KEY,
  "sp ace; --" text,
  "back\slash" text,
  "ñ" numeric);
INSERT INTO "we""ird; DROP TABLE x;--"."Ünïcödé 表"
  SELECT g, 'v' || g || E' \\ '' "', E'a\\b', g * 1.5 FROM generate_series(1, 50) g;
CREATE TABLE parent (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text);
CREATE TABLE child (id bigserial PRIMARY KEY, parent_id int NOT NULL REFERENCES parent, note text);
CREATE SEQUENCE standalone_seq;
INSERT INTO parent (name) SELECT 'p' || g FROM generate_series(1, 20) g;
INSERT INTO child (parent_id, note) SELECT 1 + g % 20, 'c' || g FROM generate_series(1, 100) g;
SELECT nextval('standalone_seq');
SQL
W='"we""ird; DROP TABLE x;--"."Ünïcödé 表"'

# --- roles: exactly the GRANTs of docs/privileges.md -----------------------------
src_sql <<SQL
CREATE ROLE mig_src LOGIN REPLICATION PASSWORD '$TEST_PASSWORD';
GRANT USAGE ON SCHEMA public, "we""ird; DROP TABLE x;--" TO mig_src;
GRANT SELECT ON ALL TABLES IN SCHEMA public, "we""ird; DROP TABLE x;--" TO mig_src;
GRANT SELECT ON ALL SEQUENCES IN SCHEMA public, "we""ird; DROP TABLE x;--" TO mig_src;
GRANT EXECUTE ON FUNCTION pg_catalog.pg_logical_emit_message(boolean, text, text) TO mig_src;
CREATE ROLE app_rw LOGIN;
GRANT USAGE ON SCHEMA public, "we""ird; DROP TABLE x;--" TO app_rw;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public, "we""ird; DROP TABLE x;--" TO app_rw;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO app_rw;
SQL
cluster_sql tgt -c "CREATE ROLE mig_tgt LOGIN PASSWORD '$TEST_PASSWORD'" \
  -c "CREATE DATABASE lp OWNER mig_tgt" -c "GRANT SET ON PARAMETER session_replication_role TO mig_tgt"
assert_eq "f|f" "$(cluster_sql src -c "SELECT rolsuper, rolcreatedb FROM pg_roles WHERE rolname = 'mig_src'")" "source role is no superuser"
assert_eq "f|f" "$(cluster_sql tgt -c "SELECT rolsuper, rolcreatedb FROM pg_roles WHERE rolname = 'mig_tgt'")" "target role is no superuser"
S="host=127.0.0.1 port=$SRC_PORT dbname=app user=mig_src password=$TEST_PASSWORD"
T="host=127.0.0.1 port=$TGT_PORT dbname=lp user=mig_tgt password=$TEST_PASSWORD"
lp_sql() { DB=lp cluster_sql tgt "$@"; }
fp_lp() { DB=lp db_fingerprint tgt lp; }

# --- check and copy ----------------------------------------------------------------
run_pgcutover check --source "$S" --target "$T"
assert_eq 0 "$RC" "check passes with the least-privileged roles"
assert_not_contains "$ERR" "error:" "check logs no error for a role that may not read superuser-only settings"
umask 022   # a usual umask: what pgcutover writes must be private anyway
export PGCUTOVER_RUNDIR="$HARNESS_DIR/run"; mkdir -p "$PGCUTOVER_RUNDIR" "$HARNESS_DIR/backup"
# hold pg_dump back (a lock it waits for) to look at the snapshot keeper
src_sql -c "BEGIN" -c "LOCK TABLE parent IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(2)" -c "COMMIT" >/dev/null &
locker=$!
sleep 0.3
"$PGCUTOVER" copy --source "$S" --target "$T" --backup "$HARNESS_DIR/backup" >"$HARNESS_DIR/copy.out" 2>"$HARNESS_DIR/copy.err" &
copy=$!
sock=""
for _ in $(seq 1 100); do sock=$(ls "$PGCUTOVER_RUNDIR"/*.sock 2>/dev/null | head -1 || true); [ -n "$sock" ] && break; sleep 0.02; done
assert_eq 600 "$(stat -c %a "$sock" 2>/dev/null || echo none)" "the snapshot keeper's socket is mode 0600"
keeper=$(pgrep -f "pgcutover copy" | grep -vx "$copy" | head -1 || true)
assert_not_contains "$(tr '\0' ' ' </proc/"$copy"/cmdline 2>/dev/null)" "$TEST_PASSWORD" "no password in the copy's /proc/PID/cmdline"
if [ -n "$keeper" ]; then
  assert_not_contains "$(tr '\0' ' ' </proc/"$keeper"/cmdline 2>/dev/null)" "$TEST_PASSWORD" "no password in the snapshot keeper's /proc/PID/cmdline"
else
  fail "the snapshot keeper runs during the copy"
fi
wait "$locker"
set +e; wait "$copy"; RC=$?; set -e
cat "$HARNESS_DIR/copy.out" "$HARNESS_DIR/copy.err" >> "$HARNESS_DIR/all-output.log"
assert_eq 0 "$RC" "copy with the least-privileged roles exits 0"
assert_eq "600 600" "$(stat -c %a "$HARNESS_DIR"/backup/app-pgcutover.dump "$HARNESS_DIR"/backup/app-pgcutover.dump.sha256 | tr '\n' ' ' | sed 's/ $//')" \
  "--backup files are mode 0600 (the dump holds all the data)"
assert_eq "$(db_fingerprint src)" "$(fp_lp)" "copy: every table equal, weird names included"

# --- follow while the application writes -------------------------------------------
writer() {  # DML through every awkward identifier, as the application role
  local i=0
  while [ ! -f "$HARNESS_DIR/stop-writer" ]; do
    i=$((i + 1))
    psql -X -q -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U app_rw -d app >/dev/null 2>&1 <<SQL || true
INSERT INTO $W VALUES (1000 + $i, E'new\\\\ ''$i''', 'x;y', $i);
UPDATE $W SET "sp ace; --" = E'upd \\\\ $i', "ñ" = "ñ" + 1 WHERE "id ""key""" = 1 + $i % 50;
DELETE FROM $W WHERE "id ""key""" = 1000 + $i - 3;
INSERT INTO parent (name) VALUES ('w$i');
INSERT INTO child (parent_id, note) VALUES (1 + $i % 20, 'w$i');
SELECT nextval('standalone_seq');
SQL
    sleep 0.05
  done
}
writer &
writer_pid=$!
"$PGCUTOVER" follow --source "$S" --target "$T" --metrics-listen ":0" >"$HARNESS_DIR/f.out" 2>"$HARNESS_DIR/f.err" &
follower=$!
for _ in $(seq 1 100); do
  [ "$(lp_sql -c "SELECT count(*) FROM pgcutover.follower WHERE phase = 'following'" 2>/dev/null)" = 1 ] && break
  sleep 0.05
done
assert_eq 1 "$(lp_sql -c "SELECT count(*) FROM pgcutover.follower WHERE phase = 'following'")" "follow runs with the least-privileged roles"
assert_not_contains "$(tr '\0' ' ' </proc/"$follower"/cmdline)" "$TEST_PASSWORD" "no password in the follower's /proc/PID/cmdline (ps)"
assert_contains "$(tr '\0' ' ' </proc/"$follower"/cmdline)" "password=*" "the follower's argv shows the password masked"
listen=$(ss -Hltnp 2>/dev/null | grep "pid=$follower," | awk '{print $4}' || true)   # local address:port
assert_contains "$listen" "127.0.0.1:" "--metrics-listen :PORT binds loopback by default"
assert_not_contains "$listen" "0.0.0.0:" "--metrics-listen :PORT does not bind every address"
sleep 2
run_pgcutover status --json --source "$S" --target "$T"
assert_eq 0 "$RC" "status with the least-privileged roles exits 0"
assert_eq following "$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["state"])' <<<"$OUT")" "status: following"
assert_not_contains "$OUT$ERR" "$TEST_PASSWORD" "no password in status --json"

# --- switchover: the default fence needs more than SELECT ----------------------------
run_pgcutover switchover --source "$S" --target "$T"
assert_eq 11 "$RC" "default fence without owning the database: exit 11"
assert_contains "$ERR" "must be owner of database app" "default fence refused: says why"
assert_contains "$ERR" "fix: the default fence needs the source role to own the database (ALTER DATABASE app OWNER TO mig_src)" "default fence refused: names the GRANTs"
assert_eq "" "$(src_sql -c "SELECT setconfig FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = 'app')")" "default fence refused: the source is not read-only"
cluster_sql src -c "ALTER DATABASE app OWNER TO mig_src" -c "GRANT pg_signal_backend TO mig_src"
sleep 1
run_pgcutover switchover --json --source "$S" --target "$T"
assert_eq 0 "$RC" "switchover with database owner + pg_signal_backend exits 0"
assert_eq True "$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["verify"]["mismatches"] == 0)' <<<"$OUT" 2>/dev/null || echo no)" "switchover verified every table"
touch "$HARNESS_DIR/stop-writer"; wait "$writer_pid" || true
set +e; wait "$follower"; frc=$?; set -e
cat "$HARNESS_DIR/f.out" "$HARNESS_DIR/f.err" >> "$HARNESS_DIR/all-output.log"
assert_eq 0 "$frc" "the follower exits 0 after the switchover"
# the role owns the database but not its tables: no write-refusing triggers,
# so the old source simply stays closed (still airtight); open it to read it
assert_eq f "$(cluster_sql src -c "SELECT datallowconn FROM pg_database WHERE datname = 'app'")" "without table ownership the old source stays closed to connections"
assert_contains "$ERR" "stays closed to connections instead" "the switchover says why the old source stays closed"
cluster_sql src -c "ALTER DATABASE app ALLOW_CONNECTIONS true" >/dev/null
assert_eq t "$(src_sql -c "SELECT count(*) > 0 FROM $W WHERE \"id \"\"key\"\"\" > 1000")" "the application really wrote during follow"
assert_eq "$(db_fingerprint src)" "$(fp_lp)" "after switchover: every table identical, weird names included"
assert_eq t "$(lp_sql -c "SELECT last_value >= (SELECT last_value FROM pg_sequences WHERE sequencename = 'standalone_seq') FROM standalone_seq" 2>/dev/null || echo f)" "the standalone sequence was synced"
assert_eq a "$(lp_sql -c "SELECT attidentity FROM pg_attribute WHERE attrelid = 'parent'::regclass AND attname = 'id'")" "the identity column is GENERATED ALWAYS again"

run_pgcutover verify --constraints --source "$S" --target "$T"
assert_eq 0 "$RC" "verify --constraints with the least-privileged roles exits 0"

# --- no password in the state schema -------------------------------------------------
state=$("$PG_BIN/pg_dump" -h "$HARNESS_DIR/tgt" -p "$TGT_PORT" -U postgres -n pgcutover lp)
assert_contains "$state" "switched_over" "the state dump has the migration"
assert_not_contains "$state" "$TEST_PASSWORD" "no password in the pgcutover schema on the target"

run_pgcutover cleanup --yes --source "$S" --target "$T"
assert_eq 0 "$RC" "cleanup with the least-privileged roles exits 0"
assert_eq 0 "$(src_sql -c "SELECT count(*) FROM pg_replication_slots")" "cleanup dropped the slot"
assert_eq 0 "$(lp_sql -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgcutover'")" "cleanup dropped schema pgcutover"

done_testing
