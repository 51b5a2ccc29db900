#!/usr/bin/env bash
# Scenario: `pgcutover verify --jobs 4` compares a 600k-row bigint-keyed
# table in 250000-row chunks on 4 session pairs, and names the keys that
# differ (text, composite and integer keys; a keyless table says it cannot);
# SIGINT cancels what runs on the servers.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
PY=python3

src_sql >/dev/null <<'SQL'
CREATE TABLE big (id bigint PRIMARY KEY, v text);
INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 600000) g;
CREATE TABLE txt (k text PRIMARY KEY, v int);
INSERT INTO txt SELECT 'k' || g, g FROM generate_series(1, 1000) g;
INSERT INTO txt VALUES ('x', 0);
CREATE TABLE comp (a int, b text, v int, PRIMARY KEY (a, b));
INSERT INTO comp SELECT g % 10, 'b' || g, g FROM generate_series(1, 1000) g;
CREATE TABLE nokey (v int, w text);
ALTER TABLE nokey REPLICA IDENTITY FULL;
INSERT INTO nokey SELECT g, 'w' || g FROM generate_series(1, 100) g;
CREATE TABLE many (id int PRIMARY KEY, v int);
INSERT INTO many SELECT g, g FROM generate_series(1, 100) g;
CREATE TABLE gone (id int PRIMARY KEY);
INSERT INTO gone VALUES (1), (2), (3);
SQL

run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN" --jobs 2
assert_eq 0 "$RC" "copy exits 0 ($(tail -n 3 <<<"$ERR"))"

# --- equal: chunks, jobs, rows ----------------------------------------------
run_pgcutover verify --jobs 4 --json --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "verify --jobs 4 on equal databases exits 0 ($(tail -n 2 <<<"$ERR"))"
assert_contains "$ERR" "the source is live and not fenced: the result is in flux" "verify warns that a live source is in flux"
assert_eq "3 all rows [] 1 4 602204 True" "$("$PY" -c '
import json, sys
d = json.load(sys.stdin)
t = {x["table"]: x for x in d["tables"]}
b = t["public.big"]
print(b["chunks"], b["scope"], b["differing_keys"], t["public.txt"]["chunks"], d["jobs"], d["rows_compared"], d["source_live"])' <<<"$OUT")" \
  "JSON: the 600k-row table in 3 chunks, all rows, 4 jobs, every row counted"
run_pgcutover verify --jobs 1 --json --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq "0 1 1 602204" "$RC $("$PY" -c '
import json, sys
d = json.load(sys.stdin)
print([t for t in d["tables"] if t["table"] == "public.big"][0]["chunks"], d["jobs"], d["rows_compared"])' <<<"$OUT")" \
  "--jobs 1: equal tables are compared whole, in one statement each"

# --- differences, as the follower role would make them ------------------------
tgt_sql >/dev/null <<'SQL'
SET session_replication_role = replica;
UPDATE big SET v = 'changed' WHERE id = 424242;
INSERT INTO big VALUES (700000, 'only on the target'), (-5, 'below the source''s min');
DELETE FROM txt WHERE k = 'x';
INSERT INTO comp VALUES (3, 'zz', 0);
UPDATE nokey SET w = 'changed' WHERE v = 7;
UPDATE many SET v = -v WHERE id <= 15;
DROP TABLE gone;
SQL

run_pgcutover verify --jobs 4 --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 5 "$RC" "verify on a corrupted target exits 5"
assert_eq '  key {"id":"-5"}: extra on target
  key {"id":"424242"}: differs
  key {"id":"700000"}: extra on target' "$(grep -A3 '^MISMATCH  public.big ' <<<"$OUT" | tail -n 3)" "text: big names its three keys"
assert_eq '  key {"k":"x"}: missing on target' "$(grep -A1 '^MISMATCH  public.txt ' <<<"$OUT" | tail -n 1)" "text: txt names the deleted key"
assert_eq '  key {"a":"3","b":"zz"}: extra on target' "$(grep -A1 '^MISMATCH  public.comp ' <<<"$OUT" | tail -n 1)" "text: comp names the composite key"
assert_eq '  keys not named: no primary key or replica identity index: the differing rows cannot be named' \
  "$(grep -A1 '^MISMATCH  public.nokey ' <<<"$OUT" | tail -n 1)" "text: the keyless table differs and says it cannot name keys"
assert_contains "$OUT" "  ... 5 more differing keys" "text: keys beyond the first 10 are counted"
assert_contains "$OUT" "MISSING   public.gone" "text: a table dropped on the target is missing"
assert_contains "$OUT" "6 tables: 0 match, 6 differ" "text: summary"

run_pgcutover verify --jobs 4 --json --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 5 "$RC" "verify --json on a corrupted target exits 5"
assert_eq 'big 3 [{"key": {"id": "-5"}, "problem": "extra on target"}, {"key": {"id": "424242"}, "problem": "differs"}, {"key": {"id": "700000"}, "problem": "extra on target"}] 3
comp 1 [{"key": {"a": "3", "b": "zz"}, "problem": "extra on target"}] 1
gone 0 [] 0
many 1 10 15
nokey 1 [] None True
txt 1 [{"key": {"k": "x"}, "problem": "missing on target"}] 1' "$("$PY" -c '
import json, sys
d = json.load(sys.stdin)
for t in sorted(d["tables"], key=lambda t: t["table"]):
    n = t["table"].split(".")[1]
    k = t["differing_keys"]
    if n == "many":
        print(n, t["chunks"], len(k), t["differing_keys_count"])
    elif n == "nokey":
        print(n, t["chunks"], json.dumps(k), t["differing_keys_count"], t["keyless"])
    else:
        print(n, t["chunks"], json.dumps(k), t["differing_keys_count"])' <<<"$OUT")" \
  "JSON: exactly the differing keys with their problems, per table"
run_pgcutover verify --jobs 1 --json --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq '5 4 [{"key": {"id": "-5"}, "problem": "extra on target"}, {"key": {"id": "424242"}, "problem": "differs"}, {"key": {"id": "700000"}, "problem": "extra on target"}] 3 600000 600002' "$RC $("$PY" -c '
import json, sys
d = json.load(sys.stdin)
b = [t for t in d["tables"] if t["table"] == "public.big"][0]
print(b["chunks"], json.dumps(b["differing_keys"]), b["differing_keys_count"], b["source_rows"], b["target_rows"])' <<<"$OUT")" \
  "--jobs 1: the differing table is split afterwards (1 + 3 chunks), the same keys named, rows counted once"
assert_eq "False 6 True 3 None" "$("$PY" -c '
import json, sys
d = json.load(sys.stdin)
g = [t for t in d["tables"] if t["table"] == "public.gone"][0]
print(d["ok"], d["mismatches"], g["missing"], g["source_rows"], g["target_checksum"])' <<<"$OUT")" \
  "JSON: not ok, 6 mismatches, the dropped table missing (with its source rows)"

# --- SIGINT while a chunk waits on a lock: cancelled on the server -----------
tgt_sql -c "BEGIN; LOCK TABLE big; SELECT pg_sleep(60)" >/dev/null 2>&1 &
locker=$!
for _ in $(seq 1 100); do
  [ "$(tgt_sql -c "SELECT count(*) FROM pg_locks WHERE relation = 'big'::regclass AND mode = 'AccessExclusiveLock' AND granted")" = 1 ] && break
  sleep 0.05
done
"$PGCUTOVER" verify --jobs 2 --source "$SRC_DSN" --target "$TGT_DSN" >"$HARNESS_DIR/int.out" 2>"$HARNESS_DIR/int.err" &
verifier=$!
for _ in $(seq 1 100); do
  [ "$(tgt_sql -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%hashtextextended%' AND wait_event_type = 'Lock'")" -ge 1 ] && break
  sleep 0.05
done
kill -INT "$verifier"
set +e; wait "$verifier"; RC=$?; set -e
cat "$HARNESS_DIR/int.out" "$HARNESS_DIR/int.err" >> "$HARNESS_DIR/all-output.log"
assert_eq 10 "$RC" "SIGINT during verify: exit 10"
assert_contains "$(cat "$HARNESS_DIR/int.err")" "verify interrupted" "SIGINT during verify: says so"
assert_eq 0 "$(tgt_sql -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%hashtextextended%' AND state = 'active' AND pid <> pg_backend_pid()")" \
  "SIGINT during verify: no statement of it is left running on the target"
tgt_sql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()" >/dev/null
wait "$locker" 2>/dev/null || true

done_testing
