#!/usr/bin/env bash
# Scenario: --index-jobs above 64 is honoured (it used to be capped at 64
# without a word), bounded by the number of steps in a stage.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
# a target that accepts more than 70 connections at once
cluster_start big "max_connections = 120"
cluster_sql big -c "CREATE DATABASE app"
BIG_DSN="host=127.0.0.1 port=$(cluster_port big) dbname=app user=postgres password=$TEST_PASSWORD"

# 70 tables with a primary key: 70 steps in post-data stage 1
src_sql >/dev/null <<'SQL'
DO $$
BEGIN
  FOR i IN 1..70 LOOP
    EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, v text)', i);
    EXECUTE format('INSERT INTO t%s SELECT g, g::text FROM generate_series(1, 50) g', i);
  END LOOP;
END $$;
SQL
snapshot_fp=$(db_fingerprint src)

run_pgcutover copy --source "$SRC_DSN" --target "$BIG_DSN" --jobs 2 --index-jobs 100
assert_eq 0 "$RC" "copy with --index-jobs 100 exits 0"
assert_contains "$ERR" "post-data stage 1: 70 step(s), 70 connection(s)" "--index-jobs 100: one connection per step of the stage (not capped at 64)"
assert_eq "$snapshot_fp" "$(db_fingerprint big)" "the target equals the source"
assert_eq 70 "$(DB=app cluster_sql big -c "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND i.indisprimary AND i.indisvalid")" "every primary key is built and valid"

done_testing
