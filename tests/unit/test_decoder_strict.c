/*
 * test_decoder_strict.c
 *	  Unit tests for what the decoder tolerates and refuses: unknown keys,
 *	  missing and wrongly typed keys, LSN forms, and hostile input
 *	  (truncation, nesting, trailing data, no NUL terminator), each error
 *	  one line naming the byte offset.
 */
#include "decoder_tests.h"		/* cmocka, the decoder, the samples */

static void
test_unknown_keys_ignored(void **state)
{
	Decoder    *d = decoder_create();
	Change		c;

	(void) state;
	must_decode(d, "{\"origin\":null,\"action\":\"I\",\"future\":{\"a\":[1,2.5e3,{\"b\":null,\"c\":[true,false,\"\\u00e9\"]}],\"d\":{}},"
				"\"schema\":\"s\",\"table\":\"t\",\"extra\":[],\"columns\":[{\"name\":\"a\",\"optional\":true,\"type\":\"integer\","
				"\"typeoid\":23,\"value\":7,\"more\":{\"x\":\"y\"}}],\"pk\":[{\"name\":\"a\",\"whatever\":[]}],\"zzz\":-1}", &c);
	assert_int_equal(c.action, CHANGE_INSERT);
	assert_int_equal(c.ncolumns, 1);
	assert_value(&c.columns[0], "7");
	assert_int_equal(c.npk, 1);
	/* an escaped spelling of a known key is that key */
	must_decode(d, "{\"\\u0061ction\":\"B\",\"x\\u0069d\":5}", &c);
	assert_int_equal(c.action, CHANGE_BEGIN);
	assert_int_equal(c.xid, 5);
	/* skipped values must still be valid JSON */
	must_fail(d, "{\"action\":\"B\",\"future\":[1,]}", NULL);
	must_fail(d, "{\"action\":\"B\",\"future\":{\"a\"}}", NULL);
	must_fail(d, "{\"action\":\"B\",\"future\":{\"a\":1,}}", NULL);
	must_fail(d, "{\"action\":\"B\",\"future\":\"\\q\"}", NULL);
	must_fail(d, "{\"action\":\"B\",\"future\":{1:2}}", NULL);
	must_fail(d, "{\"action\":\"B\",\"future\":[1 2]}", NULL);
	must_fail(d, "{\"action\":\"B\",\"future\":undefined}", NULL);
	decoder_destroy(d);
}

static void
test_missing_required(void **state)
{
	Decoder    *d = decoder_create();

	(void) state;
	must_fail(d, "{}", "\"action\"");
	must_fail(d, "{\"xid\":1}", "\"action\"");
	must_fail(d, "{\"action\":\"I\",\"table\":\"t\",\"columns\":[]}", "\"schema\"");
	must_fail(d, "{\"action\":\"I\",\"schema\":\"s\",\"columns\":[]}", "\"table\"");
	must_fail(d, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\"}", "\"columns\"");
	must_fail(d, "{\"action\":\"U\",\"schema\":\"s\",\"table\":\"t\",\"identity\":[]}", "\"columns\"");
	must_fail(d, "{\"action\":\"D\",\"schema\":\"s\",\"table\":\"t\"}", "\"identity\"");
	must_fail(d, "{\"action\":\"D\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[]}", "\"identity\"");
	must_fail(d, "{\"action\":\"T\",\"schema\":\"s\"}", "\"table\"");
	must_fail(d, "{\"action\":\"M\",\"transactional\":true,\"prefix\":\"p\"}", "\"content\"");
	must_fail(d, "{\"action\":\"M\",\"content\":\"c\",\"prefix\":\"p\"}", "\"transactional\"");
	must_fail(d, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[{\"value\":1}]}", "\"name\"");
	must_fail(d, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[{\"name\":\"a\"}]}", "\"value\"");
	must_fail(d, "{\"action\":\"D\",\"schema\":\"s\",\"table\":\"t\",\"identity\":[{\"name\":\"a\",\"type\":\"integer\"}]}", "\"value\"");
	must_fail(d, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[],\"pk\":[{\"type\":\"integer\"}]}", "\"name\"");
	decoder_destroy(d);
}

static void
test_wrong_types(void **state)
{
	Decoder    *d = decoder_create();

	(void) state;
	must_fail(d, "{\"action\":\"X\"}", "unknown action");
	must_fail(d, "{\"action\":\"\"}", "unknown action");
	must_fail(d, "{\"action\":\"BB\"}", "unknown action");
	must_fail(d, "{\"action\":66}", NULL);
	must_fail(d, "{\"action\":\"B\",\"xid\":\"731\"}", NULL);
	must_fail(d, "{\"action\":\"B\",\"xid\":-1}", "out of range");
	must_fail(d, "{\"action\":\"B\",\"xid\":4294967296}", "out of range");
	must_fail(d, "{\"action\":\"B\",\"xid\":1.0}", "integer");
	must_fail(d, "{\"action\":\"B\",\"xid\":1e3}", "integer");
	must_fail(d, "{\"action\":\"B\",\"timestamp\":5}", NULL);
	must_fail(d, "{\"action\":\"I\",\"schema\":null,\"table\":\"t\",\"columns\":[]}", NULL);
	must_fail(d, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":{}}", NULL);
	must_fail(d, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[1]}", NULL);
	must_fail(d, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[{\"name\":1,\"value\":1}]}", NULL);
	must_fail(d, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[],\"pk\":[\"id\"]}", NULL);
	must_fail(d, "{\"action\":\"M\",\"transactional\":\"true\",\"prefix\":\"p\",\"content\":\"c\"}", NULL);
	must_fail(d, "{\"action\":\"M\",\"transactional\":1,\"prefix\":\"p\",\"content\":\"c\"}", NULL);
	must_fail(d, "{\"action\":\"M\",\"transactional\":true,\"prefix\":\"p\",\"content\":null}", NULL);
	/* duplicate keys are ambiguous */
	must_fail(d, "{\"action\":\"B\",\"action\":\"C\"}", "duplicate");
	must_fail(d, "{\"action\":\"B\",\"xid\":1,\"xid\":2}", "duplicate");
	must_fail(d, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[{\"name\":\"a\",\"value\":1,\"value\":2}]}", "duplicate");
	/* not an object at all */
	must_fail(d, "[]", NULL);
	must_fail(d, "\"action\"", NULL);
	must_fail(d, "null", NULL);
	decoder_destroy(d);
}

static void
test_lsn(void **state)
{
	Decoder    *d = decoder_create();
	Change		c;

	(void) state;
	must_decode(d, "{\"action\":\"B\",\"lsn\":\"16/B374D848\",\"nextlsn\":\"FFFFFFFF/FFFFFFFF\"}", &c);
	assert_true(c.lsn == 0x16B374D848ULL);
	assert_true(c.nextlsn == 0xFFFFFFFFFFFFFFFFULL);
	must_decode(d, "{\"action\":\"C\",\"lsn\":\"0/0\",\"nextlsn\":\"a/b\"}", &c);
	assert_true(c.lsn == 0);
	assert_true(c.nextlsn == 0xA0000000BULL);
	/* absent lsn is 0; nextlsn is kept for B and C only */
	must_decode(d, "{\"action\":\"T\",\"schema\":\"s\",\"table\":\"t\",\"nextlsn\":\"1/1\"}", &c);
	assert_true(c.lsn == 0);
	assert_true(c.nextlsn == 0);

	must_fail(d, "{\"action\":\"B\",\"lsn\":\"\"}", "LSN");
	must_fail(d, "{\"action\":\"B\",\"lsn\":\"0\"}", "LSN");
	must_fail(d, "{\"action\":\"B\",\"lsn\":\"0/\"}", "LSN");
	must_fail(d, "{\"action\":\"B\",\"lsn\":\"/1\"}", "LSN");
	must_fail(d, "{\"action\":\"B\",\"lsn\":\"0/1/2\"}", "LSN");
	must_fail(d, "{\"action\":\"B\",\"lsn\":\"123456789/0\"}", "LSN");
	must_fail(d, "{\"action\":\"B\",\"lsn\":\"0/123456789\"}", "LSN");
	must_fail(d, "{\"action\":\"B\",\"lsn\":\"0x1/2\"}", "LSN");
	must_fail(d, "{\"action\":\"B\",\"lsn\":\" 1/2\"}", "LSN");
	must_fail(d, "{\"action\":\"B\",\"lsn\":\"1/ 2\"}", "LSN");
	must_fail(d, "{\"action\":\"B\",\"lsn\":\"1/2 \"}", "LSN");
	must_fail(d, "{\"action\":\"B\",\"lsn\":\"-1/2\"}", "LSN");
	must_fail(d, "{\"action\":\"B\",\"lsn\":\"G/2\"}", "LSN");
	must_fail(d, "{\"action\":\"B\",\"lsn\":12}", NULL);
	must_fail(d, "{\"action\":\"B\",\"lsn\":null}", NULL);
	decoder_destroy(d);
}

/* Every strict prefix of a valid message is rejected, without overreads. */
static void
test_truncated_prefixes(void **state)
{
	Decoder    *d = decoder_create();

	(void) state;
	for (size_t s = 0; s < sizeof(samples) / sizeof(samples[0]); s++)
	{
		size_t		len = strlen(samples[s]);
		Change		c;
		const char *err;

		for (size_t n = 0; n < len; n++)
			if (decode_n(d, samples[s], n, &c, &err))
				fail_msg("prefix of %zu bytes of sample %zu accepted", n, s);
		assert_true(decode_n(d, samples[s], len, &c, &err));
	}
	decoder_destroy(d);
}

static void
test_deep_nesting(void **state)
{
	Decoder    *d = decoder_create();
	size_t		depth = 100000;
	char	   *json = malloc(depth * 6 + 64);
	char	   *p = json;
	Change		c;
	const char *err;

	(void) state;
	p += sprintf(p, "{\"action\":\"B\",\"x\":");
	memset(p, '[', depth);
	p += depth;
	memset(p, ']', depth);
	p += depth;
	*p++ = '}';
	assert_false(decode_n(d, json, p - json, &c, &err));
	assert_non_null(strstr(err, "nesting too deep"));

	/* unclosed, mixed */
	p = json + sprintf(json, "{\"action\":\"B\",\"x\":");
	for (size_t i = 0; i < depth; i++)
	{
		if (i % 2)
			*p++ = '[';
		else
			p += sprintf(p, "{\"k\":");
	}
	assert_false(decode_n(d, json, p - json, &c, &err));

	/* nesting where a column belongs is refused at once */
	must_fail(d, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]}", NULL);

	/* moderate nesting in an unknown key is fine */
	must_decode(d, "{\"action\":\"B\",\"x\":[[[[[[[[[[{\"a\":[[[[[]]]]]}]]]]]]]]]]}", &c);
	free(json);
	decoder_destroy(d);
}

static void
test_trailing_and_whitespace(void **state)
{
	Decoder    *d = decoder_create();
	Change		c;
	char	   *json;

	(void) state;
	must_fail(d, S_BEGIN "x", "trailing");
	must_fail(d, S_BEGIN "{}", "trailing");
	must_fail(d, S_BEGIN ",", "trailing");
	must_fail(d, S_BEGIN " 1", "trailing");
	json = psprintf("%s", S_BEGIN);
	{
		size_t		len = strlen(json) + 1;	/* the NUL too */
		const char *err;

		assert_false(decode_n(d, json, len, &c, &err));
		assert_non_null(strstr(err, "trailing"));
	}
	free(json);
	must_fail(d, "", "end of input");
	must_fail(d, "   ", "end of input");

	must_decode(d, " \t\r\n" S_BEGIN " \r\n\t", &c);
	assert_int_equal(c.action, CHANGE_BEGIN);
	must_decode(d, "{\n  \"action\" : \"I\" ,\n  \"schema\":\t\"s\" ,\"table\" :\"t\",\r\n"
				"  \"columns\" : [ { \"name\" : \"a\" , \"value\" : 12.5 } , { \"name\":\"b\",\"value\": \"x\" } ] ,\n"
				"  \"pk\" : [ ]\n}\n", &c);
	assert_int_equal(c.ncolumns, 2);
	assert_value(&c.columns[0], "12.5");
	assert_value(&c.columns[1], "x");
	assert_int_equal(c.npk, 0);
	/* not JSON whitespace */
	must_fail(d, "\v" S_BEGIN, NULL);
	must_fail(d, "{\"action\":\"B\"\f}", NULL);
	decoder_destroy(d);
}

static void
test_error_offsets(void **state)
{
	Decoder    *d = decoder_create();
	Change		c;
	const char *err;

	(void) state;
	assert_false(decode(d, "{\"action\":\"B\",\"xid\":x}", &c, &err));
	assert_non_null(strstr(err, "at byte 20"));
	assert_false(decode(d, "{\"action\":\"B\",\"timestamp\":\"a\\qb\"}", &c, &err));
	assert_non_null(strstr(err, "at byte 28"));
	assert_false(decode(d, "{\"action\":\"B\"", &c, &err));
	assert_non_null(strstr(err, "at byte 13"));
	/* a NULL pointer with no bytes is just an empty message */
	assert_false(decoder_decode(d, NULL, 0, &c, &err));
	assert_non_null(strstr(err, "at byte 0"));
	decoder_destroy(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_keys_ignored),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_lsn),
		cmocka_unit_test(test_truncated_prefixes),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_trailing_and_whitespace),
		cmocka_unit_test(test_error_offsets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
