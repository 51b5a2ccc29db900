#!/usr/bin/env bash
# Scenario: the command-line contract, without a server.  The parser, --help,
# the man page and the bash completion come from one table (src/cli/cli.c):
#   - docs/pgcutover.1 and docs/pgcutover.bash are what the binary generates,
#     and the man page renders without a warning;
#   - for every command, the options its man section and the common options
#     list are exactly the options the parser accepts for it (probed by
#     running the binary), and the completion offers exactly those;
#   - after an option that takes a value the completion offers that value's
#     words (modes, files, directories) or nothing, never options;
#   - an optional value works as --opt VALUE and --opt=VALUE (status --watch 1);
#   - every duration option takes GUC units (500ms, 5min, 1.5s, 2h);
#   - every state status.c can print, and every exit code, is documented, and
#     6 (retired) is not.
. "$(dirname "$0")/../lib/harness.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PGCUTOVER=$(cd "$(dirname "$PGCUTOVER")" && pwd)/$(basename "$PGCUTOVER")
MAN=$ROOT/docs/pgcutover.1
dead_port=$(free_port)
DEAD="host=127.0.0.1 port=$dead_port dbname=app user=postgres connect_timeout=2"

# --- generated documentation is the checked-in documentation ---------------------
if gen=$("$PGCUTOVER" --generate=man 2>&1) && [ "$gen" == "$(cat "$MAN")" ]; then
  pass "docs/pgcutover.1 is what 'pgcutover --generate=man' writes"
else
  fail "docs/pgcutover.1 is what 'pgcutover --generate=man' writes" "regenerate: cp build/pgcutover.1 docs/; diff: $(diff <(echo "$gen") "$MAN" | head -5)"
fi
if gen=$("$PGCUTOVER" --generate=bash-completion 2>&1) && [ "$gen" == "$(cat "$ROOT/docs/pgcutover.bash")" ]; then
  pass "docs/pgcutover.bash is what 'pgcutover --generate=bash-completion' writes"
else
  fail "docs/pgcutover.bash is what 'pgcutover --generate=bash-completion' writes" "regenerate: cp build/pgcutover.bash docs/"
fi
warnings=$(LC_ALL=C MANWIDTH=80 man -l --warnings=all "$MAN" 2>&1 >/dev/null || echo "man failed")
assert_eq "" "$warnings" "man -l renders docs/pgcutover.1 without warnings"

# --- what the man page lists, per command -----------------------------------------
# man_tags SECTION: the option tags (".TP" lines' next line) of one .SS/.SH
# section, unescaped: "-j, --jobs N", "--fence default|none", "--watch [DURATION]"
man_tags() {
  awk -v want="$1" '
    /^\.S[SH] / { name = $0; sub(/^\.S[SH] +"?/, "", name); sub(/["].*$/, "", name); gsub(/\\-/, "-", name)
                  split(name, w, " "); insec = (w[1] == want); next }
    insec && /^\.TP/ { tp = 1; next }
    insec && tp { tp = 0; t = $0; gsub(/\\-/, "-", t); gsub(/\\f[BIR]/, "", t); if (t ~ /^-/) print t }
  ' "$MAN"
}
long_names() { grep -oE -- '--[a-z][a-z-]*' | sort -u; }
COMMON=$(man_tags "COMMON" | long_names)
assert_contains "$COMMON" "--source" "the man page has the common options"
for short in "-h, --help" "-V, --version" "-v, --verbose" "-q, --quiet" "-w, --no-password"; do
  assert_contains "$(man_tags COMMON)" "$short" "the man page documents $short"
done
assert_contains "$(man_tags copy)" "-j, --jobs N" "the man page documents -j N for copy"

# value_for TAG: a valid value for the option the tag describes (empty: a flag)
value_for() {
  local arg=${1#*--}; arg=${arg#* }
  [ "$arg" != "${1#*--}" ] || { echo; return; }
  case $arg in
    \[*) echo ;;
    *"|"*) echo "${arg%%|*}" ;;
    DSN) echo "$DEAD" ;;
    ADMIN_DSN) echo "host=127.0.0.1 port=$dead_port dbname=pgbouncer" ;;
    N|ROWS) echo 2 ;;
    SIZE) echo 64MB ;;
    DURATION) echo 1s ;;
    FILE) echo /dev/null ;;
    DIR) echo /tmp ;;
    LSN) echo 0/0 ;;
    HOST:PORT) echo 127.0.0.1:9187 ;;
    CMD) echo true ;;
    *) echo x ;;
  esac
}

ALL_TAGS=$(for s in COMMON check copy follow status switchover verify cleanup migrate ddl-capture; do man_tags "$s"; done | sort -u)
HELP_OPTS=$(for c in check copy follow status switchover verify cleanup migrate ddl-capture; do "$PGCUTOVER" "$c" --help; done | long_names)
MAN_OPTS=$(long_names <<<"$ALL_TAGS")
assert_eq "$MAN_OPTS" "$(sort -u <<<"$MAN_OPTS"$'\n'"$HELP_OPTS")" "every option some --help lists is in the man page"

# shellcheck source=/dev/null
. "$ROOT/docs/pgcutover.bash"
# complete_at WORDS...: what the completion offers for the last word (may be empty)
complete_at() {
  COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
  _pgcutover
  printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort -u
}

for cmd in check copy follow status switchover verify cleanup migrate ddl-capture; do
  words=("$cmd"); [ "$cmd" != ddl-capture ] || words=("$cmd" status)
  documented=$(sort -u <<<"$COMMON"$'\n'"$(man_tags "$cmd" | long_names)" | sed '/^$/d')
  accepted=""
  while IFS= read -r tag; do
    name=$(grep -oE -- '--[a-z][a-z-]*' <<<"$tag" | head -1)
    val=$(value_for "$tag")
    if [ -n "$val" ]; then args=("$name" "$val"); else args=("$name"); fi
    out=$("$PGCUTOVER" "${words[@]}" "${args[@]}" --help 2>&1 >/dev/null) && rc=0 || rc=$?
    if [ "$rc" = 0 ]; then
      accepted+="$name"$'\n'
    elif ! grep -q "does not apply to command $cmd" <<<"$out"; then
      fail "$cmd ${args[*]}: accepted or refused as not applying" "exit $rc: $out"
    fi
  done <<<"$ALL_TAGS"
  accepted=$(sort -u <<<"$accepted" | sed '/^$/d')
  assert_eq "$documented" "$accepted" "$cmd: the options its man section and the common ones list are those the parser accepts"
  assert_eq "$documented" "$(complete_at pgcutover "${words[@]}" --)" "$cmd: the completion offers those options after --"
done

# --- completion of values -----------------------------------------------------------
assert_eq "" "$(complete_at pgcutover status --slot "")" "completion after --slot offers nothing"
assert_eq "" "$(complete_at pgcutover copy -j "")" "completion after -j offers nothing"
assert_eq "" "$(complete_at pgcutover status --timeout "")" "completion after --timeout offers nothing"
assert_eq $'default\nnone' "$(complete_at pgcutover switchover --fence "")" "completion after --fence offers its modes"
assert_eq $'full\nincremental\nnone' "$(complete_at pgcutover switchover --verify "")" "completion after --verify offers its modes"
assert_eq $'apply\nstop' "$(complete_at pgcutover follow --ddl "")" "completion after --ddl offers its modes"
cd "$HARNESS_DIR"
touch conf.ini && mkdir -p backups
assert_eq "conf.ini" "$(complete_at pgcutover switchover --pgbouncer-ini con)" "completion after --pgbouncer-ini offers files"
assert_eq "backups" "$(complete_at pgcutover copy --backup b)" "completion after --backup offers directories"
assert_eq "copy" "$(complete_at pgcutover --slot copy cop)" "a command word is found after an option's value"
assert_eq $'install\nremove\nstatus' "$(complete_at pgcutover ddl-capture "")" "ddl-capture completes its actions"

# --- optional values: --watch 1 and --watch=1 ----------------------------------------
for form in "--watch 1" "--watch=1" "--watch 500ms" "--watch"; do
  # shellcheck disable=SC2086
  run_pgcutover status $form --target "$DEAD"
  assert_eq 3 "$RC" "status $form is parsed (it fails connecting, exit 3, not 2)"
  assert_not_contains "$ERR" "unexpected argument" "status $form: no 'unexpected argument'"
done
run_pgcutover status --watch 0 --target "$DEAD"
assert_eq 2 "$RC" "status --watch 0: refused"
assert_contains "$ERR" 'invalid value "0" for --watch: expected a duration from 100ms to 1h; fix:' "status --watch 0 says the range and the fix"
run_pgcutover status --watch --json --target "$DEAD"
assert_eq 3 "$RC" "status --watch --json: the option after --watch stays an option"

# --- durations in GUC units, everywhere -----------------------------------------------
for spec in "status --wait-lag 500ms" "status --timeout 2min" "status --watch 1.5s" \
            "switchover --max-lag 500ms" "switchover --timeout 1h" "migrate --timeout 2h" \
            "follow --heartbeat-interval 250ms" "copy --snapshot-hold 5min" "migrate --max-lag 1.5s"; do
  # shellcheck disable=SC2086
  run_pgcutover $spec --help
  assert_eq 0 "$RC" "$spec is accepted"
done
run_pgcutover status --wait-lag 5parsecs --target "$DEAD"
assert_eq 2 "$RC" "a duration with an unknown unit: exit 2"
assert_contains "$ERR" 'invalid value "5parsecs" for --wait-lag: expected a duration' "it names the option and what it expects"
assert_eq 1 "$(grep -c . <<<"$ERR")" "it is one line"
run_pgcutover follow --heartbeat-interval 1ms --source "$DEAD" --target "$DEAD"
assert_eq 2 "$RC" "--heartbeat-interval 1ms, which follow cannot honour: exit 2"
assert_contains "$ERR" "fix: give 0 (off) or at least 10ms" "it says the fix"

# --- short options --------------------------------------------------------------------
run_pgcutover -j 2 copy --help
assert_eq 0 "$RC" "pgcutover -j 2 copy --help"
assert_contains "$OUT" "-j, --jobs N" "copy --help shows -j"
run_pgcutover copy -j2 --help
assert_eq 0 "$RC" "pgcutover copy -j2 --help"
run_pgcutover -j 2 check --help
assert_eq 2 "$RC" "-j with check (which takes no --jobs) is refused, --help or not"
assert_contains "$ERR" "option --jobs does not apply to command check" "it says why"
run_pgcutover copy -j
assert_eq 2 "$RC" "-j without its value: exit 2"
assert_contains "$ERR" 'option "-j" needs a value' "it says so"
run_pgcutover -V
assert_contains "$OUT" "pgcutover " "-V prints the version"

# --- per-command meanings --------------------------------------------------------------
assert_contains "$("$PGCUTOVER" verify --help)" "session pairs per side comparing tables" "verify --help says what --jobs means for verify"
assert_not_contains "$("$PGCUTOVER" verify --help)" "parallel table copies" "verify --help does not call --jobs table copies"

# --- states and exit codes ----------------------------------------------------------------
STATES=$(awk '/^\.SS "?status/ { s = 1; next } /^\.S[SH] / { s = 0 } s && /^\.B [a-z_]+$/ { print $2 }' "$MAN" | sort -u)
CODE_STATES=$( (grep -E 's->state, sizeof\(s->state\)' "$ROOT/src/switchover/status.c"
                grep -E 'publish_state\(&?f, ' "$ROOT/src/follow/follow.c") |
               grep -oE '"[a-z]+(_[a-z]+)*"' | tr -d '"' | sort -u)
[ -n "$CODE_STATES" ] || fail "found the states in status.c"
for s in $CODE_STATES; do
  assert_contains "$STATES" "$s" "state $s (status.c) is documented"
done
for s in slot_lost source_unreachable switched_over; do
  assert_contains "$("$PGCUTOVER" status --help)" "$s" "status --help lists state $s"
done
MAN_CODES=$(awk '/^\.SH "EXIT STATUS"/ { s = 1; next } /^\.SH / { s = 0 } s && prev ~ /^\.TP/ { print } { prev = $0 }' "$MAN" | tr '\n' ' ')
assert_eq "0 1 2 3 4 5 7 8 9 10 11 " "$MAN_CODES" "the man page documents exit codes 0-5 and 7-11 (6 is retired)"
README_CODES=$(grep -E '^\| [0-9]+ +\|' "$ROOT/README.md" | awk -F'|' '{ gsub(/ /, "", $2); printf "%s ", $2 }')
assert_eq "$MAN_CODES" "$README_CODES" "README.md lists the same exit codes"
grep -rqE 'EXIT_[A-Z_]+ = 6\b' "$ROOT/include" && fail "no exit code 6 in include/" || pass "no exit code 6 in include/"

done_testing
