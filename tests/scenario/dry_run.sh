#!/usr/bin/env bash
# Scenario: --dry-run is honoured by follow and migrate (issue 18): each says
# what it would do, or why it would refuse with the exit code the real run
# would have, and changes nothing: no slot, no row applied, the slot's
# confirmed position unmoved, no follower.
. "$(dirname "$0")/../lib/harness.sh"
harness_start

src_sql -c "CREATE TABLE t(id int PRIMARY KEY, v text)" -c "INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g"

# migrate --dry-run: copy's plan, then the rest of the plan; nothing made
run_pgcutover migrate --dry-run --switchover --yes --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "migrate --dry-run: exit 0"
assert_contains "$OUT" "dry run: start a new copy of slot pgcutover" "migrate --dry-run: prints copy's plan"
assert_contains "$OUT" "then a follower for slot pgcutover until its lag <= 1 s, then a switchover" "migrate --dry-run: prints the follower and switchover steps"
assert_eq 0 "$(src_sql -c "SELECT count(*) FROM pg_replication_slots")" "migrate --dry-run: no slot on the source"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM pg_tables WHERE tablename = 't'")" "migrate --dry-run: nothing copied"
assert_eq "" "$(pgrep -f "pgcutover.*port=$TGT_PORT" || true)" "migrate --dry-run: no follower process left"

# migrate --dry-run with a failing preflight exits as the real run would
run_pgcutover migrate --dry-run --source "$SRC_DSN" --target "$TGT_DSN" --include-table nosuch
assert_eq 4 "$RC" "migrate --dry-run with a bad filter: preflight exit code"

# follow --dry-run before any copy: the refusal follow would give
run_pgcutover follow --dry-run --until-caught-up --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 7 "$RC" "follow --dry-run before copy: exit 7"
assert_contains "$ERR" "run 'pgcutover copy' first" "follow --dry-run before copy: names the fix"

# verify does not pretend: it refuses --dry-run (usage, exit 2)
run_pgcutover verify --dry-run --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 2 "$RC" "verify --dry-run is refused with exit 2"

# a metrics port already in use fails migrate --dry-run at once
run_pgcutover migrate --dry-run --metrics-listen "127.0.0.1:$SRC_PORT" --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 2 "$RC" "migrate --dry-run with a metrics port in use: exit 2"
assert_contains "$ERR" "the port is in use" "migrate --dry-run with a metrics port in use: says so"

# an interrupted copy: the dry runs say they would resume it (the real copy does)
src_sql -c "CREATE TABLE big(id int PRIMARY KEY, v text)" -c "INSERT INTO big SELECT g, repeat('x', 100) FROM generate_series(1, 6000) g"
"$PGCUTOVER" copy --source "$SRC_DSN" --target "$TGT_DSN" --max-rate 1000 >/dev/null 2>&1 &
copier=$!
for _ in $(seq 1 100); do
  [ "$(tgt_sql -c "SELECT count(*) FROM pgcutover.copy_job WHERE status IN ('running', 'done')" 2>/dev/null || echo 0)" -gt 0 ] && break
  sleep 0.1
done
kill -9 "$copier" 2>/dev/null || true
wait "$copier" 2>/dev/null || true
run_pgcutover copy --dry-run --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy --dry-run of an interrupted copy: exit 0 (as the resume would)"
assert_contains "$OUT" "dry run: resume the copy of slot pgcutover" "copy --dry-run of an interrupted copy: would resume"
run_pgcutover migrate --dry-run --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "migrate --dry-run of an interrupted copy: exit 0"

run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0 (resumed)"
assert_eq 6000 "$(tgt_sql -c "SELECT count(*) FROM big")" "the resumed copy is whole"
src_sql -c "INSERT INTO t VALUES (1000, 'after copy')"
flushed=$(src_sql -c "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'pgcutover'")

# follow --dry-run --until-caught-up: the plan, and no row applied
run_pgcutover follow --dry-run --until-caught-up --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "follow --dry-run: exit 0"
assert_contains "$OUT" "dry run: follow would stream slot pgcutover" "follow --dry-run: prints the plan"
assert_contains "$OUT" "nothing was streamed or written" "follow --dry-run: says nothing changed"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM t WHERE id = 1000")" "follow --dry-run: the new row is not applied"
assert_eq "$flushed" "$(src_sql -c "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'pgcutover'")" "follow --dry-run: the slot did not move"

# --json: the document says it was a dry run
run_pgcutover follow --dry-run --json --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "follow --dry-run --json: exit 0"
assert_eq "True 0" "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["dry_run"], d["exit_code"])' <<<"$OUT")" "follow --dry-run --json: dry_run true, exit_code 0"

# a source that does not answer: exit 3, not "slot missing"
run_pgcutover follow --dry-run --source "host=127.0.0.1 port=1 dbname=app user=postgres" --target "$TGT_DSN"
assert_eq 3 "$RC" "follow --dry-run with the source down: connection exit code"
assert_not_contains "$ERR" "not on the source" "follow --dry-run with the source down: does not call the slot missing"

# migrate --dry-run on a copied migration: copy says it is complete, nothing starts
run_pgcutover migrate --dry-run --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "migrate --dry-run after copy: exit 0"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM t WHERE id = 1000")" "migrate --dry-run after copy: no follower applied the row"

# the real follow applies it (the checks above could see a change)
run_pgcutover follow --until-caught-up --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "follow --until-caught-up exits 0"
assert_eq 1 "$(tgt_sql -c "SELECT count(*) FROM t WHERE id = 1000")" "the real follow applies the row"

# with a follower running, the dry run reports the refusal follow would give
follower_start
run_pgcutover follow --dry-run --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 7 "$RC" "follow --dry-run beside a running follower: exit 7"
assert_contains "$ERR" "already running for slot pgcutover" "follow --dry-run beside a running follower: says so"

done_testing
