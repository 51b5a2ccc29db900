/*
 * test_metrics.c
 *	  Unit tests for metrics_render: the Prometheus text exposition of
 *	  follower snapshots (names, types, labels and their escaping, values,
 *	  the optional series, the phase state set, several followers on one
 *	  endpoint) and the shared board across fork().
 */
#include <stdarg.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics.h"

static MetricsSnapshot
sample_snapshot(void)
{
	MetricsSnapshot s;

	memset(&s, 0, sizeof(s));
	s.up = true;
	s.phase = METRICS_FOLLOWING;
	s.lag_bytes = 4096;
	s.lag_seconds = 1.5;
	s.transactions = 12345;
	s.rows = 67890;
	s.groups = 42;
	s.applied_lsn = ((Lsn) 1 << 32) | 0x16B3748;	/* 1/16B3748 */
	s.source_lsn = ((Lsn) 1 << 32) | 0x16B4748;
	s.slot_retained_wal_bytes = 16777216;
	s.start_time = 1795441007.5;
	s.last_commit_time = 1795441100.25;
	s.errors = 3;
	s.reconnects = 2;
	return s;
}

static MetricsLabels
labels(const char *slot, const char *database)
{
	MetricsLabels l;

	memset(&l, 0, sizeof(l));
	snprintf(l.slot, sizeof(l.slot), "%s", slot);
	snprintf(l.database, sizeof(l.database), "%s", database);
	return l;
}

static char *
render_one(const MetricsSnapshot *s, const char *slot)
{
	MetricsLabels l = labels(slot, "app");

	return metrics_render(s, &l, 1);
}

/* The sample line of metric name, e.g. "pgcutover_up{slot=\"s\"} 1\n", must be in text. */
static void
assert_sample(const char *text, const char *line)
{
	if (strstr(text, line) == NULL)
		fail_msg("missing sample line \"%s\" in:\n%s", line, text);
}

static void
test_every_metric_with_help_type_and_value(void **state)
{
	MetricsSnapshot s = sample_snapshot();
	char	   *text = render_one(&s, "pgcutover_app");

	(void) state;
	assert_non_null(text);
	assert_sample(text, "pgcutover_build_info{slot=\"pgcutover_app\",database=\"app\",version=\"" PGCUTOVER_VERSION "\"} 1\n");
	assert_sample(text, "# TYPE pgcutover_errors_total counter\npgcutover_errors_total{slot=\"pgcutover_app\",database=\"app\"} 3\n");
	assert_sample(text, "pgcutover_reconnects_total{slot=\"pgcutover_app\",database=\"app\"} 2\n");
	assert_sample(text, "pgcutover_last_applied_commit_timestamp_seconds{slot=\"pgcutover_app\",database=\"app\"} 1795441100.25\n");
	assert_sample(text, "pgcutover_phase{slot=\"pgcutover_app\",database=\"app\",phase=\"following\"} 1\n");
	assert_sample(text, "pgcutover_phase{slot=\"pgcutover_app\",database=\"app\",phase=\"reconnecting\"} 0\n");
	assert_sample(text, "# TYPE pgcutover_up gauge\npgcutover_up{slot=\"pgcutover_app\",database=\"app\"} 1\n");
	assert_sample(text, "# HELP pgcutover_lag_bytes ");
	assert_sample(text, "pgcutover_lag_bytes{slot=\"pgcutover_app\",database=\"app\"} 4096\n");
	assert_sample(text, "pgcutover_lag_seconds{slot=\"pgcutover_app\",database=\"app\"} 1.5\n");
	assert_sample(text, "# TYPE pgcutover_applied_transactions_total counter\n");
	assert_sample(text, "pgcutover_applied_transactions_total{slot=\"pgcutover_app\",database=\"app\"} 12345\n");
	assert_sample(text, "pgcutover_applied_rows_total{slot=\"pgcutover_app\",database=\"app\"} 67890\n");
	assert_sample(text, "pgcutover_applied_groups_total{slot=\"pgcutover_app\",database=\"app\"} 42\n");
	/* LSNs as byte offsets: 1/16B3748 = 4294967296 + 23803720 */
	assert_sample(text, "pgcutover_applied_lsn_bytes{slot=\"pgcutover_app\",database=\"app\"} 4318771016\n");
	assert_sample(text, "pgcutover_source_lsn_bytes{slot=\"pgcutover_app\",database=\"app\"} 4318775112\n");
	assert_sample(text, "pgcutover_slot_retained_wal_bytes{slot=\"pgcutover_app\",database=\"app\"} 16777216\n");
	assert_sample(text, "pgcutover_start_time_seconds{slot=\"pgcutover_app\",database=\"app\"} 1795441007.5\n");
	free(text);
}

static void
test_down_and_unknown_lag(void **state)
{
	MetricsSnapshot s = sample_snapshot();
	char	   *text;

	(void) state;
	s.up = false;
	s.lag_seconds = -1;			/* unknown: the series is left out, not 0 */
	s.last_commit_time = 0;		/* nothing applied yet: left out too */
	text = render_one(&s, "x");
	assert_sample(text, "pgcutover_up{slot=\"x\",database=\"app\"} 0\n");
	assert_null(strstr(text, "pgcutover_lag_seconds"));
	assert_null(strstr(text, "pgcutover_last_applied_commit_timestamp_seconds"));
	assert_sample(text, "pgcutover_lag_bytes{slot=\"x\",database=\"app\"} 4096\n");
	free(text);
}

/* Every sample is preceded by its HELP and TYPE lines, and every line ends in \n. */
static void
test_exposition_shape(void **state)
{
	MetricsSnapshot s = sample_snapshot();
	char	   *text = render_one(&s, "x");
	int			helps = 0,
				types = 0,
				samples = 0;

	(void) state;
	assert_true(text[strlen(text) - 1] == '\n');
	for (char *line = text; *line; line = strchr(line, '\n') + 1)
	{
		if (strncmp(line, "# HELP ", 7) == 0)
			helps++;
		else if (strncmp(line, "# TYPE ", 7) == 0)
			types++;
		else
		{
			assert_true(strncmp(line, "pgcutover_", 10) == 0);
			samples++;
		}
	}
	/* 15 families; the phase state set has a sample per phase */
	assert_int_equal(helps, 15);
	assert_int_equal(types, 15);
	assert_int_equal(samples, 14 + METRICS_PHASES);
	free(text);
}

/* Two followers on one endpoint: each family once, a sample per follower; label values escaped. */
static void
test_two_databases_and_escaping(void **state)
{
	MetricsSnapshot s[2] = {sample_snapshot(), sample_snapshot()};
	MetricsLabels l[2] = {labels("pgcutover_app", "app"), labels("pgcutover_we", "we\"ird\\db")};
	char	   *text;

	(void) state;
	s[1].lag_bytes = 77;
	s[1].up = false;
	s[1].phase = METRICS_STOPPED;
	text = metrics_render(s, l, 2);
	assert_sample(text, "# TYPE pgcutover_lag_bytes gauge\n"
				  "pgcutover_lag_bytes{slot=\"pgcutover_app\",database=\"app\"} 4096\n"
				  "pgcutover_lag_bytes{slot=\"pgcutover_we\",database=\"we\\\"ird\\\\db\"} 77\n");
	assert_sample(text, "pgcutover_up{slot=\"pgcutover_we\",database=\"we\\\"ird\\\\db\"} 0\n");
	assert_sample(text, "pgcutover_phase{slot=\"pgcutover_we\",database=\"we\\\"ird\\\\db\",phase=\"stopped\"} 1\n");
	free(text);
}

/* A follower process forked after the board was made writes what the parent renders. */
static void
test_board_shared_with_a_child(void **state)
{
	MetricsBoard *board = metrics_board_create(2);
	pid_t		pid;
	int			wstatus;

	(void) state;
	metrics_board_set_labels(board, 0, "s_a", "a");
	metrics_board_set_labels(board, 1, "s_b", "b");
	pid = fork();
	if (pid == 0)
	{
		MetricsSnapshot s = sample_snapshot();

		s.lag_bytes = 12345;
		metrics_board_update(board, 1, &s);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	{
		char	   *text = metrics_board_render(board);

		assert_sample(text, "pgcutover_lag_bytes{slot=\"s_b\",database=\"b\"} 12345\n");
		assert_sample(text, "pgcutover_phase{slot=\"s_a\",database=\"a\",phase=\"starting\"} 1\n");
		assert_sample(text, "pgcutover_up{slot=\"s_b\",database=\"b\"} 1\n");
		free(text);
	}
	metrics_board_set_phase(board, 1, METRICS_STOPPED);	/* migrate: the child exited */
	{
		char	   *text = metrics_board_render(board);

		assert_sample(text, "pgcutover_up{slot=\"s_b\",database=\"b\"} 0\n");
		assert_sample(text, "pgcutover_phase{slot=\"s_b\",database=\"b\",phase=\"stopped\"} 1\n");
		free(text);
	}
	metrics_board_destroy(board);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_metric_with_help_type_and_value),
		cmocka_unit_test(test_down_and_unknown_lag),
		cmocka_unit_test(test_exposition_shape),
		cmocka_unit_test(test_two_databases_and_escaping),
		cmocka_unit_test(test_board_shared_with_a_child),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
