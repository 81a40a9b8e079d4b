/*
 * The root of deploy.yml: its allowed keys and the walk over them, which
 * fills struct kr_config section by section (each section in its own
 * config_*.c), plus the small root sections (aliases, hooks_output,
 * x-kreconcile).
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "state/config.h"
#include "state/config_int.h"

/* Kamal's built-in commands, which an alias may not shadow: the commands
 * of Kamal::Cli::Main (Thor's own `help` is not among them). */
static const char *const builtin_commands[] = { "accessory", "app", "audit",
	"build", "config", "deploy", "details", "docs", "init", "lock", "proxy",
	"prune", "redeploy", "registry", "remove", "rollback", "secrets",
	"server", "setup", "upgrade", "version", NULL };

static bool
valid_name(const char *s, bool lower_only)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		char c = *s;

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '_' || c == '-')
			continue;
		if (!lower_only && c >= 'A' && c <= 'Z')
			continue;
		return false;
	}
	return true;
}

/* The Kamal release whose rules kreconcile follows. */
#define KR_KAMAL_VERSION "2.12.0"

/*
 * Gem::Version's order, for release numbers: numeric segments compare as
 * numbers, a segment with letters is a prerelease (below any number).
 */
static bool
newer_than_kamal(const char *v)
{
	const char *a = v, *b = KR_KAMAL_VERSION;

	while (*a || *b) {
		char *ea, *eb;
		long x, y;
		bool la = *a && !(*a >= '0' && *a <= '9');

		if (!*a)
			return false;
		if (la)
			return false;
		x = strtol(a, &ea, 10);
		y = *b ? strtol(b, &eb, 10) : 0;
		if (!*b)
			eb = (char *)b;
		if (*ea && *ea != '.')
			return x > y; /* 3.0.0.beta: prerelease of x */
		if (x != y)
			return x > y;
		a = *ea ? ea + 1 : ea;
		b = *eb ? eb + 1 : eb;
	}
	return false;
}

static void
aliases_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *n)
{
	struct kr_config *c = x->c;
	size_t i;

	if (n->type != KR_YAML_MAP) {
		kr_cfg_type_error(x, n, "aliases", "a map");
		return;
	}
	c->aliases = kr_xcalloc(n->n ? n->n : 1, sizeof(*c->aliases));
	for (i = 0; i < n->n; i++) {
		const struct kr_yaml_node *k = n->v[2 * i];
		char *name = kr_yaml_to_string(k), *p, *cmd;

		if (!name) {
			kr_cfg_err(x, k, "alias names must be strings");
			continue;
		}
		p = kr_cfg_sub("aliases", name);
		if (!valid_name(name, true))
			kr_cfg_err(x, k,
				"invalid alias name '%s': use lowercase "
				"letters, "
				"digits, '-' and '_'",
				name);
		else if (kr_cfg_in_list(name, builtin_commands))
			kr_cfg_err(x, k,
				"alias '%s' conflicts with a built-in command",
				name);
		cmd = kr_cfg_str_node(x, n->v[2 * i + 1], p);
		free(p);
		if (!cmd) {
			free(name);
			continue;
		}
		c->aliases[c->naliases].name = name;
		c->aliases[c->naliases].command = cmd;
		c->naliases++;
	}
}

static void
hooks_output_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *n)
{
	struct kr_config *c = x->c;
	size_t i;

	if (n->type == KR_YAML_MAP) {
		kr_cfg_str_map_node(x, n, "hooks_output", &c->hooks_output_map);
		for (i = 0; i < c->hooks_output_map.n; i++) {
			const char *lvl = c->hooks_output_map.v[i].value;

			if (strcmp(lvl, "quiet") != 0 &&
				strcmp(lvl, "verbose") != 0)
				kr_cfg_err(x, n->v[2 * i + 1],
					"invalid hooks_output '%s' for "
					"hook '%s', must be one of: quiet, "
					"verbose",
					lvl, c->hooks_output_map.v[i].key);
		}
		return;
	}
	if (kr_yaml_kind(n) == KR_YK_INT || kr_yaml_kind(n) == KR_YK_FLOAT ||
		kr_yaml_kind(n) == KR_YK_BOOL) {
		/* Kamal checks only a string or a symbol against the levels;
		 * anything else passes and means the default */
		kr_cfg_warn(x, n,
			"'hooks_output' is %s: like Kamal, kreconcile ignores "
			"it (use quiet or verbose)",
			kr_yaml_kind_name(kr_yaml_kind(n)));
		return;
	}
	if (!(c->hooks_output = kr_cfg_str_node(x, n, "hooks_output")))
		return;
	if (strcmp(c->hooks_output, "quiet") != 0 &&
		strcmp(c->hooks_output, "verbose") != 0)
		kr_cfg_err(x, n,
			"invalid hooks_output '%s', must be one of: quiet, "
			"verbose",
			c->hooks_output);
}

/* x-kreconcile.watch: the watcher's settings, as its options name them. */
static void
xkr_watch_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *n)
{
	static const char *const keys[] = { "repo", "branch", "path",
		"interval", "drift_interval", "image_wait", "backoff_max",
		"listen", "log_format", "self_heal", "retention", NULL };
	static const char ctx[] = "x-kreconcile/watch";
	struct kr_config_watch *w = &x->c->watch;

	if (n->type != KR_YAML_MAP) {
		kr_cfg_type_error(x, n, ctx, "a map");
		return;
	}
	kr_cfg_check_keys(x, n, ctx, ctx, keys, false);
	kr_cfg_set_pos(&w->pos, n);
	w->repo = kr_cfg_get_str(x, n, "repo", ctx);
	w->branch = kr_cfg_get_str(x, n, "branch", ctx);
	w->path = kr_cfg_get_str(x, n, "path", ctx);
	w->interval = kr_cfg_get_str(x, n, "interval", ctx);
	w->drift_interval = kr_cfg_get_str(x, n, "drift_interval", ctx);
	w->image_wait = kr_cfg_get_str(x, n, "image_wait", ctx);
	w->backoff_max = kr_cfg_get_str(x, n, "backoff_max", ctx);
	w->listen = kr_cfg_get_str(x, n, "listen", ctx);
	w->log_format = kr_cfg_get_str(x, n, "log_format", ctx);
	w->self_heal = kr_cfg_get_bool(x, n, "self_heal", ctx);
	w->retention = kr_cfg_get_int(x, n, "retention", ctx);
}

static void
xkr_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *n)
{
	static const char *const keys[] = { "known_hosts", "prune", "watch",
		"timeouts", NULL };
	static const char *const tkeys[] = { "observe", "apply", NULL };
	const struct kr_yaml_node *v;

	if (n->type != KR_YAML_MAP) {
		kr_cfg_type_error(x, n, "x-kreconcile", "a map");
		return;
	}
	kr_cfg_check_keys(x, n, "x-kreconcile", "x-kreconcile", keys, false);
	x->c->known_hosts = kr_cfg_get_str(x, n, "known_hosts", "x-kreconcile");
	x->c->prune = kr_cfg_get_bool(x, n, "prune", "x-kreconcile");
	if ((v = kr_yaml_get(n, "watch")))
		xkr_watch_node(x, v);
	if ((v = kr_cfg_get_map(x, n, "timeouts", "x-kreconcile"))) {
		kr_cfg_check_keys(x, v, "x-kreconcile/timeouts",
			"x-kreconcile/timeouts", tkeys, false);
		x->c->timeout_observe = kr_cfg_get_int(
			x, v, "observe", "x-kreconcile/timeouts");
		x->c->timeout_apply =
			kr_cfg_get_int(x, v, "apply", "x-kreconcile/timeouts");
	}
}

static const char *const root_keys[] = { "service", "image", "labels",
	"volumes", "registry", "servers", "env", "asset_path", "hooks_path",
	"hooks_output", "secrets_path", "error_pages_path",
	"require_destination", "primary_role", "allow_empty_roles",
	"retain_containers", "minimum_version", "readiness_delay",
	"deploy_timeout", "drain_timeout", "stop_timeout", "run_directory",
	"ssh", "builder", "accessories", "proxy", "sshkit", "boot", "logging",
	"output", "aliases", NULL };

void
kr_cfg_root_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *root)
{
	static const char *const sshkit_keys[] = { "max_concurrent_starts",
		"pool_idle_timeout", "dns_retries", NULL };
	static const char *const boot_keys[] = { "limit", "wait",
		"parallel_roles", NULL };
	static const char *const output_keys[] = { "otel", "file", NULL };
	static const char *const otel_keys[] = { "endpoint", NULL };
	static const char *const file_keys[] = { "path", NULL };
	struct kr_config *c = x->c;
	const struct kr_yaml_node *v;
	size_t i;

	c->retain_containers = c->readiness_delay = -1;
	c->deploy_timeout = c->drain_timeout = c->stop_timeout = -1;
	c->sshkit_max_concurrent_starts = c->sshkit_pool_idle_timeout = -1;
	c->sshkit_dns_retries = c->boot_wait = -1;
	c->require_destination = c->allow_empty_roles = KR_TRI_UNSET;
	c->boot_parallel_roles = c->prune = KR_TRI_UNSET;
	c->ssh.keys_only = c->ssh.forward_agent = KR_TRI_UNSET;
	c->builder.local = KR_TRI_UNSET;

	kr_cfg_check_keys(x, root, "", "", root_keys, true);

	c->service = kr_cfg_get_str(x, root, "service", "");
	if (!kr_yaml_get(root, "service"))
		kr_cfg_err(x, root, "missing required key 'service'");
	else if (kr_yaml_kind(kr_yaml_get(root, "service")) != KR_YK_STR &&
		 c->service)
		/* Kamal matches it against a regexp: only a string can */
		kr_cfg_err(x, kr_yaml_get(root, "service"),
			"'service' should be a string, not %s; quote it "
			"(Kamal: Service name can only include alphanumeric "
			"characters, hyphens, and underscores)",
			kr_yaml_kind_name(
				kr_yaml_kind(kr_yaml_get(root, "service"))));
	else if (c->service && !valid_name(c->service, false))
		kr_cfg_err(x, kr_yaml_get(root, "service"),
			"invalid service name '%s': "
			"use letters, digits, '-' and '_'",
			c->service);
	c->image = kr_cfg_get_str(x, root, "image", "");
	kr_cfg_labels_node(x, root, "", &c->labels, false);
	kr_cfg_get_str_list(x, root, "volumes", "", &c->volumes);
	if ((v = kr_yaml_get(root, "registry")))
		kr_cfg_registry_node(x, v, "registry", &c->registry);
	else
		kr_cfg_err(x, root, "missing required key 'registry'");
	if ((!c->image || !*c->image) && kr_yaml_get(root, "image") == NULL) {
		if (kr_cfg_local_registry(c->registry.server) && c->service) {
			free(c->image);
			c->image = kr_xstrdup(c->service);
		} else {
			kr_cfg_err(x, root, "missing required key 'image'");
		}
	}
	/* servers before accessories: accessories name roles */
	if ((v = kr_yaml_get(root, "servers")))
		kr_cfg_servers_node(x, v);
	if ((v = kr_yaml_get(root, "env")))
		kr_cfg_env_node(x, v, "env", &c->env, true);
	c->asset_path = kr_cfg_get_str(x, root, "asset_path", "");
	c->hooks_path = kr_cfg_get_str(x, root, "hooks_path", "");
	if (c->hooks_path &&
		kr_yaml_kind(kr_yaml_get(root, "hooks_path")) != KR_YK_STR)
		/* Kamal joins it into paths: File.join fails on a non-string */
		kr_cfg_err(x, kr_yaml_get(root, "hooks_path"),
			"'hooks_path' should be a string (Kamal fails with: no "
			"implicit conversion into String)");
	if ((v = kr_yaml_get(root, "hooks_output")))
		hooks_output_node(x, v);
	c->secrets_path = kr_cfg_get_str(x, root, "secrets_path", "");
	c->error_pages_path = kr_cfg_get_str(x, root, "error_pages_path", "");
	c->require_destination =
		kr_cfg_get_bool(x, root, "require_destination", "");
	c->primary_role = kr_cfg_get_str(x, root, "primary_role", "");
	c->allow_empty_roles =
		kr_cfg_get_bool(x, root, "allow_empty_roles", "");
	c->retain_containers = kr_cfg_get_int(x, root, "retain_containers", "");
	if (c->retain_containers == 0)
		kr_cfg_err(x, kr_yaml_get(root, "retain_containers"),
			"'retain_containers' must be at least 1");
	c->minimum_version = kr_cfg_get_str(x, root, "minimum_version", "");
	if (c->minimum_version && kr_yaml_kind(kr_yaml_get(root,
					  "minimum_version")) == KR_YK_BOOL)
		kr_cfg_err(x, kr_yaml_get(root, "minimum_version"),
			"'minimum_version' should be a version number "
			"(Kamal: Malformed version number string %s)",
			c->minimum_version);
	else if (c->minimum_version && newer_than_kamal(c->minimum_version))
		kr_cfg_err(x, kr_yaml_get(root, "minimum_version"),
			"'minimum_version' is %s: kreconcile follows Kamal %s "
			"(Kamal fails with: Current version is %s, minimum "
			"required is %s)",
			c->minimum_version, KR_KAMAL_VERSION, KR_KAMAL_VERSION,
			c->minimum_version);
	c->readiness_delay = kr_cfg_get_int(x, root, "readiness_delay", "");
	c->deploy_timeout = kr_cfg_get_int(x, root, "deploy_timeout", "");
	c->drain_timeout = kr_cfg_get_int(x, root, "drain_timeout", "");
	c->stop_timeout = kr_cfg_get_int(x, root, "stop_timeout", "");
	c->run_directory = kr_cfg_get_str(x, root, "run_directory", "");
	if ((v = kr_yaml_get(root, "ssh")))
		kr_cfg_ssh_node(x, v);
	if ((v = kr_yaml_get(root, "builder"))) {
		kr_cfg_builder_node(x, v);
		/* Kamal: URI(builder.remote).scheme must be ssh */
		if (kr_cfg_local_registry(c->registry.server) &&
			c->builder.remote &&
			strncmp(c->builder.remote, "ssh:", 4) != 0)
			kr_cfg_err(x, kr_yaml_get(v, "remote"),
				"a local registry with a remote builder needs "
				"an SSH URL in 'builder/remote' (e.g. "
				"ssh://user@host), not '%s'",
				c->builder.remote);
	} else
		kr_cfg_err(x, root,
			"missing required key 'builder' ('builder/arch' is "
			"required)");
	if ((v = kr_yaml_get(root, "accessories"))) {
		if (v->type != KR_YAML_MAP) {
			kr_cfg_type_error(x, v, "accessories", "a map");
		} else {
			c->accessories = kr_xcalloc(
				v->n ? v->n : 1, sizeof(*c->accessories));
			for (i = 0; i < v->n; i++) {
				char *name = kr_yaml_to_string(v->v[2 * i]);

				if (!name) {
					kr_cfg_err(x, v->v[2 * i],
						"accessory names must be "
						"strings");
					continue;
				}
				kr_cfg_check_name(
					x, v->v[2 * i], "accessory name", name);
				kr_cfg_accessory_node(x, name, v->v[2 * i + 1],
					&c->accessories[c->naccessories++]);
				free(name);
			}
		}
	}
	if ((v = kr_yaml_get(root, "proxy"))) {
		c->has_proxy = true;
		kr_cfg_proxy_node(x, v, "proxy", &c->proxy);
	} else {
		kr_cfg_proxy_node(x, NULL, "proxy", &c->proxy);
	}
	if ((v = kr_cfg_get_map(x, root, "sshkit", ""))) {
		kr_cfg_check_keys(x, v, "sshkit", "sshkit", sshkit_keys, false);
		c->sshkit_max_concurrent_starts =
			kr_cfg_get_int(x, v, "max_concurrent_starts", "sshkit");
		c->sshkit_pool_idle_timeout =
			kr_cfg_get_int(x, v, "pool_idle_timeout", "sshkit");
		c->sshkit_dns_retries =
			kr_cfg_get_int(x, v, "dns_retries", "sshkit");
	}
	if ((v = kr_cfg_get_map(x, root, "boot", ""))) {
		kr_cfg_check_keys(x, v, "boot", "boot", boot_keys, false);
		c->boot_limit = kr_cfg_get_str(x, v, "limit", "boot");
		c->boot_wait = kr_cfg_get_int(x, v, "wait", "boot");
		c->boot_parallel_roles =
			kr_cfg_get_bool(x, v, "parallel_roles", "boot");
	}
	if ((v = kr_yaml_get(root, "logging")))
		kr_cfg_logging_node(x, v, "logging", &c->logging);
	if ((v = kr_cfg_get_map(x, root, "output", ""))) {
		const struct kr_yaml_node *o;

		kr_cfg_check_keys(x, v, "output", "output", output_keys, false);
		if ((o = kr_cfg_get_map(x, v, "otel", "output"))) {
			kr_cfg_check_keys(
				x, o, "output/otel", "otel", otel_keys, false);
			c->output_otel_endpoint =
				kr_cfg_get_str(x, o, "endpoint", "output/otel");
		}
		if ((o = kr_cfg_get_map(x, v, "file", "output"))) {
			kr_cfg_check_keys(
				x, o, "output/file", "file", file_keys, false);
			c->output_file_path =
				kr_cfg_get_str(x, o, "path", "output/file");
		}
	}
	if ((v = kr_yaml_get(root, "aliases")))
		aliases_node(x, v);
	if ((v = kr_yaml_get(root, "x-kreconcile")))
		xkr_node(x, v);
}
