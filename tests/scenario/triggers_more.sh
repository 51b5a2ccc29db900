#!/usr/bin/env bash
# Scenario (issue 19 hardening, class 6): trigger states that change on the
# source while follow replays its DDL.  A quieted ENABLE ALWAYS trigger set
# back to ENABLE (origin) or DISABLEd on the source, an ENABLE REPLICA one
# made ALWAYS, an ALWAYS trigger on one partition leaf only, one on a
# table with an odd name: after the switchover each trigger on the target
# is in the state the source has then (not the one recorded at the copy),
# and none fired twice on apply meanwhile.  cleanup gives the source's
# states back too.  A rerun of a switchover killed once it had enabled them
# again, that aborts, quiets them again for the follower.
. "$(dirname "$0")/../lib/harness.sh"
harness_start

src_sql <<'SQL' >/dev/null
CREATE SCHEMA "Sch.ema";
CREATE TABLE log (id bigserial PRIMARY KEY, what text NOT NULL);
CREATE FUNCTION note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.log (what) VALUES (TG_TABLE_NAME || ':' || TG_NAME || ':' || TG_OP); RETURN NULL; END $$;
CREATE TABLE a (id int PRIMARY KEY);
CREATE TRIGGER a_always AFTER INSERT ON a FOR EACH ROW EXECUTE FUNCTION note();
ALTER TABLE a ENABLE ALWAYS TRIGGER a_always;
CREATE TABLE b (id int PRIMARY KEY);
CREATE TRIGGER b_always AFTER INSERT ON b FOR EACH ROW EXECUTE FUNCTION note();
ALTER TABLE b ENABLE ALWAYS TRIGGER b_always;
CREATE TABLE c (id int PRIMARY KEY);
CREATE TRIGGER c_replica AFTER INSERT ON c FOR EACH ROW EXECUTE FUNCTION note();
ALTER TABLE c ENABLE REPLICA TRIGGER c_replica;
CREATE TABLE "Sch.ema"."T ""odd""" (id int PRIMARY KEY);
CREATE TRIGGER "Trig ""odd""" AFTER INSERT ON "Sch.ema"."T ""odd""" FOR EACH ROW EXECUTE FUNCTION note();
ALTER TABLE "Sch.ema"."T ""odd""" ENABLE ALWAYS TRIGGER "Trig ""odd""";
CREATE TABLE p (id int NOT NULL, k int NOT NULL, PRIMARY KEY (id, k)) PARTITION BY LIST (k);
CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1);
CREATE TABLE p2 PARTITION OF p FOR VALUES IN (2);
CREATE TRIGGER p2_leaf AFTER INSERT ON p2 FOR EACH ROW EXECUTE FUNCTION note();
ALTER TABLE p2 ENABLE ALWAYS TRIGGER p2_leaf;
SQL

fire_states() {
  DB=app cluster_sql "$1" -c "SELECT string_agg(c.relname || '.' || t.tgname || '=' || t.tgenabled::text, ' ' ORDER BY 1 COLLATE "C") FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal AND t.tgname NOT LIKE 'pgcutover%'"
}
writes() {  # writes N
  src_sql -c "INSERT INTO a VALUES ($1)" -c "INSERT INTO b VALUES ($1)" -c "INSERT INTO c VALUES ($1)" \
          -c "INSERT INTO \"Sch.ema\".\"T \"\"odd\"\"\" VALUES ($1)" -c "INSERT INTO p VALUES ($1, 1), ($1, 2)" >/dev/null
}

run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"
run_pgcutover ddl-capture install --source "$SRC_DSN"
assert_eq 0 "$RC" "ddl-capture install exits 0"
follower_start --ddl apply
writes 1
src_sql -c "ALTER TABLE a ENABLE TRIGGER a_always" -c "ALTER TABLE b DISABLE TRIGGER b_always" \
        -c "ALTER TABLE c ENABLE ALWAYS TRIGGER c_replica" >/dev/null
writes 2
run_pgcutover switchover --source "$SRC_DSN" --target "$TGT_DSN" --timeout 60
assert_eq 0 "$RC" "switchover exits 0"
[ "$RC" -eq 0 ] || echo "# $(tail -n 3 <<<"$ERR")"
wait "$FOLLOWER" 2>/dev/null || true
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "every table identical (each trigger's rows once)"
assert_eq "$(fire_states src)" "$(fire_states tgt)" "every trigger in the state the source has at the switchover"

# cleanup instead of a switchover gives the source's states back as well
harness_stop
harness_start
src_sql <<'SQL' >/dev/null
CREATE TABLE log (id bigserial PRIMARY KEY, what text NOT NULL);
CREATE FUNCTION note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.log (what) VALUES (TG_TABLE_NAME || ':' || TG_OP); RETURN NULL; END $$;
CREATE TABLE a (id int PRIMARY KEY);
CREATE TRIGGER a_always AFTER INSERT ON a FOR EACH ROW EXECUTE FUNCTION note();
ALTER TABLE a ENABLE ALWAYS TRIGGER a_always;
CREATE RULE a_rule AS ON UPDATE TO a DO ALSO INSERT INTO log (what) VALUES ('rule');
ALTER TABLE a ENABLE ALWAYS RULE a_rule;
SQL
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
run_pgcutover ddl-capture install --source "$SRC_DSN"
src_sql -c "ALTER TABLE a DISABLE TRIGGER a_always" -c "ALTER TABLE a ENABLE REPLICA RULE a_rule" >/dev/null
run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --ddl apply --until-caught-up
assert_eq 0 "$RC" "follow --ddl apply replays the state changes"
run_pgcutover cleanup --source "$SRC_DSN" --target "$TGT_DSN" --yes
assert_eq 0 "$RC" "cleanup exits 0"
assert_eq "a.a_always=D a.a_rule=R" "$(tgt_sql -c "SELECT string_agg(x, ' ' ORDER BY x COLLATE \"C\") FROM (SELECT 'a.' || tgname || '=' || tgenabled::text AS x FROM pg_trigger WHERE tgrelid = 'a'::regclass AND NOT tgisinternal UNION ALL SELECT 'a.' || rulename || '=' || ev_enabled::text FROM pg_rewrite WHERE ev_class = 'a'::regclass) s")" \
  "after cleanup: the trigger and rule in the state the source gave them after the copy"

# A switchover killed right after it enabled the triggers again (before it
# marked the migration switched over), whose rerun aborts and lifts the
# fence: the follower goes on applying, so the triggers are quieted again.
harness_stop
harness_start
src_sql <<'SQL' >/dev/null
CREATE TABLE log (id bigserial PRIMARY KEY, what text NOT NULL);
CREATE FUNCTION note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.log (what) VALUES (TG_TABLE_NAME || ':' || NEW.id); RETURN NULL; END $$;
CREATE TABLE a (id int PRIMARY KEY);
CREATE TRIGGER a_always AFTER INSERT ON a FOR EACH ROW EXECUTE FUNCTION note();
ALTER TABLE a ENABLE ALWAYS TRIGGER a_always;
SQL
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
follower_start
src_sql -c "INSERT INTO a VALUES (1)" >/dev/null
"$PGCUTOVER" switchover --source "$SRC_DSN" --target "$TGT_DSN" --timeout 60 --post-command 'sleep 30' >>"$HARNESS_DIR/all-output.log" 2>&1 &
sw=$!
for _ in $(seq 1 400); do pgrep -P "$sw" >/dev/null 2>&1 && break; sleep 0.05; done
kill -9 "$sw"; wait "$sw" 2>/dev/null || true
pkill -9 -P "$sw" 2>/dev/null || true
# as if killed just after its restore: the triggers fire again on the target
tgt_sql -c "SELECT pgcutover.unquiet_triggers('pgcutover')" >/dev/null
tgt_sql -c "INSERT INTO log (id, what) VALUES (1000000, 'only on the target')" >/dev/null
run_pgcutover switchover --source "$SRC_DSN" --target "$TGT_DSN" --timeout 60 --verify full --abort-on-mismatch
assert_eq 5 "$RC" "the rerun finds the target's extra row and aborts (exit 5)"
assert_eq t "$(cluster_sql src -c "SELECT datallowconn FROM pg_database WHERE datname = 'app'")" "the rerun lifted the fence"
tgt_sql -c "DELETE FROM log WHERE id = 1000000" >/dev/null
src_sql -c "INSERT INTO a VALUES (2)" >/dev/null
run_pgcutover status --source "$SRC_DSN" --target "$TGT_DSN"
sleep 1
assert_eq "$(src_sql -c "SELECT string_agg(what, ',' ORDER BY id) FROM log")" "$(tgt_sql -c "SELECT string_agg(what, ',' ORDER BY id) FROM log")" \
  "after the aborted rerun: the trigger did not fire on the follower's rows (quieted again)"
assert_contains "$(tgt_sql -c "SELECT tgenabled FROM pg_trigger WHERE tgname = 'a_always'")" "D" "after the aborted rerun: the ALWAYS trigger is quiet on the target"
kill "$FOLLOWER" 2>/dev/null || true; wait "$FOLLOWER" 2>/dev/null || true
done_testing
