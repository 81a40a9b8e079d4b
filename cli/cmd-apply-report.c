/*
 * What kreconcile apply prints of its run's outcome (text on stdout, or
 * --json's one object), and with -v each host's SSH execs and
 * connections. The lines printed as the hosts go are cli/run.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cmd-apply.h"
#include "cli/cmd_common.h"

#define APPLY_JSON_FORMAT "1.0"

static const char *
host_state_name(enum kr_apply_host_state st)
{
	switch (st) {
	case KR_APPLY_HOST_OK:
		return "ok";
	case KR_APPLY_HOST_FAILED:
		return "failed";
	case KR_APPLY_HOST_SKIPPED:
		return "skipped";
	case KR_APPLY_HOST_NOTHING:
		break;
	}
	return "unchanged";
}

/*
 * --json: one object on stdout, {format_version, plan, applied, result}:
 * result (when applied) holds the counts, each host's outcome and whether
 * the hosts match now. The plan's JSON never holds a secret; host errors
 * are the scripts' output (docker's messages, the container's log tail).
 */
void
kr_cli_apply_print_json(const struct kr_engine_result *er)
{
	const struct kr_plan *plan = er->plan, *plan2 = er->plan2;
	const struct kr_apply_result *res = er->apply_ran ? &er->applied : NULL;
	bool hosts_ok = er->apply_ran ? !er->after.failed : !er->hosts.failed;
	json_t *root = json_object(), *r, *hosts;
	size_t i;

	/* nothing applied: the plan is all there is to say */
	if (!er->apply_ran && plan && !kr_plan_has_changes(plan))
		plan2 = plan;

	json_object_set_new(
		root, "format_version", json_string(APPLY_JSON_FORMAT));
	json_object_set_new(root, "plan", kr_plan_to_json(plan));
	json_object_set_new(root, "applied", json_boolean(res != NULL));
	if (res) {
		r = json_object();
		json_object_set_new(
			r, "added", json_integer((json_int_t)res->added));
		json_object_set_new(
			r, "changed", json_integer((json_int_t)res->changed));
		json_object_set_new(r, "destroyed",
			json_integer((json_int_t)res->destroyed));
		json_object_set_new(
			r, "interrupted", json_boolean(res->interrupted));
		hosts = json_array();
		for (i = 0; i < res->nhosts; i++) {
			const struct kr_apply_host *h = &res->hosts[i];
			json_t *o = json_object();

			json_object_set_new(o, "name", json_string(h->name));
			json_object_set_new(o, "state",
				json_string(host_state_name(h->state)));
			json_object_set_new(o, "execs", json_integer(h->execs));
			json_object_set_new(o, "error",
				h->error ? json_string(h->error) : json_null());
			json_array_append_new(hosts, o);
		}
		json_object_set_new(r, "hosts", hosts);
		json_object_set_new(root, "result", r);
	}
	json_object_set_new(root, "hosts_match",
		plan2 ? json_boolean(kr_engine_plan_done(plan2) && hosts_ok) :
			json_null());
	kr_cli_json_print(root);
	json_decref(root);
}

void
kr_cli_apply_print_execs(
	const struct kr_globals *g, const struct kr_engine_result *er)
{
	const struct kr_desired *d = er->loaded.desired;
	const struct kr_apply_result *r = &er->applied;
	size_t i, j;
	unsigned c;

	if (g->verbosity <= 0 || !d)
		return;
	for (i = 0; i < er->hosts.n && i < d->nhosts; i++) {
		unsigned n = er->hosts.execs[i] +
			     (i < er->after.n ? er->after.execs[i] : 0);

		for (j = 0; j < r->nhosts; j++)
			if (strcmp(r->hosts[j].name, d->hosts[i].name) == 0)
				n += r->hosts[j].execs;
		if (d->lock_host && strcmp(d->lock_host, d->hosts[i].name) == 0)
			n += er->lock_execs;
		c = er->connections ? er->connections[i] : 0;
		fprintf(stderr, "host %s: %u SSH exec%s on %u connection%s\n",
			d->hosts[i].name, n, n == 1 ? "" : "s", c,
			c == 1 ? "" : "s");
	}
}

void
kr_cli_apply_print_result(const struct kr_engine_result *er)
{
	const struct kr_apply_result *res = &er->applied;
	const struct kr_plan *plan2 = er->plan2;
	bool after_failed = er->after.failed;
	struct kr_plan_summary sum;

	printf("\nApply %s: %zu added, %zu changed, %zu destroyed.\n",
		res->interrupted  ? "interrupted" :
		res->hosts_failed ? "incomplete" :
				    "complete",
		res->added, res->changed, res->destroyed);
	if (!plan2) {
		printf("The hosts could not be read again: whether they match "
		       "is unknown.\n");
	} else if (kr_engine_plan_done(plan2) && !after_failed) {
		printf("Hosts match the configuration.\n");
	} else {
		kr_plan_summarize(&sum, plan2);
		printf("Hosts do not match the configuration yet: %zu to add, "
		       "%zu to change, %zu to destroy, %zu waiting for an "
		       "image "
		       "(run 'kreconcile plan').\n",
			sum.add, sum.change, sum.destroy, sum.waiting);
	}
}
