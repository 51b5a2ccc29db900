#!/usr/bin/env bash
# Scenario: NaN, ±Infinity and NULL in a REPLICA IDENTITY FULL, keyless
# leaf of a tree hashed on an enum (written through its root, partroute.h):
# such a change names a class of rows, which follow replaces from the source
# (nanfix).  The source read must be the leaf and the target delete the
# root's tree; with ONLY on the root both matched nothing and the rows were
# silently lost.
. "$(dirname "$0")/../lib/harness.sh"
harness_start

src_sql <<'SQL' >/dev/null
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE m (e mood NOT NULL, f float8, t text) PARTITION BY HASH (e);
CREATE TABLE m_0 PARTITION OF m FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE m_1 PARTITION OF m FOR VALUES WITH (MODULUS 2, REMAINDER 1);
ALTER TABLE m_0 REPLICA IDENTITY FULL;
ALTER TABLE m_1 REPLICA IDENTITY FULL;
INSERT INTO m VALUES ('sad', 1, 'a'), ('ok', 'NaN', 'a'), ('happy', NULL, 'a'), ('ok', 'Infinity', 'a');
SQL
# other types first, so the enum's OIDs (and hashes) differ on the target
tgt_sql -c "CREATE TYPE shift_a AS ENUM ('x')" -c "CREATE TYPE shift_b AS ENUM ('y')" >/dev/null
run_pgcutover copy --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "copy exits 0"

src_sql <<'SQL' >/dev/null
INSERT INTO m VALUES ('sad', NULL, 'b'), ('happy', 'NaN', 'b'), ('ok', '-Infinity', 'b'), ('sad', NULL, 'b');
UPDATE m SET t = 'c' WHERE f IS NULL AND e = 'happy';
UPDATE m SET f = 'NaN' WHERE f = 1;
DELETE FROM m WHERE f = 'Infinity';
DELETE FROM m WHERE f IS NULL AND t = 'b' AND e = 'sad' AND ctid = (SELECT min(ctid) FROM m_0 WHERE f IS NULL AND t = 'b') ;
SQL
run_pgcutover follow --until-caught-up --source "$SRC_DSN" --target "$TGT_DSN"
assert_eq 0 "$RC" "follow --until-caught-up exits 0"
q="SELECT e::text || '|' || coalesce(f::text, 'NULL') || '|' || t FROM m ORDER BY 1"
assert_eq "$(src_sql -c "$q")" "$(tgt_sql -c "$q")" "the tree holds the same rows on both sides (NULL, NaN, ±Infinity)"
assert_eq "$(src_sql -c "SELECT count(*) FROM m")" "$(tgt_sql -c "SELECT count(*) FROM m")" "the same number of rows"
done_testing
