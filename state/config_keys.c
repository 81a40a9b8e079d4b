/*
 * Checking a map's keys against Kamal 2's schema: unknown keys with a
 * did-you-mean (edit distance to the allowed keys), and the Kamal 1 keys that
 * Kamal 2 dropped, named with what replaced them.
 */
#include <string.h>
#include <stdlib.h>

#include "common/error.h"
#include "state/config.h"
#include "state/config_int.h"

size_t
kr_config_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t *prev, *cur, *t, r;

	if (la > 64 || lb > 64)
		return la > lb ? la : lb;
	prev = kr_xcalloc(lb + 1, sizeof(*prev));
	cur = kr_xcalloc(lb + 1, sizeof(*cur));
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			size_t rep = prev[j - 1] + (a[i - 1] != b[j - 1]);

			cur[j] = del < ins ? del : ins;
			if (rep < cur[j])
				cur[j] = rep;
		}
		t = prev, prev = cur, cur = t;
	}
	r = prev[lb];
	free(prev);
	free(cur);
	return r;
}

static const char *
suggest(const char *key, const char *const *allowed)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, limit = strlen(key) / 3, i;

	if (limit < 2)
		limit = 2;
	for (i = 0; allowed[i]; i++) {
		size_t d = kr_config_edit_distance(key, allowed[i]);

		if (d < best_d) {
			best_d = d;
			best = allowed[i];
		}
	}
	return best_d <= limit ? best : NULL;
}

/* Kamal 1 keys that Kamal 2 dropped, and what replaced them. */
struct removed_key {
	const char *where; /* "" root, "role", "builder", "accessory" */
	const char *key;
	const char *instead;
};

static const struct removed_key removed_keys[] = {
	{ "", "traefik", "use 'proxy'" },
	{ "", "healthcheck", "use 'proxy/healthcheck'" },
	{ "", "stop_wait_time", "use 'drain_timeout'" },
	{ "", "readiness_timeout", "use 'deploy_timeout'" },
	{ "", "primary_web_role", "use 'primary_role'" },
	{ "role", "traefik", "use 'proxy'" },
	{ "role", "healthcheck", "use 'proxy/healthcheck'" },
	{ "builder", "multiarch", "use 'arch'" },
	{ "proxy", "deploy_timeout", "use the root 'deploy_timeout'" },
	{ "proxy", "drain_timeout", "use the root 'drain_timeout'" },
	{ NULL, NULL, NULL },
};

bool
kr_cfg_in_list(const char *s, const char *const *list)
{
	size_t i;

	for (i = 0; list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

/*
 * Report every key of map not in allowed. `where` selects the removed-key
 * table; extensions ("x-...") pass when allow_x.
 */
void
kr_cfg_check_keys(struct kr_cfg_ctx *x, const struct kr_yaml_node *map,
	const char *path, const char *where, const char *const *allowed,
	bool allow_x)
{
	size_t i, j;

	for (i = 0; i < map->n; i++) {
		const struct kr_yaml_node *k = map->v[2 * i];
		const char *name, *s;
		bool done = false;

		if (k->type != KR_YAML_SCALAR) {
			kr_cfg_err(x, k, "keys%s%s%s must be strings",
				*path ? " of '" : "", path, *path ? "'" : "");
			continue;
		}
		name = k->value;
		if (kr_cfg_in_list(name, allowed))
			continue;
		if (allow_x && strncmp(name, "x-", 2) == 0)
			continue;
		for (j = 0; removed_keys[j].key; j++) {
			if (strcmp(removed_keys[j].where, where) == 0 &&
				strcmp(removed_keys[j].key, name) == 0) {
				if (*path)
					kr_cfg_err(x, k,
						"'%s/%s' was removed in Kamal "
						"2; %s",
						path, name,
						removed_keys[j].instead);
				else
					kr_cfg_err(x, k,
						"'%s' was removed in Kamal 2; "
						"%s",
						name, removed_keys[j].instead);
				done = true;
				break;
			}
		}
		if (done)
			continue;
		s = suggest(name, allowed);
		if (*path && s)
			kr_cfg_err(x, k,
				"unknown key '%s' in '%s' (did you mean '%s'?)",
				name, path, s);
		else if (*path)
			kr_cfg_err(
				x, k, "unknown key '%s' in '%s'", name, path);
		else if (s)
			kr_cfg_err(x, k,
				"unknown key '%s' (did you mean '%s'?)", name,
				s);
		else
			kr_cfg_err(x, k, "unknown key '%s'", name);
	}
}

static int
count_lines(const char *text, size_t upto)
{
	int line = 1;
	size_t i;

	for (i = 0; i < upto; i++)
		if (text[i] == '\n')
			line++;
	return line;
}

/*
 * When the ERB of a file cannot be rendered, its YAML is never read; still,
 * a Kamal 1 file deserves the Kamal 2 hint. Scan the raw text for the
 * removed root keys at the start of a line.
 */
size_t
kr_cfg_kamal1_hint(
	struct kr_diags *d, const char *file, const char *text, size_t len)
{
	size_t found = 0, i = 0, j;

	while (i < len) {
		const char *line = text + i;
		size_t n = 0;

		while (i + n < len && text[i + n] != '\n')
			n++;
		for (j = 0; removed_keys[j].key; j++) {
			size_t k = strlen(removed_keys[j].key);

			if (*removed_keys[j].where || n <= k ||
				memcmp(line, removed_keys[j].key, k) != 0 ||
				line[k] != ':')
				continue;
			kr_diags_add(d, file, count_lines(text, i), 1,
				"'%s' was removed in Kamal 2; %s (this is a "
				"Kamal 1 configuration: see Kamal's upgrade "
				"guide)",
				removed_keys[j].key, removed_keys[j].instead);
			found++;
		}
		i += n + 1;
	}
	return found;
}
