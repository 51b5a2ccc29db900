#!/usr/bin/env bash
# Scenario: the copy's table filters survive reconnects unchanged.  The copy
# takes only public.kept (--include-table); follow loads that filter once
# and must neither lose it (changes to public.left_out, absent on the
# target, would stop follow with a missing table) nor pile it up again on
# each reconnect (it used to be appended to the options every time).  The
# walsender is terminated three times while both tables are written.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
FOLLOW_ERR="$HARNESS_DIR/follow.err"

src_sql -c "CREATE TABLE kept (id int PRIMARY KEY, v int)" \
        -c "CREATE TABLE left_out (id int PRIMARY KEY, v int)"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN" --include-table public.kept
assert_eq 0 "$RC" "copy --include-table public.kept exits 0"
assert_eq "" "$(tgt_sql -c "SELECT to_regclass('public.left_out')")" "the excluded table is not on the target"

"$PGCUTOVER" follow -v --source "$SRC_DSN" --target "$TGT_DSN" >"$HARNESS_DIR/follow.out" 2>"$FOLLOW_ERR" &
follower=$!

# wait_count N TEXT SECONDS: until TEXT appears N times in follow's log
wait_count() {
  local i
  for i in $(seq 1 $(($3 * 10))); do
    [ "$(grep -cF -- "$2" "$FOLLOW_ERR")" -ge "$1" ] && return 0
    sleep 0.1
  done
  return 1
}
wait_count 1 "streaming slot" 30 || true

for round in 1 2 3; do
  src_sql -c "INSERT INTO kept SELECT g, $round FROM generate_series($round * 1000, $round * 1000 + 99) g" \
          -c "INSERT INTO left_out SELECT g, $round FROM generate_series($round * 1000, $round * 1000 + 99) g" >/dev/null
  sleep 0.5
  src_sql -c "SELECT count(pg_terminate_backend(active_pid)) FROM pg_replication_slots WHERE active" >/dev/null
  wait_count "$round" "reconnected" 40 || true
done
src_sql -c "UPDATE kept SET v = v + 10" -c "DELETE FROM left_out" >/dev/null

run_pgcutover status --source "$SRC_DSN" --target "$TGT_DSN" --wait-lag 0 --timeout 60
assert_eq 0 "$RC" "follow caught up after three reconnects"
# status reads the follower's row, published once a second: wait for the rows too
for _ in $(seq 1 300); do
  [ "$(src_sql -c "SELECT count(*), sum(v) FROM kept")" = "$(tgt_sql -c "SELECT count(*), sum(v) FROM kept")" ] && break
  sleep 0.1
done
assert_eq yes "$(kill -0 "$follower" 2>/dev/null && echo yes || echo no)" "the same follower is still running (left_out stayed filtered)"
assert_eq 3 "$(grep -cF "reconnected" "$FOLLOW_ERR")" "follow reconnected three times"

filters=$(grep -F "table filters:" "$FOLLOW_ERR" | sed 's/.*table filters: //' | sort | uniq -c)
n=$(grep -cF "table filters:" "$FOLLOW_ERR")
[ "$n" -ge 4 ] && pass "the filters were reported at the start and at each reconnect ($n)" \
  || fail "the filters were reported at the start and at each reconnect" "$n times"
assert_eq 1 "$(wc -l <<<"$filters")" "the filter counts never changed across reconnects ($filters)"
assert_contains "$filters" "1 included table(s)" "one included table, as the copy had"
assert_eq "$(src_sql -c "SELECT count(*), sum(v) FROM kept")" "$(tgt_sql -c "SELECT count(*), sum(v) FROM kept")" "kept is equal on both sides"
assert_not_contains "$(cat "$FOLLOW_ERR")" "does not exist on the target" "no change of left_out reached apply"

kill -TERM "$follower"; set +e; wait "$follower"; rc=$?; set -e
cat "$HARNESS_DIR/follow.out" "$FOLLOW_ERR" >>"$HARNESS_DIR/all-output.log"
assert_eq 0 "$rc" "the follower stops cleanly on SIGTERM"

done_testing
