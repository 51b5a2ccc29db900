/*
 * main.c
 *	  Entry point: parse the command line, set up logging and secrets,
 *	  normalise DSNs, and hand over to the command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "dsn.h"
#include "log.h"
#include "options.h"
#include "pgconn.h"

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

int
main(int argc, char **argv)
{
	Options		opts;
	const Command *cmd;
	int			rc;

	switch (cli_parse(argc, argv, &opts, stdout, stderr))
	{
		case CLI_EXIT_OK:
			options_free(&opts);
			return EXIT_OK;
		case CLI_EXIT_USAGE:
			options_free(&opts);
			return EXIT_USAGE;
		case CLI_RUN:
			break;
	}
	/* what we write is private: a --backup dump holds all the data */
	umask(077);
	log_init((LogLevel) opts.log_level, opts.log_json);
	db_password_prompt(!opts.no_password);
	prepare_dsn(&opts.source, "source", argc, argv);
	prepare_dsn(&opts.target, "target", argc, argv);
	for (int i = 0; i < opts.pgbouncer.count; i++)
		prepare_dsn(&opts.pgbouncer.items[i], "--pgbouncer", argc, argv);

	cmd = cli_find_command(opts.command);
	rc = cmd->run(&opts);
	options_free(&opts);
	return rc;
}
