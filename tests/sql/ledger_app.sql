-- tests/sql/ledger_app.sql: a ledger every writer appends to (its kind and
-- the time), and an application role "app_rw" (password :'pw') that may
-- write it but owns nothing, as applications usually connect.
CREATE TABLE ledger (id bigserial PRIMARY KEY, kind text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE ROLE app_rw LOGIN PASSWORD :'pw';
GRANT INSERT, SELECT ON ledger TO app_rw;
GRANT USAGE ON SEQUENCE ledger_id_seq TO app_rw;
