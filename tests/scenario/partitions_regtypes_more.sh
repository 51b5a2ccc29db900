#!/usr/bin/env bash
# Scenario: more trees and OID-valued values (issue 19, classes 4 and 7),
# shapes the first scenario leaves out:
#   - LIST on an enum with a DEFAULT leaf, RANGE on an enum whose labels were
#     added BEFORE others (fractional sort order), HASH on a composite with
#     an enum field, on an enum array, on a domain over an enum, a HASH on
#     an enum under a LIST on text, odd names (quotes, dots, spaces, case);
#   - keys made of reg* values, reg* arrays and composites with enum fields;
#   - reg* values naming objects that captured DDL creates while following,
#     and a hash-on-enum subtree it adds under a list leaf;
#   - kill -9 of copy in the middle of a routed tree's COPY, then the rerun;
#   - UPDATEs moving rows across leaves from two writers that keep writing
#     during the switchover, killed -9 once the source is fenced and rerun
#     (`--reverse`), then the reverse follower writing into the old
#     source's routed trees.
# Trees are compared whole (their leaves may rightly differ), every table
# and sequence after each step.
# The source is PostgreSQL 13 (wal2json 2.3) where installed, else 15:
#   PARTS_SRC_VERSION=15 to choose.
. "$(dirname "$0")/../lib/harness.sh"
src_version=${PARTS_SRC_VERSION:-$(pg_bin_for 13 >/dev/null 2>&1 && echo 13 || echo 15)}
harness_start_versions "$src_version" 15
echo "# source PostgreSQL $src_version"

# shift the target's OIDs so that enums hash differently there
tgt_sql >/dev/null <<'SQL'
CREATE SCHEMA junk;
DO $$ BEGIN FOR i IN 1..120 LOOP
  EXECUTE format('CREATE TYPE junk.e%s AS ENUM (%L, %L)', i, 'a' || i, 'b' || i);
END LOOP; END $$;
SET client_min_messages = warning;
DROP SCHEMA junk CASCADE;
SQL

src_sql >/dev/null <<'SQL'
CREATE SCHEMA "Sch.ema";
CREATE TYPE "Sch.ema"."Mood" AS ENUM ('sad', 'ok', 'happy');
ALTER TYPE "Sch.ema"."Mood" ADD VALUE 'meh' BEFORE 'ok';
ALTER TYPE "Sch.ema"."Mood" ADD VALUE 'blue' BEFORE 'sad';
CREATE TYPE kp AS (n int, m "Sch.ema"."Mood");
CREATE DOMAIN dmood AS "Sch.ema"."Mood" CHECK (VALUE <> 'blue');

-- LIST on the enum, with a DEFAULT leaf
CREATE TABLE "Sch.ema"."List ""E""" (id int, m "Sch.ema"."Mood", v text, PRIMARY KEY (id, m)) PARTITION BY LIST (m);
CREATE TABLE "Sch.ema"."le sad" PARTITION OF "Sch.ema"."List ""E""" FOR VALUES IN ('sad', 'blue');
CREATE TABLE "Sch.ema"."le ok" PARTITION OF "Sch.ema"."List ""E""" FOR VALUES IN ('ok');
CREATE TABLE "Sch.ema"."le def" PARTITION OF "Sch.ema"."List ""E""" DEFAULT;
-- RANGE on the enum, by its sort order
CREATE TABLE re (id int, m "Sch.ema"."Mood", PRIMARY KEY (id, m)) PARTITION BY RANGE (m);
CREATE TABLE re_low PARTITION OF re FOR VALUES FROM (MINVALUE) TO ('sad');
CREATE TABLE re_mid PARTITION OF re FOR VALUES FROM ('sad') TO ('ok');
CREATE TABLE re_high PARTITION OF re FOR VALUES FROM ('ok') TO (MAXVALUE);
-- HASH on a composite holding an enum
-- (a composite has a hash operator class from PostgreSQL 14: before, a table)
DO $$ BEGIN
  IF current_setting('server_version_num')::int >= 140000 THEN
    CREATE TABLE hk (k kp, v int, PRIMARY KEY (k)) PARTITION BY HASH (k);
    CREATE TABLE hk_0 PARTITION OF hk FOR VALUES WITH (MODULUS 3, REMAINDER 0);
    CREATE TABLE hk_1 PARTITION OF hk FOR VALUES WITH (MODULUS 3, REMAINDER 1);
    CREATE TABLE hk_2 PARTITION OF hk FOR VALUES WITH (MODULUS 3, REMAINDER 2);
  ELSE
    CREATE TABLE hk (k kp, v int, PRIMARY KEY (k));
  END IF;
END $$;
-- HASH on an enum array
CREATE TABLE ha (id int, ms "Sch.ema"."Mood"[], PRIMARY KEY (id, ms)) PARTITION BY HASH (ms);
CREATE TABLE ha_0 PARTITION OF ha FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE ha_1 PARTITION OF ha FOR VALUES WITH (MODULUS 2, REMAINDER 1);
-- HASH on a domain over the enum
CREATE TABLE hd (id int, m dmood, PRIMARY KEY (id, m)) PARTITION BY HASH (m);
CREATE TABLE hd_0 PARTITION OF hd FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE hd_1 PARTITION OF hd FOR VALUES WITH (MODULUS 2, REMAINDER 1);
-- LIST on text, then HASH on the enum below one leaf
CREATE TABLE lh (region text, id int, m "Sch.ema"."Mood", PRIMARY KEY (region, id, m)) PARTITION BY LIST (region);
CREATE TABLE "lh EU" PARTITION OF lh FOR VALUES IN ('eu') PARTITION BY HASH (m);
CREATE TABLE "lh EU 0" PARTITION OF "lh EU" FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE "lh EU 1" PARTITION OF "lh EU" FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE "lh US" PARTITION OF lh FOR VALUES IN ('us');
-- a big routed tree for the kill -9 in its COPY
CREATE TABLE big (id int, m "Sch.ema"."Mood", pad text, PRIMARY KEY (id, m)) PARTITION BY HASH (m);
CREATE TABLE big_0 PARTITION OF big FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE big_1 PARTITION OF big FOR VALUES WITH (MODULUS 2, REMAINDER 1);

INSERT INTO "Sch.ema"."List ""E""" SELECT g, (enum_range(NULL::"Sch.ema"."Mood"))[1 + g % 5], 'l' || g FROM generate_series(1, 1000) g;
INSERT INTO re SELECT g, (enum_range(NULL::"Sch.ema"."Mood"))[1 + g % 5] FROM generate_series(1, 1000) g;
INSERT INTO hk SELECT ROW(g, (enum_range(NULL::"Sch.ema"."Mood"))[1 + g % 5])::kp, g FROM generate_series(1, 1000) g;
INSERT INTO ha SELECT g, ARRAY[(enum_range(NULL::"Sch.ema"."Mood"))[1 + g % 5], 'ok'] FROM generate_series(1, 600) g;
INSERT INTO hd SELECT g, (enum_range(NULL::"Sch.ema"."Mood"))[2 + g % 4] FROM generate_series(1, 600) g;
INSERT INTO lh SELECT CASE WHEN g % 3 = 0 THEN 'us' ELSE 'eu' END, g, (enum_range(NULL::"Sch.ema"."Mood"))[1 + g % 5] FROM generate_series(1, 900) g;
INSERT INTO big SELECT g, (enum_range(NULL::"Sch.ema"."Mood"))[1 + g % 5], repeat('x', 100) FROM generate_series(1, 150000) g;

-- keys made of OID-valued types
CREATE SCHEMA "Odd ""S""";
CREATE TABLE "Odd ""S"""."T.1" (id int PRIMARY KEY);
CREATE TYPE "Odd ""S""".e AS ENUM ('x');
CREATE TABLE rk (c regclass, t regtype[], k kp, n int, PRIMARY KEY (c, t, k));
INSERT INTO rk VALUES ('"Odd ""S"""."T.1"', '{"\"Odd \"\"S\"\"\".e",int4}', '(1,ok)', 1),
                      ('pg_class', '{}', '(2,blue)', 2), ('rk', '{kp,kp[]}', '(3,)', 3);
CREATE TABLE rkf (c regclass, r regrole, m "Sch.ema"."Mood");
ALTER TABLE rkf REPLICA IDENTITY FULL;
INSERT INTO rkf VALUES ('"Odd ""S"""."T.1"', 'postgres', 'ok'), ('rk', 'pg_monitor', 'blue'), ('rk', 'pg_monitor', 'blue');
SQL

# trees whole (not leaves), every other table
fp() {
  DB=app cluster_sql "$1" <<'SQL'
SELECT format('SELECT %L, count(*), coalesce(md5(string_agg(r::text, E''\n'' ORDER BY r::text)), ''-'') FROM %I.%I r',
              n.nspname || '.' || c.relname, n.nspname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgcutover', 'pgcutover_fence') AND n.nspname !~ '^pg_'
ORDER BY n.nspname, c.relname
\gexec
SQL
}
show_diff() { [ "$(fp src)" = "$(fp tgt)" ] || diff <(fp src) <(fp tgt) | head -8 | sed 's/^/#   /'; }

run_pgcutover ddl-capture install --source "$SRC_DSN"
assert_eq 0 "$RC" "ddl-capture install"

# kill -9 of copy while it loads the big routed tree, then the rerun
"$PGCUTOVER" copy --source "$SRC_DSN" --target "$TGT_DSN" --jobs 1 >>"$HARNESS_DIR/all-output.log" 2>&1 &
cpid=$!
killed=0
for _ in $(seq 1 300); do
  # the COPY into the root is one transaction: look for it running
  if [ "$(tgt_sql -c "SELECT count(*) FROM pg_stat_activity WHERE query ~ '^COPY .*big' AND pid <> pg_backend_pid()" 2>/dev/null)" = 1 ]; then
    kill -9 "$cpid" 2>/dev/null && killed=1; break
  fi
  kill -0 "$cpid" 2>/dev/null || break
  sleep 0.05
done
set +e; wait "$cpid"; set -e
assert_eq 1 "$killed" "copy was killed -9 while copying the routed tree"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN" --jobs 2
assert_eq 0 "$RC" "the rerun after kill -9 resumes and exits 0"
[ "$RC" = 0 ] || echo "# $(tail -c 800 <<<"$ERR")"
assert_eq "$(fp src)" "$(fp tgt)" "after the resumed copy: every table and tree identical (nothing twice, none lost)"
show_diff
assert_eq "$(src_sql -c "SELECT m, count(*) FROM re_mid GROUP BY m ORDER BY m")" "$(tgt_sql -c "SELECT m, count(*) FROM re_mid GROUP BY m ORDER BY m")" \
  "a range leaf on an enum holds the same labels (the sort order is carried)"
assert_eq "$(src_sql -c "SELECT count(*) FROM \"Sch.ema\".\"le def\"")" "$(tgt_sql -c "SELECT count(*) FROM \"Sch.ema\".\"le def\"")" \
  "the DEFAULT leaf of a list on an enum holds the same rows"

follower_start

# two writers moving rows across leaves, all the while (during the switchover too)
stop_file="$HARNESS_DIR/stop"
writer() {  # writer N
  local i=0 w=$1
  while [ ! -e "$stop_file" ]; do
    i=$((i + 1))
    src_sql >/dev/null 2>&1 <<SQL || true
BEGIN;
UPDATE "Sch.ema"."List ""E""" SET m = (enum_range(NULL::"Sch.ema"."Mood"))[1 + ($i + $w) % 5] WHERE id = ($i * 7 + $w) % 1000 + 1;
UPDATE re SET m = (enum_range(NULL::"Sch.ema"."Mood"))[1 + ($i * 3 + $w) % 5] WHERE id = ($i * 11 + $w) % 1000 + 1;
UPDATE hk SET k = ROW((k).n, (enum_range(NULL::"Sch.ema"."Mood"))[1 + ($i + $w) % 5])::kp WHERE (k).n = ($i * 13 + $w) % 1000 + 1;
UPDATE ha SET ms = ms || 'happy'::"Sch.ema"."Mood" WHERE id = ($i * 5 + $w) % 600 + 1 AND cardinality(ms) < 6;
UPDATE hd SET m = (CASE m::text WHEN 'ok' THEN 'happy' ELSE 'ok' END)::dmood WHERE id = ($i * 3 + $w) % 600 + 1;
UPDATE lh SET region = CASE region WHEN 'eu' THEN 'us' ELSE 'eu' END, m = 'meh' WHERE id = ($i * 17 + $w) % 900 + 1;
DELETE FROM big WHERE id = $i * 2 + $w;
INSERT INTO big VALUES (1000000 + $i * 2 + $w, 'blue', 'w$w');
INSERT INTO rkf VALUES ('re', 'postgres', 'sad');
DELETE FROM rkf WHERE ctid = (SELECT ctid FROM rkf WHERE c = 're'::regclass LIMIT 1) AND $i % 2 = 0;
COMMIT;
SQL
    sleep 0.02
  done
}
writer 1 & w1=$!
writer 2 & w2=$!

# reg* values naming objects that captured DDL creates while following
src_sql -c "CREATE SCHEMA \"Later S\"" -c "CREATE TABLE \"Later S\".\"Later.T\" (id int PRIMARY KEY)" \
        -c "CREATE TYPE \"Later S\".le AS ENUM ('q')" \
        -c "INSERT INTO rk VALUES ('\"Later S\".\"Later.T\"', '{\"\\\"Later S\\\".le\"}', '(9,happy)', 9)" \
        -c "UPDATE rk SET c = '\"Later S\".\"Later.T\"', n = 10 WHERE n = 1" \
        -c "INSERT INTO rkf VALUES ('\"Later S\".\"Later.T\"', 'postgres', 'happy')" >/dev/null
# a hash-on-enum subtree made by captured DDL under a list leaf, written at once
src_sql -c "CREATE TABLE \"lh Asia\" PARTITION OF lh FOR VALUES IN ('asia') PARTITION BY HASH (m)" \
        -c "CREATE TABLE \"lh Asia 0\" PARTITION OF \"lh Asia\" FOR VALUES WITH (MODULUS 2, REMAINDER 0)" \
        -c "CREATE TABLE \"lh Asia 1\" PARTITION OF \"lh Asia\" FOR VALUES WITH (MODULUS 2, REMAINDER 1)" \
        -c "INSERT INTO lh SELECT 'asia', g, (enum_range(NULL::\"Sch.ema\".\"Mood\"))[1 + g % 5] FROM generate_series(2000, 2300) g" \
        -c "UPDATE lh SET m = 'happy' WHERE region = 'asia' AND id % 3 = 0" -c "DELETE FROM lh WHERE region = 'asia' AND id % 7 = 0" >/dev/null
# kill -9 of the follower in the middle of the writes through the roots,
# then a new one: it resumes, nothing applied twice
sleep 0.7
kill -9 "$FOLLOWER"; wait "$FOLLOWER" 2>/dev/null || true
follower_start
sleep 1
# kill -9 of the switchover once the source is fenced (it then catches up
# and compares the routed trees), then the rerun the runbook says
"$PGCUTOVER" switchover --reverse --max-lag 5 --source "$SRC_DSN" --target "$TGT_DSN" >>"$HARNESS_DIR/all-output.log" 2>&1 &
sw=$!
for _ in $(seq 1 300); do
  [ "$(cluster_sql src -c "SELECT datallowconn FROM pg_database WHERE datname = 'app'")" = f ] && break
  kill -0 "$sw" 2>/dev/null || break
  sleep 0.02
done
kill -9 "$sw" 2>/dev/null && killed_sw=1 || killed_sw=0
wait "$sw" 2>/dev/null || true
pkill -9 -P "$sw" 2>/dev/null || true
assert_eq 1 "$killed_sw" "the switchover was killed -9 mid-way"
run_pgcutover switchover --reverse --max-lag 5 --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "the rerun of switchover --reverse under two writers moving rows across leaves exits 0"
[ "$RC" = 0 ] || echo "# $(tail -c 1200 <<<"$ERR")"
touch "$stop_file"; wait "$w1" "$w2" || true
set +e; wait "$FOLLOWER"; frc=$?; set -e
assert_eq 0 "$frc" "the follower exits 0 after the switchover"
assert_eq "$(fp src)" "$(fp tgt)" "after follow and switchover: every table and tree identical"
show_diff
assert_eq "$(db_sequences src)" "$(db_sequences tgt)" "every sequence equal"
assert_eq 2 "$(tgt_sql -c "SELECT count(*) FROM rk WHERE c = '\"Later S\".\"Later.T\"'::regclass")" "reg* values naming objects made by captured DDL resolve on the target"
assert_eq t "$(src_sql -c "SELECT count(*) > 4 FROM big WHERE id > 1000000")" "the writers wrote"
# a writer fenced in its session reads "read-only"; one that connects once
# the fence closed the database is refused
fenced=$(grep -cE "in a read-only transaction|is not currently accepting connections" "$HARNESS_DIR/src/log" || true)
assert_eq t "$([ "$fenced" -gt 0 ] && echo t || echo f)" "the writers were still writing when the source was fenced"

# the new primary writes; the reverse follower routes them into the old
# source's trees (where the enums hash as the old source's OIDs say)
tgt_sql >/dev/null <<'SQL'
UPDATE "Sch.ema"."List ""E""" SET m = 'happy' WHERE id % 10 = 1;
UPDATE hk SET k = ROW((k).n, 'blue')::kp WHERE (k).n % 9 = 0;
UPDATE ha SET ms = '{blue}' WHERE id % 8 = 0;
UPDATE hd SET m = 'sad' WHERE id % 4 = 0;
UPDATE lh SET m = 'ok', region = 'eu' WHERE id % 5 = 0;
INSERT INTO big SELECT 2000000 + g, (enum_range(NULL::"Sch.ema"."Mood"))[1 + g % 5], 'new primary' FROM generate_series(1, 500) g;
DELETE FROM big WHERE id BETWEEN 100 AND 300;
INSERT INTO rk VALUES ('lh', '{dmood}', '(11,meh)', 11);
SQL
run_pgcutover follow --source "$TGT_DSN" --target "$SRC_DSN" --slot pgcutover_reverse --until-caught-up
assert_eq 0 "$RC" "the reverse follower catches up (exit 0)"
[ "$RC" = 0 ] || echo "# $(tail -c 1200 <<<"$ERR")"
assert_eq "$(fp tgt)" "$(fp src)" "after the reverse follower: the old source's tables and trees equal the new primary's"
show_diff

# a regproc or regoper naming an overloaded function or operator has no text
# the target takes: check refuses it by table, column and value, before any
# slot, with the ALTER that fixes it; after it, copy and follow carry them
for side in src tgt; do cluster_sql "$side" -c "CREATE DATABASE amb" >/dev/null; done
DB=amb cluster_sql src >/dev/null <<'SQL'
CREATE SCHEMA "S p";
CREATE FUNCTION "S p".ov(int) RETURNS int LANGUAGE sql AS 'SELECT $1';
CREATE FUNCTION "S p".ov(text) RETURNS text LANGUAGE sql AS 'SELECT $1';
CREATE FUNCTION "S p".single(int) RETURNS int LANGUAGE sql AS 'SELECT $1';
CREATE TABLE fr (id int PRIMARY KEY, p regproc, o regoper, ps regproc[]);
INSERT INTO fr VALUES (1, '"S p".single', NULL, '{"\"S p\".single",now}');
INSERT INTO fr VALUES (2, '"S p".ov(int)'::regprocedure, '+(int4,int4)'::regoperator, ARRAY['"S p".ov(text)'::regprocedure::regproc]);
CREATE ROLE "Only.On Source";
CREATE TABLE who (id int PRIMARY KEY, r regrole, rs regrole[]);
INSERT INTO who VALUES (1, 'postgres', '{"\"Only.On Source\"",pg_monitor}');
SQL
AMB_SRC=${SRC_DSN/dbname=app/dbname=amb}; AMB_TGT=${TGT_DSN/dbname=app/dbname=amb}
run_pgcutover check --source "$AMB_SRC" --target "$AMB_TGT" --slot amb
assert_eq 4 "$RC" "check refuses a regproc naming an overloaded function (preflight exit code)"
assert_contains "$OUT" "3 column(s) hold a regproc or regoper value whose text, a bare name, names several" "check names the three columns"
assert_contains "$OUT" "public.fr column p holds \"S p\".ov(integer) (fix: ALTER TABLE public.fr ALTER COLUMN p TYPE pg_catalog.regprocedure)" "... the value and the fix"
assert_contains "$OUT" "public.fr column o holds +(integer,integer) (fix: ALTER TABLE public.fr ALTER COLUMN o TYPE pg_catalog.regoperator)" "... an operator"
assert_contains "$OUT" "public.fr column ps holds \"S p\".ov(text) (fix: ALTER TABLE public.fr ALTER COLUMN ps TYPE pg_catalog.regprocedure[])" "... an array"
assert_contains "$OUT" "1 role(s) that regrole values name do not exist on the target" "check names a role a regrole value names and the target lacks"
assert_contains "$OUT" 'CREATE ROLE "Only.On Source"' "... with the statement that fixes it"
assert_eq 0 "$(cluster_sql src -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'amb'")" "no slot exists"
cluster_sql tgt -c 'CREATE ROLE "Only.On Source"' >/dev/null
DB=amb cluster_sql src -c "ALTER TABLE public.fr ALTER COLUMN p TYPE pg_catalog.regprocedure" \
  -c "ALTER TABLE public.fr ALTER COLUMN o TYPE pg_catalog.regoperator" -c "ALTER TABLE public.fr ALTER COLUMN ps TYPE pg_catalog.regprocedure[]" >/dev/null
run_pgcutover copy --source "$AMB_SRC" --target "$AMB_TGT" --slot amb
assert_eq 0 "$RC" "after the fix the check's ALTERs name: copy exits 0"
DB=amb cluster_sql src -c "INSERT INTO fr VALUES (3, '\"S p\".ov(text)', '-(int4,int4)', '{\"\\\"S p\\\".ov(integer)\"}')" -c "UPDATE fr SET p = '\"S p\".ov(int)' WHERE id = 1" \
  -c "UPDATE who SET r = '\"Only.On Source\"' WHERE id = 1" -c "INSERT INTO who VALUES (2, '\"Only.On Source\"', '{}')" >/dev/null
run_pgcutover follow --source "$AMB_SRC" --target "$AMB_TGT" --slot amb --until-caught-up
assert_eq 0 "$RC" "follow carries them (exit 0)"
amb_text() { DB=amb cluster_sql "$1" -c "SET search_path = ''" -c "SELECT string_agg(x::text, ' ' ORDER BY id) FROM public.fr x" -c "SELECT string_agg(x::text, ' ' ORDER BY id) FROM public.who x"; }
assert_eq "$(amb_text src)" "$(amb_text tgt)" "the overloaded functions and operators arrive as themselves"

done_testing
