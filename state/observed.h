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
	char *type;		/* bind, volume, tmpfs */
	char *source;
	char *destination;
	char *mode;
	bool rw;
};

struct kr_obs_container {
	char *id;
	char *name;
	char *image;		/* Config.Image: the reference it was started from */
	char *image_id;		/* sha256:... */
	struct kr_strvec repo_digests;
	struct kr_kvlist labels;
	struct kr_kvlist env;	/* Config.Env; env-file keys hold KR_SENSITIVE */
	char *cmd;		/* Config.Cmd joined by spaces; NULL when none */
	struct kr_obs_mount *mounts;
	size_t nmounts;
	struct kr_strvec ports;		/* "[ip:]host:container/proto" */
	struct kr_strvec networks;
	char *restart;			/* HostConfig.RestartPolicy.Name */
	char *log_driver;
	struct kr_kvlist log_opts;
	char *state;		/* created, running, exited, ... */
	char *health;		/* healthy, unhealthy, starting, NULL = no healthcheck */
	int exit_code;
	time_t created;
	time_t started;
	time_t finished;
};

struct kr_obs_file {
	char *path;		/* relative to home */
	char sha256[KR_SHA256_HEX];
	char *mode;		/* "600" */
	struct kr_strvec keys;	/* for env files: the key names, never values */
};

struct kr_obs_lock {
	bool held;
	char *details;		/* decoded "Locked by: ... at ...\nVersion: ...\nMessage: ..." */
};

enum kr_obs_status {
	KR_OBS_OK = 0,
	KR_OBS_UNREACHABLE,	/* connect/auth/host key failure: see error */
	KR_OBS_NO_DOCKER,	/* docker missing or not permitted */
	KR_OBS_FAILED,		/* the exec failed or its output did not parse */
};

struct kr_observed_host {
	char *name;
	enum kr_obs_status status;
	char *error;		/* why, when status != KR_OBS_OK */
	char *docker_version;
	struct kr_strvec networks;
	struct kr_obs_container *containers;
	size_t ncontainers;
	struct kr_obs_file *files;	/* env files and accessory files/directories */
	size_t nfiles;
	struct kr_obs_lock lock;
	time_t observed_at;
	char fingerprint[KR_SHA256_HEX];	/* hash of the parsed snapshot */
};

void kr_observed_host_release(struct kr_observed_host *h);
const struct kr_obs_container *kr_observed_container(
	const struct kr_observed_host *h, const char *name);
const struct kr_obs_file *kr_observed_file(const struct kr_observed_host *h,
	const char *path);

#endif
