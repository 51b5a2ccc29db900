#!/usr/bin/env bash
# Scenario: the lag history (pgcutover.lag_history, a point a second from the
# follower, pruned to the hour) and the catch-up estimate in `status --json`
# and in plain `status`: under a write loop the target is caught up with both
# rates measured; a synthetic history (a live "follower" holding its lock)
# gives catching_up with its ETA, then falling_behind.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
jqr() { jq -r "$1" <<<"$OUT"; }

src_sql -c "CREATE TABLE t (id bigserial PRIMARY KEY, v text)"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"

follower_start
# a write loop: about 100 transactions a second for the test's duration
( for _ in $(seq 1 150); do src_sql -c "INSERT INTO t (v) SELECT md5(g::text) FROM generate_series(1, 20) g" >/dev/null; sleep 0.05; done ) &
writer=$!
for _ in $(seq 1 60); do
  [ "$(tgt_sql -c "SELECT count(*) >= 7 FROM pgcutover.lag_history")" = t ] && break
  sleep 0.25
done
run_pgcutover status --json --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "status exits 0 while following"
assert_eq true "$(jqr '.lag_history.samples >= 7 and (.lag_history.lag_seconds | length) == .lag_history.samples and (.lag_history.lag_bytes | length) == .lag_history.samples')" \
  "status --json: lag_history has a step per second so far, seconds and bytes"
assert_eq true "$(jqr '(.lag_history.from | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T.*Z$")) and .lag_history.to >= .lag_history.from')" "lag_history: RFC 3339 from/to"
assert_eq caught_up "$(jqr .catch_up.state)" "under a write loop the follower keeps up: catch_up.state caught_up"
assert_eq true "$(jqr '.catch_up.apply_bytes_per_sec > 0 and .catch_up.source_wal_bytes_per_sec > 0 and .catch_up.window_seconds >= 5')" \
  "catch_up: apply and source WAL rates measured over the window"
assert_eq 0 "$(jqr .catch_up.eta_seconds)" "caught up: ETA 0"
run_pgcutover status --source "$SRC_DSN" --target "$TGT_DSN"
assert_contains "$OUT" "catch-up        caught up" "plain status: the catch-up line"
assert_contains "$OUT" "lag history     " "plain status: the lag history line"
assert_eq 1 "$(grep -cE '^lag +[0-9.]+ (B|kB|MB|GB), ' <<<"$OUT")" "plain status: lag in human units"
assert_eq 1 "$(grep -cE '^slot on source .*retains [0-9.]+ (B|kB|MB|GB) of WAL' <<<"$OUT")" "plain status: retained WAL in human units"
wait "$writer"

# pruning: rows older than an hour go once the oldest is over 61 minutes old
tgt_sql -c "INSERT INTO pgcutover.lag_history (slot_name, at, lag_bytes, applied_lsn) VALUES
  ('pgcutover', now() - interval '2 hours', 1, '0/1'), ('pgcutover', now() - interval '62 minutes', 1, '0/1'),
  ('pgcutover', now() - interval '30 minutes', 1, '0/1')"
for _ in $(seq 1 30); do
  [ "$(tgt_sql -c "SELECT count(*) FROM pgcutover.lag_history WHERE at < now() - interval '1 hour'")" = 0 ] && break
  sleep 0.2
done
assert_eq "0 1" "$(tgt_sql -c "SELECT count(*) FILTER (WHERE at < now() - interval '1 hour'), count(*) FILTER (WHERE at BETWEEN now() - interval '31 minutes' AND now() - interval '29 minutes') FROM pgcutover.lag_history" | tr '|' ' ')" \
  "the history older than an hour is pruned, the last hour kept"

# a synthetic history: the follower stops, a session takes its lock, the
# target applies 3 MB/s while the source writes 1 MB/s, 600 MB behind
kill -TERM "$FOLLOWER"; set +e; wait "$FOLLOWER"; set -e
( tgt_sql -c "SELECT pg_advisory_lock(hashtext('pgcutover follow pgcutover'))" -c "SELECT pg_sleep(25)" >/dev/null 2>&1 ) &
locker=$!
synthetic() {  # synthetic APPLY_MB_PER_S SOURCE_MB_PER_S
  tgt_sql -c "DELETE FROM pgcutover.lag_history" \
    -c "INSERT INTO pgcutover.lag_history (slot_name, at, lag_bytes, lag_seconds, applied_lsn, source_lsn)
        SELECT 'pgcutover', now() - (30 - g) * interval '1 second', 629145600, 120,
               ('0/0'::pg_lsn + (1e9 + g * $1 * 1048576)::numeric), ('0/0'::pg_lsn + (2e9 + g * $2 * 1048576)::numeric)
        FROM generate_series(0, 30) g" \
    -c "UPDATE pgcutover.follower SET phase = 'following', lag_bytes = 629145600, lag_seconds = 120, updated_at = now()"
}
for _ in $(seq 1 50); do
  [ "$(tgt_sql -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" -ge 1 ] && break
  sleep 0.1
done
synthetic 3 1
run_pgcutover status --json --target "$TGT_DSN"
assert_eq true "$(jqr '.follower_alive')" "synthetic: the lock makes the follower alive"
assert_eq catching_up "$(jqr .catch_up.state)" "apply 3 MB/s > source 1 MB/s: catching_up"
assert_eq 300 "$(jqr '.catch_up.eta_seconds | round')" "ETA = 600 MB / (3 - 1) MB/s = 300 s"
assert_eq "3145728 1048576" "$(jqr '"\(.catch_up.apply_bytes_per_sec | round) \(.catch_up.source_wal_bytes_per_sec | round)"')" "the rates over the window"
run_pgcutover status --target "$TGT_DSN"
assert_contains "$OUT" "catching up, caught up in about 5 min 00 s (applies 3.0 MB/s, source writes 1.0 MB/s" "plain status: the ETA in human units"
assert_contains "$OUT" "lag             600.0 MB, 2 min 00 s" "plain status: lag in human units"

synthetic 1 1
run_pgcutover status --json --target "$TGT_DSN"
assert_eq "falling_behind null" "$(jqr '"\(.catch_up.state) \(.catch_up.eta_seconds)"')" "source WAL rate >= apply rate: falling_behind, no ETA"
run_pgcutover status --target "$TGT_DSN"
assert_contains "$OUT" "FALLING BEHIND" "plain status: says it will not catch up at this rate"
kill "$locker" 2>/dev/null || true; wait "$locker" 2>/dev/null || true

done_testing
