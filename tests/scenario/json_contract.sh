#!/usr/bin/env bash
# Scenario: every command's --json document, on success, refusal and
# failure, and the --log-json lines, checked against docs/json.md by
# tests/lib/json_contract.py (a field missing, of another type or not
# documented fails; exit_code must be the real exit status).
. "$(dirname "$0")/../lib/harness.sh"
harness_start
PY=/usr/bin/python3
CONTRACT="$(dirname "$0")/../lib/json_contract.py"
DOC="$(dirname "$0")/../../docs/json.md"
n=0

# contract COMMAND EXPECTED_EXIT NAME [validator options]: checks $OUT and $RC
contract() {
  local cmd=$1 want=$2 name=$3 f problems; shift 3
  n=$((n + 1)); f="$HARNESS_DIR/doc.$n.json"
  printf '%s\n' "$OUT" >"$f"
  assert_eq "$want" "$RC" "$name: exit $want"
  if problems=$("$PY" "$CONTRACT" "$DOC" --command "$cmd" --exit-code "$RC" "$@" "$f" 2>&1); then
    pass "$name: --json matches docs/json.md"
  else
    fail "$name: --json matches docs/json.md" "$(head -c 800 <<<"$problems")"
  fi
}
# log_contract EXPECTED_EXIT NAME: checks $ERR as --log-json lines
log_contract() {
  local f problems
  n=$((n + 1)); f="$HARNESS_DIR/log.$n.json"
  printf '%s\n' "$ERR" >"$f"
  if problems=$("$PY" "$CONTRACT" "$DOC" --log-lines --exit-code "$1" "$f" 2>&1); then
    pass "$2: --log-json lines match docs/json.md"
  else
    fail "$2: --log-json lines match docs/json.md" "$(head -c 800 <<<"$problems")"
  fi
}
jq_() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)" <<<"$OUT"; }

problems=$("$PY" "$CONTRACT" "$DOC" --self-check 2>&1) && pass "docs/json.md parses" || fail "docs/json.md parses" "$problems"

src_sql -c "CREATE TABLE t (id int PRIMARY KEY, v text)" -c "INSERT INTO t SELECT g, 'x' FROM generate_series(1, 500) g" \
  -c "CREATE TABLE u (id bigserial PRIMARY KEY, n int)" -c "INSERT INTO u (n) SELECT g FROM generate_series(1, 100) g"

# --- failures before any document --------------------------------------------
run_pgcutover status --json --bogus
contract "status" 2 "usage error"
assert_eq "unknown option \"--bogus\"|see 'pgcutover --help'" "$(jq_ 'd["error"]["message"] + "|" + d["error"]["fix"]')" "usage error: error split into message and fix"
BAD_TGT="host=127.0.0.1 port=1 dbname=app user=postgres password=$TEST_PASSWORD"
run_pgcutover status --json --log-json --target "$BAD_TGT"
contract status 3 "status, target unreachable"
log_contract 3 "status, target unreachable"
assert_not_contains "$OUT$ERR" "$TEST_PASSWORD" "no password in the document or the log lines"
assert_eq "start the target server or fix host/port in its DSN" "$("$PY" -c 'import json,sys; print([json.loads(l) for l in sys.stdin][0]["fix"])' <<<"$ERR")" "log line: fix in its own field"
assert_not_contains "$ERR" "; fix: " "log line: msg without its fix"
assert_contains "$ERR" '"slot":"pgcutover"' "log line: the slot"

run_pgcutover status --json --source "$SRC_DSN" --target "$TGT_DSN"
contract status 7 "status, never started"
BAD_SRC="host=127.0.0.1 port=1 dbname=app user=postgres password=$TEST_PASSWORD"
run_pgcutover check --json --source "$BAD_SRC" --target "$TGT_DSN"
contract check 3 "check, source unreachable"
run_pgcutover ddl-capture status --json --source "$BAD_SRC"
contract ddl-capture 3 "ddl-capture, source unreachable"
run_pgcutover switchover --json --source "$SRC_DSN" --target "$BAD_TGT"
contract switchover 3 "switchover, target unreachable"
run_pgcutover migrate --json --source "$SRC_DSN"
contract migrate 2 "migrate without --target"
run_pgcutover verify --json --source "$SRC_DSN" --target "$BAD_TGT"
contract verify 3 "verify, target unreachable"

# --- check, ddl-capture ---------------------------------------------------------
run_pgcutover check --json --log-json --source "$SRC_DSN" --target "$TGT_DSN"
contract check 0 "check"
log_contract 0 "check"
assert_contains "$ERR" '"check":"connect_source"' "check --log-json: findings carry their check"
run_pgcutover ddl-capture status --json --source "$SRC_DSN"
contract ddl-capture 0 "ddl-capture status"
run_pgcutover ddl-capture install --json --source "$SRC_DSN"
contract ddl-capture 0 "ddl-capture install"
assert_eq True "$(jq_ 'd["installed"]')" "ddl-capture install: installed"
run_pgcutover ddl-capture remove --json --source "$SRC_DSN"
contract ddl-capture 0 "ddl-capture remove"

# --- copy: dry run, copy, refused -------------------------------------------------
run_pgcutover copy --dry-run --json --source "$SRC_DSN" --target "$TGT_DSN"
contract copy 0 "copy --dry-run"
run_pgcutover copy --json --source "$SRC_DSN" --target "$TGT_DSN"
contract copy 0 "copy"
COPY_DOC=$OUT
run_pgcutover copy --json --source "$SRC_DSN" --target "$TGT_DSN"
contract copy 0 "copy again: already complete"
assert_eq True "$(jq_ 'd["already_complete"]')" "copy again: already_complete"
cluster_sql tgt -c "CREATE DATABASE other"
run_pgcutover copy --json --log-json --source "$SRC_DSN" --target "${TGT_DSN/dbname=app/dbname=other}"
contract copy 7 "copy refused (the slot exists)"
log_contract 7 "copy refused"
assert_eq False "$(jq_ 'd["ok"]')" "copy refused: ok false"

# the validator fails on drift either way: an undocumented field, a missing one, a wrong type
mutate() {  # mutate PYTHON_STATEMENT NAME: the copy document changed must fail the contract
  local f="$HARNESS_DIR/mutated.json"
  "$PY" -c "import json,sys; d=json.load(sys.stdin); $1; print(json.dumps(d))" <<<"$COPY_DOC" >"$f"
  if [ ! -s "$f" ] || "$PY" "$CONTRACT" "$DOC" --command copy --exit-code 0 "$f" >/dev/null 2>&1; then
    fail "validator rejects $2"
  else
    pass "validator rejects $2"
  fi
}
mutate 'd["surprise"] = 1' "an undocumented field"
mutate 'del d["slot"]' "a missing field"
mutate 'd["resumed"] = "no"' "a field of another type"
mutate 'd["exit_code"] = 3' "an exit_code that is not the exit status"
mutate 'd["seconds"]["data"] = 0.123456' "a duration not rounded to 0.1 ms"

# --- follow, status, status --watch ------------------------------------------------
src_sql -c "INSERT INTO t SELECT g, 'y' FROM generate_series(501, 600) g"
run_pgcutover follow --until-caught-up --json --source "$SRC_DSN" --target "$TGT_DSN"
contract follow 0 "follow --until-caught-up"
follower_start
run_pgcutover status --json --source "$SRC_DSN" --target "$TGT_DSN"
contract status 0 "status, following"
assert_eq True "$(jq_ 'd["follower_last_seen"].endswith("Z")')" "status: follower_last_seen in RFC 3339 UTC"
run_pgcutover status --json --source "$BAD_SRC" --target "$TGT_DSN"
contract status 0 "status, source unreachable"
assert_eq "False None" "$(jq_ 'd["source_reachable"], d["slot_exists"]')" "status, source unreachable: unknown is null"
run_pgcutover follow --json --until-caught-up --slot nosuch --source "$SRC_DSN" --target "$TGT_DSN"
contract follow 7 "follow of a slot that has no migration"
assert_eq True "$(jq_ 'd["error"]["message"] != ""')" "follow refused: error says why"
n=$((n + 1)); watch="$HARNESS_DIR/watch.$n"
"$PGCUTOVER" status --watch=0.2 --json --source "$SRC_DSN" --target "$TGT_DSN" >"$watch" 2>/dev/null &
watcher=$!
sleep 0.9
kill "$watcher"; wait "$watcher" 2>/dev/null || true
assert_eq t "$([ "$(wc -l <"$watch")" -ge 3 ] && echo t || wc -l <"$watch")" "status --watch --json: a line per reading"
problems=$("$PY" "$CONTRACT" "$DOC" --command status --ndjson --exit-code 0 "$watch" 2>&1) \
  && pass "status --watch --json: NDJSON lines match docs/json.md" || fail "status --watch --json: NDJSON lines match docs/json.md" "$problems"

# --- verify: a difference (exit 5), online -------------------------------------------
tgt_sql -c "UPDATE t SET v = 'tampered' WHERE id = 7"
run_pgcutover verify --json --source "$SRC_DSN" --target "$TGT_DSN"
contract verify 5 "verify, a difference"
assert_eq "1 True" "$(jq_ 'd["mismatches"], d["error"]["fix"] is not None')" "verify, a difference: counted, error with its fix"
tgt_sql -c "UPDATE t SET v = 'x' WHERE id = 7"
run_pgcutover verify --online --json --source "$SRC_DSN" --target "$TGT_DSN"
contract verify 0 "verify --online"
run_pgcutover status --json --source "$SRC_DSN" --target "$TGT_DSN"
contract status 0 "status with an online verification"

# --- switchover: dry run, then real; status after it; cleanup ---------------------------
run_pgcutover switchover --dry-run --json --source "$SRC_DSN" --target "$TGT_DSN"
contract switchover 0 "switchover --dry-run"
run_pgcutover switchover --json --source "$SRC_DSN" --target "$TGT_DSN"
contract switchover 0 "switchover"
set +e; wait "$FOLLOWER"; set -e
run_pgcutover status --json --source "$SRC_DSN" --target "$TGT_DSN"
contract status 0 "status, switched over"
assert_eq True "$(jq_ 'd["switched_over_at"].endswith("Z") and "T" in d["switched_over_at"]')" "status: switched_over_at in RFC 3339 UTC"
run_pgcutover cleanup --json --source "$SRC_DSN" --target "$TGT_DSN" </dev/null
contract cleanup 2 "cleanup without --yes and no terminal"
run_pgcutover cleanup --yes --json --source "$SRC_DSN" --target "$TGT_DSN"
contract cleanup 0 "cleanup"

# --- migrate of a second database, with its switchover report ---------------------------
cluster_sql src -c "CREATE DATABASE app2"
cluster_sql tgt -c "CREATE DATABASE app2"
DB=app2 cluster_sql src -c "CREATE TABLE docs (id serial PRIMARY KEY, body text)" \
  -c "INSERT INTO docs (body) SELECT md5(g::text) FROM generate_series(1, 200) g"
run_pgcutover migrate --json --switchover --slot m2 --source "${SRC_DSN/dbname=app/dbname=app2}" --target "${TGT_DSN/dbname=app/dbname=app2}"
contract migrate 0 "migrate --switchover"
assert_eq True "$(jq_ 'd["databases"][0]["switchover"]["ok"]')" "migrate: the switchover report inside"

# KEEP_DOCS=DIR keeps the documents checked, to read them
[ -z "${KEEP_DOCS:-}" ] || cp "$HARNESS_DIR"/*.json "$KEEP_DOCS"/ 2>/dev/null || true
done_testing
