#!/usr/bin/env bash
# Scenario: sequences on the way back (issue 19, class 2).  switchover
# --reverse with a gap, the new primary hands out values (serial, a
# descending ALWAYS identity, a CACHE 50 sequence), the reverse follower
# keeps the old source's rows current (not its sequences: logical decoding
# has none), and the switchover back sets the old source's sequences to the
# new primary's: going back, no value is handed out twice.
. "$(dirname "$0")/../lib/harness.sh"
harness_start
src_sql <<'SQL' >/dev/null
CREATE TABLE t (id bigserial PRIMARY KEY, v text);
CREATE TABLE d (id int GENERATED ALWAYS AS IDENTITY (INCREMENT -1 MINVALUE -100000 MAXVALUE -1 START -1) PRIMARY KEY, v text);
CREATE SEQUENCE c CACHE 50;
CREATE SEQUENCE grows MAXVALUE 1000;
CREATE SEQUENCE small_to_big AS smallint;
INSERT INTO t (v) SELECT 'a' FROM generate_series(1, 20);
INSERT INTO d (v) SELECT 'a' FROM generate_series(1, 20);
SELECT nextval('c') FROM generate_series(1, 3);
SQL
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"
follower_start
src_sql -c "INSERT INTO t (v) VALUES ('b')" -c "INSERT INTO d (v) VALUES ('b')" >/dev/null
# altered on the source after the copy, without DDL capture: the target's are not
src_sql -c "ALTER SEQUENCE grows MAXVALUE 100000 INCREMENT 5" -c "SELECT setval('grows', 5000)" \
        -c "ALTER SEQUENCE small_to_big AS bigint MAXVALUE 1000000" -c "SELECT setval('small_to_big', 100000)" >/dev/null
run_pgcutover switchover --reverse --yes --sequence-gap 10 --timeout 60s --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "switchover --reverse --sequence-gap 10 exits 0 (sequences altered on the source since the copy do not stop it)"
[ "$RC" = 0 ] || echo "# $(grep error <<<"$ERR" | head -3)"
assert_contains "$ERR" "sequence public.grows was altered on the source since the copy" "it says which sequence it alters on the target"
assert_eq "5015|100011|bigint" "$(tgt_sql -c "SELECT nextval('grows'), nextval('small_to_big'), data_type FROM pg_sequences WHERE sequencename = 'small_to_big'")" \
  "the altered sequences hand out the source's next value plus the gap, in their new shape"
[ "$RC" = 0 ] || kill "$FOLLOWER" 2>/dev/null || true
wait "$FOLLOWER" 2>/dev/null || true
assert_eq "32|-32|t" "$(tgt_sql -c "INSERT INTO t (v) VALUES ('new') RETURNING id" -c "INSERT INTO d (v) VALUES ('new') RETURNING id" \
  -c "SELECT nextval('c') > 50" | paste -sd'|')" "the new primary hands out past the gap, each sequence its way (up, down, past the cache)"
tgt_sql -c "INSERT INTO t (v) SELECT 'new' FROM generate_series(1, 4)" -c "INSERT INTO d (v) SELECT 'new' FROM generate_series(1, 4)" \
        -c "SELECT nextval('c') FROM generate_series(1, 100)" >/dev/null
"$PGCUTOVER" follow --source "$TGT_DSN" --target "$SRC_DSN" --slot pgcutover_reverse >>"$HARNESS_DIR/all-output.log" 2>&1 &
reverse=$!
for _ in $(seq 1 100); do
  [ "$(src_sql -c "SELECT count(*) FROM pgcutover.follower WHERE phase = 'following'" 2>/dev/null)" = 1 ] && break
  sleep 0.05
done
tgt_sql -c "INSERT INTO t (v) VALUES ('more')" >/dev/null
run_pgcutover switchover --yes --timeout 60s --source "$TGT_DSN" --target "$SRC_DSN" --slot pgcutover_reverse
assert_eq 0 "$RC" "the switchover back exits 0"
[ "$RC" = 0 ] || kill "$reverse" 2>/dev/null || true
wait "$reverse" 2>/dev/null || true
assert_eq "$(db_fingerprint tgt)" "$(db_fingerprint src)" "the old source holds every row the new primary wrote"
assert_eq "$(db_sequences tgt)" "$(db_sequences src)" "the old source's sequences are the new primary's (last_value, is_called)"
assert_eq "public.c|210|t
public.d_id_seq|-36|t
public.grows|5015|t
public.small_to_big|100011|t
public.t_id_seq|37|t" "$(db_sequences src)" "and past every value the new primary handed out"
# switched back, the old source is the primary again: its rest fence is gone
assert_contains "$OUT$ERR" "takes writes again: its rest fence is lifted" "the switchover back says it lifts the old source's rest fence"
assert_eq "0|off" "$(src_sql -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgcutover_fence'" -c "SHOW default_transaction_read_only" | paste -sd'|')" \
  "the old source has no pgcutover_fence and no read-only default"
assert_eq "new|1" "$(src_sql -c "INSERT INTO t (v) VALUES ('back home') RETURNING 'new'" -c "SELECT count(*) FROM t WHERE v = 'back home'" | paste -sd'|')" \
  "the old source takes writes again, from an ordinary session"
assert_eq "1|on" "$(tgt_sql -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgcutover_fence'" -c "SHOW default_transaction_read_only" | paste -sd'|')" \
  "the database switched away from this time is the one fenced at rest now"
done_testing
