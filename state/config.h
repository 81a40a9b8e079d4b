/*
 * deploy.yml as a typed model: every key of Kamal 2's schema
 * (lib/kamal/configuration/docs/ *.yml), Kamal's defaults, and kreconcile's
 * own `x-kreconcile:` settings. kr_config_load renders the ERB subset, parses
 * the YAML, deep-merges the destination file and validates, reporting every
 * problem as FILE:LINE:COLUMN in a kr_diags. Secrets are not read here: the
 * model lists which secret names the configuration references (with their
 * positions) so the loader can check them against the secrets files.
 *
 * Unset optional values are NULL (strings), -1 (integers) or
 * KR_TRI_UNSET (booleans); the kr_config_* accessors apply Kamal's defaults.
 */
#ifndef KR_STATE_CONFIG_H
#define KR_STATE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "common/diag.h"
#include "common/vec.h"
#include "state/erb.h"
#include "state/yaml.h"

enum kr_tri {
	KR_TRI_UNSET = -1,
	KR_TRI_FALSE = 0,
	KR_TRI_TRUE = 1,
};

/* Where something was written, for later diagnostics. */
struct kr_config_pos {
	char *file;
	int line, col;
};

/* env: a flat map, or {clear, secret, tags} (tags only at the root). */
struct kr_config_env {
	struct kr_kvlist clear;
	struct kr_strvec secret; /* "NAME" or "NAME:SECRET_NAME" as written */
	struct kr_config_env_tag *tags;
	size_t ntags;
};

struct kr_config_env_tag {
	char *name;
	struct kr_config_env env;
};

/* One entry of a host list: "host", "user@host[:port]", {"host": tags}. */
struct kr_config_host {
	char *entry; /* as written */
	char *host; /* user@ and :port removed (SSHKit's parse) */
	char *user; /* NULL unless the entry names one */
	int port; /* 0 unless the entry names one */
	struct kr_strvec tags;
	struct kr_config_pos pos;
};

struct kr_config_logging {
	char *driver;
	struct kr_kvlist options;
};

struct kr_config_proxy {
	struct kr_strvec hosts; /* host (split on ",") or hosts */
	long long app_port; /* -1: default 80 */
	enum kr_tri ssl;
	char *ssl_certificate_pem; /* secret names, when ssl is a map */
	char *ssl_private_key_pem;
	enum kr_tri ssl_redirect;
	enum kr_tri forward_headers;
	long long response_timeout;
	struct kr_strvec
		path_prefixes; /* path_prefix (split on ",") or path_prefixes */
	enum kr_tri strip_path_prefix;
	char *healthcheck_path;
	long long healthcheck_interval;
	long long healthcheck_timeout;
	enum kr_tri buffering_requests;
	enum kr_tri buffering_responses;
	long long buffering_max_request_body;
	long long buffering_max_response_body;
	long long buffering_memory;
	struct kr_strvec logging_request_headers;
	struct kr_strvec logging_response_headers;
	/* run: options for booting the kamal-proxy container */
	bool has_run;
	long long run_http_port, run_https_port, run_metrics_port;
	enum kr_tri run_debug, run_publish;
	char *run_log_max_size;
	struct kr_strvec run_bind_ips;
	char *run_registry, *run_repository, *run_version;
	struct kr_strvec run_args; /* run.options as docker args */
};

struct kr_config_registry {
	bool present;
	char *server;
	char *username; /* literal, or NULL when a secret */
	char *username_secret; /* ["NAME"] form */
	char *password; /* literal (discouraged), or NULL */
	char *password_secret; /* ["NAME"] form */
};

enum kr_role_proxy {
	KR_ROLE_PROXY_UNSET,
	KR_ROLE_PROXY_FALSE,
	KR_ROLE_PROXY_TRUE,
	KR_ROLE_PROXY_MAP,
};

struct kr_config_role {
	char *name;
	struct kr_config_host *hosts;
	size_t nhosts;
	char *cmd;
	long long stop_timeout;
	struct kr_strvec args; /* options as docker args, restart taken out */
	char *restart; /* options.restart, NULL = unless-stopped */
	bool has_logging;
	struct kr_config_logging logging;
	enum kr_role_proxy proxy_mode;
	struct kr_config_proxy proxy; /* when proxy_mode == MAP */
	struct kr_kvlist labels;
	bool has_env;
	struct kr_config_env env;
	char *asset_path;
	struct kr_config_pos pos;
};

/* A file or directory an accessory mounts. */
struct kr_config_path {
	char *local, *remote, *mode, *owner, *options;
	struct kr_config_pos pos;
};

enum kr_acc_on {
	KR_ACC_ON_NONE,
	KR_ACC_ON_HOST,
	KR_ACC_ON_HOSTS,
	KR_ACC_ON_ROLE,
	KR_ACC_ON_ROLES,
	KR_ACC_ON_TAG,
	KR_ACC_ON_TAGS,
};

struct kr_config_accessory {
	char *name;
	char *service; /* NULL = <service>-<name> */
	char *image;
	struct kr_config_registry registry;
	enum kr_acc_on on;
	struct kr_config_host *hosts; /* for host/hosts */
	size_t nhosts;
	struct kr_strvec on_names; /* role(s) or tag(s) */
	char *cmd;
	char *port; /* as written ("5432", "127.0.0.1:5432:5432") */
	struct kr_kvlist labels;
	struct kr_strvec args;
	char *restart;
	struct kr_config_env env;
	struct kr_config_path *files;
	size_t nfiles;
	struct kr_config_path *directories;
	size_t ndirectories;
	struct kr_strvec volumes;
	char *network; /* NULL = kamal */
	bool has_proxy;
	struct kr_config_proxy proxy;
	struct kr_config_pos pos;
};

struct kr_config_builder {
	struct kr_strvec arch;
	char *remote;
	enum kr_tri local;
	char *pack_builder;
	struct kr_strvec pack_buildpacks;
	char *cache_type, *cache_options, *cache_image;
	char *context, *dockerfile, *target;
	struct kr_kvlist args;
	struct kr_strvec secrets;
	char *ssh;
	char *driver;
	char *provenance;
	char *sbom;
};

struct kr_config_ssh {
	char *user; /* NULL = root */
	char *port; /* NULL = 22 */
	char *proxy, *proxy_command, *log_level;
	enum kr_tri keys_only;
	struct kr_strvec keys;
	struct kr_strvec
		key_data; /* secret names (or inline keys, deprecated) */
	char *config; /* "true"/"false"/a path; config_list when a list */
	struct kr_strvec config_list;
	enum kr_tri forward_agent;
};

struct kr_config_alias {
	char *name;
	char *command;
};

/* A secret name the configuration references, and where. */
struct kr_config_secret_ref {
	char *name;
	char *context; /* e.g. "env/secret", "accessories/db/env/secret" */
	struct kr_config_pos pos;
};

struct kr_config {
	char *file; /* the base file as named */
	char *destination; /* NULL when none */
	char *dest_file; /* the destination file, when one */
	struct kr_yaml_node *root; /* merged tree */

	char *service;
	char *image;
	struct kr_kvlist labels;
	struct kr_strvec volumes;
	struct kr_config_registry registry;
	struct kr_config_role *roles; /* sorted by name, as Kamal orders them */
	size_t nroles;
	bool servers_is_list; /* the implicit "web" role */
	struct kr_config_env env;
	char *asset_path;
	char *hooks_path;
	char *hooks_output; /* a level, or NULL when per hook */
	struct kr_kvlist hooks_output_map;
	char *secrets_path; /* NULL = .kamal/secrets */
	char *error_pages_path;
	enum kr_tri require_destination;
	char *primary_role; /* NULL = web */
	enum kr_tri allow_empty_roles;
	long long retain_containers;
	char *minimum_version;
	long long readiness_delay;
	long long deploy_timeout;
	long long drain_timeout;
	long long stop_timeout;
	char *run_directory;
	struct kr_config_ssh ssh;
	struct kr_config_builder builder;
	struct kr_config_accessory *accessories;
	size_t naccessories;
	bool has_proxy;
	struct kr_config_proxy proxy;
	long long sshkit_max_concurrent_starts;
	long long sshkit_pool_idle_timeout;
	long long sshkit_dns_retries;
	char *boot_limit; /* "3" or "25%" */
	long long boot_wait;
	enum kr_tri boot_parallel_roles;
	struct kr_config_logging logging;
	char *output_otel_endpoint;
	char *output_file_path;
	struct kr_config_alias *aliases;
	size_t naliases;

	/* x-kreconcile */
	char *known_hosts;
	enum kr_tri prune;
	/* x-kreconcile.timeouts: seconds for one host's observe exec and
	 * one host's apply script (0 = the defaults) */
	long long timeout_observe;
	long long timeout_apply;
	/* x-kreconcile.watch: the watcher's settings (its options win);
	 * durations as written ("30s", "2m"), checked by the watcher */
	struct kr_config_watch {
		char *repo;
		char *branch;
		char *path;
		char *interval;
		char *drift_interval;
		char *image_wait;
		char *backoff_max;
		char *listen;
		char *log_format;
		enum kr_tri self_heal;
		long long retention; /* runs kept in the history; 0 = default */
		struct kr_config_pos pos; /* where the watch map is */
	} watch;

	struct kr_config_secret_ref *secret_refs;
	size_t nsecret_refs;

	char sha256[65]; /* of the rendered files, base then destination */
};

/* Kamal's defaults. */
const char *kr_config_primary_role(const struct kr_config *c);
int kr_config_retain_containers(const struct kr_config *c);
int kr_config_readiness_delay(const struct kr_config *c);
int kr_config_deploy_timeout(const struct kr_config *c);
int kr_config_drain_timeout(const struct kr_config *c);
const char *kr_config_ssh_user(const struct kr_config *c);
int kr_config_ssh_port(const struct kr_config *c);
/* "<secrets_path>" default ".kamal/secrets" */
const char *kr_config_secrets_path(const struct kr_config *c);
int kr_config_app_port(const struct kr_config_proxy *p);
const struct kr_config_role *kr_config_role(
	const struct kr_config *c, const char *name);
/* Whether the role runs behind kamal-proxy (Kamal's rules). */
bool kr_config_role_proxied(
	const struct kr_config *c, const struct kr_config_role *r);

struct kr_config_load_opts {
	const char *destination; /* NULL: none */
	kr_erb_getenv_fn getenv_fn; /* NULL: the process environment */
	void *getenv_ctx;
	/*
	 * Keep the model even when validation finds problems: *out is set
	 * and KR_ECONFIG returned, so callers can go on checking (secrets)
	 * and report everything at once. The model may then be incomplete.
	 */
	bool partial;
	/*
	 * Additive: the Ruby for templates kreconcile does not render itself
	 * (NULL: `ruby` on PATH, "": never), its timeout in seconds (0: 60),
	 * and where warnings go (things Kamal accepts that kreconcile passes
	 * on as written, e.g. a map under `options`); NULL: dropped.
	 */
	const char *ruby;
	int erb_timeout;
	struct kr_diags *warnings;
	bool erb_no_commands; /* see kr_erb_opts.no_commands */
};

/*
 * Read `file` (and, with a destination, the file named like it with
 * ".<dest>.yml" in place of ".yml"), render, parse, merge, validate.
 * Returns 0 with *out set, or KR_ECONFIG with every problem in diags (and
 * *out untouched unless opts->partial), or another KR_E* for I/O failures
 * (also in diags).
 */
int kr_config_load(struct kr_config **out, struct kr_diags *diags,
	const char *file, const struct kr_config_load_opts *opts);

/*
 * The same from text already in memory (tests, fuzzing). dest_text may be
 * NULL. File names are only used in diagnostics.
 */
int kr_config_load_text(struct kr_config **out, struct kr_diags *diags,
	const char *file, const char *text, size_t len, const char *dest_file,
	const char *dest_text, size_t dest_len,
	const struct kr_config_load_opts *opts);

/*
 * Check every referenced secret name against `secrets`, adding
 * "FILE:LINE:COL: secret 'X' is not defined in ..." for each missing one.
 * `where` names the files searched, for the message. Returns the number of
 * missing secrets.
 */
size_t kr_config_check_secrets(const struct kr_config *c,
	const struct kr_kvlist *secrets, const char *where,
	struct kr_diags *diags);

void kr_config_free(struct kr_config *c);

/* Levenshtein distance, exposed for tests of the did-you-mean. */
size_t kr_config_edit_distance(const char *a, const char *b);

#endif
