/*
 * copy_schema.c
 *	  Schema phase of `copy`: dump pre-data and post-data with pg_dump in the
 *	  exported snapshot, then in ONE target transaction restore the pre-data
 *	  schema and record everything the later phases need: the data copy jobs,
 *	  the post-data steps and the sequence values.  A crash before the commit
 *	  leaves the target untouched; after it, nothing here runs again.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "copy.h"
#include "copy_jobs.h"
#include "dsn.h"
#include "log.h"
#include "outcome.h"
#include "pgconn.h"
#include "roles.h"
#include "sequences.h"
#include "state.h"
#include "subprocess.h"

/* Adds a psql-style pattern "a"."b" (quotes doubled) to argv. */
static char *
quoted_pattern(const char *name)
{
	const char *dot = strchr(name, '.');
	size_t		len = strlen(name);
	char	   *out = pg_malloc0(len * 2 + 8);
	char	   *o = out;

	if (dot == NULL)
	{
		/* a bare table name matches in every schema */
		*o++ = '*';
		*o++ = '.';
	}
	*o++ = '"';
	for (const char *p = name; *p; p++)
	{
		if (p == dot)
		{
			*o++ = '"';
			*o++ = '.';
			*o++ = '"';
			continue;
		}
		if (*p == '"')
			*o++ = '"';
		*o++ = *p;
	}
	*o++ = '"';
	return out;
}

/* Runs pg_dump --section=section in the snapshot; returns its SQL or NULL. */
static char *
dump_section(CopyContext *ctx, const char *section)
{
	const Options *o = ctx->opts;
	char	   *password;
	char	   *dsn = dsn_without_password(o->source, &password);
	char	   *argv[64 + 4 * 32];
	char	   *owned[64 + 4 * 32];
	int			n = 0,
				nowned = 0;
	SubprocessOutput res;
	char	   *sql = NULL;
	const StrList *lists[4] = {&o->include_schema, &o->exclude_schema, &o->include_table, &o->exclude_table};
	const char *flags[4] = {"-n", "-N", "-t", "-T"};

	if (password == NULL)		/* typed on the terminal */
		password = db_known_password(o->source);
	argv[n++] = owned[nowned++] = psprintf("%s/pg_dump", ctx->pg_bin);
	argv[n++] = owned[nowned++] = psprintf("--dbname=%s", dsn);
	argv[n++] = owned[nowned++] = psprintf("--snapshot=%s", ctx->lease.snapshot);
	argv[n++] = owned[nowned++] = psprintf("--section=%s", section);
	if (!o->keep_acl)
	{
		argv[n++] = "--no-owner";
		argv[n++] = "--no-acl";
	}
	argv[n++] = "--no-subscriptions";
	argv[n++] = "--no-blobs";
	argv[n++] = "--format=plain";
	/*
	 * In UTF-8 whatever the source's encoding: the dump says so (SET
	 * client_encoding) for the pre-data restore, and the post-data steps are
	 * stored and run by UTF-8 sessions, like every other one (db_connect).
	 */
	argv[n++] = "--encoding=UTF8";
	argv[n++] = "--exclude-schema=pgcutover";	/* DDL capture, reverse state */
	for (int l = 0; l < 4; l++)
		for (int i = 0; i < lists[l]->count && n < 60 + 4 * 32; i++)
		{
			argv[n++] = (char *) flags[l];
			argv[n++] = owned[nowned++] = (l < 2) ? psprintf("\"%s\"", lists[l]->items[i])
				: quoted_pattern(lists[l]->items[i]);
		}
	argv[n] = NULL;

	log_debug("running %s --section=%s", argv[0], section);
	if (subprocess_run(argv, password, true, NULL, &res))
	{
		sql = res.out;
		res.out = NULL;
	}
	else
	{
		char	   *err = log_redact(res.err);

		for (char *p = err; *p; p++)
			if (*p == '\n')
				*p = ' ';
		log_error("pg_dump --section=%s failed (exit %d): %s; fix: see the message, or check the source with 'pgcutover check'",
				  section, res.exit_code, err);
		free(err);
	}
	subprocess_output_free(&res);
	for (int i = 0; i < nowned; i++)
		free(owned[i]);
	free(dsn);
	free(password);
	return sql;
}

/* Drops pg_dump's psql-only \restrict/\unrestrict lines, in place. */
static void
strip_meta_commands(char *sql)
{
	char	   *line = sql;

	while (line && *line)
	{
		char	   *eol = strchr(line, '\n');

		if (strncmp(line, "\\restrict ", 10) == 0 || strncmp(line, "\\unrestrict ", 12) == 0)
			memset(line, ' ', eol ? (size_t) (eol - line) : strlen(line));
		line = eol ? eol + 1 : NULL;
	}
}

/*
 * Plans one copy job per table, or per CTID range of a table above the
 * threshold: ranges of at most the threshold, as many as a multiple of --jobs.
 */
static bool
plan_jobs(CopyContext *ctx, PGconn *tgt)
{
	TableList	tables;
	bool		ok = true;

	if (!catalog_list_tables(ctx->src, ctx->opts, &tables))
		return false;
	for (int i = 0; i < tables.count && ok; i++)
	{
		TableInfo  *t = &tables.tables[i];
		char		oid[16];
		const char *p1[1] = {oid};
		PGresult   *cols;
		int64_t		parts = 1;

		/* a leaf that loads through its root (partroute.h) is in the root's job */
		if (t->route_root != NULL || (t->relkind != 'r' && !t->is_route_root))
			continue;
		snprintf(oid, sizeof(oid), "%u", t->oid);
		cols = db_query_params(ctx->src,
							   "SELECT coalesce(string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum), ''), "
							   "  coalesce(bool_and(a.atttypid < 16384 AND t.typtype <> 'c' "
							   "           AND (t.typelem = 0 OR t.typelem < 16384) "
							   "           AND t.oid NOT IN (" CATALOG_OBJECT_NAME_TYPES ") "
							   "           AND t.typelem NOT IN (" CATALOG_OBJECT_NAME_TYPES ")), true) "
							   "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
							   "WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''",
							   1, p1);
		if (cols == NULL)
		{
			ok = false;
			break;
		}
		if (t->relkind == 'r' && t->bytes > ctx->opts->split_threshold && t->relpages > 1)
		{
			int64_t		jobs = ctx->opts->jobs;

			parts = (t->bytes + ctx->opts->split_threshold - 1) / ctx->opts->split_threshold;
			/*
			 * A multiple of the workers: the ranges run in full rounds, none
			 * left to copy alone at the end while the others idle (3 ranges
			 * on 2 workers take 2 rounds of a third each, 4 take 2 of a
			 * quarter; 16 workers share a 3 GB table 16 ways, not 3).
			 */
			if (jobs > 1)
				parts = (parts + jobs - 1) / jobs * jobs;
		}
		if (parts > 1 && parts > t->relpages)
			parts = t->relpages;
		for (int64_t p = 0; p < parts && ok; p++)
		{
			char		from[24],
						to[24];
			CopyJob		job = {
				.nspname = t->nspname,
				.relname = t->relname,
				.columns = PQgetvalue(cols, 0, 0),
				.part = (int) p,
				.parts = (int) parts,
				.block_from = parts > 1 ? from : NULL,
				.block_to = parts > 1 && p < parts - 1 ? to : NULL,
				.est_bytes = t->bytes / parts,
				.binary = PQgetvalue(cols, 0, 1)[0] == 't',
			};

			snprintf(from, sizeof(from), "%lld", (long long) (t->relpages * p / parts));
			snprintf(to, sizeof(to), "%lld", (long long) (t->relpages * (p + 1) / parts));
			ok = copy_job_add(tgt, ctx->slot, &job);
			ctx->stats.jobs++;
		}
		ctx->stats.tables++;
		PQclear(cols);
	}
	catalog_free_tables(&tables);
	return ok;
}

static bool
plan_sequences(CopyContext *ctx, PGconn *tgt)
{
	SequenceList list;
	bool		ok = true;

	if (!sequences_read(ctx->src, ctx->opts, &list))
		return false;
	for (int i = 0; ok && i < list.count; i++)
	{
		const SequenceState *s = &list.items[i];
		char		value[32];

		snprintf(value, sizeof(value), "%lld", (long long) s->last_value);
		ok = copy_sequence_add(tgt, ctx->slot, s->nspname, s->relname, value, s->is_called);
		ctx->stats.sequences++;
	}
	sequences_free(&list);
	return ok;
}

/* Stage of a post-data entry by pg_dump Type: keys/indexes first, FKs late. */
static int
post_stage(const char *type)
{
	if (strcmp(type, "INDEX") == 0 || strcmp(type, "CONSTRAINT") == 0)
		return 1;
	if (strcmp(type, "INDEX ATTACH") == 0)
		return 2;
	if (strcmp(type, "FK CONSTRAINT") == 0)
		return 3;
	return 4;
}

/* Does sql contain anything but white space and comment lines? */
static bool
has_statement(const char *sql, size_t len)
{
	const char *p = sql;
	const char *end = sql + len;

	while (p < end)
	{
		while (p < end && isspace((unsigned char) *p))
			p++;
		if (p + 1 < end && p[0] == '-' && p[1] == '-')
		{
			while (p < end && *p != '\n')
				p++;
			continue;
		}
		return p < end;
	}
	return false;
}

static bool
add_post_step(CopyContext *ctx, PGconn *tgt, int step, const char *type, const char *name,
			  const char *sql, size_t len)
{
	char	   *text;
	PostStep	planned = {.step = step, .stage = step > 0 ? post_stage(type) : 0,
	.kind = (char *) type, .name = (char *) name};
	bool		ok;

	/* our own DDL capture on the source is not the application's schema */
	if (strcmp(type, "EVENT TRIGGER") == 0 && strncmp(name, "pgcutover_ddl_", 14) == 0)
		return true;
	planned.sql = text = pg_malloc0(len + 1);
	memcpy(text, sql, len);
	ok = post_step_add(tgt, ctx->slot, &planned);
	free(text);
	ctx->stats.post_steps += step > 0;
	return ok;
}

/*
 * Splits pg_dump's plain post-data output at its "-- Name: N; Type: T;
 * Schema: S; Owner: O" headers into one step per TOC entry.  What comes
 * before the first header (session SETs) becomes step 0, run before every
 * step's connection starts.
 */
static bool
plan_post_steps(CopyContext *ctx, PGconn *tgt, const char *dump)
{
	const char *p = dump;
	const char *chunk = dump;
	char	   *type = NULL;
	char	   *name = NULL;
	int			step = 0;
	bool		ok = true;

	while (ok)
	{
		const char *eol = strchr(p, '\n');
		const char *next = eol ? eol + 1 : p + strlen(p);
		bool		header = strncmp(p, "-- Name: ", 9) == 0 || strncmp(p, "-- Data for Name: ", 18) == 0;

		if (header || *p == '\0')
		{
			/* close the current chunk */
			if (has_statement(chunk, p - chunk) && (step == 0 || type != NULL))
				ok = add_post_step(ctx, tgt, step, type ? type : "PREAMBLE", name ? name : "",
								   chunk, p - chunk);
			step++;
			free(type);
			free(name);
			type = name = NULL;
			if (*p == '\0')
				break;
			{
				/* parse from the right: Owner, Schema, Type; the rest is Name */
				size_t		len = (eol ? (size_t) (eol - p) : strlen(p));
				char	   *line = pg_malloc0(len + 1);
				char	   *t,
						   *s;

				memcpy(line, p, len);
				if ((s = strstr(line, "; Schema: ")) != NULL)
					*s = '\0';
				if ((t = strstr(line, "; Type: ")) != NULL)
				{
					*t = '\0';
					type = pg_strdup(t + 8);
				}
				name = pg_strdup(line + (line[3] == 'N' ? 9 : 18));
				free(line);
			}
			chunk = next;
		}
		p = next;
	}
	free(type);
	free(name);
	return ok;
}

/* --roles: the roles the objects need, in the restore's transaction (roles.h). */
static bool
create_roles(CopyContext *ctx, PGconn *tgt)
{
	StrBuf		sql;
	StrList		passwords = {0};
	int			created = 0;
	bool		ok;

	strbuf_init(&sql);
	ok = roles_script(ctx->src, tgt, ctx->opts, &sql, &passwords, &created);
	if (ok && sql.len > 0)
		ok = db_exec(tgt, sql.data);
	for (int i = 0; ok && i < passwords.count; i++)
	{
		/* not db_exec: its error line would quote the statement, hash and all */
		PGresult   *res = PQexec(tgt, passwords.items[i]);

		if (PQresultStatus(res) != PGRES_COMMAND_OK)
		{
			log_error("setting a role's password hash on the target failed: %s", PQresultErrorMessage(res));
			ok = false;
		}
		PQclear(res);
	}
	if (!ok)
		log_error("creating the roles on the target failed (see the error above); fix: create them by hand, or run without --roles");
	else
		log_info("created %d role(s) on the target%s", created,
				 ctx->opts->keep_acl ? "" : " (without --keep-acl the target role owns the objects and no GRANT is kept)");
	strbuf_free(&sql);
	strlist_free(&passwords);
	return ok;
}

static int
restore_and_plan(CopyContext *ctx, const char *pre_sql, const char *post_sql)
{
	char	   *err = NULL;
	PGconn	   *tgt = db_connect(ctx->opts->target, "target", CONN_NORMAL, &err);
	int			rc = OUTCOME_SQL;

	if (tgt == NULL)
	{
		log_error("%s", err);
		free(err);
		return OUTCOME_CONNECTION;
	}
	if (!db_exec(tgt, "BEGIN"))
		goto done;
	if (ctx->opts->roles && !create_roles(ctx, tgt))
		goto done;
	log_info("restoring the pre-data schema on the target");
	if (!db_exec(tgt, pre_sql))
	{
		log_error("restoring the source's schema on the target failed (see the error above); fix: create the missing role/extension/object on the target, then rerun copy");
		goto done;
	}
	/* the dump changed search_path and other settings of this session */
	if (!db_exec(tgt, "RESET ALL") || !db_exec(tgt, "SET search_path = pg_catalog"))
		goto done;
	if (!plan_jobs(ctx, tgt) || !plan_sequences(ctx, tgt) || !plan_post_steps(ctx, tgt, post_sql))
		goto done;
	if (!state_phase_end(tgt, ctx->slot, "copy_schema") ||
		!state_set_phase(tgt, ctx->slot, "copy_data") ||
		!db_exec(tgt, "COMMIT"))
		goto done;
	log_info("schema restored; planned %d copy jobs for %d tables, %d post-data steps, %d sequences",
			 ctx->stats.jobs, ctx->stats.tables, ctx->stats.post_steps, ctx->stats.sequences);
	rc = OUTCOME_OK;
done:
	PQfinish(tgt);
	return rc;
}

int
copy_schema_run(CopyContext *ctx)
{
	char	   *pre = NULL;
	char	   *post = NULL;
	int			rc = OUTCOME_SQL;
	double		t0 = now_seconds();

	if (!state_phase_begin(ctx->tgt, ctx->slot, "copy_schema"))
		return OUTCOME_SQL;
	log_info("copy stage 1/4, schema: dumping it in snapshot %s", ctx->lease.snapshot);
	if ((pre = dump_section(ctx, "pre-data")) == NULL ||
		(post = dump_section(ctx, "post-data")) == NULL)
		goto done;
	strip_meta_commands(pre);
	strip_meta_commands(post);
	rc = restore_and_plan(ctx, pre, post);
done:
	ctx->stats.seconds_schema = now_seconds() - t0;
	free(pre);
	free(post);
	return rc;
}
