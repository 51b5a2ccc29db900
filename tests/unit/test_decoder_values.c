/*
 * test_decoder_values.c
 *	  Unit tests for the decoder's column values: exact number text,
 *	  booleans and null, bytea's "\x", string unescaping, names passed
 *	  through, wal2json's unescaped quoted type names, and type oids.
 */
#include "decoder_tests.h"		/* cmocka, the decoder, the samples */

/* An I message for public.t with one column "v" of the given type/value. */
static char *
one_column(const char *type, unsigned oid, const char *value_json)
{
	return psprintf("{\"action\":\"I\",\"lsn\":\"0/1\",\"schema\":\"public\",\"table\":\"t\","
					"\"columns\":[{\"name\":\"v\",\"type\":\"%s\",\"typeoid\":%u,\"value\":%s}],\"pk\":[]}",
					type, oid, value_json);
}

/* Decodes one_column() and checks the value text (NULL: SQL NULL). */
static void
check_value(Decoder *d, const char *type, unsigned oid, const char *value_json,
			const char *expected)
{
	char	   *json = one_column(type, oid, value_json);
	Change		c;

	must_decode(d, json, &c);
	assert_int_equal(c.ncolumns, 1);
	assert_int_equal(c.columns[0].typeoid, oid);
	if (expected == NULL)
		assert_null(c.columns[0].value);
	else
		assert_value(&c.columns[0], expected);
	free(json);
}

static void
check_value_fails(Decoder *d, const char *value_json)
{
	char	   *json = one_column("text", 25, value_json);

	must_fail(d, json, NULL);
	free(json);
}

/* -------------------------------------------------------------------- */

static void
test_numbers_exact(void **state)
{
	Decoder    *d = decoder_create();
	char		big[1001];
	char	   *json;
	Change		c;

	(void) state;
	/* a 900-digit numeric with 100 more after the point */
	for (int i = 0; i < 900; i++)
		big[i] = '1' + (i % 9);
	big[900] = '.';
	for (int i = 901; i < 1000; i++)
		big[i] = '0' + (i % 10);
	big[1000] = '\0';
	check_value(d, "numeric", 1700, big, big);
	check_value(d, "numeric", 1700, "1e-400", "1e-400");
	check_value(d, "numeric", 1700, "1E+400", "1E+400");
	check_value(d, "double precision", 701, "-0", "-0");
	check_value(d, "numeric", 1700, "0.0", "0.0");
	check_value(d, "numeric", 1700, "-0.000", "-0.000");
	check_value(d, "double precision", 701, "1.7976931348623157e+308", "1.7976931348623157e+308");
	check_value(d, "double precision", 701, "4.9e-324", "4.9e-324");
	check_value(d, "integer", 23, "-2147483648", "-2147483648");
	check_value(d, "bigint", 20, "-9223372036854775808", "-9223372036854775808");
	check_value(d, "numeric", 1700, "-123456789012345678901234567890", "-123456789012345678901234567890");
	check_value(d, "numeric", 1700, "-1.5e-7", "-1.5e-7");
	check_value(d, "numeric", 1700, "100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
				"100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000");

	/* a number that is not JSON is refused, never guessed at */
	check_value_fails(d, "01");
	check_value_fails(d, "1.");
	check_value_fails(d, ".5");
	check_value_fails(d, "+1");
	check_value_fails(d, "-");
	check_value_fails(d, "1e");
	check_value_fails(d, "1e+");
	check_value_fails(d, "--1");
	check_value_fails(d, "0x10");
	check_value_fails(d, "NaN");
	check_value_fails(d, "Infinity");
	check_value_fails(d, "-Infinity");
	check_value_fails(d, "1.5.5");

	/* the number literal is copied, not pointed at: survives freeing input */
	json = one_column("numeric", 1700, "3.14");
	must_decode(d, json, &c);
	free(json);
	assert_value(&c.columns[0], "3.14");
	decoder_destroy(d);
}

static void
test_booleans_and_null(void **state)
{
	Decoder    *d = decoder_create();

	(void) state;
	check_value(d, "boolean", 16, "true", "true");
	check_value(d, "boolean", 16, "false", "false");
	check_value(d, "boolean", 16, "null", NULL);
	check_value(d, "text", 25, "null", NULL);
	check_value(d, "text", 25, "\"null\"", "null");
	check_value(d, "text", 25, "\"\"", "");
	/* NaN / Infinity arrive as null: the typeoid lets apply notice */
	check_value(d, "real", 700, "null", NULL);
	check_value_fails(d, "tru");
	check_value_fails(d, "True");
	check_value_fails(d, "nul");
	check_value_fails(d, "{}");
	check_value_fails(d, "[1]");
	decoder_destroy(d);
}

static void
test_bytea(void **state)
{
	Decoder    *d = decoder_create();
	Change		c;

	(void) state;
	check_value(d, "bytea", 17, "\"0102\"", "\\x0102");
	check_value(d, "bytea", 17, "\"deadbeef\"", "\\xdeadbeef");
	/* an empty bytea is '\x', not '' */
	check_value(d, "bytea", 17, "\"\"", "\\x");
	check_value(d, "bytea", 17, "null", NULL);
	/* only the type oid decides when present; a domain or text is untouched */
	check_value(d, "bytea", 25, "\"0102\"", "0102");
	check_value(d, "bytea[]", 1001, "\"{\\\"\\\\\\\\x01\\\"}\"", "{\"\\\\x01\"}");

	/* without type oids the type name decides */
	must_decode(d, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":["
				"{\"name\":\"b\",\"type\":\"bytea\",\"value\":\"00ff\"},"
				"{\"name\":\"t\",\"type\":\"text\",\"value\":\"00ff\"},"
				"{\"value\":\"00ff\",\"name\":\"r\",\"typeoid\":17}]}", &c);
	assert_value(&c.columns[0], "\\x00ff");
	assert_value(&c.columns[1], "00ff");
	/* "value" before "typeoid" */
	assert_value(&c.columns[2], "\\x00ff");
	decoder_destroy(d);
}

static void
test_string_escapes(void **state)
{
	Decoder    *d = decoder_create();

	(void) state;
	check_value(d, "text", 25, "\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"", "\" \\ / \b \f \n \r \t");
	check_value(d, "text", 25, "\"\\u0041\\u00e9\\u00E9\\u20ac\\uFFFF\"", "A\xc3\xa9\xc3\xa9\xe2\x82\xac\xef\xbf\xbf");
	/* surrogate pairs: U+1F600 and U+10FFFF, lower and upper case hex */
	check_value(d, "text", 25, "\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80");
	check_value(d, "text", 25, "\"x\\uDBFF\\uDFFFy\"", "x\xf4\x8f\xbf\xbfy");
	check_value(d, "text", 25, "\"\\u0001\\u001f\"", "\x01\x1f");
	/* raw UTF-8 and even non-UTF-8 bytes pass through untouched */
	check_value(d, "text", 25, "\"\xf0\x9f\x98\x80 \xc3\xa9\"", "\xf0\x9f\x98\x80 \xc3\xa9");
	check_value(d, "text", 25, "\"A\xff" "B\"", "A\xff" "B");

	check_value_fails(d, "\"\\x41\"");
	check_value_fails(d, "\"\\a\"");
	check_value_fails(d, "\"\\u12\"");
	check_value_fails(d, "\"\\u12G4\"");
	check_value_fails(d, "\"\\u\"");
	check_value_fails(d, "\"\\ud83d\"");
	check_value_fails(d, "\"\\ud83dx\"");
	check_value_fails(d, "\"\\ud83d\\u0041\"");
	check_value_fails(d, "\"\\ud83d\\ud83d\"");
	check_value_fails(d, "\"\\ude00\"");
	check_value_fails(d, "\"\\ude00\\ud83d\"");
	/* PostgreSQL text cannot hold NUL */
	check_value_fails(d, "\"a\\u0000b\"");
	/* raw control characters must be escaped in JSON */
	check_value_fails(d, "\"a\nb\"");
	check_value_fails(d, "\"a\tb\"");
	check_value_fails(d, "\"a\x01" "b\"");
	decoder_destroy(d);
}

static void
test_raw_nul_rejected(void **state)
{
	Decoder    *d = decoder_create();
	static const char msg[] = "{\"action\":\"M\",\"transactional\":true,\"prefix\":\"p\",\"content\":\"a\0b\"}";
	Change		c;
	const char *err;

	(void) state;
	assert_false(decode_n(d, msg, sizeof(msg) - 1, &c, &err));
	assert_non_null(strstr(err, "control character"));
	decoder_destroy(d);
}

static void
test_names_pass_through(void **state)
{
	Decoder    *d = decoder_create();
	Change		c;

	(void) state;
	must_decode(d, "{\"action\":\"I\",\"schema\":\"my \\\"sch\\\".ema;\",\"table\":\"we\\\"ird.na;me \\u00fc\","
				"\"columns\":[{\"name\":\"c ol\\\"\xc3\xa9\",\"type\":\"integer\",\"typeoid\":23,\"value\":1},"
				"{\"name\":\"\xc3\xbc\",\"type\":\"text\",\"typeoid\":25,\"value\":\"v\"},"
				"{\"name\":\"\",\"type\":\"text\",\"typeoid\":25,\"value\":\"e\"}],"
				"\"pk\":[{\"name\":\"c ol\\\"\xc3\xa9\",\"type\":\"integer\",\"typeoid\":23}]}", &c);
	assert_string_equal(c.schema, "my \"sch\".ema;");
	assert_string_equal(c.table, "we\"ird.na;me \xc3\xbc");
	assert_string_equal(c.columns[0].name, "c ol\"\xc3\xa9");
	assert_string_equal(c.columns[1].name, "\xc3\xbc");
	assert_string_equal(c.columns[2].name, "");
	assert_int_equal(c.npk, 1);
	assert_string_equal(c.pk[0], "c ol\"\xc3\xa9");
	decoder_destroy(d);
}

static void
test_quoted_type_names(void **state)
{
	Decoder    *d = decoder_create();
	Change		c;

	(void) state;
	must_decode(d, S_QUOTED_TYPES, &c);
	assert_int_equal(c.ncolumns, 5);
	assert_string_equal(c.columns[0].type, "\"Sch\".\"Mood\"");
	assert_value(&c.columns[0], "a");
	assert_string_equal(c.columns[1].type, "\"we\"\"ird\"");
	assert_int_equal(c.columns[1].typeoid, 16534);
	/* a lone quoted name is valid JSON and reads as the bare name */
	assert_string_equal(c.columns[2].type, "Mixed");
	assert_string_equal(c.columns[3].type, "\"Mixed\"[]");
	assert_string_equal(c.columns[4].type, "\"Sch\".dnum");
	assert_value(&c.columns[4], "1.5");
	assert_string_equal(c.pk[0], "id");

	/* the raw form only stretches to a type name, nothing else */
	must_fail(d, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[{\"name\":\"a\",\"type\":\"x\":1,\"value\":1}]}", NULL);
	must_fail(d, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[{\"name\":\"a\",\"type\":\"x\"{,\"value\":1}]}", NULL);
	must_fail(d, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[{\"name\":\"a\",\"type\":\"x\".\"y", NULL);
	must_fail(d, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[{\"name\":\"a\",\"type\":1,\"value\":1}]}", NULL);
	must_fail(d, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[{\"name\":\"a\",\"type\":\"x\")(,\"value\":1}]}", NULL);
	decoder_destroy(d);
}

static void
test_type_oids(void **state)
{
	Decoder    *d = decoder_create();
	Change		c;

	(void) state;
	/* wal2json prints oids with %d: an oid above 2^31 comes out negative */
	must_decode(d, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":["
				"{\"name\":\"a\",\"typeoid\":-1294967296,\"value\":1},"
				"{\"name\":\"b\",\"typeoid\":4294967295,\"value\":1},"
				"{\"name\":\"c\",\"typeoid\":0,\"value\":1}]}", &c);
	assert_int_equal(c.columns[0].typeoid, 3000000000u);
	assert_int_equal(c.columns[1].typeoid, 4294967295u);
	assert_int_equal(c.columns[2].typeoid, 0);
	must_fail(d, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[{\"name\":\"a\",\"typeoid\":4294967296,\"value\":1}]}", "out of range");
	must_fail(d, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[{\"name\":\"a\",\"typeoid\":-2147483649,\"value\":1}]}", "out of range");
	must_fail(d, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[{\"name\":\"a\",\"typeoid\":23.0,\"value\":1}]}", "integer");
	must_fail(d, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[{\"name\":\"a\",\"typeoid\":\"23\",\"value\":1}]}", NULL);
	must_fail(d, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[{\"name\":\"a\",\"typeoid\":99999999999999999999999,\"value\":1}]}", "out of range");
	decoder_destroy(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers_exact),
		cmocka_unit_test(test_booleans_and_null),
		cmocka_unit_test(test_bytea),
		cmocka_unit_test(test_string_escapes),
		cmocka_unit_test(test_raw_nul_rejected),
		cmocka_unit_test(test_names_pass_through),
		cmocka_unit_test(test_quoted_type_names),
		cmocka_unit_test(test_type_oids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
