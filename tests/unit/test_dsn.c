/*
 * test_dsn.c
 *	  Unit tests for DSN normalisation, description and redaction.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dsn.h"
#include "log.h"

static void
assert_redacts(const char *in, const char *expected)
{
	char	   *out = dsn_redact(in);

	assert_string_equal(out, expected);
	free(out);
}

static void
test_redact_keyword(void **state)
{
	(void) state;
	assert_redacts("host=h password=secret dbname=d", "host=h password=*** dbname=d");
	assert_redacts("password = 'se cr\\'et' user=u", "password = *** user=u");
	assert_redacts("PASSWORD=x", "PASSWORD=***");
	assert_redacts("host=h", "host=h");
	/* not a keyword: part of another word */
	assert_redacts("oldpassword=x", "oldpassword=x");
	/* inside a libpq error message */
	assert_redacts("invalid connection option \"bogus\" in \"host=h password=abc bogus\"",
				   "invalid connection option \"bogus\" in \"host=h password=*** bogus\"");
}

static void
test_redact_uri(void **state)
{
	(void) state;
	assert_redacts("postgresql://u:pw@h:5432/db", "postgresql://u:***@h:5432/db");
	assert_redacts("postgres://u@h/db", "postgres://u@h/db");
	assert_redacts("postgresql://u:p%40ss@h/db?sslmode=require", "postgresql://u:***@h/db?sslmode=require");
	assert_redacts("postgresql://h/db?user=u&password=pw&x=1", "postgresql://h/db?user=u&password=***&x=1");
	assert_redacts("using postgresql://a:b@c/d and host=x password=y",
				   "using postgresql://a:***@c/d and host=x password=***");
	/* password containing '@': the last '@' ends the user info */
	assert_redacts("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db");
}

static void
test_normalize_sqlalchemy(void **state)
{
	bool		sa;
	char	   *out;

	(void) state;
	out = dsn_normalize("postgresql+psycopg2://u:p@h:1/db", &sa);
	assert_true(sa);
	assert_string_equal(out, "postgresql://u:p@h:1/db");
	free(out);
	out = dsn_normalize("postgres+asyncpg://u@h/db?sslmode=disable", &sa);
	assert_true(sa);
	assert_string_equal(out, "postgresql://u@h/db?sslmode=disable");
	free(out);
	out = dsn_normalize("postgresql+psycopg://h/db", &sa);
	assert_true(sa);
	assert_string_equal(out, "postgresql://h/db");
	free(out);
	out = dsn_normalize("postgresql://h/db", &sa);
	assert_false(sa);
	assert_string_equal(out, "postgresql://h/db");
	free(out);
	out = dsn_normalize("host=h dbname=d", &sa);
	assert_false(sa);
	assert_string_equal(out, "host=h dbname=d");
	free(out);
	/* other schemes are left alone for libpq to reject */
	out = dsn_normalize("mysql+pymysql://h/db", &sa);
	assert_false(sa);
	free(out);
}

static void
test_password_and_describe(void **state)
{
	char	   *pw;
	char	   *desc;

	(void) state;
	pw = dsn_password("host=h password='a b' dbname=d");
	assert_non_null(pw);
	assert_string_equal(pw, "a b");
	free(pw);
	pw = dsn_password("postgresql://u:p%40ss@h/db");
	assert_string_equal(pw, "p@ss");
	free(pw);
	assert_null(dsn_password("host=h"));

	desc = dsn_describe("postgresql://u:secret@h:5433/db");
	assert_string_equal(desc, "host=h port=5433 dbname=db user=u");
	free(desc);
}

static void
test_log_redact_secret(void **state)
{
	char	   *out;

	(void) state;
	log_add_secret("p@ss");
	/* the secret is masked even where no DSN syntax surrounds it */
	out = log_redact("failed for p@ss at host=h password=p@ss");
	assert_null(strstr(out, "p@ss"));
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redact_keyword),
		cmocka_unit_test(test_redact_uri),
		cmocka_unit_test(test_normalize_sqlalchemy),
		cmocka_unit_test(test_password_and_describe),
		cmocka_unit_test(test_log_redact_secret),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
