/*
 * The plan as text for people (see plan.h), in Terraform's shape
 * (shared/STYLE.md): a header per host, a block per change with its
 * three-column action symbol, "# <address> will be ..." and the reason,
 * the changed attributes aligned, "(N unchanged attributes hidden)", and
 * the closing "Plan: 1 to add, 2 to change, 0 to destroy." Color only
 * when the caller asks for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "reconciler/plan_int.h"

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
	kr_buf_printf(b, " %s \"", kr_change_type_name(c->type));
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
