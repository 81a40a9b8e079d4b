/*
 * The plan: building it (for the diff), freeing it, counting it, and its
 * text, JSON and identity forms (see plan.h). The text follows Terraform's
 * plan shape (shared/STYLE.md).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "reconciler/plan.h"

/* ------------------------------------------------------------- building */

static void
revision_of(char out[KR_SHA256_HEX], const char *config_sha256,
	const char *version)
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

struct kr_plan_host *
kr_plan_add_host(struct kr_plan *p, const char *name)
{
	struct kr_plan_host *ph;

	if (p->nhosts == p->hosts_alloc) {
		p->hosts_alloc = p->hosts_alloc ? 2 * p->hosts_alloc : 4;
		p->hosts = kr_xrealloc(p->hosts,
			p->hosts_alloc * sizeof(*p->hosts));
	}
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

struct kr_change *
kr_plan_add_change(struct kr_plan *p, enum kr_change_type type,
	const char *name, enum kr_action action)
{
	struct kr_plan_host *ph;
	struct kr_change *c;

	if (!p->nhosts)
		kr_plan_add_host(p, "");
	ph = &p->hosts[p->nhosts - 1];
	if (p->nchanges == p->changes_alloc) {
		p->changes_alloc = p->changes_alloc ? 2 * p->changes_alloc : 16;
		p->changes = kr_xrealloc(p->changes,
			p->changes_alloc * sizeof(*p->changes));
	}
	c = &p->changes[p->nchanges++];
	ph->count++;
	memset(c, 0, sizeof(*c));
	c->host = kr_xstrdup(ph->name);
	c->type = type;
	c->name = kr_xstrdup(name);
	c->action = action;
	c->status = action == KR_ACTION_NOOP ? KR_STATUS_UNCHANGED :
		KR_STATUS_PLANNED;
	c->address = kr_xasprintf("%s/%s/%s", ph->name, type_names[type],
		name);
	return c;
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

	if (c->nattrs == c->attrs_alloc) {
		c->attrs_alloc = c->attrs_alloc ? 2 * c->attrs_alloc : 8;
		c->attrs = kr_xrealloc(c->attrs,
			c->attrs_alloc * sizeof(*c->attrs));
	}
	a = &c->attrs[c->nattrs++];
	memset(a, 0, sizeof(*a));
	a->name = kr_xstrdup(name);
	return a;
}

static bool
str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
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
kr_change_attr_sensitive(struct kr_change *c, const char *name,
	bool has_before, bool has_after, bool changed)
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

/* -------------------------------------------------------------- queries */

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

/* ----------------------------------------------------------------- text */

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_CYAN "\033[36m"

struct style {
	bool color;
};

static const char *
col(const struct style *st, const char *code)
{
	return st->color ? code : "";
}

/* A value as it appears in the text: quoted with C-like escapes. */
static void
put_quoted(struct kr_buf *b, const char *s)
{
	const unsigned char *p;

	kr_buf_putc(b, '"');
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			kr_buf_puts(b, "\\\"");
			break;
		case '\\':
			kr_buf_puts(b, "\\\\");
			break;
		case '\n':
			kr_buf_puts(b, "\\n");
			break;
		case '\t':
			kr_buf_puts(b, "\\t");
			break;
		case '\r':
			kr_buf_puts(b, "\\r");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				kr_buf_printf(b, "\\x%02x", *p);
			else
				kr_buf_putc(b, (char)*p);
		}
	}
	kr_buf_putc(b, '"');
}

static void
put_value(struct kr_buf *b, const struct kr_attr *a, bool after)
{
	const struct kr_strvec *l = after ? &a->lafter : &a->lbefore;
	size_t i;

	if (a->flags & KR_ATTR_SENSITIVE) {
		kr_buf_puts(b, KR_SENSITIVE);
		return;
	}
	if (!(a->flags & KR_ATTR_LIST)) {
		put_quoted(b, after ? a->after : a->before);
		return;
	}
	kr_buf_putc(b, '[');
	for (i = 0; i < l->n; i++) {
		if (i)
			kr_buf_puts(b, ", ");
		put_quoted(b, l->v[i]);
	}
	kr_buf_putc(b, ']');
}

static const char *
header_verb(const struct kr_change *c)
{
	switch (c->action) {
	case KR_ACTION_CREATE:
		return "will be created";
	case KR_ACTION_UPDATE:
		return "will be updated in-place";
	case KR_ACTION_REPLACE:
		return "will be replaced";
	case KR_ACTION_DELETE:
		return "will be destroyed";
	case KR_ACTION_RUN:
		return "will be run";
	case KR_ACTION_NOOP:
		break;
	}
	return "is unchanged";
}

/* The three-column action symbol. */
static void
put_symbol(struct kr_buf *b, const struct style *st, enum kr_action a)
{
	switch (a) {
	case KR_ACTION_CREATE:
		kr_buf_printf(b, "  %s+%s", col(st, C_GREEN), col(st, C_RESET));
		break;
	case KR_ACTION_UPDATE:
		kr_buf_printf(b, "  %s~%s", col(st, C_YELLOW), col(st, C_RESET));
		break;
	case KR_ACTION_REPLACE:
		kr_buf_printf(b, "%s-%s/%s+%s", col(st, C_RED), col(st, C_RESET),
			col(st, C_GREEN), col(st, C_RESET));
		break;
	case KR_ACTION_DELETE:
		kr_buf_printf(b, "  %s-%s", col(st, C_RED), col(st, C_RESET));
		break;
	case KR_ACTION_RUN:
		kr_buf_printf(b, " %s<=%s", col(st, C_CYAN), col(st, C_RESET));
		break;
	case KR_ACTION_NOOP:
		kr_buf_puts(b, "   ");
		break;
	}
}

static bool
attr_shown(const struct kr_change *c, const struct kr_attr *a)
{
	if (c->action == KR_ACTION_CREATE || c->action == KR_ACTION_DELETE ||
	    c->action == KR_ACTION_RUN)
		return true;
	return a->changed;
}

static void
render_attr(struct kr_buf *b, const struct style *st,
	const struct kr_change *c, const struct kr_attr *a, size_t width)
{
	const char *sym, *color;

	if (!a->has_before && a->has_after) {
		sym = "+";
		color = C_GREEN;
	} else if (a->has_before && !a->has_after) {
		sym = "-";
		color = C_RED;
	} else if (a->changed) {
		sym = "~";
		color = C_YELLOW;
	} else {
		sym = " ";
		color = "";
	}
	kr_buf_printf(b, "      %s%s%s %-*s = ", col(st, color), sym,
		col(st, C_RESET), (int)width, a->name);
	if (!a->has_before) {
		put_value(b, a, true);
	} else if (!a->has_after) {
		put_value(b, a, false);
		kr_buf_puts(b, " -> null");
	} else if (!a->changed || (a->flags & KR_ATTR_SENSITIVE)) {
		put_value(b, a, true);
	} else {
		put_value(b, a, false);
		kr_buf_puts(b, " -> ");
		put_value(b, a, true);
	}
	if (a->changed && (a->flags & KR_ATTR_FORCES) &&
	    c->action == KR_ACTION_REPLACE)
		kr_buf_printf(b, " %s# forces replacement%s", col(st, C_RED),
			col(st, C_RESET));
	kr_buf_putc(b, '\n');
}

static void
render_change(struct kr_buf *b, const struct style *st,
	const struct kr_change *c)
{
	size_t i, width = 0, hidden = 0;

	if (c->status == KR_STATUS_KEPT) {
		kr_buf_printf(b, "  %s# %s is not in the configuration, kept "
			"(use --prune)%s\n", col(st, C_BOLD), c->address,
			col(st, C_RESET));
		if (c->reason)
			kr_buf_printf(b, "  # (%s)\n", c->reason);
		kr_buf_putc(b, '\n');
		return;
	}
	if (c->status == KR_STATUS_WAITING) {
		kr_buf_printf(b, "  %s# %s is waiting for image %s%s\n",
			col(st, C_BOLD), c->address,
			c->image ? c->image : "(unknown)", col(st, C_RESET));
		if (c->reason)
			kr_buf_printf(b, "  # (%s)\n", c->reason);
		kr_buf_putc(b, '\n');
		return;
	}
	kr_buf_printf(b, "  %s# %s %s%s\n", col(st, C_BOLD), c->address,
		header_verb(c), col(st, C_RESET));
	if (c->reason)
		kr_buf_printf(b, "  # (%s)\n", c->reason);
	put_symbol(b, st, c->action);
	kr_buf_printf(b, " %s \"", type_names[c->type]);
	/* the name inside quotes as written: it never holds a quote */
	kr_buf_puts(b, c->name);
	kr_buf_puts(b, "\" {\n");
	for (i = 0; i < c->nattrs; i++) {
		size_t n = strlen(c->attrs[i].name);

		if (attr_shown(c, &c->attrs[i]) && n > width)
			width = n;
	}
	for (i = 0; i < c->nattrs; i++) {
		if (attr_shown(c, &c->attrs[i]))
			render_attr(b, st, c, &c->attrs[i], width);
		else
			hidden++;
	}
	if (hidden)
		kr_buf_printf(b, "        # (%zu unchanged attribute%s hidden)\n",
			hidden, hidden == 1 ? "" : "s");
	kr_buf_puts(b, "    }\n\n");
}

static const char *
status_words(enum kr_obs_status s)
{
	switch (s) {
	case KR_OBS_OK:
		return "ok";
	case KR_OBS_UNREACHABLE:
		return "unreachable";
	case KR_OBS_NO_DOCKER:
		return "no docker";
	case KR_OBS_FAILED:
		return "failed";
	}
	return "failed";
}

static bool
host_interesting(const struct kr_plan *p, const struct kr_plan_host *ph)
{
	size_t i;

	if (ph->status != KR_OBS_OK)
		return true;
	for (i = ph->first; i < ph->first + ph->count; i++)
		if (p->changes[i].status != KR_STATUS_UNCHANGED)
			return true;
	return false;
}

int
kr_plan_render_text(struct kr_buf *out, const struct kr_plan *p,
	unsigned flags)
{
	struct style st = { .color = (flags & KR_PLAN_COLOR) != 0 };
	struct kr_plan_summary sum;
	bool any = false, changes;
	size_t h, i;

	kr_plan_summarize(&sum, p);
	changes = kr_plan_has_changes(p);
	for (h = 0; h < p->nhosts; h++)
		any = any || host_interesting(p, &p->hosts[h]);
	if (changes)
		kr_buf_puts(out, "kreconcile will perform the following "
			"actions:\n\n");
	for (h = 0; any && h < p->nhosts; h++) {
		const struct kr_plan_host *ph = &p->hosts[h];

		if (ph->status != KR_OBS_OK) {
			kr_buf_printf(out, "%sHost %s: not observed (%s): %s%s\n\n",
				col(&st, C_RED), ph->name,
				status_words(ph->status),
				ph->error ? ph->error : "no details",
				col(&st, C_RESET));
			continue;
		}
		if (!host_interesting(p, ph) &&
		    !(flags & KR_PLAN_SHOW_UNCHANGED)) {
			kr_buf_printf(out, "Host %s: no changes\n\n", ph->name);
			continue;
		}
		kr_buf_printf(out, "%sHost %s%s%s\n\n", col(&st, C_BOLD),
			ph->name, ph->configured ? "" :
			" (not in the configuration)", col(&st, C_RESET));
		for (i = ph->first; i < ph->first + ph->count; i++) {
			const struct kr_change *c = &p->changes[i];

			if (c->status != KR_STATUS_UNCHANGED)
				render_change(out, &st, c);
			else if (flags & KR_PLAN_SHOW_UNCHANGED)
				kr_buf_printf(out, "  # %s is unchanged\n\n",
					c->address);
		}
	}
	if (changes)
		kr_buf_printf(out, "%sPlan:%s %zu to add, %zu to change, "
			"%zu to destroy.\n", col(&st, C_BOLD),
			col(&st, C_RESET), sum.add, sum.change, sum.destroy);
	else if (!sum.waiting && !sum.failed_hosts)
		kr_buf_printf(out, "%sNo changes.%s Hosts match the "
			"configuration.\n", col(&st, C_GREEN), col(&st, C_RESET));
	else
		kr_buf_puts(out, "No changes planned.\n");
	if (sum.waiting)
		kr_buf_printf(out, "%zu change%s waiting for an image that "
			"the registry does not have yet.\n", sum.waiting,
			sum.waiting == 1 ? " is" : "s are");
	if (sum.failed_hosts)
		kr_buf_printf(out, "%zu host%s could not be observed and %s "
			"not planned.\n", sum.failed_hosts,
			sum.failed_hosts == 1 ? "" : "s",
			sum.failed_hosts == 1 ? "is" : "are");
	return 0;
}

/* ----------------------------------------------------------------- JSON */

static const char *
status_name(enum kr_change_status s)
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

static const char *
obs_status_name(enum kr_obs_status s)
{
	switch (s) {
	case KR_OBS_OK:
		return "ok";
	case KR_OBS_UNREACHABLE:
		return "unreachable";
	case KR_OBS_NO_DOCKER:
		return "no-docker";
	case KR_OBS_FAILED:
		return "failed";
	}
	return "failed";
}

/* Returns a new reference: Terraform-style action list. */
static json_t *
actions_json(const struct kr_change *c)
{
	json_t *a = json_array();

	if (c->status != KR_STATUS_PLANNED) {
		json_array_append_new(a, json_string("no-op"));
		return a;
	}
	switch (c->action) {
	case KR_ACTION_REPLACE:
		/* apps start the new container before the old one stops;
		 * an accessory's old container goes first (same name) */
		if (c->type == KR_CHANGE_APP) {
			json_array_append_new(a, json_string("create"));
			json_array_append_new(a, json_string("delete"));
		} else {
			json_array_append_new(a, json_string("delete"));
			json_array_append_new(a, json_string("create"));
		}
		break;
	default:
		json_array_append_new(a, json_string(kr_action_name(c->action)));
	}
	return a;
}

/* Returns a new reference (a string or a list of strings). */
static json_t *
value_json(const struct kr_attr *a, bool after)
{
	const struct kr_strvec *l = after ? &a->lafter : &a->lbefore;
	json_t *arr;
	size_t i;

	if (a->flags & KR_ATTR_SENSITIVE)
		return json_string(KR_SENSITIVE);
	if (!(a->flags & KR_ATTR_LIST))
		return json_string(after ? a->after : a->before);
	arr = json_array();
	for (i = 0; i < l->n; i++)
		json_array_append_new(arr, json_string(l->v[i]));
	return arr;
}

/* Put value (stolen) at the attribute's path: "env.KEY" nests once. */
static void
obj_put_path(json_t *obj, const char *name, json_t *value)
{
	const char *dot = strchr(name, '.');
	json_t *sub;
	char *head;

	if (!dot) {
		json_object_set_new(obj, name, value);
		return;
	}
	head = kr_xstrndup(name, (size_t)(dot - name));
	sub = json_object_get(obj, head);
	if (!json_is_object(sub)) {
		sub = json_object();
		json_object_set_new(obj, head, sub);
	}
	json_object_set_new(sub, dot + 1, value);
	free(head);
}

/* Returns a new reference: ["env", "KEY"] for "env.KEY". */
static json_t *
path_json(const char *name)
{
	const char *dot = strchr(name, '.');
	json_t *arr = json_array();

	if (!dot) {
		json_array_append_new(arr, json_string(name));
		return arr;
	}
	json_array_append_new(arr, json_stringn(name, (size_t)(dot - name)));
	json_array_append_new(arr, json_string(dot + 1));
	return arr;
}

/* Returns a new reference. */
static json_t *
change_json(const struct kr_change *c)
{
	json_t *o = json_object(), *before = NULL, *after = NULL, *sens;
	bool any_before = false, any_after = false;
	size_t i;

	json_object_set_new(o, "address", json_string(c->address));
	json_object_set_new(o, "host", json_string(c->host));
	json_object_set_new(o, "type", json_string(type_names[c->type]));
	json_object_set_new(o, "name", json_string(c->name));
	json_object_set_new(o, "actions", actions_json(c));
	json_object_set_new(o, "status", json_string(status_name(c->status)));
	json_object_set_new(o, "reason",
		c->reason ? json_string(c->reason) : json_null());
	if (c->image)
		json_object_set_new(o, "image", json_string(c->image));
	before = json_object();
	after = json_object();
	sens = json_array();
	for (i = 0; i < c->nattrs; i++) {
		const struct kr_attr *a = &c->attrs[i];

		if (a->has_before) {
			obj_put_path(before, a->name, value_json(a, false));
			any_before = true;
		}
		if (a->has_after) {
			obj_put_path(after, a->name, value_json(a, true));
			any_after = true;
		}
		if (a->flags & KR_ATTR_SENSITIVE)
			json_array_append_new(sens, path_json(a->name));
	}
	if (!any_before && (c->action == KR_ACTION_CREATE || !c->nattrs)) {
		json_decref(before);
		before = json_null();
	}
	if (!any_after && (c->action == KR_ACTION_DELETE || !c->nattrs)) {
		json_decref(after);
		after = json_null();
	}
	json_object_set_new(o, "before", before);
	json_object_set_new(o, "after", after);
	json_object_set_new(o, "sensitive_paths", sens);
	return o;
}

static json_t *
identity_json(const struct kr_plan_identity *id)
{
	json_t *o = json_object(), *hosts = json_object();
	size_t i;

	json_object_set_new(o, "config_sha256", json_string(id->config_sha256));
	json_object_set_new(o, "version",
		id->version ? json_string(id->version) : json_null());
	json_object_set_new(o, "revision", json_string(id->revision));
	json_object_set_new(o, "prune", json_boolean(id->prune));
	json_object_set_new(o, "changes_sha256",
		json_string(id->changes_sha256));
	for (i = 0; i < id->hosts.n; i++)
		json_object_set_new(hosts, id->hosts.v[i].key,
			json_string(id->hosts.v[i].value));
	json_object_set_new(o, "hosts", hosts);
	return o;
}

json_t *
kr_plan_to_json(const struct kr_plan *p)
{
	json_t *root = json_object(), *hosts = json_array();
	json_t *changes = json_array(), *summary = json_object();
	struct kr_plan_identity id;
	struct kr_plan_summary sum;
	size_t i;

	json_object_set_new(root, "format_version",
		json_string(KR_PLAN_FORMAT_VERSION));
	kr_plan_identity(&id, p);
	json_object_set_new(root, "identity", identity_json(&id));
	kr_plan_identity_release(&id);
	for (i = 0; i < p->nhosts; i++) {
		const struct kr_plan_host *ph = &p->hosts[i];
		json_t *h = json_object();

		json_object_set_new(h, "name", json_string(ph->name));
		json_object_set_new(h, "configured",
			json_boolean(ph->configured));
		json_object_set_new(h, "status",
			json_string(obs_status_name(ph->status)));
		json_object_set_new(h, "error",
			ph->error ? json_string(ph->error) : json_null());
		json_object_set_new(h, "fingerprint",
			json_string(ph->fingerprint));
		json_array_append_new(hosts, h);
	}
	json_object_set_new(root, "hosts", hosts);
	for (i = 0; i < p->nchanges; i++)
		json_array_append_new(changes, change_json(&p->changes[i]));
	json_object_set_new(root, "changes", changes);
	kr_plan_summarize(&sum, p);
	json_object_set_new(summary, "add", json_integer((json_int_t)sum.add));
	json_object_set_new(summary, "change",
		json_integer((json_int_t)sum.change));
	json_object_set_new(summary, "destroy",
		json_integer((json_int_t)sum.destroy));
	json_object_set_new(summary, "waiting",
		json_integer((json_int_t)sum.waiting));
	json_object_set_new(summary, "kept", json_integer((json_int_t)sum.kept));
	json_object_set_new(summary, "failed_hosts",
		json_integer((json_int_t)sum.failed_hosts));
	json_object_set_new(summary, "changes_pending",
		json_boolean(kr_plan_has_changes(p)));
	json_object_set_new(root, "summary", summary);
	return root;
}

int
kr_plan_render_json(struct kr_buf *out, const struct kr_plan *p,
	unsigned flags)
{
	json_t *root = kr_plan_to_json(p);
	char *s;
	int rc;

	s = json_dumps(root, JSON_PRESERVE_ORDER |
		((flags & KR_PLAN_JSON_INDENT) ? JSON_INDENT(2) : JSON_COMPACT));
	json_decref(root);
	if (!s) {
		kr_error_set(KR_ENOMEM, "cannot serialise the plan as json");
		return KR_ENOMEM;
	}
	rc = kr_buf_puts(out, s);
	if (rc == 0)
		rc = kr_buf_putc(out, '\n');
	free(s);
	return rc;
}

/* ------------------------------------------------------------- identity */

void
kr_plan_identity(struct kr_plan_identity *out, const struct kr_plan *p)
{
	struct kr_sha256 h;
	size_t i;

	memset(out, 0, sizeof(*out));
	memcpy(out->config_sha256, p->config_sha256, KR_SHA256_HEX);
	out->version = p->version ? kr_xstrdup(p->version) : NULL;
	memcpy(out->revision, p->revision, KR_SHA256_HEX);
	out->prune = p->prune;
	kr_sha256_init(&h);
	kr_sha256_field(&h, "kreconcile-changes-v1");
	for (i = 0; i < p->nchanges; i++) {
		kr_sha256_field(&h, p->changes[i].address);
		kr_sha256_field(&h, kr_action_name(p->changes[i].action));
		kr_sha256_field(&h, status_name(p->changes[i].status));
	}
	kr_sha256_final(&h, out->changes_sha256);
	for (i = 0; i < p->nhosts; i++)
		kr_kvlist_set(&out->hosts, p->hosts[i].name,
			p->hosts[i].fingerprint);
}

void
kr_plan_identity_release(struct kr_plan_identity *id)
{
	free(id->version);
	kr_kvlist_release(&id->hosts);
	memset(id, 0, sizeof(*id));
}

static int
copy_hex(char dst[KR_SHA256_HEX], json_t *v)
{
	const char *s = json_string_value(v);

	if (!s || strlen(s) >= KR_SHA256_HEX)
		return -1;
	strcpy(dst, s);
	return 0;
}

int
kr_plan_identity_read(struct kr_plan_identity *out, const char *json,
	size_t len)
{
	struct kr_plan_identity id;
	json_error_t jerr;
	json_t *root, *o, *hosts, *v, *fmt;
	const char *key;
	int rc = KR_EPARSE;

	memset(&id, 0, sizeof(id));
	root = json_loadb(json, len, 0, &jerr);
	if (!root) {
		kr_error_set(KR_EPARSE, "saved plan: line %d: %s", jerr.line,
			jerr.text);
		return KR_EPARSE;
	}
	fmt = json_object_get(root, "format_version");
	if (!json_is_string(fmt) ||
	    strncmp(json_string_value(fmt), "1.", 2) != 0) {
		kr_error_set(KR_EPARSE, "saved plan: unsupported format_version");
		goto out;
	}
	o = json_object_get(root, "identity");
	hosts = json_object_get(o, "hosts");
	if (!json_is_object(o) || !json_is_object(hosts) ||
	    copy_hex(id.config_sha256, json_object_get(o, "config_sha256")) ||
	    copy_hex(id.revision, json_object_get(o, "revision")) ||
	    copy_hex(id.changes_sha256, json_object_get(o, "changes_sha256"))) {
		kr_error_set(KR_EPARSE, "saved plan: missing or invalid 'identity'");
		goto out;
	}
	v = json_object_get(o, "version");
	if (json_is_string(v))
		id.version = kr_xstrdup(json_string_value(v));
	id.prune = json_is_true(json_object_get(o, "prune"));
	json_object_foreach(hosts, key, v) {
		if (!json_is_string(v)) {
			kr_error_set(KR_EPARSE, "saved plan: host '%s' has no "
				"fingerprint", key);
			goto out;
		}
		kr_kvlist_append(&id.hosts, key, json_string_value(v));
	}
	*out = id;
	memset(&id, 0, sizeof(id));
	rc = 0;
out:
	kr_plan_identity_release(&id);
	json_decref(root);
	return rc;
}

int
kr_plan_identity_check(const struct kr_plan_identity *saved,
	const struct kr_plan *fresh)
{
	struct kr_plan_identity now;
	size_t i;
	int rc = KR_EINVAL;

	kr_plan_identity(&now, fresh);
	if (strcmp(saved->config_sha256, now.config_sha256) != 0) {
		kr_error_set(KR_EINVAL, "saved plan is stale: the configuration "
			"changed since it was made");
		goto out;
	}
	if (!str_eq(saved->version, now.version)) {
		kr_error_set(KR_EINVAL, "saved plan is stale: version '%s' is "
			"now '%s'", saved->version ? saved->version : "",
			now.version ? now.version : "");
		goto out;
	}
	if (saved->prune != now.prune) {
		kr_error_set(KR_EINVAL, "saved plan is stale: it was made %s "
			"prune", saved->prune ? "with" : "without");
		goto out;
	}
	for (i = 0; i < now.hosts.n; i++) {
		const char *fp = kr_kvlist_get(&saved->hosts,
			now.hosts.v[i].key);

		if (!fp) {
			kr_error_set(KR_EINVAL, "saved plan is stale: host '%s' "
				"is not in it", now.hosts.v[i].key);
			goto out;
		}
		if (strcmp(fp, now.hosts.v[i].value) != 0) {
			kr_error_set(KR_EINVAL, "saved plan is stale: host '%s' "
				"changed since it was observed",
				now.hosts.v[i].key);
			goto out;
		}
	}
	for (i = 0; i < saved->hosts.n; i++) {
		if (!kr_kvlist_get(&now.hosts, saved->hosts.v[i].key)) {
			kr_error_set(KR_EINVAL, "saved plan is stale: host '%s' "
				"is no longer planned", saved->hosts.v[i].key);
			goto out;
		}
	}
	if (strcmp(saved->changes_sha256, now.changes_sha256) != 0) {
		kr_error_set(KR_EINVAL, "saved plan is stale: the changes it "
			"lists differ from a fresh plan (an image may have been "
			"pushed since)");
		goto out;
	}
	rc = 0;
out:
	kr_plan_identity_release(&now);
	return rc;
}
