-- tests/sql/changes.sql: source changes after the copy that exercise every
-- exactness rule of follow (run on a database made by shapes.sql).

-- numbers: arbitrary precision, exponents, float8 exact, NaN/Infinity, NULL
INSERT INTO "Mixed Case"."Table Name" ("select", n, n10, f8, f4)
VALUES ('big numeric', ('9' || repeat('8', 898) || '.5')::numeric, 12345678901234567890.0123456789, 5e-324, 1.17549435e-38),
       ('float max', 1e-400::numeric * 0 + 0.000000000000000000000000000001, -0.0000000001, 1.7976931348623157e308, -3.4028235e38),
       ('float exact', 0.1, 0.1, 0.1, 0.1),
       ('nan insert', 'NaN', NULL, 'NaN', 'Infinity'),
       ('inf insert', '-Infinity', NULL, '-Infinity', '-Infinity'),
       ('null floats', NULL, NULL, NULL, NULL);
UPDATE "Mixed Case"."Table Name" SET f8 = 'Infinity', n = 'NaN' WHERE "select" = 'plain';
UPDATE "Mixed Case"."Table Name" SET f8 = NULL, n = NULL WHERE "select" = 'nan';
UPDATE "Mixed Case"."Table Name" SET f4 = 'NaN', f8 = -0.0 WHERE "select" = 'float exact';
-- the same row NaN, then NULL again in later transactions
UPDATE "Mixed Case"."Table Name" SET f8 = 'NaN' WHERE "select" = 'null floats';
UPDATE "Mixed Case"."Table Name" SET f8 = NULL WHERE "select" = 'null floats';

-- every other type, text with quotes, backslashes, newlines, tabs and UTF-8
INSERT INTO "Mixed Case"."Table Name"
    ("select", "Quote""d", b, j, js, x, ts, t, d, iv, tm, arr, tarr, m, u, ip, cid, mac, bits, r, e, earr, dom,
     comp, pt, tsv, h, bo, ch, vc)
VALUES ('types', E'q''uote "dq" \\ back \\\\ two\nnew\tline\r\u00e9 😀', '\xdeadbeef00', '{"k": [1.50, "é", null]}',
        '{"a":1,  "b" : [ ]}', '<r><c a="x&amp;y"/></r>', 'infinity', '-infinity', 'infinity', '-178000000 years',
        '24:00:00', '{{1,2},{3,4}}', '{"with space","quote\"d",NULL,"NULL"}', -92233720368547758.08,
        '00000000-0000-0000-0000-000000000000', '2001:db8::1/64', '192.168.0.0/16', 'ff:ff:ff:ff:ff:ff',
        B'1111111111', '[-5,)', 'ok', '{happy,sad,ok}', 2147483647, '(-1,"a""b\\c")', '(0,-0)',
        'the quick brown fox', '"k\"q"=>"v\\w"', false, 'abc', 'héllo');
UPDATE "Mixed Case"."Table Name" SET "Quote""d" = E'updated\\nstill one line', tarr = '{}' WHERE "select" = 'types';

-- generated and GENERATED ALWAYS identity columns
UPDATE "Mixed Case"."Table Name" SET ident = DEFAULT WHERE "select" = 'inf';
UPDATE "Mixed Case"."Table Name" SET "Id" = "Id" + 100000 WHERE "select" = 'bulk 7';

-- TOAST: an UPDATE that leaves a large out-of-line value unchanged omits it
UPDATE toasty SET small = small + 1000 WHERE id <= 10;
UPDATE toasty SET big = 'now small' WHERE id = 11;
DELETE FROM toasty WHERE id = 12;

-- partitions: plain changes, and a partition-key UPDATE (DELETE + INSERT)
INSERT INTO measurements VALUES (100001, 'a', '2024-03-03', 1), (100002, 'b', '2023-03-03', 'NaN');
UPDATE measurements SET city = 'b' WHERE id = 100001;
UPDATE measurements SET at = '2023-06-06' WHERE id = 100001 AND city = 'b';
UPDATE measurements SET v = 'Infinity' WHERE id = 100002;
DELETE FROM measurements WHERE id BETWEEN 10 AND 20;

-- REPLICA IDENTITY FULL with duplicate rows: exactly one row changes
INSERT INTO no_pk VALUES (7, 'twin'), (7, 'twin'), (7, 'twin');
UPDATE no_pk SET b = 'changed one' WHERE ctid = (SELECT ctid FROM no_pk WHERE a = 7 LIMIT 1);
DELETE FROM no_pk WHERE ctid = (SELECT ctid FROM no_pk WHERE a = 7 AND b = 'twin' LIMIT 1);
UPDATE no_pk SET b = 'null matched' WHERE a = 2 AND b IS NULL;

-- REPLICA IDENTITY USING INDEX, including a key change
UPDATE uniq_ident SET b = 'via index' WHERE a = 5;
UPDATE uniq_ident SET a = 5000 WHERE a = 6;
DELETE FROM uniq_ident WHERE a = 7;

-- primary key updates, and a swap of unique values inside one transaction
UPDATE parent SET id = id + 1000, name = name || ' moved' WHERE id IN (49, 50)
    AND NOT EXISTS (SELECT 1 FROM child WHERE parent_id IN (49, 50));
BEGIN;
UPDATE swap SET id = CASE id WHEN 1 THEN 2 WHEN 2 THEN 1 END WHERE id IN (1, 2);
UPDATE swap SET v = v || '!' WHERE id = 3;
COMMIT;

-- foreign keys with ON DELETE CASCADE: the cascaded deletes arrive too
DELETE FROM parent WHERE id = 3;
-- a trigger on the source that changes rows: the target gets the result, no double fire
INSERT INTO child (parent_id, note) VALUES (1, 'touch me');

-- reserved words and odd names
INSERT INTO "select" VALUES (2, 'a;b--c/*d*/'), (3, NULL);
UPDATE "select" SET "where;drop" = 'x' WHERE "from" = 1;

-- a zero-column table
INSERT INTO no_columns DEFAULT VALUES;

-- a rolled back transaction never reaches the target
BEGIN;
INSERT INTO parent VALUES (777, 'rolled back');
ROLLBACK;

-- TRUNCATE of several tables, with CASCADE
INSERT INTO ledger VALUES (-1, 'before truncate');
TRUNCATE swap, ledger;
INSERT INTO swap VALUES (10, 'after truncate');

-- a large transaction applies atomically
BEGIN;
INSERT INTO ledger SELECT g, 'bulk ' || g FROM generate_series(1, 200000) g;
UPDATE ledger SET note = 'bulk updated' WHERE n = 199999;
COMMIT;

-- logical messages reach the handler
SELECT pg_logical_emit_message(true, 'pgcutover-test', 'transactional hello');
SELECT pg_logical_emit_message(false, 'pgcutover-test', 'immediate hello');

-- a table whose replica identity index is not its primary key
UPDATE both_keys SET v = 'changed' WHERE code <= 50;
UPDATE both_keys SET code = 999 WHERE id = 7;
DELETE FROM both_keys WHERE id = 8;
