/*
 * Unit tests of the host pool (drivers/pool.c): every item runs, failures
 * keep their own reasons and stop nothing, the bound on threads holds, and
 * items really run at the same time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "drivers/pool.h"

struct counters {
	pthread_mutex_t lock;
	int running;
	int max_running;
	int ran[64];
	int progress_calls;
	int progress_failures;
};

static int
work(size_t i, void *arg)
{
	struct counters *c = arg;

	pthread_mutex_lock(&c->lock);
	c->running++;
	if (c->running > c->max_running)
		c->max_running = c->running;
	c->ran[i]++;
	pthread_mutex_unlock(&c->lock);
	usleep(20000);
	pthread_mutex_lock(&c->lock);
	c->running--;
	pthread_mutex_unlock(&c->lock);
	if (i % 3 == 1) {
		kr_error_set(KR_ESSH, "host %zu unreachable", i);
		return KR_ESSH;
	}
	return 0;
}

static void
progress(size_t i, const struct kr_pool_result *r, void *arg)
{
	struct counters *c = arg;

	/* Serialised by the pool: no lock needed here. */
	c->progress_calls++;
	if (r->rc < 0)
		c->progress_failures++;
}

static void
test_failures_stop_nothing(void **state)
{
	struct counters c = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct kr_pool_result r[40];
	size_t failed, i;

	failed = kr_pool_run(r, 40, 4, work, progress, &c);
	assert_int_equal(failed, 13); /* 1, 4, ..., 37 */
	for (i = 0; i < 40; i++) {
		assert_int_equal(c.ran[i], 1);
		if (i % 3 == 1) {
			char want[64];

			snprintf(want, sizeof(want), "host %zu unreachable", i);
			assert_int_equal(r[i].rc, KR_ESSH);
			assert_string_equal(r[i].error, want);
		} else {
			assert_int_equal(r[i].rc, 0);
			assert_null(r[i].error);
		}
	}
	assert_true(c.max_running <= 4);
	assert_true(c.max_running >= 2);
	assert_int_equal(c.progress_calls, 40);
	assert_int_equal(c.progress_failures, 13);
	kr_pool_results_release(r, 40);
}

/* Each item waits until all 8 are running: only a real pool gets through. */
struct rendezvous {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int arrived;
};

static int
meet(size_t i, void *arg)
{
	struct rendezvous *r = arg;
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&r->lock);
	r->arrived++;
	pthread_cond_broadcast(&r->cond);
	while (r->arrived < 8 && rc == 0)
		rc = pthread_cond_timedwait(&r->cond, &r->lock, &until);
	pthread_mutex_unlock(&r->lock);
	if (rc != 0) {
		kr_error_set(KR_ETIMEOUT, "item %zu ran alone", i);
		return KR_ETIMEOUT;
	}
	return 0;
}

static void
test_runs_concurrently(void **state)
{
	struct rendezvous r = { PTHREAD_MUTEX_INITIALIZER,
		PTHREAD_COND_INITIALIZER, 0 };
	struct kr_pool_result res[8];

	assert_int_equal(kr_pool_run(res, 8, 0, meet, NULL, &r), 0);
	assert_int_equal(r.arrived, 8);
	kr_pool_results_release(res, 8);
}

static void
test_one_at_a_time(void **state)
{
	struct counters c = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct kr_pool_result r[5];

	assert_int_equal(kr_pool_run(r, 5, 1, work, NULL, &c), 2);
	assert_int_equal(c.max_running, 1);
	assert_int_equal(kr_pool_run(r, 0, 1, work, NULL, &c), 0);
	kr_pool_results_release(r, 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failures_stop_nothing),
		cmocka_unit_test(test_runs_concurrently),
		cmocka_unit_test(test_one_at_a_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
