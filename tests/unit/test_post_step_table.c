/*
 * test_post_step_table.c
 *	  Unit tests for post_step_table (src/copy/copy_post.c): which table a
 *	  post-data step of pg_dump builds on, so its index build can start as
 *	  soon as that table's data is in.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "copy.h"

/* Expects sql to name nsp.rel, or (nsp NULL) no table. */
static void
expect_table(const char *sql, const char *nsp, const char *rel)
{
	char	   *n = NULL;
	char	   *r = NULL;
	bool		found = post_step_table(sql, &n, &r);

	if (nsp == NULL)
	{
		assert_false(found);
		return;
	}
	assert_true(found);
	assert_string_equal(n, nsp);
	assert_string_equal(r, rel);
	free(n);
	free(r);
}

/* pg_dump's own shapes, with its comment header and SET lines before them. */
static void
test_pg_dump_statements(void **state)
{
	(void) state;
	expect_table("--\n-- Name: t t_pkey; Type: CONSTRAINT; Schema: public; Owner: -\n--\n\n"
				 "ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (id);\n\n",
				 "public", "t");
	expect_table("\nCREATE INDEX big_v ON public.big USING btree (v);\n", "public", "big");
	expect_table("SET default_tablespace = fast;\n\nCREATE UNIQUE INDEX u ON app.big USING btree (v);\n",
				 "app", "big");
	expect_table("SET default_table_access_method = heap;\nCREATE INDEX p_v ON ONLY public.p USING btree (v);\n",
				 "public", "p");
	expect_table("ALTER TABLE public.t\n    ADD CONSTRAINT t_x EXCLUDE USING gist (r WITH &&);\n",
				 "public", "t");
}

/* Quoted names: blanks, dots, capitals, doubled quotes, " ON " inside an index name. */
static void
test_quoted_names(void **state)
{
	(void) state;
	expect_table("ALTER TABLE ONLY \"My Schema\".\"Small One\"\n    ADD CONSTRAINT \"Small One_pkey\" PRIMARY KEY (id);\n",
				 "My Schema", "Small One");
	expect_table("CREATE INDEX \"x ON public.wrong\" ON \"a.b\".\"say \"\"hi\"\"\" USING btree (v);\n",
				 "a.b", "say \"hi\"");
	expect_table("CREATE INDEX i ON public.\"ünïcode\" USING btree (v);\n", "public", "ünïcode");
}

/* Anything else names no table: the step waits for the end of the data. */
static void
test_no_table(void **state)
{
	(void) state;
	expect_table("", NULL, NULL);
	expect_table("-- only a comment\n", NULL, NULL);
	expect_table("CREATE TRIGGER tr AFTER INSERT ON public.t FOR EACH ROW EXECUTE FUNCTION f();\n", NULL, NULL);
	expect_table("ALTER INDEX public.p_v ATTACH PARTITION public.c_v;\n", NULL, NULL);
	expect_table("CREATE INDEX i ON t USING btree (v);\n", NULL, NULL);	/* unqualified */
	expect_table("CREATE INDEX \"unterminated ON public.t\n", NULL, NULL);
	expect_table("ALTER TABLE ONLY public.\n", NULL, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pg_dump_statements),
		cmocka_unit_test(test_quoted_names),
		cmocka_unit_test(test_no_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
