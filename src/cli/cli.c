/*
 * cli.c
 *	  The command line's tables: the commands, the options and the words
 *	  status prints.  Options may come before or after the command; each
 *	  option says which commands accept it and, where it means something
 *	  else for some of them, what.  The parser (cli_parse.c), --help
 *	  (cli_help.c), the man page and the bash completion (clidoc.c) are all
 *	  made from these tables, so an option, command or state added here is
 *	  parsed and documented everywhere at once; what an option does to
 *	  Options is apply_option (cli_options.c).
 */
#include <string.h>

#include "cli_int.h"

/* Words `pgcutover status` prints as its state (src/switchover/status.c). */
static const CliTerm status_states[] = {
	{"never_started", "no migration of this slot on the target (exit 7)"},
	{"cleaned_up", "switched over and cleaned up; the old source keeps its fence (exit 7)"},
	{"copying", "copy is running, or died and can be resumed"},
	{"copied", "copy finished, no follower has run yet"},
	{"following", "a follower is running"},
	{"stopped", "the follower stopped cleanly (or died without saying so)"},
	{"failed", "the follower stopped on an error (last_error says which)"},
	{"source_unreachable", "--source was given and did not answer: the slot's state is unknown"},
	{"slot_missing", "the slot is gone from the source; cleanup and copy again"},
	{"slot_lost", "the source invalidated the slot (max_slot_wal_keep_size); cleanup and copy again"},
	{"switched_over", "the application runs on the target; the old source stays fenced"},
	{NULL, NULL}
};

static const Command commands[] = {
	{"check", "preflight: verify both servers are ready for a migration", cmd_check,
		"Checks run: connectivity, versions, wal_level, free slots and senders,\n"
		"wal2json installed and allowed by output_plugin_libraries, REPLICATION and\n"
		"SELECT privileges, CREATE on the target, primary keys / replica identity,\n"
		"large objects, extensions, disk, an empty target, transactions open on\n"
		"the source (a slot waits for them), and the roles the schema names\n"
		"(--keep-acl, --roles).  One line per finding (ok, warn, FAIL) with the\n"
		"exact fix; exit 0 when nothing failed.\n",
	NULL, NULL},
	{"copy", "copy schema and data in one consistent snapshot and create the slot", cmd_copy,
		"Creates the logical slot (wal2json) with an exported snapshot, restores the\n"
		"pre-data schema, copies every table in parallel (binary COPY, large tables\n"
		"split by CTID range) and the large objects, then builds indexes and\n"
		"constraints and sets sequences.  Rerun after a crash to resume in the same snapshot.\n",
	NULL, NULL},
	{"follow", "stream changes from the slot and apply them to the target", cmd_follow,
		"Streams the slot (wal2json) and applies every committed source transaction\n"
		"to the target in commit order, exactly once: the applied position commits in\n"
		"the same target transaction as the changes.  Runs until SIGINT/SIGTERM (it\n"
		"finishes the current transaction first), or with --until-caught-up until\n"
		"everything committed on the source when it started is applied.  --dry-run\n"
		"reads the state and the slot and says what follow would do, or why it\n"
		"would refuse (with that exit code); nothing is streamed or written.\n",
	NULL, NULL},
	{"status", "show replication lag and follower state", cmd_status,
		"Reads the migration's state on the target (the follower updates it every\n"
		"second) and the slot on the source.  --json fields: state, slot, phase,\n"
		"source_lsn, applied_lsn, lag_bytes, lag_seconds, txn_per_sec, rows_per_sec,\n"
		"follower_pid, follower_alive, follower_last_seen, slot_exists, slot_active,\n"
		"slot_retained_wal_bytes, wal_status, last_error, warnings,\n"
		"online_verification, switchover_verify, catch_up, lag_history (see\n"
		"docs/json.md).  --wait-lag D exits 0 once the\n"
		"lag is at most D (9 after --timeout, 7 at once if the slot is lost).\n",
	NULL, status_states},
	{"switchover", "fence the source, drain, sync sequences, verify", cmd_switchover,
		"With a follower running: wait for lag <= --max-lag, fence writes on the\n"
		"source (airtight: no new connection, every other session ended; or\n"
		"--fence none with --fence-command), wait until a fence marker is applied,\n"
		"set sequences, carry large objects, verify, run --post-command, then the\n"
		"follower exits; the old source stays fenced (readable, every write\n"
		"refused).  Any failure or SIGINT before the end lifts the fence.  --dry-run\n"
		"prints every statement.\n\n"
		"With --pgbouncer (transaction pooling): the source's entries are PAUSEd\n"
		"before the fence and, once verified, repointed at the target (--pgbouncer-ini\n"
		"or --repoint-command), RELOADed and RESUMEd: clients wait, they see no error.\n"
		"On abort they are RESUMEd against the source.\n",
	NULL, NULL},
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
		"switchover); during follow, differences may be in flux.\n",
	NULL, NULL},
	{"cleanup", "drop the slot and the pgcutover state", cmd_cleanup,
		"Releases a leftover snapshot keeper, lifts a switchover fence on the\n"
		"source, drops the slot (refused while a follower uses it), restores\n"
		"GENERATED ALWAYS identity columns and drops schema pgcutover on the\n"
		"target (--keep-state keeps it).  Idempotent.  Asks first unless --yes.\n",
	NULL, NULL},
	{"migrate", "check, copy, follow (and optionally switch over) in one run", cmd_migrate,
		"For each database (--database, repeatable; default: the one in the DSNs):\n"
		"copy (with its preflight), then a follower per database until lag <=\n"
		"--max-lag; then keep following until SIGINT, or with --switchover switch\n"
		"over each database and clean up.  Rerun after a crash to resume.\n"
		"--metrics-listen serves every database's follower on one endpoint\n"
		"(labels slot and database).  --dry-run runs copy's dry run (with its\n"
		"preflight) per database and prints the rest of the plan: no slot, no\n"
		"follower, no fence.\n",
	NULL, NULL},
	{"ddl-capture", "install|remove|status: carry the source's DDL in the stream", cmd_ddl_capture,
		"One action is required: install, remove or status (--source only).\n\n"
		"install: event triggers on the source (needs superuser) that write every\n"
		"DDL command into the WAL as a transactional logical message, so follow\n"
		"replays it on the target at exactly its place among the row changes\n"
		"(follow --ddl apply, the default once installed).  remove: drops them\n"
		"(cleanup does too, with the last slot of the database).  status: says\n"
		"whether they are installed.\n",
	"install|remove|status", NULL},
	{NULL, NULL, NULL, NULL, NULL, NULL}
};

#define FILTERED (C_CHECK | C_COPY | C_MIGRATE | C_VERIFY)

/*
 * One row per option: name, short, code, commands, argument, value kind,
 * placeholder or modes, range (integers and durations), --help line, and
 * more for the man page; optmeanings below says what an option means where
 * that depends on the command.  Add options at the end of a group.
 */
static const OptSpec optspecs[] = {
	/* every command */
	{"source", 0, O_SOURCE, C_ALL, ARG_REQUIRED, VAL_TEXT, "DSN", 0, 0,
		"source database (or PGCUTOVER_SOURCE)",
	"libpq keyword strings, postgresql:// URIs and SQLAlchemy URLs are accepted."},
	{"target", 0, O_TARGET, C_ALL, ARG_REQUIRED, VAL_TEXT, "DSN", 0, 0,
	"target database (or PGCUTOVER_TARGET)", NULL},
	{"slot", 0, O_SLOT, C_ALL, ARG_REQUIRED, VAL_TEXT, "NAME", 0, 0,
	"replication slot, and name of the migration (default pgcutover)", NULL},
	{"json", 0, O_JSON, C_ALL, ARG_NONE, VAL_TEXT, NULL, 0, 0,
	"print one JSON document on stdout (status --watch: one per line); logs go to stderr",
	"Every document has command, ok, exit_code and schema_version, also when the command fails; docs/json.md documents every field."},
	{"dry-run", 0, O_DRY_RUN, C_CHECK | C_COPY | C_FOLLOW | C_STATUS | C_SWITCHOVER | C_CLEANUP | C_MIGRATE | C_DDL_CAPTURE,
		ARG_NONE, VAL_TEXT, NULL, 0, 0,
		"print what would be done (the SQL, in order), change nothing",
	"verify refuses it (verify --online writes its verdicts and has the follower stand still)."},
	{"verbose", 'v', O_VERBOSE, C_ALL, ARG_NONE, VAL_TEXT, NULL, 0, 0,
	"more log output (debug)", NULL},
	{"quiet", 'q', O_QUIET, C_ALL, ARG_NONE, VAL_TEXT, NULL, 0, 0,
	"only warnings and errors", NULL},
	{"log-json", 0, O_LOG_JSON, C_ALL, ARG_NONE, VAL_TEXT, NULL, 0, 0,
	"log lines as JSON on stderr, one object per line",
	"Fields ts, level, msg, fix, slot, check, and exit_code on the last line of a run that fails."},
	{"no-password", 'w', O_NO_PASSWORD, C_ALL, ARG_NONE, VAL_TEXT, NULL, 0, 0,
		"never ask for a password on the terminal",
		"Without it, a password a server asks for and the DSN, PGPASSWORD and\n"
		"~/.pgpass lack is asked for on the terminal (when standard input is one),\n"
	"once per server and role."},
	{"config", 0, O_CONFIG, C_ALL, ARG_REQUIRED, VAL_FILE, "FILE", 0, 0,
		"read options from FILE: key = value lines, long option names",
	"# starts a comment; flags take true or false; the command line wins."},
	{"help", 'h', O_HELP, C_ALL, ARG_NONE, VAL_TEXT, NULL, 0, 0,
	"show help (of the command, after one)", NULL},
	{"version", 'V', O_VERSION, C_ALL, ARG_NONE, VAL_TEXT, NULL, 0, 0,
	"show the version", NULL},
	{"generate", 0, O_GENERATE, 0, ARG_REQUIRED, VAL_MODE, "man|bash-completion", 0, 0,
	"for packagers: write the man page or the bash completion", NULL},

	/* what to migrate */
	{"allow-nonempty-target", 0, O_ALLOW_NONEMPTY, C_CHECK | C_COPY | C_MIGRATE, ARG_NONE, VAL_TEXT, NULL, 0, 0,
	"accept a target that already has tables", NULL},
	{"include-schema", 0, O_INC_SCHEMA, FILTERED, ARG_REQUIRED, VAL_TEXT, "NAME", 0, 0,
	"only this schema (repeatable)", "follow keeps the copy's filters."},
	{"exclude-schema", 0, O_EXC_SCHEMA, FILTERED, ARG_REQUIRED, VAL_TEXT, "NAME", 0, 0,
	"skip this schema (repeatable)", NULL},
	{"include-table", 0, O_INC_TABLE, FILTERED, ARG_REQUIRED, VAL_TEXT, "SCHEMA.TABLE", 0, 0,
	"only this table (repeatable)", NULL},
	{"exclude-table", 0, O_EXC_TABLE, FILTERED, ARG_REQUIRED, VAL_TEXT, "SCHEMA.TABLE", 0, 0,
	"skip this table (repeatable)", NULL},
	{"database", 0, O_DATABASE, C_MIGRATE, ARG_REQUIRED, VAL_TEXT, "NAME", 0, 0,
	"migrate this database of the DSNs' servers (repeatable; one slot each)", NULL},

	/* copy */
	{"jobs", 'j', O_JOBS, C_COPY | C_MIGRATE | C_VERIFY | C_SWITCHOVER, ARG_REQUIRED, VAL_INT, "N", 1, 100000,
	"parallel table copies (default: cores)", NULL},
	{"index-jobs", 0, O_INDEX_JOBS, C_COPY | C_MIGRATE, ARG_REQUIRED, VAL_INT, "N", 1, 100000,
	"parallel index builds (default: cores)", NULL},
	{"split-threshold", 0, O_SPLIT, C_COPY | C_MIGRATE, ARG_REQUIRED, VAL_SIZE, "SIZE", 0, 0,
	"copy tables larger than SIZE in CTID ranges (default 1GB)", NULL},
	{"backup", 0, O_BACKUP, C_COPY | C_MIGRATE, ARG_REQUIRED, VAL_DIR, "DIR", 0, 0,
	"also write pg_dump -Fc of the snapshot and its .sha256 to DIR", NULL},
	{"pg-bin-dir", 0, O_PG_BIN, C_CHECK | C_COPY | C_MIGRATE, ARG_REQUIRED, VAL_DIR, "DIR", 0, 0,
		"where pg_dump lives (default: the highest /usr/lib/postgresql/N/bin from the source's major to the target's)",
	"A pg_dump outside that range is refused, by check too."},
	{"snapshot-hold", 0, O_SNAPSHOT_HOLD, C_COPY | C_MIGRATE, ARG_REQUIRED, VAL_DURATION, "DURATION", 0, 30 * SECS_PER_DAY,
	"keep the exported snapshot this long for a resume after a crash (default 10min)", NULL},
	{"roles", 0, O_ROLES, C_CHECK | C_COPY | C_MIGRATE, ARG_NONE, VAL_TEXT, NULL, 0, 0,
		"create on the target the roles the migrated objects need (owners, grantees, their members and groups)",
		"Never SUPERUSER, REPLICATION or BYPASSRLS; no password without\n"
		"--role-passwords.  A role that exists on the target is left as it is;\n"
	"nothing is dropped.  Pair it with --keep-acl to keep owners and GRANTs."},
	{"role-passwords", 0, O_ROLE_PASSWORDS, C_CHECK | C_COPY | C_MIGRATE, ARG_NONE, VAL_TEXT, NULL, 0, 0,
		"with --roles: carry the roles' password hashes too",
	"They are in pg_authid: the source role must be a superuser."},
	{"keep-acl", 0, O_KEEP_ACL, C_CHECK | C_COPY | C_MIGRATE, ARG_NONE, VAL_TEXT, NULL, 0, 0,
		"keep owners, GRANTs and default privileges (default: the target role owns everything, no GRANTs)",
	"Every role they name must exist on the target: check fails naming the missing ones (create them, or add --roles)."},

	/* follow */
	{"until-caught-up", 0, O_UNTIL_CAUGHT_UP, C_FOLLOW, ARG_NONE, VAL_TEXT, NULL, 0, 0,
	"exit once everything committed on the source at start is applied", NULL},
	{"endpos", 0, O_ENDPOS, C_FOLLOW, ARG_REQUIRED, VAL_TEXT, "LSN", 0, 0,
	"stop at this source WAL position", NULL},
	{"ddl", 0, O_DDL, C_FOLLOW | C_MIGRATE, ARG_REQUIRED, VAL_MODE, "apply|stop", 0, 0,
		"captured DDL: apply (default when capture is installed) or stop",
	"stop ends follow (exit 8) at each captured DDL command."},
	{"ddl-exclude", 0, O_DDL_EXCLUDE, C_FOLLOW | C_MIGRATE, ARG_REQUIRED, VAL_TEXT, "REGEX", 0, 0,
		"skip captured DDL whose objects all match REGEX (e.g. ^audit\\.)",
	"POSIX extended, matched against names like public.audit_log."},
	{"resume-after-ddl", 0, O_RESUME_AFTER_DDL, C_FOLLOW, ARG_NONE, VAL_TEXT, NULL, 0, 0,
		"continue after a DDL stop: skip the captured command that stopped follow",
	"Run the equivalent on the target by hand first."},
	{"apply-jobs", 0, O_APPLY_JOBS, C_FOLLOW | C_MIGRATE, ARG_REQUIRED, VAL_INT, "N", 1, 64,
		"target sessions applying independent source transactions in parallel (default 1)",
		"Commits keep the source's order; transactions touching the same rows\n"
		"(table and key) wait for each other, TRUNCATE and DDL for everything.\n"
		"Worth it when the source writes faster than one session applies."},
	{"heartbeat-interval", 0, O_HEARTBEAT, C_FOLLOW | C_MIGRATE, ARG_REQUIRED, VAL_DURATION, "DURATION", 0, SECS_PER_DAY,
	"heartbeat on the source for lag in seconds (default 1s, 0: off; else at least 10ms)", NULL},
	{"metrics-listen", 0, O_METRICS, C_FOLLOW | C_MIGRATE, ARG_REQUIRED, VAL_TEXT, "HOST:PORT", 0, 0,
	"serve Prometheus metrics at /metrics (e.g. 127.0.0.1:9187; labels slot and database)",
	"With migrate of several databases, one endpoint serves every database's follower."},
	{"metrics-allow-public", 0, O_METRICS_PUBLIC, C_FOLLOW | C_MIGRATE, ARG_NONE, VAL_TEXT, NULL, 0, 0,
	"allow --metrics-listen on a non-loopback address", NULL},

	/* status */
	{"wait-lag", 0, O_WAIT_LAG, C_STATUS, ARG_REQUIRED, VAL_DURATION, "DURATION", 0, 365 * SECS_PER_DAY,
	"wait until the lag is at most DURATION, then exit 0", NULL},
	{"watch", 0, O_WATCH, C_STATUS, ARG_OPTIONAL, VAL_DURATION, "DURATION", 0.1, 3600,
	"refresh every DURATION (default 2s; from 100ms to 1h), under a clock header",
	"Human output shows lag in human units, whether and when the target catches up, and a sparkline of the last ten minutes of lag (Unicode bars in a UTF-8 locale, ASCII otherwise)."},
	{"timeout", 0, O_TIMEOUT, C_STATUS | C_SWITCHOVER | C_MIGRATE, ARG_REQUIRED, VAL_DURATION, "DURATION", 0, 365 * SECS_PER_DAY,
	"give up after DURATION", NULL},

	/* switchover and migrate */
	{"max-lag", 0, O_MAX_LAG, C_SWITCHOVER | C_MIGRATE, ARG_REQUIRED, VAL_DURATION, "DURATION", 0, 365 * SECS_PER_DAY,
	"lag required before fencing (default 1s)", NULL},
	{"fence", 0, O_FENCE, C_SWITCHOVER | C_MIGRATE, ARG_REQUIRED, VAL_MODE, "default|none", 0, 0,
		"how writes stop: default (airtight) or none (with --fence-command)",
		"default: the database refuses new connections (even superusers'), every\n"
		"other session of it is ended, and prepared transactions refuse the\n"
		"switchover; after the switchover a trigger on every table refuses writes.\n"
	"none: run --fence-command instead."},
	{"fence-command", 0, O_FENCE_COMMAND, C_SWITCHOVER | C_MIGRATE, ARG_REQUIRED, VAL_TEXT, "CMD", 0, 0,
	"with --fence none: shell command that stops writes", NULL},
	{"post-command", 0, O_POST_COMMAND, C_SWITCHOVER | C_MIGRATE, ARG_REQUIRED, VAL_TEXT, "CMD", 0, 0,
	"shell command once the target is ready (repoint the application)", NULL},
	{"sequence-gap", 0, O_SEQ_GAP, C_SWITCHOVER | C_MIGRATE, ARG_REQUIRED, VAL_INT, "N", 0, 100000,
	"add N to every sequence on the target (default 0)", NULL},
	{"verify", 0, O_VERIFY, C_SWITCHOVER | C_MIGRATE, ARG_REQUIRED, VAL_MODE, "incremental|full|none", 0, 0,
		"what is compared inside the fence: incremental (default after a passing verify --online), full or none",
		"incremental: only the rows whose keys follow applied since the online\n"
		"verification, and whole the tables it could not track by key or that\n"
		"someone else wrote on the target; without a passing online verification\n"
	"it refuses before fencing (exit 7).  full: every row (the default otherwise)."},
	{"skip-verify", 0, O_SKIP_VERIFY, C_SWITCHOVER | C_MIGRATE, ARG_NONE, VAL_TEXT, NULL, 0, 0,
	"same as --verify none", NULL},
	{"abort-on-mismatch", 0, O_ABORT_MISMATCH, C_SWITCHOVER | C_MIGRATE, ARG_NONE, VAL_TEXT, NULL, 0, 0,
	"lift the fence when verification finds a difference", NULL},
	{"reverse", 0, O_REVERSE, C_SWITCHOVER | C_MIGRATE, ARG_NONE, VAL_TEXT, NULL, 0, 0,
	"prepare replication back to the old source (rollback path)", NULL},
	{"yes", 0, O_YES, C_CLEANUP | C_SWITCHOVER | C_MIGRATE, ARG_NONE, VAL_TEXT, NULL, 0, 0,
	"do not ask for confirmation", NULL},
	{"switchover", 0, O_SWITCHOVER, C_MIGRATE, ARG_NONE, VAL_TEXT, NULL, 0, 0,
	"switch over and clean up once caught up (default: keep following)", NULL},
	{"pgbouncer", 0, O_PGBOUNCER, C_SWITCHOVER, ARG_REQUIRED, VAL_TEXT, "ADMIN_DSN", 0, 0,
		"PAUSE this PgBouncer's entries of the source, repoint, RESUME (repeatable; dbname=pgbouncer)",
		"Its entries pointing at the source are PAUSEd after the lag check and\n"
		"before the fence, repointed at the target once verified, RELOADed and\n"
		"RESUMEd: clients wait instead of failing.  On abort they are RESUMEd\n"
		"against the source.  Needs transaction pooling (in session pooling PAUSE\n"
		"waits for clients to disconnect and the switchover aborts at --timeout)\n"
	"and --pgbouncer-ini or --repoint-command."},
	{"pgbouncer-ini", 0, O_PGBOUNCER_INI, C_SWITCHOVER, ARG_REQUIRED, VAL_FILE, "FILE", 0, 0,
		"repoint by rewriting the [databases] entry in FILE (one, or one per --pgbouncer)",
		"host, port and dbname of the entry are rewritten (following %include\n"
		"lines; every other key is kept), atomically, keeping FILE.pgcutover-backup.\n"
	"One for all PgBouncers, or one per --pgbouncer in the same order."},
	{"repoint-command", 0, O_REPOINT_COMMAND, C_SWITCHOVER, ARG_REQUIRED, VAL_TEXT, "CMD", 0, 0,
		"repoint by running CMD (env PGCUTOVER_TARGET_HOST/_PORT/_DBNAME/_USER)",
		"CMD runs once through /bin/sh with PGCUTOVER_TARGET_HOST,\n"
		"PGCUTOVER_TARGET_PORT, PGCUTOVER_TARGET_DBNAME and PGCUTOVER_TARGET_USER\n"
	"set (never a password); pgcutover RELOADs and checks SHOW DATABASES afterwards."},

	/* verify */
	{"constraints", 0, O_CONSTRAINTS, C_VERIFY, ARG_NONE, VAL_TEXT, NULL, 0, 0,
	"also look for rows on the target that break a foreign key", NULL},
	{"online", 0, O_ONLINE, C_VERIFY, ARG_NONE, VAL_TEXT, NULL, 0, 0,
		"compare at one LSN while follow runs and the source takes writes",
		"A temporary logical slot's exported snapshot on the source, and a snapshot\n"
		"the follower exports once it has applied exactly up to that slot's LSN (it\n"
		"stands still about a millisecond).  Needs a free replication slot and WAL\n"
		"sender on the source.  Records the verdicts on the target; from its LSN\n"
	"on, the follower records the keys it applies, for switchover --verify incremental."},
	{"max-rate", 0, O_MAX_RATE, C_COPY | C_VERIFY | C_SWITCHOVER | C_MIGRATE, ARG_REQUIRED, VAL_INT, "ROWS", 1, 1000000000,
	"read at most ROWS rows per second on each side while verifying (default: no limit)", NULL},
	{"keep-state", 0, O_KEEP_STATE, C_CLEANUP | C_MIGRATE, ARG_NONE, VAL_TEXT, NULL, 0, 0,
	"keep the pgcutover schema (the report)", NULL},
	{NULL, 0, 0, 0, ARG_NONE, VAL_TEXT, NULL, 0, 0, NULL, NULL}
};

/* Where an option means something else for some of its commands. */
static const OptMeaning optmeanings[] = {
	{O_JOBS, C_VERIFY | C_SWITCHOVER,
	"session pairs per side comparing tables (default: cores, at most 16)", NULL},
	{O_JOBS, C_MIGRATE,
	"parallel table copies, and session pairs comparing when switching over (default: cores)", NULL},
	{O_MAX_RATE, C_COPY,
	"read at most ROWS rows per second from the source, all copy workers together (default: no limit)", NULL},
	{O_MAX_RATE, C_MIGRATE,
	"read at most ROWS rows per second: copying, from the source in total; verifying, on each side (default: no limit)", NULL},
	{O_DRY_RUN, C_CHECK | C_STATUS,
	"accepted and changes nothing: this command only reads", NULL},
	{O_DRY_RUN, C_FOLLOW,
	"say what follow would do (or why it would refuse) from the state and the slot; stream nothing", NULL},
	{O_DRY_RUN, C_MIGRATE,
	"copy's dry run per database, then the plan: no slot, no follower, no fence", NULL},
	{O_TIMEOUT, C_STATUS,
	"with --wait-lag: give up after DURATION, exit 9 (default: wait for ever)", NULL},
	{O_TIMEOUT, C_SWITCHOVER,
	"give up after DURATION and lift the fence, exit 9 (default 5min)", NULL},
	{O_TIMEOUT, C_MIGRATE,
	"give up when not every database caught up after DURATION, exit 9 (default 1d)", NULL},
	{0, 0, NULL, NULL}
};

_Static_assert(sizeof(optspecs) / sizeof(optspecs[0]) == CLI_NOPTS + 1,
			   "optspecs[] needs one row per O_* code");

const OptSpec *
cli_optspecs(void)
{
	return optspecs;
}

const Command *
cli_commands(void)
{
	return commands;
}

const CliTerm *
cli_status_states(void)
{
	return status_states;
}

const Command *
cli_find_command(const char *name)
{
	for (const Command *c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

unsigned
cli_command_bit(const Command *cmd)
{
	return 1u << (unsigned) (cmd - commands);
}

void
cli_option_text(const OptSpec *o, unsigned bits, const char **help, const char **more)
{
	*help = o->help;
	*more = o->more;
	for (const OptMeaning *m = optmeanings; m->code; m++)
		if (m->code == o->code && (m->commands & bits))
		{
			*help = m->help;
			*more = m->more;
			return;
		}
}
