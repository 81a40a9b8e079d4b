/*
 * Operations on YAML node trees: making, freeing and copying nodes, map
 * lookup, Ruby's Hash#[]= and merge! on maps, and ActiveSupport's
 * deep_merge (for destination files).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "common/error.h"
#include "state/yaml.h"
#include "state/yaml_int.h"

struct kr_yaml_node *
kr_yaml_node_new(enum kr_yaml_type type, const char *file, int line, int col)
{
	struct kr_yaml_node *n = kr_xcalloc(1, sizeof(*n));

	n->type = type;
	n->file = kr_xstrdup(file ? file : "");
	n->line = line;
	n->col = col;
	return n;
}

void
kr_yaml_push(struct kr_yaml_node *n, struct kr_yaml_node *child)
{
	if (n->n + 2 > n->alloc) {
		n->alloc = n->alloc ? n->alloc * 2 : 8;
		n->v = kr_xrealloc(n->v, n->alloc * sizeof(*n->v));
	}
	n->v[n->n++] = child;
}

void
kr_yaml_free(struct kr_yaml_node *n)
{
	size_t i, count;

	if (!n)
		return;
	count = n->type == KR_YAML_MAP ? n->n * 2 : n->n;
	for (i = 0; i < count; i++)
		kr_yaml_free(n->v[i]);
	free(n->v);
	free(n->value);
	free(n->file);
	free(n);
}

size_t
kr_yaml_count_nodes(const struct kr_yaml_node *n)
{
	size_t i, count, total = 1;

	count = n->type == KR_YAML_MAP ? n->n * 2 : n->n;
	for (i = 0; i < count; i++)
		total += kr_yaml_count_nodes(n->v[i]);
	return total;
}

struct kr_yaml_node *
kr_yaml_copy(const struct kr_yaml_node *n)
{
	struct kr_yaml_node *c;
	size_t i, count;

	if (!n)
		return NULL;
	c = kr_yaml_node_new(n->type, n->file, n->line, n->col);
	c->value = n->value ? kr_xstrdup(n->value) : NULL;
	c->plain = n->plain;
	count = n->type == KR_YAML_MAP ? n->n * 2 : n->n;
	if (count) {
		c->alloc = count;
		c->v = kr_xcalloc(count, sizeof(*c->v));
		for (i = 0; i < count; i++)
			c->v[i] = kr_yaml_copy(n->v[i]);
	}
	c->n = n->n;
	return c;
}

/* The string a key compares as; NULL for collection keys. */
static const char *
key_text(const struct kr_yaml_node *k)
{
	if (k->type == KR_YAML_SCALAR || k->type == KR_YAML_NULL)
		return k->value;
	return NULL;
}

static ssize_t
map_find(const struct kr_yaml_node *map, const char *key)
{
	size_t i;

	for (i = 0; i < map->n; i++) {
		const char *t = key_text(map->v[2 * i]);

		if (t && strcmp(t, key) == 0)
			return (ssize_t)i;
	}
	return -1;
}

/*
 * Ruby's Hash#[]=: an existing key keeps its place (and its key node) and
 * takes the new value; a new key is appended. Takes ownership of both.
 */
void
kr_yaml_map_set(struct kr_yaml_node *map, struct kr_yaml_node *key,
	struct kr_yaml_node *value)
{
	const char *t = key_text(key);
	ssize_t i = t ? map_find(map, t) : -1;

	if (i >= 0) {
		kr_yaml_free(map->v[2 * i + 1]);
		map->v[2 * i + 1] = value;
		kr_yaml_free(key);
		return;
	}
	if (2 * map->n + 2 > map->alloc) {
		map->alloc = map->alloc ? map->alloc * 2 : 8;
		while (map->alloc < 2 * map->n + 2)
			map->alloc *= 2;
		map->v = kr_xrealloc(map->v, map->alloc * sizeof(*map->v));
	}
	map->v[2 * map->n] = key;
	map->v[2 * map->n + 1] = value;
	map->n++;
}

/* hash.merge!(src): copies of src's pairs set into map. */
void
kr_yaml_map_merge_copy(struct kr_yaml_node *map, const struct kr_yaml_node *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		kr_yaml_map_set(map, kr_yaml_copy(src->v[2 * i]),
			kr_yaml_copy(src->v[2 * i + 1]));
}

void
kr_yaml_deep_merge(struct kr_yaml_node **base, struct kr_yaml_node *over)
{
	size_t i;
	struct kr_yaml_node *b = *base;

	if (!over)
		return;
	if (!b || b->type != KR_YAML_MAP || over->type != KR_YAML_MAP) {
		kr_yaml_free(b);
		*base = over;
		return;
	}
	for (i = 0; i < over->n; i++) {
		struct kr_yaml_node *k = over->v[2 * i],
				    *v = over->v[2 * i + 1];
		const char *t = key_text(k);
		ssize_t j = t ? map_find(b, t) : -1;

		if (j >= 0) {
			kr_yaml_deep_merge(&b->v[2 * j + 1], v);
			kr_yaml_free(k);
		} else {
			kr_yaml_map_set(b, k, v);
		}
	}
	free(over->v);
	free(over->value);
	free(over->file);
	free(over);
}

struct kr_yaml_node *
kr_yaml_get(const struct kr_yaml_node *map, const char *key)
{
	ssize_t i;

	if (!map || map->type != KR_YAML_MAP)
		return NULL;
	i = map_find(map, key);
	return i < 0 ? NULL : map->v[2 * i + 1];
}

struct kr_yaml_node *
kr_yaml_get_key(const struct kr_yaml_node *map, const char *key)
{
	ssize_t i;

	if (!map || map->type != KR_YAML_MAP)
		return NULL;
	i = map_find(map, key);
	return i < 0 ? NULL : map->v[2 * i];
}
