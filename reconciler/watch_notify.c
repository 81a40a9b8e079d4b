/*
 * The watcher's notifications: each outcome worth telling (a commit
 * applied, a commit failed, drift repaired or found, an image waited for
 * too long) becomes a JSON event with a Slack-compatible "text", queued
 * for a thread of its own that POSTs it to every --notify URL
 * (drivers/notify.c: timeout, bounded retries). The queue is bounded: a
 * receiver that is slow or down never holds a reconcile back; when the
 * queue is full the oldest event is dropped and that is logged.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/error.h"
#include "drivers/notify.h"
#include "reconciler/watch_int.h"

#define NOTIFY_QUEUE 64

struct kr_watch_notifier {
	struct kr_watch *w;
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *q[NOTIFY_QUEUE];
	size_t head, n;
	bool stop;
	unsigned long long sent, failed, dropped;
};

static void *
notifier_main(void *arg)
{
	struct kr_watch_notifier *nt = arg;
	struct kr_watch *w = nt->w;
	size_t i;

	pthread_mutex_lock(&nt->mu);
	for (;;) {
		char *body;

		while (!nt->n && !nt->stop)
			pthread_cond_wait(&nt->cv, &nt->mu);
		if (!nt->n)
			break; /* stopping with nothing left */
		body = nt->q[nt->head];
		nt->head = (nt->head + 1) % NOTIFY_QUEUE;
		nt->n--;
		pthread_mutex_unlock(&nt->mu);
		for (i = 0; i < w->o.nnotify; i++) {
			struct kr_notify_opts no = { 0 };

			/* stopping: one quick attempt each, then go */
			if (nt->stop) {
				no.attempts = 1;
				no.timeout_ms = 2000;
			}
			if (kr_notify_post(w->o.notify[i], body, strlen(body),
				    &no) == 0) {
				nt->sent++;
			} else {
				nt->failed++;
				kr_event_say(&w->o.events, KR_EVENT_ERROR, NULL,
					"watch: %s", kr_error_last());
			}
		}
		free(body);
		pthread_mutex_lock(&nt->mu);
	}
	pthread_mutex_unlock(&nt->mu);
	return NULL;
}

int
kr_watch_notifier_start(struct kr_watch *w)
{
	struct kr_watch_notifier *nt;

	if (!w->o.nnotify)
		return 0;
	nt = kr_xcalloc(1, sizeof(*nt));
	nt->w = w;
	pthread_mutex_init(&nt->mu, NULL);
	pthread_cond_init(&nt->cv, NULL);
	if (pthread_create(&nt->tid, NULL, notifier_main, nt) != 0) {
		pthread_mutex_destroy(&nt->mu);
		pthread_cond_destroy(&nt->cv);
		free(nt);
		kr_error_set(KR_EIO, "cannot start the notifier thread");
		return KR_EIO;
	}
	w->notifier = nt;
	return 0;
}

void
kr_watch_notifier_stop(struct kr_watch *w)
{
	struct kr_watch_notifier *nt = w->notifier;
	size_t i;

	if (!nt)
		return;
	pthread_mutex_lock(&nt->mu);
	nt->stop = true;
	pthread_cond_signal(&nt->cv);
	pthread_mutex_unlock(&nt->mu);
	pthread_join(nt->tid, NULL);
	for (i = 0; i < nt->n; i++)
		free(nt->q[(nt->head + i) % NOTIFY_QUEUE]);
	pthread_mutex_destroy(&nt->mu);
	pthread_cond_destroy(&nt->cv);
	free(nt);
	w->notifier = NULL;
}

void
kr_watch_notify(struct kr_watch *w, const char *event,
	const struct watch_dest *d, const char *commit, const char *summary)
{
	struct kr_watch_notifier *nt = w->notifier;
	json_t *o;
	char *body, *text, when[32];
	time_t now = time(NULL);
	struct tm tm;

	if (!nt)
		return;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	text = kr_xasprintf("kreconcile %s%s%s: %s%s%.12s%s%s",
		d->name ? d->name : "", d->name ? " " : "", event,
		summary ? summary : "", commit ? " (commit " : "",
		commit ? commit : "", commit ? ")" : "", "");
	o = json_object();
	json_object_set_new(o, "format_version", json_string("1.0"));
	json_object_set_new(o, "event", json_string(event));
	json_object_set_new(o, "time", json_string(when));
	json_object_set_new(o, "repository", json_string(w->url_shown));
	json_object_set_new(o, "branch", json_string(w->branch));
	json_object_set_new(
		o, "destination", d->name ? json_string(d->name) : json_null());
	json_object_set_new(
		o, "commit", commit ? json_string(commit) : json_null());
	json_object_set_new(
		o, "summary", summary ? json_string(summary) : json_null());
	json_object_set_new(o, "text", json_string(text));
	body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	free(text);
	if (!body)
		return;
	pthread_mutex_lock(&nt->mu);
	if (nt->n == NOTIFY_QUEUE) {
		free(nt->q[nt->head]);
		nt->head = (nt->head + 1) % NOTIFY_QUEUE;
		nt->n--;
		nt->dropped++;
		kr_event_say(&w->o.events, KR_EVENT_ERROR, NULL,
			"watch: the notification queue is full; the oldest "
			"event was dropped");
	}
	nt->q[(nt->head + nt->n) % NOTIFY_QUEUE] = body;
	nt->n++;
	pthread_cond_signal(&nt->cv);
	pthread_mutex_unlock(&nt->mu);
}
