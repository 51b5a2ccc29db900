#!/usr/bin/env bash
# Scenario (review): the rest fence after `switchover --reverse` on odd
# tables (partitioned, partitions in another schema, quoted names), every
# way a client writes to the old source, and the reverse follower that must
# pass the fence.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
src_sql <<SQL
CREATE TABLE ledger (id bigserial PRIMARY KEY, kind text NOT NULL);
CREATE SCHEMA "Odd Schema";
CREATE SCHEMA parts;
CREATE TABLE "Odd Schema"."Mixed ""Case"" T" (id int, at date NOT NULL, v text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE parts.p2023 PARTITION OF "Odd Schema"."Mixed ""Case"" T" FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE "Odd Schema".p2024 PARTITION OF "Odd Schema"."Mixed ""Case"" T" FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
INSERT INTO "Odd Schema"."Mixed ""Case"" T" VALUES (1, '2023-05-01', 'a'), (2, '2024-05-01', 'b');
CREATE TABLE public."we'ird;name" (id int PRIMARY KEY, v text);
CREATE ROLE app_rw LOGIN PASSWORD '$TEST_PASSWORD';
GRANT USAGE ON SCHEMA "Odd Schema", parts TO app_rw;
GRANT ALL ON ALL TABLES IN SCHEMA public, "Odd Schema", parts TO app_rw;
GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO app_rw;
INSERT INTO ledger (kind) VALUES ('before');
SQL
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"
[ "$RC" = 0 ] || echo "$ERR" | tail -5
tgt_sql -c "CREATE ROLE app_rw LOGIN PASSWORD '$TEST_PASSWORD'" 2>/dev/null || true
"$PGCUTOVER" follow --source "$SRC_DSN" --target "$TGT_DSN" >>"$HARNESS_DIR/all-output.log" 2>&1 &
follower=$!
for _ in $(seq 1 100); do
  [ "$(tgt_sql -c "SELECT count(*) FROM pgcutover.follower WHERE phase = 'following'" 2>/dev/null)" = 1 ] && break
  sleep 0.05
done
src_sql -c "INSERT INTO ledger (kind) VALUES ('followed')" -c "INSERT INTO parts.p2023 VALUES (3, '2023-06-01', 'c')"
run_pgcutover switchover --reverse --max-lag 5 --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "switchover --reverse exits 0"
[ "$RC" = 0 ] || echo "$OUT$ERR" | tail -8
set +e; wait "$follower"; set -e
echo "# switchover log:"; echo "$ERR" | tail -12 | sed 's/^/#   /'
assert_source_fenced
assert_eq "" "$(src_sql -c "SELECT string_agg(format('%I.%I', n.nspname, c.relname), ', ') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r','p') AND n.nspname NOT IN ('pg_catalog','information_schema','pgcutover','pgcutover_fence') AND n.nspname !~ '^pg_' AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'pgcutover_fence')")" "every table and partition carries the fence trigger"
src_sql -c "SELECT datname, setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase" | sed 's/^/# db setting: /'

try_write() {  # try_write USER SQL...: "committed" or "refused"
  local user=$1; shift
  if PGPASSWORD=$TEST_PASSWORD psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$SRC_PORT" -U "$user" -d app "$@" >>"$HARNESS_DIR/try.log" 2>&1; then
    echo committed
  else
    echo refused
  fi
}
for u in app_rw postgres; do
  assert_eq refused "$(try_write $u -c "INSERT INTO ledger (kind) VALUES ('late')")" "$u: plain INSERT refused"
  assert_eq refused "$(try_write $u -c "BEGIN READ WRITE" -c "INSERT INTO ledger (kind) VALUES ('late')" -c "COMMIT")" "$u: BEGIN READ WRITE refused"
  assert_eq refused "$(try_write $u -c "SET default_transaction_read_only = off" -c "UPDATE ledger SET kind = 'late'")" "$u: UPDATE refused"
  assert_eq refused "$(try_write $u -c "SET default_transaction_read_only = off" -c "DELETE FROM ledger")" "$u: DELETE refused"
  assert_eq refused "$(try_write $u -c "SET default_transaction_read_only = off" -c "TRUNCATE ledger")" "$u: TRUNCATE refused"
  assert_eq refused "$(try_write $u -c "SET default_transaction_read_only = off" -c "TRUNCATE \"Odd Schema\".\"Mixed \"\"Case\"\" T\"")" "$u: TRUNCATE partitioned refused"
  assert_eq refused "$(echo "late" | try_write $u -c "SET default_transaction_read_only = off" -c "COPY ledger (kind) FROM STDIN")" "$u: COPY FROM STDIN refused"
  assert_eq refused "$(try_write $u -c "SET default_transaction_read_only = off" -c "INSERT INTO parts.p2023 VALUES (90, '2023-02-01', 'late')")" "$u: INSERT into a partition directly refused"
  assert_eq refused "$(try_write $u -c "SET default_transaction_read_only = off" -c "INSERT INTO \"Odd Schema\".\"Mixed \"\"Case\"\" T\" VALUES (91, '2024-02-01', 'late')")" "$u: INSERT through the partitioned parent refused"
  assert_eq refused "$(try_write $u -c "SET default_transaction_read_only = off" -c "INSERT INTO public.\"we'ird;name\" VALUES (92, 'late')")" "$u: INSERT into the quoted-name table refused"
  assert_eq refused "$(try_write $u -c "SET default_transaction_read_only = off" -c "MERGE INTO ledger l USING (SELECT 1 AS id) s ON l.id = s.id WHEN MATCHED THEN DELETE")" "$u: MERGE refused"
done
echo "# sample refusal:"; grep -m2 -i "switched over\|read-only\|ERROR" "$HARNESS_DIR/try.log" | sed 's/^/#   /'

# writes on the new primary, then the reverse follower
tgt_sql -c "INSERT INTO ledger (kind) VALUES ('on_new_primary')" -c "INSERT INTO \"Odd Schema\".\"Mixed \"\"Case\"\" T\" VALUES (50, '2024-09-09', 'new')" \
        -c "UPDATE public.\"we'ird;name\" SET v = 'x'" -c "INSERT INTO public.\"we'ird;name\" VALUES (7, 'new')" -c "DELETE FROM ledger WHERE kind = 'before'"
run_pgcutover follow --source "$TGT_DSN" --target "$SRC_DSN" --slot pgcutover_reverse --until-caught-up
assert_eq 0 "$RC" "the reverse follower catches up (exit 0)"
[ "$RC" = 0 ] || echo "$OUT$ERR" | tail -8 | sed 's/^/#   /'
assert_eq 1 "$(src_sql -c "SELECT count(*) FROM ledger WHERE kind = 'on_new_primary'")" "reverse: the insert reached the old source"
assert_eq 0 "$(src_sql -c "SELECT count(*) FROM ledger WHERE kind = 'before'")" "reverse: the delete reached the old source"
assert_eq 1 "$(src_sql -c "SELECT count(*) FROM \"Odd Schema\".\"Mixed \"\"Case\"\" T\" WHERE id = 50")" "reverse: the partitioned insert reached the old source"
assert_eq 1 "$(src_sql -c "SELECT count(*) FROM public.\"we'ird;name\" WHERE id = 7")" "reverse: the quoted-name insert reached the old source"
assert_eq refused "$(try_write app_rw -c "INSERT INTO ledger (kind) VALUES ('late2')")" "after the reverse follower: the old source still refuses writes"
done_testing
