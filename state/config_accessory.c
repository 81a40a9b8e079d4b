/*
 * `accessories/<name>`: where an accessory runs (exactly one of host, hosts,
 * role, roles, tag, tags), its image, options, env, files and directories.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "state/config.h"
#include "state/config_int.h"

static void
path_list(struct kr_cfg_ctx *x, const struct kr_yaml_node *map, const char *key,
	const char *path, struct kr_config_path **out, size_t *nout)
{
	const struct kr_yaml_node *n = kr_yaml_get(map, key);
	char *p;
	size_t i;

	if (!n)
		return;
	p = kr_cfg_sub(path, key);
	if (n->type != KR_YAML_SEQ) {
		kr_cfg_type_error(x, n, p, "a list");
		free(p);
		return;
	}
	*out = kr_xcalloc(n->n ? n->n : 1, sizeof(**out));
	for (i = 0; i < n->n; i++) {
		const struct kr_yaml_node *item = n->v[i];
		struct kr_config_path *e = &(*out)[*nout];
		char *ip = kr_xasprintf("%s/%zu", p, i);

		if (item->type == KR_YAML_MAP) {
			/* Kamal types these keys but lets others pass: so do we
			 */
			e->local = kr_cfg_get_str(x, item, "local", ip);
			e->remote = kr_cfg_get_str(x, item, "remote", ip);
			e->mode = kr_cfg_get_str(x, item, "mode", ip);
			e->owner = kr_cfg_get_str(x, item, "owner", ip);
			e->options = kr_cfg_get_str(x, item, "options", ip);
		} else if (kr_cfg_stringish(item)) {
			/* local:remote[:options] */
			char *s = kr_yaml_to_string(item);
			char *c1 = strchr(s, ':'),
			     *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

			if (c1) {
				e->local = kr_xstrndup(s, (size_t)(c1 - s));
				e->remote =
					c2 ? kr_xstrndup(c1 + 1,
						     (size_t)(c2 - c1 - 1)) :
					     kr_xstrdup(c1 + 1);
				if (c2)
					e->options = kr_xstrdup(c2 + 1);
			} else {
				e->local = kr_xstrdup(s);
			}
			free(s);
		} else {
			kr_cfg_type_error(x, item, ip, "a string or a map");
			free(ip);
			continue;
		}
		if (!e->local || !*e->local || !e->remote || !*e->remote) {
			kr_cfg_err(x, item,
				"'%s' needs a local and a remote path "
				"(local:remote[:options])",
				ip);
			free(e->local);
			free(e->remote);
			free(e->mode);
			free(e->owner);
			free(e->options);
			memset(e, 0, sizeof(*e));
			free(ip);
			continue;
		}
		kr_cfg_set_pos(&e->pos, item);
		(*nout)++;
		free(ip);
	}
	free(p);
}

void
kr_cfg_accessory_node(struct kr_cfg_ctx *x, const char *name,
	const struct kr_yaml_node *n, struct kr_config_accessory *a)
{
	static const char *const keys[] = { "service", "image", "registry",
		"host", "hosts", "role", "roles", "tag", "tags", "cmd", "port",
		"labels", "options", "env", "files", "directories", "volumes",
		"network", "proxy", NULL };
	static const char *const on_keys[] = { "host", "hosts", "role", "roles",
		"tag", "tags", NULL };
	char *path = kr_xasprintf("accessories/%s", name);
	const struct kr_yaml_node *v;
	size_t i, count = 0;

	a->name = kr_xstrdup(name);
	kr_cfg_set_pos(&a->pos, n);
	if (n->type != KR_YAML_MAP) {
		kr_cfg_type_error(x, n, path, "a map");
		goto out;
	}
	kr_cfg_check_keys(x, n, path, "accessory", keys, false);
	a->service = kr_cfg_get_str(x, n, "service", path);
	a->image = kr_cfg_get_str(x, n, "image", path);
	if (!kr_yaml_get(n, "image"))
		kr_cfg_err(x, n, "'%s/image' is required", path);
	if ((v = kr_yaml_get(n, "registry"))) {
		char *p = kr_cfg_sub(path, "registry");

		kr_cfg_registry_node(x, v, p, &a->registry);
		free(p);
	}
	{
		const struct kr_yaml_node *second = NULL;

		for (i = 0; on_keys[i]; i++) {
			if (kr_yaml_get(n, on_keys[i]) && ++count == 2)
				second = kr_yaml_get_key(n, on_keys[i]);
		}
		if (count != 1)
			kr_cfg_err(x, second ? second : n,
				"'%s': specify exactly one of "
				"'host', 'hosts', 'role', 'roles', 'tag' or "
				"'tags'%s",
				path, count ? " (found several)" : "");
	}
	if ((v = kr_yaml_get(n, "host"))) {
		char *s = kr_cfg_get_str(x, n, "host", path);

		a->on = KR_ACC_ON_HOST;
		if (s) {
			a->hosts = kr_xcalloc(1, sizeof(*a->hosts));
			if (kr_cfg_parse_host_entry(&a->hosts[0], s)) {
				kr_cfg_set_pos(&a->hosts[0].pos, v);
				a->nhosts = 1;
			} else {
				kr_cfg_err(x, v,
					"invalid host '%s' (expected host, "
					"user@host or "
					"host:port)",
					s);
				kr_cfg_host_release(&a->hosts[0]);
				memset(&a->hosts[0], 0, sizeof(a->hosts[0]));
			}
			free(s);
		}
	} else if ((v = kr_yaml_get(n, "hosts"))) {
		char *p = kr_cfg_sub(path, "hosts");

		a->on = KR_ACC_ON_HOSTS;
		kr_cfg_host_list(x, v, p, &a->hosts, &a->nhosts);
		free(p);
	} else if (kr_yaml_get(n, "role") || kr_yaml_get(n, "tag")) {
		const char *k = kr_yaml_get(n, "role") ? "role" : "tag";
		char *s = kr_cfg_get_str(x, n, k, path);

		a->on = *k == 'r' ? KR_ACC_ON_ROLE : KR_ACC_ON_TAG;
		if (s)
			kr_strvec_push_owned(&a->on_names, s);
	} else if (kr_yaml_get(n, "roles") || kr_yaml_get(n, "tags")) {
		const char *k = kr_yaml_get(n, "roles") ? "roles" : "tags";

		a->on = *k == 'r' ? KR_ACC_ON_ROLES : KR_ACC_ON_TAGS;
		kr_cfg_get_str_list(x, n, k, path, &a->on_names);
	}
	if (a->on == KR_ACC_ON_ROLE || a->on == KR_ACC_ON_ROLES) {
		const char *k = a->on == KR_ACC_ON_ROLE ? "role" : "roles";

		for (i = 0; i < a->on_names.n; i++)
			if (!kr_config_role(x->c, a->on_names.v[i]))
				kr_cfg_err(x, kr_yaml_get(n, k),
					"'%s': unknown role '%s'", path,
					a->on_names.v[i]);
	}
	a->cmd = kr_cfg_get_str(x, n, "cmd", path);
	a->port = kr_cfg_get_str(x, n, "port", path);
	kr_cfg_labels_node(x, n, path, &a->labels, true);
	kr_cfg_options_node(x, n, "options", path, &a->args, &a->restart, true);
	if ((v = kr_yaml_get(n, "env"))) {
		char *p = kr_cfg_sub(path, "env");

		kr_cfg_env_node(x, v, p, &a->env, false);
		free(p);
	}
	path_list(x, n, "files", path, &a->files, &a->nfiles);
	path_list(x, n, "directories", path, &a->directories, &a->ndirectories);
	kr_cfg_get_str_list(x, n, "volumes", path, &a->volumes);
	a->network = kr_cfg_get_str(x, n, "network", path);
	if ((v = kr_yaml_get(n, "proxy"))) {
		char *p = kr_cfg_sub(path, "proxy");

		a->has_proxy = true;
		kr_cfg_proxy_node(x, v, p, &a->proxy);
		free(p);
	}
out:
	free(path);
}
