/*
 * test_decoder.c
 *	  Unit tests for the wal2json message decoder: every action as wal2json
 *	  2.5 prints it (begin, commit, insert, update, delete, truncate,
 *	  message), and one decoder reused over messages of very different sizes.
 *	  Column values are test_decoder_values.c's, what the decoder refuses
 *	  test_decoder_strict.c's.
 */
#include "decoder_tests.h"		/* cmocka, the decoder, the samples */

static const ChangeColumn *
find_col(const ChangeColumn *cols, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(cols[i].name, name) == 0)
			return &cols[i];
	fail_msg("no column %s", name);
	return NULL;
}

/* -------------------------------------------------------------------- */

static void
test_begin_commit(void **state)
{
	Decoder    *d = decoder_create();
	Change		c;

	(void) state;
	must_decode(d, S_BEGIN, &c);
	assert_int_equal(c.action, CHANGE_BEGIN);
	assert_int_equal(c.xid, 731);
	assert_true(c.lsn == 0x153EEA0);
	assert_true(c.nextlsn == 0x153EED0);
	assert_string_equal(c.timestamp, "2026-11-23 13:36:49.679289+00");
	assert_null(c.schema);
	assert_null(c.columns);
	assert_int_equal(c.ncolumns, 0);

	must_decode(d, S_COMMIT, &c);
	assert_int_equal(c.action, CHANGE_COMMIT);
	assert_int_equal(c.xid, 731);
	assert_true(c.lsn == 0x153EEA0);
	assert_true(c.nextlsn == 0x153EED0);
	decoder_destroy(d);
}

static void
test_insert_sample(void **state)
{
	Decoder    *d = decoder_create();
	Change		c;
	const ChangeColumn *col;

	(void) state;
	must_decode(d, S_INSERT1, &c);
	assert_int_equal(c.action, CHANGE_INSERT);
	assert_int_equal(c.xid, 731);
	assert_true(c.lsn == 0x153EC20);
	assert_true(c.nextlsn == 0);
	assert_string_equal(c.schema, "public");
	assert_string_equal(c.table, "t");
	assert_int_equal(c.ncolumns, 10);
	assert_null(c.identity);
	assert_int_equal(c.nidentity, 0);
	assert_int_equal(c.npk, 1);
	assert_string_equal(c.pk[0], "id");

	col = &c.columns[0];
	assert_string_equal(col->name, "id");
	assert_string_equal(col->type, "integer");
	assert_int_equal(col->typeoid, 23);
	assert_value(col, "1");
	col = find_col(c.columns, c.ncolumns, "f");
	assert_null(col->value);
	assert_int_equal(col->typeoid, 701);
	assert_string_equal(col->type, "double precision");
	col = find_col(c.columns, c.ncolumns, "n");
	assert_null(col->value);
	assert_int_equal(col->typeoid, 1700);
	assert_value(find_col(c.columns, c.ncolumns, "b"), "\\x0102");
	assert_value(find_col(c.columns, c.ncolumns, "tx"), "a\"b'c\\\\d\ne");
	assert_value(find_col(c.columns, c.ncolumns, "ts"), "infinity");
	assert_value(find_col(c.columns, c.ncolumns, "g"), "2");
	assert_value(find_col(c.columns, c.ncolumns, "m"), "$1.50");
	assert_value(find_col(c.columns, c.ncolumns, "arr"), "{1,2}");
	assert_value(find_col(c.columns, c.ncolumns, "j"), "{\"a\": 1}");
	assert_string_equal(c.columns[9].name, "j");
	decoder_destroy(d);
}

static void
test_insert_exact_numbers(void **state)
{
	Decoder    *d = decoder_create();
	Change		c;

	(void) state;
	must_decode(d, S_INSERT2, &c);
	assert_int_equal(c.ncolumns, 3);
	assert_value(&c.columns[0], "2");
	assert_value(&c.columns[1], "1.2345678901234567");
	assert_value(&c.columns[2], "123456789012345678901234567890.123456789");
	decoder_destroy(d);
}

static void
test_update(void **state)
{
	Decoder    *d = decoder_create();
	Change		c;

	(void) state;
	must_decode(d, S_UPDATE, &c);
	assert_int_equal(c.action, CHANGE_UPDATE);
	assert_true(c.lsn == 0x153EE20);
	assert_int_equal(c.ncolumns, 2);
	assert_value(&c.columns[0], "2");
	assert_null(c.columns[1].value);
	assert_int_equal(c.nidentity, 1);
	assert_string_equal(c.identity[0].name, "id");
	assert_value(&c.identity[0], "2");
	assert_int_equal(c.npk, 1);

	/* REPLICA IDENTITY USING INDEX: identity differs from pk */
	must_decode(d, S_UPDATE_INDEX, &c);
	assert_int_equal(c.ncolumns, 3);
	assert_int_equal(c.nidentity, 1);
	assert_string_equal(c.identity[0].name, "b");
	assert_string_equal(c.pk[0], "a");

	/* identity is optional for U; an unchanged TOAST column is just absent */
	must_decode(d, "{\"action\":\"U\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[{\"name\":\"id\",\"value\":1}]}", &c);
	assert_int_equal(c.action, CHANGE_UPDATE);
	assert_null(c.identity);
	assert_int_equal(c.nidentity, 0);
	assert_int_equal(c.ncolumns, 1);
	assert_null(c.columns[0].type);
	assert_int_equal(c.columns[0].typeoid, 0);
	assert_null(c.pk);
	assert_int_equal(c.npk, 0);
	decoder_destroy(d);
}

static void
test_delete(void **state)
{
	Decoder    *d = decoder_create();
	Change		c;

	(void) state;
	must_decode(d, S_DELETE, &c);
	assert_int_equal(c.action, CHANGE_DELETE);
	assert_string_equal(c.schema, "public");
	assert_string_equal(c.table, "t");
	assert_null(c.columns);
	assert_int_equal(c.ncolumns, 0);
	assert_int_equal(c.nidentity, 1);
	assert_value(&c.identity[0], "2");

	/* REPLICA IDENTITY FULL: the whole old row, bytea prefixed too */
	must_decode(d, "{\"action\":\"D\",\"schema\":\"public\",\"table\":\"full_t\",\"identity\":["
				"{\"name\":\"a\",\"type\":\"integer\",\"typeoid\":23,\"value\":1},"
				"{\"name\":\"b\",\"type\":\"text\",\"typeoid\":25,\"value\":null},"
				"{\"name\":\"c\",\"type\":\"bytea\",\"typeoid\":17,\"value\":\"ff\"}],\"pk\":[]}", &c);
	assert_int_equal(c.nidentity, 3);
	assert_null(c.identity[1].value);
	assert_value(&c.identity[2], "\\xff");
	assert_int_equal(c.npk, 0);
	decoder_destroy(d);
}

static void
test_truncate(void **state)
{
	Decoder    *d = decoder_create();
	Change		c;

	(void) state;
	must_decode(d, S_TRUNCATE, &c);
	assert_int_equal(c.action, CHANGE_TRUNCATE);
	assert_int_equal(c.xid, 732);
	assert_true(c.lsn == 0x153FC70);
	assert_string_equal(c.schema, "public");
	assert_string_equal(c.table, "t");
	assert_int_equal(c.ncolumns, 0);

	/* several tables in one TRUNCATE share the lsn */
	must_decode(d, "{\"action\":\"T\",\"xid\":777,\"timestamp\":\"2026-11-23 13:46:22.165144+00\","
				"\"lsn\":\"0/15B1A70\",\"schema\":\"public\",\"table\":\"full_t\"}", &c);
	assert_string_equal(c.table, "full_t");
	assert_true(c.lsn == 0x15B1A70);
	decoder_destroy(d);
}

static void
test_message(void **state)
{
	Decoder    *d = decoder_create();
	Change		c;

	(void) state;
	must_decode(d, S_MSG_T, &c);
	assert_int_equal(c.action, CHANGE_MESSAGE);
	assert_int_equal(c.xid, 728);
	assert_true(c.transactional);
	assert_string_equal(c.prefix, "pgcutover");
	assert_string_equal(c.content, "hello");
	assert_int_equal(c.content_len, 5);
	assert_true(c.lsn == 0x153EAC0);

	must_decode(d, S_MSG_NT, &c);
	assert_int_equal(c.xid, 0);
	assert_null(c.timestamp);
	assert_false(c.transactional);
	assert_string_equal(c.content, "nt");
	assert_int_equal(c.content_len, 2);

	/* unicode, escaped and raw, and an empty content */
	must_decode(d, "{\"action\":\"M\",\"xid\":1,\"transactional\":true,\"prefix\":\"p\\u00e9\","
				"\"content\":\"caf\\u00e9 \xc3\xa9 \\ud83d\\ude00\\u20ac\\\"\\n\"}", &c);
	assert_string_equal(c.prefix, "p\xc3\xa9");
	assert_string_equal(c.content, "caf\xc3\xa9 \xc3\xa9 \xf0\x9f\x98\x80\xe2\x82\xac\"\n");
	assert_int_equal(c.content_len, strlen(c.content));
	must_decode(d, "{\"action\":\"M\",\"transactional\":false,\"prefix\":\"\",\"content\":\"\"}", &c);
	assert_string_equal(c.content, "");
	assert_int_equal(c.content_len, 0);
	decoder_destroy(d);
}

/* One decoder, many messages of very different sizes, errors in between. */
static void
test_reuse(void **state)
{
	Decoder    *d = decoder_create();
	size_t		biglen = 3 * 1024 * 1024;
	char	   *content = malloc(biglen + 1);
	char	   *wide;
	char	   *json;
	char	   *p;
	Change		c;

	(void) state;
	memset(content, 'z', biglen);
	content[biglen] = '\0';
	json = psprintf("{\"action\":\"M\",\"transactional\":true,\"prefix\":\"p\",\"content\":\"%s\"}", content);

	/* a 1600-column row */
	wide = malloc(1600 * 64 + 128);
	p = wide + sprintf(wide, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[");
	for (int i = 0; i < 1600; i++)
		p += sprintf(p, "%s{\"name\":\"c%d\",\"typeoid\":23,\"value\":%d}", i ? "," : "", i, i);
	sprintf(p, "]}");

	for (int round = 0; round < 3; round++)
	{
		for (size_t s = 0; s < sizeof(samples) / sizeof(samples[0]); s++)
			must_decode(d, samples[s], &c);
		must_decode(d, json, &c);
		assert_int_equal(c.content_len, biglen);
		assert_memory_equal(c.content, content, biglen);
		must_fail(d, "{\"action\":", NULL);
		must_decode(d, wide, &c);
		assert_int_equal(c.ncolumns, 1600);
		assert_string_equal(c.columns[1599].name, "c1599");
		assert_value(&c.columns[1234], "1234");
		must_decode(d, S_INSERT1, &c);
		assert_int_equal(c.ncolumns, 10);
		assert_value(&c.columns[3], "\\x0102");
		must_decode(d, S_DELETE, &c);
		assert_null(c.columns);
		assert_int_equal(c.nidentity, 1);
	}
	for (int i = 0; i < 10000; i++)
	{
		must_decode(d, (i % 2) ? S_INSERT2 : S_UPDATE, &c);
		assert_value(&c.columns[0], "2");
	}
	free(wide);
	free(json);
	free(content);
	decoder_destroy(d);
	decoder_destroy(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_begin_commit),
		cmocka_unit_test(test_insert_sample),
		cmocka_unit_test(test_insert_exact_numbers),
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
