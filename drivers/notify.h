/*
 * Notifications: a JSON event POSTed to a webhook receiver (Slack's
 * incoming webhooks and anything else that takes JSON) through libcurl,
 * with a deadline and a bounded number of retries. Used from the watcher's
 * notifier thread, never from a reconcile itself, so a slow or failing
 * receiver never holds a deploy back.
 */
#ifndef KR_DRIVERS_NOTIFY_H
#define KR_DRIVERS_NOTIFY_H

#include <stddef.h>

struct kr_notify_opts {
	int timeout_ms; /* one attempt, connect included; default 5000 */
	int attempts; /* default 3 */
	int backoff_ms; /* between attempts, doubling; default 500 */
};

/*
 * POST body (application/json) to url; a 2xx answer is success. 0, or a
 * negative KR_E* with "notify URL: REASON" set after the last attempt
 * (the URL's user info and query are never in the message).
 */
int kr_notify_post(const char *url, const char *body, size_t len,
	const struct kr_notify_opts *o);

#endif
