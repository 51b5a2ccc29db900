#!/usr/bin/env bash
# Scenario: the data workers cannot be started (the limit on processes and
# threads, RLIMIT_NPROC, is reached).  The copy must end at once with one
# clear error instead of waiting forever for workers that never ran, and a
# rerun without the limit completes with the target equal to the source.
#
# pgcutover runs as the postgres OS user here (root ignores RLIMIT_NPROC),
# and the limit is put on the pgcutover process alone (prlimit), so the
# servers, which run as that user too, keep forking their backends.  The
# limited run is a resume in the data phase, which forks nothing (no pg_dump,
# no snapshot keeper): the first thread it creates is a worker.
. "$(dirname "$0")/../lib/harness.sh"
harness_start

BINARY=$PGCUTOVER
# the postgres user cannot use root's runtime directory for the keeper's socket
as_postgres() { as_pg env -u XDG_RUNTIME_DIR "$@"; }
pgcutover_as_postgres() { as_postgres "$BINARY" "$@"; }
pgcutover_threadless() {
  # LeakSanitizer needs a thread of its own at exit: not in this run
  as_postgres ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    timeout -k 5 60 prlimit --nproc=1:1 "$BINARY" "$@"
}

src_sql >/dev/null <<'SQL'
CREATE TABLE items (id int PRIMARY KEY, name text);
INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 20000) g;
CREATE INDEX items_name ON items (name);
CREATE TABLE capped (id int PRIMARY KEY,
  CHECK (coalesce(current_setting('app.max_id', true), '') = '' OR id <= current_setting('app.max_id', true)::int));
INSERT INTO capped SELECT g FROM generate_series(1, 100) g;
SQL
snapshot_fp=$(db_fingerprint src)

# 1. stop the copy in its data phase: a job the target refuses
tgt_sql -c "ALTER DATABASE app SET app.max_id = '50'"
PGCUTOVER=pgcutover_as_postgres run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN" --jobs 2
assert_eq 11 "$RC" "setup: the copy stops in the data phase"
assert_eq copy_data "$(tgt_sql -c "SELECT phase FROM pgcutover.migration")" "setup: phase copy_data"
tgt_sql -c "ALTER DATABASE app RESET app.max_id"

# 2. resume with no thread to spare: ends, says why, keeps the state
t0=$(date +%s)
PGCUTOVER=pgcutover_threadless run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN" --jobs 4
if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then fail "no worker thread: the copy ends (it hung until timeout)"; else pass "no worker thread: the copy ends ($(( $(date +%s) - t0 )) s)"; fi
assert_eq 1 "$RC" "no worker thread: internal (OS failure) exit code"
assert_contains "$ERR" "cannot start any of" "no worker thread: says the threads could not start"
assert_contains "$ERR" "ulimit -u" "no worker thread: names the fix"
assert_eq 1 "$(grep -c 'cannot start any of' <<<"$ERR")" "no worker thread: one error line"
assert_eq copy_data "$(tgt_sql -c "SELECT phase FROM pgcutover.migration")" "no worker thread: still in the data phase"

# 3. without the limit the copy resumes and completes
PGCUTOVER=pgcutover_as_postgres run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN" --jobs 4
assert_eq 0 "$RC" "rerun without the limit exits 0"
assert_contains "$OUT" "(resumed)" "rerun resumed"
assert_eq "$snapshot_fp" "$(db_fingerprint tgt)" "the target equals the source"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM pg_index WHERE NOT indisvalid")" "every index is valid"

done_testing
