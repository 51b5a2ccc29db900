#!/usr/bin/env bash
# Scenario: source databases that are not UTF-8 (issue 19, class 1).
#   LATIN1 -> UTF8 through copy, follow under concurrent writes and
#   switchover: text values, text keys, arrays, json/jsonb, enum labels,
#   non-ASCII names, bytea untouched, and "CafÃ©" (LATIN1 bytes that are
#   valid UTF-8) kept as "CafÃ©"; every table compared by the text each
#   side holds (both read in UTF-8 by psql), not by each server's bytes;
#   verify not fooled by a mis-decoded row planted on the target; captured
#   DDL with LATIN1 text (a default, a table name) replayed.
#   WIN1252 -> UTF8 (the euro sign is 0x80 there), EUC_JP -> UTF8.
#   UTF8 -> LATIN1: check names the table, column and key of a character
#   LATIN1 lacks; without one, copy and follow are exact; one written
#   later stops follow, named.  SQL_ASCII holding bytes that are not UTF-8: check and
#   copy refuse by table, column and key before any slot exists.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
# every psql below reads and writes UTF-8 text; pgcutover runs in the
# environment as it is (it declares its sessions' encodings itself)
psql() { PGCLIENTENCODING=${PSQL_ENCODING:-UTF8} command psql "$@"; }

mkdb() {  # mkdb src|tgt NAME ENCODING
  cluster_sql "$1" -c "CREATE DATABASE $2 ENCODING '$3' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
}
dsn() { echo "host=127.0.0.1 port=$1 dbname=$2 user=postgres password=$TEST_PASSWORD"; }
# The text of every user table, as psql prints it in UTF-8, sorted by the
# client (each server would sort its own bytes).
db_text() {  # db_text src|tgt DB
  DB=$2 cluster_sql "$1" <<'SQL' | LC_ALL=C sort
SELECT format('SELECT %L || ''|'' || r::text FROM %I.%I r', n.nspname || '.' || c.relname, n.nspname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgcutover') AND n.nspname !~ '^pg_'
\gexec
SQL
}

# --- LATIN1 source, UTF-8 target ---------------------------------------------
mkdb src lat LATIN1
SRC_DSN=$(dsn "$SRC_PORT" lat)
lat_sql() { DB=lat cluster_sql src "$@"; }
lat_sql <<'SQL'
CREATE TYPE mood AS ENUM ('été', 'hiver');
CREATE TABLE t_text (id int PRIMARY KEY, name text, v varchar(20), c char(6), arr text[],
                     j jsonb, js json, m mood, b bytea);
CREATE TABLE t_key (k text PRIMARY KEY, n int);
CREATE TABLE "tablé" ("colß" text PRIMARY KEY, "ÿ" int);
CREATE TABLE t_full (s text, n int);
ALTER TABLE t_full REPLICA IDENTITY FULL;
COMMENT ON TABLE t_text IS 'résumé';
CREATE INDEX t_text_not_e ON t_text (id) WHERE name <> 'é';   -- post-data with a LATIN1 literal
INSERT INTO t_text VALUES
  (1, 'é ß ¤ ÿ', 'àéîõü', 'ñÑ', ARRAY['é', 'a,b', 'ÿ"'], '{"clé": "värde", "n": 1}', '{"ö": "ü"}', 'été', '\xc3a9'),
  (2, 'CafÃ©', 'CafÃ©', 'Ã©', ARRAY['CafÃ©'], '{"k": "CafÃ©"}', '"Ã©"', 'hiver', '\xe9'),
  (3, 'Café', 'plain', 'x', '{}', '[]', 'null', NULL, '\x');
INSERT INTO t_key VALUES ('é', 1), ('ß', 2), ('Café', 3), ('CafÃ©', 4), ('ÿÿ', 5);
INSERT INTO "tablé" VALUES ('¤', 1), ('ü', 2);
INSERT INTO t_full VALUES ('ÆØÅ', 1), ('CafÃ©', 2);
SQL
assert_eq "436166c3a9 436166e9" "$(lat_sql -c "SELECT encode(convert_to(name, 'LATIN1'), 'hex') FROM t_text WHERE id IN (2, 3) ORDER BY id" | tr '\n' ' ' | sed 's/ $//')" \
  "the source holds LATIN1 bytes (é is e9; CafÃ© is the bytes of a UTF-8 Café)"

run_pgcutover ddl-capture install --source "$SRC_DSN"
assert_eq 0 "$RC" "ddl-capture install on the LATIN1 source"
run_pgcutover check --source "$SRC_DSN" --target "$TGT_DSN"
assert_contains "$OUT" "source LATIN1, target UTF8" "check: a LATIN1 source into UTF-8 is fine and says so"

run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy LATIN1 -> UTF8 exits 0"
assert_eq "$(db_text src lat)" "$(db_text tgt app)" "after copy: every table holds the same text"
assert_eq "CafÃ©|7" "$(tgt_sql -c "SELECT name, octet_length(name) FROM t_text WHERE id = 2")" "after copy: CafÃ© stays CafÃ© (not Café)"
assert_eq "résumé" "$(tgt_sql -c "SELECT obj_description('t_text'::regclass)")" "after copy: a comment's é"
assert_contains "$(tgt_sql -c "SELECT indexdef FROM pg_indexes WHERE indexname = 't_text_not_e'")" "<> 'é'" "after copy: a post-data index's literal"
assert_eq "c3a9|e9" "$(tgt_sql -c "SELECT string_agg(encode(b, 'hex'), '|' ORDER BY id) FROM t_text WHERE id < 3")" "bytea is bytes, not converted"

# verify compares text, not each server's bytes: clean, then not fooled
run_pgcutover verify --source "$SRC_DSN" --target "$TGT_DSN"
assert_contains "$OUT" "0 differ" "verify after copy: every table matches (é is e9 on one side, c3a9 on the other)"
# what the old follow stored: the UTF-8 text of the source's LATIN1 bytes
# (the same bytes on both servers)
tgt_sql -c "UPDATE t_text SET name = 'Café' WHERE id = 2"
run_pgcutover verify --source "$SRC_DSN" --target "$TGT_DSN"
assert_contains "$OUT" "1 differ" "verify: a target row holding Café where the source has CafÃ© (same bytes) differs"
tgt_sql -c "UPDATE t_text SET name = 'CafÃ©' WHERE id = 2"

# follow under concurrent writes of non-ASCII text
follower_start
load() {
  for i in $(seq 1 25); do
    lat_sql -c "INSERT INTO t_text VALUES ($((100 + i)), 'ins é$i', 'ß$i', 'ÿ', ARRAY['¤$i', 'CafÃ©'], '{\"é\": $i}', '{\"Ã©\": \"x\"}', 'été', '\\xe9')" \
            -c "UPDATE t_text SET name = name || 'ü' WHERE id = $((100 + i / 2))" \
            -c "INSERT INTO t_key VALUES ('clé $i', $i)" \
            -c "UPDATE t_key SET k = k || 'Ã©' WHERE k = 'clé $((i - 1))'" \
            -c "INSERT INTO t_full VALUES ('Ø$i', $i)" \
            -c "UPDATE t_full SET s = s || 'å' WHERE n = $((i - 1))" \
            -c "DELETE FROM t_full WHERE s = 'Ø$((i - 2))'" >/dev/null
  done
}
load & load_pid=$!
lat_sql -c "UPDATE t_key SET n = n + 100 WHERE k IN ('é', 'CafÃ©')" -c "DELETE FROM t_key WHERE k = 'ß'" \
        -c "UPDATE \"tablé\" SET \"colß\" = 'ÿ¤' WHERE \"colß\" = '¤'" -c "UPDATE t_full SET n = 20 WHERE s = 'ÆØÅ'" \
        -c "DELETE FROM t_full WHERE s = 'CafÃ©'"
# captured DDL with LATIN1 text: a default, a table name
lat_sql -c "ALTER TABLE t_full ADD COLUMN note text DEFAULT 'clé ÿ'" \
        -c "CREATE TABLE \"nouveauté\" (id int PRIMARY KEY, s text DEFAULT 'Ã©é')" -c "INSERT INTO \"nouveauté\" (id) VALUES (1)"
wait "$load_pid"
run_pgcutover status --source "$SRC_DSN" --target "$TGT_DSN"
for _ in $(seq 1 200); do
  [ "$(db_text src lat)" == "$(db_text tgt app)" ] && break
  sleep 0.1
done
assert_eq "$(db_text src lat)" "$(db_text tgt app)" "follow under load: every table holds the same text"
assert_eq 1 "$(tgt_sql -c "SELECT count(*) FROM t_key WHERE k = 'clé 24Ã©'")" "follow: a text key with CafÃ©-like bytes, updated"
assert_eq "'Ã©é'::text" "$(tgt_sql -c "SELECT column_default FROM information_schema.columns WHERE table_name = 'nouveauté' AND column_name = 's'")" "follow: captured DDL's LATIN1 text replayed as its text"
kill -0 "$FOLLOWER" 2>/dev/null && pass "the follower is still running" || fail "the follower is still running" "$(tail -3 "$HARNESS_DIR/all-output.log")"

# verify --online, then changes by text key: the switchover's incremental
# verify compares those keys (recorded by the LATIN1 apply session)
run_pgcutover verify --online --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "verify --online on the LATIN1 source exits 0"
assert_contains "$OUT" "0 differ" "verify --online: every table matches"
lat_sql -c "UPDATE t_key SET n = n + 1 WHERE k IN ('ÿÿ', 'CafÃ©')" -c "INSERT INTO t_key VALUES ('ñandú', 9)" \
        -c "UPDATE \"tablé\" SET \"ÿ\" = 7 WHERE \"colß\" = 'ü'"
# the switchover's verify is not fooled either: a mis-decoded row aborts it
tgt_sql -c "SET session_replication_role = replica" -c "UPDATE t_text SET name = 'Café' WHERE id = 2"
run_pgcutover switchover --abort-on-mismatch --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 5 "$RC" "switchover with a mis-decoded row on the target: verification exit code"
assert_contains "$ERR" "public.t_text" "switchover's verify names the table"
tgt_sql -c "SET session_replication_role = replica" -c "UPDATE t_text SET name = 'CafÃ©' WHERE id = 2"
run_pgcutover switchover --source "$SRC_DSN" --target "$TGT_DSN" --post-command "true"
assert_eq 0 "$RC" "switchover exits 0 (its verify sees the same text)"
assert_not_contains "$OUT$ERR" "differ:" "switchover's verify: nothing differs"
set +e; wait "$FOLLOWER"; set -e
assert_eq "$(db_text src lat)" "$(db_text tgt app)" "after switchover: every table holds the same text"
assert_eq "$(db_sequences src lat)" "$(db_sequences tgt app)" "after switchover: sequences equal"

# --- WIN1252 source: the euro sign is one byte there -------------------------
mkdb src win WIN1252
mkdb tgt app2 UTF8
win_sql() { DB=win cluster_sql src "$@"; }
win_sql -c "CREATE TABLE w (id int PRIMARY KEY, s text)" -c "INSERT INTO w VALUES (1, '€ œ Ÿ ‰'), (2, 'CafÃ©')"
WSRC=$(dsn "$SRC_PORT" win); WTGT=$(dsn "$TGT_PORT" app2)
run_pgcutover copy --slot win --source "$WSRC" --target "$WTGT"
assert_eq 0 "$RC" "copy WIN1252 -> UTF8 exits 0"
win_sql -c "INSERT INTO w VALUES (3, '„€“'), (4, 'Ã©')" -c "UPDATE w SET s = s || '€' WHERE id = 1"
run_pgcutover follow --slot win --source "$WSRC" --target "$WTGT" --until-caught-up
assert_eq 0 "$RC" "follow WIN1252 -> UTF8 exits 0"
assert_eq "$(db_text src win)" "$(db_text tgt app2)" "WIN1252: every row holds the same text"
assert_eq "80" "$(win_sql -c "SELECT encode(convert_to(substr(s, 1, 1), 'WIN1252'), 'hex') FROM w WHERE id = 1")" "WIN1252: the source's euro is the byte 80"
run_pgcutover verify --slot win --source "$WSRC" --target "$WTGT"
assert_contains "$OUT" "0 differ" "WIN1252: verify says every table matches"

# --- UTF-8 source, LATIN1 target: check names what LATIN1 cannot hold --------
mkdb tgt lat1 LATIN1
src_sql -c "CREATE TABLE euro (id int PRIMARY KEY, label text, price text)" \
        -c "INSERT INTO euro SELECT g, 'é' || g, g::text FROM generate_series(1, 500) g" \
        -c "UPDATE euro SET price = '12 €' WHERE id = 321"
run_pgcutover check --source "$(dsn "$SRC_PORT" app)" --target "$(dsn "$TGT_PORT" lat1)"
assert_eq 4 "$RC" "check UTF8 -> LATIN1 with a euro sign: preflight exit code"
assert_contains "$OUT" "public.euro column price, key (id)=(321)" "check names the table, column and key LATIN1 cannot hold"
assert_contains "$OUT" "has no equivalent in encoding \"LATIN1\"" "check says why"
assert_contains "$OUT" "ENCODING 'UTF8'" "check gives the fix"

assert_eq 0 "$(src_sql -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'pgcutover' AND database = 'app'")" "check created no slot"
# once the source holds only what LATIN1 has, the text arrives exactly
src_sql -c "UPDATE euro SET price = '12 EUR' WHERE id = 321"
L1SRC=$(dsn "$SRC_PORT" app); L1TGT=$(dsn "$TGT_PORT" lat1)
run_pgcutover copy --slot l1 --source "$L1SRC" --target "$L1TGT"
assert_eq 0 "$RC" "copy UTF8 -> LATIN1 exits 0"
src_sql -c "INSERT INTO euro VALUES (1001, 'ÿ¤ß', 'àé')" -c "UPDATE euro SET label = label || 'ü' WHERE id < 50"
run_pgcutover follow --slot l1 --source "$L1SRC" --target "$L1TGT" --until-caught-up
assert_eq 0 "$RC" "follow UTF8 -> LATIN1 exits 0"
assert_eq "$(db_text src app)" "$(db_text tgt lat1)" "UTF8 -> LATIN1: every row holds the same text"
run_pgcutover verify --slot l1 --source "$L1SRC" --target "$L1TGT"
assert_contains "$OUT" "0 differ" "UTF8 -> LATIN1: verify says every table matches"
# a character LATIN1 lacks, written after the check: follow stops, naming it
src_sql -c "INSERT INTO euro VALUES (1002, 'x', '5 €')"
run_pgcutover follow --slot l1 --source "$L1SRC" --target "$L1TGT" --until-caught-up
assert_eq 1 "$([ "$RC" -ne 0 ] && echo 1 || echo 0)" "follow stops at a character the LATIN1 target lacks (exit $RC)"
assert_contains "$ERR" "has no equivalent in encoding \"LATIN1\"" "follow says which character"
assert_contains "$ERR" "ENCODING 'UTF8'" "follow gives the fix: a UTF-8 target"

# --- EUC_JP source: multibyte, not UTF-8 ---------------------------------------
mkdb src eucjp EUC_JP
mkdb tgt app4 UTF8
DB=eucjp cluster_sql src -c "CREATE TABLE j (k text PRIMARY KEY, s text[])" -c "INSERT INTO j VALUES ('日本', ARRAY['東京', 'ｶﾅ']), ('語', '{}')"
JSRC=$(dsn "$SRC_PORT" eucjp); JTGT=$(dsn "$TGT_PORT" app4)
run_pgcutover copy --slot eucjp --source "$JSRC" --target "$JTGT"
assert_eq 0 "$RC" "copy EUC_JP -> UTF8 exits 0"
DB=eucjp cluster_sql src -c "UPDATE j SET k = '日本語', s = s || '大阪'::text WHERE k = '日本'" -c "DELETE FROM j WHERE k = '語'" -c "INSERT INTO j VALUES ('ﾃｽﾄ', ARRAY['①'])"
run_pgcutover follow --slot eucjp --source "$JSRC" --target "$JTGT" --until-caught-up
assert_eq 0 "$RC" "follow EUC_JP -> UTF8 exits 0"
assert_eq "$(db_text src eucjp)" "$(db_text tgt app4)" "EUC_JP: every row holds the same text"
run_pgcutover verify --slot eucjp --source "$JSRC" --target "$JTGT"
assert_contains "$OUT" "0 differ" "EUC_JP: verify says every table matches"

# --- SQL_ASCII source holding bytes that are not UTF-8 -----------------------
mkdb src sqlascii SQL_ASCII
mkdb tgt app3 UTF8
asc_sql() { PSQL_ENCODING=SQL_ASCII DB=sqlascii cluster_sql src "$@"; }
asc_sql -c "CREATE TABLE ok_utf8 (id int PRIMARY KEY, s text)" -c "INSERT INTO ok_utf8 VALUES (1, E'caf\\xc3\\xa9')" \
        -c "CREATE TABLE people (id int PRIMARY KEY, city text, name text)" \
        -c "INSERT INTO people SELECT g, 'Paris', 'n' || g FROM generate_series(1, 300) g" \
        -c "UPDATE people SET name = E'Ren\\xe9e' WHERE id = 217"
ASRC=$(dsn "$SRC_PORT" sqlascii); ATGT=$(dsn "$TGT_PORT" app3)
run_pgcutover check --slot asc --source "$ASRC" --target "$ATGT"
assert_eq 4 "$RC" "check SQL_ASCII with a LATIN1 byte: preflight exit code"
assert_contains "$OUT" "public.people column name, key (id)=(217)" "check names the table, column and key of the invalid byte"
assert_contains "$OUT" "invalid byte sequence for encoding \"UTF8\": 0xe9" "check says which byte"
assert_not_contains "$OUT" "public.ok_utf8" "check does not name a table whose bytes are UTF-8"
run_pgcutover copy --slot asc --source "$ASRC" --target "$ATGT"
assert_eq 4 "$RC" "copy refuses the same (preflight exit code)"
assert_contains "$ERR" "public.people column name" "copy names the table and column"
assert_eq 0 "$(src_sql -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'asc'")" "no slot was created"
# the fix the check names, then the copy carries it
assert_contains "$ERR" "convert_from(convert(convert_to(col, 'SQL_ASCII'), 'LATIN1', 'UTF8'), 'SQL_ASCII')" "the fix names the statement"
asc_sql -c "UPDATE people SET name = convert_from(convert(convert_to(name, 'SQL_ASCII'), 'LATIN1', 'UTF8'), 'SQL_ASCII') WHERE id = 217"
# the schema's own text: a comment in LATIN1 bytes would stop pg_dump
asc_sql -c "COMMENT ON COLUMN people.city IS E'Ville o\\xf9 il habite'"
run_pgcutover check --slot asc --source "$ASRC" --target "$ATGT"
assert_eq 4 "$RC" "check SQL_ASCII with a LATIN1 byte in a comment: preflight exit code"
assert_contains "$OUT" "pg_catalog.pg_description: invalid byte sequence" "check names the catalog of the schema's bad text"
asc_sql -c "COMMENT ON COLUMN people.city IS 'Ville'"
run_pgcutover copy --slot asc --source "$ASRC" --target "$ATGT"
assert_eq 0 "$RC" "after the fix: copy SQL_ASCII -> UTF8 exits 0"
assert_eq "Renée|café" "$(DB=app3 cluster_sql tgt -c "SELECT (SELECT name FROM people WHERE id = 217) || '|' || (SELECT s FROM ok_utf8)")" "SQL_ASCII's UTF-8 bytes arrive as their text"
asc_sql -c "INSERT INTO people VALUES (301, E'Z\\xfcrich', 'x')" -c "UPDATE ok_utf8 SET s = s || E'\\xc3\\xbf'"
run_pgcutover follow --slot asc --source "$ASRC" --target "$ATGT" --until-caught-up
assert_eq 11 "$RC" "follow stops at a SQL_ASCII byte that is not UTF-8 written after the copy"
assert_contains "$ERR" "invalid byte sequence for encoding \"UTF8\": 0xfc" "follow says which byte"
assert_contains "$ERR" "make them UTF-8 on the source" "follow gives the fix"

done_testing
