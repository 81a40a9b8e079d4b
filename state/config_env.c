/*
 * `env`: a flat map of clear values, or {clear, secret, tags} (tags only at
 * the root); every secret it names is recorded as a secret reference.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "state/config.h"
#include "state/config_int.h"

static void
secret_list(struct kr_cfg_ctx *x, const struct kr_yaml_node *n,
	const char *path, struct kr_strvec *out)
{
	size_t i;

	if (n->type != KR_YAML_SEQ) {
		kr_cfg_type_error(x, n, path, "a list");
		return;
	}
	for (i = 0; i < n->n; i++) {
		char *p = kr_xasprintf("%s/%zu", path, i);
		char *s = kr_cfg_str_node(x, n->v[i], p);
		const char *colon;

		free(p);
		if (!s)
			continue;
		colon = strchr(s, ':');
		if (!*s || colon == s || (colon && !colon[1])) {
			kr_cfg_err(x, n->v[i],
				"invalid secret '%s' (expected NAME or "
				"NAME:SECRET_NAME)",
				s);
			free(s);
			continue;
		}
		kr_cfg_add_secret_ref(x, colon ? colon + 1 : s, path, n->v[i]);
		kr_strvec_push_owned(out, s);
	}
}

void
kr_cfg_env_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *n,
	const char *path, struct kr_config_env *env, bool allow_tags)
{
	static const char *const keys[] = { "clear", "secret", "tags", NULL };
	const struct kr_yaml_node *v;
	size_t i;

	if (n->type != KR_YAML_MAP) {
		kr_cfg_type_error(x, n, path, "a map");
		return;
	}
	if (!kr_yaml_get(n, "clear") && !kr_yaml_get(n, "secret") &&
		!kr_yaml_get(n, "tags")) {
		kr_cfg_str_map_node(x, n, path, &env->clear);
		return;
	}
	kr_cfg_check_keys(x, n, path, "env", keys, false);
	kr_cfg_get_str_map(x, n, "clear", path, &env->clear);
	if ((v = kr_yaml_get(n, "secret"))) {
		char *p = kr_cfg_sub(path, "secret");

		secret_list(x, v, p, &env->secret);
		free(p);
	}
	if ((v = kr_yaml_get(n, "tags"))) {
		if (!allow_tags) {
			kr_cfg_err(x, kr_yaml_get_key(n, "tags"),
				"'%s/tags': tags are only allowed in the root "
				"env",
				path);
			return;
		}
		if (v->type != KR_YAML_MAP) {
			char *p = kr_cfg_sub(path, "tags");

			kr_cfg_type_error(x, v, p, "a map");
			free(p);
			return;
		}
		env->tags = kr_xcalloc(v->n ? v->n : 1, sizeof(*env->tags));
		for (i = 0; i < v->n; i++) {
			struct kr_config_env_tag *t = &env->tags[env->ntags];
			char *name = kr_yaml_to_string(v->v[2 * i]), *p;

			if (!name) {
				kr_cfg_err(x, v->v[2 * i],
					"tag names must be strings");
				continue;
			}
			p = kr_xasprintf("%s/tags/%s", path, name);
			t->name = name;
			kr_cfg_env_node(x, v->v[2 * i + 1], p, &t->env, false);
			free(p);
			env->ntags++;
		}
	}
}
