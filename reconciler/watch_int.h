/* What the watcher's files share (watch.c, watch_http.c, watch_metrics.c). */
#ifndef KR_RECONCILER_WATCH_INT_H
#define KR_RECONCILER_WATCH_INT_H

#include <pthread.h>
#include <time.h>

#include "common/buf.h"
#include "drivers/http.h"
#include "reconciler/engine.h"
#include "reconciler/watch.h"

/* One destination's progress. */
struct watch_dest {
	char *name; /* NULL: none */
	char *applied; /* the commit last applied completely */
	char *failed; /* the commit whose last attempt failed */
	int failures; /* consecutive failures of `failed` */
	time_t retry_at; /* when to try `failed` again */
	time_t waiting_since; /* waiting for its image since; 0 */
	time_t next_drift; /* next drift check; 0 = none yet */
	bool attempted; /* a run was made for it (readiness) */
	int hosts_unreachable; /* in its last run */
	/* what the hosts looked like in its last run (reconciler/status.h),
	 * for the status page; replaced whole under kr_watch.mu */
	struct json_t *status;
	unsigned long long drift_found, drift_repaired;
};

#define WATCH_NBUCKETS 10

/* The counters /metrics shows; guarded by kr_watch.mu. */
struct watch_metrics {
	struct watch_count {
		char trigger[16];
		char outcome[16];
		unsigned long long n;
	} runs[64];
	size_t nruns;
	unsigned long long buckets[WATCH_NBUCKETS + 1]; /* the last is +Inf */
	double seconds_sum;
	unsigned long long seconds_count;
	unsigned long long drift_detected, drift_repaired;
	unsigned long long git_errors, registry_errors;
	unsigned long long webhooks_accepted, webhooks_refused;
	time_t last_poll; /* last successful git poll */
};

struct kr_watch {
	struct kr_watch_opts o;
	char *url; /* the repository */
	char *branch;
	char *url_shown; /* url without its user info (a token may be there) */
	char *mirror; /* bare mirror under the state directory */
	char *tree; /* private work tree */
	char *tree_commit; /* what the tree holds now */
	char *lock_path;
	char *state_abs; /* the state database, as an absolute path */
	char *lock_message; /* the deploy lock's message: who we are */
	int lock_fd;
	int wake[2]; /* the self-pipe kr_watch_poke writes to */
	volatile sig_atomic_t stop;
	volatile sig_atomic_t want_poll, want_reconcile, want_reload;
	struct watch_dest *dests;
	size_t ndests;
	struct kr_http *http;
	struct kr_watch_notifier *notifier;
	pthread_mutex_t mu; /* seen, metrics, dests' readiness */
	char *seen; /* the newest head seen */
	bool polled; /* a poll succeeded once */
	struct watch_metrics m;
};

/* watch_notify.c */
struct kr_watch_notifier;
int kr_watch_notifier_start(struct kr_watch *w);
/* Stop the thread: what is queued gets one quick attempt. */
void kr_watch_notifier_stop(struct kr_watch *w);
/* Queue an event ("applied", "failed", "drift_repaired", "drift",
 * "image_wait_exceeded") for every --notify URL; never blocks. */
void kr_watch_notify(struct kr_watch *w, const char *event,
	const struct watch_dest *d, const char *commit, const char *summary);

/* watch_page.c: the status page (GET /) and one run (GET /runs/N) */
void kr_watch_page_status(struct kr_http_response *resp, struct kr_watch *w);
void kr_watch_page_run(
	struct kr_http_response *resp, struct kr_watch *w, const char *id);

/* watch_metrics.c */
void kr_watch_count_run(struct kr_watch *w, const char *trigger,
	const char *outcome, double seconds);
void kr_watch_metrics_render(struct kr_buf *out, struct kr_watch *w);

/* watch_http.c */
void kr_watch_http(const struct kr_http_request *req,
	struct kr_http_response *resp, void *arg);

#endif
