/*
 * The engine's host steps: read every configured host (one exec each, in
 * parallel, bounded by sshkit.max_concurrent_starts or 30), report each as
 * an event, and keep each snapshot in the store; or, with refresh off,
 * take each host's last snapshot from the store. Also the SSH options of a
 * host built from the config's ssh section, a run's connections (one per
 * host, kept open between steps), and the registry lookups the diff needs.
 */
#ifndef KR_RECONCILER_HOSTS_H
#define KR_RECONCILER_HOSTS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/conns.h"
#include "drivers/transport.h"
#include "reconciler/diff.h"
#include "reconciler/events.h"
#include "reconciler/load.h"
#include "state/observed.h"
#include "state/store.h"

/* The SSH settings shared by every host of a configuration; owns key_data. */
struct kr_ssh_settings {
	struct kr_transport_opts base; /* host, user and port left unset */
	struct kr_strvec key_data; /* SECRET: PEM text of ssh.key_data */
};

/*
 * Build the shared options from the config's ssh section (keys, key_data
 * looked up in the secrets, keys_only, proxy, proxy_command, log_level,
 * config: true = ~/.ssh/config, false = none, a path or the first of a
 * list) and x-kreconcile.known_hosts. Strings are borrowed from l, which
 * must outlive `out`. Returns 0, or KR_ECONFIG when a key_data secret is
 * missing (message names it).
 */
int kr_ssh_settings_init(struct kr_ssh_settings *out, const struct kr_loaded *l,
	bool accept_new_host_keys);
void kr_ssh_settings_release(struct kr_ssh_settings *s);
/* The options for one host: the shared ones plus its name, user and port. */
void kr_ssh_settings_for_host(struct kr_transport_opts *out,
	const struct kr_ssh_settings *s, const char *host, const char *user,
	int port);

/*
 * What every host looks like now: one entry per configured host, in the
 * configuration's order, then (include_removed) hosts no longer configured.
 */
struct kr_hosts {
	struct kr_observed_host *hosts; /* n entries; each always filled */
	unsigned *execs; /* SSH execs sent per host (0 from the store) */
	size_t n;
	size_t failed; /* configured hosts whose status is not KR_OBS_OK */
	bool from_store; /* true: last snapshots, nothing was read now */
};

/*
 * A run's connections (drivers/conns.h), one per host, opened by the first
 * observe and kept for everything after it (the deploy lock, apply's
 * scripts, the second observe), with the SSH settings they are opened
 * with. A lost connection is reconnected once: a progress event "host H:
 * connection lost (REASON); reconnecting" and, with a store and run set, a
 * journal entry "H/connection reconnect".
 */
struct kr_hostconns {
	struct kr_conns conns;
	struct kr_ssh_settings ssh;
	const struct kr_events *events;
	struct kr_store *store; /* journal of reconnects; may be NULL */
	int64_t run;
};

/* ssh from l (as kr_ssh_settings_init); 0 or KR_ECONFIG. */
int kr_hostconns_init(struct kr_hostconns *out, const struct kr_events *ev,
	const struct kr_loaded *l, bool accept_new_host_keys);
/* Close every connection; accepts NULL. */
void kr_hostconns_release(struct kr_hostconns *c);
/* The slot of host, added (not connected) unless it has one: with the
 * configuration's user and port for it, or for a host no longer
 * configured the first host's user and port 22. Not thread-safe: add every
 * host a thread will use before it starts. */
size_t kr_hostconns_add(
	struct kr_hostconns *c, const struct kr_desired *d, const char *host);
/* The connection to host (which must have a slot), opened unless open. */
int kr_hostconns_get(
	struct kr_transport **out, struct kr_hostconns *c, const char *host);
/* Connections opened to host in the run. */
unsigned kr_hostconns_opened(const struct kr_hostconns *c, const char *host);

/* Seconds one host's observe exec may take unless told otherwise. */
#define KR_OBSERVE_TIMEOUT 120

struct kr_observe_opts {
	bool refresh; /* false: the store's last snapshots */
	bool accept_new_host_keys; /* --accept-new-host-keys */
	bool include_removed; /* add hosts the store knows and the
			       * config no longer names, from their
			       * last snapshot (not read now) */
	/* The run's connections: used and left open (then its ssh options
	 * are used and accept_new_host_keys is the one it was made with);
	 * NULL = connect for this observe and close. */
	struct kr_hostconns *conns;
	/* Set to give up on the hosts still being read. */
	const volatile sig_atomic_t *cancel;
	int timeout; /* seconds for one host's observe exec; 0 = default */
};

/*
 * Observe every host of l->desired into out (initialised by this call;
 * release it), sending a KR_EVENT_OBSERVED per host ("host H: observed (1
 * exec, 0.3 s)" (the time since the observing began) or "host H:
 * unreachable: REASON"). With refresh each snapshot is stored under `run`
 * (0 = none); a failing host is kept in out with its status and error and
 * never stops the others. Returns 0 (look at out->failed), or a negative
 * KR_E* when nothing could be done (the store, the ssh options).
 */
int kr_hosts_observe(struct kr_hosts *out, const struct kr_events *ev,
	const struct kr_loaded *l, struct kr_store *s, int64_t run,
	const struct kr_observe_opts *o);
void kr_hosts_release(struct kr_hosts *h);

/*
 * What the registry says of every image the model runs (kr_diff_images), as
 * kr_diff_opts.images wants it: an image some observed host already runs by
 * that exact reference counts as present and is not looked up; the others
 * are resolved at once (8 at a time) with the configuration's registry
 * credentials when the image lives in that registry (Docker Hub when
 * registry.server is unset), anonymously otherwise. "Not found" is
 * KR_IMAGE_MISSING ("waiting for image"); any other answer is an error
 * event "image 'REF': REASON" and counted. With `digests`, images a host
 * runs are looked up too, for their digest (a re-pushed tag); a failure
 * there is only reported. Returns that count; *out (n =
 * *nout) is always set; free it with kr_images_free.
 */
size_t kr_images_resolve(struct kr_image_lookup **out, size_t *nout,
	const struct kr_desired *d, const struct kr_hosts *hosts,
	const struct kr_events *ev, bool digests);
void kr_images_free(struct kr_image_lookup *v, size_t n);

#endif
