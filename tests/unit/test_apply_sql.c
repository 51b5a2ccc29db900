/*
 * test_apply_sql.c
 *	  Unit tests for the statement shapes of apply (pure: no connection).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apply_sql.h"

/* t(id int PK, name text, f float8, g bigint GENERATED, j json) */
static ColumnMeta cols[] = {
	{"id", "id", "integer", "integer", 23, false, false, false, true, false, false, NULL, false},
	{"name", "name", "text", "text", 25, false, false, false, true, false, false, NULL, false},
	{"f", "f", "double precision", "double precision", 701, false, false, true, true, false, false, NULL, false},
	{"g", "g", "bigint", "bigint", 20, true, false, false, true, false, false, NULL, false},
	{"j", "j", "json", "json", 114, false, false, false, false, false, false, NULL, false},
};
static int	key[] = {0};

static TableMeta
make_table(bool with_key)
{
	TableMeta	t = {0};

	t.schema = "public";
	t.table = "t";
	t.qualname = "public.t";
	t.relkind = 'r';
	t.cols = cols;
	t.ncols = 5;
	t.key = key;
	t.nkey = with_key ? 1 : 0;
	t.any_special = true;
	return t;
}

static ChangeColumn row1[] = {
	{"id", NULL, 23, "1", 1}, {"name", NULL, 25, "it's", 4}, {"f", NULL, 701, NULL, 0},
	{"g", NULL, 20, "2", 1}, {"j", NULL, 114, "{\"a\": 1}", 8},
};

static void
plan_ok(RowStatement *rs, const TableMeta *t, const Change *c, bool want_sql)
{
	char	   *drift = NULL;

	rs->want_sql = want_sql;
	assert_true(rowstmt_plan(rs, t, c, &drift));
	assert_null(drift);
}

static void
test_insert_skips_generated(void **state)
{
	TableMeta	t = make_table(true);
	Change		c = {.action = CHANGE_INSERT, .columns = row1, .ncolumns = 5};
	RowStatement rs;

	(void) state;
	rowstmt_init(&rs);
	plan_ok(&rs, &t, &c, true);
	assert_string_equal(rs.sql.data, "INSERT INTO public.t (id, name, f, j) VALUES ($1, $2, $3, $4)");
	assert_int_equal(rs.nparams, 4);
	assert_string_equal(rs.params[1], "it's");
	assert_null(rs.params[2]);
	assert_false(rs.expect_one_row);
	assert_true(rowstmt_batchable(&rs, &t));
	rowstmt_free(&rs);
}

static void
test_key_same_without_sql(void **state)
{
	TableMeta	tk = make_table(true);
	TableMeta	tf = make_table(false);
	Change		ins = {.action = CHANGE_INSERT, .columns = row1, .ncolumns = 5};
	Change		upd = {.action = CHANGE_UPDATE, .columns = row1, .ncolumns = 2, .identity = row1, .nidentity = 5};
	Change		del = {.action = CHANGE_DELETE, .identity = row1, .nidentity = 5};
	const Change *changes[] = {&ins, &upd, &del};
	const TableMeta *tables[] = {&tk, &tf};
	RowStatement a,
				b;

	(void) state;
	rowstmt_init(&a);
	rowstmt_init(&b);
	for (int ti = 0; ti < 2; ti++)
		for (int ci = 0; ci < 3; ci++)
		{
			plan_ok(&a, tables[ti], changes[ci], true);
			plan_ok(&b, tables[ti], changes[ci], false);
			/* the cache is keyed by the shape key: both modes must agree */
			assert_string_equal(a.key.data, b.key.data);
			assert_int_equal(a.nparams, b.nparams);
			assert_int_equal(b.sql.len, 0);
		}
	rowstmt_free(&a);
	rowstmt_free(&b);
}

static void
test_update_by_key(void **state)
{
	TableMeta	t = make_table(true);
	ChangeColumn newvals[] = {{"id", NULL, 23, "1", 1}, {"name", NULL, 25, "x", 1}};
	ChangeColumn ident[] = {{"id", NULL, 23, "1", 1}};
	Change		c = {.action = CHANGE_UPDATE, .columns = newvals, .ncolumns = 2, .identity = ident, .nidentity = 1};
	RowStatement rs;

	(void) state;
	rowstmt_init(&rs);
	plan_ok(&rs, &t, &c, true);
	assert_string_equal(rs.sql.data, "UPDATE ONLY public.t SET id = $1, name = $2 WHERE id = $3");
	assert_true(rs.expect_one_row);
	assert_true(rs.key_unchanged);
	assert_true(rowstmt_batchable(&rs, &t));
	/* a key change is not batched */
	newvals[0].value = "2";
	plan_ok(&rs, &t, &c, true);
	assert_false(rs.key_unchanged);
	assert_false(rowstmt_batchable(&rs, &t));
	rowstmt_free(&rs);
}

static void
test_full_identity_exactly_one_row(void **state)
{
	TableMeta	t = make_table(false);
	Change		c = {.action = CHANGE_DELETE, .identity = row1, .nidentity = 5};
	RowStatement rs;

	(void) state;
	rowstmt_init(&rs);
	plan_ok(&rs, &t, &c, true);
	/*
	 * NULL float may be NaN; json has no equality: compared as text; the
	 * generated g is left out (a virtual one is NULL in the old row)
	 */
	assert_string_equal(rs.sql.data,
						"DELETE FROM ONLY public.t WHERE ctid = (SELECT ctid FROM ONLY public.t WHERE "
						"id = $1 AND name = $2 AND (f IS NULL OR f::text IN ('NaN', 'Infinity', '-Infinity')) "
						"AND j::text = $3 LIMIT 1)");
	assert_int_equal(rs.nparams, 3);
	assert_false(rowstmt_batchable(&rs, &t));
	rowstmt_free(&rs);
}

/*
 * wal2json < 2.5 leaves NULL columns out of the old row of a REPLICA
 * IDENTITY FULL table (and sends [] when every column is NULL): they must
 * be matched as NULL, or another row with a value there is changed.
 */
static void
test_full_identity_nulls_left_out(void **state)
{
	TableMeta	t = make_table(false);
	ChangeColumn old[] = {{"id", NULL, 23, "1000", 4}, {"name", NULL, 25, "dup", 3}};
	Change		c = {.action = CHANGE_DELETE, .identity = old, .nidentity = 2};
	RowStatement rs;
	char	   *drift = NULL;

	(void) state;
	t.source_identity_full = true;
	rowstmt_init(&rs);
	plan_ok(&rs, &t, &c, true);
	assert_string_equal(rs.sql.data,
						"DELETE FROM ONLY public.t WHERE ctid = (SELECT ctid FROM ONLY public.t WHERE "
						"id = $1 AND name = $2 AND f IS NULL AND j IS NULL LIMIT 1)");
	/* every column NULL: an empty old row */
	c.nidentity = 0;
	c.identity = NULL;
	plan_ok(&rs, &t, &c, true);
	assert_string_equal(rs.sql.data,
						"DELETE FROM ONLY public.t WHERE ctid = (SELECT ctid FROM ONLY public.t WHERE "
						"id IS NULL AND name IS NULL AND f IS NULL AND j IS NULL LIMIT 1)");
	/* a source key (identity DEFAULT) sends only the key: no NULLs implied */
	t.source_identity_full = false;
	c.identity = old;
	c.nidentity = 2;
	plan_ok(&rs, &t, &c, true);
	assert_string_equal(rs.sql.data,
						"DELETE FROM ONLY public.t WHERE ctid = (SELECT ctid FROM ONLY public.t WHERE "
						"id = $1 AND name = $2 LIMIT 1)");
	c.nidentity = 0;
	assert_false(rowstmt_plan(&rs, &t, &c, &drift));
	assert_non_null(strstr(drift, "carries no old row"));
	free(drift);
	rowstmt_free(&rs);
}

static void
test_drift(void **state)
{
	TableMeta	t = make_table(true);
	ChangeColumn extra[] = {{"id", NULL, 23, "1", 1}, {"name", NULL, 25, "x", 1}, {"f", NULL, 701, "1", 1},
	{"j", NULL, 114, "1", 1}, {"added", NULL, 23, "5", 1}};
	ChangeColumn retyped[] = {{"id", NULL, 20, "1", 1}, {"name", NULL, 25, "x", 1}, {"f", NULL, 701, "1", 1},
	{"j", NULL, 114, "1", 1}};
	ChangeColumn missing[] = {{"id", NULL, 23, "1", 1}, {"name", NULL, 25, "x", 1}};
	Change		c = {.action = CHANGE_INSERT, .columns = extra, .ncolumns = 5};
	RowStatement rs;
	char	   *drift = NULL;

	(void) state;
	rowstmt_init(&rs);
	assert_false(rowstmt_plan(&rs, &t, &c, &drift));
	assert_non_null(strstr(drift, "column \"added\" of public.t exists on the source but not on the target"));
	free(drift);
	c.columns = retyped;
	c.ncolumns = 4;
	assert_false(rowstmt_plan(&rs, &t, &c, &drift));
	assert_non_null(strstr(drift, "is bigint on the source but integer on the target"));
	assert_non_null(strstr(drift, "ALTER TABLE public.t ALTER COLUMN id TYPE bigint"));
	free(drift);
	c.columns = missing;
	c.ncolumns = 2;
	assert_false(rowstmt_plan(&rs, &t, &c, &drift));
	assert_non_null(strstr(drift, "exists on the target but not on the source"));
	free(drift);
	rowstmt_free(&rs);
}

static void
test_batch_sql(void **state)
{
	TableMeta	t = make_table(true);
	int			colidx[] = {0, 1};
	StrBuf		sql;

	(void) state;
	strbuf_init(&sql);
	rowstmt_batch_sql(CHANGE_INSERT, colidx, 2, &t, 2, &sql);
	assert_string_equal(sql.data, "INSERT INTO public.t (id, name) VALUES ($1::integer, $2::text), ($3::integer, $4::text)");
	rowstmt_batch_sql(CHANGE_UPDATE, colidx + 1, 1, &t, 2, &sql);
	assert_string_equal(sql.data, "UPDATE ONLY public.t AS x SET name = v.p1 FROM (VALUES ($1::text, $2::integer), "
						"($3::text, $4::integer)) AS v(p1, p2) WHERE x.id = v.p2");
	rowstmt_batch_sql(CHANGE_DELETE, colidx, 0, &t, 2, &sql);
	assert_string_equal(sql.data, "DELETE FROM ONLY public.t AS x USING (VALUES ($1::integer), ($2::integer)) "
						"AS v(p1) WHERE x.id = v.p1");
	strbuf_free(&sql);
}

/* REPLICA IDENTITY FULL, PostgreSQL 18: v(a int, b int GENERATED ALWAYS AS (a * 2) VIRTUAL) */
static void
test_full_identity_virtual_generated(void **state)
{
	ColumnMeta	vcols[] = {
		{"a", "a", "integer", "integer", 23, false, false, false, true, false, false, NULL, false},
		{"b", "b", "integer", "integer", 23, true, false, false, true, false, false, NULL, false},
	};
	TableMeta	t = {.schema = "public", .table = "v", .qualname = "public.v", .relkind = 'r',
	.cols = vcols, .ncols = 2};
	/* a virtual column is not stored: the old row has it NULL */
	ChangeColumn old[] = {{"a", NULL, 23, "3", 1}, {"b", NULL, 23, NULL, 0}};
	ChangeColumn new[] = {{"a", NULL, 23, "4", 1}, {"b", NULL, 23, NULL, 0}};
	Change		c = {.action = CHANGE_UPDATE, .columns = new, .ncolumns = 2, .identity = old, .nidentity = 2};
	RowStatement rs;

	(void) state;
	rowstmt_init(&rs);
	plan_ok(&rs, &t, &c, true);
	assert_string_equal(rs.sql.data,
						"UPDATE ONLY public.v SET a = $1 WHERE ctid = (SELECT ctid FROM ONLY public.v WHERE "
						"a = $2 LIMIT 1)");
	assert_int_equal(rs.nparams, 2);
	/* only generated columns left: any row with those values is the row */
	vcols[0].generated = true;
	c.action = CHANGE_DELETE;
	plan_ok(&rs, &t, &c, true);
	assert_string_equal(rs.sql.data,
						"DELETE FROM ONLY public.v WHERE ctid = (SELECT ctid FROM ONLY public.v WHERE true LIMIT 1)");
	rowstmt_free(&rs);
}

static void
test_zero_columns(void **state)
{
	TableMeta	t = {.schema = "public", .table = "z", .qualname = "public.z", .relkind = 'r'};
	Change		ins = {.action = CHANGE_INSERT};
	Change		del = {.action = CHANGE_DELETE};
	RowStatement rs;

	(void) state;
	rowstmt_init(&rs);
	plan_ok(&rs, &t, &ins, true);
	assert_string_equal(rs.sql.data, "INSERT INTO public.z DEFAULT VALUES");
	assert_false(rowstmt_batchable(&rs, &t));
	plan_ok(&rs, &t, &del, true);
	assert_string_equal(rs.sql.data, "DELETE FROM ONLY public.z WHERE ctid = (SELECT ctid FROM ONLY public.z LIMIT 1)");
	rowstmt_free(&rs);
}

/* A leaf of a tree hashed on an enum, written through its root (partroute.h). */
static void
test_routed_through_root(void **state)
{
	TableMeta	tk = make_table(true);
	TableMeta	tf = make_table(false);
	ChangeColumn newvals[] = {{"id", NULL, 23, "1", 1}, {"name", NULL, 25, "x", 1}};
	ChangeColumn ident[] = {{"id", NULL, 23, "1", 1}};
	Change		upd = {.action = CHANGE_UPDATE, .columns = newvals, .ncolumns = 2, .identity = ident, .nidentity = 1};
	Change		del = {.action = CHANGE_DELETE, .identity = row1, .nidentity = 5};
	int			colidx[] = {0, 1};
	RowStatement rs;
	StrBuf		sql;

	(void) state;
	tk.leaf_qualname = tf.leaf_qualname = "public.t_1";
	rowstmt_init(&rs);
	strbuf_init(&sql);
	plan_ok(&rs, &tk, &upd, true);
	assert_string_equal(rs.sql.data, "UPDATE public.t SET id = $1, name = $2 WHERE id = $3");
	rowstmt_batch_sql(CHANGE_DELETE, colidx, 0, &tk, 1, &sql);
	assert_string_equal(sql.data, "DELETE FROM public.t AS x USING (VALUES ($1::integer)) AS v(p1) WHERE x.id = v.p1");
	/* without a key, one row is (tableoid, ctid): ctid alone repeats across leaves */
	plan_ok(&rs, &tf, &del, true);
	assert_string_equal(rs.sql.data,
						"DELETE FROM public.t WHERE (tableoid, ctid) = (SELECT tableoid, ctid FROM public.t WHERE "
						"id = $1 AND name = $2 AND (f IS NULL OR f::text IN ('NaN', 'Infinity', '-Infinity')) "
						"AND j::text = $3 LIMIT 1)");
	strbuf_free(&sql);
	rowstmt_free(&rs);
}

/*
 * Row classes (NaN/Infinity): k(a int, b float8, n numeric, d dom_float8,
 * g float8 GENERATED), key (a, b).
 */
static ColumnMeta kcols[] = {
	{"a", "a", "integer", "integer", 23, false, false, false, true, false, false, NULL, false},
	{"b", "b", "double precision", "double precision", 701, false, false, true, true, false, false, NULL, false},
	{"n", "n", "numeric", "numeric", 1700, false, false, true, true, false, false, NULL, false},
	{"d", "d", "dom_float8", "dom_float8", 16400, false, false, true, true, false, false, NULL, false},
	{"g", "g", "double precision", "double precision", 701, true, false, true, true, false, false, NULL, false},
};
static int	kkey[] = {0, 1};

static TableMeta
make_class_table(bool with_key)
{
	TableMeta	t = {.schema = "public", .table = "k", .qualname = "public.k", .relkind = 'r',
	.cols = kcols, .ncols = 5, .key = kkey, .nkey = with_key ? 2 : 0};

	return t;
}

static void
test_class_ambiguous(void **state)
{
	TableMeta	tk = make_class_table(true);
	TableMeta	tf = make_class_table(false);
	ChangeColumn nan_key[] = {{"a", NULL, 23, "1", 1}, {"b", NULL, 701, NULL, 0}};
	ChangeColumn finite_key[] = {{"a", NULL, 23, "1", 1}, {"b", NULL, 701, "2.5", 3},
	{"n", NULL, 1700, NULL, 0}, {"d", NULL, 16400, NULL, 0}, {"g", NULL, 701, NULL, 0}};
	ChangeColumn domain_null[] = {{"a", NULL, 23, "1", 1}, {"b", NULL, 701, "2.5", 3},
	{"n", NULL, 1700, "1", 1}, {"d", NULL, 16400, NULL, 0}, {"g", NULL, 701, NULL, 0}};

	(void) state;
	/* by key: only the key columns count */
	assert_true(rowclass_ambiguous(&tk, nan_key, 2, true));
	assert_false(rowclass_ambiguous(&tk, finite_key, 5, true));
	/* whole rows: a null numeric is ambiguous; a domain's NaN is quoted, a generated column computed */
	assert_true(rowclass_ambiguous(&tf, finite_key, 5, false));
	assert_false(rowclass_ambiguous(&tf, domain_null, 5, false));
	/* a column left out (wal2json < 2.5 leaves NULLs out) is a null */
	assert_true(rowclass_ambiguous(&tf, domain_null, 2, false));
}

static void
test_class_predicate(void **state)
{
	TableMeta	tk = make_class_table(true);
	TableMeta	tf = make_class_table(false);
	ChangeColumn nan_key[] = {{"a", NULL, 23, "1", 1}, {"b", NULL, 701, NULL, 0}};
	ChangeColumn row[] = {{"a", NULL, 23, "7", 1}, {"b", NULL, 701, "2.5", 3},
	{"n", NULL, 1700, NULL, 0}, {"d", NULL, 16400, NULL, 0}, {"g", NULL, 701, NULL, 0}};
	const char *params[16];
	int			nparams = 0;
	StrBuf		sql;

	(void) state;
	strbuf_init(&sql);
	/* a key: NOT NULL, so only the non-finite values; the literals take the column's type */
	rowclass_predicate(&sql, &tk, nan_key, 2, true, true, params, &nparams);
	assert_string_equal(sql.data, "(a = $1 AND b IN ('NaN', 'Infinity', '-Infinity'))");
	assert_int_equal(nparams, 1);
	assert_string_equal(params[0], "1");

	/* a whole row, second in an OR: parameters go on; numeric without infinities (PostgreSQL 13) */
	strbuf_reset(&sql);
	rowclass_predicate(&sql, &tf, row, 5, false, false, params, &nparams);
	assert_string_equal(sql.data, "(a = $2 AND b = $3 AND (n IS NULL OR n IN ('NaN')) AND d IS NULL)");
	assert_int_equal(nparams, 3);
	assert_string_equal(params[1], "7");
	assert_string_equal(params[2], "2.5");

	/* numeric with infinities (PostgreSQL 14 and later) */
	strbuf_reset(&sql);
	nparams = 0;
	rowclass_predicate(&sql, &tf, row, 5, false, true, params, &nparams);
	assert_string_equal(sql.data,
						"(a = $1 AND b = $2 AND (n IS NULL OR n IN ('NaN', 'Infinity', '-Infinity')) AND d IS NULL)");

	/* the source's rows: every written column as text */
	strbuf_reset(&sql);
	rowclass_select_list(&sql, &tf);
	assert_string_equal(sql.data, "SELECT a::text, b::text, n::text, d::text FROM ONLY public.k WHERE ");
	tf.relkind = 'p';
	strbuf_reset(&sql);
	rowclass_select_list(&sql, &tf);
	assert_string_equal(sql.data, "SELECT a::text, b::text, n::text, d::text FROM public.k WHERE ");
	/* a leaf written through its root (partroute.h) is read on the source as the leaf */
	tf.relkind = 'r';
	tf.leaf_qualname = "public.k_1";
	strbuf_reset(&sql);
	rowclass_select_list(&sql, &tf);
	assert_string_equal(sql.data, "SELECT a::text, b::text, n::text, d::text FROM ONLY public.k_1 WHERE ");
	strbuf_free(&sql);
}

/*
 * r(c regclass PK, v int), then the same keyless with REPLICA IDENTITY
 * FULL: regclass has no "=" of its own, an untyped value would be read as
 * an oid, so the match casts it.
 */
static void
test_regclass_match_casts(void **state)
{
	ColumnMeta	rcols[] = {
		{"c", "c", "regclass", "regclass", 2205, false, false, false, true, false, false, "regclass", false},
		{"v", "v", "integer", "integer", 23, false, false, false, true, false, false, NULL, false},
	};
	int			rkey[] = {0};
	TableMeta	t = {.schema = "public", .table = "r", .qualname = "public.r", .relkind = 'r',
	.cols = rcols, .ncols = 2, .key = rkey, .nkey = 1};
	ChangeColumn newvals[] = {{"c", NULL, 2205, "s.\"T.1\"", 8}, {"v", NULL, 23, "2", 1}};
	ChangeColumn ident[] = {{"c", NULL, 2205, "pg_class", 8}, {"v", NULL, 23, "1", 1}};
	Change		c = {.action = CHANGE_UPDATE, .columns = newvals, .ncolumns = 2, .identity = ident, .nidentity = 1};
	RowStatement rs;

	(void) state;
	rowstmt_init(&rs);
	plan_ok(&rs, &t, &c, true);
	assert_string_equal(rs.sql.data, "UPDATE ONLY public.r SET c = $1, v = $2 WHERE c = $3::regclass");
	t.nkey = 0;
	t.source_identity_full = true;
	c.nidentity = 2;
	plan_ok(&rs, &t, &c, true);
	assert_string_equal(rs.sql.data,
						"UPDATE ONLY public.r SET c = $1, v = $2 WHERE ctid = (SELECT ctid FROM ONLY public.r WHERE "
						"c = $3::regclass AND v = $4 LIMIT 1)");
	rowstmt_free(&rs);
}

/* d(m dmood PK), dmood a domain over an enum: its "=" takes no domain */
static void
test_domain_match_casts(void **state)
{
	ColumnMeta	dcols[] = {
		{"m", "m", "dmood", "public.dmood", 16500, false, false, false, true, false, false, "public.mood", true},
	};
	int			dkey[] = {0};
	TableMeta	t = {.schema = "public", .table = "d", .qualname = "public.d", .relkind = 'r',
	.cols = dcols, .ncols = 1, .key = dkey, .nkey = 1};
	ChangeColumn ident[] = {{"m", NULL, 16500, "ok", 2}};
	Change		c = {.action = CHANGE_DELETE, .identity = ident, .nidentity = 1};
	RowStatement rs;
	StrBuf		sql;

	(void) state;
	rowstmt_init(&rs);
	plan_ok(&rs, &t, &c, true);
	assert_string_equal(rs.sql.data, "DELETE FROM ONLY public.d WHERE m::public.mood = $1::public.mood");
	rowstmt_free(&rs);
	strbuf_init(&sql);
	rowstmt_batch_sql(CHANGE_DELETE, NULL, 0, &t, 2, &sql);
	assert_string_equal(sql.data, "DELETE FROM ONLY public.d AS x USING (VALUES ($1::public.dmood), ($2::public.dmood)) AS v(p1) "
						"WHERE x.m::public.mood = v.p1::public.mood");
	strbuf_free(&sql);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_skips_generated),
		cmocka_unit_test(test_key_same_without_sql),
		cmocka_unit_test(test_update_by_key),
		cmocka_unit_test(test_full_identity_exactly_one_row),
		cmocka_unit_test(test_full_identity_virtual_generated),
		cmocka_unit_test(test_full_identity_nulls_left_out),
		cmocka_unit_test(test_drift),
		cmocka_unit_test(test_batch_sql),
		cmocka_unit_test(test_zero_columns),
		cmocka_unit_test(test_routed_through_root),
		cmocka_unit_test(test_class_ambiguous),
		cmocka_unit_test(test_class_predicate),
		cmocka_unit_test(test_regclass_match_casts),
		cmocka_unit_test(test_domain_match_casts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
