/*
 * test_ddl.c
 *	  Unit tests for captured DDL: message parsing, statement splitting,
 *	  tag matching, picking the statement of a multi-statement string, and
 *	  the apply/skip/stop policy.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ddl.h"

/* The statements of sql, each as its own string, joined by '|'. */
static char *
split_joined(const char *sql)
{
	DdlSpan    *spans;
	int			n = ddl_split(sql, &spans);
	size_t		len = strlen(sql) + n + 1;
	char	   *out = calloc(1, len);

	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			strcat(out, "|");
		strncat(out, sql + spans[i].start, spans[i].len);
	}
	free(spans);
	return out;
}

static void
expect_split(const char *sql, const char *joined)
{
	char	   *got = split_joined(sql);

	assert_string_equal(got, joined);
	free(got);
}

static void
test_split(void **state)
{
	(void) state;
	expect_split("ALTER TABLE a ADD b int", "ALTER TABLE a ADD b int");
	expect_split("  BEGIN; ALTER TABLE a ADD b int ;; INSERT INTO a VALUES (1);COMMIT;  ",
				 "BEGIN|ALTER TABLE a ADD b int|INSERT INTO a VALUES (1)|COMMIT");
	/* semicolons inside strings, identifiers, dollar quotes and comments */
	expect_split("INSERT INTO t VALUES ('a;b', E'c\\';d'); SELECT 1",
				 "INSERT INTO t VALUES ('a;b', E'c\\';d')|SELECT 1");
	expect_split("CREATE TABLE \"x;y\"\"z\" (i int); -- a; comment\nSELECT 2",
				 "CREATE TABLE \"x;y\"\"z\" (i int)|SELECT 2");
	expect_split("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $fn$ BEGIN RETURN 1; END $fn$; SELECT 3",
				 "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $fn$ BEGIN RETURN 1; END $fn$|SELECT 3");
	expect_split("SELECT $1; /* nested /* ; */ ; */ SELECT 4", "SELECT $1|SELECT 4");
	/* SQL-standard function bodies keep their semicolons */
	expect_split("CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END; DROP TABLE t",
				 "CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END|DROP TABLE t");
	expect_split(" ; -- only a comment\n", "");
	/* an unterminated string does not run past the end */
	expect_split("SELECT 'abc", "SELECT 'abc");
}

static bool
matches(const char *stmt, const char *tag)
{
	return ddl_tag_matches(stmt, strlen(stmt), tag);
}

static void
test_tag_matches(void **state)
{
	(void) state;
	assert_true(matches("alter table a add column b int", "ALTER TABLE"));
	assert_true(matches("ALTER TABLE IF EXISTS ONLY a DROP b", "ALTER TABLE"));
	assert_true(matches("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON a (b)", "CREATE INDEX"));
	assert_true(matches("create or replace function f() returns int as 'select 1' language sql", "CREATE FUNCTION"));
	assert_true(matches("CREATE UNLOGGED TABLE t (i int)", "CREATE TABLE"));
	assert_true(matches("CREATE TABLE t AS SELECT 1", "CREATE TABLE AS"));
	assert_true(matches("SELECT * INTO t2 FROM t", "SELECT INTO"));
	assert_true(matches("COMMENT ON TABLE t IS 'x'", "COMMENT"));
	assert_true(matches("/* hi */ DROP TABLE t", "DROP TABLE"));
	assert_false(matches("INSERT INTO t VALUES (1)", "ALTER TABLE"));
	assert_false(matches("DO $$ BEGIN EXECUTE 'ALTER TABLE t ADD c int'; END $$", "ALTER TABLE"));
	assert_false(matches("ALTER INDEX i RENAME TO j", "ALTER TABLE"));
	assert_false(matches("CREATE TABLE \"TABLE\" (i int)", "CREATE INDEX"));
	assert_false(matches("SELECT 1", "SELECT INTO"));
}

static void
make_event(DdlEvent *ev, const char *command, const char *tag, const char *exec, int seq)
{
	memset(ev, 0, sizeof(*ev));
	ev->command = (char *) command;
	ev->tag = (char *) tag;
	ev->exec = (char *) exec;
	ev->seq = seq;
}

static void
test_pick_statement(void **state)
{
	DdlCursor	cur = {0};
	DdlEvent	ev;
	char	   *err;
	char	   *s;
	const char *multi = "BEGIN; INSERT INTO a VALUES (1); ALTER TABLE a ADD b int; INSERT INTO a VALUES (2, 2); "
		"CREATE INDEX CONCURRENTLY i ON a (b); ALTER TABLE a ADD c int; COMMIT";

	(void) state;
	make_event(&ev, "ALTER TABLE a ADD b int;", "ALTER TABLE", "1/t", 1);
	s = ddl_pick_statement(&cur, &ev, &err);
	assert_string_equal(s, "ALTER TABLE a ADD b int");
	free(s);

	/* the first, second and third DDL of one query string */
	make_event(&ev, multi, "ALTER TABLE", "2/t", 1);
	s = ddl_pick_statement(&cur, &ev, &err);
	assert_string_equal(s, "ALTER TABLE a ADD b int");
	free(s);
	make_event(&ev, multi, "CREATE INDEX", "2/t", 2);
	s = ddl_pick_statement(&cur, &ev, &err);
	assert_string_equal(s, "CREATE INDEX              i ON a (b)");	/* not in a transaction block */
	free(s);
	make_event(&ev, multi, "ALTER TABLE", "2/t", 3);
	s = ddl_pick_statement(&cur, &ev, &err);
	assert_string_equal(s, "ALTER TABLE a ADD c int");
	free(s);

	/* a restart in the middle of that string: cannot tell, stop */
	ddl_cursor_free(&cur);
	make_event(&ev, multi, "ALTER TABLE", "2/t", 3);
	assert_null(ddl_pick_statement(&cur, &ev, &err));
	assert_non_null(strstr(err, "in the middle"));
	free(err);

	/* DDL from a DO block: the string has no such statement */
	make_event(&ev, "DO $$ BEGIN EXECUTE 'ALTER TABLE a ADD d int'; INSERT INTO a VALUES (3); END $$",
			   "ALTER TABLE", "3/t", 1);
	assert_null(ddl_pick_statement(&cur, &ev, &err));
	assert_non_null(strstr(err, "DO block"));
	free(err);
	ddl_cursor_free(&cur);
}

static DdlObject *
one_object(DdlEvent *ev, const char *type, const char *identity, const char *parent, bool dropped)
{
	static DdlObject o;

	o.type = (char *) type;
	o.schema = "public";
	o.identity = (char *) identity;
	o.parent = (char *) parent;
	o.dropped = dropped;
	ev->objects = &o;
	ev->nobjects = 1;
	return &o;
}

/* The statement is the one that names the event's object, not the first with its tag. */
static void
test_pick_by_object(void **state)
{
	DdlCursor	cur = {0};
	DdlEvent	ev;
	char	   *err;
	char	   *s;

	(void) state;
	/* a no-op DROP before the real one (the no-op emits nothing) */
	make_event(&ev, "DROP TABLE IF EXISTS gone; DROP TABLE old", "DROP TABLE", "1/t", 1);
	one_object(&ev, "table", "public.old", NULL, true);
	s = ddl_pick_statement(&cur, &ev, &err);
	assert_string_equal(s, "DROP TABLE old");
	free(s);

	/* a rolled-back CREATE before it */
	make_event(&ev, "BEGIN; CREATE TABLE a (i int); ROLLBACK; CREATE TABLE b (i int)", "CREATE TABLE", "2/t", 1);
	one_object(&ev, "table", "public.b", NULL, false);
	s = ddl_pick_statement(&cur, &ev, &err);
	assert_string_equal(s, "CREATE TABLE b (i int)");
	free(s);

	/* DDL from a DO block, and a statement of the same kind after it */
	make_event(&ev, "DO $$ BEGIN CREATE TABLE x (i int); END $$; CREATE TABLE y (i int)", "CREATE TABLE", "3/t", 1);
	one_object(&ev, "table", "public.x", NULL, false);
	assert_null(ddl_pick_statement(&cur, &ev, &err));
	assert_non_null(strstr(err, "DO block"));
	free(err);

	/* an index with a generated name: found by its table */
	make_event(&ev, "INSERT INTO a VALUES (1); CREATE INDEX ON \"A b\" (v)", "CREATE INDEX", "4/t", 1);
	one_object(&ev, "index", "public.\"A b_v_idx\"", "A b", false);
	s = ddl_pick_statement(&cur, &ev, &err);
	assert_string_equal(s, "CREATE INDEX ON \"A b\" (v)");
	free(s);

	/* two of a kind on one table and a ROLLBACK between: cannot be told */
	make_event(&ev, "BEGIN; ALTER TABLE a ADD x int; ROLLBACK; ALTER TABLE a ADD y int", "ALTER TABLE", "5/t", 1);
	one_object(&ev, "table", "public.a", NULL, false);
	assert_null(ddl_pick_statement(&cur, &ev, &err));
	assert_non_null(strstr(err, "rolls part of itself back"));
	free(err);

	/* a constraint: "name on table" */
	make_event(&ev, "ALTER TABLE t ADD CONSTRAINT c CHECK (v > 0)", "ALTER TABLE", "6/t", 1);
	one_object(&ev, "table constraint", "c on public.t", "t", false);
	s = ddl_pick_statement(&cur, &ev, &err);
	assert_non_null(s);
	free(s);
	ddl_cursor_free(&cur);
}

static void
test_parse_event(void **state)
{
	const char *json = "{\"command\" : \"ALTER TABLE a ADD ts timestamptz DEFAULT now()\", \"tag\" : \"ALTER TABLE\", "
		"\"exec\" : \"9/x\", \"seq\" : 1, \"search_path\" : \"\\\"$user\\\", public\", \"role\" : \"app\", "
		"\"objects\" : [{\"type\" : \"table\", \"schema\" : \"public\", \"identity\" : \"public.a\", \"in_extension\" : false}], "
		"\"dropped\" : [{\"type\" : \"index\", \"schema\" : \"public\", \"identity\" : \"public.i\"}], "
		"\"rewrites\" : [{\"table\": \"public.a\", \"reason\": 4}], "
		"\"new_missing\" : [{\"schema\" : \"public\", \"table\" : \"a\", \"column\" : \"ts\", \"value\" : \"{\\\"2026-11-23 16:17:27+00\\\"}\"}]}";
	DdlEvent	ev;
	char	   *err;

	(void) state;
	assert_true(ddl_event_parse(json, strlen(json), &ev, &err));
	assert_string_equal(ev.tag, "ALTER TABLE");
	assert_string_equal(ev.search_path, "\"$user\", public");
	assert_int_equal(ev.seq, 1);
	assert_int_equal(ev.nobjects, 2);
	assert_true(ev.objects[1].dropped);
	assert_int_equal(ev.rewrite_reasons, 4);
	assert_null(ev.rewritten);	/* a type change rewrites deterministically */
	assert_int_equal(ev.nmissing, 1);
	assert_string_equal(ev.missing[0].value, "{\"2026-11-23 16:17:27+00\"}");
	ddl_event_free(&ev);

	assert_false(ddl_event_parse("{\"tag\": \"X\"}", 13, &ev, &err));
	free(err);
	assert_false(ddl_event_parse("[1,", 3, &ev, &err));
	free(err);
}

static bool
only_public(void *arg, const char *schema, const char *table)
{
	(void) arg;
	return strcmp(schema, "public") == 0 && (table == NULL || strcmp(table, "secret") != 0);
}

static DdlVerdict
classify(const char *json, const regex_t *exclude, char **reason)
{
	DdlEvent	ev;
	char	   *err;
	DdlPolicy	p = {exclude, only_public, NULL};
	DdlVerdict	v;

	assert_true(ddl_event_parse(json, strlen(json), &ev, &err));
	v = ddl_classify(&ev, &p, reason);
	ddl_event_free(&ev);
	return v;
}

#define EV(tag, objs, extra) "{\"command\":\"x\",\"tag\":\"" tag "\",\"exec\":\"e\",\"seq\":1,\"search_path\":\"public\",\"objects\":[" objs "]" extra "}"
#define OBJ(type, schema, ident) "{\"type\":\"" type "\",\"schema\":\"" schema "\",\"identity\":\"" ident "\"}"

static void
test_classify(void **state)
{
	char	   *reason;
	regex_t		re;

	(void) state;
	assert_int_equal(classify(EV("ALTER TABLE", OBJ("table", "public", "public.a"), ""), NULL, &reason), DDL_APPLY);
	assert_int_equal(classify(EV("CREATE FUNCTION", OBJ("function", "pgcutover", "pgcutover.f()"), ""), NULL, &reason), DDL_SKIP);
	free(reason);
	/* the switchover's fence on the old source is never replayed on the new primary */
	assert_int_equal(classify(EV("CREATE SCHEMA", OBJ("schema", "", "pgcutover_fence"), ""), NULL, &reason), DDL_SKIP);
	free(reason);
	assert_int_equal(classify(EV("CREATE FUNCTION", OBJ("function", "pgcutover_fence", "pgcutover_fence.refuse_write()"), ""),
							  NULL, &reason), DDL_SKIP);
	free(reason);
	assert_int_equal(classify(EV("CREATE TRIGGER", OBJ("trigger", "public", "pgcutover_fence on public.a"), ""),
							  NULL, &reason), DDL_SKIP);
	free(reason);
	assert_int_equal(classify(EV("DROP SCHEMA", OBJ("schema", "", "pgcutover_fence") "," OBJ("function", "pgcutover_fence", "pgcutover_fence.refuse_write()")
								 "," OBJ("trigger", "public", "pgcutover_fence on public.a"), ""), NULL, &reason), DDL_SKIP);
	free(reason);
	/* a user's trigger of another name is replayed */
	assert_int_equal(classify(EV("CREATE TRIGGER", OBJ("trigger", "public", "audit on public.a"), ""), NULL, &reason), DDL_APPLY);
	assert_int_equal(classify(EV("ALTER TABLE", OBJ("table", "public", "public.secret"), ""), NULL, &reason), DDL_STOP);
	assert_non_null(strstr(reason, "outside the migrated set"));
	free(reason);
	assert_int_equal(classify(EV("CREATE INDEX", OBJ("index", "audit", "audit.i"), ""), NULL, &reason), DDL_STOP);
	free(reason);
	assert_int_equal(classify(EV("GRANT", "", ""), NULL, &reason), DDL_SKIP);
	free(reason);
	assert_int_equal(classify(EV("ALTER EXTENSION", OBJ("extension", "", "hstore"), ""), NULL, &reason), DDL_STOP);
	free(reason);
	assert_int_equal(classify(EV("ALTER TABLE", OBJ("table", "public", "public.a"),
								 ",\"rewrites\":[{\"table\":\"public.a\",\"reason\":2}]"), NULL, &reason), DDL_STOP);
	assert_non_null(strstr(reason, "volatile default"));
	free(reason);
	assert_int_equal(classify("{\"command\":\"x\",\"tag\":\"ALTER TABLE\",\"error\":\"boom\"}", NULL, &reason), DDL_STOP);
	assert_non_null(strstr(reason, "boom"));
	free(reason);

	assert_int_equal(regcomp(&re, "^audit\\.", REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(classify(EV("CREATE INDEX", OBJ("index", "audit", "audit.i"), ""), &re, &reason), DDL_SKIP);
	free(reason);
	assert_int_equal(classify(EV("CREATE INDEX", OBJ("index", "audit", "audit.i") "," OBJ("table", "public", "public.a"), ""),
							  &re, &reason), DDL_STOP);
	free(reason);
	regfree(&re);
}

static void
test_split_identity(void **state)
{
	char	   *parts[3];
	int			n;

	(void) state;
	n = ddl_split_identity("\"My \"\"Schema\"\".x\".\"Tbl\".col", parts, 3);
	assert_int_equal(n, 3);
	assert_string_equal(parts[0], "My \"Schema\".x");
	assert_string_equal(parts[1], "Tbl");
	assert_string_equal(parts[2], "col");
	for (int i = 0; i < n; i++)
		free(parts[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_tag_matches),
		cmocka_unit_test(test_pick_statement),
		cmocka_unit_test(test_pick_by_object),
		cmocka_unit_test(test_parse_event),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_split_identity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
