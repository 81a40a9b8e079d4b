/*
 * The Docker observe driver: everything the reconciler needs to know about
 * one host, gathered by ONE exec of a POSIX sh script — docker version,
 * networks, `docker inspect` of every container of the service (app
 * containers of all roles, versions and destinations, the accessories, the
 * proxy), repo digests of their images, sha256/mode/key names of the env
 * files, accessory files and directories, the deploy lock — framed by
 * marker lines and parsed with jansson into struct kr_observed_host.
 *
 * No secret value survives parsing: in every container's env, each key that
 * its role's or accessory's env file holds, and each key of
 * scope->sensitive_keys, reads KR_SENSITIVE; with scope->clear, every key
 * but the clear env of its own role or accessory does. Env file values
 * never leave the host (the script prints key names only).
 */
#ifndef KR_DRIVERS_DOCKER_H
#define KR_DRIVERS_DOCKER_H

#include <stddef.h>

#include "common/buf.h"
#include "common/vec.h"
#include "drivers/transport.h"
#include "state/observed.h"

struct kr_docker_accessory {
	const char *name; /* key under accessories: (env file
			     accessories/<name>.env) */
	const char
		*container; /* its `service:` or <service>-<name>: container
			     * name, `service` label and directory under home */
	/* Host paths of its `directories` (relative to home, e.g.
	 * "app-db/data", or absolute): listed with their mode but never
	 * walked or hashed (they hold data). May be NULL. */
	const struct kr_strvec *data_dirs;
};

/* The clear env of one role (by name) or accessory (by container name). */
struct kr_docker_clear {
	const char *role; /* NULL for an accessory */
	const char *container; /* an accessory's container; NULL for a role */
	const struct kr_kvlist *env;
};

/* What to look at on a host. Every string is borrowed. */
struct kr_docker_scope {
	const char *service;
	const char *destination; /* NULL = none */
	const struct kr_docker_accessory *accessories;
	size_t naccessories;
	const char *proxy_container; /* NULL = "kamal-proxy" */
	/* Env files to hash beyond those found under
	 * .kamal/apps/<service>[-<dest>]/env/ (relative to home); may be NULL.
	 */
	const struct kr_strvec *env_files;
	/* Names of keys the config holds as secrets (every role and
	 * accessory): masked in every container's env whatever its env file
	 * says, so a stale container cannot leak one. May be NULL. */
	const struct kr_strvec *sensitive_keys;
	/* When set (kr_docker_scope_from_desired sets it), secrets are kept
	 * out by construction: a container's env value survives parsing only
	 * for a key that is clear env of its own role (same service and
	 * destination) or accessory here; every other value (secrets, keys
	 * the config no longer has, the image's env) reads KR_SENSITIVE,
	 * whatever the env files and sensitive_keys say. */
	const struct kr_docker_clear *clear;
	size_t nclear;
};

/*
 * A scope built from the desired model, owning what it points at: the
 * service and destination, every accessory of the configuration (on any
 * host, so leftovers are seen too) with its data directories, the env files
 * of host h, and the secret key names of every role and accessory.
 */
struct kr_docker_scope_buf {
	struct kr_docker_scope scope; /* what to pass to observe */
	struct kr_docker_accessory *accessories;
	struct kr_strvec *data_dirs; /* one per accessory */
	struct kr_strvec env_files;
	struct kr_strvec sensitive_keys;
	struct kr_docker_clear *clear;
};
struct kr_desired;
struct kr_host;
/* h may be NULL (no env files beyond the env directory). */
void kr_docker_scope_from_desired(struct kr_docker_scope_buf *out,
	const struct kr_desired *d, const struct kr_host *h);
void kr_docker_scope_buf_release(struct kr_docker_scope_buf *b);

/* ".kamal/apps/<service>[-<dest>]/env" and ".kamal/lock-<service>[-<dest>]";
 * caller frees. */
char *kr_docker_env_dir(const char *service, const char *destination);
char *kr_docker_lock_dir(const char *service, const char *destination);

/*
 * The observe script for scope; its output is framed by lines starting
 * "@@KR-<nonce> " (nonce: [0-9a-z]+, random per call so nothing on the host
 * can forge a frame).
 */
int kr_docker_observe_script(struct kr_buf *out,
	const struct kr_docker_scope *scope, const char *nonce);

/*
 * Parse the script's output (pure: no I/O, no clock) into out. Returns 0
 * with out->status KR_OBS_OK, KR_EDOCKER with KR_OBS_NO_DOCKER (docker
 * missing, not permitted, or its daemon down: out->error says which), or
 * KR_EPARSE with KR_OBS_FAILED. `out` is always filled (name = host,
 * observed_at left 0) and must be released by the caller.
 */
int kr_docker_parse(struct kr_observed_host *out, const char *host,
	const struct kr_docker_scope *scope, const char *nonce,
	const char *text, size_t len);

/*
 * Observe one host in exactly one exec on t: script, run, parse, then
 * observed_at = now and the fingerprint. Return and status as
 * kr_docker_parse; a transport failure gives its KR_E* code with
 * KR_OBS_FAILED. `out` is always filled; the caller releases it.
 */
int kr_docker_observe(struct kr_observed_host *out, struct kr_transport *t,
	const struct kr_docker_scope *scope);

/*
 * Observe many hosts at once: connect (KR_OBS_UNREACHABLE when that fails,
 * with the reason), observe in one exec, close; at most max_parallel at a
 * time (0 = 30). Fills jobs[i].result and .execs for every job; returns how
 * many hosts are not KR_OBS_OK. progress (may be NULL) is called as each
 * host finishes, serialised.
 *
 * With jobs[i].conns set, the host's connection comes from that run's
 * cache (drivers/conns.h): its slot is added (with jobs[i].opts) before the
 * threads start, an open connection is used as it is, a new one is left
 * open in the slot for the rest of the run. A connection lost during the
 * observe is reconnected once and the observe (read-only) sent again.
 */
struct kr_conns;
struct kr_observe_job {
	struct kr_transport_opts opts; /* in */
	const struct kr_docker_scope *scope; /* in */
	struct kr_conns *conns; /* in: the run's connections; NULL = connect
				 * and close here */
	struct kr_observed_host result; /* out: release it */
	unsigned execs; /* out: execs sent to the host */
};
size_t kr_docker_observe_all(struct kr_observe_job *jobs, size_t n,
	unsigned max_parallel,
	void (*progress)(const struct kr_observe_job *job, void *arg),
	void *arg);

#endif
