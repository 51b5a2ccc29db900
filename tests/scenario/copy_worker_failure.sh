#!/usr/bin/env bash
# Scenario: one data worker fails (a row the target refuses) while another is
# in the middle of a large table.  The other worker notices and stops, the
# copy exits with the SQL exit code, and a rerun after fixing the cause
# completes.  Under ThreadSanitizer (scripts/test) this is the run that
# exercises the shared failure flag: a worker's failure written while the
# others poll it.
. "$(dirname "$0")/../lib/harness.sh"
harness_start

# "capped" is accepted on the source (the setting is unset there) and refused
# on the target once app.max_id is set there: its job fails after many rows.
src_sql >/dev/null <<'SQL'
CREATE TABLE bulk (id int PRIMARY KEY, filler text);
INSERT INTO bulk SELECT g, repeat('x', 100) FROM generate_series(1, 600000) g;
CREATE TABLE capped (id int PRIMARY KEY,
  CHECK (coalesce(current_setting('app.max_id', true), '') = '' OR id <= current_setting('app.max_id', true)::int));
INSERT INTO capped SELECT g FROM generate_series(1, 200000) g;
SQL
snapshot_fp=$(db_fingerprint src)
tgt_sql -c "ALTER DATABASE app SET app.max_id = '150000'"

run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN" --jobs 2 --split-threshold 1GB
assert_eq 11 "$RC" "a job the target refuses: SQL exit code"
assert_contains "$ERR" "COPY into public.capped on the target failed" "names the table that failed"
assert_contains "$ERR" "rerun 'pgcutover copy': it resumes" "names the fix"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM pgcutover.copy_job WHERE relname = 'capped' AND status = 'done'")" "the failed job is not marked done"

tgt_sql -c "ALTER DATABASE app RESET app.max_id"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN" --jobs 2 --split-threshold 1GB
assert_eq 0 "$RC" "rerun after fixing the cause exits 0"
assert_eq "$snapshot_fp" "$(db_fingerprint tgt)" "after the rerun the target equals the source"

done_testing
