#!/usr/bin/env bash
# Scenario: `status --watch=1` in a real terminal (a tmux pane, 160x40) while
# a follower applies a write loop: the clock header (time, slot, state), the
# lag history as a sparkline (Unicode bars in a UTF-8 locale, ASCII in C) and
# human units.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
export TMUX_TMPDIR="$HARNESS_DIR"   # a tmux server of our own, gone with the test dir
SESSION="pgcutover-watch-$$"
tmux_done() { tmux kill-server 2>/dev/null || true; }
trap 'tmux_done; harness_cleanup' EXIT

src_sql -c "CREATE TABLE t (id bigserial PRIMARY KEY, v text)"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
follower_start
( for _ in $(seq 1 100); do src_sql -c "INSERT INTO t (v) SELECT md5(g::text) FROM generate_series(1, 50) g" >/dev/null; sleep 0.05; done ) &
writer=$!

# watch_pane LANG: runs status --watch=1 in a new pane with that locale, prints the pane after a few readings
watch_pane() {
  local lang=$1
  tmux new-session -d -s "$SESSION" -x 160 -y 40 \
    "env LANG=$lang LC_ALL= LC_CTYPE= '$PGCUTOVER' status --watch=1 --source '$SRC_DSN' --target '$TGT_DSN'; sleep 30"
  for _ in $(seq 1 40); do
    tmux capture-pane -p -t "$SESSION" | grep -q "lag history .*last [0-9]" && \
      [ "$(tgt_sql -c "SELECT count(*) >= 4 FROM pgcutover.lag_history")" = t ] && break
    sleep 0.25
  done
  sleep 1.2   # one more reading with the newest history
  tmux capture-pane -p -t "$SESSION"
  tmux kill-session -t "$SESSION"
}

pane=$(watch_pane C.UTF-8)
echo "$pane" | sed 's/^/# /'
assert_eq 1 "$(grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [A-Z]+ +slot pgcutover +following +\(every 1\.0 s' <<<"$pane")" \
  "clock header: date and time, slot, state, interval"
assert_eq 1 "$(grep -cE '^lag history +[▁▂▃▄▅▆▇█]{3,} +last [0-9.]+ (ms|s|min)' <<<"$pane")" "a sparkline of Unicode bars in a UTF-8 locale"
assert_eq 1 "$(grep -cE '^lag +[0-9.]+ (B|kB|MB), [0-9.]+ (ms|s)$|^lag +[0-9.]+ (B|kB|MB), unknown$' <<<"$pane")" "lag in human units (bytes and a duration)"
assert_eq 1 "$(grep -cE '^slot on source .* retains [0-9.]+ (B|kB|MB|GB) of WAL' <<<"$pane")" "retained WAL in human units"
assert_eq 1 "$(grep -cE '^catch-up +(caught up|catching up|unknown)' <<<"$pane")" "the catch-up line"
assert_not_contains "$pane" " bytes," "no raw byte counts"

pane=$(watch_pane C)
echo "$pane" | sed 's/^/# /'
assert_eq 1 "$(grep -cE '^lag history +[_.~=+*#-]{3,} +last ' <<<"$pane")" "ASCII bars in the C locale"
assert_not_contains "$pane" "▁" "no Unicode bars in the C locale"
wait "$writer"

done_testing
