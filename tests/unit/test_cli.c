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
#include "log.h"

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

/* Runs argv and returns what it wrote on out (malloc'd). */
static char *
parse_output(Options *opts, int argc, const char **argv, CliResult *result)
{
	FILE	   *out = tmpfile();
	long		len;
	char	   *text;

	*result = cli_parse(argc, (char **) argv, opts, out, sink);
	len = ftell(out);
	text = calloc(1, len + 1);
	rewind(out);
	assert_int_equal(fread(text, 1, len, out), len);
	fclose(out);
	return text;
}

static void
test_durations_take_guc_units(void **state)
{
	Options		o;
	const char *status[] = {"pgcutover", "status", "--wait-lag", "500ms", "--timeout=2min"};
	const char *sw[] = {"pgcutover", "switchover", "--max-lag", "1.5s", "--timeout", "2h"};
	const char *copy[] = {"pgcutover", "copy", "--snapshot-hold", "1.5s"};
	const char *follow[] = {"pgcutover", "follow", "--heartbeat-interval", "250ms"};
	const char *bare[] = {"pgcutover", "status", "--wait-lag", "2"};
	const char *bad_unit[] = {"pgcutover", "status", "--wait-lag", "2 parsecs"};
	const char *negative[] = {"pgcutover", "status", "--wait-lag", "-1"};
	const char *too_often[] = {"pgcutover", "follow", "--heartbeat-interval", "1ms"};
	const char *off[] = {"pgcutover", "follow", "--heartbeat-interval", "0"};

	(void) state;
	assert_int_equal(parse(&o, 5, status), CLI_RUN);
	assert_true(o.wait_lag == 0.5);
	assert_true(o.timeout == 120);
	options_free(&o);
	assert_int_equal(parse(&o, 6, sw), CLI_RUN);
	assert_true(o.max_lag == 1.5);
	assert_true(o.timeout == 7200);
	options_free(&o);
	/* not truncated to whole seconds */
	assert_int_equal(parse(&o, 4, copy), CLI_RUN);
	assert_true(o.snapshot_hold == 1.5);
	options_free(&o);
	assert_int_equal(parse(&o, 4, follow), CLI_RUN);
	assert_true(o.heartbeat_interval == 0.25);
	options_free(&o);
	assert_int_equal(parse(&o, 4, bare), CLI_RUN);
	assert_true(o.wait_lag == 2);
	options_free(&o);
	assert_int_equal(parse(&o, 4, off), CLI_RUN);
	assert_true(o.heartbeat_interval == 0);
	options_free(&o);
	assert_int_equal(parse(&o, 4, bad_unit), CLI_EXIT_USAGE);
	options_free(&o);
	assert_int_equal(parse(&o, 4, negative), CLI_EXIT_USAGE);
	options_free(&o);
	assert_int_equal(parse(&o, 4, too_often), CLI_EXIT_USAGE);
	options_free(&o);
}

static void
test_optional_value_both_forms(void **state)
{
	Options		o;
	const char *spaced[] = {"pgcutover", "status", "--watch", "1"};
	const char *joined[] = {"pgcutover", "status", "--watch=500ms"};
	const char *bare[] = {"pgcutover", "status", "--watch", "--json"};
	const char *last[] = {"pgcutover", "status", "--watch"};
	const char *before_cmd[] = {"pgcutover", "--watch", "5", "status"};
	const char *out_of_range[] = {"pgcutover", "status", "--watch", "0"};

	(void) state;
	assert_int_equal(parse(&o, 4, spaced), CLI_RUN);
	assert_true(o.watch);
	assert_true(o.watch_interval == 1);
	options_free(&o);
	assert_int_equal(parse(&o, 3, joined), CLI_RUN);
	assert_true(o.watch_interval == 0.5);
	options_free(&o);
	assert_int_equal(parse(&o, 4, bare), CLI_RUN);
	assert_true(o.watch);
	assert_true(o.json);
	assert_true(o.watch_interval == 2);
	options_free(&o);
	assert_int_equal(parse(&o, 3, last), CLI_RUN);
	assert_true(o.watch);
	options_free(&o);
	assert_int_equal(parse(&o, 4, before_cmd), CLI_RUN);
	assert_string_equal(o.command, "status");
	assert_true(o.watch_interval == 5);
	options_free(&o);
	/* "0" is a duration, so it is --watch's value, and out of range */
	assert_int_equal(parse(&o, 4, out_of_range), CLI_EXIT_USAGE);
	options_free(&o);
}

static void
test_short_options(void **state)
{
	Options		o;
	const char *jobs[] = {"pgcutover", "-j", "2", "copy"};
	const char *attached[] = {"pgcutover", "copy", "-j3", "-v"};
	const char *quiet[] = {"pgcutover", "-q", "-w", "status"};
	const char *no_value[] = {"pgcutover", "copy", "-j"};
	const char *wrong_cmd[] = {"pgcutover", "-j", "2", "check"};

	(void) state;
	assert_int_equal(parse(&o, 4, jobs), CLI_RUN);
	assert_int_equal(o.jobs, 2);
	options_free(&o);
	assert_int_equal(parse(&o, 4, attached), CLI_RUN);
	assert_int_equal(o.jobs, 3);
	assert_int_equal(o.log_level, LOG_DEBUG);
	options_free(&o);
	assert_int_equal(parse(&o, 4, quiet), CLI_RUN);
	assert_int_equal(o.log_level, LOG_WARN);
	assert_true(o.no_password);
	options_free(&o);
	assert_int_equal(parse(&o, 3, no_value), CLI_EXIT_USAGE);
	options_free(&o);
	assert_int_equal(parse(&o, 4, wrong_cmd), CLI_EXIT_USAGE);
	options_free(&o);
}

static void
test_help_is_per_command(void **state)
{
	Options		o;
	CliResult	r;
	const char *verify[] = {"pgcutover", "verify", "--help"};
	const char *copy[] = {"pgcutover", "-j", "2", "copy", "--help"};
	const char *check[] = {"pgcutover", "check", "--jobs", "2", "--help"};
	const char *status[] = {"pgcutover", "help", "status"};
	char	   *text;

	(void) state;
	text = parse_output(&o, 3, verify, &r);
	assert_int_equal(r, CLI_EXIT_OK);
	assert_non_null(strstr(text, "session pairs per side comparing tables"));
	assert_null(strstr(text, "parallel table copies"));
	free(text);
	options_free(&o);
	text = parse_output(&o, 5, copy, &r);
	assert_int_equal(r, CLI_EXIT_OK);
	assert_non_null(strstr(text, "-j, --jobs N"));
	assert_non_null(strstr(text, "parallel table copies"));
	free(text);
	options_free(&o);
	/* an option the command does not take is refused, --help or not */
	text = parse_output(&o, 5, check, &r);
	assert_int_equal(r, CLI_EXIT_USAGE);
	free(text);
	options_free(&o);
	text = parse_output(&o, 3, status, &r);
	assert_int_equal(r, CLI_EXIT_OK);
	assert_non_null(strstr(text, "slot_lost"));
	assert_non_null(strstr(text, "source_unreachable"));
	assert_non_null(strstr(text, "--watch [DURATION]"));
	assert_null(strstr(text, "not implemented"));
	free(text);
	options_free(&o);
}

static void
test_generated_docs(void **state)
{
	Options		o;
	CliResult	r;
	const char *man[] = {"pgcutover", "--generate=man"};
	const char *bash[] = {"pgcutover", "--generate", "bash-completion"};
	const char *bogus[] = {"pgcutover", "--generate=pdf"};
	char	   *text;
	char	   *check;

	(void) state;
	text = parse_output(&o, 2, man, &r);
	assert_int_equal(r, CLI_EXIT_OK);
	assert_non_null(strstr(text, ".SH COMMANDS"));
	assert_non_null(strstr(text, ".SH \"EXIT STATUS\""));
	assert_null(strstr(text, ".TP\n6\n"));
	assert_null(strstr(text, "@COMMANDS@"));
	/* check's section lists no --jobs */
	check = strstr(text, ".SS \"check\"");
	assert_non_null(check);
	*strstr(check + 1, ".SS ") = '\0';
	assert_null(strstr(check, "jobs"));
	free(text);
	options_free(&o);
	text = parse_output(&o, 3, bash, &r);
	assert_int_equal(r, CLI_EXIT_OK);
	assert_non_null(strstr(text, "complete -F _pgcutover pgcutover"));
	assert_non_null(strstr(text, "--fence) COMPREPLY=($(compgen -W \"default none\""));
	/* the hidden option is not offered (the header comment names it) */
	assert_null(strstr(text, "--generate "));
	assert_null(strstr(text, "--generate|"));
	assert_null(strstr(text, "--generate\""));
	free(text);
	options_free(&o);
	text = parse_output(&o, 2, bogus, &r);
	assert_int_equal(r, CLI_EXIT_USAGE);
	free(text);
	options_free(&o);
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
		cmocka_unit_test(test_durations_take_guc_units),
		cmocka_unit_test(test_optional_value_both_forms),
		cmocka_unit_test(test_short_options),
		cmocka_unit_test(test_help_is_per_command),
		cmocka_unit_test(test_generated_docs),
	};

	sink = fopen("/dev/null", "w");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
