# bench/lib.sh -- sourced by every bench/ script (not a benchmark itself).
#
#   bench_init "$@"   sets SMOKE (1 with --smoke as the first argument, or
#                     BENCH_SMOKE=1) and shifts it away: call as
#                     `bench_init "$@"; set -- "${BENCH_ARGS[@]}"`
#   bench_binary      sets PGCUTOVER: a Release build in build-bench, or in
#                     smoke mode the binary named by $PGCUTOVER (the test
#                     suite's own build) without installing or building.
#
# Smoke mode runs the same script end to end on tiny data in seconds, so
# the test suite notices when a change breaks a benchmark (a changed JSON
# field, status output, option); its numbers mean nothing and nothing is
# asserted on timing.
bench_init() {
  SMOKE=${BENCH_SMOKE:-0}
  if [ "${1:-}" = --smoke ]; then
    SMOKE=1
    shift
  fi
  BENCH_ARGS=("$@")
  export SMOKE
}

bench_binary() {
  if [ "$SMOKE" = 1 ]; then
    [ -x "${PGCUTOVER:-}" ] || { echo "bench: smoke mode needs PGCUTOVER=/path/to/pgcutover" >&2; exit 2; }
    return
  fi
  scripts/install-deps >/dev/null
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DPGCUTOVER_TESTS=OFF >/dev/null
  cmake --build build-bench -j "$(nproc)" >/dev/null
  PGCUTOVER="$root/build-bench/pgcutover"
}
