#!/usr/bin/env bash
# Scenario: materialized views and triggers that fire in replica role (issue
# 19, classes 5 and 6), through copy, follow under concurrent writes and
# switchover, then cleanup without a switchover.
#
# Materialized views: one over a table with a unique index, refreshed
# CONCURRENTLY again and again while follow runs (its rows are in the
# stream: they must be skipped, not stop follow); one in an odd schema with
# an odd name; one over a view (a view on a view); one through a plain view;
# one refreshed only plainly (stale on the target until the switchover); one
# WITH NO DATA (stays unpopulated); one never refreshed after the copy (as
# stale on both sides: left alone).  After the switchover every one equals
# the source's and the report has the refresh_matviews step.  With DDL
# capture: one made after the copy, and a table made under the name of a
# view renamed away (its rows must arrive: skipping is by the catalog at that
# point of the stream, not by name).
#
# Triggers: an ENABLE ALWAYS audit trigger (rows into an audit table whose key
# comes from a sequence: firing again on apply would insert every audit row
# twice, and stop follow on a duplicate key), an ENABLE REPLICA trigger (fires
# only in replica role: apply's), a plain trigger that must not fire on apply,
# an ENABLE ALWAYS rule, and an ALWAYS trigger on a partitioned table.  The
# audit rows arrive once, through the stream; afterwards every trigger is
# back in its source state (pg_trigger.tgenabled equal on both sides) and the
# ALWAYS ones fire on the new primary.
. "$(dirname "$0")/../lib/harness.sh"
harness_start

schema() {
  cat <<'SQL'
CREATE SCHEMA "Odd Schema";
CREATE TABLE orders(id bigserial PRIMARY KEY, grp int NOT NULL, amount int NOT NULL, touched int NOT NULL DEFAULT 0);
CREATE TABLE audit(id bigserial PRIMARY KEY, op text NOT NULL, order_id bigint NOT NULL);
CREATE FUNCTION audit_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit(op, order_id) VALUES (TG_OP, NEW.id);
  RETURN NULL;
END $$;
CREATE TRIGGER orders_audit AFTER INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION audit_order();
ALTER TABLE orders ENABLE ALWAYS TRIGGER orders_audit;
-- a plain (origin) trigger: on apply it must not fire, as before
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.touched := NEW.touched + 1; RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();
-- ENABLE REPLICA: fires only in replica role, so never on this source
CREATE TABLE items(id int PRIMARY KEY, note text);
CREATE TABLE replica_log(id bigserial PRIMARY KEY, item_id int NOT NULL);
CREATE FUNCTION log_replica() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO replica_log(item_id) VALUES (NEW.id); RETURN NULL; END $$;
CREATE TRIGGER items_replica AFTER INSERT ON items FOR EACH ROW EXECUTE FUNCTION log_replica();
ALTER TABLE items ENABLE REPLICA TRIGGER items_replica;
-- an ENABLE ALWAYS rule
CREATE TABLE ruled(id int PRIMARY KEY);
CREATE TABLE rule_log(id int PRIMARY KEY);
CREATE RULE ruled_log AS ON INSERT TO ruled DO ALSO INSERT INTO rule_log VALUES (NEW.id);
ALTER TABLE ruled ENABLE ALWAYS RULE ruled_log;
-- an ALWAYS trigger on a partitioned table (cloned onto its partitions)
CREATE TABLE events(id int NOT NULL, at_day int NOT NULL, PRIMARY KEY (id, at_day)) PARTITION BY RANGE (at_day);
CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (1000);
CREATE TABLE events_2 PARTITION OF events FOR VALUES FROM (1000) TO (MAXVALUE);
CREATE TABLE event_log(event_id int PRIMARY KEY);
CREATE FUNCTION log_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO event_log VALUES (NEW.id); RETURN NULL; END $$;
CREATE TRIGGER events_log AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION log_event();
ALTER TABLE events ENABLE ALWAYS TRIGGER events_log;

CREATE MATERIALIZED VIEW mv_sum AS SELECT grp, sum(amount) AS total, count(*) AS n FROM orders GROUP BY grp;
CREATE UNIQUE INDEX ON mv_sum(grp);
CREATE MATERIALIZED VIEW mv_top AS SELECT grp, total FROM mv_sum WHERE total > 500;
CREATE MATERIALIZED VIEW "Odd Schema"."mv.sum, it's *" AS SELECT grp % 3 AS g, max(amount) AS m FROM orders GROUP BY 1;
CREATE UNIQUE INDEX ON "Odd Schema"."mv.sum, it's *"(g);
CREATE VIEW v_sum AS SELECT * FROM mv_sum;
CREATE MATERIALIZED VIEW mv_via_view AS SELECT count(*) AS groups, sum(total) AS total FROM v_sum;
CREATE MATERIALIZED VIEW mv_plain AS SELECT count(*) AS n, coalesce(sum(amount), 0) AS total FROM orders;
CREATE MATERIALIZED VIEW mv_nodata AS SELECT id, amount FROM orders WITH NO DATA;
-- never refreshed after the copy: as stale on the source as on the target
CREATE MATERIALIZED VIEW mv_stale AS SELECT count(*) AS n FROM orders;
SQL
}

initial_rows() {
  cat <<'SQL'
INSERT INTO orders(grp, amount) SELECT g % 7, g FROM generate_series(1, 200) g;
INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 20) g;
INSERT INTO ruled SELECT generate_series(1, 10);
INSERT INTO events SELECT g, g * 37 % 2000 FROM generate_series(1, 20) g;
REFRESH MATERIALIZED VIEW mv_sum;
REFRESH MATERIALIZED VIEW mv_top;
REFRESH MATERIALIZED VIEW "Odd Schema"."mv.sum, it's *";
REFRESH MATERIALIZED VIEW mv_via_view;
REFRESH MATERIALIZED VIEW mv_plain;
REFRESH MATERIALIZED VIEW mv_stale;
SQL
}

# every materialized view: name, populated, and its rows in order ("-" unpopulated)
matviews() {  # matviews src|tgt
  DB=app cluster_sql "$1" <<'SQL'
SELECT format('SELECT %L, %L, %s', n.nspname || '.' || c.relname, c.relispopulated,
              CASE WHEN c.relispopulated
                   THEN format('(SELECT coalesce(string_agg(r::text, '','' ORDER BY r::text), '''') FROM %I.%I r)', n.nspname, c.relname)
                   ELSE '''-''' END)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'm' ORDER BY 1
\gexec
SQL
}

# every user trigger and rule with its enabled state
fire_states() {  # fire_states src|tgt
  DB=app cluster_sql "$1" <<'SQL'
SELECT c.relname || '.' || t.tgname || '=' || t.tgenabled::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE NOT t.tgisinternal AND t.tgname NOT LIKE 'pgcutover%'
UNION ALL
SELECT c.relname || '.' || r.rulename || '=' || r.ev_enabled::text FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
WHERE r.rulename <> '_RETURN'
ORDER BY 1
SQL
}

# writes while following: orders (ALWAYS audit, plain touch), items (REPLICA),
# ruled (rule), events (partitioned ALWAYS), refreshes of every kind
ROUND=0
PLAIN_VIEW=mv_plain
load() {  # load ROUNDS
  local i
  for _ in $(seq 1 "$1"); do
    ROUND=$((ROUND + 1)); i=$ROUND
    src_sql <<SQL >/dev/null 2>>"$HARNESS_DIR/load.err" || true
INSERT INTO orders(grp, amount) SELECT g % 7, g + $i FROM generate_series(1, 20) g;
UPDATE orders SET amount = amount + 1 WHERE id % 17 = $i % 17;
DELETE FROM orders WHERE id IN (SELECT id FROM orders ORDER BY id LIMIT 2);
INSERT INTO items VALUES (1000 + $i, 'new $i');
INSERT INTO ruled VALUES (1000 + $i);
INSERT INTO events VALUES (1000 + $i, ($i * 131) % 2000);
REFRESH MATERIALIZED VIEW CONCURRENTLY mv_sum;
REFRESH MATERIALIZED VIEW CONCURRENTLY "Odd Schema"."mv.sum, it's *";
REFRESH MATERIALIZED VIEW $PLAIN_VIEW;
SQL
  done
}

{ schema; initial_rows; } | src_sql >/dev/null

run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"
assert_eq "$(matviews src)" "$(matviews tgt)" "after copy: every materialized view is populated as on the source (pg_dump's REFRESH ran), WITH NO DATA left so"
assert_eq "f" "$(tgt_sql -c "SELECT relispopulated FROM pg_class WHERE relname = 'mv_nodata'")" "after copy: the WITH NO DATA view is unpopulated on the target"
assert_eq "orders.orders_audit=D items.items_replica=D ruled.ruled_log=D events.events_log=D" \
  "$(tgt_sql -c "SELECT string_agg(x, ' ' ORDER BY o) FROM (VALUES (1, (SELECT 'orders.orders_audit=' || tgenabled::text FROM pg_trigger WHERE tgname = 'orders_audit')),
       (2, (SELECT 'items.items_replica=' || tgenabled::text FROM pg_trigger WHERE tgname = 'items_replica')),
       (3, (SELECT 'ruled.ruled_log=' || ev_enabled::text FROM pg_rewrite WHERE rulename = 'ruled_log')),
       (4, (SELECT 'events.events_log=' || tgenabled::text FROM pg_trigger WHERE tgname = 'events_log' AND tgrelid = 'events'::regclass))) v(o, x)")" \
  "after copy: the ALWAYS and REPLICA triggers and the ALWAYS rule are disabled on the target"
assert_eq "1" "$(tgt_sql -c "SELECT count(*) > 0 FROM pgcutover.quieted_trigger WHERE name = 'orders_audit' AND enabled = 'A'" | sed 's/t/1/')" \
  "their source state is recorded in the state schema"

# a second session writing all the while (the audit trigger fires on each row)
writer() {
  while [ ! -e "$HARNESS_DIR/stop-writer" ]; do
    src_sql -c "INSERT INTO orders(grp, amount) SELECT g % 7, g FROM generate_series(1, 5) g" \
            -c "UPDATE orders SET amount = amount + 1 WHERE id = (SELECT max(id) FROM orders)" >/dev/null 2>>"$HARNESS_DIR/load.err" || true
  done
}

follower_start
writer & WRITER=$!
load 16
touch "$HARNESS_DIR/stop-writer"; wait "$WRITER"
assert_eq "" "$(cat "$HARNESS_DIR/load.err" 2>/dev/null)" "the writes and refreshes on the source all succeeded"
run_pgcutover status --source "$SRC_DSN" --target "$TGT_DSN"
if kill -0 "$FOLLOWER" 2>/dev/null; then pass "follow keeps running through REFRESH ... CONCURRENTLY and the ALWAYS/REPLICA triggers"; else
  fail "follow keeps running through REFRESH ... CONCURRENTLY and the ALWAYS/REPLICA triggers" "$(grep -iE 'error|stop' "$HARNESS_DIR/all-output.log" | tail -n 3)"; fi
assert_eq "0" "$(tgt_sql -c "SELECT count(*) FROM replica_log")" "while following: the ENABLE REPLICA trigger did not fire on apply"

stale=equal
[ "$(matviews src | grep '^public.mv_plain|')" = "$(matviews tgt | grep '^public.mv_plain|')" ] || stale=stale
assert_eq stale "$stale" "before the switchover the target's plainly refreshed view is stale (follow skips views)"
# the source's views made current (the target's are refreshed from the
# target's data at the switchover: the source's at the fence), in dependency order
src_sql -c "REFRESH MATERIALIZED VIEW mv_sum" -c "REFRESH MATERIALIZED VIEW mv_top" \
        -c "REFRESH MATERIALIZED VIEW mv_via_view" -c "REFRESH MATERIALIZED VIEW mv_plain" \
        -c "REFRESH MATERIALIZED VIEW CONCURRENTLY \"Odd Schema\".\"mv.sum, it's *\"" >/dev/null
run_pgcutover switchover --source "$SRC_DSN" --target "$TGT_DSN" --timeout 60
assert_eq 0 "$RC" "switchover exits 0"
[ "$RC" -eq 0 ] || echo "# $(tail -n 5 <<<"$ERR")"
assert_contains "$OUT" "refresh_matviews" "the switchover report has the refresh_matviews step"
assert_contains "$OUT" "materialized views: 5 refreshed on the target, in dependency order, 1 already equal to the source's" \
  "the report says how many views it refreshed and how many were the source's already (the stale one: a refresh would make it differ)"
grep -E "write downtime|refresh_matviews" <<<"$OUT" | sed 's/^/# /' || true
wait "$FOLLOWER" 2>/dev/null || true

assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "after switchover: every table identical (audit rows once, no REPLICA-trigger rows, the plain trigger fired once)"
assert_eq "$(db_sequences src)" "$(db_sequences tgt | grep -v '^pgcutover')" "after switchover: every sequence equal"
assert_eq "$(matviews src)" "$(matviews tgt)" "after switchover: every materialized view equals the source's (mv_nodata unpopulated)"
diff <(matviews src) <(matviews tgt) | head -c 2000 | sed 's/^/# /' || true
assert_eq "f" "$(tgt_sql -c "SELECT relispopulated FROM pg_class WHERE relname = 'mv_nodata'")" "the WITH NO DATA view stays unpopulated"
assert_eq "$(fire_states src)" "$(fire_states tgt)" "after switchover: every trigger and rule is in its source state on the target"
assert_eq "0" "$(tgt_sql -c "SELECT count(*) FROM pgcutover.quieted_trigger")" "the record of quieted triggers is forgotten"

# the new primary's triggers fire: one audit row per insert, the rule's row, the partition's log
before=$(tgt_sql -c "SELECT count(*) FROM audit")
tgt_sql -c "INSERT INTO orders(grp, amount) VALUES (1, 1)" -c "INSERT INTO ruled VALUES (5000)" \
        -c "INSERT INTO events VALUES (5000, 1500)" >/dev/null
assert_eq "$((before + 1))" "$(tgt_sql -c "SELECT count(*) FROM audit")" "the ALWAYS audit trigger fires on the new primary"
assert_eq "1 1" "$(tgt_sql -c "SELECT (SELECT count(*) FROM rule_log WHERE id = 5000), (SELECT count(*) FROM event_log WHERE event_id = 5000)" | tr '|' ' ')" \
  "the ALWAYS rule and the partitioned table's ALWAYS trigger fire on the new primary"

# With DDL capture: a view made after the copy (its rows, in the stream
# before the command, are skipped: the target has no such view yet), and
# every REFRESH replayed where it ran; then cleanup without a switchover
# gives the triggers back.
harness_stop
harness_start
{ schema; initial_rows; } | src_sql >/dev/null
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "second copy exits 0"
assert_contains "$(fire_states tgt)" "orders.orders_audit=D" "the ALWAYS trigger is disabled on the target after copy"
run_pgcutover ddl-capture install --source "$SRC_DSN"
follower_start --ddl apply
load 3
src_sql -c "CREATE MATERIALIZED VIEW mv_later AS SELECT grp, count(*) AS n FROM orders GROUP BY grp" \
        -c "CREATE UNIQUE INDEX ON mv_later(grp)" >/dev/null
src_sql -c "ALTER MATERIALIZED VIEW mv_plain RENAME TO mv_plain_old" \
        -c "CREATE TABLE mv_plain(id int PRIMARY KEY, v text)" \
        -c "INSERT INTO mv_plain SELECT g, 'row ' || g FROM generate_series(1, 50) g" >/dev/null
PLAIN_VIEW=mv_plain_old
load 3
src_sql -c "REFRESH MATERIALIZED VIEW CONCURRENTLY mv_later" -c "REFRESH MATERIALIZED VIEW mv_top" \
        -c "REFRESH MATERIALIZED VIEW mv_via_view" -c "CREATE FUNCTION log_delete() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN INSERT INTO replica_log(item_id) VALUES (-OLD.id); RETURN NULL; END \$\$" \
        -c "CREATE TRIGGER later_audit AFTER DELETE ON items FOR EACH ROW EXECUTE FUNCTION log_delete()" \
        -c "ALTER TABLE items ENABLE ALWAYS TRIGGER later_audit" -c "DELETE FROM items WHERE id = 1" >/dev/null
load 2
kill -INT "$FOLLOWER"; wait "$FOLLOWER" 2>/dev/null || true
assert_eq "" "$(cat "$HARNESS_DIR/load.err" 2>/dev/null)" "the writes, DDL and refreshes on the source all succeeded"
run_pgcutover follow --source "$SRC_DSN" --target "$TGT_DSN" --ddl apply --until-caught-up
assert_eq 0 "$RC" "follow --ddl apply --until-caught-up exits 0 through a view made later and its REFRESH ... CONCURRENTLY"
[ "$RC" -eq 0 ] || echo "# $(grep -iE 'error' <<<"$ERR" | tail -n 3)"
assert_eq "$(db_fingerprint src)" "$(db_fingerprint tgt)" "with DDL replay: every table identical (a trigger made ENABLE ALWAYS by DDL did not fire on apply; the table made under a renamed view's name has its rows)"
assert_eq 50 "$(tgt_sql -c "SELECT count(*) FROM mv_plain")" "the table made under the renamed view's old name has its 50 rows on the target"
assert_eq "$(matviews src)" "$(matviews tgt)" "with DDL replay: every view equals the source's, refreshed where the source refreshed it"
assert_contains "$(fire_states tgt)" "items.later_audit=D" "the ALWAYS trigger made by replayed DDL is quieted on the target"
run_pgcutover cleanup --source "$SRC_DSN" --target "$TGT_DSN" --yes
assert_eq 0 "$RC" "cleanup without a switchover exits 0"
assert_eq "$(fire_states src)" "$(fire_states tgt)" "after cleanup: every trigger and rule is in its source state on the target"
done_testing
