/*
 * apply_pool.c
 *	  Parallel apply: several apply sessions (apply.h) on the target, and
 *	  the dispatcher that feeds them, which runs in the caller's thread.
 *
 *	  Ranges.  Consecutive source transactions form a range, applied by one
 *	  session as one target transaction (apply.h's group).  A range ends
 *	  when it is large or old enough; its buffered rows are then sent at
 *	  once, and the next range goes to the next session in turn.  Ranges
 *	  commit in range order, which is the source's commit order: a session
 *	  commits its range before it takes another, and the next session in
 *	  turn holds the oldest open range.  So:
 *
 *	    - the target is always equal to the source at some point of its
 *	      history, as with one session (an online verification, the
 *	      switchover's drain and status read it as before);
 *	    - every range's commit advances the applied position (progress.h)
 *	      in the same target transaction, and positions only grow: after a
 *	      kill -9 anywhere a rerun starts after the last committed range
 *	      and skips what it holds, nothing twice, nothing lost.
 *
 *	  Footprints.  Open ranges run their statements at the same time.
 *	  Before a change goes to its session, its footprint (footprint.c) is
 *	  claimed: a row by table and key, a table shared or whole.  A claim
 *	  that meets one of an older open range first commits the ranges up to
 *	  that one (commit_through); a TRUNCATE or DDL commits every older
 *	  range, and its own range commits with its transaction.  The open
 *	  ranges' footprints are therefore disjoint at every moment, and
 *	  disjoint footprints share no row, index entry or lock: no session
 *	  ever waits for another.  The dispatcher waits only for the results of
 *	  one session at a time: the oldest open range when it commits (it
 *	  waits for nobody), or the newest at a sync point (which meets no
 *	  open range).  Deadlocks between sessions cannot arise; none is
 *	  retried.
 *
 *	  The claims are a hash table of (hash -> newest claiming range, and
 *	  the newest before it); a claim is stale once its ranges committed,
 *	  and stale claims are dropped when the table fills.  Commit order is
 *	  kept everywhere, not only where two ranges meet: the price is that a
 *	  session whose range is done waits for the older ones, the gain is
 *	  that positions, status and verification need no change.
 *
 *	  Sessions are connections in pipeline mode, not threads: the target's
 *	  backends run the ranges side by side while this thread decodes the
 *	  next one, and every field below is the dispatcher's alone.  The
 *	  second and later sessions open when a backlog first fills a range for
 *	  them, so a follower that keeps up holds one.  With one job every call
 *	  is apply.h's own.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "apply_pool.h"
#include "log.h"

typedef struct Claim
{
	uint64_t	hash;
	int64_t		newest;			/* the newest range that claimed it (0: slot free) */
	int64_t		older;			/* the newest before that one */
	bool		exclusive;		/* newest claimed it whole */
} Claim;

#define CLAIMS_FIRST_SIZE 1024	/* slots; a power of two */

typedef struct ClaimMap
{
	Claim	   *slots;
	int			cap;			/* a power of two */
	int			used;
} ClaimMap;

struct ApplyPool
{
	ApplyConfig session_cfg;
	int			njobs;
	Apply	   *sessions[APPLY_JOBS_MAX];	/* opened when first needed */
	int64_t		range_of[APPLY_JOBS_MAX];	/* the open range of each session, 0: none */

	int64_t		range_rows;		/* a range ends after this many rows ... */
	double		range_seconds;	/* ... or when it is this old */

	int			cur;			/* session of the newest range */
	int64_t		newest;			/* id of the newest range (ids start at 1) */
	int64_t		committed_through;	/* every range up to this one committed */
	double		range_started;
	bool		rotate;			/* the newest range is full: the next
								 * transaction starts one on the next session */
	bool		everything;		/* the newest range holds everything until it
								 * commits (TRUNCATE, DDL) */
	bool		ddl;			/* ... and ran DDL: other sessions' table
								 * shapes are stale after its commit */

	ClaimMap	claims;
	int64_t		conflicts;
	int64_t		kill_after;		/* tests: SIGKILL after this many range commits */
	int64_t		tracking;		/* apply_track_keys of every session */
	int			failed;			/* the session whose error counts, -1: none */
	char	   *error;			/* ... or the pool's own (a session not opened) */
	Outcome		outcome;
	ApplyTotals totals;
};

static bool
session_failed(ApplyPool *p, int i)
{
	if (p->failed < 0)
		p->failed = i;
	return false;
}

/* ---- claims ---- */

static void
claims_init(ClaimMap *m, int cap)
{
	m->cap = cap;
	m->used = 0;
	m->slots = pg_malloc0(sizeof(Claim) * cap);
}

static Claim *
claims_slot(ClaimMap *m, uint64_t hash)
{
	unsigned	i = (unsigned) (hash ^ (hash >> 32)) & (m->cap - 1);

	while (m->slots[i].newest != 0 && m->slots[i].hash != hash)
		i = (i + 1) & (m->cap - 1);
	return &m->slots[i];
}

/* Drops the claims of committed ranges; doubles the table if a quarter of it stays live. */
static void
claims_compact(ClaimMap *m, int64_t committed_through)
{
	Claim	   *old = m->slots;
	int			oldcap = m->cap;
	int			live = 0;

	for (int i = 0; i < oldcap; i++)
		live += old[i].newest > committed_through;
	claims_init(m, live * 2 >= oldcap / 2 ? oldcap * 2 : oldcap);
	for (int i = 0; i < oldcap; i++)
		if (old[i].newest > committed_through)
		{
			*claims_slot(m, old[i].hash) = old[i];
			m->used++;
		}
	free(old);
}

/*
 * Forgets every claim (all ranges committed).  A table a backlog grew goes
 * back to its first size: a follower that keeps up clears it at every
 * commit, and would otherwise wipe the backlog's table each time.
 */
static void
claims_clear(ClaimMap *m)
{
	if (m->used == 0)
		return;
	if (m->cap > CLAIMS_FIRST_SIZE)
	{
		free(m->slots);
		claims_init(m, CLAIMS_FIRST_SIZE);
		return;
	}
	memset(m->slots, 0, sizeof(Claim) * m->cap);
	m->used = 0;
}

/* ---- ranges ---- */

/* Commits the ranges up to and including range, oldest first. */
static bool
commit_through(ApplyPool *p, int64_t range)
{
	while (p->committed_through < range)
	{
		int64_t		next = p->committed_through + 1;

		for (int i = 0; i < p->njobs; i++)
		{
			if (p->range_of[i] != next)
				continue;
			if (!apply_flush(p->sessions[i]))
				return session_failed(p, i);
			p->range_of[i] = 0;
			if (p->kill_after > 0 && next >= p->kill_after)
				raise(SIGKILL);
		}
		p->committed_through = next;
	}
	if (p->committed_through == p->newest)
		claims_clear(&p->claims);
	return true;
}

/*
 * Claims hash for the newest range, shared or whole; first commits the
 * older ranges the claim meets.
 */
static bool
claim(ApplyPool *p, uint64_t hash, bool exclusive)
{
	int64_t		me = p->newest;
	Claim	   *c;
	int64_t		meets = 0;

	if (p->claims.used * 2 >= p->claims.cap)
		claims_compact(&p->claims, p->committed_through);
	c = claims_slot(&p->claims, hash);
	if (c->newest == 0)
	{
		c->hash = hash;
		p->claims.used++;
	}
	else if (exclusive)
		meets = c->newest != me ? c->newest : c->older;
	else if (c->exclusive && c->newest != me)
		meets = c->newest;
	if (meets > p->committed_through)
	{
		p->conflicts++;
		if (!commit_through(p, meets))
			return false;
		c = claims_slot(&p->claims, hash); /* commit_through may clear */
		if (c->newest == 0)
		{
			c->hash = hash;
			p->claims.used++;
		}
	}
	if (c->newest != me)
	{
		c->older = c->newest;
		c->newest = me;
		c->exclusive = exclusive;
	}
	else
		c->exclusive |= exclusive;
	return true;
}

/* The newest range takes everything: every older range commits first. */
static bool
claim_everything(ApplyPool *p)
{
	if (p->everything)
		return true;
	if (p->committed_through < p->newest - 1)
		p->conflicts++;
	if (!commit_through(p, p->newest - 1))
		return false;
	p->everything = true;
	return true;
}

static bool
claim_footprint(ApplyPool *p, const Footprint *fp)
{
	switch (fp->kind)
	{
		case FOOTPRINT_NONE:
			return true;
		case FOOTPRINT_ROWS:
			if (!claim(p, fp->table, false))
				return false;
			for (int i = 0; i < fp->nrows; i++)
				if (!claim(p, fp->rows[i], true))
					return false;
			return true;
		case FOOTPRINT_TABLE_SHARED:
			return claim(p, fp->table, false);
		case FOOTPRINT_TABLE:
			return claim(p, fp->table, true);
		case FOOTPRINT_ALL:
			return claim_everything(p);
	}
	return true;
}

/*
 * Opens session i, sharing the first one's source session.  Sessions open
 * when a backlog first fills a range for them: a follower that keeps up
 * holds one target session.
 */
static bool
open_session(ApplyPool *p, int i)
{
	char	   *err = NULL;

	p->sessions[i] = apply_open(&p->session_cfg, i > 0 ? p->sessions[0] : NULL, &err, &p->outcome);
	if (p->sessions[i] == NULL)
	{
		p->error = err;
		p->failed = i;
		return false;
	}
	if (p->tracking != 0)
		apply_track_keys(p->sessions[i], p->tracking);
	if (i == 1)
		log_info("applying with up to %d sessions on the target: independent source transactions run in parallel, commits keep the source's order",
				 p->njobs);
	return true;
}

/* A source transaction begins: in the newest range, or a new one. */
static bool
begin_transaction(ApplyPool *p)
{
	if (p->rotate)
	{
		p->cur = (p->cur + 1) % p->njobs;
		p->rotate = false;
		if (p->sessions[p->cur] == NULL && !open_session(p, p->cur))
			return false;
	}
	/* the session still holds an older range: the oldest open one */
	if (p->range_of[p->cur] != 0 && p->range_of[p->cur] != p->newest &&
		!commit_through(p, p->range_of[p->cur]))
		return false;
	if (p->range_of[p->cur] == 0)
	{
		p->range_of[p->cur] = ++p->newest;
		p->range_started = now_seconds();
		p->everything = false;
		p->ddl = false;
	}
	return true;
}

/* The newest range commits now: it held everything. */
static bool
commit_everything(ApplyPool *p)
{
	if (!commit_through(p, p->newest))
		return false;
	if (p->ddl)
		for (int i = 0; i < p->njobs; i++)
			if (i != p->cur && p->sessions[i] != NULL)
				apply_forget_tables(p->sessions[i]);
	p->everything = false;
	p->ddl = false;
	return true;
}

/* A source transaction ended: the range goes on, ends, or commits. */
static bool
end_transaction(ApplyPool *p)
{
	Apply	   *s = p->sessions[p->cur];

	if (p->everything)
		return commit_everything(p);
	if (apply_group_rows(s) < p->range_rows && now_seconds() - p->range_started < p->range_seconds)
		return true;
	if (!apply_send_buffered(s))
		return session_failed(p, p->cur);
	p->rotate = true;
	return true;
}

/* ---- the calls of apply.h ---- */

bool
applypool_change(ApplyPool *p, const Change *c)
{
	Apply	   *s;
	Footprint	fp;

	if (p->failed >= 0)
		return false;
	if (p->njobs == 1)
		return apply_change(p->sessions[0], c) || session_failed(p, 0);
	if (c->action == CHANGE_BEGIN && !begin_transaction(p))
		return false;
	s = p->sessions[p->cur];
	if ((c->action == CHANGE_INSERT || c->action == CHANGE_UPDATE ||
		 c->action == CHANGE_DELETE || c->action == CHANGE_TRUNCATE) &&
		!apply_skipping(s) && !p->everything)
	{
		if (!apply_footprint(s, c, &fp))
			return session_failed(p, p->cur);
		if (!claim_footprint(p, &fp))
			return false;
	}
	if (!apply_change(s, c))
		return session_failed(p, p->cur);
	return c->action != CHANGE_COMMIT || end_transaction(p);
}

bool
applypool_ddl(ApplyPool *p, const char *sql, const char *after_sql,
			  const char *search_path, const DdlMissing *missing, int nmissing)
{
	if (p->failed >= 0)
		return false;
	if (p->njobs > 1)
	{
		if (!claim_everything(p))
			return false;
		p->ddl = true;
	}
	return apply_ddl(p->sessions[p->cur], sql, after_sql, search_path, missing, nmissing) ||
		session_failed(p, p->cur);
}

bool
applypool_has_table(ApplyPool *p, const char *schema, const char *table, bool *exists)
{
	return apply_has_table(p->sessions[p->cur], schema, table, exists) ||
		session_failed(p, p->cur);
}

bool
applypool_commit_before_current(ApplyPool *p)
{
	if (p->failed >= 0)
		return false;
	if (p->njobs > 1 && !commit_through(p, p->newest - 1))
		return false;
	return apply_commit_before_current(p->sessions[p->cur]) || session_failed(p, p->cur);
}

bool
applypool_skipping(const ApplyPool *p)
{
	return apply_skipping(p->sessions[p->cur]);
}

void
applypool_track_keys(ApplyPool *p, int64_t verification_id)
{
	p->tracking = verification_id;
	for (int i = 0; i < p->njobs; i++)
		if (p->sessions[i] != NULL)
			apply_track_keys(p->sessions[i], verification_id);
}

bool
applypool_flush(ApplyPool *p)
{
	Apply	   *s = p->sessions[p->cur];

	if (p->failed >= 0)
		return false;
	if (p->njobs == 1)
		return apply_flush(s) || session_failed(p, 0);
	if (!commit_through(p, p->newest - 1))
		return false;
	if (apply_in_transaction(s))
		return true;
	return commit_everything(p);
}

bool
applypool_in_transaction(const ApplyPool *p)
{
	return apply_in_transaction(p->sessions[p->cur]);
}

bool
applypool_group_open(const ApplyPool *p)
{
	for (int i = 0; i < p->njobs; i++)
		if (p->sessions[i] != NULL && apply_group_open(p->sessions[i]))
			return true;
	return false;
}

const ApplyTotals *
applypool_totals(ApplyPool *p)
{
	ApplyTotals *t = &p->totals;

	if (p->njobs == 1)
		return apply_totals(p->sessions[0]);
	memset(t, 0, sizeof(*t));
	for (int i = 0; i < p->njobs; i++)
	{
		const ApplyTotals *s;

		if (p->sessions[i] == NULL)
			continue;
		s = apply_totals(p->sessions[i]);

		t->txns += s->txns;
		t->rows += s->rows;
		t->groups += s->groups;
		t->ddl += s->ddl;
		if (s->durable_lsn >= t->durable_lsn)
		{
			t->durable_lsn = s->durable_lsn;
			memcpy(t->last_commit_time, s->last_commit_time, sizeof(t->last_commit_time));
		}
	}
	return t;
}

int64_t
applypool_conflicts(const ApplyPool *p)
{
	return p->conflicts;
}

const char *
applypool_error(const ApplyPool *p)
{
	if (p->error)
		return p->error;
	return p->failed >= 0 ? apply_error(p->sessions[p->failed]) : "no error";
}

Outcome
applypool_outcome(const ApplyPool *p)
{
	if (p->error)
		return p->outcome;
	return p->failed >= 0 ? apply_outcome(p->sessions[p->failed]) : OUTCOME_OK;
}

int
applypool_source_pid(const ApplyPool *p)
{
	return apply_source_pid(p->sessions[0]);
}

int
applypool_sessions_opened(const ApplyPool *p)
{
	int			n = 0;

	for (int i = 0; i < p->njobs; i++)
		n += p->sessions[i] != NULL;
	return n;
}

ApplyPool *
applypool_open(const ApplyConfig *cfg, int jobs, char **errmsg, Outcome *outcome)
{
	ApplyPool  *p = pg_malloc0(sizeof(ApplyPool));

	p->njobs = jobs < 1 ? 1 : jobs > APPLY_JOBS_MAX ? APPLY_JOBS_MAX : jobs;
	p->failed = -1;
	p->session_cfg = *cfg;
	/*
	 * Small enough that a backlog spreads over every session soon, large
	 * enough that a commit (the position's UPDATE and a round trip) costs
	 * little beside the rows: a quarter of a group per session.
	 */
	p->range_rows = cfg->group_max_rows / (4 * p->njobs);
	if (p->range_rows < 100)
		p->range_rows = 100;
	p->range_seconds = cfg->group_max_seconds;
	claims_init(&p->claims, CLAIMS_FIRST_SIZE);
	/*
	 * Tests (follow_parallel_kill.sh): die as kill -9 would right after a
	 * range commits, where an order mistake would show.
	 */
	if (getenv("PGCUTOVER_TEST_KILL_AFTER_RANGES"))
		p->kill_after = atoll(getenv("PGCUTOVER_TEST_KILL_AFTER_RANGES"));
	/* with several sessions, the pool alone decides when a group commits */
	if (p->njobs > 1)
	{
		p->session_cfg.group_max_rows = INT32_MAX;
		p->session_cfg.group_max_seconds = 1e12;
	}
	if ((p->sessions[0] = apply_open(&p->session_cfg, NULL, errmsg, outcome)) == NULL)
	{
		applypool_close(p);
		return NULL;
	}
	return p;
}

void
applypool_close(ApplyPool *p)
{
	if (p == NULL)
		return;
	/* the first session holds the shared source session's last reference */
	for (int i = p->njobs - 1; i >= 0; i--)
		apply_close(p->sessions[i]);
	free(p->claims.slots);
	free(p->error);
	free(p);
}
