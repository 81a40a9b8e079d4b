/*
 * The plan as JSON for machines and saved plans (see plan.h): the
 * format_version, the identity, the hosts, each change with Terraform-style
 * actions, before/after objects and sensitive_paths, and the summary.
 * Sensitive values are KR_SENSITIVE here as everywhere.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "reconciler/plan_int.h"

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
	json_object_set_new(o, "type", json_string(kr_change_type_name(c->type)));
	json_object_set_new(o, "name", json_string(c->name));
	json_object_set_new(o, "actions", actions_json(c));
	json_object_set_new(o, "status", json_string(kr_plan_status_name(c->status)));
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
	json_object_set_new(root, "identity", kr_plan_identity_json(&id));
	kr_plan_identity_release(&id);
	for (i = 0; i < p->nhosts; i++) {
		const struct kr_plan_host *ph = &p->hosts[i];
		json_t *h = json_object();

		json_object_set_new(h, "name", json_string(ph->name));
		json_object_set_new(h, "configured",
			json_boolean(ph->configured));
		json_object_set_new(h, "status",
			json_string(kr_obs_status_name(ph->status)));
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
