/*
 * The step refresh, status, plan and apply share: read every configured host
 * (one exec each, in parallel, bounded by sshkit.max_concurrent_starts or
 * 30), say how each went on stderr, and keep each snapshot in the store; or,
 * with refresh off, take each host's last snapshot from the store. Also the
 * small things every such command needs first: the store opened with this
 * run's secret values registered, the desired revision recorded, the SSH
 * options of a host built from the config's ssh section, and a run's
 * connections (one per host, kept open between steps).
 */
#ifndef KR_CLI_HOSTS_H
#define KR_CLI_HOSTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/cli.h"
#include "cli/load.h"
#include "drivers/conns.h"
#include "drivers/transport.h"
#include "reconciler/diff.h"
#include "state/observed.h"
#include "state/store.h"

/*
 * The secret values of a loaded configuration, as kr_store_set_secrets
 * wants them: every env `secret:` value of every app and accessory env
 * file, the registry password and the ssh key_data keys. Not every line of
 * .kamal/secrets (a registry username may sit there and is no secret).
 * Keys name the secret (for messages). Appends to out.
 */
void kr_cli_secret_values(struct kr_kvlist *out, const struct kr_loaded *l);

/*
 * Open the state database (g->state_path, else .kreconcile/state.db beside
 * the config) and register the run's secret values. Prints nothing;
 * returns 0 or a negative KR_E* with kr_error_last() set.
 */
int kr_cli_store_open(struct kr_store **out, const struct kr_globals *g,
	const struct kr_loaded *l);

/*
 * Record the desired revision (config hash, version, destination, the
 * resolved model as JSON with every secret "(sensitive)"); *id_out its id.
 */
int kr_cli_revision_add(
	int64_t *id_out, struct kr_store *s, const struct kr_loaded *l);

/*
 * kr_cli_load, and on failure print its diagnostics (or, when it left none,
 * kr_error_last()) on stderr. Returns what kr_cli_load returned; `out` is
 * always initialised.
 */
int kr_cli_load_report(struct kr_loaded *out, struct kr_diags *diags,
	const struct kr_globals *g, unsigned flags);

/* Which desired revision kr_cli_run_begin records. */
enum kr_cli_revision {
	KR_CLI_REV_NONE, /* none: the run's revision is 0 */
	KR_CLI_REV_ALWAYS, /* always */
	KR_CLI_REV_IF_VERSIONED, /* only when the config has a version */
};

/*
 * Open the store (kr_cli_store_open, when *s is still NULL), record the
 * revision as rev says and begin a run of `kind`, printing the error on
 * stderr when any step fails. *s is set once opened (close it even on
 * failure); *run_out is the run. Returns 0 or a negative KR_E*.
 */
int kr_cli_run_begin(struct kr_store **s, int64_t *run_out,
	const struct kr_globals *g, const struct kr_loaded *l,
	enum kr_run_kind kind, enum kr_cli_revision rev);

/* Print kr_error_last() on stderr and end the run as failed with it (s
 * NULL: print only). */
void kr_cli_run_fail(struct kr_store *s, int64_t run);

/* The SSH settings shared by every host of a configuration; owns key_data. */
struct kr_cli_ssh {
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
int kr_cli_ssh_init(struct kr_cli_ssh *out, const struct kr_loaded *l,
	bool accept_new_host_keys);
void kr_cli_ssh_release(struct kr_cli_ssh *s);
/* The options for one host: the shared ones plus its name, user and port. */
void kr_cli_ssh_for_host(struct kr_transport_opts *out,
	const struct kr_cli_ssh *s, const char *host, const char *user,
	int port);

/*
 * What every host looks like now: one entry per configured host, in the
 * configuration's order, then (include_removed) hosts no longer configured.
 */
struct kr_cli_hosts {
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
 * with. A lost connection is reconnected once: "host H: connection lost
 * (REASON); reconnecting" on stderr and, with a store and run set, a
 * journal entry "H/connection reconnect".
 */
struct kr_cli_conns {
	struct kr_conns conns;
	struct kr_cli_ssh ssh;
	const struct kr_globals *g;
	struct kr_store *store; /* journal of reconnects; may be NULL */
	int64_t run;
};

/* ssh from l (as kr_cli_ssh_init); 0 or KR_ECONFIG. */
int kr_cli_conns_init(struct kr_cli_conns *out, const struct kr_globals *g,
	const struct kr_loaded *l, bool accept_new_host_keys);
/* Close every connection; accepts NULL. */
void kr_cli_conns_release(struct kr_cli_conns *c);
/* The slot of host, added (not connected) unless it has one: with the
 * configuration's user and port for it, or for a host no longer
 * configured the first host's user and port 22. Not thread-safe: add every
 * host a thread will use before it starts. */
size_t kr_cli_conns_add(struct kr_cli_conns *c, const struct kr_desired *d,
	const char *host);
/* The connection to host (which must have a slot), opened unless open. */
int kr_cli_conns_get(struct kr_transport **out, struct kr_cli_conns *c,
	const char *host);
/* Connections opened to host in the run. */
unsigned kr_cli_conns_opened(const struct kr_cli_conns *c, const char *host);

struct kr_cli_observe_opts {
	bool refresh; /* false: the store's last snapshots */
	bool accept_new_host_keys; /* --accept-new-host-keys */
	bool include_removed; /* add hosts the store knows and the
			       * config no longer names, from their
			       * last snapshot (not read now) */
	/* The run's connections: used and left open (then its ssh options
	 * are used and accept_new_host_keys is the one it was made with);
	 * NULL = connect for this observe and close. */
	struct kr_cli_conns *conns;
};

/*
 * Observe every host of l->desired into out (initialised by this call;
 * release it), printing "host H: observed (1 exec, 0.3 s)" (the time since the
 * observing began) or "host H: unreachable: REASON" per host on stderr unless
 * -q. With refresh each snapshot is stored under `run` (0 = none); a failing
 * host is kept in out with its status and error and never stops the others.
 * Returns 0 (look at out->failed), or a negative KR_E* when nothing could be
 * done (the store, the ssh options).
 */
int kr_cli_hosts_observe(struct kr_cli_hosts *out, const struct kr_globals *g,
	const struct kr_loaded *l, struct kr_store *s, int64_t run,
	const struct kr_cli_observe_opts *o);
void kr_cli_hosts_release(struct kr_cli_hosts *h);

/* The exit code for an observation: 0 all ok, 3 some failed, 1 all failed. */
int kr_cli_hosts_exit(const struct kr_cli_hosts *h);

/*
 * What the registry says of every image the model runs (kr_diff_images), as
 * kr_diff_opts.images wants it: an image some observed host already runs by
 * that exact reference counts as present and is not looked up; the others
 * are resolved at once (8 at a time) with the configuration's registry
 * credentials when the image lives in that registry (Docker Hub when
 * registry.server is unset), anonymously otherwise. "Not found" is
 * KR_IMAGE_MISSING ("waiting for image"); any other answer is printed as
 * "image 'REF': REASON" and counted. With `digests`, images a host runs
 * are looked up too, for their digest (a re-pushed tag); a failure there
 * is only reported. Returns that count; *out (n = *nout) is always set;
 * free it with kr_cli_images_free.
 */
size_t kr_cli_images_resolve(struct kr_image_lookup **out, size_t *nout,
	const struct kr_desired *d, const struct kr_cli_hosts *hosts,
	const struct kr_globals *g, bool digests);
void kr_cli_images_free(struct kr_image_lookup *v, size_t n);

/* "0.3 s", "12.5 s" ("0.04 s" below a tenth): a duration for progress
 * lines. */
void kr_cli_format_duration(char *out, size_t size, double seconds);

#endif
