/*
 * The observed state: what one host runs, as read in one exec by the Docker
 * driver (drivers/docker.c) and kept in the store (state/store.c). Pure data.
 *
 * No secret value is ever held here: env values that come from an env file
 * are replaced by KR_SENSITIVE at parse time (the driver knows the env
 * files' key names); change is detected through env file hashes.
 */
#ifndef KR_STATE_OBSERVED_H
#define KR_STATE_OBSERVED_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "common/hash.h"
#include "common/vec.h"

struct kr_obs_mount {
	char *type; /* bind, volume, tmpfs */
	char *source;
	char *destination;
	char *mode;
	bool rw;
};

struct kr_obs_container {
	char *id;
	char *name;
	char *image; /* Config.Image: the reference it was started from */
	char *image_id; /* sha256:... */
	struct kr_strvec repo_digests;
	struct kr_kvlist labels;
	struct kr_kvlist env; /* Config.Env; env-file keys hold KR_SENSITIVE */
	char *cmd; /* Config.Cmd joined by spaces; NULL when none */
	struct kr_obs_mount *mounts;
	size_t nmounts;
	struct kr_strvec ports; /* "[ip:]host:container/proto" */
	struct kr_strvec networks;
	char *restart; /* HostConfig.RestartPolicy.Name */
	char *log_driver;
	struct kr_kvlist log_opts;
	char *state; /* created, running, exited, ... */
	char *health; /* healthy, unhealthy, starting, NULL = no healthcheck */
	int exit_code;
	time_t created;
	time_t started;
	time_t finished;
	/*
	 * What `docker run` options set, as docker inspect shows it: the
	 * field's path ("HostConfig.Memory", "Config.User") -> its value as
	 * compact JSON. Only the fields the Docker driver lists
	 * (drivers/docker_inspect.c); compared by reconciler/diff_options.c.
	 */
	struct kr_kvlist run_opts;
};

struct kr_obs_file {
	char *path; /* relative to home */
	char sha256[KR_SHA256_HEX]; /* "" for directories and unreadable files
				     */
	char *mode; /* "600" */
	struct kr_strvec keys; /* for env files: the key names, never values */
	bool is_dir; /* a directory (accessory data): no hash */
	bool is_env; /* an env file: keys are meaningful */
	time_t mtime; /* last written (host clock); 0 = unknown */
};

struct kr_obs_lock {
	bool held;
	char *details; /* decoded "Locked by: ... at ...\nVersion: ...\nMessage:
			  ..." */
};

/*
 * One route of kamal-proxy (a service in its saved state): where it sends
 * traffic and with which options. Durations in milliseconds.
 */
struct kr_obs_route {
	char *service; /* <service>-<role>[-<dest>] as Kamal names it */
	struct kr_strvec targets; /* active targets, "container:port" */
	struct kr_strvec hosts; /* empty = every host */
	struct kr_strvec path_prefixes; /* kamal-proxy's default is "/" */
	bool tls;
	bool tls_redirect;
	bool strip_prefix;
	bool forward_headers;
	bool buffer_requests;
	bool buffer_responses;
	long long buffer_memory;
	long long max_request_body;
	long long max_response_body;
	char *health_check_path;
	long long health_check_interval_ms;
	long long health_check_timeout_ms;
	long long response_timeout_ms;
	struct kr_strvec log_request_headers;
	struct kr_strvec log_response_headers;
};

/* The host's kamal-proxy: its image version and its routes. */
struct kr_obs_proxy {
	char *version; /* tag of the kamal-proxy container's image; NULL = no
			  container */
	bool running;
	bool routes_known; /* its saved state was read (running proxy) */
	struct kr_obs_route *routes; /* sorted by service */
	size_t nroutes;
};

enum kr_obs_status {
	KR_OBS_OK = 0,
	KR_OBS_UNREACHABLE, /* connect/auth/host key failure: see error */
	KR_OBS_NO_DOCKER, /* docker missing or not permitted */
	KR_OBS_FAILED, /* the exec failed or its output did not parse */
};

struct kr_observed_host {
	char *name;
	enum kr_obs_status status;
	char *error; /* why, when status != KR_OBS_OK */
	char *docker_version;
	struct kr_strvec networks;
	struct kr_obs_container *containers;
	size_t ncontainers;
	struct kr_obs_file
		*files; /* env files and accessory files/directories */
	size_t nfiles;
	struct kr_obs_lock lock;
	struct kr_obs_proxy proxy;
	time_t observed_at;
	char fingerprint[KR_SHA256_HEX]; /* hash of the parsed snapshot */
};

void kr_observed_host_release(struct kr_observed_host *h);
const struct kr_obs_container *kr_observed_container(
	const struct kr_observed_host *h, const char *name);
const struct kr_obs_file *kr_observed_file(
	const struct kr_observed_host *h, const char *path);

/* Release the contents of one container / file (used by the parsers). */
void kr_obs_container_release(struct kr_obs_container *c);
void kr_obs_file_release(struct kr_obs_file *f);
/*
 * Record a host that could not be observed: releases h, then sets name,
 * status (not KR_OBS_OK), error and observed_at = now.
 */
void kr_observed_host_set_failure(struct kr_observed_host *h, const char *name,
	enum kr_obs_status status, const char *error);
/* Release the proxy part (state/observed_proxy.c). */
void kr_obs_proxy_release(struct kr_obs_proxy *p);
void kr_obs_route_release(struct kr_obs_route *r);
/* The route named service, or NULL. */
const struct kr_obs_route *kr_obs_proxy_route(
	const struct kr_obs_proxy *p, const char *service);
/* Sort containers by name, files by path, networks: the canonical order. */
void kr_observed_host_sort(struct kr_observed_host *h);
/* "ok", "unreachable", "no_docker", "failed". */
const char *kr_obs_status_name(enum kr_obs_status s);

/*
 * The version an app container of role runs, by the one rule `plan` and
 * `status` share: its name after Kamal's "<service>-<role>[-<dest>]-"
 * (dest NULL or "" = none), else its KAMAL_VERSION env, else the tag of the
 * image it was started from; NULL when none says. Points into c.
 */
const char *kr_obs_app_version(const struct kr_obs_container *c,
	const char *service, const char *role, const char *dest);

/*
 * RFC 3339 times as Docker writes them ("2026-01-02T03:04:05.123456789Z",
 * or with a +hh:mm offset) to time_t; Docker's zero time
 * "0001-01-01T00:00:00Z" and "" give 0. KR_EPARSE when malformed.
 */
int kr_obs_time_parse(time_t *out, const char *s);
/* "2026-01-02T03:04:05Z" (UTC); "" for 0. */
void kr_obs_time_format(char out[32], time_t t);

/* The JSON form (state/observed_json.c), for the store and golden tests. */
#define KR_OBSERVED_FORMAT_VERSION 1
struct json_t;
/* A new reference the caller owns. */
struct json_t *kr_observed_host_to_json(const struct kr_observed_host *h);
/* Reads j (not stolen); `out` is written only on success. */
int kr_observed_host_from_json(
	struct kr_observed_host *out, const struct json_t *j);
/* The proxy part: NULL when nothing is known of a proxy (no container). New
 * reference. kr_obs_proxy_from_json reads j (may be NULL); out is written
 * only on success. */
struct json_t *kr_obs_proxy_to_json(const struct kr_obs_proxy *p);
int kr_obs_proxy_from_json(struct kr_obs_proxy *out, const struct json_t *j);
/* Serialised text (indented, keys in canonical order); caller frees. */
char *kr_observed_host_dump(const struct kr_observed_host *h);
int kr_observed_host_load(
	struct kr_observed_host *out, const char *text, size_t len);
/*
 * sha256 of the canonical serialisation (sorted keys, compact), leaving out
 * observed_at and the fingerprint itself: equal snapshots, equal hashes.
 */
void kr_observed_host_fingerprint(
	const struct kr_observed_host *h, char out[KR_SHA256_HEX]);

#endif
