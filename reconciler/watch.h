/*
 * The watcher: kreconcile's GitOps loop. It keeps the hosts equal to what a
 * git branch says: one `git ls-remote` per interval (no fetch while the
 * head is unchanged); on a new commit the config is checked out at that
 * commit in a private work tree (the user's checkout is never touched) and
 * the engine applies it, for each destination in turn, each with its own
 * deploy lock and record; every drift interval the engine plans against
 * the last applied commit and (self-heal) applies what drifted. A failing
 * commit is retried with exponential backoff, at once when a newer commit
 * arrives; a commit whose image is not in the registry yet is waited for.
 *
 * One event loop (poll on a wake pipe with a timeout to the next timer):
 * no thread per timer, no sleep loops. The HTTP listener (webhook, metrics,
 * health) and the caller's signal handling wake it with kr_watch_poke;
 * kr_watch_stop ends it after the action in flight. Every run goes to the
 * state database's history; everything it does is an event.
 */
#ifndef KR_RECONCILER_WATCH_H
#define KR_RECONCILER_WATCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "reconciler/events.h"

/* Which settings the caller gave (they win over x-kreconcile.watch). */
#define KR_WATCH_SET_INTERVAL 0x01
#define KR_WATCH_SET_DRIFT 0x02
#define KR_WATCH_SET_SELF_HEAL 0x04
#define KR_WATCH_SET_IMAGE_WAIT 0x08
#define KR_WATCH_SET_BACKOFF 0x10
#define KR_WATCH_SET_RETENTION 0x20

struct kr_watch_opts {
	const char *repo; /* NULL: the upstream of checkout_dir */
	const char *branch; /* NULL: the upstream's */
	const char *path; /* the project's directory in the repository; "" */
	const char
		*checkout_dir; /* the checkout whose upstream is watched; "." */
	const char *config_rel; /* in the project: "config/deploy.yml" */
	const char *const
		*destinations; /* none: one run without a destination */
	size_t ndestinations;
	const char *app_version; /* pinned version; NULL = the commit */
	const char *state_path; /* the state database (required) */
	int interval; /* seconds between git polls (default 60) */
	int drift_interval; /* seconds between drift checks (default 300) */
	bool self_heal; /* apply what drifted (default true) */
	int image_wait; /* seconds to wait for a missing image (600) */
	int backoff_max; /* cap of the retry backoff (600) */
	size_t retention; /* runs kept in the history (1000) */
	unsigned set; /* KR_WATCH_SET_*: given by the caller */
	bool accept_new_host_keys;
	const char *performer; /* the deploy lock's "Locked by" */
	const char *listen; /* HOST:PORT for the listener; NULL = none */
	const char *webhook_secret; /* SECRET: webhook and /reconcile; NULL */
	const char *const *notify; /* URLs each outcome is POSTed to (JSON) */
	size_t nnotify;
	struct kr_events events;
};

struct kr_watch;

/*
 * Prepare a watcher: check the options, take the state database's watcher
 * lock (a second watcher is refused, naming the first's PID), find the
 * upstream when no repository is given, and start the listener. Nothing
 * is deployed yet. Returns 0 or a negative KR_E* with the message set.
 */
int kr_watch_new(struct kr_watch **out, const struct kr_watch_opts *o);
/* Run until kr_watch_stop; 0, or a negative KR_E* when it cannot go on. */
int kr_watch_run(struct kr_watch *w);
/* Release everything (the lock, the listener); accepts NULL. */
void kr_watch_free(struct kr_watch *w);

/* What kr_watch_poke asks for; safe from a signal thread or the listener. */
enum kr_watch_poke {
	KR_WATCH_POKE_POLL, /* look at git now (webhook) */
	KR_WATCH_POKE_RECONCILE, /* look at git and reconcile now (SIGUSR1, POST
				    /reconcile) */
	KR_WATCH_POKE_RELOAD, /* read the watch settings again (SIGHUP) */
};
void kr_watch_poke(struct kr_watch *w, enum kr_watch_poke what);
/* End the loop: the run in flight finishes its actions, the lock is
 * released. Safe from a signal thread. */
void kr_watch_stop(struct kr_watch *w);

/* "30s", "2m", "1h", "1d", or plain seconds, into seconds; -1 when not a
 * duration. */
int kr_watch_duration(const char *s);

#endif
