/*
 * test_metrics.c
 *	  Unit tests for metrics_render: the Prometheus text exposition of a
 *	  follow snapshot (names, types, labels, values, the optional lag).
 */
#include <stdarg.h>
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
	s.lag_bytes = 4096;
	s.lag_seconds = 1.5;
	s.transactions = 12345;
	s.rows = 67890;
	s.groups = 42;
	s.applied_lsn = ((Lsn) 1 << 32) | 0x16B3748;	/* 1/16B3748 */
	s.source_lsn = ((Lsn) 1 << 32) | 0x16B4748;
	s.slot_retained_wal_bytes = 16777216;
	s.start_time = 1795441007.5;
	return s;
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
	char	   *text = metrics_render(&s, "pgcutover_app");

	(void) state;
	assert_non_null(text);
	assert_sample(text, "# TYPE pgcutover_up gauge\npgcutover_up{slot=\"pgcutover_app\"} 1\n");
	assert_sample(text, "# HELP pgcutover_lag_bytes ");
	assert_sample(text, "pgcutover_lag_bytes{slot=\"pgcutover_app\"} 4096\n");
	assert_sample(text, "pgcutover_lag_seconds{slot=\"pgcutover_app\"} 1.5\n");
	assert_sample(text, "# TYPE pgcutover_applied_transactions_total counter\n");
	assert_sample(text, "pgcutover_applied_transactions_total{slot=\"pgcutover_app\"} 12345\n");
	assert_sample(text, "pgcutover_applied_rows_total{slot=\"pgcutover_app\"} 67890\n");
	assert_sample(text, "pgcutover_applied_groups_total{slot=\"pgcutover_app\"} 42\n");
	/* LSNs as byte offsets: 1/16B3748 = 4294967296 + 23803720 */
	assert_sample(text, "pgcutover_applied_lsn_bytes{slot=\"pgcutover_app\"} 4318771016\n");
	assert_sample(text, "pgcutover_source_lsn_bytes{slot=\"pgcutover_app\"} 4318775112\n");
	assert_sample(text, "pgcutover_slot_retained_wal_bytes{slot=\"pgcutover_app\"} 16777216\n");
	assert_sample(text, "pgcutover_start_time_seconds{slot=\"pgcutover_app\"} 1795441007.5\n");
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
	text = metrics_render(&s, "x");
	assert_sample(text, "pgcutover_up{slot=\"x\"} 0\n");
	assert_null(strstr(text, "pgcutover_lag_seconds"));
	assert_sample(text, "pgcutover_lag_bytes{slot=\"x\"} 4096\n");
	free(text);
}

/* Every sample is preceded by its HELP and TYPE lines, and every line ends in \n. */
static void
test_exposition_shape(void **state)
{
	MetricsSnapshot s = sample_snapshot();
	char	   *text = metrics_render(&s, "x");
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
	assert_int_equal(samples, 10);
	assert_int_equal(helps, samples);
	assert_int_equal(types, samples);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_metric_with_help_type_and_value),
		cmocka_unit_test(test_down_and_unknown_lag),
		cmocka_unit_test(test_exposition_shape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
