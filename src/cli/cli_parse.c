/*
 * cli_parse.c
 *	  The parser: argv (after --config FILE, cli_config.c) and the
 *	  environment into Options.  Options may come before or after the
 *	  command; an option the command does not take, a value out of range
 *	  (cli_options.c) and options that contradict each other are refused
 *	  with one line naming the fix.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cli_int.h"
#include "units.h"

static const OptSpec *
find_long(const char *name, size_t len)
{
	for (const OptSpec *o = cli_optspecs(); o->name; o++)
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o;
	return NULL;
}

static const OptSpec *
find_short(int c)
{
	for (const OptSpec *o = cli_optspecs(); o->name; o++)
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
	return cli_parse_value(o, word, &num, NULL);
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

/* Says what was wrong with the option getopt_long refused (c is '?' or ':'). */
static void
report_bad_option(int c, char **argv, FILE *err)
{
	const char *word = argv[optind - 1];
	const OptSpec *o = NULL;

	for (const OptSpec *s = cli_optspecs(); s->name; s++)
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
	const OptSpec *optspecs = cli_optspecs();
	struct option longopts[CLI_NOPTS + 1];
	char		shortopts[2 * CLI_NOPTS + 3] = "+:";
	bool		seen[CLI_NOPTS];
	const Command *cmd = NULL;
	bool		want_help = false;
	int			c;
	int			longindex;

	cli_set_defaults(opts);
	{
		const Command *precmd = NULL;
		const char *config = NULL;

		prescan(argc, argv, &precmd, &config);
		if (config && !cli_apply_config(config, precmd, opts, err))
			return CLI_EXIT_USAGE;
	}
	for (size_t i = 0; i < CLI_NOPTS; i++)
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
	memset(&longopts[CLI_NOPTS], 0, sizeof(longopts[CLI_NOPTS]));
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
				if (!cli_parse_value(o, arg, &(double) {0}, err) || !cli_generate(out, arg))
					return CLI_EXIT_USAGE;
				return CLI_EXIT_OK;
			case O_CONFIG:
				break;			/* applied before the command line */
			default:
				if (!cli_take_option(o, arg, opts, err))
					return CLI_EXIT_USAGE;
				break;
		}
		seen[o - optspecs] = true;
	}

	/* an option the command does not take is an error, with --help too */
	for (size_t i = 0; cmd && i < CLI_NOPTS; i++)
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
