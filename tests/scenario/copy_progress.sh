#!/usr/bin/env bash
# Scenario: what a person sees while `pgcutover copy` runs.
#  (a) on a terminal (tmux): a live line with percent and ETA that move, and
#      a table in flight; at the end a per-table summary with the source's
#      row counts;
#  (b) not on a terminal: periodic log lines with the same facts;
#  (c) `status` from another terminal shows tables in progress and waiting
#      during the copy (from the state only), and everything done after it.
# --max-rate (rows per second from the source, all workers together) makes
# a copy of 8000 rows take seconds, so it can be watched.
. "$(dirname "$0")/../lib/harness.sh"
harness_start

src_sql >/dev/null <<'SQL'
CREATE TABLE t_a (id int PRIMARY KEY, v text);
CREATE TABLE t_b (id int PRIMARY KEY, v text);
CREATE TABLE t_c (id int PRIMARY KEY, v text);
CREATE TABLE t_d (id int PRIMARY KEY, v text);
CREATE INDEX t_a_v ON t_a (v);
INSERT INTO t_a SELECT g, md5(g::text) FROM generate_series(1, 3000) g;
INSERT INTO t_b SELECT g, md5(g::text) FROM generate_series(1, 2500) g;
INSERT INTO t_c SELECT g, md5(g::text) FROM generate_series(1, 1500) g;
INSERT INTO t_d SELECT g, md5(g::text) FROM generate_series(1, 1000) g;
ANALYZE;
SQL

# --- (a) a terminal ---------------------------------------------------------
TMUX_SOCK="pgcutover-test-$$"
tmux_cleanup() { tmux -L "$TMUX_SOCK" kill-server 2>/dev/null || true; }
exit_status() { return "$1"; }
# harness_cleanup reads the test's exit status from $?: hand it on
trap 'rc=$?; set +e; tmux_cleanup; exit_status "$rc"; harness_cleanup' EXIT
cat > "$HARNESS_DIR/tty.sh" <<EOF
#!/usr/bin/env bash
"$PGCUTOVER" copy --source "$SRC_DSN" --target "$TGT_DSN" --jobs 2 --max-rate 1000 > "$HARNESS_DIR/tty.out"
echo \$? > "$HARNESS_DIR/tty.rc"
sleep 60
EOF
chmod +x "$HARNESS_DIR/tty.sh"
tmux -L "$TMUX_SOCK" new-session -d -x 200 -y 50 -s copy "$HARNESS_DIR/tty.sh"

live_line() {  # the last line of the pane that is the live data line
  tmux -L "$TMUX_SOCK" capture-pane -p -t copy | grep -E '^data [0-9.]+%' | tail -n 1 || true
}
first=""
for _ in $(seq 1 200); do
  first=$(live_line)
  [ -n "$first" ] && grep -q 'ETA [0-9]' <<<"$first" && break
  sleep 0.1
done
sleep 2
second=$(live_line)
echo "# live line, then 2 s later:"; echo "#   $first"; echo "#   $second"
percent() { sed -nE 's/^data ([0-9.]+)%.*/\1/p' <<<"$1"; }
eta() { sed -nE 's/.*\| ETA ([^|]+) \|.*/\1/p' <<<"$1"; }
assert_contains "$first" "ETA " "live line: shows an ETA"
assert_eq 1 "$(percent "$first" | grep -cE '^[0-9]+\.[0-9]$')" "live line: shows a percent"
assert_eq 1 "$(awk -v a="$(percent "$first")" -v b="$(percent "$second")" 'BEGIN { print (b > a) ? 1 : 0 }')" \
  "live line: the percent moves ($(percent "$first")% -> $(percent "$second")%)"
assert_eq 1 "$([ -n "$(eta "$first")" ] && [ "$(eta "$first")" != "$(eta "$second")" ] && echo 1 || echo 0)" \
  "live line: the ETA moves ($(eta "$first") -> $(eta "$second"))"
assert_contains "$first" "public.t_" "live line: names a table in flight"
assert_contains "$first" "rows/s" "live line: shows the current rate"
assert_eq 1 "$(awk '{ print length($0) <= 199 ? 1 : 0 }' <<<"$first")" "live line: fits the terminal's 200 columns"

for _ in $(seq 1 300); do [ -s "$HARNESS_DIR/tty.rc" ] && break; sleep 0.1; done
assert_eq 0 "$(cat "$HARNESS_DIR/tty.rc" 2>/dev/null)" "copy on a terminal exits 0"
pane=$(tmux -L "$TMUX_SOCK" capture-pane -p -S -100 -t copy)
assert_contains "$pane" "copy stage 2/4, data" "stages are named (data)"
assert_contains "$pane" "copy stage 3/4, indexes and constraints" "stages are named (indexes and constraints)"
assert_contains "$pane" "copy stage 4/4, sequences" "stages are named (sequences)"
printf '%s\n' "$pane" >> "$HARNESS_DIR/all-output.log"
grep -v '^$' <<<"$pane" | sed 's/^/# pane: /'
summary=$(cat "$HARNESS_DIR/tty.out")
echo "$summary" | sed 's/^/# /'
assert_contains "$summary" "MB/s" "the summary has a rate column"
for t in t_a t_b t_c t_d; do
  n=$(src_sql -c "SELECT count(*) FROM $t")
  assert_eq "$n" "$(awk -v t="public.$t" '$1 == t { print $4 }' <<<"$summary")" "summary: public.$t has the source's $n rows"
done
assert_eq "8000" "$(awk '$1 == "total" { print $4 }' <<<"$summary")" "summary: the total row adds them up"
assert_eq "(2)" "$(awk '$1 == "public.t_a" { print $NF }' <<<"$summary")" "summary: public.t_a's two index builds (primary key, t_a_v)"
tmux_cleanup

# --- (b) not a terminal, and (c) status from another terminal ----------------
cluster_sql tgt -c "CREATE DATABASE app2"
TGT2="host=127.0.0.1 port=$TGT_PORT dbname=app2 user=postgres password=$TEST_PASSWORD"
"$PGCUTOVER" copy --source "$SRC_DSN" --target "$TGT2" --slot second --jobs 2 --max-rate 500 --json \
  > "$HARNESS_DIR/plain.json" 2> "$HARNESS_DIR/plain.err" &
copy_pid=$!
during=""
for _ in $(seq 1 150); do
  during=$("$PGCUTOVER" status --target "$TGT2" --slot second --json 2>/dev/null || true)
  [ "$(jq -r '.copy_progress.tables.in_progress // 0' <<<"$during" 2>/dev/null)" -ge 1 ] &&
    [ "$(jq -r '.copy_progress.tables_in_progress[0].rows // 0' <<<"$during")" -gt 0 ] && break
  sleep 0.1
done
echo "# status --json during the copy: $(jq -c .copy_progress <<<"$during")"
assert_eq "4 true" "$(jq -r '"\(.copy_progress.tables.total) \(.copy_progress.running)"' <<<"$during")" "status --json during copy: 4 tables, the copy is running"
assert_eq 1 "$(jq -r '.copy_progress.tables.in_progress >= 1 and .copy_progress.tables.waiting >= 1 | if . then 1 else 0 end' <<<"$during")" \
  "status --json during copy: tables in progress and waiting"
assert_eq 1 "$(jq -r '.copy_progress.tables_in_progress[0].rows > 0 and .copy_progress.tables_in_progress[0].bytes > 0 | if . then 1 else 0 end' <<<"$during")" \
  "status --json during copy: rows and bytes of a table in progress"
assert_eq 1 "$(jq -r '.copy_progress.estimate.percent > 0 and .copy_progress.estimate.percent < 100 | if . then 1 else 0 end' <<<"$during")" \
  "status --json during copy: the copy's estimate (percent)"
assert_eq "5 0 5" "$(jq -r '.copy_progress.indexes | "\(.total) \(.done) \(.waiting)"' <<<"$during")" "status --json during copy: indexes (4 primary keys, t_a_v) waiting"
human=$("$PGCUTOVER" status --target "$TGT2" --slot second 2>&1 || true)
echo "$human" | sed 's/^/# /'
assert_contains "$human" "in progress" "human status during copy: tables in progress"
assert_contains "$human" "waiting" "human status during copy: tables waiting"
assert_contains "$human" "copy            copy_data" "human status during copy: the copy's phase"

set +e; wait "$copy_pid"; RC=$?; set -e
assert_eq 0 "$RC" "copy off a terminal exits 0"
cat "$HARNESS_DIR/plain.err" "$HARNESS_DIR/plain.json" "$HARNESS_DIR/tty.out" >> "$HARNESS_DIR/all-output.log"
printf '%s\n%s\n' "$during" "$human" >> "$HARNESS_DIR/all-output.log"
plain_err=$(cat "$HARNESS_DIR/plain.err")
assert_not_contains "$plain_err" $'\r' "off a terminal: no live line"
progress_lines=$(grep -c 'copy data: [0-9.]*% of ~' <<<"$plain_err" || true)
assert_eq 1 "$([ "$progress_lines" -ge 1 ] && echo 1 || echo 0)" "off a terminal: periodic progress log lines ($progress_lines)"
assert_contains "$(grep 'copy data: ' <<<"$plain_err" | head -n 1)" "ETA" "off a terminal: the log line has the ETA"
assert_contains "$(grep 'copy data: ' <<<"$plain_err" | head -n 1)" "in flight: public.t_" "off a terminal: the log line names the tables in flight"
json=$(cat "$HARNESS_DIR/plain.json")
assert_eq "4" "$(jq '.table_summary | length' <<<"$json")" "copy --json: table_summary lists every table"
assert_eq "3000 2500 1500 1000" "$(jq -r '[.table_summary[] | .rows] | map(tostring) | join(" ")' <<<"$json")" "copy --json: rows per table"
assert_eq 2 "$(jq -r '.table_summary[] | select(.table == "t_a") | .indexes' <<<"$json")" "copy --json: index builds per table"

after=$("$PGCUTOVER" status --target "$TGT2" --slot second --json 2>/dev/null || true)
assert_eq "4 4 0 0 false" "$(jq -r '.copy_progress | "\(.tables.total) \(.tables.done) \(.tables.in_progress) \(.tables.waiting) \(.running)"' <<<"$after")" \
  "status --json after copy: every table done"
assert_eq "5 5" "$(jq -r '.copy_progress.indexes | "\(.total) \(.done)"' <<<"$after")" "status --json after copy: every index done"
assert_eq 8000 "$(jq -r '.copy_progress.rows' <<<"$after")" "status --json after copy: every row"
human=$("$PGCUTOVER" status --target "$TGT2" --slot second 2>&1 || true)
assert_contains "$human" "copy            done: 4 tables, 8000 rows" "human status after copy: done"

# --quiet: no progress at all
cluster_sql tgt -c "CREATE DATABASE app3"
TGT3="host=127.0.0.1 port=$TGT_PORT dbname=app3 user=postgres password=$TEST_PASSWORD"
run_pgcutover copy --source "$SRC_DSN" --target "$TGT3" --slot third --quiet
assert_eq 0 "$RC" "copy --quiet exits 0"
assert_eq "" "$ERR" "copy --quiet: nothing on stderr"

done_testing
