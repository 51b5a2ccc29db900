/*
 * decoder.h
 *	  Decoding of one wal2json (format-version 2) message into a Change
 *	  (change.h).
 *
 *	  The decoder owns the strict JSON parsing of the replication stream's
 *	  payload and nothing else: no libpq, no I/O, no globals.  Values are
 *	  handed out as the exact text of the JSON (numbers are never converted),
 *	  strings unescaped, bytea given its "\x" prefix when wal2json named the
 *	  type (2.5 and later; before, apply's ByteaFix adds it from the target's
 *	  column type, apply_sql.h), JSON null as NULL.  All
 *	  memory is owned by the Decoder and reused from one message to the next.
 *
 *	  What the apply layer must know about wal2json's output (PG 15, wal2json
 *	  2.5, include-pk/types/type-oids):
 *	  - float4/float8/numeric NaN and +-Infinity arrive as JSON null, exactly
 *		like SQL NULL: check typeoid (700, 701, 1700) before trusting a NULL.
 *	  - UPDATE omits unchanged TOASTed columns from "columns" (they are not
 *		NULL, they are absent): never treat a missing column as NULL.
 *	  - "identity" holds the replica identity columns (the pk, the USING INDEX
 *		columns, or the whole old row for FULL), not necessarily the "pk"
 *		columns.  For an UPDATE that did not change the key it is built from
 *		the new row.  Tables without a usable identity (NOTHING, or DEFAULT
 *		without a pk) get no U/D message at all, only a server WARNING.
 *	  - Type names starting with a double quote are emitted unescaped by
 *		wal2json, which is invalid JSON ("type":"Sch"."Mood"); the decoder
 *		accepts that form and hands the raw SQL spelling out.
 */
#ifndef PGCUTOVER_DECODER_H
#define PGCUTOVER_DECODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "change.h"

typedef struct Decoder Decoder;

Decoder    *decoder_create(void);
void		decoder_destroy(Decoder *d);

/*
 * Decodes one message of len bytes (need not be NUL-terminated).  Everything
 * *out points to is owned by d (nothing points into data, which the caller
 * may reuse at once) and valid until the next decoder_decode or
 * decoder_destroy.  Strings are NUL-terminated and never contain a NUL.  On
 * success *errmsg is set to NULL.  On malformed input returns false, zeroes
 * *out and sets *errmsg to a decoder-owned one-line message naming the byte
 * offset.
 */
bool		decoder_decode(Decoder *d, const char *data, size_t len,
						   Change *out, const char **errmsg);

#endif							/* PGCUTOVER_DECODER_H */
