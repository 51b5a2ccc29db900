#!/usr/bin/env bash
# Scenario: copy, follow (with heartbeats, NaN re-reads, batching), verify,
# status, switchover and cleanup under valgrind memcheck: no memory error and
# no leak definitely lost.  (Skipped in the ASan build: they do not mix.)
. "$(dirname "$0")/../lib/harness.sh"
if [[ "$(ldd "$PGCUTOVER")" == *libasan* ]] || ! command -v valgrind >/dev/null; then
  pass "# SKIP sanitizer build or no valgrind"
  TESTS_RUN=1
  done_testing
  exit 0
fi
harness_start
VG=(valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 -q)
vg() {  # vg NAME ARGS...: runs pgcutover under memcheck, records the verdict
  local name=$1; shift
  set +e
  "${VG[@]}" "$PGCUTOVER" "$@" >"$HARNESS_DIR/vg.out" 2>"$HARNESS_DIR/vg.err"
  local rc=$?
  set -e
  cat "$HARNESS_DIR/vg.out" "$HARNESS_DIR/vg.err" >> "$HARNESS_DIR/all-output.log"
  if [ "$rc" = 99 ] || grep -q "^==[0-9]*==" "$HARNESS_DIR/vg.err"; then
    fail "$name: clean under memcheck" "$(grep "^==" "$HARNESS_DIR/vg.err" | head -5)"
  else
    pass "$name: clean under memcheck (exit $rc)"
  fi
}

src_sql -f "$(dirname "$0")/../sql/shapes.sql" >/dev/null
vg check check --source "$SRC_DSN" --target "$TGT_DSN"
vg copy copy --quiet --source "$SRC_DSN" --target "$TGT_DSN"
src_sql -f "$(dirname "$0")/../sql/changes.sql" >/dev/null
vg follow follow --quiet --heartbeat-interval 0.2 --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
vg verify verify --source "$SRC_DSN" --target "$TGT_DSN"
vg status status --source "$SRC_DSN" --target "$TGT_DSN"
"$PGCUTOVER" follow --source "$SRC_DSN" --target "$TGT_DSN" >>"$HARNESS_DIR/all-output.log" 2>&1 &
follower=$!
sleep 1
vg switchover switchover --source "$SRC_DSN" --target "$TGT_DSN" --skip-verify
set +e; wait "$follower"; set -e
vg cleanup cleanup --yes --source "$SRC_DSN" --target "$TGT_DSN"
done_testing
