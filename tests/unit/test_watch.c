/*
 * Unit tests of the watcher's pure parts: durations as the options and
 * x-kreconcile.watch write them, and the Prometheus text of its metrics
 * (label values escaped, the histogram cumulative).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "reconciler/watch_int.h"

static void
test_duration(void **state)
{
	(void)state;
	assert_int_equal(kr_watch_duration("30s"), 30);
	assert_int_equal(kr_watch_duration("2m"), 120);
	assert_int_equal(kr_watch_duration("1h"), 3600);
	assert_int_equal(kr_watch_duration("1d"), 86400);
	assert_int_equal(kr_watch_duration("45"), 45);
	assert_int_equal(kr_watch_duration("0s"), 0);
	assert_int_equal(kr_watch_duration(""), -1);
	assert_int_equal(kr_watch_duration(NULL), -1);
	assert_int_equal(kr_watch_duration("m"), -1);
	assert_int_equal(kr_watch_duration("5x"), -1);
	assert_int_equal(kr_watch_duration("5ms"), -1);
	assert_int_equal(kr_watch_duration("-5s"), -1);
	assert_int_equal(kr_watch_duration("99999999999d"), -1);
}

static void
test_metrics(void **state)
{
	struct kr_watch w;
	struct watch_dest d[2];
	struct kr_buf b = KR_BUF_INIT;

	(void)state;
	memset(&w, 0, sizeof(w));
	memset(d, 0, sizeof(d));
	pthread_mutex_init(&w.mu, NULL);
	w.branch = (char *)"main";
	w.seen = (char *)"aaaa";
	d[0].name = (char *)"prod\"uction\n";
	d[0].applied = (char *)"aaaa";
	d[1].name = (char *)"staging";
	d[1].hosts_unreachable = 2;
	w.dests = d;
	w.ndests = 2;
	kr_watch_count_run(&w, "commit", "ok", 0.7);
	kr_watch_count_run(&w, "commit", "ok", 12);
	kr_watch_count_run(&w, "drift", "failed", 700);
	kr_watch_metrics_render(&b, &w);
	assert_non_null(strstr(b.ptr, "kreconcile_runs_total{trigger="
				      "\"commit\",outcome=\"ok\"} 2\n"));
	assert_non_null(strstr(b.ptr, "kreconcile_runs_total{trigger=\"drift\","
				      "outcome=\"failed\"} 1\n"));
	assert_non_null(strstr(b.ptr, "kreconcile_reconcile_duration_seconds_"
				      "bucket{le=\"1\"} 1\n"));
	assert_non_null(strstr(b.ptr, "kreconcile_reconcile_duration_seconds_"
				      "bucket{le=\"30\"} 2\n"));
	assert_non_null(strstr(b.ptr, "kreconcile_reconcile_duration_seconds_"
				      "bucket{le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(
		b.ptr, "kreconcile_reconcile_duration_seconds_count 3\n"));
	assert_non_null(strstr(b.ptr, "destination=\"prod\\\"uction\\n\","
				      "commit=\"aaaa\"} 1\n"));
	assert_non_null(strstr(b.ptr, "kreconcile_applied_is_seen{destination="
				      "\"staging\"} 0\n"));
	assert_non_null(strstr(b.ptr, "kreconcile_hosts_unreachable{"
				      "destination=\"staging\"} 2\n"));
	/* every sample line belongs to a declared metric */
	assert_non_null(strstr(b.ptr, "# TYPE kreconcile_runs_total counter"));
	kr_buf_release(&b);
	pthread_mutex_destroy(&w.mu);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_metrics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
