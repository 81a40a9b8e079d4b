/*
 * The secret names deploy.yml references: recorded with their position while
 * the model is built, and checked against the secrets files afterwards.
 */
#include <stdlib.h>

#include "common/error.h"
#include "state/config.h"
#include "state/config_int.h"

void
kr_cfg_add_secret_ref(struct kr_cfg_ctx *x, const char *name,
	const char *context, const struct kr_yaml_node *n)
{
	struct kr_config *c = x->c;
	struct kr_config_secret_ref *r;

	c->secret_refs = kr_xrealloc(c->secret_refs,
		(c->nsecret_refs + 1) * sizeof(*c->secret_refs));
	r = &c->secret_refs[c->nsecret_refs++];
	r->name = kr_xstrdup(name);
	r->context = kr_xstrdup(context);
	kr_cfg_set_pos(&r->pos, n);
}

size_t
kr_config_check_secrets(const struct kr_config *c,
	const struct kr_kvlist *secrets, const char *where,
	struct kr_diags *diags)
{
	size_t i, missing = 0;

	for (i = 0; i < c->nsecret_refs; i++) {
		const struct kr_config_secret_ref *r = &c->secret_refs[i];

		if (secrets && kr_kvlist_get(secrets, r->name))
			continue;
		kr_diags_add(diags, r->pos.file, r->pos.line, r->pos.col,
			"secret '%s' (%s) is not defined in %s", r->name,
			r->context, where);
		missing++;
	}
	return missing;
}
