#!/usr/bin/env bash
# Scenario (issue 19, classes 4 and 7): values whose meaning is an OID of the
# database they live in.
#   - hash partitioning on an enum (2 and 3 levels, (int, enum), REPLICA
#     IDENTITY FULL leaves): the target's enum OIDs differ, so its leaves
#     hold other rows; copy loads through the root, follow writes through
#     the root, rows move between partitions, a whole-tree TRUNCATE applies;
#     hash on text stays per leaf, leaf for leaf identical;
#   - reg* columns (and arrays) naming objects in odd schemas, enum[] and
#     composite columns: carried as the objects they name, at copy and while
#     following (wal2json prints them schema-qualified);
# through copy, follow under concurrent writes, and switchover (its verify
# compares routed trees whole).
. "$(dirname "$0")/../lib/harness.sh"
harness_start

for side in src tgt; do
  cluster_sql "$side" -c 'CREATE ROLE "Odd Role"' >/dev/null
done
# shift the target's OIDs, so that an OID carried as a number names nothing
# or something else there, and the enums' OIDs (their hashes) differ more
tgt_sql >/dev/null <<'SQL'
CREATE SCHEMA junk;
DO $$ BEGIN FOR i IN 1..150 LOOP
  EXECUTE format('CREATE TYPE junk.e%s AS ENUM (%L, %L)', i, 'a' || i, 'b' || i);
  EXECUTE format('CREATE TABLE junk.t%s (id int)', i);
END LOOP; END $$;
SET client_min_messages = warning;
DROP SCHEMA junk CASCADE;
SQL

src_sql >/dev/null <<'SQL'
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
ALTER TYPE mood ADD VALUE 'meh' BEFORE 'ok';
ALTER TYPE mood ADD VALUE 'ecstatic' AFTER 'happy';
ALTER TYPE mood ADD VALUE 'blue' BEFORE 'sad';
CREATE TYPE pair AS (a int, m mood);

-- two levels, hash on an enum
CREATE TABLE he (id int, m mood, v text, PRIMARY KEY (id, m)) PARTITION BY HASH (m);
CREATE TABLE he_0 PARTITION OF he FOR VALUES WITH (MODULUS 3, REMAINDER 0);
CREATE TABLE he_1 PARTITION OF he FOR VALUES WITH (MODULUS 3, REMAINDER 1);
CREATE TABLE he_2 PARTITION OF he FOR VALUES WITH (MODULUS 3, REMAINDER 2);
-- three levels: range, then hash on the enum
CREATE TABLE h3 (id int, m mood, v text, PRIMARY KEY (id, m)) PARTITION BY RANGE (id);
CREATE TABLE h3_lo PARTITION OF h3 FOR VALUES FROM (MINVALUE) TO (500) PARTITION BY HASH (m);
CREATE TABLE h3_lo_0 PARTITION OF h3_lo FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE h3_lo_1 PARTITION OF h3_lo FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE h3_hi PARTITION OF h3 FOR VALUES FROM (500) TO (MAXVALUE) PARTITION BY HASH (m);
CREATE TABLE h3_hi_0 PARTITION OF h3_hi FOR VALUES WITH (MODULUS 3, REMAINDER 0);
CREATE TABLE h3_hi_1 PARTITION OF h3_hi FOR VALUES WITH (MODULUS 3, REMAINDER 1);
CREATE TABLE h3_hi_2 PARTITION OF h3_hi FOR VALUES WITH (MODULUS 3, REMAINDER 2);
-- hash on (int, enum)
CREATE TABLE hie (id int, m mood, v text, PRIMARY KEY (id, m)) PARTITION BY HASH (id, m);
CREATE TABLE hie_0 PARTITION OF hie FOR VALUES WITH (MODULUS 4, REMAINDER 0);
CREATE TABLE hie_1 PARTITION OF hie FOR VALUES WITH (MODULUS 4, REMAINDER 1);
CREATE TABLE hie_2 PARTITION OF hie FOR VALUES WITH (MODULUS 4, REMAINDER 2);
CREATE TABLE hie_3 PARTITION OF hie FOR VALUES WITH (MODULUS 4, REMAINDER 3);
-- no key: REPLICA IDENTITY FULL leaves, duplicate rows
CREATE TABLE hef (m mood, v int) PARTITION BY HASH (m);
CREATE TABLE hef_0 PARTITION OF hef FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE hef_1 PARTITION OF hef FOR VALUES WITH (MODULUS 2, REMAINDER 1);
ALTER TABLE hef_0 REPLICA IDENTITY FULL;
ALTER TABLE hef_1 REPLICA IDENTITY FULL;
-- truncated whole while following
CREATE TABLE htr (id int, m mood, PRIMARY KEY (id, m)) PARTITION BY HASH (m);
CREATE TABLE htr_0 PARTITION OF htr FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE htr_1 PARTITION OF htr FOR VALUES WITH (MODULUS 2, REMAINDER 1);
-- a nondeterministic collation hashes an ICU sort key: through the root
CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE hc (k text COLLATE ci PRIMARY KEY, v int) PARTITION BY HASH (k);
CREATE TABLE hc_0 PARTITION OF hc FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE hc_1 PARTITION OF hc FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO hc SELECT 'Key' || g, g FROM generate_series(1, 300) g;
-- hash on text: portable, copied per leaf
CREATE TABLE ht (k text PRIMARY KEY, v int) PARTITION BY HASH (k);
CREATE TABLE ht_0 PARTITION OF ht FOR VALUES WITH (MODULUS 4, REMAINDER 0);
CREATE TABLE ht_1 PARTITION OF ht FOR VALUES WITH (MODULUS 4, REMAINDER 1);
CREATE TABLE ht_2 PARTITION OF ht FOR VALUES WITH (MODULUS 4, REMAINDER 2);
CREATE TABLE ht_3 PARTITION OF ht FOR VALUES WITH (MODULUS 4, REMAINDER 3);

INSERT INTO he SELECT g, (enum_range(NULL::mood))[1 + g % 6], 'he' || g FROM generate_series(1, 3000) g;
INSERT INTO h3 SELECT g, (enum_range(NULL::mood))[1 + g % 6], 'h3' || g FROM generate_series(1, 1000) g;
INSERT INTO hie SELECT g, (enum_range(NULL::mood))[1 + g % 6], 'hie' || g FROM generate_series(1, 2000) g;
INSERT INTO hef SELECT (enum_range(NULL::mood))[1 + g % 6], g % 7 FROM generate_series(1, 600) g;
INSERT INTO htr SELECT g, (enum_range(NULL::mood))[1 + g % 6] FROM generate_series(1, 100) g;
INSERT INTO ht SELECT 'k' || g, g FROM generate_series(1, 4000) g;

-- objects with odd names for reg* values
CREATE SCHEMA "Odd Schema";
CREATE TABLE "Odd Schema"."T.1" (id int PRIMARY KEY);
CREATE SCHEMA s2;
CREATE TABLE s2.rt_some_table (id int PRIMARY KEY);
CREATE TYPE s2."Odd Type" AS ENUM ('x');
CREATE FUNCTION s2.twice(int) RETURNS int LANGUAGE sql AS 'SELECT $1 * 2';
CREATE FUNCTION "Odd Schema"."f.n"(text) RETURNS text LANGUAGE sql AS 'SELECT $1';
CREATE TEXT SEARCH CONFIGURATION s2.cfg (COPY = pg_catalog.english);
CREATE TABLE regs (
  id int PRIMARY KEY, c regclass, t regtype, p regproc, pp regprocedure, n regnamespace,
  r regrole, o regoperator, cfg regconfig, ca regclass[], ta regtype[], ra regrole[],
  e mood[], comp pair, comps pair[]);
INSERT INTO regs VALUES
  (1, '"Odd Schema"."T.1"', 's2."Odd Type"', 's2.twice', '"Odd Schema"."f.n"(text)', '"Odd Schema"',
   '"Odd Role"', '+(integer,integer)', 's2.cfg', '{"\"Odd Schema\".\"T.1\"",s2.rt_some_table,pg_class}',
   '{"s2.\"Odd Type\"",mood,pair,int4}', '{"\"Odd Role\"",postgres}', '{happy,blue}', '(1,meh)', '{"(2,sad)","(3,)"}'),
  (2, 's2.rt_some_table', 'pair', 'pg_catalog.now', 's2.twice(integer)', 's2',
   'postgres', '=(text,text)', 'english', '{}', '{mood[]}', NULL, '{}', NULL, NULL),
  (3, 'pg_class', 'integer', 'textlen', 'upper(text)', 'public', 'pg_monitor', '-(integer,integer)',
   'simple', NULL, NULL, NULL, NULL, '(,)', '{}');
SQL

# the fingerprint of every table, partitioned trees whole (their leaves may
# rightly hold other rows on the target), then every leaf of the text tree
fp() {
  DB=app cluster_sql "$1" <<'SQL'
SELECT format('SELECT %L, count(*), coalesce(md5(string_agg(r::text, E''\n'' ORDER BY r::text)), ''-'') FROM %I.%I r',
              n.nspname || '.' || c.relname, n.nspname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND (NOT c.relispartition OR c.relname ~ '^ht_')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgcutover') AND n.nspname !~ '^pg_'
ORDER BY n.nspname, c.relname
\gexec
SQL
}
regs_text() { DB=app cluster_sql "$1" -c "SET search_path = ''" -c "SELECT count(*), md5(string_agg(x::text, E'\n' ORDER BY id)) FROM public.regs x"; }

run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN" --jobs 2
assert_eq 0 "$RC" "copy exits 0"
[ "$RC" = 0 ] || tail -5 <<<"$ERR"
assert_not_contains "$ERR" "violates partition constraint" "copy: no partition constraint failure"
assert_eq "$(fp src)" "$(fp tgt)" "after copy: every table identical (trees compared whole, text-hash leaves leaf for leaf)"
assert_eq "$(regs_text src)" "$(regs_text tgt)" "after copy: reg* values name the same objects"
assert_eq '"Odd Schema"."T.1"|"Odd Schema"."f.n"(text)|"Odd Role"' \
  "$(tgt_sql -c "SET search_path = ''" -c "SELECT c, pp, r FROM public.regs WHERE id = 1")" "after copy: a regclass, regprocedure and regrole name the object"
assert_eq t "$(tgt_sql -c "SELECT c = '\"Odd Schema\".\"T.1\"'::regclass AND t = 's2.\"Odd Type\"'::regtype FROM regs WHERE id = 1")" \
  "after copy: the target's own OIDs, not the source's"
# the enum's hash differs: some rows really live in another leaf on the target
moved=$(for side in src tgt; do DB=app cluster_sql "$side" -c "SELECT string_agg(tableoid::regclass || ':' || count, ',' ORDER BY tableoid::regclass::text) FROM (SELECT tableoid, count(*) FROM he GROUP BY 1) x"; done | sort -u | wc -l)
assert_eq 2 "$moved" "the enum hashes to other leaves on the target (the test shifts OIDs)"
jobs=$(tgt_sql -c "SELECT string_agg(relname, ',' ORDER BY relname) FROM pgcutover.copy_job WHERE relname ~ '^(he|h3|hie|hef|htr|ht|hc)(_|$)'")
assert_eq "h3,hc,he,hef,hie,ht_0,ht_1,ht_2,ht_3,htr" "$jobs" "copy: enum trees are one job through the root, the text tree one job per leaf"

follower_start

# concurrent writes: inserts, updates moving rows between partitions, deletes,
# reg* values naming odd objects, a whole-tree TRUNCATE
load() {
  local i
  for i in $(seq 1 40); do
    src_sql >/dev/null <<SQL || true
BEGIN;
INSERT INTO he VALUES (10000 + $i, (enum_range(NULL::mood))[1 + $i % 6], 'new');
UPDATE he SET m = (enum_range(NULL::mood))[1 + ($i + 2) % 6], v = 'moved' WHERE id = $i * 7 AND m = (enum_range(NULL::mood))[1 + ($i * 7) % 6];
DELETE FROM he WHERE id = $i * 11;
UPDATE h3 SET m = 'ecstatic', id = id + 400 WHERE id = $i * 3 AND m <> 'ecstatic';
INSERT INTO h3 VALUES (5000 + $i, 'blue', 'x');
UPDATE hie SET m = 'meh' WHERE id = $i * 13 AND m <> 'meh';
DELETE FROM hie WHERE id = $i * 17;
UPDATE hef SET m = 'happy' WHERE ctid = (SELECT ctid FROM hef_0 WHERE v = $i % 7 LIMIT 1) AND tableoid = 'hef_0'::regclass;
DELETE FROM hef WHERE ctid = (SELECT ctid FROM hef_1 WHERE v = ($i + 3) % 7 LIMIT 1) AND tableoid = 'hef_1'::regclass;
INSERT INTO hef VALUES ('sad', $i % 7);
UPDATE ht SET v = -v WHERE k = 'k$i';
UPDATE hc SET v = -v WHERE k = 'KEY$i';
DELETE FROM hc WHERE k = 'key$((i + 100))';
INSERT INTO hc VALUES ('New$i', $i);
INSERT INTO ht VALUES ('new$i', $i);
DELETE FROM ht WHERE k = 'k$((i + 100))';
INSERT INTO regs VALUES (100 + $i, '"Odd Schema"."T.1"', 's2."Odd Type"', 's2.twice', '"Odd Schema"."f.n"(text)',
  '"Odd Schema"', '"Odd Role"', '+(integer,integer)', 's2.cfg', '{"\"Odd Schema\".\"T.1\"",s2.rt_some_table}',
  '{"s2.\"Odd Type\"",pair}', '{"\"Odd Role\""}', '{ok,ecstatic}', '($i,blue)', '{"($i,happy)"}');
UPDATE regs SET c = CASE WHEN $i % 2 = 0 THEN 'regs' ELSE 's2.rt_some_table' END, t = 'pair[]', n = 's2' WHERE id = 100 + $i - 1;
COMMIT;
SQL
    if [ "$i" = 20 ]; then src_sql -c "TRUNCATE htr" -c "INSERT INTO htr VALUES (1, 'sad'), (2, 'happy')" >/dev/null; fi
    sleep 0.05
  done
}
load &
loader=$!
wait "$loader"

run_pgcutover switchover --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "switchover exits 0 (its verify compares routed trees whole)"
[ "$RC" = 0 ] || { tail -5 <<<"$ERR"; grep -E "error|stop" "$HARNESS_DIR/all-output.log" | head -5; }
set +e; wait "$FOLLOWER"; frc=$?; set -e
assert_eq 0 "$frc" "the follower exits 0 after the switchover"
assert_eq "$(fp src)" "$(fp tgt)" "after follow and switchover: every table identical"
assert_eq "$(regs_text src)" "$(regs_text tgt)" "after follow: reg* values written while following name the same objects"
assert_eq 40 "$(tgt_sql -c "SELECT count(*) FROM regs WHERE id > 100 AND c IN ('\"Odd Schema\".\"T.1\"'::regclass, 's2.rt_some_table'::regclass, 'public.regs'::regclass)")" \
  "after follow: regclass values resolve on the target"
assert_eq "2" "$(tgt_sql -c "SELECT count(*) FROM htr")" "a TRUNCATE of a routed tree applies to the whole tree"
assert_eq "$(db_sequences src)" "$(db_sequences tgt)" "sequences identical"

# a TRUNCATE of some leaves of a routed tree has no exact translation:
# follow stops and says so, the tree untouched on the target
for side in src tgt; do cluster_sql "$side" -c "CREATE DATABASE pt" >/dev/null; done
DB=pt cluster_sql src >/dev/null <<'SQL'
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE he (id int, m mood, PRIMARY KEY (id, m)) PARTITION BY HASH (m);
CREATE TABLE he_0 PARTITION OF he FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE he_1 PARTITION OF he FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO he SELECT g, (enum_range(NULL::mood))[1 + g % 3] FROM generate_series(1, 100) g;
SQL
PT_SRC=${SRC_DSN/dbname=app/dbname=pt}; PT_TGT=${TGT_DSN/dbname=app/dbname=pt}
run_pgcutover copy --source "$PT_SRC" --target "$PT_TGT" --slot pt
assert_eq 0 "$RC" "pt: copy exits 0"
DB=pt cluster_sql src -c "TRUNCATE he_1" >/dev/null
run_pgcutover follow --source "$PT_SRC" --target "$PT_TGT" --slot pt --until-caught-up
assert_eq 8 "$RC" "a TRUNCATE of one leaf of a routed tree stops follow (exit 8)"
assert_contains "$ERR" "a TRUNCATE on the source empties some partitions of public.he but not all" "... and says why"
assert_eq 100 "$(DB=pt cluster_sql tgt -c "SELECT count(*) FROM he")" "... and the target's tree is untouched"

# a string hash key hashes its bytes: between encodings, check refuses the
# tree by name (one routed anyway, here on (text, enum), is fine)
cluster_sql src -c "CREATE DATABASE lat ENCODING LATIN1 TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'" >/dev/null
DB=lat cluster_sql src >/dev/null <<'SQL'
CREATE TABLE ht (k text PRIMARY KEY) PARTITION BY HASH (k);
CREATE TABLE ht_0 PARTITION OF ht FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE ht_1 PARTITION OF ht FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TYPE e AS ENUM ('a');
CREATE TABLE hte (k text, m e, PRIMARY KEY (k, m)) PARTITION BY HASH (k, m);
CREATE TABLE hte_0 PARTITION OF hte FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE hte_1 PARTITION OF hte FOR VALUES WITH (MODULUS 2, REMAINDER 1);
SQL
run_pgcutover check --source "${SRC_DSN/dbname=app/dbname=lat}" --target "$TGT_DSN"
assert_contains "$OUT$ERR" "FAIL  hash_partition_encoding  1 table(s) are hash-partitioned on a string key" "check refuses a text hash key between encodings"
assert_contains "$OUT$ERR" "LATIN1 is not the target's UTF8: rows would belong to other partitions there: public.ht;" "check names the table, not the routed one"

done_testing
