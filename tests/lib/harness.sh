# tests/lib/harness.sh -- throwaway PostgreSQL clusters for scenario tests.
#
# Source this file, then call `harness_start` to get a source and a target
# cluster (PostgreSQL 15, wal_level=logical, wal2json allowed) on free
# loopback ports in a temp dir.  They are stopped and removed on exit, even
# when the test fails.  Servers run as the postgres user when we are root,
# because initdb refuses to run as root.
#
# After harness_start:
#   SRC_PORT/TGT_PORT, SRC_DSN/TGT_DSN (TCP, password auth, as "postgres"),
#   src_sql/tgt_sql SQL...  run SQL through psql on the local socket
#   PGCUTOVER           the binary under test (first argument of the test)
#
# Other PostgreSQL versions (scripts/install-pg-versions puts 13 beside 15 and
# builds 18 under /var/cache/pgcutover/pg18):
#   pg_bin_for VERSION              that version's bin directory (fails if absent)
#   cluster_start_version V NAME    cluster_start with version V's binaries
#   harness_start_versions SV TV    harness_start with a source of SV and a target of TV
#   harness_stop                    stops and removes src and tgt (to start them again)
#   cluster_bin NAME                the bin directory a cluster runs

set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PGCUTOVER=${PGCUTOVER:-$1}
TEST_PASSWORD=${TEST_PASSWORD:-s3cr3t-Pw_42}
HARNESS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pgcutover-test.XXXXXX")
chmod 755 "$HARNESS_DIR"
HARNESS_CLUSTERS=()
TESTS_RUN=0
TESTS_FAILED=0

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

harness_cleanup() {
  local rc=$?
  harness_stop_bouncers
  # pgcutover processes a failed test left behind (followers, snapshot keepers)
  for d in "${HARNESS_CLUSTERS[@]}"; do
    [ -f "$d/port" ] && pkill -TERM -f "pgcutover.*port=$(cat "$d/port")( |\$|')" 2>/dev/null || true
  done
  for d in "${HARNESS_CLUSTERS[@]}"; do
    [ -d "$d/data" ] || continue
    as_pg "$(cat "$d/bin" 2>/dev/null || echo "$PG_BIN")/pg_ctl" -D "$d/data" -m immediate stop >/dev/null 2>&1 || true
  done
  if [ "$rc" -ne 0 ] || [ "${KEEP_CLUSTERS:-0}" = 1 ]; then
    for d in "${HARNESS_CLUSTERS[@]}"; do
      echo "--- tail of $d/log" >&2
      tail -n 15 "$d/log" >&2 2>/dev/null || true
    done
  fi
  [ "${KEEP_CLUSTERS:-0}" = 1 ] || rm -rf "$HARNESS_DIR"
  exit "$rc"
}
trap harness_cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$(( 20000 + RANDOM % 12768 ))   # below the ephemeral range (32768+)
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "harness: no free port" >&2
  return 1
}

# pg_bin_for VERSION: where that major version's binaries are on this machine.
pg_bin_for() {
  local d
  for d in "/usr/lib/postgresql/$1/bin" "${PGCUTOVER_CACHE:-/var/cache/pgcutover}/pg$1/bin"; do
    if [ -x "$d/postgres" ]; then echo "$d"; return 0; fi
  done
  echo "harness: no PostgreSQL $1 here (scripts/install-pg-versions installs 13 and 18)" >&2
  return 1
}

# A template data directory, made once per machine and copied per cluster:
# initdb is the slowest part of starting a cluster.  CLUSTER_BIN (default
# PG_BIN) chooses the binaries, and so the version.
template_dir() {
  local PG_BIN=${CLUSTER_BIN:-$PG_BIN}
  local tpl="${TMPDIR:-/tmp}/pgcutover-template-$(id -u)-$("$PG_BIN/postgres" -V | tr -cd '0-9.')"
  (
    # ctest runs tests in parallel: one of them makes the template, the others wait
    flock 9
    if [ ! -f "$tpl/ok" ]; then
      rm -rf "$tpl"
      local tmp
      tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgcutover-tpl.XXXXXX")
      chmod 755 "$tmp"
      [ "$(id -u)" -ne 0 ] || chown postgres "$tmp"
      echo "$TEST_PASSWORD" > "$tmp/pw"
      [ "$(id -u)" -ne 0 ] || chown postgres "$tmp/pw"
      as_pg "$PG_BIN/initdb" -D "$tmp/data" -U postgres --pwfile="$tmp/pw" -A scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
      rm -f "$tmp/pw"
      mv "$tmp" "$tpl"
      touch "$tpl/ok"
    fi
  ) 9>"${TMPDIR:-/tmp}/pgcutover-template-$(id -u).lock"
  echo "$tpl"
}

# cluster_start NAME [extra postgresql.conf lines...]  -> prints the port
# With CLUSTER_BIN set (see cluster_start_version), that bin directory's server.
cluster_start() {
  local name=$1; shift
  local PG_BIN=${CLUSTER_BIN:-$PG_BIN}
  local dir="$HARNESS_DIR/$name" port tpl
  tpl=$(template_dir)
  mkdir -p "$dir"
  cp -a "$tpl/data" "$dir/data"
  echo "$PG_BIN" > "$dir/bin"
  [ "$(id -u)" -eq 0 ] && chown -R postgres "$dir"
  cat > "$dir/data/pg_hba.conf" <<HBA
local all all trust
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
local replication all trust
host replication all 127.0.0.1/32 scram-sha-256
HBA
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$dir'"
    echo "wal_level = logical"
    echo "max_replication_slots = 10"
    echo "max_wal_senders = 10"
    echo "fsync = off"
    echo "synchronous_commit = off"
    echo "full_page_writes = off"
    echo "shared_buffers = 64MB"
    echo "max_connections = 60"
    echo "log_min_messages = warning"
    if as_pg "$PG_BIN/postgres" --describe-config 2>/dev/null | grep -c '^output_plugin_libraries' >/dev/null; then
      echo "output_plugin_libraries = 'pgoutput, test_decoding, wal2json'"
    fi
    for line in "$@"; do echo "$line"; done
  } >> "$dir/data/postgresql.conf"
  HARNESS_CLUSTERS+=("$dir")
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    if as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 -o "-p $port" start >/dev/null; then
      echo "$port" > "$dir/port"
      return 0
    fi
  done
  echo "harness: cannot start cluster $name" >&2
  return 1
}

# cluster_start_version VERSION NAME [conf lines...]: a cluster of another major version.
cluster_start_version() {
  local v=$1 bin; shift
  bin=$(pg_bin_for "$v")
  CLUSTER_BIN=$bin cluster_start "$@"
}
# cluster_bin NAME: the bin directory of the cluster's version
cluster_bin() { cat "$HARNESS_DIR/$1/bin" 2>/dev/null || echo "$PG_BIN"; }

cluster_port() { cat "$HARNESS_DIR/$1/port"; }
cluster_sql() {
  local name=$1; shift
  psql -X -q -At -v ON_ERROR_STOP=1 -h "$HARNESS_DIR/$name" -p "$(cluster_port "$name")" -U postgres -d "${DB:-postgres}" "$@"
}
cluster_restart() {
  local name=$1 mode=${2:-fast}
  as_pg "$(cluster_bin "$name")/pg_ctl" -D "$HARNESS_DIR/$name/data" -l "$HARNESS_DIR/$name/log" -w -t 60 -m "$mode" \
    -o "-p $(cluster_port "$name")" restart >/dev/null
}

# harness_start [extra source conf lines...]: source "src" and target "tgt" clusters,
# each with a database "app".
harness_start() {
  if [ -n "${HARNESS_SRC_VERSION:-}" ]; then cluster_start_version "$HARNESS_SRC_VERSION" src "$@"; else cluster_start src "$@"; fi
  if [ -n "${HARNESS_TGT_VERSION:-}" ]; then cluster_start_version "$HARNESS_TGT_VERSION" tgt; else cluster_start tgt; fi
  SRC_PORT=$(cluster_port src)
  TGT_PORT=$(cluster_port tgt)
  cluster_sql src -c "CREATE DATABASE app"
  cluster_sql tgt -c "CREATE DATABASE app"
  SRC_DSN="host=127.0.0.1 port=$SRC_PORT dbname=app user=postgres password=$TEST_PASSWORD"
  TGT_DSN="host=127.0.0.1 port=$TGT_PORT dbname=app user=postgres password=$TEST_PASSWORD"
  export SRC_PORT TGT_PORT SRC_DSN TGT_DSN
}
src_sql() { DB=app cluster_sql src "$@"; }

# harness_start_versions SRC_VERSION TGT_VERSION [extra source conf lines...]
harness_start_versions() {
  local sv=$1 tv=$2; shift 2
  HARNESS_SRC_VERSION=$sv HARNESS_TGT_VERSION=$tv harness_start "$@"
}

# harness_stop: stops src and tgt and removes them, so that harness_start can
# be called again (stop the pgcutover processes you started on them first).
harness_stop() {
  local name d
  for name in src tgt; do
    d="$HARNESS_DIR/$name"
    [ -d "$d/data" ] && as_pg "$(cluster_bin "$name")/pg_ctl" -D "$d/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$d"
  done
}

# follower_start [follow options...]: `pgcutover follow` from SRC_DSN to
# TGT_DSN in the background (FOLLOWER is its pid), back once it is following.
follower_start() {
  "$PGCUTOVER" follow --source "$SRC_DSN" --target "$TGT_DSN" "$@" >>"$HARNESS_DIR/all-output.log" 2>&1 &
  FOLLOWER=$!
  for _ in $(seq 1 100); do
    [ "$(tgt_sql -c "SELECT count(*) FROM pgcutover.follower WHERE phase = 'following'" 2>/dev/null)" = 1 ] && break
    sleep 0.05
  done
}

# After a switchover the old source stays fenced: readable, but a trigger on
# every table refuses writes whoever asks (schema pgcutover_fence).
assert_source_fenced() {
  local db=${1:-app}
  assert_eq "t t" "$(DB=$db cluster_sql src -c "SELECT (SELECT datallowconn FROM pg_database WHERE datname = current_database()), count(*) > 0 FROM pg_trigger WHERE tgname = 'pgcutover_fence'" | tr '|' ' ')" \
    "the old source $db is readable and its tables refuse writes after the switchover"
}
tgt_sql() { DB=app cluster_sql tgt "$@"; }

# --- assertions: each prints one "ok"/"not ok" line and counts ---------------
pass() { TESTS_RUN=$((TESTS_RUN + 1)); echo "ok $TESTS_RUN - $1"; }
fail() { TESTS_RUN=$((TESTS_RUN + 1)); TESTS_FAILED=$((TESTS_FAILED + 1)); echo "not ok $TESTS_RUN - $1"; [ $# -lt 2 ] || echo "#   $2"; }

assert_eq() {  # assert_eq EXPECTED ACTUAL NAME
  if [ "$1" == "$2" ]; then pass "$3"; else fail "$3" "expected [$1] got [$2]"; fi
}
assert_contains() {  # assert_contains HAYSTACK NEEDLE NAME
  if grep -qF -- "$2" <<<"$1"; then pass "$3"; else fail "$3" "[$2] not found in: $(head -c 600 <<<"$1")"; fi
}
assert_not_contains() {
  if grep -qF -- "$2" <<<"$1"; then fail "$3" "[$2] unexpectedly found"; else pass "$3"; fi
}

# run_pgcutover ARGS... : sets OUT, ERR, RC (never aborts the test)
run_pgcutover() {
  local o e
  o=$(mktemp "$HARNESS_DIR/out.XXXXXX"); e=$(mktemp "$HARNESS_DIR/err.XXXXXX")
  set +e
  "$PGCUTOVER" "$@" >"$o" 2>"$e"
  RC=$?
  set -e
  OUT=$(cat "$o"); ERR=$(cat "$e")
  cat "$o" "$e" >> "$HARNESS_DIR/all-output.log"
}

# A row-level fingerprint of every user table: name, count, md5 of sorted row text.
db_fingerprint() {  # db_fingerprint src|tgt [db]
  DB=${2:-app} cluster_sql "$1" <<'SQL'
SELECT format('SELECT %L, count(*), coalesce(md5(string_agg(r::text, E''\n'' ORDER BY r::text)), ''-'') FROM %I.%I r',
              n.nspname || '.' || c.relname, n.nspname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgcutover')
  AND n.nspname !~ '^pg_'
ORDER BY n.nspname, c.relname
\gexec
SQL
}

# Sequence values of a database, one "name|last_value|is_called" a line.
db_sequences() {  # db_sequences src|tgt [db]
  DB=${2:-app} cluster_sql "$1" <<'SQL'
SELECT format('SELECT %L, last_value, is_called FROM %I.%I', schemaname || '.' || sequencename,
              schemaname, sequencename)
FROM pg_sequences WHERE schemaname <> 'pgcutover' ORDER BY 1
\gexec
SQL
}

done_testing() {
  echo "1..$TESTS_RUN"
  if [ "$TESTS_FAILED" -gt 0 ]; then
    echo "# $TESTS_FAILED of $TESTS_RUN assertions failed"
    exit 1
  fi
  if [ "$TESTS_RUN" -eq 0 ]; then
    echo "# no assertion ran"
    exit 1
  fi
  # the whole run's output must never contain the test password
  if grep -qF -- "$TEST_PASSWORD" "$HARNESS_DIR/all-output.log" 2>/dev/null; then
    echo "not ok - the test password appeared in pgcutover output"
    exit 1
  fi
}

# --- PgBouncer (Debian package pgbouncer) ------------------------------------
# pgbouncer_start NAME [pool_mode] [extra pgbouncer.ini lines...]: a PgBouncer
# on a free loopback port, run as the postgres user, admin user "postgres"
# (password $TEST_PASSWORD, scram), with no databases yet: add them with
# pgbouncer_set_database, which rewrites NAME/databases.ini (included from
# pgbouncer.ini) and reloads.  Sets nothing global; read the port with
# cluster_port NAME.  Stopped on exit with the clusters.
pgbouncer_start() {
  local name=$1 mode=${2:-transaction}; shift $(( $# >= 2 ? 2 : 1 ))
  local dir="$HARNESS_DIR/$name" port
  mkdir -p "$dir"
  printf '"postgres" "%s"\n' "$TEST_PASSWORD" > "$dir/userlist.txt"
  : > "$dir/databases.ini"
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    {
      echo "[databases]"
      echo "%include $dir/databases.ini"
      echo "[pgbouncer]"
      echo "listen_addr = 127.0.0.1"
      echo "listen_port = $port"
      echo "unix_socket_dir = $dir"
      echo "auth_type = scram-sha-256"
      echo "auth_file = $dir/userlist.txt"
      echo "admin_users = postgres"
      echo "pool_mode = $mode"
      echo "max_client_conn = 200"
      echo "default_pool_size = 20"
      echo "logfile = $dir/log"
      echo "pidfile = $dir/pid"
      echo "server_login_retry = 1"
      echo "ignore_startup_parameters = extra_float_digits,options"
      for line in "$@"; do echo "$line"; done
    } > "$dir/pgbouncer.ini"
    [ "$(id -u)" -eq 0 ] && chown -R postgres "$dir"
    if as_pg pgbouncer -d -q "$dir/pgbouncer.ini" 2>>"$dir/stderr"; then
      for _ in $(seq 1 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
      done
      echo "$port" > "$dir/port"
      HARNESS_BOUNCERS+=("$dir")
      return 0
    fi
  done
  echo "harness: cannot start pgbouncer $name" >&2
  return 1
}
HARNESS_BOUNCERS=()
harness_stop_bouncers() {
  for d in "${HARNESS_BOUNCERS[@]}"; do
    [ -f "$d/pid" ] && kill -TERM "$(cat "$d/pid")" 2>/dev/null || true
  done
}

# pgbouncer_set_database NAME DBNAME CLUSTER [REALDB]: points the entry DBNAME
# of PgBouncer NAME at cluster CLUSTER (database REALDB, default DBNAME), then RELOAD.
pgbouncer_set_database() {
  local name=$1 db=$2 cluster=$3 real=${4:-$2}
  local dir="$HARNESS_DIR/$name"
  grep -v "^$db = " "$dir/databases.ini" > "$dir/databases.ini.new" || true
  echo "$db = host=127.0.0.1 port=$(cluster_port "$cluster") dbname=$real" >> "$dir/databases.ini.new"
  mv "$dir/databases.ini.new" "$dir/databases.ini"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir/databases.ini"
  pgbouncer_admin "$name" -c "RELOAD" >/dev/null
}

# pgbouncer_admin NAME psql-args...: the admin console of PgBouncer NAME.
pgbouncer_admin() {
  local name=$1; shift
  PGPASSWORD=$TEST_PASSWORD psql -X -q -At -h 127.0.0.1 -p "$(cluster_port "$name")" -U postgres -d pgbouncer "$@"
}
pgbouncer_admin_dsn() {
  echo "host=127.0.0.1 port=$(cluster_port "$1") dbname=pgbouncer user=postgres password=$TEST_PASSWORD"
}
