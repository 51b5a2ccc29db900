#!/usr/bin/env bash
# Scenario: --roles and --keep-acl the way real clusters have them (issue 19,
# class 9, more variants).  Roles with odd names (quotes, dots, spaces, mixed
# case, unicode); a role that owns objects only in a schema the filters leave
# out (not carried); migrate of two databases with --roles (roles are
# cluster-wide: the second database finds them made by the first); a target
# role that is not a superuser, only CREATEROLE, carrying owners with
# --keep-acl; then follow under writes by those roles and switchover.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
PY=/usr/bin/python3

cluster_sql src -c "CREATE DATABASE app2" >/dev/null
cluster_sql tgt -c "CREATE DATABASE app2" >/dev/null
cluster_sql src <<'SQL' >/dev/null
CREATE ROLE "Quo""ted Owner" LOGIN;
CREATE ROLE "dotted.reader" NOLOGIN;
CREATE ROLE "Ünïcødé writer" LOGIN;
CREATE ROLE "MixedCase" NOLOGIN IN ROLE "dotted.reader";
CREATE ROLE only_left_out LOGIN;
CREATE ROLE app2_owner LOGIN;
SQL
src_sql <<'SQL' >/dev/null
CREATE SCHEMA "My Schema" AUTHORIZATION "Quo""ted Owner";
CREATE TABLE "My Schema"."T.1" (id bigserial PRIMARY KEY, v text);
ALTER TABLE "My Schema"."T.1" OWNER TO "Quo""ted Owner";
GRANT SELECT ON "My Schema"."T.1" TO "dotted.reader";
GRANT USAGE ON SCHEMA "My Schema" TO "dotted.reader", "Ünïcødé writer";
GRANT INSERT, UPDATE, DELETE ON "My Schema"."T.1" TO "Ünïcødé writer";
GRANT USAGE ON SEQUENCE "My Schema"."T.1_id_seq" TO "Ünïcødé writer";
GRANT SELECT ON "My Schema"."T.1" TO "MixedCase";
CREATE SCHEMA left_out AUTHORIZATION only_left_out;
CREATE TABLE left_out.x (id int PRIMARY KEY);
ALTER TABLE left_out.x OWNER TO only_left_out;
INSERT INTO "My Schema"."T.1" (v) SELECT 'v' || g FROM generate_series(1, 100) g;
SQL
DB=app2 cluster_sql src <<'SQL' >/dev/null
CREATE SCHEMA left_out;  -- the filter must match in each database
CREATE TABLE left_out.y (id int PRIMARY KEY);
CREATE TABLE docs (id serial PRIMARY KEY, body text);
ALTER TABLE docs OWNER TO app2_owner;
GRANT SELECT ON docs TO "dotted.reader";
INSERT INTO docs (body) SELECT md5(g::text) FROM generate_series(1, 100) g;
SQL

acl_of() {  # acl_of src|tgt [db]: owner and ACL of every user relation and schema
  DB=${2:-app} cluster_sql "$1" <<'SQL'
SELECT n.nspname || '.' || c.relname, pg_get_userbyid(c.relowner), coalesce(c.relacl::text, '-')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgcutover', 'left_out', 'pgcutover_fence')
  AND n.nspname !~ '^pg_'
UNION ALL SELECT 'schema ' || nspname, pg_get_userbyid(nspowner), coalesce(nspacl::text, '-')
FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pgcutover', 'left_out', 'pgcutover_fence') AND nspname !~ '^pg_'
ORDER BY 1
SQL
}

# --- a target role that is not a superuser: CREATEROLE, owner of the target databases
cluster_sql tgt -c "CREATE ROLE migrator LOGIN CREATEROLE PASSWORD '$TEST_PASSWORD'" -c "GRANT SET ON PARAMETER session_replication_role TO migrator" \
  -c "ALTER DATABASE app OWNER TO migrator" -c "ALTER DATABASE app2 OWNER TO migrator" >/dev/null
# a target role without CREATEROLE: --roles is refused by check, before any slot
cluster_sql tgt -c "CREATE ROLE plain LOGIN PASSWORD '$TEST_PASSWORD'" -c "GRANT ALL ON DATABASE app TO plain" >/dev/null
run_pgcutover check --source "$SRC_DSN" --target "${TGT_DSN/user=postgres/user=plain}" --roles --exclude-schema left_out
assert_eq 4 "$RC" "check --roles fails for a target role without CREATEROLE"
assert_contains "$OUT" "ALTER ROLE plain CREATEROLE" "naming the fix"
SRC_BASE="host=127.0.0.1 port=$SRC_PORT dbname=postgres user=postgres password=$TEST_PASSWORD"
TGT_BASE="host=127.0.0.1 port=$TGT_PORT dbname=postgres user=migrator password=$TEST_PASSWORD"

run_pgcutover check --source "$SRC_DSN" --target "${TGT_DSN/user=postgres/user=migrator}" --roles --keep-acl --exclude-schema left_out
assert_eq 0 "$RC" "check --roles --keep-acl passes for a CREATEROLE target role"; [ "$RC" = 0 ] || echo "# $(grep -E 'FAIL|fail' <<<"$OUT" | head -5)"
# app2's table is owned by a role that may not CREATE in public (a superuser made it): a
# target role that is not a superuser cannot restore that owner; check says so up front
SRC2=${SRC_DSN/dbname=app/dbname=app2}; TGT2=${TGT_DSN/dbname=app/dbname=app2}
run_pgcutover check --source "$SRC2" --target "${TGT2/user=postgres/user=migrator}" --roles --keep-acl --exclude-schema left_out
assert_eq 4 "$RC" "check --keep-acl fails when an owner may not CREATE in its schema and the target role is no superuser"
assert_contains "$OUT" "which app2_owner on schema public lacks on the source" "it names the owner and the schema"
assert_contains "$OUT" "connect to the target as a superuser, or make each owner named the owner of its schema" "with the fix"
assert_eq 0 "$(cluster_sql src -c "SELECT count(*) FROM pg_replication_slots")" "no slot exists"
DB=app2 cluster_sql src -c "CREATE SCHEMA docs_s AUTHORIZATION app2_owner" -c "ALTER TABLE docs SET SCHEMA docs_s" >/dev/null

# the application writes as its own roles while migrate copies, follows and switches over
w=$HARNESS_DIR/load; mkdir -p "$w"
cat > "$w/app.sql" <<'SQL'
SET ROLE "Ünïcødé writer";
INSERT INTO "My Schema"."T.1" (v) VALUES ('w');
UPDATE "My Schema"."T.1" SET v = v || '+' WHERE id = (random() * 99)::int + 1;
RESET ROLE;
SQL
PGPASSWORD=$TEST_PASSWORD "$PG_BIN/pgbench" -n -c 2 -R 100 -T 15 -f "$w/app.sql" \
  -h 127.0.0.1 -p "$SRC_PORT" -U postgres app >"$w/pgbench.out" 2>&1 &
load=$!
run_pgcutover migrate --json --switchover --yes --roles --keep-acl --exclude-schema left_out \
  --database app --database app2 --source "$SRC_BASE" --target "$TGT_BASE"
assert_eq 0 "$RC" "migrate --roles --keep-acl of two databases as a CREATEROLE target role exits 0"
[ "$RC" = 0 ] || echo "# $(grep -E 'error' <<<"$ERR" | head -5)"
wait "$load" 2>/dev/null || true
assert_contains "$ERR" "the target role migrator is not a superuser: it is made a member of the" "copy says the CREATEROLE target role becomes a member of the roles it creates"
assert_eq "$(acl_of src)" "$(acl_of tgt)" "app: owners and GRANTs of the odd roles equal the source's"
assert_eq "$(acl_of src app2)" "$(acl_of tgt app2)" "app2: its owner (made by the second database's copy) and the GRANT to a role the first made"
assert_eq 0 "$(cluster_sql tgt -c "SELECT count(*) FROM pg_roles WHERE rolname = 'only_left_out'")" "a role owning only what the filters leave out is not created"
assert_eq "MixedCase" "$(cluster_sql tgt -c "SELECT string_agg(u.rolname, ',') FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE g.rolname = 'dotted.reader' AND u.rolname <> 'migrator'")" \
  "a membership between two odd names is carried"
assert_eq "$(db_fingerprint src | grep -v '^left_out\.')" "$(db_fingerprint tgt)" "app identical after the load through the switchover"
assert_eq "$(db_fingerprint src app2 | grep -v '^left_out\.')" "$(db_fingerprint tgt app2)" "app2 identical"
assert_eq t "$(src_sql -c "SELECT count(*) > 100 FROM \"My Schema\".\"T.1\"")" "the load wrote as the odd role"
done_testing
