/*
 * The host pool (see pool.h): worker threads take the next item under a
 * mutex until none are left. The error message is per thread
 * (common/error.c), so each item's reason is copied right after it runs.
 */
#include <pthread.h>
#include <stdlib.h>

#include "common/error.h"
#include "drivers/pool.h"

struct pool {
	pthread_mutex_t lock;
	size_t next;
	size_t n;
	size_t failed;
	struct kr_pool_result *out;
	kr_pool_fn fn;
	kr_pool_progress_fn progress;
	void *arg;
};

static void
run_one(struct pool *p, size_t i)
{
	struct kr_pool_result r = { 0, NULL };

	kr_error_clear();
	r.rc = p->fn(i, p->arg);
	if (r.rc < 0) {
		const char *msg = kr_error_last();

		r.error = kr_xstrdup(*msg ? msg : "failed without a reason");
	} else {
		r.rc = 0;
	}
	pthread_mutex_lock(&p->lock);
	p->out[i] = r;
	if (r.rc < 0)
		p->failed++;
	if (p->progress)
		p->progress(i, &p->out[i], p->arg);
	pthread_mutex_unlock(&p->lock);
}

static void *
worker(void *data)
{
	struct pool *p = data;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&p->lock);
		i = p->next < p->n ? p->next++ : p->n;
		pthread_mutex_unlock(&p->lock);
		if (i == p->n)
			return NULL;
		run_one(p, i);
	}
}

size_t
kr_pool_run(struct kr_pool_result *out, size_t n, unsigned max_parallel,
	kr_pool_fn fn, kr_pool_progress_fn progress, void *arg)
{
	struct pool p = {
		.next = 0,
		.n = n,
		.failed = 0,
		.out = out,
		.fn = fn,
		.progress = progress,
		.arg = arg,
	};
	pthread_t *threads;
	size_t nthreads, started = 0, i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		out[i].rc = 0;
		out[i].error = NULL;
	}
	nthreads = max_parallel ? max_parallel : KR_POOL_DEFAULT;
	if (nthreads > n)
		nthreads = n;
	pthread_mutex_init(&p.lock, NULL);
	if (nthreads == 1) {
		worker(&p);
	} else {
		threads = kr_xcalloc(nthreads, sizeof(*threads));
		for (i = 0; i < nthreads; i++)
			if (pthread_create(
				    &threads[started], NULL, worker, &p) == 0)
				started++;
		/* No thread at all: do the work here rather than not at all. */
		if (started == 0)
			worker(&p);
		for (i = 0; i < started; i++)
			pthread_join(threads[i], NULL);
		free(threads);
	}
	pthread_mutex_destroy(&p.lock);
	return p.failed;
}

void
kr_pool_results_release(struct kr_pool_result *r, size_t n)
{
	size_t i;

	for (i = 0; r && i < n; i++) {
		free(r[i].error);
		r[i].error = NULL;
	}
}
