/*
 * options.h
 *	  The run's configuration: what src/cli/ parsed from the command line and
 *	  the environment.  Engines read it and never write it; run-time state
 *	  lives in each engine's own structs.  Option names are part of the CLI
 *	  contract (src/cli/cli.c): add new ones, never rename.
 */
#ifndef PGCUTOVER_OPTIONS_H
#define PGCUTOVER_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"

typedef struct Options
{
	const char *command;		/* check, copy, follow, ... */
	char	   *source;			/* normalised libpq DSN (may be NULL) */
	char	   *target;
	bool		json;
	bool		dry_run;
	bool		yes;
	bool		allow_nonempty_target;
	int			log_level;		/* LogLevel */
	bool		log_json;
	bool		no_password;	/* -w: never ask for a password on the terminal */

	/* copy */
	char	   *slot;
	int			jobs;
	int			index_jobs;
	int64_t		split_threshold;	/* bytes */
	StrList		include_schema;
	StrList		exclude_schema;
	StrList		include_table;
	StrList		exclude_table;
	char	   *backup_dir;
	char	   *pg_bin_dir;
	double		snapshot_hold;	/* seconds the snapshot keeper waits for a
								 * resume after the copy process died */
	bool		roles;			/* --roles: create the roles the objects need */
	bool		role_passwords; /* --role-passwords: with their password hashes */
	bool		keep_acl;		/* --keep-acl: owners and GRANTs, not
								 * pg_dump --no-owner --no-acl */

	/* follow */
	bool		until_caught_up;
	char	   *endpos;
	char	   *ddl_mode;		/* apply, stop; NULL: apply when capture is installed */
	char	   *ddl_exclude;	/* regex of object names whose DDL is skipped */
	bool		resume_after_ddl;
	int			apply_jobs;		/* target sessions applying in parallel */

	/* ddl-capture */
	char	   *ddl_action;		/* install, remove, status */

	double		heartbeat_interval; /* seconds, 0: no heartbeats */
	char	   *metrics_listen;
	bool		metrics_allow_public;

	/* migrate */
	StrList		databases;
	bool		switchover;

	/* switchover */
	char	   *fence;			/* default, none */
	char	   *fence_command;
	char	   *post_command;
	int64_t		sequence_gap;
	bool		skip_verify;	/* --skip-verify, or --verify none */
	char	   *verify_mode;	/* --verify incremental, full, none; NULL:
								 * incremental after a passing verify --online,
								 * else full */
	bool		abort_on_mismatch;
	bool		reverse;
	bool		check_constraints;	/* verify --constraints */
	bool		online;			/* verify --online */
	double		verify_max_rate;	/* --max-rate: rows per second and side
									 * (copy: from the source in total), 0: no
									 * limit */
	StrList		pgbouncer;		/* --pgbouncer: admin console DSNs */
	StrList		pgbouncer_ini;	/* --pgbouncer-ini: one, or one per --pgbouncer */
	char	   *repoint_command;	/* --repoint-command, instead of the ini */

	/* status / switchover: durations in seconds (GUC units on the command line) */
	double		wait_lag;		/* -1: not waiting */
	double		timeout;		/* 0: the command's default */
	double		max_lag;
	bool		watch;
	double		watch_interval;
	bool		keep_state;
} Options;

#endif							/* PGCUTOVER_OPTIONS_H */
