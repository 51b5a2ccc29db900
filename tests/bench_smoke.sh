#!/usr/bin/env bash
# tests/bench_smoke.sh PGCUTOVER BENCH "EXPECTED REGEX"
# Runs bench/BENCH in its smoke mode with this build's binary; passes when
# the script exits 0 and printed a line matching the regex (its summary).
set -uo pipefail
bin=$1 bench=$2 expect=$3
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
PGCUTOVER=$bin BENCH_SMOKE=1 bash "$root/bench/$bench" >"$out" 2>&1
rc=$?
cat "$out"
if [ $rc -ne 0 ]; then
  echo "bench_smoke: bench/$bench exited $rc"
  exit 1
fi
if ! grep -Eq "$expect" "$out"; then
  echo "bench_smoke: bench/$bench printed no line matching /$expect/"
  exit 1
fi
echo "bench_smoke: bench/$bench ok"
