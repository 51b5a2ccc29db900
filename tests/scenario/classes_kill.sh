#!/usr/bin/env bash
# Scenario (issue 19 hardening, classes 3, 5, 6, 8): kill -9 anywhere, then
# a rerun resumes and ends equal, nothing twice.
#  - follow is killed again and again while NaN/Infinity keys and a REPLICA
#    IDENTITY FULL table change (row classes replaced inside the transaction
#    that advances the applied position) and an ENABLE ALWAYS audit trigger
#    fires on the source: after the rerun every row is there once;
#  - the switchover is killed once its large-object pass is seen on the
#    target (a 24 MB object written), then during --post-command (fenced, the
#    triggers still quieted on the target), then, after a rerun, inside its
#    refresh_matviews step, with a view still to refresh: each rerun ends
#    the job (triggers restored once, objects equal, every view refreshed).
. "$(dirname "$0")/../lib/harness.sh"
harness_start

src_sql <<'SQL' >/dev/null
CREATE TABLE fk (id float8 PRIMARY KEY, v int);
INSERT INTO fk SELECT g, g FROM generate_series(1, 100) g;
INSERT INTO fk VALUES ('NaN', 0), ('Infinity', 0);
CREATE TABLE rf (x float8, t text);
ALTER TABLE rf REPLICA IDENTITY FULL;
INSERT INTO rf VALUES ('NaN', 'a'), ('Infinity', 'a'), ('-Infinity', 'a'), (NULL, 'a');
CREATE TABLE orders (id bigserial PRIMARY KEY, amount numeric NOT NULL);
CREATE TABLE audit (id bigserial PRIMARY KEY, order_id bigint NOT NULL, amount text);
CREATE FUNCTION audit_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO audit (order_id, amount) VALUES (NEW.id, NEW.amount::text); RETURN NULL; END $$;
CREATE TRIGGER orders_audit AFTER INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION audit_order();
ALTER TABLE orders ENABLE ALWAYS TRIGGER orders_audit;
CREATE TABLE files (id int PRIMARY KEY, raw oid);
INSERT INTO files VALUES (1, lo_from_bytea(0, 'small')), (2, lo_from_bytea(0, 'x'));
-- a slow view first, then one that must still be refreshed after it
CREATE FUNCTION slow_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM public.orders, pg_sleep(1.5) $$;
CREATE MATERIALIZED VIEW mv_a_slow AS SELECT slow_count() AS n;
CREATE MATERIALIZED VIEW mv_b AS SELECT count(*) AS n, sum(amount) AS total FROM orders;
SQL

lo_fingerprint() {
  DB=app cluster_sql "$1" -c "SELECT count(*) || ' ' || coalesce(md5(string_agg(oid || ':' || md5(lo_get(oid)) || ':' || coalesce(obj_description(oid, 'pg_largeobject'), '-'), ',' ORDER BY oid)), '-') FROM pg_largeobject_metadata"
}
fire_states() {
  DB=app cluster_sql "$1" -c "SELECT string_agg(c.relname || '.' || t.tgname || '=' || t.tgenabled::text, ' ' ORDER BY 1) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal AND t.tgname NOT LIKE 'pgcutover%'"
}

run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"

load() {
  local i=0
  while [ ! -e "$HARNESS_DIR/stop-load" ]; do
    i=$((i + 1))
    src_sql -c "BEGIN" \
            -c "UPDATE fk SET v = v + 1 WHERE id = 'NaN'" \
            -c "UPDATE fk SET id = -id WHERE id IN ('Infinity', '-Infinity')" \
            -c "UPDATE fk SET v = -v WHERE id = $((i % 100 + 1))" \
            -c "UPDATE rf SET t = 'l$i' WHERE x = 'Infinity'" \
            -c "DELETE FROM rf WHERE x = '-Infinity'" -c "INSERT INTO rf VALUES ('-Infinity', 'l$i')" \
            -c "INSERT INTO orders (amount) VALUES (CASE WHEN $((i % 3)) = 0 THEN 'NaN' ELSE '$i' END::numeric)" \
            -c "COMMIT" >/dev/null 2>>"$HARNESS_DIR/load.err" || true
  done
}
load & LOADER=$!
for round in 1 2 3 4 5; do
  "$PGCUTOVER" follow --source "$SRC_DSN" --target "$TGT_DSN" >>"$HARNESS_DIR/all-output.log" 2>&1 &
  f=$!
  sleep "0.$((round * 17 % 9 + 3))"
  kill -9 "$f"; wait "$f" 2>/dev/null || true
done
touch "$HARNESS_DIR/stop-load"; wait "$LOADER"
assert_eq "" "$(cat "$HARNESS_DIR/load.err" 2>/dev/null)" "the load's transactions all committed on the source"
run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
assert_eq 0 "$RC" "follow killed -9 five times: the rerun catches up"
[ "$RC" -eq 0 ] || echo "# $(tail -n 3 <<<"$ERR")"
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "after the kills: every table identical (audit rows once, NaN classes once)"

# changes for the switchover to carry: a 24 MB object, table rows, views
src_sql <<'SQL' >/dev/null
SELECT lo_from_bytea(777001, (SELECT string_agg(sha256(g::text::bytea), '') FROM generate_series(1, 786432) g));
SELECT lo_put((SELECT raw FROM files WHERE id = 1), 0, 'SMALL'::bytea);
COMMENT ON LARGE OBJECT 777001 IS 'big';
INSERT INTO orders (amount) VALUES (1), ('Infinity');
REFRESH MATERIALIZED VIEW mv_a_slow;
REFRESH MATERIALIZED VIEW mv_b;
SQL
follower_start

# 1: killed once the large-object pass is seen (it may have gone on a bit)
"$PGCUTOVER" switchover --source "$SRC_DSN" --target "$TGT_DSN" --timeout 60 >>"$HARNESS_DIR/all-output.log" 2>&1 &
sw=$!
for _ in $(seq 1 300); do
  [ -n "$(tgt_sql -c "SELECT 1 FROM pg_stat_activity WHERE query ~* 'lo_(put|from_bytea)' AND state = 'active' LIMIT 1")" ] && break
  sleep 0.02
done
kill -9 "$sw"; wait "$sw" 2>/dev/null || true
assert_eq t "$(cluster_sql src -c "SELECT datallowconn FROM pg_database WHERE datname = 'app'")" "killed around the large-object pass: the source is not left fenced"

# 2: killed while fenced, in --post-command (triggers still quieted)
"$PGCUTOVER" switchover --source "$SRC_DSN" --target "$TGT_DSN" --timeout 60 --post-command 'sleep 30' >>"$HARNESS_DIR/all-output.log" 2>&1 &
sw=$!
for _ in $(seq 1 400); do
  pgrep -P "$sw" >/dev/null 2>&1 && break
  sleep 0.05
done
assert_contains "$(fire_states tgt)" "orders.orders_audit=D" "killed in --post-command: the ALWAYS trigger is still quiet on the target"
kill -9 "$sw"; wait "$sw" 2>/dev/null || true
pkill -9 -P "$sw" 2>/dev/null || true

# 3: the rerun, killed in refresh_matviews (mv_a_slow refreshing, mv_b left)
"$PGCUTOVER" switchover --source "$SRC_DSN" --target "$TGT_DSN" --timeout 60 >>"$HARNESS_DIR/all-output.log" 2>&1 &
sw=$!
for _ in $(seq 1 400); do
  [ -n "$(tgt_sql -c "SELECT 1 FROM pg_stat_activity WHERE query LIKE 'REFRESH MATERIALIZED VIEW%mv_a_slow%' LIMIT 1")" ] && break
  sleep 0.02
done
kill -9 "$sw"; wait "$sw" 2>/dev/null || true
wait "$FOLLOWER" 2>/dev/null || true
sleep 1.6
mvb_stale=equal
[ "$(src_sql -c "TABLE mv_b")" = "$(tgt_sql -c "TABLE mv_b")" ] || mvb_stale=stale
echo "# after the kill in refresh_matviews mv_b is $mvb_stale on the target"
run_pgcutover switchover --source "$SRC_DSN" --target "$TGT_DSN" --timeout 60
assert_eq 0 "$RC" "the last rerun exits 0"
[ "$RC" -eq 0 ] || echo "# $(tail -n 3 <<<"$ERR")"
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "after the reruns: every table identical"
assert_eq "$(db_sequences src)" "$(db_sequences tgt | grep -v '^pgcutover')" "after the reruns: every sequence equal"
assert_eq "$(lo_fingerprint src)" "$(lo_fingerprint tgt)" "after the reruns: the large objects equal (the 24 MB one whole)"
assert_eq "$(fire_states src)" "$(fire_states tgt)" "after the reruns: the triggers in their source state"
assert_eq "$(src_sql -c "TABLE mv_a_slow")|$(src_sql -c "TABLE mv_b")" "$(tgt_sql -c "TABLE mv_a_slow")|$(tgt_sql -c "TABLE mv_b")" \
  "after the reruns: both views hold the source's rows (the one the killed run had not reached too)"
before=$(tgt_sql -c "SELECT count(*) FROM audit")
tgt_sql -c "INSERT INTO orders (amount) VALUES (5)" >/dev/null
assert_eq "$((before + 1))" "$(tgt_sql -c "SELECT count(*) FROM audit")" "the ALWAYS trigger fires once on the new primary"
done_testing
