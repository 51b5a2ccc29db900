#!/usr/bin/env bash
# Scenario: schema changes on the source that logical decoding cannot carry.
# follow stops with a clear error naming the table and the DDL to run, applies
# nothing of the offending transaction, and continues once the target matches.
. "$(dirname "$0")/../lib/harness.sh"
harness_start

src_sql -c "CREATE TABLE items (id int PRIMARY KEY, qty int, note text)" \
        -c "INSERT INTO items SELECT g, g, 'n' || g FROM generate_series(1, 100) g" \
        -c "CREATE TABLE keyed (id int PRIMARY KEY, v text)"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"

follow_until_caught_up() { run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up; }

# 1. a column added on the source
src_sql -c "ALTER TABLE items ADD COLUMN added int DEFAULT 5" -c "INSERT INTO items VALUES (101, 1, 'x', 7)"
follow_until_caught_up
assert_eq 8 "$RC" "added column: schema drift exit code"
assert_contains "$ERR" 'column "added" of public.items exists on the source but not on the target' "added column: names table and column"
assert_contains "$ERR" "ALTER TABLE public.items ADD COLUMN" "added column: names the DDL"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM items WHERE id = 101")" "added column: nothing of the transaction applied"
tgt_sql -c "ALTER TABLE items ADD COLUMN added int DEFAULT 5"
follow_until_caught_up
assert_eq 0 "$RC" "added column: follow continues once the target has it"

# 2. a column type changed on the source
src_sql -c "ALTER TABLE items ALTER COLUMN qty TYPE bigint" -c "UPDATE items SET qty = 5000000000 WHERE id = 1"
follow_until_caught_up
assert_eq 8 "$RC" "type change: schema drift exit code"
assert_contains "$ERR" 'column "qty" of public.items is bigint on the source but integer on the target' "type change: says both types"
assert_contains "$ERR" "ALTER TABLE public.items ALTER COLUMN qty TYPE bigint" "type change: names the DDL"
tgt_sql -c "ALTER TABLE items ALTER COLUMN qty TYPE bigint"
run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up --resume-after-ddl
assert_eq 0 "$RC" "type change: follow --resume-after-ddl continues"
assert_contains "$ERR" "DDL capture is not installed on the source" "without capture: follow says so"
assert_eq 5000000000 "$(tgt_sql -c "SELECT qty FROM items WHERE id = 1")" "type change: the row that did not fit arrives"

# 3. a column dropped on the source
src_sql -c "ALTER TABLE items DROP COLUMN note" -c "INSERT INTO items VALUES (102, 2, 8)"
follow_until_caught_up
assert_eq 8 "$RC" "dropped column: schema drift exit code"
assert_contains "$ERR" 'column "note" of public.items exists on the target but not on the source' "dropped column: says so"
tgt_sql -c "ALTER TABLE items DROP COLUMN note"
follow_until_caught_up
assert_eq 0 "$RC" "dropped column: follow continues"

# 4. a table created on the source after the copy
src_sql -c "CREATE TABLE later (id int PRIMARY KEY, v text)" -c "INSERT INTO later VALUES (1, 'new')"
follow_until_caught_up
assert_eq 8 "$RC" "new table: schema drift exit code"
assert_contains "$ERR" 'table "public"."later" has changes on the source but does not exist on the target' "new table: names it"
tgt_sql -c "CREATE TABLE later (id int PRIMARY KEY, v text)"
follow_until_caught_up
assert_eq 0 "$RC" "new table: follow continues"
assert_eq new "$(tgt_sql -c "SELECT v FROM later")" "new table: its rows arrive"

# 5. a table that lost its primary key: UPDATEs would be dropped by wal2json
src_sql -c "ALTER TABLE keyed DROP CONSTRAINT keyed_pkey"
follow_until_caught_up
assert_eq 8 "$RC" "lost primary key: schema drift exit code"
assert_contains "$ERR" "public.keyed has no primary key and no replica identity" "lost primary key: names the table"
assert_contains "$ERR" "REPLICA IDENTITY FULL" "lost primary key: names the fix"
src_sql -c "ALTER TABLE keyed REPLICA IDENTITY FULL"
tgt_sql -c "ALTER TABLE keyed DROP CONSTRAINT keyed_pkey"
follow_until_caught_up
assert_eq 0 "$RC" "lost primary key: follow continues with REPLICA IDENTITY FULL"

assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "after every fix, source and target are identical"
done_testing
