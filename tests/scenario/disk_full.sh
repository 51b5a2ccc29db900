#!/usr/bin/env bash
# Scenario: the target's disk fills up.  The target database lives in a
# tablespace on a small tmpfs; a filler file takes most of it.  copy, then
# follow, hit "No space left on device": each must stop with one clear error
# line naming the cause and the fix, exit 11 (a statement failed on the
# target), leave nothing half-done; after the filler is removed, a rerun
# resumes and the target ends identical to the source.
# Needs to mount a tmpfs (root with CAP_SYS_ADMIN); otherwise skipped.
PROBE=$(mktemp -d "${TMPDIR:-/tmp}/pgcutover-mnt.XXXXXX")
if [ "$(id -u)" -ne 0 ] || ! mount -t tmpfs -o size=1m tmpfs "$PROBE" 2>/dev/null; then
  rmdir "$PROBE"
  echo "1..0 # SKIP cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN; uid $(id -u))"
  exit 0
fi
umount "$PROBE"; rmdir "$PROBE"

. "$(dirname "$0")/../lib/harness.sh"
SMALL="$HARNESS_DIR/small"
# on every exit path: stop the target (it has files on the tmpfs), unmount, then the harness' cleanup
disk_cleanup() {
  local rc=$?
  if mountpoint -q "$SMALL" 2>/dev/null; then
    as_pg "$PG_BIN/pg_ctl" -D "$HARNESS_DIR/tgt/data" -m immediate stop >/dev/null 2>&1 || true
    umount "$SMALL" 2>/dev/null || umount -l "$SMALL" 2>/dev/null || true
  fi
  (exit "$rc")
  harness_cleanup
}
trap disk_cleanup EXIT
harness_start

mkdir -p "$SMALL"
mount -t tmpfs -o size=96m,mode=0755 tmpfs "$SMALL"
mkdir "$SMALL/ts"
chown postgres "$SMALL/ts"
cluster_sql tgt -c "CREATE TABLESPACE small LOCATION '$SMALL/ts'" -c "ALTER DATABASE app SET TABLESPACE small"
fill() {  # fill MB_TO_LEAVE_FREE: the filler file takes the rest
  rm -f "$SMALL/filler"
  local free_mb
  free_mb=$(df -m --output=avail "$SMALL" | tail -n 1 | tr -d ' ')
  [ "$free_mb" -le "$1" ] || dd if=/dev/zero of="$SMALL/filler" bs=1M count=$((free_mb - $1)) status=none
  echo "# target tablespace: $(df -h --output=avail "$SMALL" | tail -n 1 | tr -d ' ') free"
}

"$PG_BIN/pgbench" -i -q -s 2 -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >/dev/null 2>&1
src_sql -c "ALTER TABLE pgbench_history REPLICA IDENTITY FULL"
snapshot_fp=$(db_fingerprint src)

# --- copy into a disk that is too small --------------------------------------
fill 12
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN" --jobs 2
assert_eq 11 "$RC" "copy on a full disk: exit 11"
errors=$(grep 'error:' <<<"$ERR" || true)
echo "$errors" | sed 's/^/#   /'
assert_contains "$errors" "No space left on device" "copy names the cause"
assert_contains "$errors" "fix: free disk space on the target" "copy names the fix"
assert_contains "$errors" "rerun" "copy says a rerun resumes"
assert_eq 1 "$(grep -c 'No space left' <<<"$errors")" "copy says it once, not once per job"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM pg_index WHERE NOT indisvalid")" "no invalid index left behind"
partial=$(tgt_sql -c "SELECT count(*) FILTER (WHERE status = 'done') || ' of ' || count(*) FROM pgcutover.copy_job")
echo "# copy jobs done before the disk was full: $partial"
rm -f "$SMALL/filler"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN" --jobs 2
assert_eq 0 "$RC" "copy rerun after freeing space exits 0"
assert_contains "$ERR" "resuming" "the rerun resumed"
assert_eq "$snapshot_fp" "$(db_fingerprint tgt)" "after the resume the target equals the snapshot"

# --- follow into a full disk ------------------------------------------------
run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
assert_eq 0 "$RC" "follow with room to spare exits 0"
tgt_before=$(db_fingerprint tgt)   # (its sort needs temporary files on that disk)
fill 2
# one source transaction of ~15 MB on the target
src_sql -c "BEGIN" -c "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid <= 100000" \
        -c "INSERT INTO pgbench_history (tid, bid, aid, delta) SELECT 1, 1, g, 1 FROM generate_series(1, 20000) g" -c "COMMIT"
applied_before=$(tgt_sql -c "SELECT applied_lsn FROM pgcutover.apply_progress")
run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
assert_eq 11 "$RC" "follow on a full disk: exit 11"
errors=$(grep 'error:' <<<"$ERR" || true)
echo "$errors" | sed 's/^/#   /'
assert_contains "$errors" "No space left on device" "follow names the cause"
assert_contains "$errors" "fix: free disk space on the target" "follow names the fix"
assert_eq 1 "$(grep -c 'error:' <<<"$errors")" "follow: one error line"
assert_eq "$applied_before" "$(tgt_sql -c "SELECT applied_lsn FROM pgcutover.apply_progress")" "follow: the big transaction was not applied partially (position unchanged)"
rm -f "$SMALL/filler"
assert_eq "$tgt_before" "$(db_fingerprint tgt)" "follow: the target is unchanged"
run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
assert_eq 0 "$RC" "follow rerun after freeing space exits 0"
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "the target ends identical to the source"

done_testing
