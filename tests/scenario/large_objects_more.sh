#!/usr/bin/env bash
# Scenario (issue 19 hardening, class 8): large objects from a PostgreSQL 13
# source (wal2json 2.3) through `migrate --switchover`, with changes the
# earlier test does not make: only a comment changed, a comment removed, an
# object unlinked and made again under the same OID with other bytes, one
# grown by lo_put past its end leaving a hole, one written through
# lo_open/lowrite in a transaction that also writes a table, and 10,000
# small objects (the pass inside the fence re-reads them all: its time is
# reported) while a writer keeps changing objects until the fence.  Then a
# copy killed -9 in its large-object pass, and rerun.
. "$(dirname "$0")/../lib/harness.sh"
if pg_bin_for 13 >/dev/null 2>&1; then harness_start_versions 13 15; else harness_start; fi

src_sql <<'SQL' >/dev/null
CREATE TABLE files (id int PRIMARY KEY, raw oid, note text);
SELECT lo_from_bytea(600001, 'commented');
COMMENT ON LARGE OBJECT 600001 IS 'before';
SELECT lo_from_bytea(600002, 'comment to drop');
COMMENT ON LARGE OBJECT 600002 IS 'to drop';
SELECT lo_from_bytea(600003, 'first life');
SELECT lo_from_bytea(600004, 'short');
SELECT lo_from_bytea(600005, '');
INSERT INTO files SELECT g, 600000 + g, 'n' || g FROM generate_series(1, 5) g;
SELECT count(lo_from_bytea(700000 + g, convert_to('small ' || g, 'UTF8'))) FROM generate_series(1, 10000) g;
SQL

lo_fingerprint() {
  DB=${DB:-app} cluster_sql "$1" -c "SELECT count(*) || ' ' || coalesce(md5(string_agg(oid || ':' || md5(lo_get(oid)) || ':' || coalesce(obj_description(oid, 'pg_largeobject'), '-'), ',' ORDER BY oid)), '-') FROM pg_largeobject_metadata"
}

writer() {
  local i=0
  while [ ! -e "$HARNESS_DIR/stop-writer" ]; do
    i=$((i + 1))
    src_sql >/dev/null 2>&1 <<SQL || true
BEGIN;
SELECT lo_put(700000 + $i % 10000 + 1, 0, convert_to('w$i', 'UTF8'));
UPDATE files SET note = 'w$i' WHERE id = 1;
COMMIT;
SQL
    sleep 0.05
  done
}

# the changes, once migrate's copy has its snapshot (they are after it)
changes() {
  for _ in $(seq 1 600); do
    [ "$(tgt_sql -c "SELECT count(*) FROM pgcutover.migration WHERE consistent_lsn IS NOT NULL" 2>/dev/null)" = 1 ] && break
    sleep 0.02
  done
  src_sql >/dev/null 2>>"$HARNESS_DIR/changes.err" <<'SQL'
COMMENT ON LARGE OBJECT 600001 IS 'after';
COMMENT ON LARGE OBJECT 600002 IS NULL;
SELECT lo_unlink(600003);
SELECT lo_from_bytea(600003, 'second life, longer than the first');
SELECT lo_put(600004, 100000, 'after a hole');
BEGIN;
SELECT lowrite(lo_open(600005, 131072), 'written by lowrite');
UPDATE files SET note = 'lowrite' WHERE id = 5;
COMMIT;
SQL
  touch "$HARNESS_DIR/changes-done"
}
writer & WRITER=$!
changes & CHANGES=$!
run_pgcutover migrate --source "$SRC_DSN" --target "$TGT_DSN" --switchover --max-lag 5 --timeout 60
touch "$HARNESS_DIR/stop-writer"; wait "$WRITER" "$CHANGES" 2>/dev/null || true
assert_eq 0 "$RC" "migrate --switchover with 10,005 large objects under writes exits 0"
[ "$RC" -eq 0 ] || echo "# $(tail -n 5 <<<"$ERR")"
assert_eq "" "$(cat "$HARNESS_DIR/changes.err" 2>/dev/null)" "the source took every change"
[ -e "$HARNESS_DIR/changes-done" ] && pass "the changes ran after the copy's snapshot, before the fence" || fail "the changes ran after the copy's snapshot, before the fence"
echo "# $(grep -E "large objects (before|inside)|write downtime" <<<"$OUT$ERR" | tr '\n' ' ')"
assert_eq "$(lo_fingerprint src)" "$(lo_fingerprint tgt)" "after migrate: every large object identical (OIDs, data, comments)"
assert_eq "$(PGTZ=UTC db_fingerprint src)" "$(PGTZ=UTC db_fingerprint tgt)" "after migrate: every table identical"
assert_eq "after|-|second life, longer than the first|100012|written by lowrite" \
  "$(tgt_sql -c "SELECT obj_description(600001, 'pg_largeobject'), coalesce(obj_description(600002, 'pg_largeobject'), '-'), convert_from(lo_get(600003), 'UTF8'), length(lo_get(600004)), convert_from(lo_get(600005), 'UTF8')")" \
  "a comment changed only, a comment removed, an OID made again, a hole, lowrite: each carried"

# copy killed -9 in its large-object pass (some batches committed), then rerun
cluster_sql src -c "CREATE DATABASE lo2" >/dev/null
cluster_sql tgt -c "CREATE DATABASE lo2" >/dev/null
DB=lo2 cluster_sql src >/dev/null <<'SQL'
CREATE TABLE refs (id int PRIMARY KEY, raw oid);
INSERT INTO refs SELECT g, lo_from_bytea(800000 + g, (SELECT string_agg(sha256((g * 100000 + x)::text::bytea), '') FROM generate_series(1, 49152) x))
FROM generate_series(1, 24) g;
COMMENT ON LARGE OBJECT 800001 IS 'first';
SQL
LO2_SRC="${SRC_DSN/dbname=app/dbname=lo2}"
LO2_TGT="${TGT_DSN/dbname=app/dbname=lo2}"
"$PGCUTOVER" copy --slot lo2 --source "$LO2_SRC" --target "$LO2_TGT" >>"$HARNESS_DIR/all-output.log" 2>&1 &
cp=$!
for _ in $(seq 1 600); do
  [ "$(DB=lo2 cluster_sql tgt -c "SELECT count(*) > 0 FROM pgcutover.large_object" 2>/dev/null)" = t ] && break
  sleep 0.02
done
kill -9 "$cp"; wait "$cp" 2>/dev/null || true
pkill -9 -P "$cp" 2>/dev/null || true
echo "# killed with $(DB=lo2 cluster_sql tgt -c "SELECT count(*) FROM pg_largeobject_metadata") of 24 objects on the target"
run_pgcutover copy --slot lo2 --source "$LO2_SRC" --target "$LO2_TGT"
assert_eq 0 "$RC" "copy killed -9 in its large-object pass: the rerun exits 0"
[ "$RC" -eq 0 ] || echo "# $(tail -n 3 <<<"$ERR")"
assert_eq "$(DB=lo2 lo_fingerprint src)" "$(DB=lo2 lo_fingerprint tgt)" "copy killed in its large-object pass: the rerun ends with every object equal"
run_pgcutover cleanup --slot lo2 --source "$LO2_SRC" --target "$LO2_TGT" --yes
done_testing
