/*
 * Internal to state/yaml*.c: node helpers the parser (yaml.c) takes from
 * yaml_tree.c. Not for use elsewhere.
 */
#ifndef KR_STATE_YAML_INT_H
#define KR_STATE_YAML_INT_H

#include <stddef.h>

#include "state/yaml.h"

/* yaml_tree.c */
struct kr_yaml_node *kr_yaml_node_new(enum kr_yaml_type type, const char *file,
	int line, int col);
void kr_yaml_push(struct kr_yaml_node *n, struct kr_yaml_node *child);
size_t kr_yaml_count_nodes(const struct kr_yaml_node *n);
void kr_yaml_map_set(struct kr_yaml_node *map, struct kr_yaml_node *key,
	struct kr_yaml_node *value);
void kr_yaml_map_merge_copy(struct kr_yaml_node *map,
	const struct kr_yaml_node *src);

#endif
