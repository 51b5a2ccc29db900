/*
 * decoder_tests.h
 *	  What the decoder's unit tests (test_decoder*.c) share: real wal2json
 *	  messages, and decoding with the checks every result must pass.
 *
 *	  Every message is copied into a malloc'ed buffer of exactly its length
 *	  and freed right after decoding, so AddressSanitizer catches both reads
 *	  past the end and results that point into the input.  The helpers are
 *	  static inline: each test file is its own program and uses some of them.
 */
#ifndef PGCUTOVER_DECODER_TESTS_H
#define PGCUTOVER_DECODER_TESTS_H

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
static inline bool
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

static inline bool
decode(Decoder *d, const char *json, Change *c, const char **err)
{
	return decode_n(d, json, strlen(json), c, err);
}

static inline void
must_decode(Decoder *d, const char *json, Change *c)
{
	const char *err = NULL;

	if (!decode(d, json, c, &err))
		fail_msg("unexpected failure: %s\ninput: %s", err, json);
}

static inline void
must_fail(Decoder *d, const char *json, const char *errpart)
{
	Change		c;
	const char *err = NULL;

	if (decode(d, json, &c, &err))
		fail_msg("accepted invalid input: %s", json);
	if (errpart != NULL && strstr(err, errpart) == NULL)
		fail_msg("error \"%s\" does not mention \"%s\"", err, errpart);
}

static inline void
assert_value(const ChangeColumn *col, const char *expected)
{
	assert_non_null(col->value);
	assert_int_equal(col->value_len, strlen(expected));
	assert_memory_equal(col->value, expected, col->value_len);
	assert_int_equal(col->value[col->value_len], '\0');
}

#endif							/* PGCUTOVER_DECODER_TESTS_H */
