/*
 * The desired state: what each host must run, resolved from deploy.yml (with
 * its destination file) and the secrets. Produced by kr_desired_resolve
 * (state/resolve.c), consumed by the reconciler and the drivers. Pure data:
 * nothing here knows SSH or Docker commands.
 *
 * Secret values live only in `struct kr_env_file.secrets` (and the registry
 * password); every serialisation of this model writes "(sensitive)" there.
 */
#ifndef KR_STATE_DESIRED_H
#define KR_STATE_DESIRED_H

#include <stdbool.h>
#include <stddef.h>

#include "common/hash.h"
#include "common/vec.h"

#define KR_SENSITIVE "(sensitive)"

/* An env file on a host: only secret keys, mode 0600 (shared/KAMAL.md). */
struct kr_env_file {
	char *path; /* relative to the SSH user's home */
	struct kr_kvlist secrets; /* KEY -> value, in config order; SECRET */
	char *content; /* exact bytes Kamal writes; SECRET */
	char sha256[KR_SHA256_HEX]; /* of content: safe to show and store */
};

struct kr_logging {
	char *driver; /* NULL = docker default */
	struct kr_kvlist options; /* e.g. max-size=10m (Kamal's default) */
};

/*
 * How kamal-proxy routes to a role (the root proxy: with the role's proxy
 * map deep-merged over it). Zero/NULL/-1 mean kamal-proxy's default.
 */
struct kr_app_proxy {
	struct kr_strvec hosts; /* --host, empty = every host */
	int app_port; /* 80 by default */
	bool ssl; /* --tls */
	char *healthcheck_path; /* NULL = kamal-proxy's /up */
	int healthcheck_interval; /* seconds, 0 = default */
	int healthcheck_timeout; /* seconds, 0 = default */
	struct kr_strvec path_prefixes;
	int strip_path_prefix; /* -1 unset, 0, 1 */
	int forward_headers; /* -1 unset, 0, 1 */
	int ssl_redirect; /* -1 unset, 0, 1 */
	int response_timeout; /* seconds, 0 = default */
	/* Added for kamal-proxy deploys (Kamal's deploy_options): */
	int buffer_requests; /* -1 unset (Kamal: true), 0, 1 */
	int buffer_responses; /* -1 unset (Kamal: true), 0, 1 */
	long long buffer_memory; /* bytes, -1 = default */
	long long max_request_body; /* bytes, -1 = default */
	long long max_response_body; /* bytes, -1 = default */
	struct kr_strvec
		log_request_headers; /* empty = Kamal's default three */
	struct kr_strvec log_response_headers;
	/* proxy.run (Kamal's Proxy::Run), root then role: how the host's
	 * kamal-proxy container is booted; without it, from the host's boot
	 * config files under .kamal/proxy/ */
	bool run;
	int run_http_port; /* -1 = 80 */
	int run_https_port; /* -1 = 443 */
	int run_metrics_port; /* -1 = none */
	int run_debug; /* -1 unset, 0, 1 */
	int run_publish; /* -1 unset (true), 0, 1 */
	char *run_log_max_size; /* NULL = "10m" */
	struct kr_strvec run_bind_ips;
	char *run_registry; /* NULL = Docker Hub */
	char *run_repository; /* NULL = basecamp/kamal-proxy */
	char *run_version; /* NULL = the minimum, v0.9.2 */
	struct kr_strvec run_args; /* run.options as docker args */
	/* ssl: {certificate_pem, private_key_pem}: the PEMs (from the
	 * secrets) Kamal writes, mode 0644, to .kamal/proxy/apps-config/
	 * <service[-dest]>/tls/<role>/{cert,key}.pem, which kamal-proxy reads
	 * under /home/kamal-proxy/.apps-config/ */
	char *tls_cert_path; /* relative to home; NULL = no custom certificate
			      */
	char *tls_key_path;
	char *tls_cert_container; /* inside the kamal-proxy container */
	char *tls_key_container;
	char *tls_cert_pem; /* SECRET; NULL with --skip-secrets */
	char *tls_key_pem; /* SECRET */
};

/* One app container a host must run for one role. */
struct kr_app {
	char *role;
	char *name; /* <service>-<role>[-<dest>]-<version> */
	char *image; /* <image>:<version> */
	char *version;
	struct kr_kvlist
		labels; /* service, role, destination, then user labels */
	struct kr_kvlist
		env; /* clear env after root -> role -> tags, incl. KAMAL_* */
	struct kr_env_file env_file;
	struct kr_strvec
		volumes; /* "src:dst[:mode]" as docker --volume takes them */
	struct kr_strvec
		args; /* extra docker run args from `options`, one word each */
	char *cmd; /* NULL = image default; run through sh by docker as Kamal
		      does */
	struct kr_logging logging;
	char *network; /* "kamal" */
	char *restart; /* "unless-stopped" */
	bool proxy; /* this role is behind kamal-proxy */
	int stop_timeout; /* seconds, 0 = docker default */
	/* Added by the config resolver (additive): */
	struct kr_app_proxy proxy_config; /* meaningful when proxy */
	char *hostname_prefix; /* Kamal's --hostname <host[0,51]>-<random>
				  prefix */
};

/* A file an accessory mounts: uploaded under <service>-<accessory>/. */
struct kr_acc_file {
	char *local; /* path as given (relative to the config's repo) */
	char *remote; /* mount point inside the container */
	char *host_path; /* relative to home: <service>-<acc>/<remote> */
	char *content; /* bytes to upload (ERB-free); may be SECRET-free */
	char sha256[KR_SHA256_HEX];
	char *mode; /* e.g. "0644"; NULL = default */
	char *options; /* mount options ("ro", "z"); NULL = none */
	char *owner; /* e.g. "mysql:mysql"; NULL = unchanged */
};

struct kr_accessory {
	char *name; /* key under accessories: */
	char *container; /* `service:` or <service>-<name> */
	char *image;
	struct kr_strvec ports; /* normalised "[ip:]host:container" */
	char *cmd;
	struct kr_kvlist labels; /* service=<container>, then user labels */
	struct kr_kvlist env; /* clear */
	struct kr_env_file env_file;
	struct kr_strvec directories; /* "host_path:container_path", host_path
					 relative to home */
	struct kr_acc_file *files;
	size_t nfiles;
	struct kr_strvec volumes;
	struct kr_strvec args; /* from `options` */
	char *network; /* default "kamal" */
	char *restart; /* "unless-stopped" */
	/* Added by the config resolver (additive): */
	struct kr_logging logging; /* the root logging, as Kamal passes it */
	struct kr_strvec directory_modes; /* per directory: mode or "" */
	/* Added for kamal-proxy: an accessory with `proxy` is deployed behind
	 * it as Kamal's accessory boot does (route = its container name). */
	bool proxy;
	struct kr_app_proxy proxy_config;
};

/* Everything one host must run. */
struct kr_host {
	char *name; /* address or hostname as written (user@ stripped) */
	char *user; /* SSH user for this host */
	int port; /* SSH port */
	struct kr_strvec roles;
	struct kr_strvec tags;
	struct kr_app *apps;
	size_t napps;
	struct kr_accessory *accessories;
	size_t naccessories;
};

struct kr_registry {
	char *server; /* NULL = Docker Hub */
	char *username;
	char *password; /* SECRET; NULL when not configured or --skip-secrets */
};

struct kr_desired {
	char *service;
	char *destination; /* NULL when none */
	char *image; /* without tag */
	char *version;
	char *version_source; /* "--app-version", "$VERSION", "git HEAD" */
	struct kr_registry registry;
	struct kr_host *hosts;
	size_t nhosts;
	char *primary_role;
	char *lock_host; /* first host of the primary role */
	int retain_containers;
	int readiness_delay;
	int deploy_timeout;
	int drain_timeout;
	bool prune; /* x-kreconcile.prune */
	char *known_hosts; /* x-kreconcile.known_hosts, NULL =
			      ~/.ssh/known_hosts */
	char config_sha256[KR_SHA256_HEX]; /* of the rendered config files */
};

struct kr_config;
struct kr_diags;
struct json_t;

struct kr_resolve_opts {
	const char *version; /* required: see kr_load_version */
	const char
		*version_source; /* "--app-version", "$VERSION", "git HEAD" */
	bool skip_secrets; /* secret values unknown: contents left NULL */
	const char *
		base_dir; /* accessory `files` are relative to it; NULL = "." */
};

/*
 * Resolve a validated configuration and its secrets into the per-host
 * model. `secrets` may be NULL with skip_secrets. Problems (an accessory
 * file that cannot be read, a secret missing) go to diags with positions;
 * then KR_ECONFIG.
 */
int kr_desired_resolve(struct kr_desired **out, struct kr_diags *diags,
	const struct kr_config *c, const struct kr_kvlist *secrets,
	const struct kr_resolve_opts *opts);

/*
 * The model as JSON for `kreconcile config --json`: every secret value
 * (env file contents, registry password) is written as "(sensitive)".
 * Returns a new reference.
 */
struct json_t *kr_desired_to_json(const struct kr_desired *d);

/* Find a host by name; NULL when absent. */
struct kr_host *kr_desired_host(const struct kr_desired *d, const char *name);
void kr_desired_free(struct kr_desired *d);

#endif
