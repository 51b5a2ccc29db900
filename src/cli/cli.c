/*
 * cli.c
 *	  Command-line parsing and help.  Options may come before or after the
 *	  command; each option says which commands it applies to.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"

enum
{
	C_CHECK = 1 << 0,
	C_COPY = 1 << 1,
	C_FOLLOW = 1 << 2,
	C_STATUS = 1 << 3,
	C_SWITCHOVER = 1 << 4,
	C_VERIFY = 1 << 5,
	C_CLEANUP = 1 << 6,
	C_MIGRATE = 1 << 7,
	C_DDL_CAPTURE = 1 << 8,
	C_ALL = 0x1ff
};

static const Command commands[] = {
	{"check", "preflight: verify both servers are ready for a migration", cmd_check,
	"Checks run: connectivity, versions, wal_level, free slots and senders,\n"
	"wal2json installed and allowed by output_plugin_libraries, REPLICATION and\n"
	"SELECT privileges, CREATE on the target, primary keys / replica identity,\n"
	"large objects, extensions, disk, and an empty target.\n"},
	{"copy", "copy schema and data in one consistent snapshot and create the slot", cmd_copy,
	"Creates the logical slot (wal2json) with an exported snapshot, restores the\n"
	"pre-data schema, copies every table in parallel (binary COPY, large tables\n"
	"split by CTID range), then builds indexes and constraints and sets\n"
	"sequences.  Rerun after a crash to resume.\n"},
	{"follow", "stream changes from the slot and apply them to the target", cmd_follow,
		"Streams the slot (wal2json) and applies every committed source transaction\n"
		"to the target in commit order, exactly once: the applied position commits in\n"
		"the same target transaction as the changes.  Runs until SIGINT/SIGTERM (it\n"
		"finishes the current transaction first), or with --until-caught-up until\n"
		"everything committed on the source when it started is applied.\n"},
	{"status", "show replication lag and follower state", cmd_status,
		"Reads the migration's state on the target (the follower updates it every\n"
		"second) and the slot on the source.  --json fields: state, slot, phase,\n"
		"source_lsn, applied_lsn, lag_bytes, lag_seconds, txn_per_sec, rows_per_sec,\n"
		"follower_pid, follower_alive, follower_last_seen, slot_exists, slot_active,\n"
		"slot_retained_wal_bytes, wal_status, last_error, warnings,\n"
		"online_verification, switchover_verify.  States:\n"
		"never_started (exit 7), copying, copied, following, stopped, failed,\n"
		"slot_missing.  --wait-lag S exits 0 once lag <= S s (9 after --timeout).\n"},
	{"switchover", "fence the source, drain, sync sequences, verify", cmd_switchover,
		"With a follower running: wait for lag <= --max-lag, fence writes on the\n"
		"source (airtight: no new connection, every other session ended; or\n"
		"--fence=none with --fence-command), wait until a fence marker is applied,\n"
		"set sequences, verify, run --post-command, then the follower exits; the\n"
		"old source stays fenced (readable, every write refused).  Any failure or\n"
		"SIGINT before the end lifts the fence.  --dry-run prints every statement.\n\n"
		"With --pgbouncer (transaction pooling): the source's entries are PAUSEd\n"
		"before the fence and, once verified, repointed at the target (--pgbouncer-ini\n"
		"or --repoint-command), RELOADed and RESUMEd: clients wait, they see no error.\n"
		"On abort they are RESUMEd against the source.\n"},
	{"verify", "compare row counts and checksums of source and target", cmd_verify,
		"Per table: row count and an order-independent checksum (sum of a 64-bit\n"
		"hash of each row's text) on both sides at once; per sequence: the target\n"
		"is not behind.  Tables with a one-column integer key are compared in\n"
		"chunks of 250000 rows, --jobs N session pairs per side at a time (default:\n"
		"cores, at most 16; with 1, tables whole, split only once they differ);\n"
		"a chunk that differs is read row by row to name the first 10 keys that\n"
		"differ (differs, missing on target, extra on target); a table with no\n"
		"primary key or replica identity index cannot name keys.\n"
		"Exit 5 on any difference.  Exact when the source is fenced (after\n"
		"switchover); during follow, differences may be in flux.\n"},
	{"cleanup", "drop the slot and the pgcutover state", cmd_cleanup,
		"Releases a leftover snapshot keeper, lifts a switchover fence on the\n"
		"source, drops the slot (refused while a follower uses it), restores\n"
		"GENERATED ALWAYS identity columns and drops schema pgcutover on the\n"
		"target (--keep-state keeps it).  Idempotent.  Asks first unless --yes.\n"},
	{"migrate", "check, copy, follow (and optionally switch over) in one run", cmd_migrate,
		"For each database (--database, repeatable; default: the one in the DSNs):\n"
		"copy (with its preflight), then a follower per database until lag <=\n"
		"--max-lag; then keep following until SIGINT, or with --switchover switch\n"
		"over each database and clean up.  Rerun after a crash to resume.\n"},
	{"ddl-capture", "install|remove|status: carry the source's DDL in the stream", cmd_ddl_capture,
		"One action is required: install, remove or status (--source only).\n\n"
		"install: event triggers on the source (needs superuser) that write every\n"
		"DDL command into the WAL as a transactional logical message, so follow\n"
		"replays it on the target at exactly its place among the row changes\n"
		"(follow --ddl=apply, the default once installed).  remove: drops them\n"
		"(cleanup does too).  status: says whether they are installed.\n"},
	{NULL, NULL, NULL, NULL}
};

typedef struct OptSpec
{
	struct option lo;
	unsigned	commands;		/* C_* bits where the option is valid */
	const char *arg;			/* argument name for help, NULL if none */
	const char *help;
} OptSpec;

enum
{
	O_SOURCE = 1000, O_TARGET, O_JSON, O_DRY_RUN, O_VERBOSE, O_QUIET, O_LOG_JSON,
	O_YES, O_HELP, O_VERSION, O_ALLOW_NONEMPTY, O_SLOT, O_JOBS, O_INDEX_JOBS,
	O_SPLIT, O_INC_SCHEMA, O_EXC_SCHEMA, O_INC_TABLE, O_EXC_TABLE, O_BACKUP,
	O_PG_BIN, O_SNAPSHOT_HOLD, O_UNTIL_CAUGHT_UP, O_ENDPOS, O_WAIT_LAG, O_TIMEOUT,
	O_WATCH, O_MAX_LAG, O_KEEP_STATE, O_HEARTBEAT, O_METRICS, O_METRICS_PUBLIC,
	O_FENCE, O_FENCE_COMMAND, O_POST_COMMAND, O_SEQ_GAP, O_SKIP_VERIFY, O_ABORT_MISMATCH,
	O_DATABASE, O_SWITCHOVER, O_REVERSE, O_CONSTRAINTS, O_CONFIG, O_DDL, O_DDL_EXCLUDE,
	O_RESUME_AFTER_DDL, O_PGBOUNCER, O_PGBOUNCER_INI, O_REPOINT_COMMAND, O_ONLINE,
	O_VERIFY, O_MAX_RATE
};

static const OptSpec optspecs[] = {
	{{"source", required_argument, NULL, O_SOURCE}, C_ALL, "DSN", "source database (or PGCUTOVER_SOURCE)"},
	{{"target", required_argument, NULL, O_TARGET}, C_ALL, "DSN", "target database (or PGCUTOVER_TARGET)"},
	{{"json", no_argument, NULL, O_JSON}, C_ALL, NULL, "print one JSON document on stdout"},
	{{"dry-run", no_argument, NULL, O_DRY_RUN}, C_ALL, NULL, "print what would be done, change nothing"},
	{{"verbose", no_argument, NULL, O_VERBOSE}, C_ALL, NULL, "more log output (debug)"},
	{{"quiet", no_argument, NULL, O_QUIET}, C_ALL, NULL, "only warnings and errors"},
	{{"log-json", no_argument, NULL, O_LOG_JSON}, C_ALL, NULL, "log lines as JSON on stderr"},
	{{"yes", no_argument, NULL, O_YES}, C_CLEANUP | C_SWITCHOVER | C_MIGRATE, NULL, "do not ask for confirmation"},
	{{"config", required_argument, NULL, O_CONFIG}, C_ALL, "FILE", "read options from FILE: key = value lines, long option names"},
	{{"help", no_argument, NULL, O_HELP}, C_ALL, NULL, "show help"},
	{{"version", no_argument, NULL, O_VERSION}, C_ALL, NULL, "show version"},
	{{"allow-nonempty-target", no_argument, NULL, O_ALLOW_NONEMPTY}, C_CHECK | C_COPY | C_MIGRATE, NULL, "accept a target that already has tables"},
	{{"slot", required_argument, NULL, O_SLOT}, C_ALL, "NAME", "replication slot name (default pgcutover)"},
	{{"jobs", required_argument, NULL, O_JOBS}, C_COPY | C_MIGRATE | C_VERIFY | C_SWITCHOVER, "N", "parallel table copies; for verify and switchover, session pairs comparing (default: cores, at most 16 to compare)"},
	{{"index-jobs", required_argument, NULL, O_INDEX_JOBS}, C_COPY | C_MIGRATE, "N", "parallel index builds (default: cores)"},
	{{"split-threshold", required_argument, NULL, O_SPLIT}, C_COPY | C_MIGRATE, "SIZE", "split tables larger than SIZE into CTID ranges (default 1GB)"},
	{{"include-schema", required_argument, NULL, O_INC_SCHEMA}, C_CHECK | C_COPY | C_MIGRATE | C_VERIFY, "NAME", "only this schema (repeatable)"},
	{{"exclude-schema", required_argument, NULL, O_EXC_SCHEMA}, C_CHECK | C_COPY | C_MIGRATE | C_VERIFY, "NAME", "skip this schema (repeatable)"},
	{{"include-table", required_argument, NULL, O_INC_TABLE}, C_CHECK | C_COPY | C_MIGRATE | C_VERIFY, "SCHEMA.TABLE", "only this table (repeatable)"},
	{{"exclude-table", required_argument, NULL, O_EXC_TABLE}, C_CHECK | C_COPY | C_MIGRATE | C_VERIFY, "SCHEMA.TABLE", "skip this table (repeatable)"},
	{{"backup", required_argument, NULL, O_BACKUP}, C_COPY | C_MIGRATE, "DIR", "also write pg_dump -Fc of the snapshot + .sha256 to DIR"},
	{{"pg-bin-dir", required_argument, NULL, O_PG_BIN}, C_CHECK | C_COPY | C_MIGRATE, "DIR", "where pg_dump/pg_restore live (default: the highest /usr/lib/postgresql/N/bin from the source's major to the target's)"},
	{{"snapshot-hold", required_argument, NULL, O_SNAPSHOT_HOLD}, C_COPY | C_MIGRATE, "SECONDS", "keep the exported snapshot this long for a resume after a crash (default 600)"},
	{{"until-caught-up", no_argument, NULL, O_UNTIL_CAUGHT_UP}, C_FOLLOW, NULL, "exit once everything committed at start is applied"},
	{{"endpos", required_argument, NULL, O_ENDPOS}, C_FOLLOW, "LSN", "stop at this source LSN"},
	{{"ddl", required_argument, NULL, O_DDL}, C_FOLLOW | C_MIGRATE, "MODE", "captured DDL: apply (default when capture is installed) or stop"},
	{{"ddl-exclude", required_argument, NULL, O_DDL_EXCLUDE}, C_FOLLOW | C_MIGRATE, "REGEX", "skip captured DDL whose objects all match REGEX (e.g. ^audit\\.)"},
	{{"resume-after-ddl", no_argument, NULL, O_RESUME_AFTER_DDL}, C_FOLLOW, NULL, "continue after a DDL stop: skip the captured command that stopped follow"},
	{{"heartbeat-interval", required_argument, NULL, O_HEARTBEAT}, C_FOLLOW | C_MIGRATE, "SECONDS", "heartbeat on the source for honest lag (default 1, 0: off)"},
	{{"metrics-listen", required_argument, NULL, O_METRICS}, C_FOLLOW | C_MIGRATE, "HOST:PORT", "serve Prometheus metrics (e.g. 127.0.0.1:9187)"},
	{{"metrics-allow-public", no_argument, NULL, O_METRICS_PUBLIC}, C_FOLLOW | C_MIGRATE, NULL, "allow --metrics-listen on a non-loopback address"},
	{{"wait-lag", required_argument, NULL, O_WAIT_LAG}, C_STATUS, "SECONDS", "wait until lag <= SECONDS"},
	{{"timeout", required_argument, NULL, O_TIMEOUT}, C_STATUS | C_SWITCHOVER | C_MIGRATE, "SECONDS", "give up after SECONDS (switchover default 300)"},
	{{"watch", optional_argument, NULL, O_WATCH}, C_STATUS, "SECONDS", "refresh every SECONDS (default 2)"},
	{{"max-lag", required_argument, NULL, O_MAX_LAG}, C_SWITCHOVER | C_MIGRATE, "SECONDS", "lag required before fencing (default 1)"},
	{{"keep-state", no_argument, NULL, O_KEEP_STATE}, C_CLEANUP | C_MIGRATE, NULL, "keep the pgcutover schema (the report)"},
	{{"database", required_argument, NULL, O_DATABASE}, C_MIGRATE, "NAME", "migrate this database of the DSNs' servers (repeatable; one slot each)"},
	{{"switchover", no_argument, NULL, O_SWITCHOVER}, C_MIGRATE, NULL, "switch over and clean up once caught up (default: keep following)"},
	{{"fence", required_argument, NULL, O_FENCE}, C_SWITCHOVER | C_MIGRATE, "MODE", "how writes stop: default (airtight: connections refused + every other session ended) or none"},
	{{"fence-command", required_argument, NULL, O_FENCE_COMMAND}, C_SWITCHOVER | C_MIGRATE, "CMD", "with --fence=none: shell command that stops writes"},
	{{"post-command", required_argument, NULL, O_POST_COMMAND}, C_SWITCHOVER | C_MIGRATE, "CMD", "shell command once the target is ready (repoint the app)"},
	{{"sequence-gap", required_argument, NULL, O_SEQ_GAP}, C_SWITCHOVER | C_MIGRATE, "N", "add N to every sequence on the target (default 0)"},
	{{"skip-verify", no_argument, NULL, O_SKIP_VERIFY}, C_SWITCHOVER | C_MIGRATE, NULL, "do not compare checksums while fenced"},
	{{"verify", required_argument, NULL, O_VERIFY}, C_SWITCHOVER | C_MIGRATE, "MODE", "verify inside the fence: incremental (default after a passing verify --online), full or none"},
	{{"constraints", no_argument, NULL, O_CONSTRAINTS}, C_VERIFY, NULL, "also look for rows on the target that break a foreign key"},
	{{"online", no_argument, NULL, O_ONLINE}, C_VERIFY, NULL, "compare at one LSN while follow runs and the source takes writes"},
	{{"max-rate", required_argument, NULL, O_MAX_RATE}, C_COPY | C_VERIFY | C_SWITCHOVER | C_MIGRATE, "ROWS", "read at most ROWS rows per second: copying, from the source in total; verifying, on each side (default: no limit)"},
	{{"reverse", no_argument, NULL, O_REVERSE}, C_SWITCHOVER | C_MIGRATE, NULL, "prepare replication back to the old source (rollback path)"},
	{{"abort-on-mismatch", no_argument, NULL, O_ABORT_MISMATCH}, C_SWITCHOVER | C_MIGRATE, NULL, "lift the fence when verification finds a difference"},
	{{"pgbouncer", required_argument, NULL, O_PGBOUNCER}, C_SWITCHOVER, "ADMIN_DSN", "PAUSE this PgBouncer's entries of the source, repoint, RESUME (repeatable; dbname=pgbouncer)"},
	{{"pgbouncer-ini", required_argument, NULL, O_PGBOUNCER_INI}, C_SWITCHOVER, "PATH", "repoint by rewriting the [databases] entry in PATH (one, or one per --pgbouncer)"},
	{{"repoint-command", required_argument, NULL, O_REPOINT_COMMAND}, C_SWITCHOVER, "CMD", "repoint by running CMD (env PGCUTOVER_TARGET_HOST/_PORT/_DBNAME/_USER)"},
	{{NULL, 0, NULL, 0}, 0, NULL, NULL}
};

static const char *exit_code_help =
"Exit codes:\n"
"  0  success                      6  command not implemented yet\n"
"  1  internal error               7  migration state forbids this (slot exists,\n"
"  2  usage error                     resume impossible, nothing to resume)\n"
"  3  connection failure           8  source schema changed under the stream\n"
"  4  preflight check failed       9  timeout\n"
"  5  verification mismatch       10  interrupted (SIGINT/SIGTERM)\n"
"                                 11  a statement failed on source or target\n";

const Command *
cli_find_command(const char *name)
{
	for (const Command *c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static unsigned
command_bit(const Command *cmd)
{
	return 1u << (unsigned) (cmd - commands);
}

void
cli_print_help(FILE *out, const Command *cmd)
{
	if (cmd == NULL)
	{
		fprintf(out, "pgcutover %s - move a live PostgreSQL database with near-zero downtime\n\n"
				"Usage: pgcutover [options] COMMAND [options]\n\nCommands:\n",
				PGCUTOVER_VERSION);
		for (const Command *c = commands; c->name; c++)
			fprintf(out, "  %-11s %s%s\n", c->name, c->summary,
					c->run ? "" : " (not implemented yet)");
		fprintf(out, "\nCommon options:\n");
	}
	else
		fprintf(out, "pgcutover %s - %s\n\nUsage: pgcutover %s [options]\n\n%s\nOptions:\n",
				cmd->name, cmd->summary, cmd->name, cmd->usage);

	for (const OptSpec *o = optspecs; o->lo.name; o++)
	{
		char		left[64];

		if (cmd == NULL ? o->commands != C_ALL : !(o->commands & command_bit(cmd)))
			continue;
		snprintf(left, sizeof(left), "--%s%s%s", o->lo.name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		fprintf(out, "  %-28s %s\n", left, o->help);
	}
	fprintf(out, "\nDSNs: libpq keyword strings, postgresql:// URIs or SQLAlchemy URLs;\n"
			"PG* environment variables, ~/.pgpass and services apply.\n\n%s", exit_code_help);
	if (cmd == NULL)
		fprintf(out, "\nRun 'pgcutover COMMAND --help' for the options of a command.\n");
}

static bool
parse_int_arg(const char *name, const char *s, int min, int *out, FILE *err)
{
	char	   *end;
	long		v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < min || v > 100000)
	{
		fprintf(err, "pgcutover: invalid value \"%s\" for --%s: expected an integer from %d to 100000; fix: give a value in that range\n",
				s, name, min);
		return false;
	}
	*out = (int) v;
	return true;
}

static bool
parse_seconds_arg(const char *name, const char *s, double *out, FILE *err)
{
	char	   *end;
	double		v = strtod(s, &end);

	if (*s == '\0' || *end != '\0' || !(v >= 0) || v > 1e9)
	{
		fprintf(err, "pgcutover: invalid value \"%s\" for --%s: expected seconds >= 0; fix: give a number of seconds such as 0.5 or 30\n", s, name);
		return false;
	}
	*out = v;
	return true;
}

static void
set_str(char **dst, const char *val)
{
	free(*dst);
	*dst = pg_strdup(val);
}

/* Applies one parsed option to opts; false on a bad value. */
static bool
apply_option(int code, const char *name, const char *arg, Options *opts, FILE *err)
{
	switch (code)
	{
		case O_SOURCE: set_str(&opts->source, arg); return true;
		case O_TARGET: set_str(&opts->target, arg); return true;
		case O_JSON: opts->json = true; return true;
		case O_DRY_RUN: opts->dry_run = true; return true;
		case O_YES: opts->yes = true; return true;
		case O_ALLOW_NONEMPTY: opts->allow_nonempty_target = true; return true;
		case O_SLOT: set_str(&opts->slot, arg); return true;
		case O_JOBS: return parse_int_arg(name, arg, 1, &opts->jobs, err);
		case O_INDEX_JOBS: return parse_int_arg(name, arg, 1, &opts->index_jobs, err);
		case O_SNAPSHOT_HOLD: return parse_int_arg(name, arg, 0, &opts->snapshot_hold, err);
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
		case O_WAIT_LAG: return parse_seconds_arg(name, arg, &opts->wait_lag, err);
		case O_TIMEOUT: return parse_seconds_arg(name, arg, &opts->timeout, err);
		case O_MAX_LAG: return parse_seconds_arg(name, arg, &opts->max_lag, err);
		case O_WATCH:
			opts->watch = true;
			return arg == NULL || parse_seconds_arg(name, arg, &opts->watch_interval, err);
		case O_KEEP_STATE: opts->keep_state = true; return true;
		case O_HEARTBEAT: return parse_seconds_arg(name, arg, &opts->heartbeat_interval, err);
		case O_METRICS: set_str(&opts->metrics_listen, arg); return true;
		case O_METRICS_PUBLIC: opts->metrics_allow_public = true; return true;
		case O_FENCE:
			if (strcmp(arg, "default") != 0 && strcmp(arg, "none") != 0)
			{
				fprintf(err, "pgcutover: invalid --fence \"%s\"; fix: use default or none (with --fence-command)\n", arg);
				return false;
			}
			set_str(&opts->fence, arg);
			return true;
		case O_FENCE_COMMAND: set_str(&opts->fence_command, arg); return true;
		case O_POST_COMMAND: set_str(&opts->post_command, arg); return true;
		case O_SEQ_GAP:
			{
				int			gap;

				if (!parse_int_arg(name, arg, 0, &gap, err))
					return false;
				opts->sequence_gap = gap;
				return true;
			}
		case O_SKIP_VERIFY: opts->skip_verify = true; return true;
		case O_VERIFY:
			if (strcmp(arg, "incremental") != 0 && strcmp(arg, "full") != 0 && strcmp(arg, "none") != 0)
			{
				fprintf(err, "pgcutover: invalid --verify \"%s\"; fix: use incremental, full or none\n", arg);
				return false;
			}
			set_str(&opts->verify_mode, arg);
			return true;
		case O_ONLINE: opts->online = true; return true;
		case O_MAX_RATE:
			{
				int			rate;

				if (!parse_int_arg(name, arg, 1, &rate, err))
					return false;
				opts->verify_max_rate = rate;
				return true;
			}
		case O_DATABASE: strlist_add(&opts->databases, arg); return true;
		case O_SWITCHOVER: opts->switchover = true; return true;
		case O_ABORT_MISMATCH: opts->abort_on_mismatch = true; return true;
		case O_REVERSE: opts->reverse = true; return true;
		case O_CONSTRAINTS: opts->check_constraints = true; return true;
		case O_DDL:
			if (strcmp(arg, "apply") != 0 && strcmp(arg, "stop") != 0)
			{
				fprintf(err, "pgcutover: invalid --ddl \"%s\"; fix: use apply or stop\n", arg);
				return false;
			}
			set_str(&opts->ddl_mode, arg);
			return true;
		case O_DDL_EXCLUDE: set_str(&opts->ddl_exclude, arg); return true;
		case O_RESUME_AFTER_DDL: opts->resume_after_ddl = true; return true;
		case O_PGBOUNCER: strlist_add(&opts->pgbouncer, arg); return true;
		case O_PGBOUNCER_INI: strlist_add(&opts->pgbouncer_ini, arg); return true;
		case O_REPOINT_COMMAND: set_str(&opts->repoint_command, arg); return true;
	}
	return true;
}

/* Flags that the getopt loop handles itself, for config files. */
static bool
apply_flag(int code, Options *opts)
{
	if (code == O_VERBOSE)
		opts->log_level = LOG_DEBUG;
	else if (code == O_QUIET)
		opts->log_level = LOG_WARN;
	else if (code == O_LOG_JSON)
		opts->log_json = true;
	return true;
}

static void
set_defaults(Options *opts)
{
	long		ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	memset(opts, 0, sizeof(*opts));
	opts->jobs = ncpu > 0 ? (int) ncpu : 2;
	opts->index_jobs = opts->jobs;
	opts->split_threshold = 1024LL * 1024 * 1024;
	opts->snapshot_hold = 600;
	opts->max_lag = 1.0;
	opts->watch_interval = 2.0;
	opts->wait_lag = -1;
	opts->heartbeat_interval = 1.0;
	opts->log_level = LOG_INFO;
}

/*
 * Finds the command word and --config FILE in argv without getopt: options
 * that take a value skip it.
 */
static void
prescan(int argc, char **argv, const Command **cmd, const char **config)
{
	for (int i = 1; i < argc; i++)
	{
		const char *a = argv[i];

		if (strncmp(a, "--config=", 9) == 0)
			*config = a + 9;
		else if (strcmp(a, "--config") == 0 && i + 1 < argc)
			*config = argv[++i];
		else if (strncmp(a, "--", 2) == 0 && strchr(a, '=') == NULL)
		{
			for (const OptSpec *o = optspecs; o->lo.name; o++)
				if (strcmp(a + 2, o->lo.name) == 0 && o->lo.has_arg == required_argument)
					i++;
		}
		else if (a[0] != '-' && *cmd == NULL)
			*cmd = cli_find_command(a);
	}
}

static bool
parse_bool(const char *v, bool *out)
{
	if (strcasecmp(v, "true") == 0 || strcasecmp(v, "on") == 0 || strcasecmp(v, "yes") == 0 || strcmp(v, "1") == 0)
		*out = true;
	else if (strcasecmp(v, "false") == 0 || strcasecmp(v, "off") == 0 || strcasecmp(v, "no") == 0 || strcmp(v, "0") == 0)
		*out = false;
	else
		return false;
	return true;
}

/*
 * Applies a config file: "key = value" lines named like the long options,
 * '#' comments, values optionally in single or double quotes, flags as
 * true/false.  Keys that do not apply to cmd are skipped, so one file can
 * serve every command; the command line, parsed afterwards, wins.
 */
static bool
apply_config(const char *path, const Command *cmd, Options *opts, FILE *err)
{
	FILE	   *f = fopen(path, "r");
	char		line[4096];
	int			lineno = 0;
	bool		ok = true;

	if (f == NULL)
	{
		fprintf(err, "pgcutover: cannot read --config %s: %s; fix: give a readable file\n", path, strerror(errno));
		return false;
	}
	while (ok && fgets(line, sizeof(line), f))
	{
		char	   *key = line,
				   *eq,
				   *val,
				   *end;
		const OptSpec *o;

		lineno++;
		while (isspace((unsigned char) *key))
			key++;
		if (*key == '#' || *key == '\0')
			continue;
		if ((eq = strchr(key, '=')) == NULL)
		{
			fprintf(err, "pgcutover: %s:%d: expected key = value; fix: correct the line\n", path, lineno);
			ok = false;
			break;
		}
		for (end = eq; end > key && isspace((unsigned char) end[-1]); end--)
			;
		*end = '\0';
		for (val = eq + 1; isspace((unsigned char) *val); val++)
			;
		for (end = val + strlen(val); end > val && isspace((unsigned char) end[-1]); end--)
			;
		*end = '\0';
		if (end - val >= 2 && (val[0] == '\'' || val[0] == '"') && end[-1] == val[0])
		{
			end[-1] = '\0';
			val++;
		}
		for (o = optspecs; o->lo.name && strcmp(o->lo.name, key) != 0; o++)
			;
		if (o->lo.name == NULL || o->lo.val == O_CONFIG || o->lo.val == O_HELP || o->lo.val == O_VERSION)
		{
			fprintf(err, "pgcutover: %s:%d: unknown option \"%s\"; fix: use long option names without --\n", path, lineno, key);
			ok = false;
		}
		else if (cmd && !(o->commands & command_bit(cmd)))
			continue;
		else if (o->lo.has_arg == no_argument)
		{
			bool		on;

			if (!parse_bool(val, &on))
			{
				fprintf(err, "pgcutover: %s:%d: %s takes true or false; fix: correct the value\n", path, lineno, key);
				ok = false;
			}
			else if (on)
				ok = apply_flag(o->lo.val, opts) && apply_option(o->lo.val, key, NULL, opts, err);
		}
		else
			ok = apply_option(o->lo.val, key, val, opts, err);
	}
	fclose(f);
	return ok;
}

CliResult
cli_parse(int argc, char **argv, Options *opts, FILE *out, FILE *err)
{
	struct option longopts[sizeof(optspecs) / sizeof(optspecs[0])];
	unsigned	seen[sizeof(optspecs) / sizeof(optspecs[0])];
	const Command *cmd = NULL;
	bool		want_help = false;
	int			n = 0;
	int			c;
	int			longindex;

	set_defaults(opts);
	{
		const Command *precmd = NULL;
		const char *config = NULL;

		prescan(argc, argv, &precmd, &config);
		if (config && !apply_config(config, precmd, opts, err))
			return CLI_EXIT_USAGE;
	}
	for (const OptSpec *o = optspecs; o->lo.name; o++)
		longopts[n++] = o->lo;
	memset(&longopts[n], 0, sizeof(longopts[n]));
	memset(seen, 0, sizeof(seen));

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+hVvq", longopts, &longindex)) != -1 ||
		   optind < argc)
	{
		if (c == -1)
		{
			/* a non-option: the command (or "help"), then keep parsing */
			const char *word = argv[optind++];

			if (cmd == NULL && strcmp(word, "help") == 0 && !want_help)
			{
				want_help = true;
				continue;
			}
			if (cmd != NULL && cmd->run == cmd_ddl_capture && opts->ddl_action == NULL)
			{
				if (strcmp(word, "install") != 0 && strcmp(word, "remove") != 0 && strcmp(word, "status") != 0)
				{
					fprintf(err, "pgcutover: unknown ddl-capture action \"%s\"; fix: use install, remove or status\n", word);
					return CLI_EXIT_USAGE;
				}
				opts->ddl_action = pg_strdup(word);
				continue;
			}
			if (cmd != NULL)
			{
				fprintf(err, "pgcutover: unexpected argument \"%s\"; fix: commands take options only, see 'pgcutover %s --help'\n",
						word, cmd->name);
				return CLI_EXIT_USAGE;
			}
			if ((cmd = cli_find_command(word)) == NULL)
			{
				fprintf(err, "pgcutover: unknown command \"%s\"; fix: use one of check, copy, follow, status, switchover, verify, cleanup, migrate, ddl-capture\n", word);
				return CLI_EXIT_USAGE;
			}
			continue;
		}
		switch (c)
		{
			case 'h': case O_HELP: want_help = true; break;
			case 'V': case O_VERSION:
				fprintf(out, "pgcutover %s\n", PGCUTOVER_VERSION);
				return CLI_EXIT_OK;
			case 'v': case O_VERBOSE: opts->log_level = LOG_DEBUG; break;
			case 'q': case O_QUIET: opts->log_level = LOG_WARN; break;
			case O_LOG_JSON: opts->log_json = true; break;
			case O_CONFIG: break;		/* applied before the command line */
			case '?':
			case ':':
				if (optopt && optopt < 1000)
					fprintf(err, "pgcutover: unknown option \"-%c\"; fix: see 'pgcutover --help'\n", optopt);
				else if (optopt >= 1000)
					fprintf(err, "pgcutover: option \"%s\" needs a value; fix: see 'pgcutover --help'\n", argv[optind - 1]);
				else
					fprintf(err, "pgcutover: unknown option \"%s\"; fix: see 'pgcutover --help'\n", argv[optind - 1]);
				return CLI_EXIT_USAGE;
			default:
				if (!apply_option(c, longopts[longindex].name, optarg, opts, err))
					return CLI_EXIT_USAGE;
				seen[longindex] = 1;
				break;
		}
	}

	if (want_help)
	{
		cli_print_help(out, cmd);
		return CLI_EXIT_OK;
	}
	if (cmd == NULL)
	{
		fprintf(err, "pgcutover: no command given; fix: run 'pgcutover --help' to list commands\n");
		return CLI_EXIT_USAGE;
	}
	for (int i = 0; optspecs[i].lo.name; i++)
		if (seen[i] && !(optspecs[i].commands & command_bit(cmd)))
		{
			fprintf(err, "pgcutover: option --%s does not apply to command %s; fix: see 'pgcutover %s --help'\n",
					optspecs[i].lo.name, cmd->name, cmd->name);
			return CLI_EXIT_USAGE;
		}
	opts->command = cmd->name;
	if (cmd->run == cmd_ddl_capture && opts->ddl_action == NULL)
	{
		fprintf(err, "pgcutover: ddl-capture needs an action; fix: pgcutover ddl-capture install|remove|status --source DSN\n");
		return CLI_EXIT_USAGE;
	}
	if (opts->skip_verify && opts->verify_mode && strcmp(opts->verify_mode, "none") != 0)
	{
		fprintf(err, "pgcutover: --skip-verify contradicts --verify %s; fix: give one of them\n", opts->verify_mode);
		return CLI_EXIT_USAGE;
	}
	if (opts->verify_mode && strcmp(opts->verify_mode, "none") == 0)
		opts->skip_verify = true;
	if (opts->fence && strcmp(opts->fence, "none") == 0 && opts->fence_command == NULL)
	{
		fprintf(err, "pgcutover: --fence=none needs --fence-command; fix: give the command that stops writes (or use --fence=default)\n");
		return CLI_EXIT_USAGE;
	}
	if (opts->fence_command && !(opts->fence && strcmp(opts->fence, "none") == 0))
	{
		fprintf(err, "pgcutover: --fence-command goes with --fence=none; fix: add --fence=none\n");
		return CLI_EXIT_USAGE;
	}
	if (opts->pgbouncer.count > 0 && opts->pgbouncer_ini.count == 0 && opts->repoint_command == NULL)
	{
		fprintf(err, "pgcutover: --pgbouncer needs a way to point PgBouncer at the target; fix: add --pgbouncer-ini PATH (the file with its [databases] entry) or --repoint-command CMD\n");
		return CLI_EXIT_USAGE;
	}
	if ((opts->pgbouncer_ini.count > 0 || opts->repoint_command) && opts->pgbouncer.count == 0)
	{
		fprintf(err, "pgcutover: --pgbouncer-ini and --repoint-command go with --pgbouncer; fix: add --pgbouncer ADMIN_DSN (the admin console, dbname=pgbouncer)\n");
		return CLI_EXIT_USAGE;
	}
	if (opts->pgbouncer_ini.count > 0 && opts->repoint_command)
	{
		fprintf(err, "pgcutover: --pgbouncer-ini and --repoint-command are two ways of doing the same; fix: give only one of them\n");
		return CLI_EXIT_USAGE;
	}
	if (opts->pgbouncer_ini.count > 1 && opts->pgbouncer_ini.count != opts->pgbouncer.count)
	{
		fprintf(err, "pgcutover: %d --pgbouncer-ini for %d --pgbouncer; fix: give one --pgbouncer-ini for all, or one per --pgbouncer in the same order\n",
				opts->pgbouncer_ini.count, opts->pgbouncer.count);
		return CLI_EXIT_USAGE;
	}

	if (opts->source == NULL && getenv("PGCUTOVER_SOURCE"))
		opts->source = pg_strdup(getenv("PGCUTOVER_SOURCE"));
	if (opts->target == NULL && getenv("PGCUTOVER_TARGET"))
		opts->target = pg_strdup(getenv("PGCUTOVER_TARGET"));
	if (opts->slot == NULL)
		opts->slot = pg_strdup("pgcutover");
	if (strlen(opts->slot) > 63 || strspn(opts->slot, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(opts->slot))
	{
		fprintf(err, "pgcutover: invalid slot name \"%s\"; fix: use 1-63 lower-case letters, digits or underscores\n", opts->slot);
		return CLI_EXIT_USAGE;
	}
	return CLI_RUN;
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
