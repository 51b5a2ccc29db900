/*
 * verify_barrier.h
 *	  The follower's half of `verify --online` (the verifier's half is
 *	  src/verify/online.c; the row they share is verification.h's).
 *
 *	  The verifier needs the target exactly as it was at the source LSN L of
 *	  its own source snapshot: every transaction that ends at or before L
 *	  applied, none after.  L is only known once the verifier has its source
 *	  snapshot, and by then a follower that kept going could be past it.
 *	  The verifier first asks at L ("lsn_known" from the start): a follower
 *	  that has not begun a transaction ending after L applies up to L and
 *	  exports (below); one that has answers "passed", and the verifier tries
 *	  again with a new slot.  After a few of those it asks the follower to
 *	  stand still first:
 *
 *	    requested  the follower stops at its next transaction boundary
 *	               (commits its group, stops reading: "holding");
 *	    lsn_known  the verifier now has a snapshot at L; the follower
 *	               reads on, applies up to L, and at the first transaction
 *	               that ends after L (or when the server says it sent
 *	               everything up to L) commits its group and exports a
 *	               snapshot of the target ("exported"), held open on a
 *	               connection of its own, then goes on applying;
 *	    imported   the verifier's sessions hold that snapshot too: the
 *	               exporting connection is closed.
 *
 *	  The follower stands still only to export (a millisecond), and in the
 *	  second protocol from "holding" to "lsn_known": the time the verifier
 *	  takes to create its temporary slot, whatever the size of the database.  Waits are bounded: a follower holding for
 *	  BARRIER_HOLD_TIMEOUT seconds, or exporting for BARRIER_EXPORT_TIMEOUT,
 *	  gives the verification up (failed) and goes on.
 *
 *	  The engine (follow.c) drives it; this module owns the state machine,
 *	  the exporting connection and the rows it writes.  It never touches the
 *	  stream or apply: it tells follow what to do (BarrierPhase).
 */
#ifndef PGCUTOVER_VERIFY_BARRIER_H
#define PGCUTOVER_VERIFY_BARRIER_H

#include <stdbool.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "lsn.h"

#define BARRIER_HOLD_TIMEOUT 15.0
#define BARRIER_EXPORT_TIMEOUT 120.0

typedef enum BarrierPhase
{
	BARRIER_IDLE,				/* nothing asked: follow as usual */
	BARRIER_HOLD_WANTED,		/* stop at the next transaction boundary, then
								 * call barrier_hold */
	BARRIER_HOLDING,			/* stand still (do not read the stream) */
	BARRIER_RELEASED,			/* read on; export at barrier_lsn */
	BARRIER_EXPORTED			/* done for follow: the snapshot is out */
} BarrierPhase;

typedef struct VerifyBarrier VerifyBarrier;

VerifyBarrier *barrier_create(const char *target_dsn, const char *slot);
void		barrier_destroy(VerifyBarrier *b);

/*
 * Reads the slot's pending online verification and moves the state
 * machine on (also ends the exported snapshot once the verifier has
 * imported it, and gives up on timeouts).  begun: the end LSN of the last
 * transaction follow has begun to apply (or its durable position).  false
 * on SQL error on state (the caller decides whether the connection is lost).
 */
bool		barrier_poll(VerifyBarrier *b, PGconn *state, Lsn begun);

BarrierPhase barrier_phase(const VerifyBarrier *b);

/* The LSN to export at (BARRIER_RELEASED). */
Lsn			barrier_lsn(const VerifyBarrier *b);

/*
 * The follower has committed everything and stopped reading: records
 * "holding".  false on SQL error (the barrier then goes back to idle).
 */
bool		barrier_hold(VerifyBarrier *b, PGconn *state);

/*
 * The attempt's connections were lost before the export: gives the
 * verification up (marked failed on state, which may be NULL).
 */
void		barrier_abandon(VerifyBarrier *b, PGconn *state, const char *why);

/*
 * Everything up to barrier_lsn is committed on the target and nothing
 * after: exports the snapshot and records it.  Returns the verification's
 * id, whose keys apply must record from now on, or 0 if the export failed
 * (logged; the verification is marked failed and follow goes on).
 */
int64_t		barrier_export(VerifyBarrier *b, PGconn *state);

#endif							/* PGCUTOVER_VERIFY_BARRIER_H */
