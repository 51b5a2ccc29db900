/*
 * wal2json.c
 *	  The decoder (decoder.h): one wal2json (format-version 2) message of the
 *	  replication stream into a Change.  This file owns the Decoder and its
 *	  memory, and the message object: its keys, those each action cannot do
 *	  without, the action and the LSNs, and the one-line error naming the
 *	  byte offset.  The JSON grammar is json_parser.c's, the column objects
 *	  wal2json_columns.c's.  It knows nothing about connections, SQL or the
 *	  apply logic.
 *
 *	  Memory: every string handed out lives in one arena owned by the
 *	  Decoder, sized once per call to the message length (an unescaped value
 *	  plus its NUL never needs more bytes than its JSON token plus the
 *	  separator after it), and column arrays live in vectors reused from one
 *	  call to the next.  Both are trimmed after an unusually large message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "decode_int.h"

#define ARENA_SLACK		64
#define ARENA_MIN		4096
#define ARENA_KEEP		(1024 * 1024)	/* keep at most this much idle */
#define VEC_KEEP		2048	/* PostgreSQL allows 1600 columns */

/* Keys of the message object; order matches top_keys[]. */
enum
{
	K_ACTION, K_XID, K_TIMESTAMP, K_LSN, K_NEXTLSN, K_SCHEMA, K_TABLE,
	K_COLUMNS, K_IDENTITY, K_PK, K_TRANSACTIONAL, K_PREFIX, K_CONTENT,
	K_NKEYS
};

static const JsonKey top_keys[] = {
	JSON_KEY("action"), JSON_KEY("xid"), JSON_KEY("timestamp"), JSON_KEY("lsn"),
	JSON_KEY("nextlsn"), JSON_KEY("schema"), JSON_KEY("table"),
	JSON_KEY("columns"), JSON_KEY("identity"), JSON_KEY("pk"),
	JSON_KEY("transactional"), JSON_KEY("prefix"), JSON_KEY("content"),
	{NULL, 0}
};

static const char *const missing_msg[K_NKEYS] = {
	"missing key \"action\"", "missing key \"xid\"",
	"missing key \"timestamp\"", "missing key \"lsn\"",
	"missing key \"nextlsn\"", "missing key \"schema\"",
	"missing key \"table\"", "missing key \"columns\"",
	"missing key \"identity\"", "missing key \"pk\"",
	"missing key \"transactional\"", "missing key \"prefix\"",
	"missing key \"content\""
};

_Static_assert(sizeof(top_keys) / sizeof(top_keys[0]) == K_NKEYS + 1,
			   "top_keys[] does not match the K_ enum");
_Static_assert(K_NKEYS <= 32, "seen-key masks are 32 bits");

/* ---------------------------------------------------------------------
 * Memory
 * ---------------------------------------------------------------------
 */

Decoder *
decoder_create(void)
{
	return pg_malloc0(sizeof(Decoder));
}

void
decoder_destroy(Decoder *d)
{
	if (d == NULL)
		return;
	free(d->arena);
	free(d->columns.items);
	free(d->identity.items);
	free(d->pk);
	free(d);
}

static void
trim_vec(ColVec *v)
{
	if (v->cap > VEC_KEEP)
	{
		free(v->items);
		v->items = NULL;
		v->cap = 0;
	}
	v->n = 0;
}

/*
 * Readies the decoder for a message of len bytes: an arena big enough for
 * all its strings, emptied vectors.  Memory left over from an unusually large
 * earlier message is given back here.
 */
static bool
decoder_reset(Decoder *d, size_t len)
{
	size_t		need;

	if (len > SIZE_MAX / 2 - ARENA_SLACK)
		return false;
	need = len + ARENA_SLACK;
	if (d->arena_cap < need ||
		(d->arena_cap > ARENA_KEEP && d->arena_cap / 2 > need))
	{
		size_t		cap = need;

		if (d->arena_cap < need && d->arena_cap * 2 > cap)
			cap = d->arena_cap * 2;
		if (cap < ARENA_MIN)
			cap = ARENA_MIN;
		free(d->arena);
		d->arena_cap = 0;
		d->arena = malloc(cap);
		if (d->arena == NULL)
			return false;
		d->arena_cap = cap;
	}
	d->arena_used = 0;
	trim_vec(&d->columns);
	trim_vec(&d->identity);
	if (d->pk_cap > VEC_KEEP)
	{
		free(d->pk);
		d->pk = NULL;
		d->pk_cap = 0;
	}
	d->npk = 0;
	return true;
}

/* ---------------------------------------------------------------------
 * The message
 * ---------------------------------------------------------------------
 */

/* "X/Y", each part 1 to 8 hex digits; anything else is refused. */
static bool
lsn_value(JsonParser *P, Lsn *out)
{
	const char *s;
	size_t		n;
	size_t		start;
	size_t		slash;

	jp_skip_ws(P);
	start = P->pos;
	if (!jp_cstring_value(P, &s, &n))
		return false;
	slash = strspn(s, "0123456789abcdefABCDEF");
	if (slash < 1 || slash > 8 || s[slash] != '/' ||
		strspn(s + slash + 1, "0123456789abcdefABCDEF") != n - slash - 1 ||
		n - slash - 1 < 1 || n - slash - 1 > 8 || !lsn_parse(s, out))
		return jp_fail(P, start, "invalid LSN");
	return true;
}

static bool
action_value(JsonParser *P, ChangeAction *out)
{
	const char *s;
	size_t		n;
	size_t		start;

	jp_skip_ws(P);
	start = P->pos;
	if (!jp_cstring_value(P, &s, &n))
		return false;
	if (n != 1 || s[0] == '\0' || strchr("BCIUDTM", s[0]) == NULL)
		return jp_fail(P, start, "unknown action");
	*out = (ChangeAction) s[0];
	return true;
}

/* Parses the value of top-level key k into out. */
static bool
parse_member(JsonParser *P, int k, Change *out)
{
	int64_t		xid;

	switch (k)
	{
		case K_ACTION:
			return action_value(P, &out->action);
		case K_XID:
			if (!jp_int_value(P, 0, UINT32_MAX, true, &xid))
				return false;
			out->xid = (uint32_t) xid;
			return true;
		case K_TIMESTAMP:
			return jp_nullable_string_value(P, &out->timestamp);
		case K_LSN:
			return lsn_value(P, &out->lsn);
		case K_NEXTLSN:
			return lsn_value(P, &out->nextlsn);
		case K_SCHEMA:
			return jp_cstring_value(P, &out->schema, NULL);
		case K_TABLE:
			return jp_cstring_value(P, &out->table, NULL);
		case K_COLUMNS:
			return wal2json_parse_columns(P, &P->d->columns, true);
		case K_IDENTITY:
			return wal2json_parse_columns(P, &P->d->identity, true);
		case K_PK:
			return wal2json_parse_pk(P);
		case K_TRANSACTIONAL:
			return jp_bool_value(P, &out->transactional);
		case K_PREFIX:
			return jp_cstring_value(P, &out->prefix, NULL);
		case K_CONTENT:
			return jp_cstring_value(P, &out->content, &out->content_len);
		default:
			return jp_skip_value(P, 0);
	}
}

/* The keys each action cannot do without. */
static uint32_t
required_keys(ChangeAction action)
{
	uint32_t	rel = (1u << K_SCHEMA) | (1u << K_TABLE);

	switch (action)
	{
		case CHANGE_INSERT:
		case CHANGE_UPDATE:
			return rel | (1u << K_COLUMNS);
		case CHANGE_DELETE:
			return rel | (1u << K_IDENTITY);
		case CHANGE_TRUNCATE:
			return rel;
		case CHANGE_MESSAGE:
			return (1u << K_TRANSACTIONAL) | (1u << K_PREFIX) | (1u << K_CONTENT);
		default:
			return 0;
	}
}

static bool
parse_message(JsonParser *P, Change *out)
{
	Decoder    *d = P->d;
	bool		first = true;
	uint32_t	seen = 0;
	uint32_t	missing;
	int			k;
	int			r;

	if (!jp_expect(P, '{', "expected '{'"))
		return false;
	while ((r = jp_next_member(P, &first, top_keys, &seen, &k)) > 0)
		if (!parse_member(P, k, out))
			return false;
	if (r < 0)
		return false;
	jp_skip_ws(P);
	if (P->pos != P->len)
		return jp_fail(P, P->pos, "trailing data after the object");
	if (!(seen & (1u << K_ACTION)))
		return jp_fail(P, P->len, missing_msg[K_ACTION]);
	missing = required_keys(out->action) & ~seen;
	for (k = 0; k < K_NKEYS; k++)
		if (missing & (1u << k))
			return jp_fail(P, P->len, missing_msg[k]);

	if (seen & (1u << K_COLUMNS))
		out->columns = d->columns.items, out->ncolumns = d->columns.n;
	if (seen & (1u << K_IDENTITY))
		out->identity = d->identity.items, out->nidentity = d->identity.n;
	if (seen & (1u << K_PK))
		out->pk = d->pk, out->npk = d->npk;
	if (out->action != CHANGE_BEGIN && out->action != CHANGE_COMMIT)
		out->nextlsn = INVALID_LSN;
	return true;
}

bool
decoder_decode(Decoder *d, const char *data, size_t len, Change *out,
			   const char **errmsg)
{
	JsonParser	P;
	bool		ok = false;

	memset(out, 0, sizeof(*out));
	memset(&P, 0, sizeof(P));
	P.s = (const unsigned char *) data;
	P.len = data != NULL ? len : 0;
	P.d = d;
	*errmsg = NULL;

	if (!decoder_reset(d, P.len))
		jp_fail(&P, 0, "out of memory");
	else
		ok = parse_message(&P, out);

	if (!ok)
	{
		memset(out, 0, sizeof(*out));
		snprintf(d->errbuf, sizeof(d->errbuf),
				 "invalid wal2json message: %s at byte %zu",
				 P.err ? P.err : "unknown error", P.erroff);
		*errmsg = d->errbuf;
	}
	return ok;
}
