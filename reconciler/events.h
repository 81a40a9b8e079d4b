/*
 * How the engine tells its caller what happens during a run: one callback
 * receiving events (curl's progress callback idea). The engine never
 * prints; the CLI prints events on stderr, a watcher logs them. Events
 * may come from several threads, but never two at once for one run.
 */
#ifndef KR_RECONCILER_EVENTS_H
#define KR_RECONCILER_EVENTS_H

#include <stddef.h>

struct kr_diag;
struct kr_plan;
struct kr_apply_event;
struct kr_observed_host;

enum kr_event_kind {
	KR_EVENT_ERROR, /* message: what failed (the CLI prefixes "kreconcile:
			   ") */
	KR_EVENT_PROGRESS, /* message: a progress line (hidden by -q) */
	KR_EVENT_TEXT, /* message: more lines of the error before it, as they
			  are */
	KR_EVENT_DIAG, /* diag: a configuration problem at FILE:LINE:COL */
	KR_EVENT_OBSERVED, /* host, observed (with message: its progress line)
			    */
	KR_EVENT_PLAN, /* plan: what apply is about to carry out, before it asks
			*/
	KR_EVENT_APPLY, /* apply: an action or a host done */
	KR_EVENT_LOCKING, /* the deploy lock is about to be taken: from here a
			   * cancel lets the actions in flight finish */
};

struct kr_event {
	enum kr_event_kind kind;
	const char *host; /* may be NULL */
	const char *message; /* may be NULL */
	const struct kr_diag *diag; /* KR_EVENT_DIAG */
	const struct kr_plan *plan; /* KR_EVENT_PLAN */
	const struct kr_apply_event *apply; /* KR_EVENT_APPLY */
	const struct kr_observed_host *observed; /* KR_EVENT_OBSERVED */
	unsigned execs; /* KR_EVENT_OBSERVED */
};

struct kr_events {
	void (*fn)(const struct kr_event *ev, void *arg);
	void *arg;
};

/* Send ev to the sink (none: dropped). */
void kr_event_send(const struct kr_events *sink, const struct kr_event *ev);
/* An ERROR, PROGRESS or TEXT event with a formatted message. */
void kr_event_say(const struct kr_events *sink, enum kr_event_kind kind,
	const char *host, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* "0.3 s", "12.5 s" ("0.04 s" below a tenth): a duration for messages. */
void kr_format_duration(char *out, size_t size, double seconds);

#endif
