#!/usr/bin/env bash
# Scenario: follow --apply-jobs 4 applies a backlog written by clients
# whose transactions meet in every way parallel apply must order: hot rows
# (pgbench_branches at scale 1), keys that change, keys deleted and made
# again, a second unique column whose values move between rows, a key-less
# table appended to and one deleted from, a TRUNCATE and a DDL.  Each one
# applied out of order would leave a different row or stop on a unique
# violation.  At the end every table equals the source's, and the run says
# it used four sessions and ordered ranges where they met.
. "$(dirname "$0")/../lib/harness.sh"
harness_start

"$PG_BIN/pgbench" -i -q -s 1 -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >/dev/null 2>&1
src_sql -c "ALTER TABLE pgbench_history REPLICA IDENTITY FULL" \
        -c "CREATE TABLE kv (k int PRIMARY KEY, v int)" \
        -c "INSERT INTO kv SELECT g, 0 FROM generate_series(1, 50) g" \
        -c "CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL UNIQUE)" \
        -c "INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 3) g" \
        -c "CREATE TABLE journal (n bigint, note text)" \
        -c "ALTER TABLE journal REPLICA IDENTITY FULL" \
        -c "CREATE TABLE scratch (id int PRIMARY KEY, v text)"
run_pgcutover ddl-capture install --source "$SRC_DSN"
assert_eq 0 "$RC" "ddl-capture install exits 0"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"
# the slot holds everything from here on: a backlog for follow
cat > "$HARNESS_DIR/hot.sql" <<'SQL'
\set aid random(1, 200)
\set delta random(-5000, 5000)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
UPDATE pgbench_branches SET bbalance = bbalance + :delta WHERE bid = 1;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, :aid, :delta, now());
INSERT INTO journal VALUES (:aid, 'tx ' || :delta);
COMMIT;
SQL
cat > "$HARNESS_DIR/cold.sql" <<'SQL'
\set aid random(1000, 100000)
UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = :aid;
SQL
"$PG_BIN/pgbench" -n -c 3 -t 1500 -f "$HARNESS_DIR/hot.sql" -f "$HARNESS_DIR/cold.sql@3" \
  -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >"$HARNESS_DIR/pgbench.log" 2>&1 &
bench=$!
# one session's transactions in a strict order, each its own transaction:
# a key moves away and back, a key is deleted and made again, the unique
# emails rotate between three rows through a free value, the journal is
# thinned
src_sql -c "DO \$\$
DECLARE ea text; eb text;
BEGIN
  FOR i IN 1..400 LOOP
    UPDATE kv SET k = k + 1000, v = i WHERE k = 1 + i % 50;
    COMMIT;
    UPDATE kv SET k = k - 1000, v = v + 1 WHERE k = 1001 + i % 50;
    COMMIT;
    DELETE FROM kv WHERE k = 1 + (i * 7) % 50;
    COMMIT;
    INSERT INTO kv VALUES (1 + (i * 7) % 50, -i);
    COMMIT;
    SELECT email INTO ea FROM users WHERE id = 1 + i % 3;
    SELECT email INTO eb FROM users WHERE id = 1 + (i + 1) % 3;
    UPDATE users SET email = 'free' WHERE id = 1 + i % 3;
    COMMIT;
    UPDATE users SET email = ea WHERE id = 1 + (i + 1) % 3;
    COMMIT;
    UPDATE users SET email = eb WHERE id = 1 + i % 3;
    COMMIT;
    IF i % 100 = 0 THEN
      DELETE FROM journal WHERE n % 7 = i % 7;
      COMMIT;
    END IF;
  END LOOP;
END \$\$"
set +e; wait "$bench"; bench_rc=$?; set -e
assert_eq 0 "$bench_rc" "pgbench ran without errors"
# a TRUNCATE and a DDL in the middle of more writes
src_sql -c "INSERT INTO scratch SELECT g, 'a' FROM generate_series(1, 500) g" \
        -c "TRUNCATE scratch" \
        -c "INSERT INTO scratch SELECT g, 'b' FROM generate_series(1, 300) g" \
        -c "ALTER TABLE scratch ADD COLUMN w int DEFAULT 7" \
        -c "UPDATE scratch SET w = id WHERE id % 2 = 0"
"$PG_BIN/pgbench" -n -c 2 -t 300 -f "$HARNESS_DIR/hot.sql" \
  -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >>"$HARNESS_DIR/pgbench.log" 2>&1

run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up --apply-jobs 4 --json
assert_eq 0 "$RC" "follow --apply-jobs 4 --until-caught-up exits 0"
assert_eq 4 "$(printf '%s' "$OUT" | jq -r '.apply_jobs')" "four sessions applied"
conflicts=$(printf '%s' "$OUT" | jq -r '.apply_conflicts')
assert_eq t "$([ "$conflicts" -gt 0 ] && echo t || echo f)" "ranges that met were ordered ($conflicts early commits)"
groups=$(printf '%s' "$OUT" | jq -r '.groups')
assert_eq t "$([ "$groups" -gt "$conflicts" ] && echo t || echo f)" "most ranges ran beside others ($groups ranges, $conflicts met an older one)"
assert_eq "$(src_sql -c "SELECT count(*) FROM journal")" "$(tgt_sql -c "SELECT count(*) FROM journal")" "the key-less journal has the source's rows"
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "every table identical after parallel apply"

done_testing
