/*
 * switchover_steps.c
 *	  The switchover's steps behind the fence (switchover_int.h), and what
 *	  they prepare before it goes up:
 *
 *	    before the fence  refuse a source past the large objects' limits;
 *	                      choose the verify (incremental or full) and open
 *	                      its extra sessions, which the fence spares; move
 *	                      the large objects changed since the copy
 *	    4.                every sequence on the target set to the source's
 *	                      state (+ gap); the large objects changed since
 *	    5.                verify, exact now that nothing writes
 *	                      --reverse: the slot on the target, the reverse
 *	                      migration recorded on the old source
 *	    6, 7.             --post-command, identity columns and quieted
 *	                      triggers restored, the switchover recorded; a
 *	                      rest fence of an earlier switchover lifted
 *
 *	  Each step records its time (step_done) and ends the run through
 *	  abort_switchover when it fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cutover.h"
#include "fence.h"
#include "log.h"
#include "lo_state.h"
#include "lo_sync.h"
#include "lsn.h"
#include "pgconn.h"
#include "sequences.h"
#include "state.h"
#include "switchover_int.h"
#include "triggers.h"

/*
 * Step 4: every sequence on the target made to hand out what the source's
 * would next (last_value and is_called both, so a sequence never used or
 * setval(s, n, false)'d is carried too), moved --sequence-gap units its own
 * way within its bounds; never backwards from where the target already is.
 */
Outcome
sync_sequences(Switchover *sw)
{
	double		t0 = now_seconds();
	SequenceList src,
				tgt;
	Outcome		rc = OUTCOME_OK;

	if (!sequences_read(sw->src, sw->opts, &src))
		return abort_switchover(sw, OUTCOME_SQL, "cannot read the source's sequences");
	if (!sequences_read(sw->tgt, sw->opts, &tgt))
	{
		sequences_free(&src);
		return abort_switchover(sw, OUTCOME_SQL, "cannot read the target's sequences");
	}
	for (int i = 0; i < src.count && rc == OUTCOME_OK; i++)
	{
		const SequenceState *s = &src.items[i];
		const SequenceState *t = sequences_find(&tgt, s->qualname);
		SequenceState aligned;
		SequenceSetting set;
		char	   *lit;
		char	   *sql;

		if (t == NULL)
		{
			log_warn("sequence %s is not on the target (left out of the copy by a filter?); its value is not carried", s->qualname);
			continue;
		}
		if (!sequence_same_shape(s, t))
		{
			/* altered on the source since the copy, without DDL capture */
			/*
			 * START and RESTART too: PostgreSQL refuses new bounds that leave
			 * the sequence's start or current value outside them; the
			 * setval below then sets the value the plan says.
			 */
			sql = psprintf("ALTER SEQUENCE %s AS %s INCREMENT BY %lld MINVALUE %lld MAXVALUE %lld %sCYCLE "
						   "START WITH %lld RESTART WITH %lld",
						   s->qualname, s->type_name, (long long) s->increment, (long long) s->min_value,
						   (long long) s->max_value, s->cycle ? "" : "NO ",
						   (long long) s->start_value, (long long) s->last_value);
			log_warn("sequence %s was altered on the source since the copy (type, increment, bounds or CYCLE): the target's is altered the same way", s->qualname);
			if (!run_or_print(sw->tgt, "target", sql, sw->opts->dry_run))
				rc = abort_switchover(sw, OUTCOME_SQL, "cannot alter sequence %s on the target as on the source", s->qualname);
			free(sql);
			if (rc != OUTCOME_OK)
				break;
			aligned = *t;
			aligned.increment = s->increment;
			aligned.min_value = s->min_value;
			aligned.max_value = s->max_value;
			aligned.cycle = s->cycle;
			t = &aligned;
		}
		sequence_plan(s, t, sw->opts->sequence_gap, &set);
		if (set.keep_target)
		{
			log_info("sequence %s: the target is already further along than the source; left as it is", s->qualname);
			continue;
		}
		if (sw->opts->sequence_gap > 0 && set.gap_applied < sw->opts->sequence_gap)
			log_warn("sequence %s: only %lld of --sequence-gap %lld fit before its %s (%lld)", s->qualname,
					 (long long) set.gap_applied, (long long) sw->opts->sequence_gap,
					 s->increment > 0 ? "MAXVALUE" : "MINVALUE",
					 (long long) (s->increment > 0 ? s->max_value : s->min_value));
		lit = db_quote_literal(sw->tgt, s->qualname);
		sql = psprintf("SELECT pg_catalog.setval(%s, %lld, %s)", lit, (long long) set.value,
					   set.is_called ? "true" : "false");
		if (!run_or_print(sw->tgt, "target", sql, sw->opts->dry_run))
			rc = abort_switchover(sw, OUTCOME_SQL, "cannot set sequence %s on the target", s->qualname);
		free(sql);
		free(lit);
	}
	sequences_free(&src);
	sequences_free(&tgt);
	if (rc == OUTCOME_OK)
		step_done(sw, "sequences", t0);
	return rc;
}

/* {created, changed, deleted, bytes_moved, ms} of one large-object pass. */
static json_t *
lo_pass_json(const LargeObjectSyncResult *r)
{
	return json_pack("{s:i, s:i, s:i, s:I, s:f}", "created", r->created, "changed", r->changed,
					 "deleted", r->deleted, "bytes_moved", (json_int_t) r->bytes_moved,
					 "ms", r->seconds * 1000);
}

/*
 * Before anything changes: a source past the large objects' limits, or with
 * objects this role cannot read, is refused (lo_sync.h).
 */
Outcome
refuse_large_objects(Switchover *sw)
{
	LargeObjectCensus census;
	const char *fix;
	char	   *refusal;
	Outcome		rc;

	if (!lo_census(sw->src, &census))
		return abort_switchover(sw, OUTCOME_SQL, "cannot count the source's large objects");
	if ((refusal = lo_census_refusal(&census, &fix)) != NULL)
	{
		rc = abort_switchover(sw, OUTCOME_PREFLIGHT, "%s; fix: %s (nothing was fenced)", refusal, fix);
		free(refusal);
		return rc;
	}
	return OUTCOME_OK;
}

/*
 * Large objects are not in logical decoding: a pass compares the source's
 * with what the target holds and moves the difference (lo_sync.h).  Just
 * before the fence (inside == false) it moves what changed since the copy
 * while the source still takes writes; inside the fence, once more, what
 * changed since that pass: exact, since nothing writes.  A source without
 * any, now or at the copy, adds no step.
 */
Outcome
carry_large_objects(Switchover *sw, bool inside)
{
	double		t0 = now_seconds();
	LargeObjectSyncResult r;

	if (!inside && sw->opts->dry_run)
		return OUTCOME_OK;		/* the pass inside the fence prints the plan */
	/* a migration copied by a pgcutover without table pgcutover.large_object */
	if (!inside && !lo_state_exists(sw->tgt) && !state_install(sw->tgt))
		return abort_switchover(sw, OUTCOME_SQL, "cannot add table pgcutover.large_object on the target");
	if (sw->opts->dry_run && !lo_state_exists(sw->tgt))
	{
		printf("[source->target] -- large objects: every one the source has (table pgcutover.large_object is added first)\n");
		return OUTCOME_OK;
	}
	if (!lo_sync(sw->src, sw->tgt, sw->opts->slot, sw->opts->dry_run, signals_interrupt_flag(), &r))
		return interrupted()
			? abort_switchover(sw, OUTCOME_INTERRUPTED, "interrupted while moving large objects")
			: abort_switchover(sw, OUTCOME_SQL, "cannot move the source's large objects to the target (above)");
	if (r.objects == 0 && r.deleted == 0)
		return OUTCOME_OK;
	if (sw->result->large_objects == NULL)
		sw->result->large_objects = json_object();
	json_object_set_new(sw->result->large_objects, "objects", json_integer(r.objects));
	json_object_set_new(sw->result->large_objects, "bytes", json_integer(r.source_bytes));
	json_object_set_new(sw->result->large_objects, inside ? "inside_fence" : "before_fence", lo_pass_json(&r));
	log_info("large objects %s: %lld on the source; %s %d new and %d changed, %s %d on the target",
			 inside ? "inside the fence" : "before the fence", (long long) r.objects,
			 sw->opts->dry_run ? "would write" : "wrote", r.created, r.changed,
			 sw->opts->dry_run ? "would unlink" : "unlinked", r.deleted);
	step_done(sw, inside ? "large_objects" : "lo_prepass", t0);
	return OUTCOME_OK;
}

/*
 * Before the fence: which verify runs inside it.  --verify incremental needs
 * a passing online verification and refuses without one, before anything
 * changes; by default it is incremental when there is one, else full.
 */
Outcome
choose_verify(Switchover *sw)
{
	const char *asked = sw->opts->verify_mode;

	if (sw->opts->skip_verify)
	{
		sw->result->verify_mode = "none";
		return OUTCOME_OK;
	}
	if (!incremental_prepare(sw->tgt, sw->opts->slot, &sw->incremental))
		return abort_switchover(sw, OUTCOME_SQL, "cannot read the online verifications on the target (the server's message is above); fix: rerun with --verify full");
	if (asked && strcmp(asked, "incremental") == 0 && !sw->incremental.available)
		return abort_switchover(sw, OUTCOME_STATE, "--verify incremental needs a passing online verification (%s); fix: run 'pgcutover verify --online' first, or use --verify full",
								sw->incremental.unavailable);
	if (asked ? strcmp(asked, "incremental") == 0 : sw->incremental.available)
	{
		char		lsn[LSN_FORMAT_LEN];

		sw->result->verify_mode = "incremental";
		log_info("verify inside the fence: incremental, what changed since online verification %lld at %s",
				 (long long) sw->incremental.verification_id, lsn_format(sw->incremental.lsn, lsn));
	}
	else
	{
		sw->result->verify_mode = "full";
		if (asked)
			log_info("verify inside the fence: full, every row");
		else
			log_info("verify inside the fence: full, every row (%s; a 'pgcutover verify --online' shortly before the switchover lets it compare only what changed since)",
					 sw->incremental.unavailable);
	}
	return OUTCOME_OK;
}

/*
 * Before the fence, the sessions verify compares on besides src and tgt
 * (--jobs pairs in all): the fence closes the source database to new
 * sessions and spares these (raise_default_fence); they only read.  Fewer
 * when some cannot be opened (connection limits, a rerun finding the source
 * fenced already): verify runs on what there is.
 */
Outcome
open_verify_sessions(Switchover *sw)
{
	int			want = (sw->opts->jobs > COMPARE_MAX_PAIRS ? COMPARE_MAX_PAIRS : sw->opts->jobs) - 1;
	char	   *err = NULL;

	if (sw->opts->skip_verify || sw->opts->dry_run || want <= 0)
		return OUTCOME_OK;
	sw->verify_pairs = pg_malloc0(sizeof(ComparePair) * want);
	while (sw->nverify_pairs < want)
	{
		ComparePair *p = &sw->verify_pairs[sw->nverify_pairs];

		if ((p->source = db_connect(sw->opts->source, "source", CONN_NORMAL, &err)) == NULL ||
			(p->target = db_connect(sw->opts->target, "target", CONN_NORMAL, &err)) == NULL)
		{
			log_info("verify will compare on %d session pair(s), not %d: %s",
					 sw->nverify_pairs + 1, want + 1, err);
			PQfinish(p->source);
			p->source = NULL;
			free(err);
			break;
		}
		sw->nverify_pairs++;
	}
	return OUTCOME_OK;
}

/* Step 5: verify, exact now that the source is fenced and drained. */
Outcome
verify_fenced(Switchover *sw)
{
	double		t0 = now_seconds();
	VerifyResult *verify = &sw->result->verify;
	CompareConfig cfg = verify_compare_config(sw->opts);
	bool		incremental = strcmp(sw->result->verify_mode, "incremental") == 0;
	ComparePair *pairs;
	char		lsn[LSN_FORMAT_LEN];
	bool		ok;

	if (sw->opts->skip_verify)
		return OUTCOME_OK;
	if (sw->opts->dry_run)
	{
		printf("[source+target] -- verify: row count and checksum of %s on both sides at once, and no target sequence behind (--verify %s; --verify none leaves it out)\n",
			   incremental
			   ? "the rows whose keys follow applied since the last online verification (and, whole, the tables it could not track by key)"
			   : "every table", sw->result->verify_mode);
		return OUTCOME_OK;
	}
	pairs = pg_malloc0(sizeof(ComparePair) * (sw->nverify_pairs + 1));
	pairs[0].source = sw->src;
	pairs[0].target = sw->tgt;
	if (sw->nverify_pairs > 0)
		memcpy(pairs + 1, sw->verify_pairs, sizeof(ComparePair) * sw->nverify_pairs);
	ok = incremental
		? incremental_run(pairs, sw->nverify_pairs + 1, sw->tgt, sw->opts, &cfg, &sw->incremental, verify)
		: verify_run(pairs, sw->nverify_pairs + 1, sw->opts, verify);
	free(pairs);
	compare_pairs_close(sw->verify_pairs, sw->nverify_pairs);
	sw->verify_pairs = NULL;
	sw->nverify_pairs = 0;
	if (!ok)
		return interrupted()
			? abort_switchover(sw, OUTCOME_INTERRUPTED, "interrupted during verify")
			: abort_switchover(sw, OUTCOME_SQL, "verification failed to run");
	sw->result->verified = true;
	if (incremental)
		sw->result->incremental = json_pack("{s:I, s:s, s:i, s:i, s:I, s:O}",
											"verification_id", (json_int_t) sw->incremental.verification_id,
											"lsn", lsn_format(sw->incremental.lsn, lsn),
											"tables_by_key", sw->incremental.tables_by_key,
											"tables_whole", sw->incremental.tables_whole,
											"keys", (json_int_t) sw->incremental.keys,
											"whole", sw->incremental.whole);
	step_done(sw, "verify", t0);
	if (verify->mismatches == 0 && verify->sequences_behind == 0)
		return OUTCOME_OK;
	/* stderr, before the verdict: the differences are part of the error */
	verify_print(verify, stderr);
	if (sw->opts->abort_on_mismatch)
		return abort_switchover(sw, OUTCOME_MISMATCH, "%d table(s) differ after the drain", verify->mismatches);
	log_error("VERIFICATION FOUND %d DIFFERENT TABLE(S): the source STAYS FENCED (read-only) so you can inspect; fix: investigate, then either 'pgcutover cleanup' (lifts the fence) or rerun with --abort-on-mismatch",
			  verify->mismatches);
	return OUTCOME_MISMATCH;
}

/*
 * --reverse: while the source is still fenced and the target has not taken
 * a single write, create a slot on the target and record on the old source a
 * migration that starts exactly there.  `follow --source TARGET --target
 * SOURCE --slot <slot>_reverse` then keeps the old database current.
 */
Outcome
prepare_reverse(Switchover *sw)
{
	double		t0 = now_seconds();
	char	   *slot = psprintf("%s_reverse", sw->opts->slot);
	char	   *lit = db_quote_literal(sw->tgt, slot);
	char	   *sql = psprintf("SELECT lsn::text FROM pg_catalog.pg_create_logical_replication_slot(%s, 'wal2json')", lit);
	char	   *lsn = NULL;
	char	   *prior = NULL;
	Outcome		rc = OUTCOME_OK;

	if (sw->opts->dry_run)
	{
		printf("[target] %s;\n[source] -- install schema pgcutover and record migration %s at that LSN\n", sql, slot);
		goto done;
	}
	{
		/* a killed run may have created it: it still starts at the fence point */
		const char *p1[1] = {slot};
		PGresult   *res = db_query_params(sw->tgt,
										  "SELECT confirmed_flush_lsn::text FROM pg_catalog.pg_replication_slots "
										  "WHERE slot_name = $1 AND NOT active AND confirmed_flush_lsn IS NOT NULL",
										  1, p1);

		if (res && PQntuples(res) == 1)
		{
			lsn = pg_strdup(PQgetvalue(res, 0, 0));
			log_info("reusing the reverse slot %s that an interrupted switchover created (at %s)", slot, lsn);
		}
		PQclear(res);
	}
	if (lsn == NULL && (lsn = db_scalar(sw->tgt, sql)) == NULL)
	{
		rc = abort_switchover(sw, OUTCOME_PREFLIGHT, "cannot create the reverse slot %s on the target (needs wal_level=logical, wal2json and REPLICATION there; see 'pgcutover check' with source and target swapped)", slot);
		goto done;
	}
	sw->reverse_slot = pg_strdup(slot);
	/* switching back over lifts the rest fence this run leaves: as it was before */
	if (sw->have_prior && !uses_fence_command(sw))
		prior = fence_prior_to_json(&sw->prior);
	if (!cutover_record_reverse_migration(sw->tgt, sw->opts->slot, sw->src, slot, lsn, prior))
		rc = abort_switchover(sw, OUTCOME_SQL, "cannot record the reverse migration on the old source");
	if (rc == OUTCOME_OK)
		step_done(sw, "reverse", t0);
done:
	free(prior);
	free(lsn);
	free(sql);
	free(lit);
	free(slot);
	return rc;
}

/*
 * Switching back over (the migration --reverse recorded on the old source):
 * the target is the database an earlier switchover left fenced at rest, and
 * takes writes again once it is the primary: its pgcutover_fence goes and
 * its settings are as before that fence.  Any other target has no record.
 * Run once the switchover is recorded (an abort must not leave both sides
 * writable), and again by a rerun after a kill; a failure is a warning:
 * the switchover stands, the target is still read-only.
 */
void
lift_target_rest_fence(Switchover *sw)
{
	char	   *prior = NULL;

	if (!cutover_read_rest_fence_prior(sw->tgt, sw->opts->slot, &prior))
		return;
	if (prior == NULL)
	{
		char	   *fenced = db_scalar(sw->tgt, "SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = 'pgcutover_fence'");

		/* fenced by a --fence-command run, or by hand: not ours to lift */
		if (fenced && strcmp(fenced, "0") != 0 && !sw->opts->dry_run)
			log_warn("the target is the primary now but carries a rest fence (schema pgcutover_fence) this migration did not record; fix: if it is the old fence of a switchover away from it, there: SET default_transaction_read_only = off; DROP SCHEMA pgcutover_fence CASCADE; ALTER DATABASE %s RESET default_transaction_read_only",
					 PQdb(sw->tgt));
		free(fenced);
		return;
	}
	if (fence_rest_lift(sw->tgt, PQdb(sw->tgt), prior, sw->opts->dry_run) &&
		(sw->opts->dry_run || cutover_forget_rest_fence_prior(sw->tgt, sw->opts->slot)))
	{
		if (!sw->opts->dry_run)
			log_info("the target, switched away from earlier, takes writes again: its rest fence is lifted");
	}
	else
		log_warn("the target is the primary but still refuses writes: the rest fence an earlier switchover left there is not lifted (above); fix: there, SET default_transaction_read_only = off; DROP SCHEMA pgcutover_fence CASCADE; ALTER DATABASE %s RESET default_transaction_read_only; then rerun this switchover to record it",
				 PQdb(sw->tgt));
	free(prior);
}

bool
restore_quieted_triggers(PGconn *src, PGconn *tgt, const char *slot, bool dry_run)
{
	StrList		statements = {0};
	char	   *source_states = src ? triggers_source_states(src) : NULL;
	int			restored = 0;
	bool		ok = true;

	if (src && source_states == NULL)
		log_warn("cannot read the source's trigger states: the quieted triggers get the state they had at the copy");
	if (dry_run)
	{
		if (triggers_restore_statements(tgt, slot, source_states, &statements))
			for (int i = 0; i < statements.count; i++)
				printf("[target] %s;\n", statements.items[i]);
		strlist_free(&statements);
	}
	else if ((restored = triggers_restore(tgt, slot, source_states)) < 0)
		ok = false;
	else if (restored > 0)
		log_info("%d ENABLE ALWAYS/REPLICA trigger(s) and rule(s) quieted while the target followed are in the source's state again",
				 restored);
	free(source_states);
	return ok;
}

/* Steps 6 and 7. */
Outcome
finish_switchover(Switchover *sw)
{
	double		t0 = now_seconds();

	if (sw->opts->post_command)
	{
		if (!run_shell_command("--post-command", sw->opts->post_command, sw->opts->dry_run))
			return interrupted()
				? abort_switchover(sw, OUTCOME_INTERRUPTED, "interrupted during --post-command (it was stopped)")
				: abort_switchover(sw, OUTCOME_BUG, "--post-command failed");
		step_done(sw, "post", t0);
	}
	if (interrupted())
		return abort_switchover(sw, OUTCOME_INTERRUPTED, "interrupted before the end");
	if (!restore_identity_columns(sw->tgt, sw->opts->slot, sw->opts->dry_run))
		return abort_switchover(sw, OUTCOME_SQL, "cannot restore identity columns on the target");
	if (!restore_quieted_triggers(sw->src, sw->tgt, sw->opts->slot, sw->opts->dry_run))
		return abort_switchover(sw, OUTCOME_SQL, "cannot enable the ALWAYS/REPLICA triggers and rules on the target again");
	sw->triggers_restored = !sw->opts->dry_run;
	if (sw->opts->dry_run)
	{
		char	   *sql = cutover_mark_switched_over_sql(sw->opts->slot);

		printf("[target] %s;\n", sql);
		free(sql);
		lift_target_rest_fence(sw);
		return OUTCOME_OK;
	}
	if (!cutover_mark_switched_over(sw->tgt, sw->opts->slot))
		return abort_switchover(sw, OUTCOME_SQL, "cannot record the switchover on the target");
	lift_target_rest_fence(sw);
	return OUTCOME_OK;
}
