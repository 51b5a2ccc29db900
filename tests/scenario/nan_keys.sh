#!/usr/bin/env bash
# Scenario (issue 19, class 3): NaN and +-Infinity where they find a row.
# wal2json prints NaN, Infinity and -Infinity of float4, float8 and numeric
# as null, like NULL, in the old row too.  Keys of float8, float4, numeric
# and (int, float8) holding all three, and REPLICA IDENTITY FULL tables whose
# rows differ only by NaN/+-Infinity/NULL, are updated and deleted (and
# moved between finite and non-finite keys), and NOT NULL float/numeric
# columns outside the key hold them, while follow runs under
# concurrent load; after the switchover every table and sequence is
# identical.  check names the tables and how follow treats them.
. "$(dirname "$0")/../lib/harness.sh"
harness_start

src_sql <<'SQL'
-- a float8 key holding NaN, Infinity and -Infinity at once
CREATE TABLE fk (id float8 PRIMARY KEY, v int, note text);
INSERT INTO fk SELECT g, g, 'n' || g FROM generate_series(1, 200) g;
INSERT INTO fk VALUES ('NaN', -1, 'nan'), ('Infinity', -2, 'inf'), ('-Infinity', -3, 'minf');
-- numeric (PostgreSQL 14+ has numeric infinities)
CREATE TABLE nk (id numeric PRIMARY KEY, v int);
INSERT INTO nk SELECT g / 10.0, g FROM generate_series(1, 200) g;
INSERT INTO nk VALUES ('NaN', -1), ('Infinity', -2), ('-Infinity', -3);
-- float4
CREATE TABLE f4 (id real PRIMARY KEY, v int);
INSERT INTO f4 SELECT g, g FROM generate_series(1, 100) g;
INSERT INTO f4 VALUES ('NaN', -1), ('Infinity', -2), ('-Infinity', -3);
-- a composite key, the float second
CREATE TABLE ck (a int, b float8, v text, PRIMARY KEY (a, b));
INSERT INTO ck VALUES (1, 'NaN', 'x'), (1, 'Infinity', 'y'), (1, '-Infinity', 'z'), (1, 1.5, 'w'),
                      (2, 'NaN', 'q'), (2, '-Infinity', 'r'), (3, 'NaN', 's');
-- REPLICA IDENTITY FULL, no key: rows that differ only by NaN/+-Infinity/NULL
CREATE TABLE rf (g int, x float8, t text);
ALTER TABLE rf REPLICA IDENTITY FULL;
INSERT INTO rf VALUES (1, 'NaN', 'a'), (1, 'Infinity', 'a'), (1, '-Infinity', 'a'), (1, NULL, 'a'),
                      (1, 2.5, 'a'), (2, 'NaN', 'b'), (2, 'NaN', 'b'), (3, NULL, 'c');
INSERT INTO rf SELECT g, g, 'fill' FROM generate_series(10, 200) g;
-- REPLICA IDENTITY FULL with numeric and float4 columns
CREATE TABLE rfn (n numeric, r real, k int);
ALTER TABLE rfn REPLICA IDENTITY FULL;
INSERT INTO rfn VALUES ('NaN', 'Infinity', 1), ('Infinity', 'NaN', 1), ('-Infinity', NULL, 1), (NULL, '-Infinity', 1),
                       (1.0, 1, 2), (1.00, 1, 2);
-- a replica identity index (not the primary key) on a float column
CREATE TABLE ri (id int PRIMARY KEY, f float8 NOT NULL, v int);
CREATE UNIQUE INDEX ri_f ON ri (f);
ALTER TABLE ri REPLICA IDENTITY USING INDEX ri_f;
INSERT INTO ri VALUES (1, 'NaN', 1), (2, 'Infinity', 2), (3, '-Infinity', 3), (4, 0.5, 4);
-- a float8 key and a TOASTed column that an UPDATE leaves out when it does not change it
CREATE TABLE tt (id float8 PRIMARY KEY, v int, big text);
ALTER TABLE tt ALTER COLUMN big SET STORAGE EXTERNAL;
INSERT INTO tt SELECT x, 0, string_agg(md5(x::text || g), '') FROM unnest('{NaN,Infinity,-Infinity,1}'::float8[]) x,
  generate_series(1, 200) g GROUP BY x;
-- a partitioned table: the changes come per partition
CREATE TABLE pt (id float8, grp int, v int, PRIMARY KEY (id, grp)) PARTITION BY LIST (grp);
CREATE TABLE pt1 PARTITION OF pt FOR VALUES IN (1);
CREATE TABLE pt2 PARTITION OF pt FOR VALUES IN (2);
INSERT INTO pt SELECT x, g, 0 FROM unnest('{NaN,Infinity,-Infinity,1}'::float8[]) x, generate_series(1, 2) g;
-- a TRUNCATE between changes of NaN keys
CREATE TABLE tr (id float8 PRIMARY KEY, v int);
INSERT INTO tr VALUES ('NaN', 1), ('Infinity', 2), (3, 3);
-- control: NaN only in a non-key column (the re-read by key)
CREATE TABLE nv (id serial PRIMARY KEY, x float8);
INSERT INTO nv (x) VALUES ('NaN'), ('Infinity'), (NULL), (1);
-- NOT NULL float/numeric columns outside the key: written as NULL first
-- (to be fixed at commit) the row would break the constraint
CREATE TABLE nn (id int PRIMARY KEY, price numeric NOT NULL, r real NOT NULL, note text);
INSERT INTO nn SELECT g, g, g, 'n' || g FROM generate_series(1, 20) g;
INSERT INTO nn VALUES (100, 'NaN', 'Infinity', 'x');
-- REPLICA IDENTITY FULL with an int key, and FULL without a key, NOT NULL
CREATE TABLE fpk (id int PRIMARY KEY, x float8 NOT NULL, y numeric);
ALTER TABLE fpk REPLICA IDENTITY FULL;
INSERT INTO fpk VALUES (1, 'NaN', 'NaN'), (2, 'Infinity', NULL), (3, '-Infinity', 1), (4, 4, 'Infinity');
-- a float key and a NOT NULL float column: a row leaves a NaN key for a
-- finite one (its new row inserted) with Infinity in the column
CREATE TABLE kn (id float8 PRIMARY KEY, x float8 NOT NULL);
INSERT INTO kn VALUES ('NaN', 'Infinity'), ('Infinity', 'NaN'), (1, '-Infinity'), (2, 2);
CREATE TABLE fnn (x float8 NOT NULL, t text);
ALTER TABLE fnn REPLICA IDENTITY FULL;
INSERT INTO fnn VALUES ('NaN', 'a'), ('Infinity', 'a'), ('-Infinity', 'a'), (0, 'a');
SQL

run_pgcutover check --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "check: exits 0 (every such table is carried exactly: a warning, no refusal)"
assert_contains "$OUT" "warn  float_identity" "check: a warning for tables found by float/numeric columns"
assert_contains "$OUT$ERR" "public.fk (id)" "check: names the float8 key"
assert_contains "$OUT$ERR" "public.rf (full row)" "check: names the REPLICA IDENTITY FULL table"
assert_contains "$OUT$ERR" "public.ri (f)" "check: names the replica identity index"
assert_not_contains "$OUT$ERR" "public.nv (" "check: a float column outside the identity is no finding"

run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "after copy: every table identical"

follower_start

# concurrent load on the finite rows while the non-finite ones change
load() {
  local i=0
  while [ ! -f "$HARNESS_DIR/stop-load" ]; do
    i=$((i + 1))
    src_sql -c "UPDATE fk SET v = v + 1 WHERE id = $((i % 200 + 1))" \
            -c "INSERT INTO nk VALUES ($((1000 + i)), $i)" \
            -c "UPDATE rf SET t = 'l$i' WHERE g = $((i % 190 + 10))" \
            -c "UPDATE f4 SET v = v + 1 WHERE id = $((i % 100 + 1))" \
            -c "UPDATE nv SET x = CASE WHEN $((i % 3)) = 0 THEN 'NaN' WHEN $((i % 3)) = 1 THEN NULL ELSE $i END WHERE id = 4" \
            -c "UPDATE ck SET v = 'l$i' WHERE a = 1 AND b = 'Infinity'" \
            -c "INSERT INTO rf VALUES (300, CASE WHEN $((i % 2)) = 0 THEN 'NaN'::float8 END, 'l$i')" \
            -c "UPDATE rfn SET k = k + 1 WHERE n IS NULL" \
            -c "INSERT INTO nn VALUES ($((1000 + i)), CASE WHEN $((i % 2)) = 0 THEN 'NaN' ELSE '$i' END::numeric, 'Infinity', 'l$i')" >/dev/null 2>&1 || sleep 0.2
  done
}
load &
LOADER=$!

src_sql <<'SQL'
-- float8 key: update and delete each of NaN, Infinity, -Infinity; move rows across
UPDATE fk SET v = 100, note = 'nan2' WHERE id = 'NaN';
DELETE FROM fk WHERE id = '-Infinity';
UPDATE fk SET v = 200 WHERE id = 'Infinity';
UPDATE fk SET id = 1000 WHERE id = 'Infinity';
UPDATE fk SET id = '-Infinity', note = 'was 5' WHERE id = 5;
INSERT INTO fk VALUES ('Infinity', 7, 'again');
BEGIN;
DELETE FROM fk WHERE id = 'NaN';
INSERT INTO fk VALUES ('NaN', 8, 'reborn');
UPDATE fk SET v = 9 WHERE id = '-Infinity';
COMMIT;
-- numeric key
DELETE FROM nk WHERE id = 'Infinity';
UPDATE nk SET v = 42 WHERE id = 'NaN';
UPDATE nk SET id = 'Infinity' WHERE id = '-Infinity';
UPDATE nk SET id = '-Infinity' WHERE id = 0.1;
-- float4 key
UPDATE f4 SET v = 11 WHERE id = 'NaN';
DELETE FROM f4 WHERE id = 'Infinity';
UPDATE f4 SET id = 'Infinity' WHERE id = '-Infinity';
-- composite key
DELETE FROM ck WHERE a = 1 AND b = '-Infinity';
UPDATE ck SET v = 'x2' WHERE a = 1 AND b = 'NaN';
UPDATE ck SET b = 'Infinity' WHERE a = 2 AND b = 'NaN';
UPDATE ck SET a = 4 WHERE a = 3;
-- REPLICA IDENTITY FULL: the -Infinity row deleted, the NaN row updated
DELETE FROM rf WHERE g = 1 AND x = '-Infinity';
UPDATE rf SET t = 'nan-updated' WHERE g = 1 AND x = 'NaN';
UPDATE rf SET x = 'Infinity' WHERE g = 1 AND x IS NULL;
DELETE FROM rf WHERE ctid = (SELECT ctid FROM rf WHERE g = 2 LIMIT 1);
UPDATE rf SET x = 3.5 WHERE g = 3;
INSERT INTO rf VALUES (5, 'NaN', 'e'), (5, NULL, 'e'), (5, '-Infinity', 'e');
UPDATE rf SET x = NULL WHERE g = 10;
UPDATE rfn SET k = 5 WHERE n = 'Infinity';
DELETE FROM rfn WHERE r = '-Infinity';
UPDATE rfn SET r = 'NaN' WHERE n = '-Infinity';
DELETE FROM rfn WHERE n = 1.00 AND n::text = '1.00';
-- replica identity index on a float
DELETE FROM ri WHERE f = 'Infinity';
UPDATE ri SET v = 10 WHERE f = 'NaN';
UPDATE ri SET f = 'Infinity' WHERE f = '-Infinity';
-- unchanged TOAST values: the key moves NaN -> finite, Infinity stays
UPDATE tt SET id = 77, v = 1 WHERE id = 'NaN';
UPDATE tt SET v = 2 WHERE id = 'Infinity';
UPDATE tt SET id = 'NaN' WHERE id = '-Infinity';
-- partitions
UPDATE pt SET v = 1 WHERE id = 'NaN' AND grp = 1;
DELETE FROM pt WHERE id = 'Infinity' AND grp = 2;
UPDATE pt SET grp = 2 WHERE id = 'Infinity' AND grp = 1;
-- TRUNCATE in the middle of a transaction's NaN changes
BEGIN;
UPDATE tr SET v = 10 WHERE id = 'NaN';
TRUNCATE tr;
INSERT INTO tr VALUES ('NaN', 5), ('-Infinity', 6);
UPDATE tr SET v = 7 WHERE id = '-Infinity';
COMMIT;
-- control
UPDATE nv SET x = '-Infinity' WHERE x IS NULL;
-- NOT NULL columns: inserted, updated, moved to another key, deleted
INSERT INTO nn VALUES (101, 'Infinity', 'NaN', 'y'), (102, '-Infinity', '-Infinity', 'z');
UPDATE nn SET price = 'NaN' WHERE id = 1;
UPDATE nn SET note = 'kept' WHERE id = 100;
UPDATE nn SET id = 200, r = 'NaN' WHERE id = 2;
UPDATE nn SET price = 5 WHERE id = 101;
DELETE FROM nn WHERE id = 102;
BEGIN;
INSERT INTO nn VALUES (103, 'NaN', 1, 'then deleted');
DELETE FROM nn WHERE id = 103;
INSERT INTO nn VALUES (104, 'NaN', 1, 'then updated');
UPDATE nn SET price = 4 WHERE id = 104;
COMMIT;
UPDATE fpk SET y = 2 WHERE id = 1;
UPDATE fpk SET x = 'NaN' WHERE id = 4;
DELETE FROM fpk WHERE id = 2;
UPDATE fpk SET id = 30, x = 'Infinity' WHERE id = 3;
INSERT INTO fpk VALUES (5, '-Infinity', 'NaN');
UPDATE kn SET id = 50 WHERE id = 'NaN';
UPDATE kn SET id = 'NaN' WHERE id = 1;
UPDATE kn SET x = '-Infinity' WHERE id = 'Infinity';
UPDATE kn SET id = '-Infinity', x = 'NaN' WHERE id = 2;
UPDATE fnn SET t = 'b' WHERE x = 'Infinity';
DELETE FROM fnn WHERE x = '-Infinity';
INSERT INTO fnn VALUES ('-Infinity', 'c'), ('NaN', 'c');
UPDATE fnn SET x = 'Infinity' WHERE x = 0;
SQL
sleep 1
assert_eq t "$(src_sql -c "SELECT count(*) >= 3 FROM nk WHERE id > 1000")" "the load really wrote while following"

# the switchover fences the source under the load
run_pgcutover switchover --source "$SRC_DSN" --target "$TGT_DSN" --timeout 60
assert_eq 0 "$RC" "switchover under load exits 0 (its verify finds every table identical)"
touch "$HARNESS_DIR/stop-load"
wait "$LOADER"
kill "$FOLLOWER" 2>/dev/null || true
wait "$FOLLOWER" 2>/dev/null || true

assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "after switchover: every table identical"
assert_eq "$(db_sequences src)" "$(db_sequences tgt)" "after switchover: every sequence identical"
assert_eq "-Infinity|9|was 5" "$(tgt_sql -c "SELECT id, v, note FROM fk WHERE id = '-Infinity'")" "float8 key: a finite row moved to -Infinity, then updated"
assert_eq "1000|200" "$(tgt_sql -c "SELECT id, v FROM fk WHERE id = 1000")" "float8 key: the Infinity row moved to a finite key"
assert_eq "Infinity|a" "$(tgt_sql -c "SELECT x, t FROM rf WHERE g = 1 AND x = 'Infinity' ORDER BY t LIMIT 1")" "FULL: the +Infinity row survives the DELETE of the -Infinity one"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM rf WHERE x = '-Infinity' AND g = 1")" "FULL: the -Infinity row is gone"
assert_eq nan-updated "$(tgt_sql -c "SELECT t FROM rf WHERE g = 1 AND x = 'NaN'")" "FULL: the NaN row updated, not a NULL or Infinity one"
assert_eq "77|1|t" "$(tgt_sql -c "SELECT id, v, length(big) = 6400 FROM tt WHERE id = 77")" "TOAST: the row moved from NaN to a finite key keeps its unchanged TOASTed value"
assert_eq "NaN|NaN|Infinity|4" "$(tgt_sql -c "SELECT (SELECT price FROM nn WHERE id = 1), (SELECT r FROM nn WHERE id = 200), (SELECT r FROM nn WHERE id = 100), (SELECT price FROM nn WHERE id = 104)")" \
  "NOT NULL numeric/real columns: NaN and Infinity inserted and updated outside the key arrive (not a NOT NULL violation)"
assert_not_contains "$(cat "$HARNESS_DIR/all-output.log")" "diverged" "follow never reported a diverged target"

# PostgreSQL 13 source (wal2json 2.3, numeric without infinities) into 15,
# and a target whose key is not the source's: a precise stop, not a wrong row
if pg_bin_for 13 >/dev/null 2>&1; then
  harness_stop
  harness_start_versions 13 15
  src_sql <<'SQL'
CREATE TABLE nk (id numeric PRIMARY KEY, v int);
INSERT INTO nk SELECT g, g FROM generate_series(1, 50) g;
INSERT INTO nk VALUES ('NaN', -1);
CREATE TABLE fk (id float8 PRIMARY KEY, v int);
INSERT INTO fk VALUES ('NaN', 1), ('Infinity', 2), ('-Infinity', 3), (4, 4);
CREATE TABLE rf (x numeric, y float4);
ALTER TABLE rf REPLICA IDENTITY FULL;
INSERT INTO rf VALUES ('NaN', NULL), (NULL, 'NaN'), (NULL, NULL), ('NaN', 'Infinity');
CREATE TABLE lk (id float8 PRIMARY KEY, v int);
INSERT INTO lk VALUES ('NaN', 1), ('Infinity', 2);
CREATE TABLE nn (id int PRIMARY KEY, price numeric NOT NULL, r float8 NOT NULL);
INSERT INTO nn VALUES (1, 1, 1), (2, 'NaN', '-Infinity');
CREATE TABLE dn (id int PRIMARY KEY, x float8);
INSERT INTO dn VALUES (1, 1);
SQL
  run_pgcutover check --source "$SRC_DSN" --target "$TGT_DSN"
  assert_contains "$OUT" "public.nk (id), public.rf (full row)" "13->15: check names the tables on a PostgreSQL 13 source"
  run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
  assert_eq 0 "$RC" "13->15: copy exits 0"
  src_sql <<'SQL'
UPDATE nk SET v = 10 WHERE id = 'NaN';
DELETE FROM nk WHERE id = 'NaN';
UPDATE nk SET id = 'NaN' WHERE id = 7;
UPDATE fk SET v = 20 WHERE id = '-Infinity';
DELETE FROM fk WHERE id = 'NaN';
DELETE FROM rf WHERE x IS NULL AND y IS NULL;
UPDATE rf SET y = '-Infinity' WHERE x = 'NaN' AND y IS NULL;
SQL
  src_sql -c "DELETE FROM nk WHERE id = 'NaN'" -c "INSERT INTO nk VALUES ('NaN', 77)" \
          -c "INSERT INTO nn VALUES (3, 'NaN', 'Infinity')" -c "UPDATE nn SET r = 'NaN' WHERE id = 1" -c "UPDATE nn SET price = 2 WHERE id = 2"
  run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
  assert_eq 0 "$RC" "13->15: follow --until-caught-up exits 0"
  assert_eq "$(PGTZ=UTC db_fingerprint src)" "$(PGTZ=UTC db_fingerprint tgt)" "13->15: every table identical"

  tgt_sql -c "ALTER TABLE lk DROP CONSTRAINT lk_pkey"
  src_sql -c "UPDATE lk SET v = 5 WHERE id = 'Infinity'"
  run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
  assert_eq 8 "$RC" "no key on the target: follow stops with exit 8"
  assert_contains "$ERR" "UPDATE of public.lk: the source finds the row by columns the target has no key on" "no key on the target: names the table and why"
  assert_contains "$ERR" "fix: give the table the same primary key" "no key on the target: gives the fix"
  assert_eq "1 2" "$(tgt_sql -c "SELECT v FROM lk ORDER BY v" | tr '\n' ' ' | sed 's/ $//')" "no key on the target: no row was touched"
  tgt_sql -c "ALTER TABLE lk ADD PRIMARY KEY (id)"
  run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
  assert_eq 0 "$RC" "no key on the target: follow goes on once the key is back"
  assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "13->15: every table identical at the end"

  # NOT NULL only on the target: a NULL from the source is refused, not kept as NaN
  tgt_sql -c "ALTER TABLE dn ALTER x SET NOT NULL" >/dev/null
  src_sql -c "INSERT INTO dn VALUES (2, NULL), (3, 'NaN')" >/dev/null
  run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
  assert_eq 11 "$RC" "NOT NULL only on the target: follow stops (exit 11)"
  assert_contains "$ERR" 'null value in column "x" of relation "dn" violates not-null constraint' "NOT NULL only on the target: the target's refusal names the column"
  tgt_sql -c "ALTER TABLE dn ALTER x DROP NOT NULL" >/dev/null
  run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
  assert_eq 0 "$RC" "NOT NULL only on the target: follow goes on once the constraint matches the source's"
  assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "13->15: every table identical after that"
fi
done_testing
