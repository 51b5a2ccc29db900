/*
 * cmd_migrate.c
 *	  `pgcutover migrate`: the whole job in one command, for one or several
 *	  databases (one slot and one follower process each):
 *
 *	    copy (preflight included; resumes)  ->  a follower child per database
 *	    ->  wait until every lag <= --max-lag  ->  keep following until
 *	    SIGINT, or with --switchover: switch over each database, wait for its
 *	    follower to finish, clean up, and print one report.
 *
 *	  With --dry-run each database gets copy's dry run (its preflight
 *	  included) and the rest of the plan is printed: no slot, no follower,
 *	  no fence.
 *
 *	  --metrics-listen: one endpoint for every database, served by this
 *	  process; each follower child writes its snapshot into its entry of a
 *	  shared board (metrics.h), labelled with its slot and database.
 */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "dsn.h"
#include "follow.h"
#include "json_output.h"
#include "log.h"
#include "metrics.h"
#include "pgconn.h"
#include "signals.h"
#include "status.h"
#include "switchover.h"

typedef struct Database
{
	const char *name;			/* NULL: the DSNs' own database */
	Options		opts;			/* shallow copy with source, target, slot of its own */
	pid_t		follower;
	int			copy_rc;
	json_t	   *switchover;		/* its report; NULL if it did not run */
	double		copy_seconds;
	MetricsBoard *board;		/* --metrics-listen: shared by every database */
	int			entry;			/* this database's entry of board */
} Database;

/* The follower process of d is gone: its metrics say so (it may have been killed). */
static void
follower_exited(Database *d)
{
	d->follower = 0;
	metrics_board_set_phase(d->board, d->entry, METRICS_STOPPED);
}

/* Keeps following until a signal, or until a follower dies (an error). */
static int
follow_until_signal(Database *dbs, int n)
{
	while (!signals_interrupts())
	{
		for (int i = 0; i < n; i++)
		{
			int			wstatus;

			if (dbs[i].follower > 0 && waitpid(dbs[i].follower, &wstatus, WNOHANG) == dbs[i].follower)
			{
				follower_exited(&dbs[i]);
				log_error("the follower of %s stopped (exit %d); fix: see its error above, then rerun migrate",
						  dbs[i].opts.slot, WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
				return WIFEXITED(wstatus) && WEXITSTATUS(wstatus) ? WEXITSTATUS(wstatus) : EXIT_INTERNAL;
			}
		}
		if (!signals_child_exited() && !signals_interrupts())
			pause();
	}
	log_info("stopping the followers");
	return EXIT_OK;
}

static void
init_database(Database *d, const Options *base, const char *name, bool several)
{
	memset(d, 0, sizeof(*d));
	d->name = name;
	d->opts = *base;
	d->opts.json = false;		/* migrate prints one report of its own */
	d->opts.metrics_listen = NULL;	/* migrate serves every database's metrics */
	d->opts.source = name ? dsn_with_dbname(base->source, name) : pg_strdup(base->source);
	d->opts.target = name ? dsn_with_dbname(base->target, name) : pg_strdup(base->target);
	if (several)
	{
		char	   *slot = psprintf("%s_%s", base->slot, name);

		for (char *p = slot; *p; p++)
			*p = isalnum((unsigned char) *p) ? (char) tolower((unsigned char) *p) : '_';
		if (strlen(slot) > 63)
			slot[63] = '\0';
		d->opts.slot = slot;
	}
	else
		d->opts.slot = pg_strdup(base->slot);
}

static void
free_database(Database *d)
{
	free(d->opts.source);
	free(d->opts.target);
	free(d->opts.slot);
	json_decref(d->switchover);
}

static pid_t
start_follower(Database *d)
{
	pid_t		pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
	{
		FollowResult result;
		Outcome		outcome;

		/*
		 * Its own self-pipe, SIGTERM counted; SIGINT ignored: the parent
		 * decides when we stop (follow's signals_install changes nothing
		 * once installed).
		 */
		signals_after_fork();
		signals_install();
		signal(SIGINT, SIG_IGN);
		signal(SIGCHLD, SIG_DFL);
		log_set_slot(d->opts.slot);
		outcome = follow_run_into(&d->opts, d->board, d->entry, &result);
		follow_result_free(&result);
		_exit(exit_code_for(outcome));
	}
	return pid;
}

/* Waits until lag <= max_lag for d; false on timeout, a dead follower or SIGINT. */
static bool
wait_caught_up(Database *d, double deadline)
{
	char	   *err = NULL;
	PGconn	   *src = db_connect(d->opts.source, "source", CONN_NORMAL, &err);
	PGconn	   *tgt = src ? db_connect(d->opts.target, "target", CONN_NORMAL, &err) : NULL;
	bool		ok = false;

	while (tgt && !signals_interrupts() && now_seconds() < deadline)
	{
		Status		s;
		Outcome		outcome = status_read(src, tgt, d->opts.slot, true, &s);
		bool		done = outcome == OUTCOME_OK && s.follower_alive && s.lag_seconds >= 0 &&
			s.lag_seconds <= d->opts.max_lag;
		int			wstatus;

		status_free(&s);
		if (done)
		{
			ok = true;
			break;
		}
		if (waitpid(d->follower, &wstatus, WNOHANG) == d->follower)
		{
			log_error("the follower of %s exited (%d) before catching up; fix: see its error above, then rerun migrate",
					  d->opts.slot, WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
			follower_exited(d);
			break;
		}
		usleep(100 * 1000);
	}
	if (err)
	{
		log_error("%s", err);
		free(err);
	}
	PQfinish(src);
	PQfinish(tgt);
	return ok;
}

static int
wait_follower(Database *d)
{
	int			wstatus = 0;

	if (d->follower <= 0)
		return EXIT_OK;
	while (waitpid(d->follower, &wstatus, 0) < 0)
		;
	follower_exited(d);
	return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : EXIT_INTERNAL;
}

static void
stop_followers(Database *dbs, int n)
{
	for (int i = 0; i < n; i++)
		if (dbs[i].follower > 0)
			kill(dbs[i].follower, SIGTERM);
	for (int i = 0; i < n; i++)
		wait_follower(&dbs[i]);
}

static json_t *
report_json(Database *dbs, int n, double t0, bool dry_run)
{
	json_t	   *arr = json_array();

	for (int i = 0; i < n; i++)
	{
		json_t	   *o = json_pack("{s:s?, s:s, s:i, s:f}", "database", dbs[i].name, "slot", dbs[i].opts.slot,
								  "copy_exit_code", dbs[i].copy_rc, "copy_seconds", dbs[i].copy_seconds);

		json_object_set_new(o, "switchover", dbs[i].switchover ? json_incref(dbs[i].switchover) : json_null());
		json_array_append_new(arr, o);
	}
	return json_pack("{s:b, s:f, s:o}", "dry_run", dry_run, "seconds", now_seconds() - t0, "databases", arr);
}

/* migrate --dry-run: copy's dry run per database, then the plan. */
static int
dry_run_all(Database *dbs, int n, const Options *opts)
{
	int			rc = EXIT_OK;

	for (int i = 0; i < n; i++)
	{
		int			copy_rc;

		log_info("== %s: copy (dry run)", dbs[i].opts.slot);
		copy_rc = dbs[i].copy_rc = cmd_copy(&dbs[i].opts);
		if (copy_rc != EXIT_OK && rc == EXIT_OK)
			rc = copy_rc;
		printf("dry run: then a follower for slot %s until its lag <= %g s%s\n", dbs[i].opts.slot, opts->max_lag,
			   opts->switchover ? ", then a switchover of it (see 'pgcutover switchover --dry-run' for its statements) and a cleanup"
			   : ", then following until SIGINT/SIGTERM");
	}
	printf("dry run: nothing was changed (no slot, no follower, no fence)\n");
	return rc;
}

/* Switches each database over and cleans up after it. */
static int
switch_over_all(Database *dbs, int n)
{
	int			rc = EXIT_OK;

	for (int i = 0; i < n && rc == EXIT_OK; i++)
	{
		Options		cleanup = dbs[i].opts;
		SwitchoverResult result;

		log_info("switching over %s", dbs[i].opts.slot);
		rc = exit_code_for(switchover_run(&dbs[i].opts, &result));
		if ((dbs[i].switchover = switchover_report_json(&result)) != NULL)
			dbs[i].switchover = json_output_envelope(dbs[i].switchover, "switchover", rc);
		switchover_report_print(&result, stdout);
		switchover_result_free(&result);
		if (rc != EXIT_OK)
			break;
		if ((rc = wait_follower(&dbs[i])) != EXIT_OK)
		{
			log_error("the follower of %s ended with %d after the switchover", dbs[i].opts.slot, rc);
			break;
		}
		cleanup.yes = true;
		cleanup.keep_state = dbs[i].opts.keep_state;
		rc = cmd_cleanup(&cleanup);
	}
	return rc;
}

/*
 * --metrics-listen: checks the address before the copy, and makes the board
 * (shared memory) the followers will write into, an entry per database.
 */
static int
prepare_metrics(const Options *opts, Database *dbs, int n)
{
	char	   *err = NULL;
	MetricsBoard *board;

	if (!metrics_check_listen(opts->metrics_listen, opts->metrics_allow_public, &err))
	{
		log_error("%s", err);
		free(err);
		return EXIT_USAGE;
	}
	board = metrics_board_create(n);
	for (int i = 0; i < n; i++)
	{
		char	   *dbname = NULL;

		if (dbs[i].name == NULL)
		{
			/* the DSNs' own database */
			PQconninfoOption *o = PQconninfoParse(dbs[i].opts.source, NULL);

			for (PQconninfoOption *p = o; p && p->keyword; p++)
				if (strcmp(p->keyword, "dbname") == 0 && p->val)
					dbname = pg_strdup(p->val);
			PQconninfoFree(o);
		}
		dbs[i].board = board;
		dbs[i].entry = i;
		metrics_board_set_labels(board, i, dbs[i].opts.slot, dbs[i].name ? dbs[i].name : dbname);
		free(dbname);
	}
	return EXIT_OK;
}

/* Serves the board of every database on --metrics-listen; NULL if it cannot (logged). */
static MetricsServer *
serve_metrics(const Options *opts, int n, MetricsBoard *board)
{
	char	   *err = NULL;
	MetricsServer *ms = metrics_start(opts->metrics_listen, opts->metrics_allow_public, board, &err);

	if (ms == NULL)
	{
		log_error("%s", err);
		free(err);
		return NULL;
	}
	log_info("serving the metrics of %d database%s on http://%s/metrics (labels slot and database)",
			 n, n > 1 ? "s" : "", opts->metrics_listen);
	return ms;
}

int
cmd_migrate(Options *opts)
{
	int			n = opts->databases.count > 0 ? opts->databases.count : 1;
	Database   *dbs = pg_malloc0(sizeof(Database) * n);
	double		t0 = now_seconds();
	double		deadline = t0 + (opts->timeout > 0 ? opts->timeout : 86400);
	int			rc = EXIT_OK;
	MetricsServer *metrics = NULL;

	if (opts->source == NULL || opts->target == NULL)
	{
		log_error("migrate needs both servers; fix: pass --source and --target");
		free(dbs);
		return EXIT_USAGE;
	}
	signals_install();
	for (int i = 0; i < n; i++)
		init_database(&dbs[i], opts, opts->databases.count ? opts->databases.items[i] : NULL, n > 1);
	if (opts->dry_run)
	{
		char	   *err = NULL;

		if (opts->metrics_listen && !metrics_check_listen(opts->metrics_listen, opts->metrics_allow_public, &err))
		{
			log_error("%s", err);
			free(err);
			rc = EXIT_USAGE;
		}
		else
			rc = dry_run_all(dbs, n, opts);
		goto report;
	}
	if (opts->metrics_listen && (rc = prepare_metrics(opts, dbs, n)) != EXIT_OK)
	{
		for (int i = 0; i < n; i++)
			free_database(&dbs[i]);
		free(dbs);
		return rc;
	}

	/* 1. copy, one database after the other (each uses --jobs workers) */
	for (int i = 0; i < n && rc == EXIT_OK; i++)
	{
		double		t = now_seconds();

		log_info("== %s: copy", dbs[i].opts.slot);
		rc = dbs[i].copy_rc = cmd_copy(&dbs[i].opts);
		dbs[i].copy_seconds = now_seconds() - t;
	}
	/* 2. a follower per database, until every one has caught up */
	signals_watch_children();
	for (int i = 0; i < n && rc == EXIT_OK; i++)
		if ((dbs[i].follower = start_follower(&dbs[i])) < 0)
			rc = EXIT_INTERNAL;
	/* after the forks: no follower inherits the listening socket */
	if (rc == EXIT_OK && opts->metrics_listen && (metrics = serve_metrics(opts, n, dbs[0].board)) == NULL)
		rc = EXIT_USAGE;
	for (int i = 0; i < n && rc == EXIT_OK; i++)
		if (!wait_caught_up(&dbs[i], deadline))
			rc = signals_interrupts() ? EXIT_INTERRUPTED : dbs[i].follower ? EXIT_TIMEOUT : EXIT_STATE;
	if (rc == EXIT_OK)
		log_info("every database has caught up (lag <= %g s)%s", opts->max_lag,
				 opts->switchover ? "" : "; following until SIGINT/SIGTERM");

	/* 3. keep following, or switch over */
	if (rc == EXIT_OK && opts->switchover)
		rc = switch_over_all(dbs, n);
	else if (rc == EXIT_OK)
		rc = follow_until_signal(dbs, n);
	stop_followers(dbs, n);
	metrics_stop(metrics);
	metrics_board_destroy(dbs[0].board);

report:
	if (opts->json)
	{
		/* the steps' own output went to stderr (json_output_begin) */
		json_output_print(report_json(dbs, n, t0, opts->dry_run), "migrate", rc, JSON_DOCUMENT);
	}
	else
		printf("migrate %s in %.1f s (%d database%s)\n",
			   opts->dry_run ? "dry run done" : rc == EXIT_OK ? "complete" : "stopped",
			   now_seconds() - t0, n, n > 1 ? "s" : "");
	for (int i = 0; i < n; i++)
		free_database(&dbs[i]);
	free(dbs);
	return rc;
}
