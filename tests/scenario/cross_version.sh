#!/usr/bin/env bash
# Scenario: major-version migrations (issue 17) on 13 -> 15, 15 -> 18 and
# 13 -> 18, each from scratch: copy; follow with varied column shapes and
# inserts/updates/deletes; DDL replay (ddl-capture, ADD COLUMN, CREATE TABLE);
# a switchover under pgbench; verify; every table and sequence equal.
# The 13 source decodes with Debian 11's wal2json 2.3; 18 is only a target
# (no wal2json for it on Debian 12).  scripts/install-pg-versions installs 13
# and builds 18; a version missing here fails the test, or is skipped with
# PGCUTOVER_CROSS_VERSION_OPTIONAL=1.
#   CROSS_VERSION_PAIRS="13:15 15:18 13:18"   the pairs to run
. "$(dirname "$0")/../lib/harness.sh"
PY=/usr/bin/python3
pairs=${CROSS_VERSION_PAIRS:-13:15 15:18 13:18}

for v in $(tr ' :' '\n\n' <<<"$pairs" | sort -u); do
  if ! pg_bin_for "$v" >/dev/null 2>&1; then
    if [ "${PGCUTOVER_CROSS_VERSION_OPTIONAL:-0}" = 1 ]; then
      echo "1..0 # SKIP PostgreSQL $v is not installed (scripts/install-pg-versions)"
      exit 0
    fi
    pg_bin_for "$v" >/dev/null   # says what is missing
  fi
done

# the same text on both sides whatever the server version's defaults
fingerprint() { PGTZ=UTC PGDATESTYLE=ISO db_fingerprint "$@"; }
mark=0
sync_mark() {  # a row after the last change, and wait until it is on the target
  mark=$((mark + 1))
  src_sql -c "INSERT INTO marks VALUES ($mark)"
  for _ in $(seq 1 300); do
    [ "$(tgt_sql -c "SELECT count(*) FROM marks WHERE id = $mark" 2>/dev/null)" = 1 ] && return 0
    kill -0 "$FOLLOWER" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

run_pair() {
  local sv=$1 tv=$2 p="$1->$2" t0=$SECONDS
  harness_start_versions "$sv" "$tv"
  assert_eq "$sv $tv" "$(src_sql -c "SHOW server_version_num" | cut -c1-2) $(tgt_sql -c "SHOW server_version_num" | cut -c1-2)" "$p: clusters of the two versions"

  "$PG_BIN/pgbench" -i -q -s 1 -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >/dev/null 2>&1
  src_sql <<'SQL'
ALTER TABLE pgbench_history REPLICA IDENTITY FULL;
CREATE TABLE ledger (id bigserial PRIMARY KEY, n int);
CREATE TABLE marks (id int PRIMARY KEY);
CREATE TABLE shapes (
  id int PRIMARY KEY, i int, b bigint, t text, by bytea, n numeric, f float8,
  j jsonb, a int[], ta text[], ts timestamptz, flag boolean);
INSERT INTO shapes
SELECT g, g * 7, g::bigint * 1000000007, 'text ' || g || E' with \'quote\' and \\ and tab\t',
       CASE g % 5 WHEN 0 THEN NULL WHEN 1 THEN '\x' ELSE decode(md5(g::text), 'hex') END,
       CASE g % 7 WHEN 0 THEN 'NaN'::numeric ELSE g / 3.0 END,
       CASE g % 11 WHEN 0 THEN 'NaN'::float8 WHEN 1 THEN '-Infinity' ELSE g / 7.0 END,
       jsonb_build_object('g', g, 'nested', jsonb_build_array(g, 'x', NULL, true), 'u', E'\u00e9t\u00e9'),
       ARRAY[g, NULL, -g], ARRAY['a' || g, NULL, 'with "quotes", commas'],
       timestamptz '2024-02-29 12:34:56.789+02' + g * interval '1 hour 1 second', g % 2 = 0
FROM generate_series(1, 300) g;
CREATE TABLE ck (a int, b text, v text, PRIMARY KEY (a, b));
INSERT INTO ck SELECT g % 20, 'k' || g, 'v' || g FROM generate_series(1, 200) g;
CREATE TABLE idt (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);
INSERT INTO idt (v) SELECT 'i' || g FROM generate_series(1, 50) g;
CREATE TABLE rif (a int, b text, c bytea, d numeric);
ALTER TABLE rif REPLICA IDENTITY FULL;
INSERT INTO rif SELECT g, 'r' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE '\xdeadbeef'::bytea END, g * 1.5 FROM generate_series(1, 100) g;
-- two rows that differ only in a NULL (the first one first on disk)
INSERT INTO rif VALUES (1000, 'dup', '\x01', 1);
INSERT INTO rif VALUES (1000, 'dup', NULL, 1);
SQL

  run_pgcutover ddl-capture install --source "$SRC_DSN"
  assert_eq 0 "$RC" "$p: ddl-capture install exits 0"
  run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
  assert_eq 0 "$RC" "$p: copy exits 0"
  [ "$RC" = 0 ] || echo "# $(tail -c 1500 <<<"$OUT$ERR")"
  assert_eq "$(fingerprint src)" "$(fingerprint tgt)" "$p: every table equal after the copy"

  follower_start
  # row changes of every shape while following
  src_sql <<'SQL'
INSERT INTO shapes VALUES
  (1001, -1, -9223372036854775808, '', '\x', 'NaN', 'NaN', '{}', '{}', '{}', '-infinity', NULL),
  (1002, NULL, NULL, NULL, NULL, NULL, NULL, 'null', NULL, NULL, NULL, NULL),
  (1003, 2147483647, 9223372036854775807, E'line\nbreak \u2603', '\x00ff5c27', 123456789012345678901234567890.123456789,
   1e-300, '{"deep": {"a": [1, 2.50, "\\u0000-free"]}, "n": 1.0e10}', '{1,2,3}', '{"x y", "NULL", ""}',
   'infinity', true);
UPDATE shapes SET by = '\xdeadbeef', t = t || ' updated', n = 'NaN' WHERE id % 10 = 3;
UPDATE shapes SET by = '\x' WHERE id % 10 = 4;
UPDATE shapes SET by = NULL, j = j || '{"changed": true}' WHERE id % 10 = 5;
UPDATE shapes SET a = a || 99, ta = array_append(ta, 'more'), ts = ts + interval '1 day' WHERE id % 10 = 6;
UPDATE shapes SET id = id + 5000 WHERE id % 50 = 7;
DELETE FROM shapes WHERE id % 10 = 8;
INSERT INTO ck VALUES (1, 'new key', 'added'), (99, '', 'empty text key');
UPDATE ck SET v = v || '!' WHERE a = 3;
UPDATE ck SET b = b || '-moved' WHERE a = 4;
DELETE FROM ck WHERE a = 5;
INSERT INTO idt (v) SELECT 'following ' || g FROM generate_series(1, 20) g;
UPDATE idt SET v = 'upd' WHERE id % 7 = 0;
DELETE FROM idt WHERE id % 9 = 0;
INSERT INTO rif VALUES (1, 'r1', '\xdeadbeef', 1.5), (NULL, NULL, NULL, NULL);
UPDATE rif SET b = b || '+', c = '\x' WHERE a % 4 = 0 AND a < 1000;
UPDATE rif SET c = '\x0102' WHERE a = 1;
DELETE FROM rif WHERE (a % 5 = 0 AND a < 1000) OR a IS NULL;
DELETE FROM rif WHERE a = 1000 AND c IS NULL;
SQL
  sync_mark || true
  assert_eq "$(fingerprint src)" "$(fingerprint tgt)" "$p: every table equal after row changes of every shape"
  assert_eq '\x01' "$(tgt_sql -c "SELECT coalesce(c::text, 'NULL') FROM rif WHERE a = 1000")" "$p: REPLICA IDENTITY FULL: the row that differs only by a NULL is the one deleted"
  assert_eq '\xdeadbeef|0' "$(tgt_sql -c "SELECT by, length('\x'::bytea) FROM shapes WHERE id = 13")" "$p: bytea arrives exact (not the text of its hex digits)"

  # DDL replayed in its place among the row changes
  src_sql -c "ALTER TABLE shapes ADD COLUMN extra text DEFAULT 'x'" \
          -c "UPDATE shapes SET extra = 'after ddl', by = '\xcafe' WHERE id = 1" \
          -c "CREATE TABLE later (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v bytea, n numeric)" \
          -c "INSERT INTO later (v, n) SELECT CASE WHEN g % 2 = 0 THEN '\x' ELSE '\xabcd' END::bytea, CASE WHEN g % 3 = 0 THEN 'NaN'::numeric ELSE g END FROM generate_series(1, 30) g"
  sync_mark || true
  assert_eq "text" "$(tgt_sql -c "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'shapes'::regclass AND attname = 'extra'")" "$p: ADD COLUMN replayed"
  assert_eq 30 "$(tgt_sql -c "SELECT count(*) FROM later" 2>/dev/null)" "$p: CREATE TABLE replayed and its rows arrive"
  assert_eq 1 "$(kill -0 "$FOLLOWER" 2>/dev/null && echo 1 || echo 0)" "$p: follow runs on after the DDL"

  # switchover under pgbench
  "$PG_BIN/pgbench" -n -c 2 -R 100 -T 8 -f "$(dirname "$0")/../sql/ledger.pgbench" -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app \
    >"$HARNESS_DIR/pgbench-$sv-$tv.log" 2>&1 &
  local bench=$!
  ( for g in $(seq 1 40); do
      src_sql -c "INSERT INTO later (v, n) VALUES ('\x0$((g % 10))', $g)" -c "UPDATE shapes SET i = i + 1 WHERE id = $g" >/dev/null 2>&1 || true
      sleep 0.05
    done ) &
  local writer=$!
  sleep 2
  run_pgcutover switchover --json --source "$SRC_DSN" --target "$TGT_DSN" --timeout 60
  assert_eq 0 "$RC" "$p: switchover under pgbench exits 0"
  [ "$RC" = 0 ] || echo "# $(tail -c 1500 <<<"$OUT$ERR")"
  [ "$RC" = 0 ] && echo "# $p: write downtime $("$PY" -c 'import json,sys; print(json.load(sys.stdin)["downtime_ms"])' <<<"$OUT" 2>/dev/null) ms"
  set +e; wait "$bench"; wait "$writer"; set -e
  [ "$RC" = 0 ] || kill -TERM "$FOLLOWER" 2>/dev/null || true
  set +e; wait "$FOLLOWER"; local frc=$?; set -e
  assert_eq 0 "$frc" "$p: the follower exits 0 after the switchover"
  assert_eq t "$(src_sql -c "SELECT count(*) > 50 FROM ledger")" "$p: pgbench really wrote during the test"

  run_pgcutover verify --source "$SRC_DSN" --target "$TGT_DSN"
  assert_eq 0 "$RC" "$p: verify exits 0"
  [ "$RC" = 0 ] || echo "# $(tail -c 1500 <<<"$OUT$ERR")"
  local fs ft
  fs=$(fingerprint src); ft=$(fingerprint tgt)
  assert_eq "$fs" "$ft" "$p: every table identical"
  [ "$fs" = "$ft" ] || { diff <(echo "$fs") <(echo "$ft") | sed "s/^/#   /" | head -20 || true; }
  assert_eq "$(db_sequences src)" "$(db_sequences tgt)" "$p: every sequence equal"
  assert_eq a "$(tgt_sql -c "SELECT attidentity FROM pg_attribute WHERE attrelid = 'idt'::regclass AND attname = 'id'")" "$p: identity column is GENERATED ALWAYS again"
  if tgt_sql -c "INSERT INTO idt (v) VALUES ('on the new primary')" -c "INSERT INTO ledger (n) VALUES (0)" >"$HARNESS_DIR/tgt-write.log" 2>&1; then
    pass "$p: the target takes writes, its identity and sequences work"
  else
    fail "$p: the target takes writes, its identity and sequences work" "$(head -c 400 "$HARNESS_DIR/tgt-write.log")"
  fi

  run_pgcutover cleanup --yes --source "$SRC_DSN" --target "$TGT_DSN"
  assert_eq 0 "$RC" "$p: cleanup exits 0"
  echo "# $p: $((SECONDS - t0)) s"
  cat "$HARNESS_DIR"/pgbench-*.log >>"$HARNESS_DIR/all-output.log" 2>/dev/null || true
  harness_stop
}

for pair in $pairs; do
  run_pair "${pair%%:*}" "${pair##*:}"
done

done_testing
