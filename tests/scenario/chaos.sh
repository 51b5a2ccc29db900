#!/usr/bin/env bash
# Scenario: fault injection.  CHAOS_CYCLES (default 5) full migrations of a
# source under pgbench load, each into a fresh target database with its own
# slot.  In every cycle pgcutover is SIGKILLed at random moments:
#   copy        killed CHAOS_KILLS times (1..3 at random unless set), the
#               process alone or its whole process group (pg_dump,
#               pg_restore), then rerun to the end;
#   follow      killed CHAOS_KILLS times while pgbench writes, then rerun;
#   switchover  (--reverse, a post command) killed CHAOS_KILLS times at
#               random moments (lag wait, fence, drain, sequences, verify,
#               reverse, post), each time simply rerun as the docs say; every
#               other cycle a rerun first fails (no follower running) and must
#               lift the fence the killed run left, then the follower is
#               started again and switchover rerun to the end.
# At the end of each cycle: every table identical (db_fingerprint), the
# key-less ledger has as many rows as on the source and no id twice, the
# target's sequences are the source's + the gap, and the rollback slot made
# by the killed runs carries a write back to the old source.  `CHAOS_CYCLES=50` is the "long" ctest
# (-DPGCUTOVER_LONG_TESTS=ON).  CHAOS_SEED makes the random moments repeatable.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
CYCLES=${CHAOS_CYCLES:-5}
RANDOM=${CHAOS_SEED:-$$}
echo "# chaos: $CYCLES cycles, seed ${CHAOS_SEED:-$$}"

"$PG_BIN/pgbench" -i -q -s "${CHAOS_SCALE:-5}" -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >/dev/null 2>&1
# ledger: no key, so a transaction applied twice shows as a duplicate id
src_sql -c "ALTER TABLE pgbench_history REPLICA IDENTITY FULL" \
        -c "CREATE TABLE ledger (id bigserial, n int)" -c "ALTER TABLE ledger REPLICA IDENTITY FULL"
LEDGER_SCRIPT="$(dirname "$0")/../sql/ledger.pgbench"

# rand VAR MIN MAX [POWER]: VAR = MIN + (MAX - MIN) * u^POWER, two decimals.
# Runs in this shell: $RANDOM read in a $(...) subshell would repeat itself.
rand() {
  local seed=$((RANDOM * 32768 + RANDOM))
  printf -v "$1" '%s' "$(awk -v s="$seed" -v a="$2" -v b="$3" -v p="${4:-1}" 'BEGIN { srand(s); printf "%.2f", a + rand() ^ p * (b - a) }')"
}
kills_per_phase() { k=${CHAOS_KILLS:-$((1 + RANDOM % 3))}; }
note() { echo "# cycle $cycle: $*"; }
# wait_gone PID SECONDS: waits for a child to exit; sets WAIT_RC (124: still running)
wait_gone() {
  local i
  for i in $(seq 1 $(($2 * 10))); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$1" 2>/dev/null; then WAIT_RC=124; return; fi
  set +e; wait "$1"; WAIT_RC=$?; set -e
}
source_writable() { src_sql -c "INSERT INTO pgbench_history (tid, bid, aid, delta) VALUES (0, 0, 0, 0)" >/dev/null 2>&1 && echo yes || echo no; }

# how long an undisturbed copy takes here: the kills fall anywhere within it
cluster_sql tgt -c "CREATE DATABASE calib"
t0=$(date +%s.%N)
run_pgcutover copy --source "$SRC_DSN" --target "host=127.0.0.1 port=$TGT_PORT dbname=calib user=postgres password=$TEST_PASSWORD" \
  --slot calib --jobs 2 --split-threshold 4MB
COPY_T=$(echo "$(date +%s.%N) - $t0" | bc)
assert_eq 0 "$RC" "an undisturbed copy takes $COPY_T s"
run_pgcutover cleanup --yes --source "$SRC_DSN" --target "host=127.0.0.1 port=$TGT_PORT dbname=calib user=postgres password=$TEST_PASSWORD" --slot calib
cluster_sql tgt -c "DROP DATABASE calib"

SW_T=0.5   # until a switchover was timed
copy_kills=0 follow_kills=0 switch_kills=0 cycles_ok=0
declare -A copy_points=() switch_points=()
t_start=$(date +%s)

for cycle in $(seq 1 "$CYCLES"); do
  db=app_$cycle slot=chaos_$cycle
  cluster_sql tgt -c "CREATE DATABASE $db"
  TGT="host=127.0.0.1 port=$TGT_PORT dbname=$db user=postgres password=$TEST_PASSWORD"
  state() { DB=$db cluster_sql tgt -c "$1" 2>/dev/null || echo none; }
  cycle_failed=$TESTS_FAILED

  "$PG_BIN/pgbench" -n -c 2 -R 150 -T 900 -f "$LEDGER_SCRIPT" -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app \
    >"$HARNESS_DIR/pgbench-$cycle.log" 2>&1 &
  bench=$!

  # --- copy, killed k times ------------------------------------------------
  kills_per_phase
  for i in $(seq 1 "$k"); do
    setsid "$PGCUTOVER" copy --source "$SRC_DSN" --target "$TGT" --slot "$slot" --jobs 2 \
      --split-threshold 4MB --snapshot-hold 120 >>"$HARNESS_DIR/copy-$cycle.log" 2>&1 &
    pid=$!
    rand delay 0 "$COPY_T" $((RANDOM % 2 * 2 + 1))   # u^3: the short slot creation gets its share
    sleep "$delay"
    if [ $((RANDOM % 2)) -eq 0 ]; then how=process; kill -9 "$pid" 2>/dev/null || true; else how=group; kill -9 -- "-$pid" 2>/dev/null || true; fi
    set +e; wait "$pid"; rc=$?; set -e
    if [ "$rc" -eq 0 ]; then note "copy finished before the kill at ${delay} s"; break; fi
    if [ "$rc" -ne 137 ]; then
      fail "cycle $cycle: copy rerun after a kill exits 0" "exit $rc: $(tail -n 3 "$HARNESS_DIR/copy-$cycle.log")"
      break
    fi
    sleep 0.05
    point=$(state "SELECT phase || ' ' || (SELECT count(*) FILTER (WHERE status = 'done') || '/' || count(*) FROM pgcutover.copy_job)
                   || ' jobs' FROM pgcutover.migration WHERE slot_name = '$slot'")
    point=${point:-none (no migration row yet)}
    copy_kills=$((copy_kills + 1)); copy_points[${point%% *}]=1
    note "copy killed ($how) at ${delay} s in phase $point"
  done
  run_pgcutover copy --source "$SRC_DSN" --target "$TGT" --slot "$slot" --jobs 2 --split-threshold 4MB
  assert_eq 0 "$RC" "cycle $cycle: copy completes after the kills"
  [ "$RC" -eq 0 ] || echo "#   $(tail -n 3 <<<"$ERR")"

  # --- follow, killed k times under load ------------------------------------
  kills_per_phase
  for i in $(seq 1 "$k"); do
    "$PGCUTOVER" follow --source "$SRC_DSN" --target "$TGT" --slot "$slot" >>"$HARNESS_DIR/follow-$cycle.log" 2>&1 &
    pid=$!
    rand delay 0.2 2
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null || true
    set +e; wait "$pid"; rc=$?; set -e
    if [ "$rc" -eq 137 ]; then
      follow_kills=$((follow_kills + 1))
      note "follow killed at ${delay} s after $(state "SELECT applied_lsn || ', ' || txns || ' txns applied' FROM pgcutover.apply_progress WHERE slot_name = '$slot'")"
    else
      fail "cycle $cycle: follow runs until killed" "exited $rc: $(tail -n 3 "$HARNESS_DIR/follow-$cycle.log")"
    fi
  done
  if kill -0 "$bench" 2>/dev/null; then pass "cycle $cycle: pgbench still writing"; else fail "cycle $cycle: pgbench still writing" "$(tail -n 3 "$HARNESS_DIR/pgbench-$cycle.log")"; fi

  # --- switchover, killed once, then rerun ----------------------------------
  start_follower() {
    "$PGCUTOVER" follow --source "$SRC_DSN" --target "$TGT" --slot "$slot" >>"$HARNESS_DIR/follow-$cycle.log" 2>&1 &
    follower=$!
    for _ in $(seq 1 100); do
      [ "$(state "SELECT count(*) FROM pgcutover.follower WHERE slot_name = '$slot' AND phase = 'following' AND pid = $follower")" = 1 ] && break
      sleep 0.05
    done
  }
  start_follower
  SW_ARGS=(--source "$SRC_DSN" --target "$TGT" --slot "$slot" --max-lag 2 --reverse --sequence-gap 100 --post-command "sleep 0.1")
  kills_per_phase
  for i in $(seq 1 "$k"); do
    "$PGCUTOVER" switchover "${SW_ARGS[@]}" --timeout 60 >"$HARNESS_DIR/sw.out" 2>"$HARNESS_DIR/sw.err" &
    sw=$!
    # early moments (lag wait, fence, drain, sequences) are short: weigh them more
    rand delay 0 "$SW_T" $((RANDOM % 2 * 2 + 1))
    sleep "$delay"
    kill -9 "$sw" 2>/dev/null || true
    set +e; wait "$sw"; rc=$?; set -e
    cat "$HARNESS_DIR/sw.out" "$HARNESS_DIR/sw.err" >> "$HARNESS_DIR/all-output.log"
    if [ "$rc" -eq 137 ]; then
      step=$({ grep -o 'switchover step [a-z]*' "$HARNESS_DIR/sw.err" || true; } | tail -n 1 | awk '{print $3}')
      point="after-${step:-nothing}"
      switch_kills=$((switch_kills + 1)); switch_points[$point]=1
      note "switchover killed at ${delay} s, last step done: ${step:-none}; source writable: $(source_writable); phase $(state "SELECT phase FROM pgcutover.migration WHERE slot_name = '$slot'")"
    else
      note "switchover finished (exit $rc) before the kill at ${delay} s"
      [ "$rc" -eq 0 ] || fail "cycle $cycle: a switchover rerun after a kill exits 0" "exit $rc: $(tail -n 3 "$HARNESS_DIR/sw.err")"
      break
    fi
  done

  if [ $((cycle % 2)) -eq 0 ] && [ "$(state "SELECT phase FROM pgcutover.migration WHERE slot_name = '$slot'")" != switched_over ]; then
    # the operator path when the rerun cannot go on: it fails, and the fence
    # the killed run left must not stay behind
    kill -TERM "$follower" 2>/dev/null || true
    wait_gone "$follower" 30
    run_pgcutover switchover "${SW_ARGS[@]}" --timeout 10
    assert_eq 7 "$RC" "cycle $cycle: a rerun without a follower is refused"
    assert_eq yes "$(source_writable)" "cycle $cycle: the refused rerun lifted the fence of the killed switchover"
    note "aborted rerun: exit $RC, source writable again; follower restarted"
    start_follower
  fi
  t0=$(date +%s.%N)
  run_pgcutover switchover "${SW_ARGS[@]}" --timeout 90
  # a full run (not one that found the work done) sets the range of the next kill
  grep -q "already complete" <<<"$OUT" || SW_T=$(echo "$(date +%s.%N) - $t0" | bc)
  assert_eq 0 "$RC" "cycle $cycle: switchover rerun completes"
  [ "$RC" -eq 0 ] || echo "#   $(tail -n 3 <<<"$ERR")"
  wait_gone "$follower" 30
  assert_eq 0 "$WAIT_RC" "cycle $cycle: the follower exits 0 after the switchover"
  assert_eq no "$(source_writable)" "cycle $cycle: the source is read-only after the switchover"
  wait_gone "$bench" 30   # its sessions ended at the fence
  [ "$WAIT_RC" != 124 ] || { kill "$bench" 2>/dev/null || true; wait_gone "$bench" 5; }

  # --- verify -----------------------------------------------------------------
  src_n=$(src_sql -c "SELECT count(*) FROM ledger")
  assert_eq "$src_n" "$(DB=$db cluster_sql tgt -c "SELECT count(*) FROM ledger")" "cycle $cycle: ledger count equal ($src_n rows): nothing lost, nothing twice"
  assert_eq 0 "$(DB=$db cluster_sql tgt -c "SELECT count(*) FROM (SELECT id FROM ledger GROUP BY id HAVING count(*) > 1) d")" "cycle $cycle: no ledger id twice on the target"
  assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt "$db")" "cycle $cycle: every table identical"
  assert_eq "$(db_sequences src | awk -F'|' '{ print $1 "|" $2 + 100 "|t" }')" "$(db_sequences tgt "$db")" "cycle $cycle: target sequences = source + the gap"
  # the rollback path prepared by the killed and rerun switchovers works
  DB=$db cluster_sql tgt -c "INSERT INTO ledger (n) VALUES (-$cycle)"
  run_pgcutover follow --source "$TGT" --target "$SRC_DSN" --slot "${slot}_reverse" --until-caught-up
  assert_eq 0 "$RC" "cycle $cycle: reverse follow exits 0"
  assert_eq 1 "$(src_sql -c "SELECT count(*) FROM ledger WHERE n = -$cycle")" "cycle $cycle: a write on the new primary reached the old source exactly once"
  # (going back would start with the sequences, as here)
  src_sql -c "SET default_transaction_read_only = off" -c "SELECT setval('ledger_id_seq', (SELECT max(id) FROM ledger))" >/dev/null
  [ "$TESTS_FAILED" -ne "$cycle_failed" ] || cycles_ok=$((cycles_ok + 1))

  # --- next cycle: drop this migration, make the source writable again --------
  run_pgcutover cleanup --yes --source "$SRC_DSN" --target "$TGT" --slot "$slot"
  assert_eq 0 "$RC" "cycle $cycle: cleanup exits 0"
  run_pgcutover cleanup --yes --source "$TGT" --target "$SRC_DSN" --slot "${slot}_reverse"
  assert_eq 0 "$RC" "cycle $cycle: cleanup of the reverse direction exits 0"
  # the switched-over source keeps its rest fence (write-refusing triggers): lift it
  src_sql -c "SET default_transaction_read_only = off" -c "ALTER DATABASE app RESET default_transaction_read_only" \
    -c "DROP SCHEMA IF EXISTS pgcutover_fence CASCADE"
  cluster_sql tgt -c "DROP DATABASE $db"
  cat "$HARNESS_DIR"/copy-$cycle.log "$HARNESS_DIR"/follow-$cycle.log >> "$HARNESS_DIR/all-output.log" 2>/dev/null || true
  note "done after $(($(date +%s) - t_start)) s"
done

echo "# chaos: $cycles_ok of $CYCLES cycles survived; killed copy $copy_kills times (phases: ${!copy_points[*]}), follow $follow_kills times, switchover $switch_kills times (${!switch_points[*]})"
assert_eq "$CYCLES" "$cycles_ok" "every cycle ends with identical databases"
if [ "$follow_kills" -ge "$CYCLES" ]; then pass "follow was killed $follow_kills times"; else fail "follow was killed at least once a cycle ($follow_kills)"; fi
if [ "$copy_kills" -ge 1 ]; then pass "copy was killed $copy_kills times"; else fail "copy was never killed"; fi
done_testing
