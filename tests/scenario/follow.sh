#!/usr/bin/env bash
# Scenario: copy, then a long script of source changes covering every
# exactness rule, then `follow --until-caught-up`: every table identical.
. "$(dirname "$0")/../lib/harness.sh"
harness_start

src_sql -f "$(dirname "$0")/../sql/shapes.sql" >/dev/null

# follow before copy is refused
run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
assert_eq 7 "$RC" "follow before copy: state exit code"
assert_contains "$ERR" "run 'pgcutover copy' first" "follow before copy: names the fix"

run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"
src_sql -f "$(dirname "$0")/../sql/changes.sql" >/dev/null

run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up --verbose
assert_eq 0 "$RC" "follow --until-caught-up exits 0"
# unlogged tables are not decoded: leave scratch out of the comparison
fp() { db_fingerprint "$1" | grep -v '^public.scratch|'; }
assert_eq "$(fp src)" "$(fp tgt)" "every table identical after follow (row checksums)"
assert_contains "$ERR" "transactional hello" "transactional logical message delivered"
assert_contains "$ERR" "immediate hello" "non-transactional logical message delivered"
assert_not_contains "$ERR" "no tuple identifier" "no change was dropped by the plugin"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM parent WHERE id = 777")" "a rolled back transaction is not applied"
assert_eq "Infinity|NaN|NaN|-Infinity" "$(tgt_sql -c "SELECT f8, n, (SELECT f8 FROM \"Mixed Case\".\"Table Name\" WHERE \"select\" = 'nan insert'), (SELECT f4 FROM \"Mixed Case\".\"Table Name\" WHERE \"select\" = 'inf insert') FROM \"Mixed Case\".\"Table Name\" WHERE \"select\" = 'plain'")" "NaN and Infinity survive (not turned into NULL)"
assert_eq "" "$(tgt_sql -c "SELECT f8 FROM \"Mixed Case\".\"Table Name\" WHERE \"select\" = 'null floats'")" "a NULL float stays NULL"
q="SELECT f8::text || ' ' || f4::text FROM \"Mixed Case\".\"Table Name\" WHERE \"select\" IN ('big numeric', 'float max') ORDER BY 1"
assert_eq "$(src_sql -c "$q")" "$(tgt_sql -c "$q")" "float8/float4 extremes exact (5e-324, 1.7976931348623157e+308)"
assert_eq "$(src_sql -c "SELECT n FROM \"Mixed Case\".\"Table Name\" WHERE \"select\" = 'big numeric'")" \
  "$(tgt_sql -c "SELECT n FROM \"Mixed Case\".\"Table Name\" WHERE \"select\" = 'big numeric'")" "a 900-digit numeric is exact"
assert_eq "$(src_sql -c "SELECT md5(big) FROM toasty WHERE id = 1")" "$(tgt_sql -c "SELECT md5(big) FROM toasty WHERE id = 1")" "an unchanged TOAST value is kept by an UPDATE"
assert_eq 200000 "$(tgt_sql -c "SELECT count(*) FROM ledger")" "the 200k-row transaction is applied whole"
assert_eq "10|after truncate" "$(tgt_sql -c "SELECT id, v FROM swap")" "TRUNCATE of several tables, then new rows"
assert_eq following "$(tgt_sql -c "SELECT phase FROM pgcutover.migration")" "state says following"
applied=$(tgt_sql -c "SELECT applied_lsn FROM pgcutover.apply_progress")
assert_eq t "$(src_sql -c "SELECT confirmed_flush_lsn >= '$applied'::pg_lsn FROM pg_replication_slots WHERE slot_name = 'pgcutover'")" "the slot confirmed at least what was applied"

# verify: every table and sequence, and no foreign key orphan slipped through
run_pgcutover verify --constraints --exclude-table public.scratch --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 5 "$RC" "verify: sequences are not synced before switchover (exit 5)"
assert_contains "$OUT" "0 differ" "verify: every table matches after follow"
assert_contains "$OUT" "with orphans" "verify --constraints checks foreign keys"
assert_contains "$OUT" "0 with orphans" "verify --constraints: no orphan"
tgt_sql -c "SET session_replication_role = replica" -c "INSERT INTO child (id, parent_id, note) VALUES (99999, 424242, 'orphan')"
run_pgcutover verify --constraints --json --exclude-table public.scratch --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 5 "$RC" "verify with an orphan: exit 5"
assert_contains "$OUT" "child_parent_id_fkey" "verify names the broken foreign key"
tgt_sql -c "DELETE FROM child WHERE id = 99999"

# a second run applies nothing twice
txns_before=$(tgt_sql -c "SELECT txns FROM pgcutover.apply_progress")
run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
assert_eq 0 "$RC" "second follow exits 0"
assert_eq "$txns_before" "$(tgt_sql -c "SELECT txns FROM pgcutover.apply_progress")" "second follow applies no transaction twice"
assert_eq "$(fp src)" "$(fp tgt)" "still identical after the second follow"

# bad --endpos
run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --endpos "not-an-lsn"
assert_eq 2 "$RC" "invalid --endpos: usage exit code"
assert_contains "$ERR" "invalid --endpos" "invalid --endpos: says so"

# two followers on one slot: the second refuses
"$PGCUTOVER" follow --source "$SRC_DSN" --target "$TGT_DSN" >>"$HARNESS_DIR/all-output.log" 2>&1 &
first=$!
for _ in $(seq 1 100); do
  [ "$(src_sql -c "SELECT active FROM pg_replication_slots WHERE slot_name = 'pgcutover'")" = t ] && break
  sleep 0.05
done
run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
assert_eq 7 "$RC" "second follower refused: state exit code"
assert_contains "$ERR" "already running" "second follower refused: says why"
# the first one keeps applying, then stops cleanly on SIGTERM
src_sql -c "INSERT INTO parent VALUES (4242, 'while following')"
for _ in $(seq 1 100); do
  [ "$(tgt_sql -c "SELECT count(*) FROM parent WHERE id = 4242")" = 1 ] && break
  sleep 0.05
done
assert_eq 1 "$(tgt_sql -c "SELECT count(*) FROM parent WHERE id = 4242")" "a running follower applies new changes"
kill -TERM "$first"
set +e; wait "$first"; rc=$?; set -e
assert_eq 0 "$rc" "SIGTERM stops follow cleanly with exit 0"

done_testing
