#!/usr/bin/env bash
# Scenario: a table's indexes and keys are built as soon as its own data is
# in, while other tables still copy (not after all the data), and a table
# copied in CTID ranges only once its last range is in.  Asserted on the
# order of the state's own timestamps (copy_job.finished_at,
# post_step.started_at), not on durations.  An index build that fails
# stops the data workers too, and the rerun completes.
. "$(dirname "$0")/../lib/harness.sh"
harness_start

# one table that takes seconds under --max-rate, three that take none
src_sql >/dev/null <<'SQL'
CREATE TABLE big (id int PRIMARY KEY, v text);
CREATE INDEX big_v ON big (v);
INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 400000) g;
CREATE TABLE "Small One" (id int PRIMARY KEY, v text);
CREATE TABLE small2 (id int, v text, CONSTRAINT small2_id UNIQUE (id));
ALTER TABLE small2 REPLICA IDENTITY FULL;
CREATE TABLE small3 (id int PRIMARY KEY);
CREATE INDEX small3_id_expr ON small3 ((id + 1));
-- fails to build wherever app.fail_index is set (the target database of case 3)
CREATE FUNCTION fails_if_set(i int) RETURNS int LANGUAGE sql IMMUTABLE
  AS $$ SELECT CASE WHEN coalesce(current_setting('app.fail_index', true), '') = '' THEN i ELSE i / 0 END $$;
CREATE INDEX small3_checked ON small3 (fails_if_set(id));
INSERT INTO "Small One" SELECT g, g::text FROM generate_series(1, 10) g;
INSERT INTO small2 SELECT g, g::text FROM generate_series(1, 10) g;
INSERT INTO small3 SELECT g FROM generate_series(1, 10) g;
ANALYZE;
SQL
snapshot_fp=$(db_fingerprint src)

# every stage-1 step with its table, when it started and when the table's last job ended
steps_sql="
SELECT c.relname, s.name, s.started_at >= (SELECT max(finished_at) FROM pgcutover.copy_job j WHERE j.relname = c.relname),
       s.started_at < (SELECT max(finished_at) FROM pgcutover.copy_job j WHERE j.relname = 'big')
FROM pgcutover.post_step s, pg_catalog.pg_index x, pg_catalog.pg_class i, pg_catalog.pg_class c
WHERE s.stage = 1 AND i.oid = x.indexrelid AND c.oid = x.indrelid
  AND (s.name = i.relname OR s.name = c.relname || ' ' || i.relname)  -- INDEX, CONSTRAINT
ORDER BY 1, 2"

# 1. whole tables, two workers: big on one, the small ones on the other
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN" --jobs 2 --index-jobs 2 --max-rate 100000
assert_eq 0 "$RC" "copy exits 0"
assert_contains "$ERR" "indexes and keys: 7 step(s) on up to 2 connection(s), 7 of them as soon as their table's data is in" "every step is matched to its table"
assert_eq "$snapshot_fp" "$(db_fingerprint tgt)" "the target equals the source"
steps=$(tgt_sql -c "$steps_sql")
echo "$steps" | sed 's/^/# /'
assert_eq 7 "$(echo "$steps" | wc -l)" "seven stage-1 steps found with their tables"
assert_eq "" "$(echo "$steps" | awk -F'|' '$(NF-1) != "t" {print}')" "every index build starts after its table's data is in"
assert_eq "" "$(echo "$steps" | awk -F'|' '$1 != "big" && $NF != "t" {print}')" "the small tables' indexes start before the last table's data is in"
assert_eq "" "$(echo "$steps" | awk -F'|' '$1 == "big" && $NF != "f" {print}')" "big's own indexes start after its data"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM pg_index WHERE NOT indisvalid")" "every index is valid"

# 2. big in CTID ranges on both workers: its indexes wait for the last range
cluster_sql tgt -c "CREATE DATABASE app2"
TGT2="host=127.0.0.1 port=$TGT_PORT dbname=app2 user=postgres password=$TEST_PASSWORD"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT2" --slot ranges --jobs 2 --index-jobs 2 \
  --split-threshold 5MB --max-rate 100000
assert_eq 0 "$RC" "copy in ranges exits 0"
assert_eq "$snapshot_fp" "$(db_fingerprint tgt app2)" "the target equals the source (ranges)"
parts=$(DB=app2 cluster_sql tgt -c "SELECT count(*) FROM pgcutover.copy_job WHERE relname = 'big'")
if [ "$parts" -ge 3 ]; then pass "big is copied in $parts ranges"; else fail "big is copied in $parts ranges, expected >= 3"; fi
steps=$(DB=app2 cluster_sql tgt -c "$steps_sql")
echo "$steps" | sed 's/^/# /'
assert_eq "" "$(echo "$steps" | awk -F'|' '$(NF-1) != "t" {print}')" "ranges: every index build starts after the last range of its table is in"
assert_eq 0 "$(DB=app2 cluster_sql tgt -c "SELECT count(*) FROM pg_index WHERE NOT indisvalid")" "ranges: every index is valid"

# 3. an index build fails while big still copies: the copy stops at once, the rerun completes
cluster_sql tgt -c "CREATE DATABASE app3" -c "ALTER DATABASE app3 SET app.fail_index = 'on'"
TGT3="host=127.0.0.1 port=$TGT_PORT dbname=app3 user=postgres password=$TEST_PASSWORD"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT3" --slot fails --jobs 2 --index-jobs 2 --max-rate 100000
assert_eq 11 "$RC" "a failed index build: SQL exit code"
assert_contains "$ERR" 'post-data step INDEX "small3_checked" failed on the target' "names the step that failed"
assert_eq 0 "$(DB=app3 cluster_sql tgt -c "SELECT count(*) FROM pgcutover.copy_job WHERE relname = 'big' AND status = 'done'")" \
  "the data workers stopped too (big was not copied on to the end)"
cluster_sql tgt -c "ALTER DATABASE app3 RESET app.fail_index"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT3" --slot fails --jobs 2 --index-jobs 2
assert_eq 0 "$RC" "rerun after fixing the cause exits 0"
assert_eq "$snapshot_fp" "$(db_fingerprint tgt app3)" "after the rerun the target equals the source"
assert_eq 0 "$(DB=app3 cluster_sql tgt -c "SELECT count(*) FROM pg_index WHERE NOT indisvalid")" "after the rerun every index is valid"

done_testing
