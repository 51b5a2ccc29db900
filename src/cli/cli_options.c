/*
 * cli_options.c
 *	  What each option does to Options: its value checked against the
 *	  option's kind and range (one error line naming the fix), stored in its
 *	  field, the defaults before any option, and freeing what was stored.
 *	  The command line (cli_parse.c) and --config (cli_config.c) both set
 *	  options through cli_take_option.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "cli_int.h"
#include "log.h"
#include "strbuf.h"
#include "units.h"

/* "100ms", "1h", "30d": a bound of a duration range, for messages. */
static char *
duration_text(double s, char *buf, size_t len)
{
	if (s == 0)
		snprintf(buf, len, "0");
	else if (s < 1)
		snprintf(buf, len, "%gms", s * 1000);
	else if (s < 60)
		snprintf(buf, len, "%gs", s);
	else if (s < 3600)
		snprintf(buf, len, "%gmin", s / 60);
	else if (s < SECS_PER_DAY)
		snprintf(buf, len, "%gh", s / 3600);
	else
		snprintf(buf, len, "%gd", s / SECS_PER_DAY);
	return buf;
}

/*
 * Checks a value against its option's kind and range; *num is the number
 * (integers, durations in seconds).  With err NULL only says whether it
 * parses (an optional argument's next word).
 */
bool
cli_parse_value(const OptSpec *o, const char *arg, double *num, FILE *err)
{
	*num = 0;
	if (o->kind == VAL_INT)
	{
		char	   *end;
		long		v;

		errno = 0;
		v = strtol(arg, &end, 10);
		if (*arg != '\0' && *end == '\0' && errno == 0 && v >= o->min && v <= o->max)
		{
			*num = (double) v;
			return true;
		}
		if (err)
			fprintf(err, "pgcutover: invalid value \"%s\" for --%s: expected an integer from %.0f to %.0f; fix: give a value in that range\n",
					arg, o->name, o->min, o->max);
		return false;
	}
	if (o->kind == VAL_DURATION)
	{
		char		lo[32],
					hi[32];

		if (parse_duration(arg, 1.0, num) && *num >= o->min && *num <= o->max)
			return true;
		if (err)
			fprintf(err, "pgcutover: invalid value \"%s\" for --%s: expected a duration from %s to %s; fix: give one in that range, such as 500ms, 30s, 5min or 2h (a bare number is seconds)\n",
					arg, o->name, duration_text(o->min, lo, sizeof(lo)), duration_text(o->max, hi, sizeof(hi)));
		return false;
	}
	if (o->kind == VAL_MODE)
	{
		size_t		n = strlen(arg);

		for (const char *m = o->arg; *m; m += strcspn(m, "|"), m += *m == '|')
			if (n > 0 && strncmp(m, arg, n) == 0 && (m[n] == '|' || m[n] == '\0'))
				return true;
		if (err)
		{
			/* "a|b|c" -> "a, b or c" */
			StrBuf		modes;
			const char *last = strrchr(o->arg, '|');

			strbuf_init(&modes);
			for (const char *p = o->arg; *p; p++)
				if (*p != '|')
					strbuf_append_len(&modes, p, 1);
				else
					strbuf_append(&modes, p == last ? " or " : ", ");
			fprintf(err, "pgcutover: invalid --%s \"%s\"; fix: use %s\n", o->name, arg, modes.data);
			strbuf_free(&modes);
		}
		return false;
	}
	return true;
}

static void
set_str(char **dst, const char *val)
{
	free(*dst);
	*dst = pg_strdup(val);
}

/* Applies one option (its value checked by cli_parse_value); false on a bad value. */
static bool
apply_option(const OptSpec *o, const char *arg, double num, Options *opts, FILE *err)
{
	switch (o->code)
	{
		case O_SOURCE: set_str(&opts->source, arg); return true;
		case O_TARGET: set_str(&opts->target, arg); return true;
		case O_JSON: opts->json = true; return true;
		case O_DRY_RUN: opts->dry_run = true; return true;
		case O_VERBOSE: opts->log_level = LOG_DEBUG; return true;
		case O_QUIET: opts->log_level = LOG_WARN; return true;
		case O_LOG_JSON: opts->log_json = true; return true;
		case O_NO_PASSWORD: opts->no_password = true; return true;
		case O_YES: opts->yes = true; return true;
		case O_ALLOW_NONEMPTY: opts->allow_nonempty_target = true; return true;
		case O_SLOT: set_str(&opts->slot, arg); return true;
		case O_JOBS: opts->jobs = (int) num; return true;
		case O_INDEX_JOBS: opts->index_jobs = (int) num; return true;
		case O_APPLY_JOBS: opts->apply_jobs = (int) num; return true;
		case O_SNAPSHOT_HOLD: opts->snapshot_hold = num; return true;
		case O_ROLES: opts->roles = true; return true;
		case O_ROLE_PASSWORDS: opts->role_passwords = true; return true;
		case O_KEEP_ACL: opts->keep_acl = true; return true;
		case O_SPLIT:
			if (!parse_size(arg, &opts->split_threshold) || opts->split_threshold < 1024 * 1024)
			{
				fprintf(err, "pgcutover: invalid value \"%s\" for --split-threshold: expected a size >= 1MB; fix: give a size such as 64MB or 1GB\n", arg);
				return false;
			}
			return true;
		case O_INC_SCHEMA: strlist_add(&opts->include_schema, arg); return true;
		case O_EXC_SCHEMA: strlist_add(&opts->exclude_schema, arg); return true;
		case O_INC_TABLE: strlist_add(&opts->include_table, arg); return true;
		case O_EXC_TABLE: strlist_add(&opts->exclude_table, arg); return true;
		case O_BACKUP: set_str(&opts->backup_dir, arg); return true;
		case O_PG_BIN: set_str(&opts->pg_bin_dir, arg); return true;
		case O_UNTIL_CAUGHT_UP: opts->until_caught_up = true; return true;
		case O_ENDPOS: set_str(&opts->endpos, arg); return true;
		case O_WAIT_LAG: opts->wait_lag = num; return true;
		case O_TIMEOUT: opts->timeout = num; return true;
		case O_MAX_LAG: opts->max_lag = num; return true;
		case O_WATCH:
			opts->watch = true;
			if (arg)
				opts->watch_interval = num;
			return true;
		case O_KEEP_STATE: opts->keep_state = true; return true;
		case O_HEARTBEAT:
			if (num > 0 && num < 0.01)
			{
				fprintf(err, "pgcutover: invalid value \"%s\" for --heartbeat-interval: the follower cannot emit a heartbeat more often than every 10ms; fix: give 0 (off) or at least 10ms\n", arg);
				return false;
			}
			opts->heartbeat_interval = num;
			return true;
		case O_METRICS: set_str(&opts->metrics_listen, arg); return true;
		case O_METRICS_PUBLIC: opts->metrics_allow_public = true; return true;
		case O_FENCE: set_str(&opts->fence, arg); return true;
		case O_FENCE_COMMAND: set_str(&opts->fence_command, arg); return true;
		case O_POST_COMMAND: set_str(&opts->post_command, arg); return true;
		case O_SEQ_GAP: opts->sequence_gap = (int64_t) num; return true;
		case O_SKIP_VERIFY: opts->skip_verify = true; return true;
		case O_VERIFY: set_str(&opts->verify_mode, arg); return true;
		case O_ONLINE: opts->online = true; return true;
		case O_MAX_RATE: opts->verify_max_rate = num; return true;
		case O_DATABASE: strlist_add(&opts->databases, arg); return true;
		case O_SWITCHOVER: opts->switchover = true; return true;
		case O_ABORT_MISMATCH: opts->abort_on_mismatch = true; return true;
		case O_REVERSE: opts->reverse = true; return true;
		case O_CONSTRAINTS: opts->check_constraints = true; return true;
		case O_DDL: set_str(&opts->ddl_mode, arg); return true;
		case O_DDL_EXCLUDE: set_str(&opts->ddl_exclude, arg); return true;
		case O_RESUME_AFTER_DDL: opts->resume_after_ddl = true; return true;
		case O_PGBOUNCER: strlist_add(&opts->pgbouncer, arg); return true;
		case O_PGBOUNCER_INI: strlist_add(&opts->pgbouncer_ini, arg); return true;
		case O_REPOINT_COMMAND: set_str(&opts->repoint_command, arg); return true;
	}
	return true;
}

/* Checks and applies one option with its value (NULL for flags). */
bool
cli_take_option(const OptSpec *o, const char *arg, Options *opts, FILE *err)
{
	double		num = 0;

	if (arg && !cli_parse_value(o, arg, &num, err))
		return false;
	return apply_option(o, arg, num, opts, err);
}

void
cli_set_defaults(Options *opts)
{
	long		ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	memset(opts, 0, sizeof(*opts));
	opts->jobs = ncpu > 0 ? (int) ncpu : 2;
	opts->index_jobs = opts->jobs;
	opts->apply_jobs = 1;
	opts->split_threshold = 1024LL * 1024 * 1024;
	opts->snapshot_hold = 600;
	opts->max_lag = 1.0;
	opts->watch_interval = 2.0;
	opts->wait_lag = -1;
	opts->heartbeat_interval = 1.0;
	opts->log_level = LOG_INFO;
}

void
options_free(Options *opts)
{
	free(opts->source);
	free(opts->target);
	free(opts->slot);
	free(opts->backup_dir);
	free(opts->pg_bin_dir);
	free(opts->endpos);
	free(opts->ddl_mode);
	free(opts->ddl_exclude);
	free(opts->ddl_action);
	free(opts->metrics_listen);
	free(opts->fence);
	free(opts->fence_command);
	free(opts->verify_mode);
	free(opts->post_command);
	strlist_free(&opts->include_schema);
	strlist_free(&opts->exclude_schema);
	strlist_free(&opts->include_table);
	strlist_free(&opts->exclude_table);
	strlist_free(&opts->databases);
	strlist_free(&opts->pgbouncer);
	strlist_free(&opts->pgbouncer_ini);
	free(opts->repoint_command);
}
