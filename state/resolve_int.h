/*
 * Internal to state/resolve*.c: the resolver's context and the helpers the
 * app and accessory parts share. Not for use elsewhere.
 */
#ifndef KR_STATE_RESOLVE_INT_H
#define KR_STATE_RESOLVE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "state/config.h"
#include "state/desired.h"

struct kr_resolve_ctx {
	const struct kr_config *c;
	const struct kr_kvlist *secrets;
	const struct kr_resolve_opts *o;
	struct kr_diags *diags;
	struct kr_desired *d;
	bool failed;
};

/* resolve.c */
char *kr_resolve_service_and_dest(const struct kr_config *c);
void kr_resolve_env_file_fill(struct kr_resolve_ctx *x, struct kr_env_file *ef,
	const char *path, const struct kr_strvec *secret_keys);
void kr_resolve_logging_fill(struct kr_logging *out,
	const struct kr_config_logging *root,
	const struct kr_config_logging *role);

/* kamal-proxy's route options: root's, then role's (may be NULL) over it. */
void kr_resolve_proxy_fill(struct kr_app_proxy *p,
	const struct kr_config_proxy *root, const struct kr_config_proxy *role);

/* resolve_accessory.c */
void kr_resolve_acc_add(struct kr_resolve_ctx *x, struct kr_host *h,
	const struct kr_config_accessory *ca);
void kr_resolve_acc_hosts(struct kr_resolve_ctx *x,
	const struct kr_config_accessory *ca,
	const struct kr_config_host ***out, size_t *n);

#endif
