#!/usr/bin/env bash
# Scenario: the systemd unit docs/pgcutover@.service and the follower's
# sd_notify messages, without a running systemd (none in CI):
#   (a) systemd-analyze verify says nothing about the unit, and
#       systemd-analyze security --offline rates it at most 1.5 (the unit
#       before issue 18 was 8.3 EXPOSED and fails this);
#   (b) RestartPreventExitStatus= is exactly the "stays stopped" rows of the
#       exit code table in docs/runbook.md, and that table lists the exit
#       codes of `pgcutover --help` (src/cli/exitcode.c);
#   (c) a real follow with NOTIFY_SOCKET on a datagram socket read by a
#       python3 listener: READY=1, STATUS= lines with the lag in units that
#       change as rows arrive, WATCHDOG=1 every second, STOPPING=1 on
#       SIGTERM; with WATCHDOG_PID naming another process no WATCHDOG=1;
#       READY=1 also from a follower that exits 0 at once (--endpos applied);
#       without NOTIFY_SOCKET (or with a dead one) follow works as before.
. "$(dirname "$0")/../lib/harness.sh"
repo=$(cd "$(dirname "$0")/../.." && pwd)
unit=$repo/docs/pgcutover@.service
work=$HARNESS_DIR/systemd
mkdir -p "$work/man/man1"

# --- (a) the unit as systemd reads it ----------------------------------------
# a template is analysed as an instance; ExecStart points at the binary under
# test (verify checks that it is executable), Documentation=man: at the man
# page of this tree (verify runs man for it)
sed "s|/usr/bin/pgcutover|$(readlink -f "$PGCUTOVER")|" "$unit" >"$work/pgcutover@test.service"
cp "$repo/docs/pgcutover.1" "$work/man/man1/"
verify_out=$(cd "$work" && MANPATH=$work/man systemd-analyze verify ./pgcutover@test.service 2>&1) && rc=0 || rc=$?
assert_eq "0:" "$rc:$verify_out" "systemd-analyze verify: exit 0 and no complaint"
sed 's/^RestartSec=.*/RestartSec=soon/' "$work/pgcutover@test.service" >"$work/broken@test.service"
assert_contains "$(cd "$work" && MANPATH=$work/man systemd-analyze verify ./broken@test.service 2>&1)" "Failed to parse" \
  "control: verify complains about a broken unit"
security=$(systemd-analyze security --offline=true --threshold=15 "$work/pgcutover@test.service" 2>&1) && rc=0 || rc=$?
echo "# $(grep -o 'Overall exposure level.*' <<<"$security")"
assert_eq 0 "$rc" "systemd-analyze security --offline: exposure at most 1.5"
grep -q '^Type=notify$' "$unit" && pass "Type=notify" || fail "Type=notify"
grep -q '^WatchdogSec=' "$unit" && pass "WatchdogSec= set" || fail "WatchdogSec= set"

# --- (b) the exit codes that stop restarts -----------------------------------
"$PGCUTOVER" --help > "$work/help.txt"
codes=$(python3 - "$unit" "$repo/docs/runbook.md" "$work/help.txt" <<'EOF'
import re, sys
unit, runbook, helptext = (open(p).read() for p in sys.argv[1:4])
prevent = sorted(int(c) for line in re.findall(r'^RestartPreventExitStatus=(.*)$', unit, re.M)
                 for c in line.split())
section = runbook.split('## 7. Running follow as a service', 1)[1].split('\n## ', 1)[0]
rows = re.findall(r'^\| (\d+) \|[^|]*\| ([^|]*) \|', section, re.M)
stays = sorted(int(c) for c, action in rows if action.strip() == 'stays stopped')
listed = sorted(int(c) for c, _ in rows)
help_text = helptext.split('Exit codes:', 1)[1]
help_codes = sorted(int(c) for c in re.findall(r'^\s+(\d{1,2})  \w', help_text, re.M))
print(' '.join(map(str, prevent)))
print(' '.join(map(str, stays)))
print(' '.join(map(str, listed)))
print(' '.join(map(str, help_codes)))
EOF
)
prevent=$(sed -n 1p <<<"$codes"); stays=$(sed -n 2p <<<"$codes")
listed=$(sed -n 3p <<<"$codes"); help_codes=$(sed -n 4p <<<"$codes")
echo "# RestartPreventExitStatus=$prevent; runbook 'stays stopped': $stays"
assert_eq "2 4 5 7 8 10" "$prevent" "RestartPreventExitStatus= is 2 4 5 7 8 10"
assert_eq "$stays" "$prevent" "RestartPreventExitStatus= equals the runbook's 'stays stopped' exit codes"
assert_eq "$help_codes" "$listed" "the runbook's table lists every exit code of pgcutover --help"
assert_eq "0 1 2 3 4 5 7 8 9 10 11" "$help_codes" "the exit codes of pgcutover --help"
grep -q '^Restart=on-failure$' "$unit" && pass "Restart=on-failure (exit 0 is never restarted)" \
  || fail "Restart=on-failure (exit 0 is never restarted)"

# --- (c) sd_notify from a real follower --------------------------------------
if ! grep -q libsystemd <<<"$(ldd "$PGCUTOVER")"; then  # not ldd | grep -q: SIGPIPE under pipefail
  echo "# pgcutover was built without libsystemd: its sd_notify calls are no-ops, (c) is skipped"
  done_testing
  exit 0
fi
harness_start
src_sql -c "CREATE TABLE t (id bigserial PRIMARY KEY, v text)"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"

# listen SOCKET LOG: one line per datagram, "<seconds> <message, newlines as |>"
listen() {
  python3 - "$1" "$2" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
with open(sys.argv[2], 'w', buffering=1) as log:
    log.write('listening\n')
    while True:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            break
        log.write('%.3f %s\n' % (time.monotonic(), msg.replace('\n', '|')))
EOF
  LISTENER=$!
  for _ in $(seq 1 100); do [ -s "$2" ] && break; sleep 0.05; done
}

# WATCHDOG_PID names the follower itself (exec keeps the pid), as systemd sets it
listen "$work/notify.sock" "$work/notify.log"
NOTIFY_SOCKET=$work/notify.sock WATCHDOG_USEC=2000000 \
  bash -c 'export WATCHDOG_PID=$$; exec "$0" "$@"' "$PGCUTOVER" follow --source "$SRC_DSN" --target "$TGT_DSN" \
  >>"$HARNESS_DIR/all-output.log" 2>&1 &
follower=$!
for _ in $(seq 1 200); do grep -q 'READY=1' "$work/notify.log" && break; sleep 0.05; done
assert_contains "$(cat "$work/notify.log")" "READY=1" "READY=1 once the stream runs"
assert_eq "t following" "$(src_sql -c "SELECT active FROM pg_replication_slots WHERE slot_name = 'pgcutover'") $(tgt_sql -c "SELECT phase FROM pgcutover.migration")" \
  "the slot is streaming and the migration following when it says READY=1"
for i in $(seq 1 8); do
  src_sql -c "INSERT INTO t (v) SELECT repeat('x', 100) FROM generate_series(1, $((i * 2000)))" >/dev/null
  sleep 0.5
done
kill -TERM "$follower"
wait "$follower" && rc=0 || rc=$?
assert_eq 0 "$rc" "follow exits 0 on SIGTERM"
sleep 0.2
kill "$LISTENER" 2>/dev/null || true
wait "$LISTENER" 2>/dev/null || true
log=$(cat "$work/notify.log")
statuses=$(grep -o 'STATUS=following slot pgcutover: [^|]*' <<<"$log" || true)
echo "# $(grep -c . <<<"$statuses") STATUS lines, e.g. $(sed -n 3p <<<"$statuses")"
assert_eq "" "$(grep -vE '^STATUS=following slot pgcutover: (caught up|behind), lag [0-9.]+ [kMGT]?B, ([0-9.]+ (ms|s)|[0-9]+ min [0-9]+ s|time unknown); [0-9]+ txn/s; applied [0-9A-F]+/[0-9A-F]+$' <<<"$statuses")" \
  "every STATUS line has the lag in human units, txn/s and the applied LSN"
n_status=$(sort -u <<<"$statuses" | grep -c . || true)
[ "$n_status" -ge 4 ] && pass "STATUS changes as rows arrive ($n_status different lines)" \
  || fail "STATUS changes as rows arrive" "$n_status different lines"
grep -qE 'STATUS=[^|]* [1-9][0-9]* txn/s' <<<"$log" && pass "a STATUS line shows transactions per second" \
  || fail "a STATUS line shows transactions per second"
gaps=$(grep 'WATCHDOG=1' <<<"$log" | awk 'NR > 1 { g = $1 - prev; if (g > max) max = g } { prev = $1; n++ } END { printf "%d %.2f", n, max }')
echo "# WATCHDOG=1 count and largest gap (s): $gaps"
read -r n_watchdog max_gap <<<"$gaps"
[ "$n_watchdog" -ge 4 ] && pass "WATCHDOG=1 keeps coming ($n_watchdog in about 5 s)" || fail "WATCHDOG=1 keeps coming" "$n_watchdog"
awk -v g="$max_gap" 'BEGIN { exit !(g < 2.0) }' && pass "WATCHDOG=1 within the 2 s of WATCHDOG_USEC=2000000 (largest gap $max_gap s)" \
  || fail "WATCHDOG=1 within the 2 s of WATCHDOG_USEC" "largest gap $max_gap s"
assert_contains "$(grep 'STOPPING=1' <<<"$log" | head -1)" "STATUS=stopping after the current transaction" "STOPPING=1 with a status on SIGTERM"
assert_not_contains "$(awk '/STOPPING=1/ { stopped = 1 } stopped' <<<"$log")" "STATUS=following" "no 'following' status after STOPPING=1"
assert_eq "$(src_sql -c "SELECT count(*) FROM t")" "$(tgt_sql -c "SELECT count(*) FROM t")" "every row applied"

# WATCHDOG_PID of another process: the watchdog is not ours, no WATCHDOG=1
listen "$work/notify2.sock" "$work/notify2.log"
NOTIFY_SOCKET=$work/notify2.sock WATCHDOG_USEC=2000000 WATCHDOG_PID=1 \
  "$PGCUTOVER" follow --source "$SRC_DSN" --target "$TGT_DSN" >>"$HARNESS_DIR/all-output.log" 2>&1 &
follower=$!
for _ in $(seq 1 200); do grep -q 'READY=1' "$work/notify2.log" && break; sleep 0.05; done
sleep 2.2
kill -TERM "$follower"
wait "$follower" && rc=0 || rc=$?
kill "$LISTENER" 2>/dev/null || true
wait "$LISTENER" 2>/dev/null || true
log=$(cat "$work/notify2.log")
assert_contains "$log" "READY=1" "WATCHDOG_PID=1: READY=1 still sent"
assert_not_contains "$log" "WATCHDOG=1" "WATCHDOG_PID=1: no WATCHDOG=1 (the watchdog is another process's)"
grep -q 'STATUS=following' <<<"$log" && pass "WATCHDOG_PID=1: STATUS still sent" || fail "WATCHDOG_PID=1: STATUS still sent"

# leaving before the stream runs: --endpos already applied exits 0, and says
# READY=1 first (systemd fails a Type=notify service that exits 0 without it,
# and Restart=on-failure would restart it for ever); a refusal says why
listen "$work/notify3.sock" "$work/notify3.log"
NOTIFY_SOCKET=$work/notify3.sock run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --endpos 0/100
assert_eq 0 "$RC" "--endpos already applied: exit 0"
NOTIFY_SOCKET=$work/notify3.sock run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --slot other_slot
assert_eq 7 "$RC" "a slot with no copy: exit 7"
sleep 0.2
kill "$LISTENER" 2>/dev/null || true
wait "$LISTENER" 2>/dev/null || true
log=$(cat "$work/notify3.log")
assert_contains "$(sed -n 2p <<<"$log")" "READY=1|STOPPING=1|STATUS=stopped" "--endpos already applied: READY=1 and STOPPING=1 before exit 0"
assert_contains "$(sed -n 3p <<<"$log")" "READY=1|STOPPING=1|STATUS=failed" "exit 7 at start: STOPPING=1 with a failed status"

# no NOTIFY_SOCKET, or one nobody listens on: follow as before
src_sql -c "INSERT INTO t (v) VALUES ('after')" >/dev/null
run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
assert_eq 0 "$RC" "without NOTIFY_SOCKET: follow --until-caught-up exits 0"
src_sql -c "INSERT INTO t (v) VALUES ('after, dead socket')" >/dev/null
NOTIFY_SOCKET=$work/nobody.sock WATCHDOG_USEC=2000000 run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --until-caught-up
assert_eq 0 "$RC" "NOTIFY_SOCKET nobody listens on: follow --until-caught-up exits 0"
assert_eq "$(src_sql -c "SELECT count(*) FROM t")" "$(tgt_sql -c "SELECT count(*) FROM t")" "every row applied without systemd"

done_testing
