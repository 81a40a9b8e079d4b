/*
 * Running one function for every host at once: a bounded set of threads
 * (default 30, as Kamal's SSHKit pool), each host's result and reason kept
 * apart, a failure on one host never stopping the others, and a progress
 * callback so the CLI can say "host x: done" as hosts finish.
 */
#ifndef KR_DRIVERS_POOL_H
#define KR_DRIVERS_POOL_H

#include <stddef.h>

#define KR_POOL_DEFAULT 30

struct kr_pool_result {
	int rc; /* what fn returned: 0 or a negative KR_E* code */
	char *error; /* kr_error_last() of the failing thread; NULL on success
		      */
};

/*
 * Work for item i (a host index); runs on a pool thread, so it must touch
 * only item i's data. Returns 0 or a negative KR_E* with kr_error_set.
 */
typedef int (*kr_pool_fn)(size_t i, void *arg);
/*
 * Called as each item finishes, one call at a time (serialised by the pool),
 * on the thread that ran it; may print.
 */
typedef void (*kr_pool_progress_fn)(
	size_t i, const struct kr_pool_result *r, void *arg);

/*
 * Run fn for items 0..n-1 with at most max_parallel at once (0 = default).
 * `out` is an array of n results, written for every item. Returns the number
 * of items that failed (0 = all succeeded); never stops early.
 */
size_t kr_pool_run(struct kr_pool_result *out, size_t n, unsigned max_parallel,
	kr_pool_fn fn, kr_pool_progress_fn progress, void *arg);

/* Free the error strings of n results. */
void kr_pool_results_release(struct kr_pool_result *r, size_t n);

#endif
