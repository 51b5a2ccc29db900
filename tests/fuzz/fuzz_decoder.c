/*
 * fuzz_decoder.c
 *	  libFuzzer entry point for the wal2json message decoder.
 *
 *	  Feeds arbitrary bytes to decoder_decode with one long-lived Decoder (as
 *	  in production, so state left over from one input meets the next) and
 *	  checks the invariants of what comes out: every string is NUL-terminated
 *	  at its stated length, and the arena bound is never hit.  Build with:
 *
 *	  clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *		  tests/fuzz/fuzz_decoder.c replication/decoder.c src/lsn.c src/misc.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decoder.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_columns(const ChangeColumn *cols, int n)
{
	if (n < 0 || (n > 0 && cols == NULL))
		abort();
	for (int i = 0; i < n; i++)
	{
		if (cols[i].name == NULL)
			abort();
		(void) strlen(cols[i].name);
		if (cols[i].type != NULL)
			(void) strlen(cols[i].type);
		if (cols[i].value != NULL && strlen(cols[i].value) != cols[i].value_len)
			abort();
	}
}

static void
check_change(const Change *c)
{
	if (strchr("BCIUDTM", (int) c->action) == NULL || c->action == 0)
		abort();
	check_columns(c->columns, c->ncolumns);
	check_columns(c->identity, c->nidentity);
	for (int i = 0; i < c->npk; i++)
		(void) strlen(c->pk[i]);
	if (c->timestamp != NULL)
		(void) strlen(c->timestamp);
	if (c->schema != NULL)
		(void) strlen(c->schema);
	if (c->table != NULL)
		(void) strlen(c->table);
	if (c->prefix != NULL)
		(void) strlen(c->prefix);
	if (c->content != NULL && strlen(c->content) != c->content_len)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static Decoder *d;
	Change		c;
	const char *err;

	if (d == NULL)
		d = decoder_create();
	if (decoder_decode(d, (const char *) data, size, &c, &err))
		check_change(&c);
	else if (err == NULL || strstr(err, "arena exhausted") != NULL ||
			 strchr(err, '\n') != NULL)
		abort();
	return 0;
}
