/*
 * test_cli.c
 *	  Unit tests for command-line parsing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli.h"

static FILE *sink;

static CliResult
parse(Options *opts, int argc, const char **argv)
{
	return cli_parse(argc, (char **) argv, opts, sink, sink);
}

static void
test_command_and_options_any_order(void **state)
{
	Options		o;
	const char *a1[] = {"pgcutover", "--source", "host=s", "copy", "--jobs", "3", "--target=host=t"};
	const char *a2[] = {"pgcutover", "copy", "--split-threshold", "64MB", "--include-table", "a.b",
	"--include-table", "c", "--slot", "my_slot"};

	(void) state;
	assert_int_equal(parse(&o, 7, a1), CLI_RUN);
	assert_string_equal(o.command, "copy");
	assert_string_equal(o.source, "host=s");
	assert_string_equal(o.target, "host=t");
	assert_int_equal(o.jobs, 3);
	assert_string_equal(o.slot, "pgcutover");
	options_free(&o);

	assert_int_equal(parse(&o, 10, a2), CLI_RUN);
	assert_int_equal(o.split_threshold, 64LL * 1024 * 1024);
	assert_int_equal(o.include_table.count, 2);
	assert_string_equal(o.include_table.items[1], "c");
	assert_string_equal(o.slot, "my_slot");
	options_free(&o);
}

static void
test_usage_errors(void **state)
{
	Options		o;
	const char *unknown_cmd[] = {"pgcutover", "frobnicate"};
	const char *unknown_opt[] = {"pgcutover", "check", "--frobnicate"};
	const char *no_cmd[] = {"pgcutover", "--json"};
	const char *bad_jobs[] = {"pgcutover", "copy", "--jobs", "zero"};
	const char *wrong_cmd[] = {"pgcutover", "check", "--jobs", "2"};
	const char *two_cmds[] = {"pgcutover", "check", "copy"};
	const char *bad_slot[] = {"pgcutover", "copy", "--slot", "Bad-Name"};
	const char *bad_size[] = {"pgcutover", "copy", "--split-threshold", "12XB"};
	const char *missing_val[] = {"pgcutover", "check", "--source"};

	(void) state;
	assert_int_equal(parse(&o, 2, unknown_cmd), CLI_EXIT_USAGE);
	options_free(&o);
	assert_int_equal(parse(&o, 3, unknown_opt), CLI_EXIT_USAGE);
	options_free(&o);
	assert_int_equal(parse(&o, 2, no_cmd), CLI_EXIT_USAGE);
	options_free(&o);
	assert_int_equal(parse(&o, 4, bad_jobs), CLI_EXIT_USAGE);
	options_free(&o);
	assert_int_equal(parse(&o, 4, wrong_cmd), CLI_EXIT_USAGE);
	options_free(&o);
	assert_int_equal(parse(&o, 3, two_cmds), CLI_EXIT_USAGE);
	options_free(&o);
	assert_int_equal(parse(&o, 4, bad_slot), CLI_EXIT_USAGE);
	options_free(&o);
	assert_int_equal(parse(&o, 4, bad_size), CLI_EXIT_USAGE);
	options_free(&o);
	assert_int_equal(parse(&o, 3, missing_val), CLI_EXIT_USAGE);
	options_free(&o);
}

static void
test_help_and_version(void **state)
{
	Options		o;
	const char *help[] = {"pgcutover", "--help"};
	const char *cmd_help[] = {"pgcutover", "copy", "--help"};
	const char *help_cmd[] = {"pgcutover", "help", "follow"};
	const char *version[] = {"pgcutover", "--version"};

	(void) state;
	assert_int_equal(parse(&o, 2, help), CLI_EXIT_OK);
	options_free(&o);
	assert_int_equal(parse(&o, 3, cmd_help), CLI_EXIT_OK);
	options_free(&o);
	assert_int_equal(parse(&o, 3, help_cmd), CLI_EXIT_OK);
	options_free(&o);
	assert_int_equal(parse(&o, 2, version), CLI_EXIT_OK);
	options_free(&o);
}

static void
test_environment(void **state)
{
	Options		o;
	const char *argv[] = {"pgcutover", "check"};
	const char *argv2[] = {"pgcutover", "check", "--source", "host=flag"};

	(void) state;
	setenv("PGCUTOVER_SOURCE", "host=envsrc", 1);
	setenv("PGCUTOVER_TARGET", "host=envtgt", 1);
	assert_int_equal(parse(&o, 2, argv), CLI_RUN);
	assert_string_equal(o.source, "host=envsrc");
	assert_string_equal(o.target, "host=envtgt");
	options_free(&o);
	/* a flag wins over the environment */
	assert_int_equal(parse(&o, 4, argv2), CLI_RUN);
	assert_string_equal(o.source, "host=flag");
	options_free(&o);
	unsetenv("PGCUTOVER_SOURCE");
	unsetenv("PGCUTOVER_TARGET");
}

static void
test_every_command_parses(void **state)
{
	const char *names[] = {"check", "copy", "follow", "status", "switchover", "verify", "cleanup", "migrate"};

	(void) state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
	{
		Options		o;
		const char *argv[] = {"pgcutover", names[i], "--json"};

		assert_int_equal(parse(&o, 3, argv), CLI_RUN);
		assert_string_equal(o.command, names[i]);
		assert_true(o.json);
		options_free(&o);
	}
}

static void
test_config_file(void **state)
{
	Options		o;
	char		path[] = "/tmp/pgcutover-test-config-XXXXXX";
	int			fd = mkstemp(path);
	FILE	   *f = fdopen(fd, "w");
	const char *argv[] = {"pgcutover", "copy", "--config", path, "--jobs", "5"};
	const char *argv_eq[] = {"pgcutover", "--config=/nonexistent/file", "check"};

	(void) state;
	fputs("# a repeatable migration\n"
		  "source = host=src dbname=app\n"
		  "target = 'host=tgt dbname=app'\n"
		  "jobs = 3\n"
		  "include-table = public.a\n"
		  "include-table = \"public.b c\"\n"
		  "json = true\n"
		  "  slot = x_y   \n"
		  "metrics-listen = 127.0.0.1:9187\n"
		  "\n", f);
	fclose(f);
	assert_int_equal(parse(&o, 6, argv), CLI_RUN);
	assert_string_equal(o.source, "host=src dbname=app");
	assert_string_equal(o.target, "host=tgt dbname=app");
	assert_int_equal(o.jobs, 5);	/* the command line wins */
	assert_int_equal(o.include_table.count, 2);
	assert_string_equal(o.include_table.items[1], "public.b c");
	assert_true(o.json);
	assert_string_equal(o.slot, "x_y");
	assert_null(o.metrics_listen);	/* not a copy option: skipped */
	options_free(&o);

	f = fopen(path, "w");
	fputs("jobz = 3\n", f);
	fclose(f);
	assert_int_equal(parse(&o, 6, argv), CLI_EXIT_USAGE);
	options_free(&o);
	f = fopen(path, "w");
	fputs("json = maybe\n", f);
	fclose(f);
	assert_int_equal(parse(&o, 6, argv), CLI_EXIT_USAGE);
	options_free(&o);
	assert_int_equal(parse(&o, 3, argv_eq), CLI_EXIT_USAGE);
	options_free(&o);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_command_and_options_any_order),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_every_command_parses),
		cmocka_unit_test(test_config_file),
	};

	sink = fopen("/dev/null", "w");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
