#!/usr/bin/env bash
# Scenario (independent review of verify --online and switchover --verify
# incremental): what real systems do around an online verification.
#
#   A  the first verify --online under a load whose transactions write tables
#      in reverse alphabetical order (zz, then aa): the target-write triggers
#      are created table by table in one transaction while follow applies
#   B  odd identifiers and key types (schema "My Schema", table
#      "Odd ""Quoted"" Name", text key with quotes/backslashes/unicode, uuid,
#      numeric, timestamptz keys): online verify names the right key
#   C  two verify --online at once: the second is refused (exit 7)
#   D  a long transaction open on the source when verify --online starts: it
#      waits (the follower keeps applying), then proceeds; pause_ms stays small
#   E  follow killed (-9) in the middle of a verify --online: the verify fails
#      with a clear line in bounded time; after a restart a new one passes
#   F  after a passing online verification: follow killed (-9) and restarted
#      under pgbench; rows it applied before and after the restart are still
#      compared by key (a divergence is simulated on the rows follow applies
#      with a target-side ENABLE ALWAYS trigger created after the
#      verification, standing in for an apply that went wrong: the case
#      pgcutover.changed_key exists for)
#   G  target-side divergences made after the online verification (DELETE,
#      extra INSERT, composite key, REPLICA IDENTITY FULL without key, through
#      a partitioned parent) are caught by the incremental verify (exit 5, the
#      source stays fenced), and those that are not divergences pass (a
#      replica-role UPDATE the source overwrites later, a TRUNCATE on the
#      source); repaired, the rerun completes and source = target.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
PY=/usr/bin/python3
json() { $PY -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
# verdict TABLE FIELD: one field of one table's verdict in a switchover/verify JSON on stdin
verdict() {
  $PY -c "
import json,sys
d=json.load(sys.stdin); ts=d.get('verify',d).get('tables',[])
v=[t for t in ts if t['table']==sys.argv[1]]
print(v[0][sys.argv[2]] if v else 'absent')" "$1" "$2"
}
# whole_reason TABLE: why the incremental verify compared TABLE whole ('-' if it did not)
whole_reason() {
  $PY -c "
import json,sys
d=json.load(sys.stdin); w=[x['reason'] for x in (d.get('incremental') or {}).get('whole',[]) if x['table']==sys.argv[1]]
print(w[0] if w else '-')" "$1"
}
follower_pid_ok() {  # waits until pgcutover.follower shows $FOLLOWER following
  for _ in $(seq 1 200); do
    [ "$(tgt_sql -c "SELECT count(*) FROM pgcutover.follower WHERE pid = $FOLLOWER AND phase = 'following'" 2>/dev/null)" = 1 ] && return 0
    sleep 0.05
  done
  return 1
}
restart_follower() { follower_start; follower_pid_ok || true; }
alive() { kill -0 "$1" 2>/dev/null && echo yes || echo no; }
PSQL_SRC=(psql -X -q -At -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres -d app)

# --- schema ------------------------------------------------------------------
"$PG_BIN/pgbench" -i -q -s 1 -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >/dev/null 2>&1
src_sql -c "ALTER TABLE pgbench_history REPLICA IDENTITY FULL"
src_sql <<'SQL'
CREATE TABLE aa (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
CREATE TABLE zz (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO aa SELECT g FROM generate_series(1, 100) g;
INSERT INTO zz SELECT g FROM generate_series(1, 100) g;
DO $$ BEGIN FOR i IN 1..40 LOOP
  EXECUTE format('CREATE TABLE mm%s (id int PRIMARY KEY)', lpad(i::text, 2, '0'));
END LOOP; END $$;
CREATE TABLE bulk (id int PRIMARY KEY, pad text);
CREATE TABLE quiet (id int PRIMARY KEY, v text);
INSERT INTO quiet SELECT g, 'q' || g FROM generate_series(1, 1000) g;
-- G: one table per divergence
CREATE TABLE del_t (id int PRIMARY KEY, v text);
CREATE TABLE ddl_t (id int PRIMARY KEY, v text);
CREATE TABLE tr_tgt (id int PRIMARY KEY, v text);
INSERT INTO tr_tgt SELECT g, 'w' || g FROM generate_series(1, 100) g;
INSERT INTO ddl_t SELECT g, 'y' || g FROM generate_series(1, 200) g;
CREATE TABLE ins_t (id int PRIMARY KEY, v text);
CREATE TABLE ovr_t (id int PRIMARY KEY, v text);
CREATE TABLE trunc_t (id int PRIMARY KEY, v text);
CREATE TABLE comp_t (a int, b text, v text, PRIMARY KEY (a, b));
CREATE TABLE full_t (a int, v text);
ALTER TABLE full_t REPLICA IDENTITY FULL;
CREATE TABLE full_ok (a int, v text);
ALTER TABLE full_ok REPLICA IDENTITY FULL;
CREATE TABLE part_p (id int PRIMARY KEY, v text) PARTITION BY RANGE (id);
CREATE TABLE part_p1 PARTITION OF part_p FOR VALUES FROM (0) TO (500);
CREATE TABLE part_p2 PARTITION OF part_p FOR VALUES FROM (500) TO (1000);
INSERT INTO del_t SELECT g, 'd' || g FROM generate_series(1, 200) g;
INSERT INTO ins_t SELECT g, 'i' || g FROM generate_series(1, 200) g;
INSERT INTO ovr_t SELECT g, 'o' || g FROM generate_series(1, 200) g;
INSERT INTO trunc_t SELECT g, 't' || g FROM generate_series(1, 200) g;
INSERT INTO comp_t SELECT g % 10, 'b' || g, 'c' || g FROM generate_series(1, 200) g;
INSERT INTO full_t SELECT g, 'f' || g FROM generate_series(1, 200) g;
INSERT INTO full_ok SELECT g, 'k' || g FROM generate_series(1, 200) g;
INSERT INTO part_p SELECT g, 'p' || g FROM generate_series(0, 999) g;
-- F: rows follow applies after the verification
CREATE TABLE trk (id int PRIMARY KEY, v text);
INSERT INTO trk SELECT g, 'r' || g FROM generate_series(1, 100) g;
-- a primary key AND a replica identity index on another unique column
CREATE TABLE ri_t (id int PRIMARY KEY, code text NOT NULL UNIQUE, v text);
ALTER TABLE ri_t REPLICA IDENTITY USING INDEX ri_t_code_key;
INSERT INTO ri_t SELECT g, 'code-' || g, 'x' || g FROM generate_series(1, 100) g;
-- B: odd identifiers and key types
CREATE SCHEMA "My Schema";
CREATE TABLE "My Schema"."Odd ""Quoted"" Name" ("Key ""Col""" text PRIMARY KEY, v text);
INSERT INTO "My Schema"."Odd ""Quoted"" Name" SELECT 'k' || g, 'v' || g FROM generate_series(1, 50) g;
INSERT INTO "My Schema"."Odd ""Quoted"" Name" VALUES (E'it''s "q" \\back\\slash ünï©ødé 🐘', 'odd');
CREATE TABLE u_t (id uuid PRIMARY KEY, v text);
INSERT INTO u_t SELECT md5(g::text)::uuid, 'u' || g FROM generate_series(1, 50) g;
INSERT INTO u_t VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'u-odd');
CREATE TABLE n_t (id numeric PRIMARY KEY, v text);
INSERT INTO n_t SELECT g / 4.0, 'n' || g FROM generate_series(1, 50) g;
INSERT INTO n_t VALUES (12345678901234567890.123456789, 'n-big'), (-0.50, 'n-neg');
CREATE TABLE ts_t (id timestamptz PRIMARY KEY, v text);
INSERT INTO ts_t SELECT '2026-01-01 00:00:00+00'::timestamptz + g * interval '1 hour 0.123456 s', 't' || g FROM generate_series(1, 50) g;
INSERT INTO ts_t VALUES ('2026-03-29 02:30:00.5+05:30', 't-odd');
SQL
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"
assert_eq ri_t_code_key "$(tgt_sql -c "SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'ri_t'::regclass AND indisreplident")" \
  "the copy kept ri_t's replica identity index on the target"
follower_start
follower_pid_ok || true

# --- A: first verify --online while follow applies zz-then-aa transactions ----
cat > "$HARNESS_DIR/zzaa.sql" <<'SQL'
\set i random(1, 100)
BEGIN;
UPDATE zz SET v = v + 1 WHERE id = :i;
UPDATE aa SET v = v + 1 WHERE id = :i;
COMMIT;
SQL
"$PG_BIN/pgbench" -n -c 2 -T 15 -R 400 -f "$HARNESS_DIR/zzaa.sql" -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >/dev/null 2>&1 &
BENCH=$!
sleep 2
run_pgcutover verify --online --json --source "$SRC_DSN" --target "$TGT_DSN"
A_RC=$RC; A_ERR=$ERR
sleep 2
assert_eq yes "$(alive "$FOLLOWER")" "A: follow is still running after the first verify --online under a zz-then-aa load"
assert_eq 0 "$A_RC" "A: the first verify --online under that load exits 0 (err: $(tail -n 2 <<<"$A_ERR" | tr '\n' ' ' | head -c 300))"
if grep -q "deadlock detected" "$HARNESS_DIR/tgt/log"; then
  fail "A: no deadlock on the target while the target-write triggers are created" "$(grep -m3 -A2 'deadlock detected' "$HARNESS_DIR/tgt/log" | tr '\n' ' ' | head -c 600)"
else
  pass "A: no deadlock on the target while the target-write triggers are created"
fi
wait "$BENCH" || true
if [ "$(alive "$FOLLOWER")" = no ]; then
  grep -E "deadlock|ERROR" "$HARNESS_DIR/all-output.log" | tail -n 3 | sed 's/^/#   follow: /' || true
  restart_follower
fi

# --- B: odd identifiers and key types, named by the online verify -------------
ODDQ='"My Schema"."Odd ""Quoted"" Name"'
tgt_sql <<'SQL'
SET session_replication_role = replica;
UPDATE "My Schema"."Odd ""Quoted"" Name" SET v = 'corrupt' WHERE "Key ""Col""" = E'it''s "q" \\back\\slash ünï©ødé 🐘';
UPDATE u_t SET v = 'corrupt' WHERE id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
UPDATE n_t SET v = 'corrupt' WHERE id = 12345678901234567890.123456789;
UPDATE ts_t SET v = 'corrupt' WHERE id = '2026-03-29 02:30:00.5+05:30';
SQL
run_pgcutover verify --online --json --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 5 "$RC" "B: odd keys corrupted on the target: verify --online exit 5"
keys_of() { verdict "$1" differing_keys <<<"$OUT" | $PY -c "import sys,ast,json; v=sys.stdin.read().strip(); print(json.dumps([k['key'] for k in ast.literal_eval(v)], ensure_ascii=False) if v not in ('absent','None') else v)"; }
assert_eq '[{"Key \"Col\"": "it'"'"'s \"q\" \\back\\slash ünï©ødé 🐘"}]' "$(keys_of "$ODDQ")" "B: names the text key with quotes, backslashes and unicode of the oddly named table"
assert_eq '[{"id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}]' "$(keys_of public.u_t)" "B: names the uuid key"
assert_eq '[{"id": "12345678901234567890.123456789"}]' "$(keys_of public.n_t)" "B: names the numeric key exactly"
assert_eq '[{"id": "2026-03-28 21:00:00.5+00"}]' "$(keys_of public.ts_t)" "B: names the timestamptz key"
assert_eq 4 "$(json 'sum(1 for t in d["tables"] if not t["match"])' <<<"$OUT")" "B: exactly the four corrupted tables differ"
tgt_sql <<'SQL'
SET session_replication_role = replica;
UPDATE "My Schema"."Odd ""Quoted"" Name" SET v = 'odd' WHERE "Key ""Col""" = E'it''s "q" \\back\\slash ünï©ødé 🐘';
UPDATE u_t SET v = 'u-odd' WHERE id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
UPDATE n_t SET v = 'n-big' WHERE id = 12345678901234567890.123456789;
UPDATE ts_t SET v = 't-odd' WHERE id = '2026-03-29 02:30:00.5+05:30';
SQL

# --- C: two at once -------------------------------------------------------------
"$PGCUTOVER" verify --online --jobs 1 --max-rate 20000 --source "$SRC_DSN" --target "$TGT_DSN" >"$HARNESS_DIR/c1.out" 2>"$HARNESS_DIR/c1.err" & C1=$!
for _ in $(seq 1 300); do
  [ "$(tgt_sql -c "SELECT count(*) FROM pgcutover.verification WHERE state IN ('imported', 'comparing')")" != 0 ] && break
  sleep 0.02
done
run_pgcutover verify --online --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 7 "$RC" "C: a second verify --online while one runs: exit 7"
assert_contains "$ERR" "another verify --online is running" "C: the second says why"
set +e; wait "$C1"; C1_RC=$?; set -e
cat "$HARNESS_DIR/c1.out" "$HARNESS_DIR/c1.err" >> "$HARNESS_DIR/all-output.log"
assert_eq 0 "$C1_RC" "C: the first one, undisturbed, passes (repaired odd rows)"

# --- H: verify --online under an unthrottled write load ---------------------------
"$PG_BIN/pgbench" -n -T 30 -c 2 -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >/dev/null 2>&1 & BENCH=$!
sleep 2
t0=$(date +%s.%N)
run_pgcutover verify --online --json --source "$SRC_DSN" --target "$TGT_DSN"
t1=$(date +%s.%N)
H_RC=$RC
passed_n=$(tgt_sql -c "SELECT count(*) FROM pgcutover.verification WHERE state = 'passed' AND requested_at > now() - interval '120 s'")
hpause=$(tgt_sql -c "SELECT coalesce(round(pause_ms::numeric, 3)::text, '99999') || ' ' || state FROM pgcutover.verification ORDER BY id DESC LIMIT 1")
echo "# H: verify --online under unthrottled pgbench: exit $H_RC after $(echo "$t1 - $t0" | bc) s, $passed_n 'passed' attempt(s), last verification: pause_ms/state $hpause"
grep -iE "error|gave|warn" <<<"$ERR" | tail -n 2 | sed 's/^/#   /' || true
kill -TERM "$BENCH" 2>/dev/null || true; wait "$BENCH" 2>/dev/null || true
assert_eq 0 "$H_RC" "H: verify --online under an unthrottled pgbench: exit 0"
assert_eq 1 "$(echo "${hpause%% *} < 1000" | bc 2>/dev/null || echo 0)" "H: under that load the follower stood still under 1 s ($hpause)"
assert_eq yes "$(alive "$FOLLOWER")" "H: follow still runs"
[ "$(alive "$FOLLOWER")" = yes ] || restart_follower

# --- D: a long transaction open on the source ----------------------------------
"$PG_BIN/pgbench" -n -T 14 -R 200 -c 2 -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >/dev/null 2>&1 & BENCH=$!
"${PSQL_SRC[@]}" -c "BEGIN; INSERT INTO quiet VALUES (5001, 'long'); SELECT pg_sleep(10); COMMIT;" >/dev/null 2>&1 & LONG=$!
sleep 1
h0=$(tgt_sql -c "SELECT count(*) FROM pgbench_history")
t0=$(date +%s.%N)
"$PGCUTOVER" verify --online --json --source "$SRC_DSN" --target "$TGT_DSN" >"$HARNESS_DIR/d.out" 2>"$HARNESS_DIR/d.err" & DV=$!
sleep 5
h1=$(tgt_sql -c "SELECT count(*) FROM pgbench_history")
set +e; wait "$DV"; D_RC=$?; set -e
t1=$(date +%s.%N)
OUT=$(cat "$HARNESS_DIR/d.out"); ERR=$(cat "$HARNESS_DIR/d.err"); cat "$HARNESS_DIR/d.out" "$HARNESS_DIR/d.err" >> "$HARNESS_DIR/all-output.log"
wait "$LONG" || true
assert_eq 0 "$D_RC" "D: verify --online with a 10 s transaction open on the source: exit 0"
assert_contains "$ERR" "waiting for 1 transaction(s) running on the source to finish" "D: says it waits for the source's running transaction"
assert_eq 1 "$(echo "$t1 - $t0 >= 7" | bc)" "D: it waited for that transaction ($(echo "$t1 - $t0" | bc) s)"
assert_eq 1 "$([ "$h1" -gt "$h0" ] && echo 1 || echo 0)" "D: the follower kept applying while verify waited ($h0 -> $h1 history rows)"
pause=$(tgt_sql -c "SELECT coalesce(round(pause_ms::numeric, 3), 99999) FROM pgcutover.verification WHERE state = 'done' ORDER BY id DESC LIMIT 1")
assert_eq 1 "$(echo "$pause < 1000" | bc)" "D: pgcutover.verification.pause_ms is small ($pause ms)"
assert_eq t "$(tgt_sql -c "SELECT count(*) = 1 FROM quiet WHERE id = 5001")" "D: the long transaction's row reached the target"
wait "$BENCH" || true

# --- E: follow killed -9 in the middle of a verify --online ---------------------
src_sql -c "INSERT INTO bulk SELECT g, repeat('x', 200) FROM generate_series(1, 300000) g"
t0=$(date +%s.%N)
"$PGCUTOVER" verify --online --source "$SRC_DSN" --target "$TGT_DSN" >"$HARNESS_DIR/e.out" 2>"$HARNESS_DIR/e.err" & EV=$!
state=none
for _ in $(seq 1 500); do
  state=$(tgt_sql -c "SELECT state FROM pgcutover.verification ORDER BY id DESC LIMIT 1")
  [ "$state" = lsn_known ] || [ "$state" = holding ] && break
  sleep 0.01
done
kill -9 "$FOLLOWER"; wait "$FOLLOWER" 2>/dev/null || true
echo "# E: follow killed while the verification was '$state'"
set +e
for _ in $(seq 1 200); do kill -0 "$EV" 2>/dev/null || break; sleep 1; done
E_ALIVE=$(alive "$EV")
[ "$E_ALIVE" = no ] || kill -TERM "$EV"
wait "$EV"; E_RC=$?
set -e
t1=$(date +%s.%N)
E_S=$(echo "$t1 - $t0" | bc)
ERR=$(cat "$HARNESS_DIR/e.err"); cat "$HARNESS_DIR/e.out" "$HARNESS_DIR/e.err" >> "$HARNESS_DIR/all-output.log"
echo "# E: verify --online ended after $E_S s, exit $E_RC: $(grep -i error <<<"$ERR" | tail -n 1)"
assert_eq no "$E_ALIVE" "E: verify --online with its follower killed ends by itself within 200 s"
assert_eq 1 "$([ "$E_RC" -ne 0 ] && echo 1 || echo 0)" "E: and fails (exit $E_RC)"
assert_eq 1 "$(echo "$E_S < 60" | bc)" "E: it notices the follower is gone within 60 s (took $E_S s)"
assert_contains "$ERR" "follow" "E: the failing line speaks of the follower"
assert_not_contains "$ERR" "(it lags)" "E: it does not blame lag when the follower is dead"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM pgcutover.verification WHERE state NOT IN ('done', 'failed', 'passed')")" "E: the abandoned verification is closed on the target"
restart_follower
run_pgcutover verify --online --jobs 2 --json --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "E: after the restart, verify --online passes"

# --- F: after the passing verification, follow killed -9 under pgbench ----------
# Simulated apply divergence: from now on, rows follow writes to these tables
# get v = 'mangled' on the target (its sessions carry pgcutover.role = follower).
tgt_sql <<'SQL'
CREATE FUNCTION public.review_mangle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('pgcutover.role', true) = 'follower' THEN NEW.v := 'mangled'; END IF;
  RETURN NEW;
END $$;
DO $$ DECLARE t text; BEGIN
  FOREACH t IN ARRAY ARRAY['trk', 'ri_t', 'quiet', '"My Schema"."Odd ""Quoted"" Name"', 'u_t', 'n_t', 'ts_t'] LOOP
    EXECUTE format('CREATE TRIGGER review_mangle BEFORE UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION public.review_mangle()', t);
    EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER review_mangle', t);
  END LOOP;
END $$;
SQL
"$PG_BIN/pgbench" -n -T 10 -R 200 -c 2 -h "$HARNESS_DIR/src" -p "$SRC_PORT" -U postgres app >/dev/null 2>&1 & BENCH=$!
sleep 1
src_sql -c "UPDATE trk SET v = 'src3' WHERE id = 3"                 # applied before the kill
src_sql -c "UPDATE quiet SET v = 'src3' WHERE id = 3"               # control: a plain primary key
for _ in $(seq 1 100); do [ "$(tgt_sql -c "SELECT v FROM trk WHERE id = 3")" = mangled ] && break; sleep 0.05; done
assert_eq mangled "$(tgt_sql -c "SELECT v FROM trk WHERE id = 3")" "F: follow applied trk 3 (diverged on the target) before the kill"
sleep 1
kill -9 "$FOLLOWER"; wait "$FOLLOWER" 2>/dev/null || true
sleep 1
restart_follower
# follow quiets ENABLE ALWAYS triggers on the target when it starts (issue 19:
# they would fire on its writes); this test's mangling trigger stands for an
# apply bug, so it is set ALWAYS again once the follower runs
tgt_sql <<'SQL'
DO $$ DECLARE t text; BEGIN
  FOREACH t IN ARRAY ARRAY['trk', 'ri_t', 'quiet', '"My Schema"."Odd ""Quoted"" Name"', 'u_t', 'n_t', 'ts_t'] LOOP
    EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER review_mangle', t);
  END LOOP;
END $$;
SQL
src_sql -c "UPDATE trk SET v = 'src7' WHERE id = 7"                 # applied after the restart
src_sql -c "UPDATE ri_t SET v = 'src5' WHERE id = 5"                # replica identity index <> primary key
src_sql <<'SQL'
UPDATE "My Schema"."Odd ""Quoted"" Name" SET v = 'src' WHERE "Key ""Col""" = E'it''s "q" \\back\\slash ünï©ødé 🐘';
UPDATE u_t SET v = 'src' WHERE id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
UPDATE n_t SET v = 'src' WHERE id = 12345678901234567890.123456789;
UPDATE ts_t SET v = 'src' WHERE id = '2026-03-29 02:30:00.5+05:30';
SQL
wait "$BENCH" || true
for _ in $(seq 1 200); do [ "$(tgt_sql -c "SELECT v FROM ts_t WHERE id = '2026-03-29 02:30:00.5+05:30'")" = mangled ] && break; sleep 0.05; done
assert_eq "mangled mangled" "$(tgt_sql -c "SELECT (SELECT v FROM trk WHERE id = 7) || ' ' || (SELECT v FROM ri_t WHERE id = 5)")" "F: follow (restarted) applied trk 7 and ri_t 5 (diverged on the target)"

# --- G: divergences made on the target after the online verification -----------
tgt_sql -c "DELETE FROM del_t WHERE id = 10"                                            # a row the source never touches
tgt_sql -c "INSERT INTO ins_t VALUES (9999, 'extra')"                                   # an extra row
tgt_sql -c "TRUNCATE tr_tgt"                                                            # a TRUNCATE on the target
tgt_sql -c "SET session_replication_role = replica" -c "UPDATE ovr_t SET v = 'tgt' WHERE id = 5"   # ...overwritten below
tgt_sql -c "SET session_replication_role = replica" -c "UPDATE comp_t SET v = 'tgt' WHERE a = 3 AND b = 'b13'"
tgt_sql -c "SET session_replication_role = replica" -c "UPDATE full_t SET v = 'tgt' WHERE a = 7"
tgt_sql -c "SET session_replication_role = replica" -c "UPDATE part_p SET v = 'tgt' WHERE id = 777"  # through the parent
# DDL on the target that rewrites every row (no DML trigger fires)
tgt_sql -c "ALTER TABLE ddl_t ALTER COLUMN v TYPE text USING v || '-ddl'"
src_sql -c "UPDATE ovr_t SET v = 'src5' WHERE id = 5"
src_sql -c "TRUNCATE trunc_t" -c "INSERT INTO trunc_t SELECT g, 'T' || g FROM generate_series(1, 150) g"
src_sql -c "UPDATE full_ok SET v = 'K' WHERE a <= 20" -c "DELETE FROM full_ok WHERE a > 190"
src_sql -c "UPDATE part_p SET v = 'src' WHERE id = 100"
# what the repair needs later (the source is closed to connections once fenced)
REPAIR=(trk ri_t quiet '"My Schema"."Odd ""Quoted"" Name"' u_t n_t ts_t del_t ins_t comp_t full_t part_p2 ddl_t tr_tgt)
for t in "${REPAIR[@]}"; do src_sql -c "COPY $t TO STDOUT" > "$HARNESS_DIR/repair.$(echo "$t" | md5sum | cut -c1-8)"; done
total=$(src_sql -c "SELECT sum(n_live_tup) FROM pg_stat_user_tables")

run_pgcutover switchover --json --source "$SRC_DSN" --target "$TGT_DSN"
echo "$ERR" | grep -iE "error|differ" | head -n 5 | sed 's/^/#   /' || true
assert_eq 5 "$RC" "G: divergences after the online verification: switchover exit 5"
assert_eq incremental "$(json 'd["verify_mode"]' <<<"$OUT")" "G: verify_mode incremental"
assert_eq f "$(cluster_sql src -c "SELECT datallowconn FROM pg_database WHERE datname = 'app'")" "G: the source stays fenced"
rows=$(json 'd["verify"]["rows_compared"]' <<<"$OUT" 2>/dev/null || echo 0)
assert_eq 1 "$([ "$rows" -gt 0 ] && [ "$rows" -lt "$total" ] && echo 1 || echo 0)" "G: rows_compared plausible: some, not the whole database ($rows of $total)"
for t in public.del_t public.ins_t public.comp_t public.full_t public.part_p2 public.tr_tgt; do
  assert_eq False "$(verdict "$t" match <<<"$OUT")" "G: $t (changed on the target by another session) differs"
done
assert_eq False "$(verdict public.ddl_t match <<<"$OUT")" "G: ddl_t (every row rewritten on the target by ALTER TABLE ... USING) differs"
assert_eq "written on the target by another session" "$(whole_reason public.del_t <<<"$OUT")" "G: del_t compared whole, because written on the target"
assert_eq "its partitioned table was written on the target by another session" "$(whole_reason public.part_p2 <<<"$OUT")" "G: part_p2 compared whole through its parent"
assert_eq True "$(verdict public.part_p1 match <<<"$OUT")" "G: part_p1 (same parent, untouched) compared and equal"
assert_eq True "$(verdict public.ovr_t match <<<"$OUT")" "G: ovr_t: a replica-role target UPDATE the source overwrote is no divergence"
assert_eq True "$(verdict public.trunc_t match <<<"$OUT")" "G: trunc_t: a TRUNCATE on the source, replayed, compares equal"
assert_eq truncated "$(whole_reason public.trunc_t <<<"$OUT")" "G: trunc_t compared whole because truncated"
assert_eq True "$(verdict public.full_ok match <<<"$OUT")" "G: full_ok: REPLICA IDENTITY FULL, source changes only, equal"
assert_eq "no key" "$(whole_reason public.full_ok <<<"$OUT")" "G: full_ok compared whole (no key)"
# F's divergences: only changed_key can see them (follow wrote them)
assert_eq False "$(verdict public.quiet match <<<"$OUT")" "F: quiet (plain key applied by follow, diverged) differs"
assert_eq False "$(verdict public.trk match <<<"$OUT")" "F: trk differs"
assert_contains "$(verdict public.trk differing_keys <<<"$OUT")" "{'id': '3'}" "F: trk key 3, applied before follow was killed, is compared"
assert_contains "$(verdict public.trk differing_keys <<<"$OUT")" "{'id': '7'}" "F: trk key 7, applied after follow restarted, is compared"
assert_eq False "$(verdict public.ri_t match <<<"$OUT")" "F: ri_t (primary key id, replica identity index code) diverged row is caught"
assert_eq False "$(verdict "$ODDQ" match <<<"$OUT")" "B/F: the oddly named table's diverged key is caught by key"
assert_eq False "$(verdict public.u_t match <<<"$OUT")" "B/F: the uuid-keyed diverged row is caught"
assert_eq False "$(verdict public.n_t match <<<"$OUT")" "B/F: the numeric-keyed diverged row is caught"
assert_eq False "$(verdict public.ts_t match <<<"$OUT")" "B/F: the timestamptz-keyed diverged row is caught"
assert_eq "changed keys" "$(verdict public.ts_t scope <<<"$OUT")" "B/F: ts_t compared by its changed keys"

# --- repaired: the rerun completes, source = target -------------------------------
tgt_sql <<'SQL'
DO $$ DECLARE t text; BEGIN
  FOREACH t IN ARRAY ARRAY['trk', 'ri_t', 'quiet', '"My Schema"."Odd ""Quoted"" Name"', 'u_t', 'n_t', 'ts_t'] LOOP
    EXECUTE format('DROP TRIGGER review_mangle ON %s', t);
  END LOOP;
END $$;
SQL
for t in "${REPAIR[@]}"; do
  tgt_sql -c "SET session_replication_role = replica" -c "DELETE FROM $t" \
          -c "COPY $t FROM STDIN" < "$HARNESS_DIR/repair.$(echo "$t" | md5sum | cut -c1-8)"
done
run_pgcutover switchover --json --source "$SRC_DSN" --target "$TGT_DSN"
echo "$ERR" | grep -iE "error|differ" | head -n 5 | sed 's/^/#   /' || true
assert_eq 0 "$RC" "repaired: switchover exit 0"
assert_eq incremental "$(json 'd["verify_mode"]' <<<"$OUT")" "repaired: verify_mode incremental"
assert_source_fenced
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "switched over: source and target equal"
wait "$FOLLOWER" 2>/dev/null || true
done_testing
