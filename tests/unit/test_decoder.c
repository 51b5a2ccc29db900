/*
 * test_decoder.c
 *	  Unit tests for the wal2json message decoder: every action, exact
 *	  number text, unescaping, bytea, required keys, and hostile input
 *	  (truncation, nesting, trailing data, no NUL terminator).
 *
 *	  Every message is copied into a malloc'ed buffer of exactly its length
 *	  and freed right after decoding, so AddressSanitizer catches both reads
 *	  past the end and results that point into the input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "decoder.h"
#include "options.h"

/* Real output of wal2json 2.5 on PostgreSQL 15 (see decoder.h options). */
#define S_BEGIN "{\"action\":\"B\",\"xid\":731,\"timestamp\":\"2026-11-23 13:36:49.679289+00\",\"lsn\":\"0/153EEA0\",\"nextlsn\":\"0/153EED0\"}"
#define S_COMMIT "{\"action\":\"C\",\"xid\":731,\"timestamp\":\"2026-11-23 13:36:49.679289+00\",\"lsn\":\"0/153EEA0\",\"nextlsn\":\"0/153EED0\"}"
#define S_INSERT1 "{\"action\":\"I\",\"xid\":731,\"timestamp\":\"2026-11-23 13:36:49.679289+00\",\"lsn\":\"0/153EC20\",\"schema\":\"public\",\"table\":\"t\"," \
	"\"columns\":[{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23,\"value\":1},{\"name\":\"f\",\"type\":\"double precision\",\"typeoid\":701,\"value\":null}," \
	"{\"name\":\"n\",\"type\":\"numeric\",\"typeoid\":1700,\"value\":null},{\"name\":\"b\",\"type\":\"bytea\",\"typeoid\":17,\"value\":\"0102\"}," \
	"{\"name\":\"tx\",\"type\":\"text\",\"typeoid\":25,\"value\":\"a\\\"b'c\\\\\\\\d\\ne\"},{\"name\":\"ts\",\"type\":\"timestamp with time zone\",\"typeoid\":1184,\"value\":\"infinity\"}," \
	"{\"name\":\"g\",\"type\":\"integer\",\"typeoid\":23,\"value\":2},{\"name\":\"m\",\"type\":\"money\",\"typeoid\":790,\"value\":\"$1.50\"}," \
	"{\"name\":\"arr\",\"type\":\"integer[]\",\"typeoid\":1007,\"value\":\"{1,2}\"},{\"name\":\"j\",\"type\":\"jsonb\",\"typeoid\":3802,\"value\":\"{\\\"a\\\": 1}\"}]," \
	"\"pk\":[{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23}]}"
#define S_INSERT2 "{\"action\":\"I\",\"xid\":731,\"timestamp\":\"2026-11-23 13:36:49.679289+00\",\"lsn\":\"0/153ED70\",\"schema\":\"public\",\"table\":\"t\"," \
	"\"columns\":[{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23,\"value\":2},{\"name\":\"f\",\"type\":\"double precision\",\"typeoid\":701,\"value\":1.2345678901234567}," \
	"{\"name\":\"n\",\"type\":\"numeric\",\"typeoid\":1700,\"value\":123456789012345678901234567890.123456789}],\"pk\":[{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23}]}"
#define S_UPDATE "{\"action\":\"U\",\"xid\":731,\"timestamp\":\"2026-11-23 13:36:49.679289+00\",\"lsn\":\"0/153EE20\",\"schema\":\"public\",\"table\":\"t\"," \
	"\"columns\":[{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23,\"value\":2},{\"name\":\"f\",\"type\":\"double precision\",\"typeoid\":701,\"value\":null}]," \
	"\"identity\":[{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23,\"value\":2}],\"pk\":[{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23}]}"
#define S_DELETE "{\"action\":\"D\",\"xid\":731,\"timestamp\":\"2026-11-23 13:36:49.679289+00\",\"lsn\":\"0/153EE70\",\"schema\":\"public\",\"table\":\"t\"," \
	"\"identity\":[{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23,\"value\":2}],\"pk\":[{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23}]}"
#define S_TRUNCATE "{\"action\":\"T\",\"xid\":732,\"timestamp\":\"2026-11-23 13:36:49.680805+00\",\"lsn\":\"0/153FC70\",\"schema\":\"public\",\"table\":\"t\"}"
#define S_MSG_T "{\"action\":\"M\",\"xid\":728,\"timestamp\":\"2026-11-23 13:36:47.018362+00\",\"lsn\":\"0/153EAC0\",\"transactional\":true,\"prefix\":\"pgcutover\",\"content\":\"hello\"}"
#define S_MSG_NT "{\"action\":\"M\",\"xid\":null,\"timestamp\":null,\"lsn\":\"0/153EC20\",\"transactional\":false,\"prefix\":\"pgcutover\",\"content\":\"nt\"}"

/* A U on a table with REPLICA IDENTITY USING INDEX (captured). */
#define S_UPDATE_INDEX "{\"action\":\"U\",\"xid\":767,\"timestamp\":\"2026-11-23 13:46:22.160208+00\",\"lsn\":\"0/15AFC78\",\"schema\":\"public\",\"table\":\"idx_t\"," \
	"\"columns\":[{\"name\":\"a\",\"type\":\"integer\",\"typeoid\":23,\"value\":1},{\"name\":\"b\",\"type\":\"integer\",\"typeoid\":23,\"value\":2},{\"name\":\"c\",\"type\":\"text\",\"typeoid\":25,\"value\":\"d\"}]," \
	"\"identity\":[{\"name\":\"b\",\"type\":\"integer\",\"typeoid\":23,\"value\":2}],\"pk\":[{\"name\":\"a\",\"type\":\"integer\",\"typeoid\":23}]}"

/* Quoted type names, printed by wal2json without JSON escaping (captured). */
#define S_QUOTED_TYPES "{\"action\":\"I\",\"xid\":825,\"lsn\":\"0/1690228\",\"schema\":\"public\",\"table\":\"ty\",\"columns\":[" \
	"{\"name\":\"m\",\"type\":\"Sch\".\"Mood\",\"typeoid\":16531,\"value\":\"a\"}," \
	"{\"name\":\"w\",\"type\":\"we\"\"ird\",\"typeoid\":16534,\"value\":\"b\"}," \
	"{\"name\":\"x\",\"type\":\"Mixed\",\"typeoid\":16538,\"value\":\"c\"}," \
	"{\"name\":\"xa\",\"type\":\"\\\"Mixed\\\"[]\",\"typeoid\":16537,\"value\":\"{c}\"}," \
	"{\"name\":\"dn\",\"type\":\"Sch\".dnum,\"typeoid\":16542,\"value\":\"1.5\"}]," \
	"\"pk\":[{\"name\":\"id\",\"type\":\"Sch\".\"Mood\",\"typeoid\":23}]}"

static const char *const samples[] = {
	S_BEGIN, S_COMMIT, S_INSERT1, S_INSERT2, S_UPDATE, S_DELETE, S_TRUNCATE,
	S_MSG_T, S_MSG_NT, S_UPDATE_INDEX, S_QUOTED_TYPES
};

/*
 * Decodes len bytes of json from an exactly-sized heap copy, freed before
 * returning: the Change must not point into the input.
 */
static bool
decode_n(Decoder *d, const char *json, size_t len, Change *c, const char **err)
{
	char	   *buf = malloc(len ? len : 1);
	bool		ok;

	assert_non_null(buf);
	memcpy(buf, json, len);
	ok = decoder_decode(d, buf, len, c, err);
	free(buf);
	if (ok)
		assert_null(*err);
	else
	{
		assert_non_null(*err);
		assert_non_null(strstr(*err, "at byte "));
		assert_null(strchr(*err, '\n'));
		assert_int_equal(c->action, 0);
	}
	return ok;
}

static bool
decode(Decoder *d, const char *json, Change *c, const char **err)
{
	return decode_n(d, json, strlen(json), c, err);
}

static void
must_decode(Decoder *d, const char *json, Change *c)
{
	const char *err = NULL;

	if (!decode(d, json, c, &err))
		fail_msg("unexpected failure: %s\ninput: %s", err, json);
}

static void
must_fail(Decoder *d, const char *json, const char *errpart)
{
	Change		c;
	const char *err = NULL;

	if (decode(d, json, &c, &err))
		fail_msg("accepted invalid input: %s", json);
	if (errpart != NULL && strstr(err, errpart) == NULL)
		fail_msg("error \"%s\" does not mention \"%s\"", err, errpart);
}

static const ChangeColumn *
find_col(const ChangeColumn *cols, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(cols[i].name, name) == 0)
			return &cols[i];
	fail_msg("no column %s", name);
	return NULL;
}

static void
assert_value(const ChangeColumn *col, const char *expected)
{
	assert_non_null(col->value);
	assert_int_equal(col->value_len, strlen(expected));
	assert_memory_equal(col->value, expected, col->value_len);
	assert_int_equal(col->value[col->value_len], '\0');
}

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
		cmocka_unit_test(test_numbers_exact),
		cmocka_unit_test(test_booleans_and_null),
		cmocka_unit_test(test_bytea),
		cmocka_unit_test(test_string_escapes),
		cmocka_unit_test(test_raw_nul_rejected),
		cmocka_unit_test(test_names_pass_through),
		cmocka_unit_test(test_quoted_type_names),
		cmocka_unit_test(test_type_oids),
		cmocka_unit_test(test_unknown_keys_ignored),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_lsn),
		cmocka_unit_test(test_truncated_prefixes),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_trailing_and_whitespace),
		cmocka_unit_test(test_error_offsets),
		cmocka_unit_test(test_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
