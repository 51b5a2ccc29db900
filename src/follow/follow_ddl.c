/*
 * follow_ddl.c
 *	  follow's handling of captured DDL: mode (--ddl=apply|stop, default
 *	  apply when capture is installed on the source), --ddl-exclude,
 *	  --resume-after-ddl, and the stop record on the target.
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "ddl.h"
#include "ddl_capture.h"
#include "follow_ddl.h"
#include "log.h"
#include "outcome.h"
#include "pgconn.h"
#include "progress.h"

struct FollowDdl
{
	const Options *opts;		/* --ddl, --ddl-exclude, --resume-after-ddl, --slot */
	const Options *selection;	/* the table filters (follow's, with the copy's) */
	bool		apply;			/* else stop at every DDL */
	bool		mode_given;
	bool		have_exclude;
	regex_t		exclude;
	DdlCursor	cursor;
	Lsn			resume_lsn;		/* --resume-after-ddl: skip the DDL here */
};

FollowDdl *
follow_ddl_create(const Options *opts, const Options *selection, char **errmsg)
{
	FollowDdl  *d = pg_malloc0(sizeof(FollowDdl));
	int			rc;

	*errmsg = NULL;
	d->opts = opts;
	d->selection = selection;
	if (opts->ddl_mode)
	{
		d->mode_given = true;
		d->apply = strcmp(opts->ddl_mode, "apply") == 0;
	}
	if (opts->ddl_exclude)
	{
		if ((rc = regcomp(&d->exclude, opts->ddl_exclude, REG_EXTENDED | REG_NOSUB)) != 0)
		{
			char		buf[256];

			regerror(rc, &d->exclude, buf, sizeof(buf));
			*errmsg = psprintf("invalid --ddl-exclude \"%s\": %s; fix: give a POSIX extended regular expression matched against object names like public.audit_log",
							   opts->ddl_exclude, buf);
			free(d);
			return NULL;
		}
		d->have_exclude = true;
	}
	return d;
}

void
follow_ddl_destroy(FollowDdl *d)
{
	if (d == NULL)
		return;
	if (d->have_exclude)
		regfree(&d->exclude);
	ddl_cursor_free(&d->cursor);
	free(d);
}

bool
follow_ddl_prepare(FollowDdl *d, PGconn *source, PGconn *state)
{
	int			installed = ddl_capture_count(source);
	bool		capture = installed == 4;

	if (installed < 0)
		return false;			/* do not guess the default mode */
	if (!d->mode_given)
		d->apply = capture;
	if (capture)
		log_info("DDL capture is installed on the source: schema changes %s (--ddl=%s)",
				 d->apply ? "are replayed on the target at their place in the stream"
				 : "stop follow with the command to run", d->apply ? "apply" : "stop");
	else
		log_info("DDL capture is not installed on the source: a schema change stops follow with the DDL to run on the target (enable replay with 'pgcutover ddl-capture install')");

	if (d->opts->resume_after_ddl && d->resume_lsn == INVALID_LSN)
	{
		char		lsn[LSN_FORMAT_LEN];
		bool		found;

		if (!progress_read_ddl_stop(state, d->opts->slot, &d->resume_lsn, &found))
			return false;
		if (found)
			log_warn("--resume-after-ddl: the captured DDL at %s is skipped; the target must already match the source's schema after it",
					 lsn_format(d->resume_lsn, lsn));
		else
			log_info("--resume-after-ddl: no stop on a captured DDL is recorded; the target's schema is read afresh");
	}
	return true;
}

/* schema-level: only the schema filters; table-level: all of them */
static bool
selected(void *arg, const char *schema, const char *table)
{
	const Options *o = arg;

	return table ? catalog_table_selected(o, schema, table) : catalog_schema_selected(o, schema);
}

/*
 * Records the stop and builds the message; returns OUTCOME_DRIFT.  What
 * was applied before this transaction is committed first, so the rerun
 * starts at it.
 */
static Outcome
stop_at(FollowDdl *d, ApplyPool *apply, PGconn *state, Lsn lsn, const DdlEvent *ev, const char *why, char **errmsg)
{
	char		lsnbuf[LSN_FORMAT_LEN];
	char	   *what = ddl_describe(ev);
	/* the command text, unless it may hold a password */
	bool		secret = strstr(ev->tag, "USER MAPPING") || strstr(ev->tag, "SERVER") ||
		strcasestr(ev->command, "password") != NULL;

	lsn_format(lsn, lsnbuf);
	if (applypool_outcome(apply) == OUTCOME_OK && !applypool_commit_before_current(apply))
		log_warn("cannot commit the transactions before the DDL: %s", applypool_error(apply));
	if (!progress_record_ddl_stop(state, d->opts->slot, lsn))
		log_warn("cannot record this stop on the target: --resume-after-ddl will not know which command to skip");
	*errmsg = psprintf("DDL on the source at %s stops follow: %s%s%.300s%s: %s; nothing of its transaction was applied; fix: run the equivalent on the target by hand, then 'pgcutover follow --resume-after-ddl' (skips exactly this command)",
					   lsnbuf, what, secret ? "" : " [", secret ? "" : ev->command,
					   secret ? "" : "]", why);
	free(what);
	return OUTCOME_DRIFT;
}

/*
 * CREATE TABLE AS / SELECT INTO: its rows travel in the stream BEFORE the
 * command.  Had there been any, follow would have stopped on a missing
 * table before getting here, and the operator created it by hand: then the
 * command is done already.  Otherwise it is replayed and emptied (*after),
 * as the stream carried no rows of it.
 */
static Outcome
created_as(ApplyPool *apply, const DdlEvent *ev, char **after)
{
	*after = NULL;
	for (int i = 0; i < ev->nobjects; i++)
	{
		char	   *parts[2] = {NULL, NULL};
		bool		exists = false;
		bool		ok;

		if (strcmp(ev->objects[i].type, "table") != 0 ||
			ddl_split_identity(ev->objects[i].identity, parts, 2) != 2)
		{
			free(parts[0]);
			continue;
		}
		ok = applypool_has_table(apply, parts[0], parts[1], &exists);
		free(parts[0]);
		free(parts[1]);
		if (!ok)
			return applypool_outcome(apply);
		if (exists)
			log_info("%s %s: the table is on the target already (created by hand), not replayed",
					 ev->tag, ev->objects[i].identity);
		else
			*after = psprintf("TRUNCATE ONLY %s", ev->objects[i].identity);
		return OUTCOME_OK;
	}
	return OUTCOME_OK;
}

static Outcome
replay(FollowDdl *d, ApplyPool *apply, PGconn *state, Lsn lsn, const DdlEvent *ev, char **errmsg)
{
	char	   *why = NULL;
	char	   *stmt = ddl_pick_statement(&d->cursor, ev, &why);
	char	   *after = NULL;
	char	   *what;
	bool		ok;
	Outcome		rc;

	if (stmt == NULL)
	{
		rc = stop_at(d, apply, state, lsn, ev, why, errmsg);
		free(why);
		return rc;
	}
	if (strcmp(ev->tag, "CREATE TABLE AS") == 0 || strcmp(ev->tag, "SELECT INTO") == 0)
	{
		rc = created_as(apply, ev, &after);
		if (rc != OUTCOME_OK || after == NULL)
		{
			free(stmt);
			if (rc != OUTCOME_OK)
				*errmsg = pg_strdup(applypool_error(apply));
			return rc;
		}
	}
	ok = applypool_ddl(apply, stmt, after, ev->search_path, ev->missing, ev->nmissing);
	free(after);
	if (!ok)
	{
		free(stmt);
		if (applypool_outcome(apply) != OUTCOME_SQL)
		{
			*errmsg = pg_strdup(applypool_error(apply));
			return applypool_outcome(apply);
		}
		why = psprintf("it failed on the target (%s)", applypool_error(apply));
		rc = stop_at(d, apply, state, lsn, ev, why, errmsg);
		free(why);
		return rc;
	}
	what = ddl_describe(ev);
	log_info("replayed DDL on the target: %s", what);
	free(what);
	free(stmt);
	return OUTCOME_OK;
}

/* A DDL not replayed still counts in its query string: later ones are found after it. */
static void
keep_place(FollowDdl *d, const DdlEvent *ev)
{
	char	   *ignored = NULL;

	if (ev->error == NULL)
		free(ddl_pick_statement(&d->cursor, ev, &ignored));
	free(ignored);
}

Outcome
follow_ddl_handle(FollowDdl *d, ApplyPool *apply, PGconn *state, Lsn lsn,
				  const char *content, size_t len, char **errmsg)
{
	DdlEvent	ev;
	DdlPolicy	policy = {d->have_exclude ? &d->exclude : NULL, selected, (void *) d->selection};
	DdlVerdict	verdict;
	char	   *why = NULL;
	char	   *what;
	Outcome		rc = OUTCOME_OK;
	char		lsnbuf[LSN_FORMAT_LEN];

	*errmsg = NULL;
	if (applypool_skipping(apply))
	{
		/* applied before; only keep our place in its query string */
		if (ddl_event_parse(content, len, &ev, &why))
			keep_place(d, &ev);
		free(why);
		ddl_event_free(&ev);
		return OUTCOME_OK;
	}
	if (!ddl_event_parse(content, len, &ev, &why))
	{
		*errmsg = psprintf("cannot read the captured DDL at %s: %s; fix: reinstall capture with the same pgcutover version ('pgcutover ddl-capture install')",
						   lsn_format(lsn, lsnbuf), why);
		free(why);
		return OUTCOME_BUG;
	}
	what = ddl_describe(&ev);
	if (lsn != INVALID_LSN && lsn == d->resume_lsn)
	{
		log_warn("skipping the DDL at %s as told by --resume-after-ddl: %s", lsn_format(lsn, lsnbuf), what);
		d->resume_lsn = INVALID_LSN;
		keep_place(d, &ev);
	}
	else if ((verdict = ddl_classify(&ev, &policy, &why)) == DDL_SKIP)
	{
		log_info("DDL on the source not replayed (%s): %s", why, what);
		keep_place(d, &ev);
	}
	else if (verdict == DDL_STOP)
		rc = stop_at(d, apply, state, lsn, &ev, why, errmsg);
	else if (!d->apply)
		rc = stop_at(d, apply, state, lsn, &ev, "follow runs with --ddl=stop", errmsg);
	else
		rc = replay(d, apply, state, lsn, &ev, errmsg);
	free(why);
	free(what);
	ddl_event_free(&ev);
	return rc;
}
