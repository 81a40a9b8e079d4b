/*
 * `servers`: the roles and their hosts, then the checks Kamal makes on the
 * whole set (primary role, empty roles, ssl hosts) once the walk is done.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "state/config.h"
#include "state/config_int.h"

static void
role_node(struct kr_cfg_ctx *x, const char *name, const struct kr_yaml_node *n,
	struct kr_config_role *r)
{
	static const char *const keys[] = { "hosts", "cmd", "stop_timeout",
		"options", "logging", "proxy", "labels", "env", "asset_path",
		NULL };
	char *path = kr_xasprintf("servers/%s", name);
	const struct kr_yaml_node *v;
	bool b;

	r->name = kr_xstrdup(name);
	r->stop_timeout = -1;
	kr_cfg_set_pos(&r->pos, n);
	if (n->type == KR_YAML_SEQ) {
		kr_cfg_host_list(x, n, path, &r->hosts, &r->nhosts);
		goto out;
	}
	if (n->type != KR_YAML_MAP) {
		kr_cfg_type_error(x, n, path, "a list of hosts or a map");
		goto out;
	}
	kr_cfg_check_keys(x, n, path, "role", keys, false);
	if ((v = kr_yaml_get(n, "hosts"))) {
		char *p = kr_cfg_sub(path, "hosts");

		kr_cfg_host_list(x, v, p, &r->hosts, &r->nhosts);
		free(p);
	}
	r->cmd = kr_cfg_get_str(x, n, "cmd", path);
	r->stop_timeout = kr_cfg_get_int(x, n, "stop_timeout", path);
	kr_cfg_options_node(x, n, "options", path, &r->args, &r->restart, true);
	if ((v = kr_yaml_get(n, "logging"))) {
		char *p = kr_cfg_sub(path, "logging");

		r->has_logging = true;
		kr_cfg_logging_node(x, v, p, &r->logging);
		free(p);
	}
	if ((v = kr_yaml_get(n, "proxy"))) {
		char *p = kr_cfg_sub(path, "proxy");

		if (kr_yaml_to_bool(v, &b)) {
			r->proxy_mode =
				b ? KR_ROLE_PROXY_TRUE : KR_ROLE_PROXY_FALSE;
		} else if (v->type == KR_YAML_MAP) {
			r->proxy_mode = KR_ROLE_PROXY_MAP;
			kr_cfg_proxy_node(x, v, p, &r->proxy);
		} else {
			kr_cfg_type_error(x, v, p, "a boolean or a map");
		}
		free(p);
	}
	kr_cfg_labels_node(x, n, path, &r->labels, true);
	if ((v = kr_yaml_get(n, "env"))) {
		char *p = kr_cfg_sub(path, "env");

		r->has_env = true;
		kr_cfg_env_node(x, v, p, &r->env, false);
		free(p);
	}
	r->asset_path = kr_cfg_get_str(x, n, "asset_path", path);
out:
	free(path);
}

static int
role_cmp(const void *a, const void *b)
{
	const struct kr_config_role *x = a, *y = b;

	return strcmp(x->name, y->name);
}

void
kr_cfg_servers_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *n)
{
	struct kr_config *c = x->c;
	size_t i;

	if (n->type == KR_YAML_SEQ) {
		c->servers_is_list = true;
		c->roles = kr_xcalloc(1, sizeof(*c->roles));
		c->nroles = 1;
		role_node(x, "web", n, &c->roles[0]);
		return;
	}
	if (n->type != KR_YAML_MAP) {
		kr_cfg_type_error(x, n, "servers", "a list or a map");
		return;
	}
	c->roles = kr_xcalloc(n->n ? n->n : 1, sizeof(*c->roles));
	for (i = 0; i < n->n; i++) {
		char *name = kr_yaml_to_string(n->v[2 * i]);

		if (!name) {
			kr_cfg_err(
				x, n->v[2 * i], "role names must be strings");
			continue;
		}
		kr_cfg_check_name(x, n->v[2 * i], "role name", name);
		role_node(x, name, n->v[2 * i + 1], &c->roles[c->nroles++]);
		free(name);
	}
	qsort(c->roles, c->nroles, sizeof(*c->roles), role_cmp);
}

/*
 * Kamal's ensure_one_host_for_ssl and ensure_unique_hosts_for_ssl_roles, on
 * each proxied role's proxy (its own map merged over the root one).
 */
static void
check_ssl_roles(struct kr_cfg_ctx *x, const struct kr_yaml_node *servers)
{
	struct kr_config *c = x->c;
	struct kr_strvec seen = { 0 }, owner = { 0 };
	size_t i, j;

	for (i = 0; i < c->nroles; i++) {
		const struct kr_config_role *r = &c->roles[i];
		const struct kr_config_proxy *rp =
			r->proxy_mode == KR_ROLE_PROXY_MAP ? &r->proxy : NULL;
		const struct kr_yaml_node *at =
			c->servers_is_list ? servers :
					     kr_yaml_get_key(servers, r->name);
		const struct kr_strvec *hosts;
		enum kr_tri ssl;
		bool custom;

		if (!kr_config_role_proxied(c, r))
			continue;
		ssl = rp && rp->ssl != KR_TRI_UNSET ? rp->ssl : c->proxy.ssl;
		if (ssl != KR_TRI_TRUE)
			continue;
		custom = (rp && rp->ssl_certificate_pem &&
				 rp->ssl_private_key_pem) ||
			 (!(rp && rp->ssl != KR_TRI_UNSET) &&
				 c->proxy.ssl_certificate_pem &&
				 c->proxy.ssl_private_key_pem);
		if (r->nhosts > 1 && !custom)
			kr_cfg_err(x, at,
				"ssl is only supported on a single server "
				"unless you "
				"provide custom certificates, found %zu "
				"servers for role '%s'",
				r->nhosts, r->name);
		hosts = rp && rp->hosts.n ? &rp->hosts : &c->proxy.hosts;
		for (j = 0; j < hosts->n; j++) {
			size_t k;

			for (k = 0; k < seen.n; k++)
				if (strcmp(seen.v[k], hosts->v[j]) == 0 &&
					strcmp(owner.v[k], r->name) != 0)
					break;
			if (k < seen.n) {
				kr_cfg_err(x, at,
					"different roles cannot share the same "
					"host for "
					"ssl: '%s' (roles '%s' and '%s')",
					hosts->v[j], owner.v[k], r->name);
				continue;
			}
			kr_strvec_push(&seen, hosts->v[j]);
			kr_strvec_push(&owner, r->name);
		}
	}
	kr_strvec_release(&seen);
	kr_strvec_release(&owner);
}

/* Kamal's ensure_required_keys_present and friends, after the walk. */
void
kr_cfg_check_roles(struct kr_cfg_ctx *x, const struct kr_yaml_node *root)
{
	struct kr_config *c = x->c;
	const struct kr_yaml_node *servers = kr_yaml_get(root, "servers");
	const struct kr_config_role *primary;
	const char *pname = kr_config_primary_role(c);
	size_t i;

	if (c->require_destination == KR_TRI_TRUE && !c->destination)
		kr_cfg_err(x, kr_yaml_get(root, "require_destination"),
			"a destination is required (require_destination: "
			"true); use -d");
	if (!servers) {
		if (!c->naccessories)
			kr_cfg_err(
				x, root, "no servers or accessories specified");
		return;
	}
	if (servers->type != KR_YAML_SEQ && servers->type != KR_YAML_MAP)
		return;
	if (!(primary = kr_config_role(c, pname))) {
		const struct kr_yaml_node *at =
			kr_yaml_get(root, "primary_role");

		kr_cfg_err(x, at ? at : servers,
			"the primary role '%s' is not defined in "
			"'servers'",
			pname);
		return;
	}
	if (!primary->nhosts)
		kr_cfg_err(x, servers,
			"no servers specified for the primary role '%s'",
			pname);
	check_ssl_roles(x, servers);
	if (c->allow_empty_roles == KR_TRI_TRUE)
		return;
	for (i = 0; i < c->nroles; i++)
		if (c->roles[i].nhosts == 0 && &c->roles[i] != primary)
			kr_cfg_err(x,
				kr_yaml_get_key(servers, c->roles[i].name),
				"no servers specified for the role '%s' (allow "
				"with "
				"allow_empty_roles: true)",
				c->roles[i].name);
}
