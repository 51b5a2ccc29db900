/*
 * verify_barrier.c
 *	  The follower's half of `verify --online`: stand still while the
 *	  verifier takes its source snapshot, then export the target's state at
 *	  exactly that snapshot's LSN (verify_barrier.h explains the protocol).
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "log.h"
#include "pgconn.h"
#include "verification.h"
#include "verify_barrier.h"

struct VerifyBarrier
{
	/* configuration */
	char	   *target_dsn;
	char	   *slot;

	/* the verification being served */
	BarrierPhase phase;
	int64_t		id;				/* 0 when idle */
	Lsn			lsn;			/* BARRIER_RELEASED: export at this LSN */
	double		phase_since;	/* monotonic seconds */
	double		held_at;
	double		pause_ms;		/* the time the follower stood still */
	PGconn	   *exporter;		/* exports the snapshot and holds it open;
								 * kept between verifications */
};

VerifyBarrier *
barrier_create(const char *target_dsn, const char *slot)
{
	VerifyBarrier *b = pg_malloc0(sizeof(VerifyBarrier));

	b->target_dsn = pg_strdup(target_dsn);
	b->slot = pg_strdup(slot);
	return b;
}

static void
enter(VerifyBarrier *b, BarrierPhase phase)
{
	b->phase = phase;
	b->phase_since = now_seconds();
	if (phase == BARRIER_IDLE)
	{
		/* the exported snapshot lives as long as this transaction */
		if (b->exporter && PQtransactionStatus(b->exporter) != PQTRANS_IDLE &&
			!db_exec(b->exporter, "ROLLBACK"))
		{
			PQfinish(b->exporter);
			b->exporter = NULL;
		}
		b->id = 0;
		b->lsn = INVALID_LSN;
		b->pause_ms = 0;
	}
}

void
barrier_destroy(VerifyBarrier *b)
{
	if (b == NULL)
		return;
	enter(b, BARRIER_IDLE);
	PQfinish(b->exporter);
	free(b->target_dsn);
	free(b->slot);
	free(b);
}

BarrierPhase
barrier_phase(const VerifyBarrier *b)
{
	return b->phase;
}

Lsn
barrier_lsn(const VerifyBarrier *b)
{
	return b->lsn;
}

/* Gives the verification up: marks it failed (if still open) and goes on. */
static void
give_up(VerifyBarrier *b, PGconn *state, const char *why)
{
	bool		moved;

	log_warn("online verification %lld: %s; the follower goes on (run verify --online again)",
			 (long long) b->id, why);
	if (state != NULL && !verification_move(state, b->id, NULL, "failed", &moved))
		log_warn("cannot mark online verification %lld failed on the target", (long long) b->id);
	enter(b, BARRIER_IDLE);
}

/* The exporting session, opened on first use and kept; false if it cannot be. */
static bool
ensure_exporter(VerifyBarrier *b, PGconn *state)
{
	char	   *err = NULL;
	char	   *why;

	if (b->exporter && PQstatus(b->exporter) == CONNECTION_OK)
		return true;
	PQfinish(b->exporter);
	b->exporter = db_connect(b->target_dsn, "target", CONN_NORMAL, &err);
	if (b->exporter && db_exec(b->exporter, "SET idle_in_transaction_session_timeout = 0"))
		return true;
	why = psprintf("cannot open a session to export the target's snapshot: %s", err ? err : "SET failed");
	give_up(b, state, why);
	free(why);
	free(err);
	return false;
}

/*
 * A new verification.  Requested: stop at the next transaction boundary
 * (the verifier creates its slot meanwhile).  Already at an LSN (the
 * verifier created its slot first): export there, unless a transaction
 * ending after it has begun to be applied ('passed': the verifier tries
 * again).
 */
static void
take_request(VerifyBarrier *b, PGconn *state, const VerificationRow *row, Lsn begun)
{
	char		lsn[LSN_FORMAT_LEN];
	bool		moved;

	b->id = row->id;
	if (!ensure_exporter(b, state))
		return;
	if (strcmp(row->state, "requested") == 0)
	{
		log_info("online verification %lld: stopping at the next transaction boundary", (long long) b->id);
		enter(b, BARRIER_HOLD_WANTED);
		return;
	}
	if (begun > row->lsn)
	{
		log_debug("online verification %lld: already past %s", (long long) b->id, lsn_format(row->lsn, lsn));
		if (!verification_move(state, b->id, "lsn_known", "passed", &moved))
			log_warn("cannot answer online verification %lld on the target", (long long) b->id);
		enter(b, BARRIER_IDLE);
		return;
	}
	b->lsn = row->lsn;
	b->held_at = now_seconds();
	log_info("online verification %lld: applying up to %s, then exporting the target's snapshot",
			 (long long) b->id, lsn_format(b->lsn, lsn));
	enter(b, BARRIER_RELEASED);
}

bool
barrier_poll(VerifyBarrier *b, PGconn *state, Lsn begun)
{
	VerificationRow row;
	double		in_phase = now_seconds() - b->phase_since;

	if (!verification_read_pending(state, b->slot, &row))
		return false;
	if (b->phase == BARRIER_IDLE)
	{
		if (row.id == 0)
			return true;
		if (strcmp(row.state, "requested") == 0 || strcmp(row.state, "lsn_known") == 0)
			take_request(b, state, &row, begun);
		else if (strcmp(row.state, "imported") != 0 && strcmp(row.state, "comparing") != 0)
		{
			/* begun with a follower that is gone: its snapshot is gone too */
			b->id = row.id;
			give_up(b, state, "the follower restarted in the middle of it");
		}
		return true;
	}
	if (row.id != b->id)
	{
		/* the verifier finished or failed it meanwhile */
		if (b->phase != BARRIER_EXPORTED)
			log_warn("online verification %lld ended before the follower exported its snapshot; the follower goes on",
					 (long long) b->id);
		enter(b, BARRIER_IDLE);
		return true;
	}
	switch (b->phase)
	{
		case BARRIER_HOLD_WANTED:
		case BARRIER_HOLDING:
			if (b->phase == BARRIER_HOLDING && strcmp(row.state, "lsn_known") == 0)
			{
				char		lsn[LSN_FORMAT_LEN];

				b->lsn = row.lsn;
				b->pause_ms = (now_seconds() - b->held_at) * 1000;
				b->held_at = now_seconds();
				log_info("online verification %lld: applying up to %s, then exporting the target's snapshot",
						 (long long) b->id, lsn_format(b->lsn, lsn));
				enter(b, BARRIER_RELEASED);
			}
			else if (in_phase > BARRIER_HOLD_TIMEOUT)
				give_up(b, state, b->phase == BARRIER_HOLDING
						? "the verifier gave no LSN within 15 s"
						: "no transaction boundary within 15 s (a long transaction is being applied)");
			break;
		case BARRIER_RELEASED:
			if (in_phase > BARRIER_EXPORT_TIMEOUT)
				give_up(b, state, "the follower did not reach the verification's LSN within 120 s");
			break;
		case BARRIER_EXPORTED:
			if (strcmp(row.state, "exported") != 0 || in_phase > BARRIER_EXPORT_TIMEOUT)
				enter(b, BARRIER_IDLE); /* imported, or abandoned */
			break;
		case BARRIER_IDLE:
			break;
	}
	return true;
}

void
barrier_abandon(VerifyBarrier *b, PGconn *state, const char *why)
{
	if (b->phase != BARRIER_IDLE && b->phase != BARRIER_EXPORTED)
		give_up(b, state, why);
}

bool
barrier_hold(VerifyBarrier *b, PGconn *state)
{
	bool		moved = false;

	if (!verification_move(state, b->id, "requested", "holding", &moved) || !moved)
	{
		enter(b, BARRIER_IDLE);
		return false;
	}
	b->held_at = now_seconds();
	enter(b, BARRIER_HOLDING);
	return true;
}

int64_t
barrier_export(VerifyBarrier *b, PGconn *state)
{
	double		t0 = now_seconds();
	PGresult   *res = NULL;
	int64_t		id = b->id;
	char		lsn[LSN_FORMAT_LEN];

	if (!db_exec(b->exporter, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") ||
		(res = db_query(b->exporter, "SELECT pg_catalog.pg_export_snapshot(), pg_catalog.pg_current_snapshot()::text")) == NULL)
	{
		give_up(b, state, "cannot export the target's snapshot");
		return 0;
	}
	b->pause_ms += (now_seconds() - t0) * 1000;
	if (!verification_set_exported(state, id, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), b->pause_ms))
	{
		PQclear(res);
		give_up(b, state, "the verification ended before the snapshot was exported");
		return 0;
	}
	PQclear(res);
	log_info("online verification %lld: target snapshot exported at %s (the follower stood still %.1f ms)",
			 (long long) id, lsn_format(b->lsn, lsn), b->pause_ms);
	enter(b, BARRIER_EXPORTED);
	return id;
}
