#!/usr/bin/env bash
# Scenario (issue 19 hardening, class 8): large objects from a PostgreSQL 13
# source (wal2json 2.3) through `migrate --switchover`, with changes the
# earlier test does not make: only a comment changed, a comment removed, an
# object unlinked and made again under the same OID with other bytes, one
# grown by lo_put past its end leaving a hole, one written through
# lo_open/lowrite in a transaction that also writes a table, and 20,000
# small objects (the pass inside the fence re-reads them all: its time is
# reported) while a writer keeps changing objects until the fence.
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
SELECT count(lo_from_bytea(700000 + g, convert_to('small ' || g, 'UTF8'))) FROM generate_series(1, 20000) g;
SQL

lo_fingerprint() {
  DB=app cluster_sql "$1" -c "SELECT count(*) || ' ' || coalesce(md5(string_agg(oid || ':' || md5(lo_get(oid)) || ':' || coalesce(obj_description(oid, 'pg_largeobject'), '-'), ',' ORDER BY oid)), '-') FROM pg_largeobject_metadata"
}

writer() {
  local i=0
  while [ ! -e "$HARNESS_DIR/stop-writer" ]; do
    i=$((i + 1))
    src_sql >/dev/null 2>&1 <<SQL || true
BEGIN;
SELECT lo_put(700000 + $i % 20000 + 1, 0, convert_to('w$i', 'UTF8'));
UPDATE files SET note = 'w$i' WHERE id = 1;
COMMIT;
SQL
    sleep 0.05
  done
}

# the changes, once migrate follows (its copy done)
changes() {
  for _ in $(seq 1 600); do
    [ "$(tgt_sql -c "SELECT count(*) FROM pgcutover.follower WHERE phase = 'following'" 2>/dev/null)" = 1 ] && break
    sleep 0.1
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
assert_eq 0 "$RC" "migrate --switchover with 20,005 large objects under writes exits 0"
[ "$RC" -eq 0 ] || echo "# $(tail -n 5 <<<"$ERR")"
assert_eq "" "$(cat "$HARNESS_DIR/changes.err" 2>/dev/null)" "the source took every change"
[ -e "$HARNESS_DIR/changes-done" ] && pass "the changes ran while migrate followed" || fail "the changes ran while migrate followed"
echo "# $(grep -E "large objects (before|inside)|write downtime" <<<"$OUT$ERR" | tr '\n' ' ')"
assert_eq "$(lo_fingerprint src)" "$(lo_fingerprint tgt)" "after migrate: every large object identical (OIDs, data, comments)"
assert_eq "$(PGTZ=UTC db_fingerprint src)" "$(PGTZ=UTC db_fingerprint tgt)" "after migrate: every table identical"
assert_eq "after|-|second life, longer than the first|100012|written by lowrite" \
  "$(tgt_sql -c "SELECT obj_description(600001, 'pg_largeobject'), coalesce(obj_description(600002, 'pg_largeobject'), '-'), convert_from(lo_get(600003), 'UTF8'), length(lo_get(600004)), convert_from(lo_get(600005), 'UTF8')")" \
  "a comment changed only, a comment removed, an OID made again, a hole, lowrite: each carried"
done_testing
