#!/usr/bin/env bash
# Builds the .deb with cpack and checks it: first as a file (its contents,
# its Depends from dpkg-shlibdeps, the gzip'd man page and changelog, the
# copyright), then installed with apt-get (binary, man page, completion,
# unit, SQL, docs); removes it afterwards.  Installing needs root: without
# it only the first part runs.
#   tests/package.sh BUILD_DIR SOURCE_DIR   (ctest package_deb)
set -euo pipefail
build=$1
src=$2
n=0; failed=0
check() { n=$((n + 1)); if eval "$2" >/dev/null 2>&1; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=$((failed + 1)); fi; }
finish() { echo "1..$n"; echo "$((n - failed)) passed, $failed failed"; [ "$failed" -eq 0 ]; }

cd "$build"
rm -f pgcutover_*.deb
cpack -G DEB >/dev/null
deb=$(ls pgcutover_*.deb)
unpacked=$(mktemp -d "${TMPDIR:-/tmp}/pgcutover-deb.XXXXXX")
trap 'rm -rf "$unpacked"' EXIT
dpkg-deb -x "$deb" "$unpacked"
contents=$(dpkg-deb -c "$deb" | awk '{ print $6 }')
check "cpack made a .deb ($deb)" "test -s '$deb'"

# --- the package as a file --------------------------------------------------
doc=./usr/share/doc/pgcutover
expected="./usr/bin/pgcutover ./lib/systemd/system/pgcutover@.service ./usr/share/man/man1/pgcutover.1.gz
./usr/share/bash-completion/completions/pgcutover ./usr/share/pgcutover/sql/state.sql
$doc/copyright $doc/changelog.gz $doc/README.md"
for f in "$src"/docs/*.md "$src"/docs/*.json "$src"/docs/*.yml; do
  [ -e "$f" ] && expected="$expected $doc/$(basename "$f")"
done
missing=""
for f in $expected; do grep -qxF -- "$f" <<<"$contents" || missing="$missing $f"; done
check "dpkg-deb -c lists every expected file (missing:${missing:- none})" "test -z '$missing'"
for f in runbook errors privileges limitations ddl architecture; do
  check "the docs include $f.md" "grep -qxF '$doc/$f.md' <<<\"\$contents\""
done
check "no uncompressed man page" "! grep -q 'man1/pgcutover.1\$' <<<\"\$contents\""

depends=$(dpkg-deb -f "$deb" Depends)
echo "# Depends: $depends"
for lib in libpq5 libjansson4 libev4 libmicrohttpd12 libc6; do
  check "Depends has $lib with a minimum version (dpkg-shlibdeps)" "grep -qE '(^|, )$lib \\(>= [^)]+\\)' <<<\"\$depends\""
done
if grep -q libsystemd <<<"$(ldd "$build/pgcutover")"; then  # not ldd | grep -q: SIGPIPE under pipefail
  check "Depends has libsystemd0 (the binary links it)" "grep -qE '(^|, )libsystemd0( |,|\$)' <<<\"\$depends\""
else
  check "Depends has no libsystemd0 (the binary does not link it)" "! grep -q libsystemd0 <<<\"\$depends\""
fi
check "Depends is computed, not a hand list (CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)" \
  "grep -q '^set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)' '$src/CMakeLists.txt' && ! grep -q 'CPACK_DEBIAN_PACKAGE_DEPENDS' '$src/CMakeLists.txt'"
check "it recommends wal2json" "dpkg-deb -f '$deb' Recommends | grep -c postgresql-15-wal2json"

man=$unpacked/usr/share/man/man1/pgcutover.1.gz
# gzip -9n: a valid gzip stream, no file name (FLG bit 3) and no time stamp (MTIME 0) in the header
check "the man page is gzip'd" "gzip -t '$man'"
check "the man page's gzip header has no name and no time stamp (gzip -n)" \
  "[ \$(( \$(od -An -tu1 -j3 -N1 '$man') & 8 )) -eq 0 ] && [ \$(od -An -tu4 -j4 -N4 '$man') -eq 0 ]"
check "the man page is compressed at -9" "[ \$(od -An -tu1 -j8 -N1 '$man') -eq 2 ]"
man_warnings=$(MANWIDTH=80 man --warnings -l "$man" 2>&1 >/dev/null || true)
check "man -l renders the packaged page without warnings${man_warnings:+ ($(head -c 200 <<<"$man_warnings"))}" "test -z \"\$man_warnings\""
check "the packaged man page says what pgcutover does" "MANWIDTH=80 man -l '$man' 2>/dev/null | grep -c 'near-zero downtime'"

changelog=$unpacked/usr/share/doc/pgcutover/changelog.gz
version=$("$build/pgcutover" --version | awk '{ print $2 }')
check "the changelog is gzip'd with no name or time stamp" \
  "gzip -t '$changelog' && [ \$(od -An -tu4 -j4 -N4 '$changelog') -eq 0 ]"
check "the changelog parses and its newest entry is this version ($version)" \
  "[ \"\$(zcat '$changelog' | dpkg-parsechangelog -l - -S Version)\" = '$version' ]"
check "the package's version is the changelog's" "[ \"\$(dpkg-deb -f '$deb' Version)\" = '$version' ]"
copyright=$unpacked/usr/share/doc/pgcutover/copyright
check "the copyright file is in Debian's machine-readable format" \
  "head -1 '$copyright' | grep -qx 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' && grep -q '^Files: \*' '$copyright' && grep -q '^License: ' '$copyright'"
check "the packaged unit is the tree's" "cmp '$src/docs/pgcutover@.service' '$unpacked/lib/systemd/system/pgcutover@.service'"

if [ "$(id -u)" -ne 0 ]; then
  echo "# SKIP installing the .deb needs root"
  finish
  exit $?
fi

# --- installed ----------------------------------------------------------------
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "./$deb" >/dev/null
trap 'rm -rf "$unpacked"; DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq pgcutover >/dev/null 2>&1 || true' EXIT
check "installed binary answers --version" "/usr/bin/pgcutover --version | grep -c '^pgcutover '"
check "man pgcutover renders" "MANWIDTH=80 man pgcutover | grep -c 'near-zero downtime'"
check "bash completion installed" "test -f /usr/share/bash-completion/completions/pgcutover"
check "systemd unit installed" "grep -q 'ExecStart=/usr/bin/pgcutover follow' /lib/systemd/system/pgcutover@.service"
check "SQL installed" "test -f /usr/share/pgcutover/sql/state.sql"
check "docs installed" "test -f /usr/share/doc/pgcutover/runbook.md && test -f /usr/share/doc/pgcutover/copyright"
check "completion offers the commands" "bash -c 'source /usr/share/bash-completion/bash_completion 2>/dev/null; source /usr/share/bash-completion/completions/pgcutover; COMP_WORDS=(pgcutover sw); COMP_CWORD=1; _pgcutover; [[ \${COMPREPLY[*]} == switchover ]]'"
finish
