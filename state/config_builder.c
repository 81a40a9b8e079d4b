/*
 * `builder`: arch (required), remote/local, pack, cache, and the build's
 * context, args and secrets.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "state/config.h"
#include "state/config_int.h"

void
kr_cfg_builder_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *n)
{
	static const char *const keys[] = { "arch", "remote", "local", "pack",
		"cache", "context", "dockerfile", "target", "args", "secrets",
		"ssh", "driver", "provenance", "sbom", NULL };
	static const char *const pack_keys[] = { "builder", "buildpacks",
		NULL };
	static const char *const cache_keys[] = { "type", "options", "image",
		NULL };
	struct kr_config_builder *b = &x->c->builder;
	const struct kr_yaml_node *v;

	b->local = KR_TRI_UNSET;
	if (n->type != KR_YAML_MAP) {
		kr_cfg_type_error(x, n, "builder", "a map");
		return;
	}
	kr_cfg_check_keys(x, n, "builder", "builder", keys, false);
	if ((v = kr_yaml_get(n, "arch"))) {
		if (v->type == KR_YAML_SEQ)
			kr_cfg_str_list_node(x, v, "builder/arch", &b->arch);
		else if (kr_cfg_stringish(v))
			kr_strvec_push_owned(&b->arch, kr_yaml_to_string(v));
		else
			kr_cfg_type_error(
				x, v, "builder/arch", "a string or a list");
	}
	if (!b->arch.n)
		kr_cfg_err(x, v ? v : n,
			"'builder/arch' is required (amd64, arm64 or both)");
	b->remote = kr_cfg_get_str(x, n, "remote", "builder");
	b->local = kr_cfg_get_bool(x, n, "local", "builder");
	if (b->local == KR_TRI_FALSE && !b->remote)
		kr_cfg_err(x, kr_yaml_get(n, "local"),
			"'builder': cannot disable local builds, no remote is "
			"set");
	if ((v = kr_cfg_get_map(x, n, "pack", "builder"))) {
		kr_cfg_check_keys(
			x, v, "builder/pack", "pack", pack_keys, false);
		b->pack_builder =
			kr_cfg_get_str(x, v, "builder", "builder/pack");
		kr_cfg_get_str_list(x, v, "buildpacks", "builder/pack",
			&b->pack_buildpacks);
		if (b->arch.n > 1)
			kr_cfg_err(x, v,
				"'builder/pack': buildpacks only support "
				"building for "
				"one arch");
	}
	if ((v = kr_cfg_get_map(x, n, "cache", "builder"))) {
		kr_cfg_check_keys(
			x, v, "builder/cache", "cache", cache_keys, false);
		b->cache_type = kr_cfg_get_str(x, v, "type", "builder/cache");
		b->cache_options =
			kr_cfg_get_str(x, v, "options", "builder/cache");
		b->cache_image = kr_cfg_get_str(x, v, "image", "builder/cache");
		if (b->cache_type && strcmp(b->cache_type, "gha") != 0 &&
			strcmp(b->cache_type, "registry") != 0)
			kr_cfg_err(x, kr_yaml_get(v, "type"),
				"'builder/cache/type' should be "
				"gha or registry, not '%s'",
				b->cache_type);
	}
	b->context = kr_cfg_get_str(x, n, "context", "builder");
	b->dockerfile = kr_cfg_get_str(x, n, "dockerfile", "builder");
	b->target = kr_cfg_get_str(x, n, "target", "builder");
	if ((v = kr_cfg_get_map(x, n, "args", "builder"))) {
		size_t i;

		for (i = 0; i < v->n; i++) {
			char *k = kr_yaml_to_string(v->v[2 * i]);
			char *s = kr_cfg_ruby_to_s(v->v[2 * i + 1]);

			if (k && s)
				kr_kvlist_set(&b->args, k, s);
			else
				kr_cfg_err(x, v->v[2 * i],
					"'builder/args' should map names to "
					"strings");
			free(k);
			free(s);
		}
	}
	kr_cfg_get_str_list(x, n, "secrets", "builder", &b->secrets);
	b->ssh = kr_cfg_get_str(x, n, "ssh", "builder");
	b->driver = kr_cfg_get_str(x, n, "driver", "builder");
	b->provenance = kr_cfg_get_str(x, n, "provenance", "builder");
	if (kr_cfg_get_bool(x, n, "sbom", "builder") != KR_TRI_UNSET)
		b->sbom = kr_cfg_get_str(x, n, "sbom", "builder");
}
