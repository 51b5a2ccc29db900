#!/usr/bin/env bash
# Scenario: verify --online while pgbench writes to the source and follow
# runs (one LSN on both sides, the follower stands still for milliseconds),
# a corrupted target row found and named; then the switchover's incremental
# verify: a change made on the target after the online verification is
# caught (exit 5, the source stays fenced), and once repaired the rerun
# compares only what changed and completes.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
PY=/usr/bin/python3
json() { $PY -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

"$PG_BIN/pgbench" -i -q -s 2 -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >/dev/null 2>&1
src_sql -c "ALTER TABLE pgbench_history REPLICA IDENTITY FULL" \
        -c "CREATE TABLE quiet (id int PRIMARY KEY, v text)" \
        -c "INSERT INTO quiet SELECT g, 'q' || g FROM generate_series(1, 1000) g" \
        -c 'CREATE TABLE "Odd Names" ("Key Col" text PRIMARY KEY, "v" int)' \
        -c "INSERT INTO \"Odd Names\" SELECT 'k' || g, g FROM generate_series(1, 100) g"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"

# no follower: verify --online says what it needs
run_pgcutover verify --online --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 7 "$RC" "verify --online without follow: exit 7"
assert_contains "$ERR" "needs 'pgcutover follow' running" "verify --online without follow: says why, and the fix"

follower_start

bench() {  # bench SECONDS: pgbench at 200 tps against the source
  "$PG_BIN/pgbench" -n -T "$1" -R 200 -c 2 -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >/dev/null 2>&1
}

# status says what a switchover would verify
run_pgcutover status --json --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq "None full" "$(json 'd["online_verification"], d["switchover_verify"]' <<<"$OUT" | tr -d "(),'")" "status before any online verification: none, a switchover would verify every row"

# no online verification yet: --verify incremental refuses before fencing
run_pgcutover switchover --verify incremental --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 7 "$RC" "switchover --verify incremental without an online verification: exit 7"
assert_contains "$ERR" "needs a passing online verification" "--verify incremental without one: says why, and the fix"
assert_eq 1 "$(src_sql -c "INSERT INTO quiet VALUES (100001, 'w') RETURNING 1")" "--verify incremental without one: nothing fenced, the source takes writes"
run_pgcutover switchover --verify bogus --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 2 "$RC" "--verify bogus: exit 2"
assert_contains "$ERR" 'invalid --verify "bogus"; fix: use incremental, full or none' "--verify bogus: names the choices"
run_pgcutover switchover --skip-verify --verify full --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 2 "$RC" "--skip-verify with --verify full: exit 2"

# an idle source: nothing after the slot's LSN comes to tell the follower it
# has everything up to it; the server's keepalive (or a heartbeat) does
t0=$(date +%s.%N)
run_pgcutover verify --online --source "$SRC_DSN" --target "$TGT_DSN"
took=$(echo "$(date +%s.%N) - $t0" | bc)
assert_eq 0 "$RC" "verify --online on an idle source: exit 0"
assert_eq 1 "$(echo "$took < 5" | bc)" "verify --online on an idle source: done in seconds ($took s)"

bench 40 & BENCH=$!
sleep 1

# 1. a clean target under load: exit 0, at one LSN, a short pause
run_pgcutover verify --online --jobs 2 --json --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "verify --online under load, clean target: exit 0"
assert_eq True "$(json 'd["ok"]' <<<"$OUT")" "clean: ok in JSON"
assert_eq True "$(json 'd["online"]["lsn"] is not None and d["online"]["pause_ms"] >= 0' <<<"$OUT")" "clean: the LSN and the follower's pause are reported"
pause=$(json 'd["online"]["pause_ms"]' <<<"$OUT")
assert_eq 1 "$(echo "$pause < 100" | bc)" "clean: the follower stood still under 100 ms ($pause ms)"
assert_eq True "$(json 'd["rows_compared"] >= 200000' <<<"$OUT")" "clean: every row compared ($(json 'd["rows_compared"]' <<<"$OUT"))"
assert_eq done "$(tgt_sql -c "SELECT state FROM pgcutover.verification ORDER BY id DESC LIMIT 1")" "clean: recorded as done on the target"
assert_eq t "$(tgt_sql -c "SELECT ok AND lsn IS NOT NULL AND jsonb_array_length(verdicts) >= 6 FROM pgcutover.verification ORDER BY id DESC LIMIT 1")" "clean: verified LSN and per-table verdicts recorded"
run_pgcutover status --json --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq "True done incremental" "$(json 'd["online_verification"]["ok"], d["online_verification"]["state"], d["switchover_verify"]' <<<"$OUT" | tr -d "(),'")" "clean: status shows the passing online verification, and that a switchover would verify incrementally"
run_pgcutover status --source "$SRC_DSN" --target "$TGT_DSN"
assert_contains "$OUT" "switchover      would verify incremental" "clean: status in text says so too"

# the second protocol (the follower stands still while the slot is made),
# which a follower that keeps getting past the slot's LSN falls back to
PGCUTOVER_TEST_OPTIMISTIC_ATTEMPTS=0 run_pgcutover verify --online --json --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "verify --online, the follower standing still while the slot is made: exit 0"
pause=$(json 'd["online"]["pause_ms"]' <<<"$OUT")
assert_eq 1 "$(echo "$pause < 1000" | bc)" "standing still: the pause is reported and bounded by the slot's creation ($pause ms)"
assert_contains "$(tgt_sql -c "SELECT string_agg(state, ',' ORDER BY id) FROM pgcutover.verification")" "done,done" "standing still: recorded as done"

# 2. one corrupted row on the target (as a replica session would): found, named
tgt_sql -c "SET session_replication_role = replica" -c "UPDATE quiet SET v = 'corrupt' WHERE id = 777" \
        -c "UPDATE \"Odd Names\" SET v = -1 WHERE \"Key Col\" = 'k42'"
run_pgcutover verify --online --jobs 2 --json --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 5 "$RC" "a corrupted target row: exit 5"
assert_eq '["public.\"Odd Names\"", "public.quiet"]' "$(json 'json.dumps(sorted(t["table"] for t in d["tables"] if not t["match"]))' <<<"$OUT")" "corrupted: names exactly the two tables"
assert_eq '{"id": "777"}' "$(json 'json.dumps([k["key"] for t in d["tables"] if t["table"] == "public.quiet" for k in t["differing_keys"]][0])' <<<"$OUT")" "corrupted: names the key"
assert_eq '{"Key Col": "k42"}' "$(json 'json.dumps([k["key"] for t in d["tables"] if t["table"] == "public.\"Odd Names\"" for k in t["differing_keys"]][0])' <<<"$OUT")" "corrupted: names the key of an oddly named table"
run_pgcutover verify --online --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 5 "$RC" "corrupted (text): exit 5"
assert_contains "$OUT" '"id":"777"' "corrupted (text): prints the key"
tgt_sql -c "SET session_replication_role = replica" -c "UPDATE quiet SET v = 'q777' WHERE id = 777" \
        -c "UPDATE \"Odd Names\" SET v = 42 WHERE \"Key Col\" = 'k42'"

# 3. a verifier killed in the middle (kill -9) leaves the follower applying,
#    and the next one completes
"$PGCUTOVER" verify --online --source "$SRC_DSN" --target "$TGT_DSN" >/dev/null 2>&1 & victim=$!
for _ in $(seq 1 200); do
  [ "$(tgt_sql -c "SELECT count(*) FROM pgcutover.verification WHERE state IN ('holding', 'lsn_known', 'exported', 'imported')")" != 0 ] && break
  sleep 0.01
done
kill -9 "$victim" 2>/dev/null || true   # it may have finished already
wait "$victim" 2>/dev/null || true
# a row written now arrives (a follower left standing still gives up within 15 s)
src_sql -c "INSERT INTO quiet VALUES (200001, 'after the kill')"
for _ in $(seq 1 200); do [ "$(tgt_sql -c "SELECT count(*) FROM quiet WHERE id = 200001")" = 1 ] && break; sleep 0.1; done
assert_eq 1 "$(tgt_sql -c "SELECT count(*) FROM quiet WHERE id = 200001")" "killed verifier: the follower keeps applying"
run_pgcutover verify --online --jobs 2 --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "repaired target, after a killed verifier: verify --online exit 0"
wait $BENCH || true

# 4. writes after it, and a change made on the target: the incremental
#    verify at the switchover catches it, the source stays fenced
bench 3
tgt_sql -c "SET session_replication_role = replica" -c "UPDATE quiet SET v = 'drift' WHERE id = 5"
run_pgcutover switchover --json --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 5 "$RC" "a target change after the online verification: switchover exit 5"
assert_eq incremental "$(json 'd["verify_mode"]' <<<"$OUT")" "target change: the incremental verify ran"
assert_contains "$ERR" "public.quiet" "target change: names the table"
assert_contains "$ERR" '"id":"5"' "target change: names the key"
assert_eq f "$(cluster_sql src -c "SELECT datallowconn FROM pg_database WHERE datname = 'app'")" "target change: the source stays fenced (closed to connections) for inspection"
assert_contains "$ERR" "STAYS FENCED" "target change: says the source stays fenced"

# 5. repaired, the rerun takes over and compares only what changed
tgt_sql -c "SET session_replication_role = replica" -c "UPDATE quiet SET v = 'q5' WHERE id = 5"
run_pgcutover switchover --json --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "repaired: switchover exit 0"
assert_eq incremental "$(json 'd["verify_mode"]' <<<"$OUT")" "repaired: incremental verify"
rows=$(json 'd["verify"]["rows_compared"]' <<<"$OUT")
assert_eq True "$(json 'd["verify"]["rows_compared"] < 100000 and d["incremental"]["keys"] > 0' <<<"$OUT")" "repaired: compared the changed keys, not the database ($rows rows)"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM pg_trigger WHERE tgname = 'pgcutover_target_write'")" "switched over: the target-write triggers are gone"
assert_source_fenced
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "switched over: source and target equal"
wait "$FOLLOWER" 2>/dev/null || true   # it stops by itself after the switchover
done_testing
