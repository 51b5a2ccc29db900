#!/usr/bin/env bash
# Scenario (review): the switchover is SIGKILLed after the fence, during
# --post-command (the target is ready, the application is being repointed).
# Clients that were not repointed yet keep reconnecting to the source, as
# real ones do.  The runbook says: rerun the same switchover.  The claim:
# after the fence no transaction of anyone but pgcutover commits on the
# source.  The rerun must therefore never open the source to those clients.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
src_sql -v pw="$TEST_PASSWORD" -f "$(dirname "$0")/../sql/ledger_app.sql"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"
follower_start
follower=$FOLLOWER
echo "INSERT INTO ledger (kind) VALUES ('app');" > "$HARNESS_DIR/w.sql"
# clients connecting per transaction in a tight loop, retrying through errors
writer_loop() {
  local end=$((SECONDS + 25))
  while [ $SECONDS -lt $end ]; do
    PGPASSWORD=$TEST_PASSWORD psql -X -q -h 127.0.0.1 -p "$SRC_PORT" -U app_rw -d app \
      -c "INSERT INTO ledger (kind) VALUES ('app')" >/dev/null 2>&1 || true
  done
}
writer_loop & w1=$!
writer_loop &
writer=$!
sleep 1.5
"$PGCUTOVER" switchover --source "$SRC_DSN" --target "$TGT_DSN" --post-command 'sleep 30' >>"$HARNESS_DIR/all-output.log" 2>&1 &
sw=$!
for _ in $(seq 1 200); do
  [ "$(cluster_sql src -c "SELECT datallowconn FROM pg_database WHERE datname = 'app'")" = f ] && break
  sleep 0.05
done
sleep 1.5   # the post command runs: the target is ready, the source fenced
fenced_at=$(cluster_sql src -c "SELECT clock_timestamp()")
kill -9 "$sw"; wait "$sw" 2>/dev/null || true
pkill -9 -P "$sw" 2>/dev/null || true
assert_eq f "$(cluster_sql src -c "SELECT datallowconn FROM pg_database WHERE datname = 'app'")" "killed after the fence: the source is fenced"
sleep 1
run_pgcutover switchover --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "the rerun completes"
echo "# rerun stderr: $(grep -E "warn|error" <<<"$ERR" | tr "\n" " " | head -c 1500)"
wait "$writer" "$w1" 2>/dev/null || true
wait "$follower" 2>/dev/null || true
assert_source_fenced app
late=$(src_sql -c "SELECT count(*) FROM ledger WHERE at > '$fenced_at'")
assert_eq 0 "$late" "no application write committed on the source after the first run's fence ($late did)"
echo "# late rows also on the target: $(tgt_sql -c "SELECT count(*) FROM ledger WHERE at > '$fenced_at'")"
done_testing
