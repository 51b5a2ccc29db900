#!/usr/bin/env bash
# Scenario: roles and grants (copy --roles, --role-passwords, --keep-acl).
# Owners, table and column GRANTs, default privileges and memberships arrive
# as on the source; a superuser arrives without SUPERUSER; a password only
# with --role-passwords; roles the target has are left alone; --keep-acl
# without the roles on the target is refused by check before any slot.
. "$(dirname "$0")/../lib/harness.sh"
harness_start

cluster_sql src <<'SQL' >/dev/null
CREATE ROLE app_owner LOGIN;
CREATE ROLE readers NOLOGIN;
CREATE ROLE reader1 LOGIN PASSWORD 'Reader-pw-7' IN ROLE readers;
CREATE ROLE "Odd Writer" LOGIN CONNECTION LIMIT 5;
CREATE ROLE admin_su SUPERUSER REPLICATION BYPASSRLS LOGIN;
CREATE ROLE bystander LOGIN;  -- owns nothing migrated: not carried
COMMENT ON ROLE readers IS 'read-only group';
ALTER ROLE app_owner SET search_path = "$user", s, public;
ALTER ROLE app_owner SET work_mem = '8MB';
SQL
src_sql <<'SQL' >/dev/null
CREATE SCHEMA s AUTHORIZATION app_owner;
CREATE TABLE public.a (id int PRIMARY KEY, v text);
ALTER TABLE public.a OWNER TO app_owner;
CREATE TABLE s.b (id bigserial PRIMARY KEY, secret text, pub text);
ALTER TABLE s.b OWNER TO admin_su;
CREATE VIEW s.av AS SELECT id FROM public.a;
ALTER VIEW s.av OWNER TO app_owner;
GRANT SELECT ON public.a TO readers;
GRANT INSERT, UPDATE ON public.a TO "Odd Writer";
GRANT SELECT (id, pub) ON s.b TO "Odd Writer";
GRANT USAGE ON SCHEMA s TO readers;
ALTER DEFAULT PRIVILEGES FOR ROLE app_owner IN SCHEMA s GRANT SELECT ON TABLES TO readers;
CREATE FUNCTION s.f(int) RETURNS int LANGUAGE sql AS 'SELECT $1 + 1';
ALTER FUNCTION s.f(int) OWNER TO app_owner;
REVOKE EXECUTE ON FUNCTION s.f(int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION s.f(int) TO "Odd Writer";
CREATE TYPE s.mood AS ENUM ('ok', 'meh');
ALTER TYPE s.mood OWNER TO readers;
INSERT INTO public.a SELECT g, 'v' || g FROM generate_series(1, 200) g;
INSERT INTO s.b (secret, pub) SELECT 'x' || g, 'p' || g FROM generate_series(1, 100) g;
SQL

# owners and ACLs of every user relation and schema, with role names, and the default privileges
acl_of() {  # acl_of src|tgt [db]
  DB=${2:-app} cluster_sql "$1" <<'SQL'
SELECT n.nspname || '.' || c.relname, pg_get_userbyid(c.relowner), coalesce(c.relacl::text, '-'),
       coalesce((SELECT string_agg(a.attname || '=' || a.attacl::text, ',' ORDER BY a.attnum)
                 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL), '-')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'v', 'S') AND n.nspname IN ('public', 's')
UNION ALL SELECT 'schema ' || nspname, pg_get_userbyid(nspowner), coalesce(nspacl::text, '-'), '-'
FROM pg_namespace WHERE nspname = 's'
UNION ALL SELECT 'function ' || p.oid::regprocedure::text, pg_get_userbyid(p.proowner), coalesce(p.proacl::text, '-'), '-'
FROM pg_proc p WHERE p.pronamespace = 's'::regnamespace
UNION ALL SELECT 'type ' || t.typname, pg_get_userbyid(t.typowner), coalesce(t.typacl::text, '-'), '-'
FROM pg_type t WHERE t.typnamespace = 's'::regnamespace AND t.typtype = 'e'
UNION ALL SELECT 'default acl', pg_get_userbyid(defaclrole), defaclacl::text, defaclobjtype::text FROM pg_default_acl
ORDER BY 1
SQL
}
slot_count() { cluster_sql src -c "SELECT count(*) FROM pg_replication_slots"; }

# --- default: unchanged (the target role owns everything, no GRANTs, no roles needed)
run_pgcutover check --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "check without --keep-acl passes: no role is needed"
assert_not_contains "$OUT$ERR" "do not exist on the target" "check without --keep-acl names no missing role"

# a policy names a role even without --keep-acl: the restore would fail on the target, so check says so first
src_sql -c "CREATE POLICY readers_see_all ON public.a FOR SELECT TO readers USING (true)" >/dev/null
run_pgcutover check --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 4 "$RC" "check without --keep-acl fails when a policy names a role the target lacks"
assert_contains "$OUT" "policies (CREATE POLICY ... TO) or user mappings of the migrated objects name do not exist on the target" "it says why"
assert_contains "$OUT" "CREATE ROLE readers;" "and names that role"

# --- --keep-acl without the roles on the target: refused before any slot
run_pgcutover check --source "$SRC_DSN" --target "$TGT_DSN" --keep-acl
assert_eq 4 "$RC" "check --keep-acl fails (exit 4) when the roles are missing"
for r in app_owner readers admin_su '"Odd Writer"'; do
  assert_contains "$OUT" "$r" "check names the missing role $r"
done
assert_not_contains "$OUT" "bystander" "a role that owns nothing migrated is not named"
assert_contains "$OUT" "add --roles" "check gives the fix --roles"
assert_contains "$OUT" 'CREATE ROLE "Odd Writer";' "or the CREATE ROLE statements"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN" --keep-acl
assert_eq 4 "$RC" "copy --keep-acl is refused by its preflight"
run_pgcutover migrate --source "$SRC_DSN" --target "$TGT_DSN" --keep-acl --dry-run
assert_eq 4 "$RC" "migrate --keep-acl passes the option to copy's preflight, which refuses"
assert_contains "$ERR" "app_owner" "migrate names the missing roles too"
assert_eq 0 "$(slot_count)" "no slot exists after the refusals"
run_pgcutover check --source "$SRC_DSN" --target "$TGT_DSN" --role-passwords
assert_eq 4 "$RC" "--role-passwords without --roles fails check"

# --- copy --roles --keep-acl --role-passwords
run_pgcutover check --source "$SRC_DSN" --target "$TGT_DSN" --roles --keep-acl --role-passwords
assert_eq 0 "$RC" "check --roles --keep-acl --role-passwords passes"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN" --roles --keep-acl --role-passwords
assert_eq 0 "$RC" "copy --roles --keep-acl --role-passwords exits 0"; [ "$RC" = 0 ] || echo "$ERR" | tail -5
assert_contains "$ERR" "role admin_su has SUPERUSER on the source: created on the target without it" "copy says the superuser arrives without SUPERUSER"
assert_eq "$(acl_of src)" "$(acl_of tgt)" "owners, table and column GRANTs, schema ACL and default privileges equal the source's"
assert_eq "f f f t" "$(cluster_sql tgt -c "SELECT rolsuper, rolreplication, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = 'admin_su'" | tr '|' ' ')" \
  "the source's superuser exists on the target without SUPERUSER, REPLICATION, BYPASSRLS"
assert_eq "readers" "$(cluster_sql tgt -c "SELECT string_agg(g.rolname, ',') FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = 'reader1'")" \
  "reader1 is a member of readers on the target"
assert_eq "5|read-only group" "$(cluster_sql tgt -c "SELECT (SELECT rolconnlimit FROM pg_roles WHERE rolname = 'Odd Writer'), shobj_description((SELECT oid FROM pg_roles WHERE rolname = 'readers'), 'pg_authid')")" \
  "connection limit and comment are carried"
assert_eq "{\"search_path=\\\"\$user\\\", s, public\",work_mem=8MB}" "$(cluster_sql tgt -c "SELECT setconfig FROM pg_db_role_setting WHERE setrole = (SELECT oid FROM pg_roles WHERE rolname = 'app_owner')")" \
  "role settings are carried (a list setting too)"
assert_eq 0 "$(cluster_sql tgt -c "SELECT count(*) FROM pg_roles WHERE rolname = 'bystander'")" "a role nothing migrated needs is not created"
assert_eq 200 "$(PGPASSWORD=Reader-pw-7 psql -X -At -h 127.0.0.1 -p "$TGT_PORT" -U reader1 -d app -c "SELECT count(*) FROM public.a" 2>&1)" \
  "reader1 logs in on the target with its source password and reads through readers' GRANT"
assert_contains "$(PGPASSWORD=Reader-pw-7 psql -X -At -h 127.0.0.1 -p "$TGT_PORT" -U reader1 -d app -c "SELECT secret FROM s.b" 2>&1)" "permission denied" \
  "reader1 may not read what it was not granted"

# --- without --role-passwords: a new role arrives without its password; existing roles are left alone
cluster_sql src -c "CREATE ROLE late LOGIN PASSWORD 'Late-pw-9'" >/dev/null
cluster_sql tgt -c "ALTER ROLE readers CONNECTION LIMIT 3" -c "CREATE DATABASE app2" >/dev/null
src_sql -c "GRANT SELECT ON public.a TO late" >/dev/null
TGT2="host=127.0.0.1 port=$TGT_PORT dbname=app2 user=postgres password=$TEST_PASSWORD"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT2" --slot second --roles --keep-acl
assert_eq 0 "$RC" "a second copy with --roles --keep-acl exits 0"
assert_contains "$ERR" "role readers exists on the target: left as it is" "it says which roles it leaves alone"
assert_eq 3 "$(cluster_sql tgt -c "SELECT rolconnlimit FROM pg_roles WHERE rolname = 'readers'")" "an existing role is not altered"
assert_eq 1 "$(cluster_sql tgt -c "SELECT count(*) FROM pg_roles WHERE rolname = 'late'")" "the new role is created"
assert_contains "$(PGPASSWORD=Late-pw-9 psql -X -At -h 127.0.0.1 -p "$TGT_PORT" -U late -d app2 -c "SELECT 1" 2>&1)" "password authentication failed" \
  "without --role-passwords its password is not carried"
assert_eq "$(acl_of src)" "$(acl_of tgt app2)" "the second target's owners and GRANTs equal the source's"

# follow under writes (as the migrated roles), then switch over; compare every table and sequence
follower_start
for i in $(seq 1 30); do
  src_sql -c "SET ROLE \"Odd Writer\"; INSERT INTO public.a VALUES (1000 + $i, 'w')" -c "RESET ROLE" -c "UPDATE public.a SET v = 'u$i' WHERE id = $i" >/dev/null
  src_sql -c "INSERT INTO s.b (secret, pub) VALUES ('n$i', 'q$i'); DELETE FROM s.b WHERE id = $i" >/dev/null
done
run_pgcutover switchover --source "$SRC_DSN" --target "$TGT_DSN" --yes --timeout 60s
assert_eq 0 "$RC" "switchover exits 0"
wait "$FOLLOWER" 2>/dev/null || true
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "after follow under writes and switchover every table is identical"
assert_eq "$(db_sequences src)" "$(db_sequences tgt)" "and every sequence"
assert_eq "$(acl_of src | grep -v '^public.a|')" "$(acl_of tgt | grep -v '^public.a|')" "owners and GRANTs are still the source's (public.a got a GRANT since)"

done_testing
