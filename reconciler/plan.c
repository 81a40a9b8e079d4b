/*
 * The plan's data (see plan.h): building it for the diff (hosts, changes,
 * attributes), freeing it, naming its enums and counting it. Its
 * renderings live in plan_text.c and plan_json.c, its identity in
 * plan_identity.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "reconciler/plan_int.h"

static void
revision_of(
	char out[KR_SHA256_HEX], const char *config_sha256, const char *version)
{
	struct kr_sha256 h;

	kr_sha256_init(&h);
	kr_sha256_field(&h, "kreconcile-revision-v1");
	kr_sha256_field(&h, config_sha256);
	kr_sha256_field(&h, version);
	kr_sha256_final(&h, out);
}

struct kr_plan *
kr_plan_new(const struct kr_desired *d, bool prune)
{
	struct kr_plan *p = kr_xcalloc(1, sizeof(*p));

	if (d) {
		memcpy(p->config_sha256, d->config_sha256, KR_SHA256_HEX);
		p->config_sha256[KR_SHA256_HEX - 1] = '\0';
		p->version = d->version ? kr_xstrdup(d->version) : NULL;
	}
	revision_of(p->revision, p->config_sha256, p->version);
	p->prune = prune;
	return p;
}

/* Room for one more element in v (n of *alloc used): doubles, from first. */
static void *
grow(void *v, size_t n, size_t *alloc, size_t first, size_t size)
{
	if (n < *alloc)
		return v;
	*alloc = *alloc ? 2 * *alloc : first;
	return kr_xrealloc(v, *alloc * size);
}

struct kr_plan_host *
kr_plan_add_host(struct kr_plan *p, const char *name)
{
	struct kr_plan_host *ph;

	p->hosts = grow(
		p->hosts, p->nhosts, &p->hosts_alloc, 4, sizeof(*p->hosts));
	ph = &p->hosts[p->nhosts++];
	memset(ph, 0, sizeof(*ph));
	ph->name = kr_xstrdup(name);
	ph->first = p->nchanges;
	return ph;
}

static const char *const type_names[] = {
	[KR_CHANGE_NETWORK] = "network",
	[KR_CHANGE_LOGIN] = "login",
	[KR_CHANGE_ENV] = "env",
	[KR_CHANGE_ACCESSORY] = "accessory",
	[KR_CHANGE_APP] = "app",
	[KR_CHANGE_PROXY] = "proxy",
	[KR_CHANGE_ROUTE] = "route",
};

const char *
kr_change_type_name(enum kr_change_type t)
{
	return type_names[t];
}

const char *
kr_action_name(enum kr_action a)
{
	switch (a) {
	case KR_ACTION_NOOP:
		return "no-op";
	case KR_ACTION_CREATE:
		return "create";
	case KR_ACTION_UPDATE:
		return "update";
	case KR_ACTION_REPLACE:
		return "replace";
	case KR_ACTION_DELETE:
		return "delete";
	case KR_ACTION_RUN:
		return "run";
	}
	return "?";
}

const char *
kr_plan_status_name(enum kr_change_status s)
{
	switch (s) {
	case KR_STATUS_PLANNED:
		return "planned";
	case KR_STATUS_UNCHANGED:
		return "unchanged";
	case KR_STATUS_KEPT:
		return "kept";
	case KR_STATUS_WAITING:
		return "waiting";
	}
	return "?";
}

struct kr_change *
kr_plan_add_change(struct kr_plan *p, enum kr_change_type type,
	const char *name, enum kr_action action)
{
	struct kr_plan_host *ph;
	struct kr_change *c;

	if (!p->nhosts)
		kr_plan_add_host(p, "");
	ph = &p->hosts[p->nhosts - 1];
	p->changes = grow(p->changes, p->nchanges, &p->changes_alloc, 16,
		sizeof(*p->changes));
	c = &p->changes[p->nchanges++];
	ph->count++;
	memset(c, 0, sizeof(*c));
	c->host = kr_xstrdup(ph->name);
	c->type = type;
	c->name = kr_xstrdup(name);
	c->action = action;
	c->status = action == KR_ACTION_NOOP ? KR_STATUS_UNCHANGED :
					       KR_STATUS_PLANNED;
	c->address = kr_xasprintf("%s/%s/%s", ph->name, type_names[type], name);
	return c;
}

void
kr_plan_move_changes(struct kr_plan *dst, struct kr_plan *src)
{
	struct kr_plan_host *ph = &dst->hosts[dst->nhosts - 1];
	size_t i;

	for (i = 0; i < src->nchanges; i++) {
		dst->changes = grow(dst->changes, dst->nchanges,
			&dst->changes_alloc, 16, sizeof(*dst->changes));
		dst->changes[dst->nchanges++] = src->changes[i];
		ph->count++;
	}
	src->nchanges = 0;
	kr_plan_free(src);
}

void
kr_change_set_reason(struct kr_change *c, const char *fmt, ...)
{
	struct kr_buf b = KR_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	kr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	free(c->reason);
	c->reason = kr_buf_detach(&b, NULL);
}

static struct kr_attr *
attr_new(struct kr_change *c, const char *name)
{
	struct kr_attr *a;

	c->attrs = grow(
		c->attrs, c->nattrs, &c->attrs_alloc, 8, sizeof(*c->attrs));
	a = &c->attrs[c->nattrs++];
	memset(a, 0, sizeof(*a));
	a->name = kr_xstrdup(name);
	return a;
}

struct kr_attr *
kr_change_attr(struct kr_change *c, const char *name, const char *before,
	const char *after)
{
	struct kr_attr *a = attr_new(c, name);

	a->has_before = before != NULL;
	a->has_after = after != NULL;
	a->before = before ? kr_xstrdup(before) : NULL;
	a->after = after ? kr_xstrdup(after) : NULL;
	a->changed = !str_eq(before, after);
	return a;
}

static bool
vec_eq(const struct kr_strvec *a, const struct kr_strvec *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

struct kr_attr *
kr_change_attr_list(struct kr_change *c, const char *name,
	const struct kr_strvec *before, const struct kr_strvec *after)
{
	struct kr_attr *a = attr_new(c, name);

	a->flags |= KR_ATTR_LIST;
	a->has_before = before != NULL;
	a->has_after = after != NULL;
	if (before)
		kr_strvec_copy(&a->lbefore, before);
	if (after)
		kr_strvec_copy(&a->lafter, after);
	if (before && after)
		a->changed = !vec_eq(before, after);
	else
		a->changed = before != after;
	return a;
}

struct kr_attr *
kr_change_attr_sensitive(struct kr_change *c, const char *name, bool has_before,
	bool has_after, bool changed)
{
	struct kr_attr *a = attr_new(c, name);

	a->flags |= KR_ATTR_SENSITIVE;
	a->has_before = has_before;
	a->has_after = has_after;
	a->before = has_before ? kr_xstrdup(KR_SENSITIVE) : NULL;
	a->after = has_after ? kr_xstrdup(KR_SENSITIVE) : NULL;
	a->changed = changed || has_before != has_after;
	return a;
}

static void
change_release(struct kr_change *c)
{
	size_t i;

	for (i = 0; i < c->nattrs; i++) {
		free(c->attrs[i].name);
		free(c->attrs[i].before);
		free(c->attrs[i].after);
		kr_strvec_release(&c->attrs[i].lbefore);
		kr_strvec_release(&c->attrs[i].lafter);
	}
	free(c->attrs);
	free(c->address);
	free(c->host);
	free(c->name);
	free(c->reason);
	free(c->path);
	free(c->image);
	free(c->image_digest);
	free(c->start_container);
	kr_strvec_release(&c->containers);
}

void
kr_plan_free(struct kr_plan *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nchanges; i++)
		change_release(&p->changes[i]);
	free(p->changes);
	for (i = 0; i < p->nhosts; i++) {
		free(p->hosts[i].name);
		free(p->hosts[i].error);
	}
	free(p->hosts);
	free(p->version);
	free(p);
}

void
kr_plan_summarize(struct kr_plan_summary *out, const struct kr_plan *p)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < p->nhosts; i++)
		if (p->hosts[i].status != KR_OBS_OK)
			out->failed_hosts++;
	for (i = 0; i < p->nchanges; i++) {
		const struct kr_change *c = &p->changes[i];

		if (c->status == KR_STATUS_WAITING)
			out->waiting++;
		else if (c->status == KR_STATUS_KEPT)
			out->kept++;
		if (c->status != KR_STATUS_PLANNED)
			continue;
		switch (c->action) {
		case KR_ACTION_CREATE:
			out->add++;
			break;
		case KR_ACTION_UPDATE:
		case KR_ACTION_REPLACE:
			out->change++;
			break;
		case KR_ACTION_DELETE:
			out->destroy++;
			break;
		case KR_ACTION_NOOP:
		case KR_ACTION_RUN:
			break;
		}
	}
}

bool
kr_plan_has_changes(const struct kr_plan *p)
{
	size_t i;

	for (i = 0; i < p->nchanges; i++)
		if (p->changes[i].status == KR_STATUS_PLANNED &&
			p->changes[i].action != KR_ACTION_NOOP &&
			p->changes[i].action != KR_ACTION_RUN)
			return true;
	return false;
}
