/*
 * main.c
 *	  Entry point: parse the command line, set up logging and secrets,
 *	  normalise DSNs, and hand over to the command; on the way out, the
 *	  failure document of a --json command that printed none and the last
 *	  --log-json line of a failed run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "dsn.h"
#include "json_output.h"
#include "log.h"
#include "options.h"
#include "pgconn.h"
#include "alloc.h"

/*
 * Masks passwords in our own argv (what ps and /proc/PID/cmdline show to
 * every local user), also in the follower and snapshot keeper that inherit
 * it.  Options were copied by cli_parse.  It only shortens the window:
 * PGPASSWORD, ~/.pgpass or PGCUTOVER_SOURCE/TARGET keep them off it.
 */
static void
scrub_argv(int argc, char **argv, const char *secret)
{
	for (int i = 1; i < argc; i++)
	{
		char	   *hit;

		dsn_mask_in_place(argv[i]);
		while (secret && secret[0] && (hit = strstr(argv[i], secret)) != NULL)
			memset(hit, '*', strlen(secret));
	}
}

/* Normalises a DSN in place and registers its password as a secret. */
static void
prepare_dsn(char **dsn, const char *who, int argc, char **argv)
{
	bool		sqlalchemy;
	char	   *norm;
	char	   *password;

	if (*dsn == NULL)
		return;
	password = dsn_password(*dsn);
	log_add_secret(password);
	scrub_argv(argc, argv, password);
	free(password);

	norm = dsn_normalize(*dsn, &sqlalchemy);
	if (sqlalchemy)
		log_warn("%s DSN is a SQLAlchemy URL; using it as the libpq URI %s", who, norm);
	free(*dsn);
	*dsn = norm;
	password = dsn_password(*dsn);
	log_add_secret(password);
	free(password);
}

/* The command named on a command line parse refused, or "" if none was. */
static const char *
command_in_argv(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
	{
		const Command *cmd = argv[i][0] != '-' ? cli_find_command(argv[i]) : NULL;

		if (cmd)
			return cmd->name;
	}
	return "";
}

static bool
json_in_argv(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			return true;
	return false;
}

/*
 * A command line parse refused: its error goes to stderr as always and,
 * with --json, into the failure document on stdout.
 */
static int
usage_failure(int argc, char **argv, const char *errors)
{
	fputs(errors, stderr);
	if (json_in_argv(argc, argv))
	{
		const char *last = errors;
		char	   *line;
		char	   *redacted;
		json_t	   *err;

		/* the last line is the one that says what is wrong */
		for (const char *p = errors; *p; p++)
			if (p[0] == '\n' && p[1] != '\0')
				last = p + 1;
		line = psprintf("%.*s", (int) strcspn(last, "\n"), last);
		redacted = log_redact(line);
		err = json_error_object(redacted);
		json_output_failure(command_in_argv(argc, argv), EXIT_USAGE,
							json_string_value(json_object_get(err, "message")),
							json_string_value(json_object_get(err, "fix")));
		json_decref(err);
		free(redacted);
		free(line);
	}
	return EXIT_USAGE;
}

/* With --json, a command that failed before it had a document prints the failure document. */
static void
print_failure_document(const Options *opts, int rc)
{
	char	   *last = log_last_error();
	json_t	   *err = last && rc != EXIT_OK ? json_error_object(last) : NULL;

	if (rc == EXIT_OK)			/* a bug: every command prints its document */
		json_output_print(json_object(), opts->command, rc, JSON_DOCUMENT);
	else
		json_output_failure(opts->command, rc, json_string_value(json_object_get(err, "message")),
							json_string_value(json_object_get(err, "fix")));
	json_decref(err);
	free(last);
}

int
main(int argc, char **argv)
{
	Options		opts;
	const Command *cmd;
	int			rc;
	char	   *errors = NULL;
	size_t		errors_len = 0;
	FILE	   *err = open_memstream(&errors, &errors_len);
	CliResult	parsed = cli_parse(argc, argv, &opts, stdout, err ? err : stderr);

	if (err)
		fclose(err);
	switch (parsed)
	{
		case CLI_EXIT_OK:
			fputs(errors ? errors : "", stderr);
			free(errors);
			options_free(&opts);
			return EXIT_OK;
		case CLI_EXIT_USAGE:
			rc = usage_failure(argc, argv, errors ? errors : "");
			free(errors);
			options_free(&opts);
			return rc;
		case CLI_RUN:
			fputs(errors ? errors : "", stderr);
			free(errors);
			break;
	}
	/* what we write is private: a --backup dump holds all the data */
	umask(077);
	log_init((LogLevel) opts.log_level, opts.log_json);
	db_password_prompt(!opts.no_password);
	log_set_slot(opts.slot);
	prepare_dsn(&opts.source, "source", argc, argv);
	prepare_dsn(&opts.target, "target", argc, argv);
	for (int i = 0; i < opts.pgbouncer.count; i++)
		prepare_dsn(&opts.pgbouncer.items[i], "--pgbouncer", argc, argv);

	cmd = cli_find_command(opts.command);
	if (opts.json)
		json_output_begin();
	rc = cmd->run(&opts);
	if (opts.json && !json_output_printed())
		print_failure_document(&opts, rc);
	log_exit(opts.command, rc);
	options_free(&opts);
	return rc;
}
