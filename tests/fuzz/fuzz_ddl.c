/*
 * fuzz_ddl.c
 *	  libFuzzer entry point for captured DDL (replication/ddl.c): the input is
 *	  used both as a capture message (JSON) and as a query string to split,
 *	  match and pick statements from, as an attacker who can run DDL on the
 *	  source controls both.  Checks that every span lies inside the input
 *	  and that a picked statement is never longer than the string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ddl.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_query_string(const char *sql)
{
	static const char *const tags[] = {"ALTER TABLE", "CREATE INDEX", "CREATE TABLE AS", "SELECT INTO", "DROP TABLE"};
	DdlSpan    *spans;
	int			n = ddl_split(sql, &spans);
	size_t		len = strlen(sql);
	DdlCursor	cur = {0};

	for (int i = 0; i < n; i++)
	{
		if (spans[i].start > len || spans[i].len > len - spans[i].start || spans[i].len == 0)
			abort();
		for (size_t t = 0; t < sizeof(tags) / sizeof(tags[0]); t++)
			(void) ddl_tag_matches(sql + spans[i].start, spans[i].len, tags[t]);
	}
	free(spans);
	for (int seq = 1; seq <= 3; seq++)
	{
		DdlEvent	ev = {.command = (char *) sql, .tag = (char *) tags[seq % 5], .exec = "x", .seq = seq};
		char	   *err = NULL;
		char	   *stmt = ddl_pick_statement(&cur, &ev, &err);

		if (stmt && strlen(stmt) > len)
			abort();
		free(stmt);
		free(err);
	}
	ddl_cursor_free(&cur);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *sql = malloc(size + 1);
	DdlEvent	ev;
	char	   *err = NULL;

	memcpy(sql, data, size);
	sql[size] = '\0';
	if (ddl_event_parse((const char *) data, size, &ev, &err))
	{
		char	   *reason = NULL;
		DdlPolicy	p = {NULL, NULL, NULL};
		char	   *what = ddl_describe(&ev);

		(void) ddl_classify(&ev, &p, &reason);
		free(reason);
		free(what);
		for (int i = 0; i < ev.nobjects; i++)
		{
			char	   *parts[3];
			int			k = ddl_split_identity(ev.objects[i].identity, parts, 3);

			while (k-- > 0)
				free(parts[k]);
		}
		ddl_event_free(&ev);
	}
	free(err);
	fuzz_query_string(sql);
	free(sql);
	return 0;
}
