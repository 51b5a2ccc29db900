#!/usr/bin/env bash
# Builds the .deb with cpack, installs it with apt-get, and checks the
# installed binary, man page, completion and unit; removes it afterwards.
set -euo pipefail
build=$1
src=$2
if [ "$(id -u)" -ne 0 ]; then echo "1..0 # SKIP installing a .deb needs root"; exit 0; fi
n=0; failed=0
check() { n=$((n + 1)); if eval "$2" >/dev/null 2>&1; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=$((failed + 1)); fi; }

cd "$build"
rm -f pgcutover_*.deb
cpack -G DEB >/dev/null
deb=$(ls pgcutover_*.deb)
check "cpack made a .deb ($deb)" "test -s '$deb'"
check "its dependencies are declared" "dpkg-deb -f '$deb' Depends | grep -c 'libpq5.*libjansson4.*libev4' >/dev/null"
check "it recommends wal2json" "dpkg-deb -f '$deb' Recommends | grep -c postgresql-15-wal2json >/dev/null"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "./$deb" >/dev/null
trap 'DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq pgcutover >/dev/null 2>&1 || true' EXIT
check "installed binary answers --version" "/usr/bin/pgcutover --version | grep -c '^pgcutover ' >/dev/null"
check "man pgcutover renders" "MANWIDTH=80 man pgcutover | grep -c 'near-zero downtime' >/dev/null"
check "the man page has no warnings" "test -z \"\$(man --warnings -l '$src/docs/pgcutover.1' 2>&1 >/dev/null)\""
check "bash completion installed" "test -f /usr/share/bash-completion/completions/pgcutover"
check "systemd unit installed" "grep -q 'ExecStart=/usr/bin/pgcutover follow' /lib/systemd/system/pgcutover@.service"
check "SQL installed" "test -f /usr/share/pgcutover/sql/state.sql"
check "completion offers the commands" "bash -c 'source /usr/share/bash-completion/bash_completion 2>/dev/null; source /usr/share/bash-completion/completions/pgcutover; COMP_WORDS=(pgcutover sw); COMP_CWORD=1; _pgcutover; [[ \${COMPREPLY[*]} == switchover ]]'"
echo "1..$n"
echo "$((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
