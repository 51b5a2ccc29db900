#!/usr/bin/env bash
# Scenario: more non-UTF-8 sources (issue 19, class 1), the way clients use
# them: a PostgreSQL 13 LATIN1 source (wal2json 2.3) into a 15 UTF-8 target
# through `migrate --switchover --reverse`, odd identifiers (a schema with a
# space and an accent, a table with a dot, mixed case and ß), text keys,
# REPLICA IDENTITY FULL, an enum hash tree with LATIN1 labels (routed),
# regclass values naming LATIN1 names, captured DDL with LATIN1 text, a
# sequence, and a writer that never stops: during the copy, while following
# and through the switchover; then the reverse follower back into the
# LATIN1 database.  Every table and every sequence compared by the text each
# side holds (both read in UTF-8), and nothing written twice.
. "$(dirname "$0")/../lib/harness.sh"
if ! pg_bin_for 13 >/dev/null 2>&1; then
  echo "1..0 # SKIP PostgreSQL 13 is not installed (scripts/install-pg-versions)"
  exit 0
fi
harness_start_versions 13 15
psql() { PGCLIENTENCODING=UTF8 command psql "$@"; }

cluster_sql src -c "CREATE DATABASE lat ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" >/dev/null
LSRC="host=127.0.0.1 port=$SRC_PORT dbname=lat user=postgres password=$TEST_PASSWORD"
lat_sql() { DB=lat cluster_sql src "$@"; }
db_text() {  # every user table's text (trees whole), sorted by the client
  DB=$2 cluster_sql "$1" <<'SQL' | LC_ALL=C sort
SELECT format('SELECT %L || ''|'' || r::text FROM %I.%I r', n.nspname || '.' || c.relname, n.nspname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgcutover', 'pgcutover_fence') AND n.nspname !~ '^pg_'
\gexec
SQL
}

lat_sql >/dev/null <<'SQL'
CREATE SCHEMA "Schéma x";
CREATE TYPE "Schéma x"."Humeur" AS ENUM ('gaîté', 'ennui');
CREATE TABLE "Schéma x"."Straße.Ü" ("Clé" text PRIMARY KEY, "Wert" text, h "Schéma x"."Humeur", a text[]);
CREATE TABLE "Schéma x"."hé" (id int, h "Schéma x"."Humeur", s text, PRIMARY KEY (id, h)) PARTITION BY HASH (h);
CREATE TABLE "Schéma x"."hé 0" PARTITION OF "Schéma x"."hé" FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE "Schéma x"."hé 1" PARTITION OF "Schéma x"."hé" FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO "Schéma x"."hé" SELECT g, CASE WHEN g % 3 = 0 THEN 'gaîté' ELSE 'ennui' END::"Schéma x"."Humeur", 'ñ' || g FROM generate_series(1, 300) g;
CREATE TABLE ledger (id bigserial PRIMARY KEY, who text NOT NULL, note text,
                     tbl regclass DEFAULT '"Schéma x"."Straße.Ü"', ty regtype DEFAULT '"Schéma x"."Humeur"');
CREATE TABLE journal (who text, what text);
ALTER TABLE journal REPLICA IDENTITY FULL;
INSERT INTO "Schéma x"."Straße.Ü"
SELECT 'clé ' || g || CASE g % 3 WHEN 0 THEN 'ÿ' WHEN 1 THEN 'CafÃ©' ELSE 'ß' END, 'värde ' || g,
       CASE WHEN g % 2 = 0 THEN 'gaîté' ELSE 'ennui' END::"Schéma x"."Humeur", ARRAY['é' || g, 'Ã©']
FROM generate_series(1, 2000) g;
INSERT INTO ledger (who, note) SELECT 'Zoë', 'Ñ ' || g FROM generate_series(1, 500) g;
INSERT INTO journal SELECT 'Åsa', 'ligne ' || g || ' ü' FROM generate_series(1, 200) g;
SQL

run_pgcutover ddl-capture install --source "$LSRC"
assert_eq 0 "$RC" "ddl-capture install on the 13 LATIN1 source"

# a client that never stops writing non-ASCII text, until told to
stop_file="$HARNESS_DIR/stop-writer"
writer() {
  local i=0
  while [ ! -e "$stop_file" ]; do
    i=$((i + 1))
    lat_sql -c "INSERT INTO ledger (who, note) VALUES ('Zoë $i', 'écrit ÿ $i')" \
            -c "UPDATE \"Schéma x\".\"Straße.Ü\" SET \"Wert\" = \"Wert\" || 'ü', \"Clé\" = \"Clé\" || 'Ã©' WHERE \"Clé\" LIKE 'clé $i%' AND \"Clé\" NOT LIKE '%Ã©Ã©'" \
            -c "INSERT INTO journal VALUES ('Åsa $i', 'à $i')" \
            -c "UPDATE ledger SET tbl = '\"Schéma x\".\"hé\"' WHERE id = $i" \
            -c "UPDATE journal SET what = what || 'ç' WHERE who = 'Åsa $((i - 1))'" \
            -c "DELETE FROM journal WHERE who = 'Åsa $((i - 3))'" \
            -c "UPDATE \"Schéma x\".\"hé\" SET h = CASE h WHEN 'gaîté' THEN 'ennui' ELSE 'gaîté' END::\"Schéma x\".\"Humeur\", s = s || 'ÿ' WHERE id = $((i % 300 + 1))" >/dev/null 2>&1 || true
    sleep 0.02
  done
}
writer & writer_pid=$!
# captured DDL with LATIN1 text, once the slot exists (the copy or the
# follower carries it), while the writer writes
( for _ in $(seq 1 200); do
    [ "$(cluster_sql src -c "SELECT count(*) FROM pg_replication_slots WHERE database = 'lat'")" = 1 ] && break
    sleep 0.05
  done
  lat_sql -c "ALTER TABLE journal ADD COLUMN état text DEFAULT 'prêt ÿ'" \
          -c "CREATE TABLE \"Schéma x\".\"Nouveauté\" (id int PRIMARY KEY, s text DEFAULT 'Ã©é')" \
          -c "INSERT INTO \"Schéma x\".\"Nouveauté\" (id) SELECT generate_series(1, 20)" >/dev/null 2>&1
  ) &
ddl_pid=$!

run_pgcutover migrate --switchover --reverse --source "$LSRC" --target "$TGT_DSN" --max-lag 5s --timeout 60
assert_eq 0 "$RC" "migrate --switchover from a 13 LATIN1 source exits 0"
[ "$RC" = 0 ] || echo "# $(tail -c 1500 <<<"$ERR")"
touch "$stop_file"
wait "$writer_pid" "$ddl_pid" || true

assert_eq t "$(lat_sql -c "SELECT count(*) > 500 FROM ledger")" "the writer wrote during the migration"
assert_contains "$(cat "$HARNESS_DIR/src/log")" "in a read-only transaction" "the writer was still writing when the source was fenced"
assert_eq "$(db_text src lat)" "$(db_text tgt app)" "every table holds the same text (LATIN1 13 -> UTF-8 15)"
[ "$(db_text src lat)" = "$(db_text tgt app)" ] || diff <(db_text src lat) <(db_text tgt app) | head -10 | sed 's/^/#   /'
assert_eq "$(db_sequences src lat)" "$(db_sequences tgt app)" "every sequence equal"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM (SELECT id FROM ledger GROUP BY id HAVING count(*) > 1) d")" "nothing written twice"
assert_eq "'prêt ÿ'::text" "$(tgt_sql -c "SELECT column_default FROM information_schema.columns WHERE table_name = 'journal' AND column_name = 'état'")" \
  "captured DDL's LATIN1 text replayed as its text"
assert_eq "$(lat_sql -c "SELECT count(*) FROM \"Schéma x\".\"Straße.Ü\" WHERE \"Clé\" LIKE '%CafÃ©%'")" "$(tgt_sql -c "SELECT count(*) FROM \"Schéma x\".\"Straße.Ü\" WHERE \"Clé\" LIKE '%CafÃ©%'")" \
  "text keys holding UTF-8-looking LATIN1 bytes arrive as their text"
run_pgcutover verify --source "$LSRC" --target "$TGT_DSN"
assert_contains "$OUT" "0 differ" "verify after the switchover: every table matches"

# the new primary (UTF-8) writes text LATIN1 holds; the reverse follower
# carries it back into the LATIN1 database
tgt_sql -c "INSERT INTO ledger (who, note) VALUES ('après', 'ÿ¤ß CafÃ©')" \
        -c "UPDATE \"Schéma x\".\"hé\" SET h = 'ennui', s = 'retour é' WHERE id % 7 = 0" \
        -c "UPDATE \"Schéma x\".\"Straße.Ü\" SET \"Wert\" = 'zurück' WHERE \"Clé\" LIKE 'clé 2%'" >/dev/null
run_pgcutover follow --source "$TGT_DSN" --target "$LSRC" --slot pgcutover_reverse --until-caught-up
assert_eq 0 "$RC" "the reverse follower (UTF-8 -> LATIN1) catches up"
[ "$RC" = 0 ] || echo "# $(tail -c 800 <<<"$ERR")"
assert_eq "$(db_text tgt app)" "$(db_text src lat)" "after the reverse follower: the LATIN1 old source holds the new primary's text"

done_testing
