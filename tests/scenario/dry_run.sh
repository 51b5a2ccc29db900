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

run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"
src_sql -c "INSERT INTO t VALUES (1000, 'after copy')"
flushed=$(src_sql -c "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'pgcutover'")

# follow --dry-run --until-caught-up: the plan, and no row applied
run_pgcutover follow --dry-run --until-caught-up --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "follow --dry-run: exit 0"
assert_contains "$OUT" "dry run: follow would stream slot pgcutover" "follow --dry-run: prints the plan"
assert_contains "$OUT" "nothing was streamed or written" "follow --dry-run: says nothing changed"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM t WHERE id = 1000")" "follow --dry-run: the new row is not applied"
assert_eq "$flushed" "$(src_sql -c "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'pgcutover'")" "follow --dry-run: the slot did not move"

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
