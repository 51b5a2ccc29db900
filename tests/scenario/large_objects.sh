#!/usr/bin/env bash
# Scenario: large objects (issue 19, class 8).  Logical decoding does not
# carry them, so copy writes them in its snapshot (same OIDs, data,
# comments) and the switchover carries what changed since: a pass before the
# fence, and one inside it.  Variants: 0 bytes, small, 3 MB, 9 MB (several of
# lo_put's 4 MB chunks), with comments, owned by another role, referenced
# from an oid column and from contrib lo's type (with its lo_manage
# trigger, which unlinks on UPDATE and DELETE); created, rewritten (lo_put)
# and unlinked on the source while following under concurrent table writes.
# check counts them; a source over the limit is refused by check, by copy
# and by the switchover before the fence; a role that cannot read them too.
. "$(dirname "$0")/../lib/harness.sh"
harness_start

src_sql <<'SQL' >/dev/null
CREATE EXTENSION lo;
CREATE ROLE lo_owner;
CREATE TABLE files (id int PRIMARY KEY, raw oid, name text);
CREATE TABLE docs (id int PRIMARY KEY, body lo, note text);
-- contrib lo's trigger: a row's object is unlinked when the row lets go of it
CREATE TRIGGER docs_lo BEFORE UPDATE OR DELETE ON docs FOR EACH ROW EXECUTE FUNCTION lo_manage(body);
CREATE TABLE ticks (id serial PRIMARY KEY, v int);
-- 0 bytes, small, 3 MB, 9 MB (bytes that are not all alike)
INSERT INTO files VALUES
  (1, lo_from_bytea(0, ''), 'empty'),
  (2, lo_from_bytea(0, 'hello, large object'), 'small'),
  (3, lo_from_bytea(0, (SELECT string_agg(md5(g::text), '')::bytea FROM generate_series(1, 98304) g)), '3 MB'),
  (4, lo_from_bytea(0, (SELECT string_agg(sha256(g::text::bytea), '') FROM generate_series(1, 294912) g)), '9 MB');
-- fixed OIDs, a comment, another owner; from contrib lo's type
SELECT lo_from_bytea(424242, '\x00ff00ff'::bytea);
COMMENT ON LARGE OBJECT 424242 IS 'a comment with ''quotes'' and ünïcode';
SELECT lo_from_bytea(424243, 'owned by lo_owner');
ALTER LARGE OBJECT 424243 OWNER TO lo_owner;
INSERT INTO docs SELECT g, lo_from_bytea(0, convert_to('doc ' || g, 'UTF8')), 'n' || g FROM generate_series(1, 20) g;
-- one nobody refers to
SELECT lo_from_bytea(0, 'orphan');
SQL

# every large object: oid, md5 of its data, its comment
lo_fingerprint() {  # lo_fingerprint src|tgt
  DB=app cluster_sql "$1" -c "SELECT count(*) || ' ' || coalesce(md5(string_agg(oid || ':' || md5(lo_get(oid)) || ':' || coalesce(obj_description(oid, 'pg_largeobject'), '-'), ',' ORDER BY oid)), '-') FROM pg_largeobject_metadata"
}

run_pgcutover check --source "$SRC_DSN" --target "$TGT_DSN"
assert_contains "$OUT" "27 large object(s)" "check counts the source's large objects"
assert_not_contains "$(grep large_objects <<<"$OUT")" "FAIL" "check: 27 large objects within the limits are no failure"

# a role that cannot read some of them: check says so by name, with a fix
src_sql -c "CREATE ROLE reader LOGIN PASSWORD '$TEST_PASSWORD'" >/dev/null
run_pgcutover check --source "${SRC_DSN/user=postgres/user=reader}" --target "$TGT_DSN"
assert_contains "$(grep large_objects <<<"$OUT")" "FAIL" "check fails large_objects for a role that cannot read them"
assert_contains "$OUT" "27 of the source's 27 large object(s) cannot be read by this role" "check names how many this role cannot read"

run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"
[ "$RC" -eq 0 ] || echo "# $(tail -n 5 <<<"$ERR")"
assert_eq "$(lo_fingerprint src)" "$(lo_fingerprint tgt)" "after copy: the same large objects (OIDs, data, comments) on the target"
assert_eq "27" "$(tgt_sql -c "SELECT count(*) FROM pg_largeobject_metadata")" "after copy: 27 large objects on the target"
assert_eq "9437184" "$(tgt_sql -c "SELECT length(lo_get(raw)) FROM files WHERE id = 4")" "after copy: the 9 MB object is whole, found through the table's oid"
assert_eq "a comment with 'quotes' and ünïcode" "$(tgt_sql -c "SELECT obj_description(424242, 'pg_largeobject')")" "after copy: the comment of a large object"
assert_eq "postgres" "$(tgt_sql -c "SELECT lomowner::regrole FROM pg_largeobject_metadata WHERE oid = 424243")" "after copy: owners are not carried (--no-owner, like the tables)"
assert_eq "doc 7" "$(tgt_sql -c "SELECT convert_from(lo_get(body), 'UTF8') FROM docs WHERE id = 7")" "after copy: a large object found through contrib lo's type"

# follow under load: table writes, large objects created, rewritten, unlinked
follower_start
load() {  # load FIRST: one transaction a round until stop-load exists
  local i=$1
  while [ ! -f "$HARNESS_DIR/stop-load" ]; do
    i=$((i + 1))
    src_sql >/dev/null 2>&1 <<SQL || true
BEGIN;
INSERT INTO ticks(v) VALUES ($i);
UPDATE files SET name = 'n$i' WHERE id = 2;
INSERT INTO docs VALUES (100 + $i, lo_from_bytea(0, 'new $i'), 'during follow');
SELECT lo_put((SELECT raw FROM files WHERE id = 3), $i * 1000, 'put $i');
SELECT lo_put((SELECT raw FROM files WHERE id = 4), 5000000 + $i, 'tail $i');
UPDATE docs SET body = lo_from_bytea(0, 'updated $i') WHERE id = 100 + $i - 1;
DELETE FROM docs WHERE id = $i;
COMMIT;
SQL
  done
}
load 0 &
LOAD=$!
sleep 2
# also: a comment changed, another one gone, an object emptied by truncation
src_sql >/dev/null <<'SQL'
COMMENT ON LARGE OBJECT 424242 IS 'changed while following';
SELECT lo_unlink(424243);
SELECT lo_truncate(lo_open(raw, 131072), 0) FROM files WHERE id = 2;
SQL
sleep 1

# over the limit (50000 objects): check, and the switchover before its fence, refuse
touch "$HARNESS_DIR/stop-load"
wait "$LOAD"
rm -f "$HARNESS_DIR/stop-load"
# past a quarter of the limit: a warning
src_sql -c "SELECT count(lo_create(1000000 + g)) FROM generate_series(1, 12501) g" >/dev/null
run_pgcutover check --source "$SRC_DSN" --target "$TGT_DSN"
assert_contains "$(grep large_objects <<<"$OUT")" "warn" "check warns past a quarter of the limit"
src_sql -c "SELECT count(lo_create(1000000 + g)) FROM generate_series(12502, 50001) g" >/dev/null
run_pgcutover check --source "$SRC_DSN" --target "$TGT_DSN"
assert_contains "$OUT" "more than the switchover can re-read inside the write downtime (at most 50000 objects" "check: a source over the limit fails, saying why"
assert_contains "$OUT" "move them to bytea columns" "check: ... and the fix"
cluster_sql tgt -c "CREATE DATABASE fresh" >/dev/null
run_pgcutover copy --slot fresh --source "$SRC_DSN" --target "${TGT_DSN/dbname=app/dbname=fresh}"
assert_eq 4 "$RC" "copy of a source over the limit: refused, exit 4"
assert_contains "$ERR" "preflight large_objects: 50" "copy over the limit: the large_objects line says why"
assert_eq 0 "$(src_sql -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'fresh'")" "copy over the limit: refused before any slot exists"
run_pgcutover switchover --dry-run --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 4 "$RC" "switchover --dry-run over the limit: refused too, exit 4"
run_pgcutover switchover --source "$SRC_DSN" --target "$TGT_DSN" --timeout 60
assert_eq 4 "$RC" "switchover over the limit: refused, exit 4"
assert_eq 1 "$(grep -c "switchover aborted: .*large object(s).*; fix: move them to bytea columns.*(nothing was fenced)" <<<"$ERR")" "switchover over the limit: one line with the fix"
assert_not_contains "$ERR" "switchover step fence" "switchover over the limit: refused before the fence went up"
assert_eq "t" "$(src_sql -c "SELECT datallowconn FROM pg_database WHERE datname = 'app'")" "the source is not fenced after the refusal"
# (lo_unlink takes a lock per object: a thousand to a transaction)
src_sql >/dev/null <<'SQL'
SELECT format('SELECT count(lo_unlink(oid)) FROM pg_largeobject_metadata WHERE oid BETWEEN %s AND %s',
              1000000 + g, 1000000 + g + 999)
FROM generate_series(1, 50001, 1000) g
\gexec
SQL

run_pgcutover switchover --dry-run --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "switchover --dry-run exits 0"
assert_contains "$OUT" "[source->target] -- large object" "switchover --dry-run names the large objects it would move"

# an object of the copy unlinked on the target by someone else is written again
tgt_sql -c "SELECT lo_unlink(raw) FROM files WHERE id = 1" >/dev/null

# the load goes on through the switchover (the fence ends it)
load 10000 &
LOAD=$!
sleep 1
run_pgcutover switchover --source "$SRC_DSN" --target "$TGT_DSN" --timeout 60
assert_eq 0 "$RC" "switchover exits 0"
[ "$RC" -eq 0 ] || echo "# $(tail -n 5 <<<"$ERR")"
touch "$HARNESS_DIR/stop-load"
wait "$LOAD" || true
wait "$FOLLOWER" 2>/dev/null || true
assert_contains "$OUT" "large_objects" "the switchover reports its large-object step inside the fence"
assert_contains "$OUT" "large objects:" "the switchover says how many large objects it carried"
echo "# $(grep -E "downtime|large_objects|lo_prepass|large objects" <<<"$OUT" | tr "\n" " ")"
assert_eq "$(lo_fingerprint src)" "$(lo_fingerprint tgt)" "after switchover: every large object identical (OID set, data, comments)"
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "after switchover: every table identical"
assert_eq "$(db_sequences src)" "$(db_sequences tgt)" "after switchover: every sequence identical"
assert_eq "0" "$(tgt_sql -c "SELECT count(*) FROM docs d WHERE NOT EXISTS (SELECT 1 FROM pg_largeobject_metadata m WHERE m.oid = d.body)")" "after switchover: every lo the table refers to exists on the target"
assert_eq "changed while following" "$(tgt_sql -c "SELECT obj_description(424242, 'pg_largeobject')")" "a comment changed while following is carried"
assert_eq "0" "$(tgt_sql -c "SELECT count(*) FROM pg_largeobject_metadata WHERE oid = 424243")" "a large object unlinked while following is gone from the target"
assert_eq "0" "$(tgt_sql -c "SELECT length(lo_get(raw)) FROM files WHERE id = 2")" "a large object truncated to 0 bytes while following is empty on the target"
assert_eq "0" "$(tgt_sql -c "SELECT count(*) FROM pgcutover.large_object l WHERE NOT EXISTS (SELECT 1 FROM pg_largeobject_metadata m WHERE m.oid = l.loid)")" "the state records no large object the target does not hold"
done_testing
