/*
 * Internal to state/config*.c: the walk over deploy.yml that checks it and
 * fills struct kr_config is split by section, one file each; this header is
 * what those files share. Not for use outside state/config*.c.
 */
#ifndef KR_STATE_CONFIG_INT_H
#define KR_STATE_CONFIG_INT_H

#include <stdbool.h>

#include "state/config.h"

/* The walk's context: where problems go and the model being filled. */
struct kr_cfg_ctx {
	struct kr_diags *d;
	struct kr_config *c;
	struct kr_diags *warnings; /* NULL: warnings dropped */
};

/* config_keys.c */
bool kr_cfg_in_list(const char *s, const char *const *list);
void kr_cfg_check_keys(struct kr_cfg_ctx *x, const struct kr_yaml_node *map,
	const char *path, const char *where, const char *const *allowed,
	bool allow_x);
size_t kr_cfg_kamal1_hint(
	struct kr_diags *d, const char *file, const char *text, size_t len);

/* config_types.c */
void kr_cfg_err(struct kr_cfg_ctx *x, const struct kr_yaml_node *n,
	const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void kr_cfg_warn(struct kr_cfg_ctx *x, const struct kr_yaml_node *n,
	const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void kr_cfg_set_pos(struct kr_config_pos *p, const struct kr_yaml_node *n);
/* A role, accessory or destination name, or an ssh user: it becomes part
 * of container names, paths and plan lines, so only Docker's name
 * characters [A-Za-z0-9_.-] (not empty, no leading '-'). Invalid: an
 * error at n (NULL: the file) showing the name escaped; returns false. */
bool kr_cfg_name_ok(const char *name);
bool kr_cfg_check_name(struct kr_cfg_ctx *x, const struct kr_yaml_node *n,
	const char *what, const char *name);
/* name with control and non-ASCII bytes as \n, \t, \xHH; caller frees. */
char *kr_cfg_escaped(const char *name);
char *kr_cfg_sub(const char *path, const char *key);
bool kr_cfg_stringish(const struct kr_yaml_node *n);
void kr_cfg_type_error(struct kr_cfg_ctx *x, const struct kr_yaml_node *n,
	const char *path, const char *expected);
char *kr_cfg_str_node(
	struct kr_cfg_ctx *x, const struct kr_yaml_node *n, const char *path);
char *kr_cfg_get_str(struct kr_cfg_ctx *x, const struct kr_yaml_node *map,
	const char *key, const char *path);
long long kr_cfg_get_int(struct kr_cfg_ctx *x, const struct kr_yaml_node *map,
	const char *key, const char *path);
enum kr_tri kr_cfg_get_bool(struct kr_cfg_ctx *x,
	const struct kr_yaml_node *map, const char *key, const char *path);
const struct kr_yaml_node *kr_cfg_str_list_node(struct kr_cfg_ctx *x,
	const struct kr_yaml_node *n, const char *path, struct kr_strvec *out);
const struct kr_yaml_node *kr_cfg_get_str_list(struct kr_cfg_ctx *x,
	const struct kr_yaml_node *map, const char *key, const char *path,
	struct kr_strvec *out);
void kr_cfg_str_map_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *n,
	const char *path, struct kr_kvlist *out);
void kr_cfg_get_str_map(struct kr_cfg_ctx *x, const struct kr_yaml_node *map,
	const char *key, const char *path, struct kr_kvlist *out);
const struct kr_yaml_node *kr_cfg_get_map(struct kr_cfg_ctx *x,
	const struct kr_yaml_node *map, const char *key, const char *path);

/* config_secret_refs.c */
void kr_cfg_add_secret_ref(struct kr_cfg_ctx *x, const char *name,
	const char *context, const struct kr_yaml_node *n);

/* config_docker.c */
void kr_cfg_options_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *map,
	const char *key, const char *path, struct kr_strvec *args,
	char **restart, bool check_restart);
void kr_cfg_logging_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *n,
	const char *path, struct kr_config_logging *l);
void kr_cfg_labels_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *map,
	const char *path, struct kr_kvlist *out, bool reserved);
bool kr_cfg_local_registry(const char *server);
char *kr_cfg_ruby_to_s(const struct kr_yaml_node *n);
void kr_cfg_registry_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *n,
	const char *path, struct kr_config_registry *r);

/* config_hosts.c */
bool kr_cfg_parse_port(const char *s, int *out);
bool kr_cfg_parse_host_entry(struct kr_config_host *h, const char *entry);
void kr_cfg_host_list(struct kr_cfg_ctx *x, const struct kr_yaml_node *n,
	const char *path, struct kr_config_host **out, size_t *nout);
void kr_cfg_ssh_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *n);

/* config_env.c */
void kr_cfg_env_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *n,
	const char *path, struct kr_config_env *env, bool allow_tags);

/* config_proxy.c */
void kr_cfg_proxy_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *n,
	const char *path, struct kr_config_proxy *p);

/* config_roles.c */
void kr_cfg_servers_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *n);
void kr_cfg_check_roles(struct kr_cfg_ctx *x, const struct kr_yaml_node *root);

/* config_accessory.c */
void kr_cfg_accessory_node(struct kr_cfg_ctx *x, const char *name,
	const struct kr_yaml_node *n, struct kr_config_accessory *a);

/* config_builder.c */
void kr_cfg_builder_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *n);

/* config_root.c */
void kr_cfg_root_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *root);

/* config_free.c */
void kr_cfg_host_release(struct kr_config_host *h);

#endif
