#!/usr/bin/env bash
# Scenario: a password the server asks for and the DSN lacks is asked for on
# the terminal, as psql does.  Both clusters want scram-sha-256 over TCP;
# the DSNs carry no password and PGPASSWORD/~/.pgpass give none.
#   - in a terminal (tmux): copy asks once per server ("Password for postgres
#     on 127.0.0.1:PORT (source): "), with echo off, and then copies: its
#     workers, replication session, snapshot keeper and pg_dump reuse the
#     password; it appears neither on the screen nor in any output;
#   - -w in a terminal, and without a terminal (stdin /dev/null): no
#     question, one line with the fix, exit 3.
. "$(dirname "$0")/../lib/harness.sh"
command -v tmux >/dev/null || { echo "1..0 # SKIP tmux is not installed"; exit 0; }
harness_start
src_sql -c "CREATE TABLE items (id int PRIMARY KEY, note text)" \
        -c "INSERT INTO items SELECT g, 'n' || g FROM generate_series(1, 5000) g"
SRC_NOPW="host=127.0.0.1 port=$SRC_PORT dbname=app user=postgres"
TGT_NOPW="host=127.0.0.1 port=$TGT_PORT dbname=app user=postgres"
export PGPASSFILE=$HARNESS_DIR/no-pgpass
unset PGPASSWORD

TMUX_SOCK="pgcutover-test-$$"
tmux_stop() { tmux -L "$TMUX_SOCK" kill-server 2>/dev/null || true; }
trap 'rc=$?; tmux_stop; (exit $rc); harness_cleanup' EXIT
pane() { tmux -L "$TMUX_SOCK" capture-pane -p -t pw -S -100; }
# wait_for TEXT SECONDS: until the pane shows TEXT
wait_for() {
  for _ in $(seq 1 $(($2 * 10))); do
    pane | grep -qF -- "$1" && return 0
    sleep 0.1
  done
  return 1
}
# in_terminal CMD: runs CMD in a new tmux session "pw" (stdout and stderr to
# $HARNESS_DIR/tty.out, exit code to tty.rc); the terminal shows only what
# pgcutover writes to /dev/tty
in_terminal() {
  rm -f "$HARNESS_DIR/tty.rc"
  tmux -L "$TMUX_SOCK" new-session -d -s pw -x 200 -y 40 \
    "env PGPASSFILE=$PGPASSFILE $1 >$HARNESS_DIR/tty.out 2>&1; echo \$? >$HARNESS_DIR/tty.rc; sleep 30"
}
wait_rc() {
  for _ in $(seq 1 $(($1 * 10))); do
    [ -s "$HARNESS_DIR/tty.rc" ] && { cat "$HARNESS_DIR/tty.rc"; return 0; }
    sleep 0.1
  done
  echo timeout
}

# --- in a terminal: asked once per server, then the copy runs ------------------
in_terminal "$PGCUTOVER copy --jobs 2 --source '$SRC_NOPW' --target '$TGT_NOPW'"
if wait_for "Password for postgres on 127.0.0.1:$SRC_PORT (source):" 10; then
  pass "copy asks for the source's password on the terminal"
else
  fail "copy asks for the source's password on the terminal" "pane: $(pane | sed '/^$/d' | tail -5)"
fi
tmux -L "$TMUX_SOCK" send-keys -t pw "$TEST_PASSWORD" Enter
if wait_for "Password for postgres on 127.0.0.1:$TGT_PORT (target):" 10; then
  pass "then for the target's (another server)"
else
  fail "then for the target's (another server)" "pane: $(pane | sed '/^$/d' | tail -5)"
fi
tmux -L "$TMUX_SOCK" send-keys -t pw "$TEST_PASSWORD" Enter
rc=$(wait_rc 60)
SCREEN=$(pane)
OUTPUT=$(cat "$HARNESS_DIR/tty.out")
cat "$HARNESS_DIR/tty.out" >> "$HARNESS_DIR/all-output.log"
echo "$SCREEN" >> "$HARNESS_DIR/all-output.log"
assert_eq 0 "$rc" "copy with typed passwords succeeds (exit 0)"
assert_eq 5000 "$(tgt_sql -c "SELECT count(*) FROM items" 2>/dev/null)" "the rows are on the target"
assert_eq 2 "$(grep -c "Password for" <<<"$SCREEN")" "asked twice in all: workers, replication, keeper and pg_dump reuse the passwords"
assert_not_contains "$SCREEN" "$TEST_PASSWORD" "the typed password is not echoed"
assert_not_contains "$OUTPUT" "$TEST_PASSWORD" "nor written to stdout or stderr"
assert_not_contains "$OUTPUT" "no password supplied" "no connection failed for want of it"
tmux_stop
run_pgcutover cleanup --yes --source "$SRC_DSN" --target "$TGT_DSN"

# --- -w in a terminal: never asks ---------------------------------------------------
in_terminal "$PGCUTOVER status -w --target '$TGT_NOPW'"
rc=$(wait_rc 20)
assert_eq 3 "$rc" "status -w in a terminal: exit 3"
assert_not_contains "$(pane)" "Password for" "status -w does not ask"
assert_contains "$(cat "$HARNESS_DIR/tty.out")" "no password supplied" "it says the password is missing"
tmux_stop

# --- no terminal: one line with the fix -----------------------------------------------
set +e
"$PGCUTOVER" status --target "$TGT_NOPW" </dev/null >"$HARNESS_DIR/o" 2>"$HARNESS_DIR/e"
RC=$?
set -e
ERR=$(cat "$HARNESS_DIR/e"); cat "$HARNESS_DIR/o" "$HARNESS_DIR/e" >> "$HARNESS_DIR/all-output.log"
assert_eq 3 "$RC" "without a terminal: exit 3"
assert_eq 1 "$(grep -c . <<<"$ERR")" "one line"
assert_contains "$ERR" "fix: give a password in the target DSN (password=...), PGPASSWORD or ~/.pgpass" "it names the fix"
assert_not_contains "$ERR" "Password for" "no question without a terminal"

done_testing
