-- tests/sql/shapes.sql: a source database with every table shape and many
-- types, used by the copy (and later follow) scenario tests.
CREATE EXTENSION IF NOT EXISTS hstore;
CREATE SCHEMA "Mixed Case";
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE TYPE pair AS (a int, b text);

CREATE TABLE "Mixed Case"."Table Name" (
    "Id"     bigserial PRIMARY KEY,
    "select" text,
    "Quote""d" text,
    n        numeric,
    n10      numeric(30, 10),
    f8       float8,
    f4       real,
    b        bytea,
    j        jsonb,
    js       json,
    x        xml,
    ts       timestamptz,
    t        timestamp,
    d        date,
    iv       interval,
    tm       time,
    arr      int[],
    tarr     text[],
    m        money,
    u        uuid,
    ip       inet,
    cid      cidr,
    mac      macaddr,
    bits     bit varying(10),
    r        int4range,
    e        mood,
    earr     mood[],
    dom      posint,
    comp     pair,
    pt       point,
    tsv      tsvector,
    h        hstore,
    bo       boolean,
    ch       char(5),
    vc       varchar(10),
    gen      bigint GENERATED ALWAYS AS ("Id" * 2) STORED,
    ident    int GENERATED ALWAYS AS IDENTITY
);

INSERT INTO "Mixed Case"."Table Name"
    ("select", "Quote""d", n, n10, f8, f4, b, j, js, x, ts, t, d, iv, tm, arr, tarr, m, u, ip, cid, mac,
     bits, r, e, earr, dom, comp, pt, tsv, h, bo, ch, vc)
VALUES
    ('plain', 'it''s "quoted" \ back\slash', 123456789012345678901234567890.123456789012345678901234567890,
     1.5, 1.2345678901234567, 3.4028235e+38, '\x00ff10', '{"a": [1, 2.50, "x"], "b": null}', '{"k" : 1}',
     '<a b="1">x</a>', '2024-02-29 12:34:56.789012+05:30', '1999-12-31 23:59:59.999999', '2000-01-01',
     '1 year 2 mons 3 days 04:05:06.789', '23:59:59.999999', '{1,NULL,3}', '{"a b","c,d","e\"f",NULL}',
     12.34, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '192.168.1.1/24', '10.0.0.0/8', '08:00:2b:01:02:03',
     B'10101', '[1,10)', 'happy', '{sad,happy}', 7, '(1,"x y")', '(1.5,-2.25)', 'a fat cat',
     'a=>1, "b c"=>NULL', true, 'ab', 'xyz'),
    ('nan', E'tab\there\nnewline', 'NaN', NULL, 'NaN', '-Infinity', '\x', '[]', 'null', NULL, 'infinity',
     '-infinity', 'infinity', '-1 day', '00:00', '{}', '{}', -0.01, NULL, '::1', '::/0', NULL,
     B'', 'empty', 'sad', '{}', 1, '(,)', NULL, '', '', false, '', ''),
    ('inf', 'üñíçødé 😀 漢字', 'Infinity', -0.0000000001, 'Infinity', 'NaN', NULL, '"str"', '"s"', '<x/>',
     '-infinity', NULL, '-infinity', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, '(,)', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO "Mixed Case"."Table Name" ("select", n, f8)
SELECT 'bulk ' || g, g * 1.1, g / 7.0 FROM generate_series(1, 2000) g;

-- partitions, with a default partition and a sub-partitioned one
CREATE TABLE measurements (id int, city text NOT NULL, at date NOT NULL, v float8, PRIMARY KEY (id, at, city))
    PARTITION BY RANGE (at);
CREATE TABLE measurements_2023 PARTITION OF measurements FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE measurements_2024 PARTITION OF measurements FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')
    PARTITION BY LIST (city);
CREATE TABLE measurements_2024_a PARTITION OF measurements_2024 FOR VALUES IN ('a');
CREATE TABLE measurements_2024_rest PARTITION OF measurements_2024 DEFAULT;
CREATE TABLE measurements_default PARTITION OF measurements DEFAULT;
INSERT INTO measurements
SELECT g, CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END, date '2023-01-01' + (g % 900), g * 0.5
FROM generate_series(1, 3000) g;

-- no primary key, replica identity full, duplicate rows
CREATE TABLE no_pk (a int, b text);
ALTER TABLE no_pk REPLICA IDENTITY FULL;
INSERT INTO no_pk VALUES (1, 'dup'), (1, 'dup'), (1, 'dup'), (2, NULL);

-- replica identity using a unique index
CREATE TABLE uniq_ident (a int NOT NULL, b text);
CREATE UNIQUE INDEX uniq_ident_a ON uniq_ident (a);
ALTER TABLE uniq_ident REPLICA IDENTITY USING INDEX uniq_ident_a;
INSERT INTO uniq_ident SELECT g, 'v' || g FROM generate_series(1, 100) g;

-- foreign keys, including a self reference
CREATE TABLE parent (id int PRIMARY KEY, name text UNIQUE);
CREATE TABLE child (id serial PRIMARY KEY, parent_id int REFERENCES parent ON DELETE CASCADE,
                    up int REFERENCES child ON DELETE SET NULL, note text CHECK (note <> 'forbidden'));
INSERT INTO parent SELECT g, 'p' || g FROM generate_series(1, 50) g;
INSERT INTO child (parent_id, note) SELECT 1 + g % 50, 'c' || g FROM generate_series(1, 500) g;
UPDATE child SET up = id - 1 WHERE id > 1;
CREATE INDEX child_note_idx ON child (lower(note));

-- a trigger that must not fire during apply, a view, a standalone sequence
CREATE FUNCTION child_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.note := NEW.note || '!'; RETURN NEW; END $$;
CREATE TRIGGER child_touch BEFORE INSERT ON child FOR EACH ROW WHEN (NEW.note = 'touch me') EXECUTE FUNCTION child_touch();
CREATE VIEW child_view AS SELECT c.id, p.name FROM child c JOIN parent p ON p.id = c.parent_id;
CREATE SEQUENCE standalone_seq START 100 INCREMENT 5;
SELECT nextval('standalone_seq') FROM generate_series(1, 3);
CREATE SEQUENCE unused_seq;

-- a table with no columns at all, and one with only a key
CREATE TABLE no_columns ();
ALTER TABLE no_columns REPLICA IDENTITY FULL;
INSERT INTO no_columns DEFAULT VALUES;
INSERT INTO no_columns DEFAULT VALUES;
CREATE TABLE "select" ("from" int PRIMARY KEY, "where;drop" text);
INSERT INTO "select" VALUES (1, 'reserved words everywhere');

-- an unlogged table is copied too
CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY, v text);
INSERT INTO scratch VALUES (1, 'u');

-- large values stored out of line (TOAST), for UPDATEs that omit them
CREATE TABLE toasty (id int PRIMARY KEY, big text, small int, bigb bytea);
ALTER TABLE toasty ALTER COLUMN big SET STORAGE EXTERNAL;
INSERT INTO toasty SELECT g, repeat(md5(g::text), 400), g, decode(repeat(md5(g::text), 300), 'hex')
FROM generate_series(1, 20) g;

-- a primary key that is swapped inside a transaction (deferred check)
CREATE TABLE swap (id int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED, v text);
ALTER TABLE swap REPLICA IDENTITY FULL;   -- a deferrable key cannot be the identity
INSERT INTO swap VALUES (1, 'one'), (2, 'two'), (3, 'three');

-- insert-only ledger without a key: a duplicate apply would show in its count
CREATE TABLE ledger (n bigint, note text);
ALTER TABLE ledger REPLICA IDENTITY FULL;

-- a primary key and a different replica identity index
CREATE TABLE both_keys (id int PRIMARY KEY, code int NOT NULL, v text);
CREATE UNIQUE INDEX both_keys_code ON both_keys (code);
ALTER TABLE both_keys REPLICA IDENTITY USING INDEX both_keys_code;
INSERT INTO both_keys SELECT g, g * 10, 'v' || g FROM generate_series(1, 20) g;
