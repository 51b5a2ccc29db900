/*
 * cli.c
 *	  The command line: the command table and the option table, and the
 *	  parser and --help made from them.  Options may come before or after
 *	  the command; each option says which commands accept it and, where it
 *	  means something else for some of them, what.  The man page and the
 *	  bash completion are generated from the same tables (clidoc.c), so an
 *	  option, command or state added here is documented everywhere at once.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_table.h"
#include "log.h"
#include "strbuf.h"
#include "units.h"

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

enum
{
	O_SOURCE = 1000, O_TARGET, O_JSON, O_DRY_RUN, O_VERBOSE, O_QUIET, O_LOG_JSON,
	O_YES, O_HELP, O_VERSION, O_NO_PASSWORD, O_GENERATE, O_ALLOW_NONEMPTY, O_SLOT,
	O_JOBS, O_INDEX_JOBS, O_APPLY_JOBS, O_SPLIT, O_INC_SCHEMA, O_EXC_SCHEMA, O_INC_TABLE,
	O_EXC_TABLE, O_BACKUP, O_PG_BIN, O_SNAPSHOT_HOLD, O_UNTIL_CAUGHT_UP, O_ENDPOS,
	O_WAIT_LAG, O_TIMEOUT, O_WATCH, O_MAX_LAG, O_KEEP_STATE, O_HEARTBEAT, O_METRICS,
	O_METRICS_PUBLIC, O_FENCE, O_FENCE_COMMAND, O_POST_COMMAND, O_SEQ_GAP,
	O_SKIP_VERIFY, O_ABORT_MISMATCH, O_DATABASE, O_SWITCHOVER, O_REVERSE,
	O_CONSTRAINTS, O_CONFIG, O_DDL, O_DDL_EXCLUDE, O_RESUME_AFTER_DDL, O_PGBOUNCER,
	O_PGBOUNCER_INI, O_REPOINT_COMMAND, O_ONLINE, O_VERIFY, O_MAX_RATE, O_ROLES,
	O_ROLE_PASSWORDS, O_KEEP_ACL
};

#define DAY 86400.0
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
	{"snapshot-hold", 0, O_SNAPSHOT_HOLD, C_COPY | C_MIGRATE, ARG_REQUIRED, VAL_DURATION, "DURATION", 0, 30 * DAY,
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
	{"heartbeat-interval", 0, O_HEARTBEAT, C_FOLLOW | C_MIGRATE, ARG_REQUIRED, VAL_DURATION, "DURATION", 0, DAY,
	"heartbeat on the source for lag in seconds (default 1s, 0: off; else at least 10ms)", NULL},
	{"metrics-listen", 0, O_METRICS, C_FOLLOW | C_MIGRATE, ARG_REQUIRED, VAL_TEXT, "HOST:PORT", 0, 0,
	"serve Prometheus metrics at /metrics (e.g. 127.0.0.1:9187; labels slot and database)",
	"With migrate of several databases, one endpoint serves every database's follower."},
	{"metrics-allow-public", 0, O_METRICS_PUBLIC, C_FOLLOW | C_MIGRATE, ARG_NONE, VAL_TEXT, NULL, 0, 0,
	"allow --metrics-listen on a non-loopback address", NULL},

	/* status */
	{"wait-lag", 0, O_WAIT_LAG, C_STATUS, ARG_REQUIRED, VAL_DURATION, "DURATION", 0, 365 * DAY,
	"wait until the lag is at most DURATION, then exit 0", NULL},
	{"watch", 0, O_WATCH, C_STATUS, ARG_OPTIONAL, VAL_DURATION, "DURATION", 0.1, 3600,
	"refresh every DURATION (default 2s; from 100ms to 1h), under a clock header",
	"Human output shows lag in human units, whether and when the target catches up, and a sparkline of the last ten minutes of lag (Unicode bars in a UTF-8 locale, ASCII otherwise)."},
	{"timeout", 0, O_TIMEOUT, C_STATUS | C_SWITCHOVER | C_MIGRATE, ARG_REQUIRED, VAL_DURATION, "DURATION", 0, 365 * DAY,
	"give up after DURATION", NULL},

	/* switchover and migrate */
	{"max-lag", 0, O_MAX_LAG, C_SWITCHOVER | C_MIGRATE, ARG_REQUIRED, VAL_DURATION, "DURATION", 0, 365 * DAY,
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

#define NOPTS (sizeof(optspecs) / sizeof(optspecs[0]) - 1)

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

/*
 * Prints text wrapped at 79 columns, the cursor being at column col, and
 * continuation lines indented to that column.
 */
static void
print_wrapped(FILE *out, const char *text, int col)
{
	int			indent = col;
	const char *p = text;

	while (*p)
	{
		const char *w = p;
		int			len;

		while (*w == ' ')
			w++;
		len = (int) strcspn(w, " ");
		if (len == 0)
			break;
		if (col > indent && col + 1 + len > 79)
		{
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		}
		else if (col > indent)
		{
			fputc(' ', out);
			col++;
		}
		fprintf(out, "%.*s", len, w);
		col += len;
		p = w + len;
	}
	fputc('\n', out);
}

/* "-j, --jobs N", "--watch [DURATION]" */
static void
option_synopsis(const OptSpec *o, char *buf, size_t len)
{
	snprintf(buf, len, "%s%c%s--%s%s%s%s%s",
			 o->short_name ? "-" : "", o->short_name ? o->short_name : ' ',
			 o->short_name ? ", " : "", o->name,
			 o->has_arg == ARG_NONE ? "" : " ",
			 o->has_arg == ARG_OPTIONAL ? "[" : "",
			 o->has_arg == ARG_NONE ? "" : o->arg,
			 o->has_arg == ARG_OPTIONAL ? "]" : "");
	if (!o->short_name)
		memmove(buf, buf + 1, strlen(buf));
}

void
cli_print_help(FILE *out, const Command *cmd)
{
	unsigned	bits = cmd ? cli_command_bit(cmd) : C_ALL;

	if (cmd == NULL)
	{
		fprintf(out, "pgcutover %s - move a live PostgreSQL database with near-zero downtime\n\n"
				"Usage: pgcutover [options] COMMAND [options]\n\nCommands:\n",
				PGCUTOVER_VERSION);
		for (const Command *c = commands; c->name; c++)
			fprintf(out, "  %-11s %s\n", c->name, c->summary);
		fprintf(out, "\nCommon options:\n");
	}
	else
	{
		fprintf(out, "pgcutover %s - %s\n\nUsage: pgcutover %s%s%s [options]\n\n%s",
				cmd->name, cmd->summary, cmd->name, cmd->words ? " " : "",
				cmd->words ? cmd->words : "", cmd->usage);
		if (cmd->terms)
		{
			fprintf(out, "\nStates:\n");
			for (const CliTerm *t = cmd->terms; t->word; t++)
			{
				fprintf(out, "  %-19s ", t->word);
				print_wrapped(out, t->meaning, 22);
			}
		}
		fprintf(out, "\nOptions:\n");
	}

	for (const OptSpec *o = optspecs; o->name; o++)
	{
		char		left[64];
		const char *help,
				   *more;
		int			col;

		if (cmd == NULL ? o->commands != C_ALL : !(o->commands & bits))
			continue;
		option_synopsis(o, left, sizeof(left));
		cli_option_text(o, bits, &help, &more);
		col = fprintf(out, "  %-28s ", left);
		if (col > 31)
			fprintf(out, "\n%31s", "");
		print_wrapped(out, help, 31);
	}
	fprintf(out, "\nDurations take PostgreSQL's units: 500ms, 30s, 5min, 2h, 1d; a bare number\n"
			"is seconds.  DSNs: libpq keyword strings, postgresql:// URIs or SQLAlchemy\n"
			"URLs; PG* environment variables, ~/.pgpass and services apply.\n\nExit codes:\n");
	for (const ExitCodeDoc *e = exit_code_docs(); e->meaning; e++)
	{
		fprintf(out, "  %2d  ", e->code);
		print_wrapped(out, e->meaning, 6);
	}
	if (cmd == NULL)
		fprintf(out, "\nRun 'pgcutover COMMAND --help' for the options of a command.\n");
}

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
	else if (s < DAY)
		snprintf(buf, len, "%gh", s / 3600);
	else
		snprintf(buf, len, "%gd", s / DAY);
	return buf;
}

/*
 * Checks a value against its option's kind and range; *num is the number
 * (integers, durations in seconds).  With err NULL only says whether it
 * parses (an optional argument's next word).
 */
static bool
parse_value(const OptSpec *o, const char *arg, double *num, FILE *err)
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

/* Applies one option (its value checked by parse_value); false on a bad value. */
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
static bool
take_option(const OptSpec *o, const char *arg, Options *opts, FILE *err)
{
	double		num = 0;

	if (arg && !parse_value(o, arg, &num, err))
		return false;
	return apply_option(o, arg, num, opts, err);
}

static void
set_defaults(Options *opts)
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

static const OptSpec *
find_long(const char *name, size_t len)
{
	for (const OptSpec *o = optspecs; o->name; o++)
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o;
	return NULL;
}

static const OptSpec *
find_short(int c)
{
	for (const OptSpec *o = optspecs; o->name; o++)
		if (o->short_name && o->short_name == c)
			return o;
	return NULL;
}

/*
 * Whether word is the value of o, an option with an optional argument: it
 * has the form of one (a duration for --watch), in range or not, so that
 * "--watch 0" says what is wrong with 0.
 */
static bool
is_optional_value(const OptSpec *o, const char *word)
{
	double		num;

	if (o->has_arg != ARG_OPTIONAL || word == NULL || word[0] == '-')
		return false;
	if (o->kind == VAL_DURATION)
		return parse_duration(word, 1.0, &num);
	return parse_value(o, word, &num, NULL);
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
		const OptSpec *o = NULL;

		if (strncmp(a, "--config=", 9) == 0)
			*config = a + 9;
		else if (strcmp(a, "--config") == 0 && i + 1 < argc)
			*config = argv[++i];
		else if (strncmp(a, "--", 2) == 0 && strchr(a, '=') == NULL)
			o = find_long(a + 2, strlen(a + 2));
		else if (a[0] == '-' && a[1] != '-' && a[1] != '\0' && a[2] == '\0')
			o = find_short(a[1]);
		else if (a[0] != '-' && *cmd == NULL)
			*cmd = cli_find_command(a);
		if (o && (o->has_arg == ARG_REQUIRED || (i + 1 < argc && is_optional_value(o, argv[i + 1]))))
			i++;
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
		for (o = optspecs; o->name && strcmp(o->name, key) != 0; o++)
			;
		if (o->name == NULL || o->commands == 0 || o->code == O_CONFIG || o->code == O_HELP || o->code == O_VERSION)
		{
			fprintf(err, "pgcutover: %s:%d: unknown option \"%s\"; fix: use long option names without --\n", path, lineno, key);
			ok = false;
		}
		else if (cmd && !(o->commands & cli_command_bit(cmd)))
			continue;
		else if (o->has_arg == ARG_NONE)
		{
			bool		on;

			if (!parse_bool(val, &on))
			{
				fprintf(err, "pgcutover: %s:%d: %s takes true or false; fix: correct the value\n", path, lineno, key);
				ok = false;
			}
			else if (on)
				ok = take_option(o, NULL, opts, err);
		}
		else
			ok = take_option(o, val, opts, err);
	}
	fclose(f);
	return ok;
}

/* Says what was wrong with the option getopt_long refused (c is '?' or ':'). */
static void
report_bad_option(int c, char **argv, FILE *err)
{
	const char *word = argv[optind - 1];
	const OptSpec *o = NULL;

	for (const OptSpec *s = optspecs; s->name; s++)
		if (s->code == optopt || (optopt > 0 && optopt < 256 && s->short_name == optopt))
			o = s;
	if (c == ':' && o && optopt < 256)
		fprintf(err, "pgcutover: option \"-%c\" needs a value; fix: see 'pgcutover --help'\n", optopt);
	else if (c == ':')
		fprintf(err, "pgcutover: option \"%s\" needs a value; fix: see 'pgcutover --help'\n", word);
	else if (o && optopt >= 1000)
		fprintf(err, "pgcutover: option --%s takes no value; fix: write --%s alone\n", o->name, o->name);
	else if (optopt > 0 && optopt < 256)
		fprintf(err, "pgcutover: unknown option \"-%c\"; fix: see 'pgcutover --help'\n", optopt);
	else
		fprintf(err, "pgcutover: unknown option \"%s\"; fix: see 'pgcutover --help'\n", word);
}

/* Cross-option rules, once every option is known; false after one error line. */
static bool
check_combinations(Options *opts, FILE *err)
{
	if (opts->skip_verify && opts->verify_mode && strcmp(opts->verify_mode, "none") != 0)
	{
		fprintf(err, "pgcutover: --skip-verify contradicts --verify %s; fix: give one of them\n", opts->verify_mode);
		return false;
	}
	if (opts->verify_mode && strcmp(opts->verify_mode, "none") == 0)
		opts->skip_verify = true;
	if (opts->fence && strcmp(opts->fence, "none") == 0 && opts->fence_command == NULL)
	{
		fprintf(err, "pgcutover: --fence=none needs --fence-command; fix: give the command that stops writes (or use --fence=default)\n");
		return false;
	}
	if (opts->fence_command && !(opts->fence && strcmp(opts->fence, "none") == 0))
	{
		fprintf(err, "pgcutover: --fence-command goes with --fence=none; fix: add --fence=none\n");
		return false;
	}
	if (opts->pgbouncer.count > 0 && opts->pgbouncer_ini.count == 0 && opts->repoint_command == NULL)
	{
		fprintf(err, "pgcutover: --pgbouncer needs a way to point PgBouncer at the target; fix: add --pgbouncer-ini PATH (the file with its [databases] entry) or --repoint-command CMD\n");
		return false;
	}
	if ((opts->pgbouncer_ini.count > 0 || opts->repoint_command) && opts->pgbouncer.count == 0)
	{
		fprintf(err, "pgcutover: --pgbouncer-ini and --repoint-command go with --pgbouncer; fix: add --pgbouncer ADMIN_DSN (the admin console, dbname=pgbouncer)\n");
		return false;
	}
	if (opts->pgbouncer_ini.count > 0 && opts->repoint_command)
	{
		fprintf(err, "pgcutover: --pgbouncer-ini and --repoint-command are two ways of doing the same; fix: give only one of them\n");
		return false;
	}
	if (opts->pgbouncer_ini.count > 1 && opts->pgbouncer_ini.count != opts->pgbouncer.count)
	{
		fprintf(err, "pgcutover: %d --pgbouncer-ini for %d --pgbouncer; fix: give one --pgbouncer-ini for all, or one per --pgbouncer in the same order\n",
				opts->pgbouncer_ini.count, opts->pgbouncer.count);
		return false;
	}
	return true;
}

CliResult
cli_parse(int argc, char **argv, Options *opts, FILE *out, FILE *err)
{
	struct option longopts[NOPTS + 1];
	char		shortopts[2 * NOPTS + 3] = "+:";
	bool		seen[NOPTS];
	const Command *cmd = NULL;
	bool		want_help = false;
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
	for (size_t i = 0; i < NOPTS; i++)
	{
		const OptSpec *o = &optspecs[i];

		longopts[i] = (struct option)
		{
			o->name, o->has_arg == ARG_REQUIRED ? required_argument : o->has_arg == ARG_OPTIONAL ?
				optional_argument : no_argument, NULL, o->code
		};
		if (o->short_name)
		{
			size_t		n = strlen(shortopts);

			shortopts[n++] = o->short_name;
			if (o->has_arg == ARG_REQUIRED)
				shortopts[n++] = ':';
			shortopts[n] = '\0';
		}
	}
	memset(&longopts[NOPTS], 0, sizeof(longopts[NOPTS]));
	memset(seen, 0, sizeof(seen));

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, &longindex)) != -1 ||
		   optind < argc)
	{
		const OptSpec *o;
		const char *arg;

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
		if (c == '?' || c == ':')
		{
			report_bad_option(c, argv, err);
			return CLI_EXIT_USAGE;
		}
		o = c < 256 ? find_short(c) : &optspecs[longindex];
		arg = optarg;
		/* --watch 5 as well as --watch=5: the next word, if it is a value */
		if (o->has_arg == ARG_OPTIONAL && arg == NULL && optind < argc &&
			is_optional_value(o, argv[optind]))
			arg = argv[optind++];
		switch (o->code)
		{
			case O_HELP:
				want_help = true;
				break;
			case O_VERSION:
				fprintf(out, "pgcutover %s\n", PGCUTOVER_VERSION);
				return CLI_EXIT_OK;
			case O_GENERATE:
				if (!parse_value(o, arg, &(double) {0}, err) || !cli_generate(out, arg))
					return CLI_EXIT_USAGE;
				return CLI_EXIT_OK;
			case O_CONFIG:
				break;			/* applied before the command line */
			default:
				if (!take_option(o, arg, opts, err))
					return CLI_EXIT_USAGE;
				break;
		}
		seen[o - optspecs] = true;
	}

	/* an option the command does not take is an error, with --help too */
	for (size_t i = 0; cmd && i < NOPTS; i++)
		if (seen[i] && !(optspecs[i].commands & cli_command_bit(cmd)))
		{
			fprintf(err, "pgcutover: option --%s does not apply to command %s; fix: see 'pgcutover %s --help'\n",
					optspecs[i].name, cmd->name, cmd->name);
			return CLI_EXIT_USAGE;
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
	opts->command = cmd->name;
	if (cmd->run == cmd_ddl_capture && opts->ddl_action == NULL)
	{
		fprintf(err, "pgcutover: ddl-capture needs an action; fix: pgcutover ddl-capture install|remove|status --source DSN\n");
		return CLI_EXIT_USAGE;
	}
	if (!check_combinations(opts, err))
		return CLI_EXIT_USAGE;

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
