/*
 * lo_state.h
 *	  What pgcutover wrote of the source's large objects on the target
 *	  (table pgcutover.large_object): one fingerprint per object, so that a
 *	  later pass moves only what changed.  The statements naming that table
 *	  live in src/state/large_objects.c; the passes themselves are
 *	  src/source/lo_sync.c's.
 */
#ifndef PGCUTOVER_LO_STATE_H
#define PGCUTOVER_LO_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <libpq-fe.h>

/* md5 hex '/' md5 hex or "-": see sql/state.sql */
#define LO_FINGERPRINT_LEN 72

/* One large object: its OID, size in bytes and fingerprint. */
typedef struct LargeObjectPrint
{
	uint32_t	loid;
	int64_t		bytes;
	char		fingerprint[LO_FINGERPRINT_LEN];
} LargeObjectPrint;

/* A list of them, by ascending OID. */
typedef struct LargeObjectPrintList
{
	LargeObjectPrint *items;
	int			count;
} LargeObjectPrintList;

/*
 * The objects recorded for slot, by OID; false on SQL error (logged).  One
 * recorded but gone from the target (unlinked there by someone else) has
 * an empty fingerprint, so that a pass writes it again.
 */
bool		lo_state_load(PGconn *tgt, const char *slot, LargeObjectPrintList *out);

/*
 * Fills out from a result of (loid, bytes, fingerprint) rows and clears
 * res; false (out empty) when res is NULL, a failed query.
 */
bool		lo_prints_from_result(PGresult *res, LargeObjectPrintList *out);

/*
 * Records (or replaces) the fingerprints of n objects written for slot.
 * Runs in the caller's transaction, the one that wrote the objects.
 */
bool		lo_state_record(PGconn *tgt, const char *slot, const LargeObjectPrint *prints, int n);

/* Forgets n objects of slot (unlinked on the target); the caller's transaction. */
bool		lo_state_forget(PGconn *tgt, const char *slot, const uint32_t *loids, int n);

/*
 * Whether the table exists: a migration copied by a pgcutover without it
 * needs state_install first.
 */
bool		lo_state_exists(PGconn *tgt);

void		lo_print_list_free(LargeObjectPrintList *list);

#endif							/* PGCUTOVER_LO_STATE_H */
