/*
 * kreconcile status: what each host runs, as last read by refresh (or plan):
 * reachable or why not, docker version, the app version running per role,
 * accessories and their state, the env files present, absent or differing
 * from the configuration (by sha256), the deploy lock's holder and when the
 * host was observed. It reads the state database only and never contacts a
 * host, so it is instant and safe to run anywhere; `--refresh` reads the
 * hosts first (as `kreconcile refresh` does). `--json` has a format_version.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cmd_common.h"
#include "cli/hosts.h"
#include "cli/load.h"
#include "common/error.h"

#define STATUS_FORMAT_VERSION "1.0"

enum { OPT_REFRESH = KR_CLI_OPT_ACCEPT_NEW + 1 };

static const struct option status_options[] = {
	KR_CLI_OPTION_ACCEPT_NEW,
	{ "refresh", no_argument, NULL, OPT_REFRESH },
	{ NULL, 0, NULL, 0 },
};

/* The prefix of an app container's name for role: "<service>-<role>[-<dest>]-".
 */
static char *
app_prefix(const struct kr_desired *d, const char *role)
{
	return d->destination ? kr_xasprintf("%s-%s-%s-", d->service, role,
					d->destination) :
				kr_xasprintf("%s-%s-", d->service, role);
}

/* An app container of this service and destination (Kamal's labels). */
static bool
is_app_container(const struct kr_desired *d, const struct kr_obs_container *c)
{
	const char *svc = kr_kvlist_get(&c->labels, "service");
	const char *role = kr_kvlist_get(&c->labels, "role");
	const char *dest = kr_kvlist_get(&c->labels, "destination");

	if (!svc || !role || strcmp(svc, d->service) != 0)
		return false;
	return strcmp(dest ? dest : "", d->destination ? d->destination : "") ==
	       0;
}

/* The version of an app container: its name after the role's prefix. */
static const char *
container_version(const struct kr_desired *d, const struct kr_obs_container *c)
{
	const char *role = kr_kvlist_get(&c->labels, "role");
	char *prefix = app_prefix(d, role ? role : "");
	size_t n = strlen(prefix);
	const char *v = NULL;

	if (c->name && strncmp(c->name, prefix, n) == 0 && c->name[n])
		v = c->name + n;
	else
		v = kr_kvlist_get(&c->env, "KAMAL_VERSION");
	free(prefix);
	return v ? v : "?";
}

static const char *
container_state(const struct kr_obs_container *c)
{
	return c->state ? c->state : "unknown";
}

/* The roles to show on a host: configured ones first, then others seen. */
static void
host_roles(struct kr_strvec *out, const struct kr_desired *d,
	const struct kr_host *dh, const struct kr_observed_host *h)
{
	size_t i;

	for (i = 0; dh && i < dh->napps; i++)
		if (!kr_strvec_contains(out, dh->apps[i].role))
			kr_strvec_push(out, dh->apps[i].role);
	for (i = 0; i < h->ncontainers; i++) {
		const char *role;

		if (!is_app_container(d, &h->containers[i]))
			continue;
		role = kr_kvlist_get(&h->containers[i].labels, "role");
		if (!kr_strvec_contains(out, role))
			kr_strvec_push(out, role);
	}
}

static const struct kr_app *
host_app(const struct kr_host *dh, const char *role)
{
	size_t i;

	for (i = 0; dh && i < dh->napps; i++)
		if (strcmp(dh->apps[i].role, role) == 0)
			return &dh->apps[i];
	return NULL;
}

static json_t *
role_json(const struct kr_desired *d, const struct kr_host *dh,
	const struct kr_observed_host *h, const char *role)
{
	const struct kr_app *app = host_app(dh, role);
	json_t *o = json_object(), *cs = json_array(), *running = json_array();
	size_t i;

	json_object_set_new(o, "role", json_string(role));
	json_object_set_new(o, "configured", json_boolean(app != NULL));
	json_object_set_new(o, "configured_version",
		app && strcmp(d->version_source, "none") != 0 ?
			json_string(app->version) :
			json_null());
	for (i = 0; i < h->ncontainers; i++) {
		const struct kr_obs_container *c = &h->containers[i];
		const char *r;
		json_t *cj;

		if (!is_app_container(d, c))
			continue;
		r = kr_kvlist_get(&c->labels, "role");
		if (strcmp(r, role) != 0)
			continue;
		cj = json_object();
		json_object_set_new(cj, "name", json_string(c->name));
		json_object_set_new(
			cj, "version", json_string(container_version(d, c)));
		json_object_set_new(cj, "image",
			c->image ? json_string(c->image) : json_null());
		json_object_set_new(
			cj, "state", json_string(container_state(c)));
		json_object_set_new(cj, "health",
			c->health ? json_string(c->health) : json_null());
		json_array_append_new(cs, cj);
		if (c->state && strcmp(c->state, "running") == 0) {
			json_t *rj = json_object();

			json_object_set_new(rj, "version",
				json_string(container_version(d, c)));
			json_object_set_new(
				rj, "container", json_string(c->name));
			json_array_append_new(running, rj);
		}
	}
	json_object_set_new(o, "running_versions", running);
	json_object_set_new(o, "containers", cs);
	return o;
}

static json_t *
accessory_json(const struct kr_observed_host *h, const char *name,
	const char *container, const char *want_image, bool configured)
{
	const struct kr_obs_container *c = kr_observed_container(h, container);
	json_t *o = json_object();

	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "container", json_string(container));
	json_object_set_new(o, "configured", json_boolean(configured));
	json_object_set_new(o, "configured_image",
		want_image ? json_string(want_image) : json_null());
	json_object_set_new(o, "present", json_boolean(c != NULL));
	json_object_set_new(o, "state",
		c ? json_string(container_state(c)) : json_string("absent"));
	json_object_set_new(o, "image",
		c && c->image ? json_string(c->image) : json_null());
	json_object_set_new(o, "health",
		c && c->health ? json_string(c->health) : json_null());
	return o;
}

static json_t *
env_file_json(const struct kr_observed_host *h, const struct kr_env_file *ef,
	const char *owner)
{
	const struct kr_obs_file *f = kr_observed_file(h, ef->path);
	json_t *o = json_object();
	const char *state;

	if (!f)
		state = "absent";
	else if (!ef->content || !*ef->sha256)
		state = "present"; /* nothing to compare with */
	else
		state = strcmp(f->sha256, ef->sha256) == 0 ? "present" :
							     "differs";
	json_object_set_new(o, "path", json_string(ef->path));
	json_object_set_new(o, "for", json_string(owner));
	json_object_set_new(o, "state", json_string(state));
	json_object_set_new(o, "sha256",
		f && *f->sha256 ? json_string(f->sha256) : json_null());
	json_object_set_new(o, "configured_sha256",
		*ef->sha256 ? json_string(ef->sha256) : json_null());
	json_object_set_new(
		o, "mode", f && f->mode ? json_string(f->mode) : json_null());
	return o;
}

/* One host as JSON: everything the text form shows, and a little more. */
static json_t *
host_json(const struct kr_desired *d, const struct kr_observed_host *h,
	unsigned execs, bool from_store)
{
	const struct kr_host *dh = kr_desired_host(d, h->name);
	json_t *o = json_object(), *roles = json_array(), *accs = json_array(),
	       *envs = json_array(), *lock;
	struct kr_strvec rv = { 0 };
	char when[32];
	size_t i, j;

	json_object_set_new(o, "name", json_string(h->name));
	json_object_set_new(o, "configured", json_boolean(dh != NULL));
	json_object_set_new(
		o, "status", json_string(kr_obs_status_name(h->status)));
	json_object_set_new(o, "reachable",
		json_boolean(h->status == KR_OBS_OK ||
			     h->status == KR_OBS_NO_DOCKER));
	json_object_set_new(
		o, "error", h->error ? json_string(h->error) : json_null());
	kr_obs_time_format(when, h->observed_at);
	json_object_set_new(
		o, "observed_at", *when ? json_string(when) : json_null());
	json_object_set_new(o, "from_store", json_boolean(from_store));
	if (!from_store)
		json_object_set_new(o, "execs", json_integer(execs));
	json_object_set_new(o, "fingerprint",
		*h->fingerprint ? json_string(h->fingerprint) : json_null());
	json_object_set_new(o, "docker_version",
		h->docker_version ? json_string(h->docker_version) :
				    json_null());
	if (h->status != KR_OBS_OK) {
		json_object_set_new(o, "roles", roles);
		json_object_set_new(o, "accessories", accs);
		json_object_set_new(o, "env_files", envs);
		json_object_set_new(o, "lock", json_null());
		return o;
	}
	host_roles(&rv, d, dh, h);
	for (i = 0; i < rv.n; i++)
		json_array_append_new(roles, role_json(d, dh, h, rv.v[i]));
	kr_strvec_release(&rv);
	/* accessories configured here, then any other of the service seen */
	for (i = 0; dh && i < dh->naccessories; i++)
		json_array_append_new(
			accs, accessory_json(h, dh->accessories[i].name,
				      dh->accessories[i].container,
				      dh->accessories[i].image, true));
	for (i = 0; i < d->nhosts; i++) {
		for (j = 0; j < d->hosts[i].naccessories; j++) {
			const struct kr_accessory *a =
				&d->hosts[i].accessories[j];
			size_t k;
			bool seen = false;

			for (k = 0; k < json_array_size(accs); k++)
				if (strcmp(json_string_value(json_object_get(
						   json_array_get(accs, k),
						   "container")),
					    a->container) == 0)
					seen = true;
			if (!seen && kr_observed_container(h, a->container))
				json_array_append_new(accs,
					accessory_json(h, a->name, a->container,
						NULL, false));
		}
	}
	for (i = 0; dh && i < dh->napps; i++) {
		char *who = kr_xasprintf("role %s", dh->apps[i].role);

		if (dh->apps[i].env_file.path)
			json_array_append_new(envs,
				env_file_json(h, &dh->apps[i].env_file, who));
		free(who);
	}
	for (i = 0; dh && i < dh->naccessories; i++) {
		char *who =
			kr_xasprintf("accessory %s", dh->accessories[i].name);

		if (dh->accessories[i].env_file.path)
			json_array_append_new(envs,
				env_file_json(
					h, &dh->accessories[i].env_file, who));
		free(who);
	}
	lock = json_object();
	json_object_set_new(lock, "lock_host",
		json_boolean(
			d->lock_host && strcmp(d->lock_host, h->name) == 0));
	json_object_set_new(lock, "held", json_boolean(h->lock.held));
	json_object_set_new(lock, "details",
		h->lock.held && h->lock.details ? json_string(h->lock.details) :
						  json_null());
	json_object_set_new(o, "roles", roles);
	json_object_set_new(o, "accessories", accs);
	json_object_set_new(o, "env_files", envs);
	json_object_set_new(o, "lock", lock);
	return o;
}

static const char *
jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* "3 min ago" for an observation time. */
static void
format_age(char *out, size_t size, time_t t, time_t now)
{
	long long s = (long long)(now - t);

	if (!t)
		snprintf(out, size, "never");
	else if (s < 60)
		snprintf(out, size, "%llds ago", s < 0 ? 0 : s);
	else if (s < 3600)
		snprintf(out, size, "%lld min ago", s / 60);
	else if (s < 86400)
		snprintf(out, size, "%lld h ago", s / 3600);
	else
		snprintf(out, size, "%lld days ago", s / 86400);
}

static void
print_host_text(const json_t *hj, const struct kr_observed_host *h, time_t now,
	bool color)
{
	const char *bold = color ? "\033[1m" : "",
		   *red = color ? "\033[31m" : "",
		   *yellow = color ? "\033[33m" : "",
		   *reset = color ? "\033[0m" : "";
	json_t *v;
	size_t i, j;
	char when[32], age[32];

	kr_obs_time_format(when, h->observed_at);
	format_age(age, sizeof(age), h->observed_at, now);
	printf("%shost %s%s", bold, h->name, reset);
	if (!json_is_true(json_object_get(hj, "configured")))
		printf(" (not in the configuration)");
	switch (h->status) {
	case KR_OBS_OK:
		printf(": reachable, docker %s",
			h->docker_version ? h->docker_version : "?");
		break;
	case KR_OBS_UNREACHABLE:
		printf(": %sunreachable%s: %s", red, reset, jstr(hj, "error"));
		break;
	case KR_OBS_NO_DOCKER:
		printf(": reachable, %sno docker%s: %s", red, reset,
			jstr(hj, "error"));
		break;
	default:
		printf(": %snot observed%s: %s", red, reset, jstr(hj, "error"));
		break;
	}
	if (h->observed_at)
		printf(" (observed %s, %s)", when, age);
	putchar('\n');
	if (h->status != KR_OBS_OK)
		return;

	json_array_foreach(json_object_get(hj, "roles"), i, v)
	{
		json_t *running = json_object_get(v, "running_versions");
		json_t *cs = json_object_get(v, "containers");
		const char *want = jstr(v, "configured_version");
		json_t *c;
		bool first = true;

		printf("  app %s: ", jstr(v, "role"));
		if (json_array_size(running) == 0)
			printf("%snot running%s", yellow, reset);
		json_array_foreach(running, j, c)
			printf("%s%s running (%s)", j ? ", " : "",
				jstr(c, "version"), jstr(c, "container"));
		json_array_foreach(cs, j, c)
		{
			if (strcmp(jstr(c, "state"), "running") == 0)
				continue;
			printf("%s%s %s", first ? "; " : ", ",
				jstr(c, "version"), jstr(c, "state"));
			first = false;
		}
		if (!json_is_true(json_object_get(v, "configured")))
			printf(" %s(role not configured on this host)%s",
				yellow, reset);
		else if (*want &&
			 (json_array_size(running) != 1 ||
				 strcmp(jstr(json_array_get(running, 0),
						"version"),
					 want) != 0))
			printf(" %s(configured: %s)%s", yellow, want, reset);
		putchar('\n');
	}
	json_array_foreach(json_object_get(hj, "accessories"), i, v)
	{
		printf("  accessory %s: ", jstr(v, "name"));
		if (!json_is_true(json_object_get(v, "present")))
			printf("%sabsent%s", yellow, reset);
		else
			printf("%s (%s, %s)", jstr(v, "state"),
				jstr(v, "container"), jstr(v, "image"));
		if (!json_is_true(json_object_get(v, "configured")))
			printf(" %s(not configured on this host)%s", yellow,
				reset);
		else if (json_is_true(json_object_get(v, "present")) &&
			 strcmp(jstr(v, "image"),
				 jstr(v, "configured_image")) != 0)
			printf(" %s(configured: %s)%s", yellow,
				jstr(v, "configured_image"), reset);
		putchar('\n');
	}
	json_array_foreach(json_object_get(hj, "env_files"), i, v)
	{
		const char *st = jstr(v, "state");

		printf("  env file %s (%s): %s%s%s\n", jstr(v, "path"),
			jstr(v, "for"), strcmp(st, "present") ? yellow : "",
			strcmp(st, "differs") == 0 ?
				"differs from the configuration" :
				st,
			strcmp(st, "present") ? reset : "");
	}
	v = json_object_get(hj, "lock");
	if (json_is_true(json_object_get(v, "held"))) {
		const char *det = jstr(v, "details");
		size_t n = strcspn(det, "\n");

		printf("  %sdeploy lock held%s: %.*s\n", yellow, reset, (int)n,
			det);
	} else if (json_is_true(json_object_get(v, "lock_host"))) {
		printf("  deploy lock: free\n");
	}
}

static int
cmd_status_exec(const struct kr_globals *g, int argc, char **argv)
{
	struct kr_cli_observe_opts oo = { .include_removed = true };
	struct kr_loaded l;
	struct kr_diags diags = { 0 };
	struct kr_cli_hosts hosts = { 0 };
	struct kr_store *s = NULL;
	json_t *out = NULL, *hj;
	int64_t run = 0;
	int c, rc = KR_EXIT_ERROR, err;
	time_t now = time(NULL);
	size_t i, failed = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", status_options, NULL)) != -1) {
		switch (c) {
		case KR_CLI_OPT_ACCEPT_NEW:
			oo.accept_new_host_keys = true;
			break;
		case OPT_REFRESH:
			oo.refresh = true;
			break;
		default:
			return kr_cli_opt_error(&kr_cmd_status_entry, c, argv);
		}
	}
	if ((err = kr_cli_opt_no_more(&kr_cmd_status_entry, argc, argv)))
		return err;

	if (kr_cli_load_report(&l, &diags, g, KR_LOAD_ANY_VERSION) < 0)
		goto out;
	if (kr_cli_store_open(&s, g, &l) < 0) {
		kr_cli_error("%s", kr_error_last());
		goto out;
	}
	if (oo.refresh && kr_cli_run_begin(&s, &run, g, &l, KR_RUN_REFRESH,
		KR_CLI_REV_IF_VERSIONED) < 0)
		goto out;
	err = kr_cli_hosts_observe(&hosts, g, &l, s, run, &oo);
	if (oo.refresh)
		kr_store_run_end(s, run,
			err < 0	     ? "failed" :
			hosts.failed ? "partial" :
				       "ok",
			"status --refresh");
	if (err < 0) {
		kr_cli_error("%s", kr_error_last());
		goto out;
	}

	out = json_object();
	json_object_set_new(
		out, "format_version", json_string(STATUS_FORMAT_VERSION));
	json_object_set_new(out, "service", json_string(l.desired->service));
	json_object_set_new(out, "destination",
		l.desired->destination ? json_string(l.desired->destination) :
					 json_null());
	json_object_set_new(out, "hosts", json_array());
	for (i = 0; i < hosts.n; i++) {
		hj = host_json(l.desired, &hosts.hosts[i], hosts.execs[i],
			hosts.from_store);
		json_array_append_new(json_object_get(out, "hosts"), hj);
		if (i < l.desired->nhosts && hosts.hosts[i].status != KR_OBS_OK)
			failed++;
	}
	if (g->json) {
		kr_cli_json_print(out);
	} else {
		json_array_foreach(json_object_get(out, "hosts"), i, hj)
			print_host_text(hj, &hosts.hosts[i], now, g->color);
	}
	rc = !failed			? KR_EXIT_OK :
	     failed < l.desired->nhosts ? KR_EXIT_PARTIAL :
					  KR_EXIT_ERROR;
out:
	json_decref(out);
	kr_cli_hosts_release(&hosts);
	kr_store_close(s);
	kr_loaded_release(&l);
	kr_diags_release(&diags);
	return rc;
}

const struct kr_cmd_entry kr_cmd_status_entry = {
	.name = "status",
	.summary = "show what each host runs, as last read",
	.usage = "kreconcile status [--json] [--refresh] "
		 "[--accept-new-host-keys]\n"
		 "  reads the state database (the last refresh); contacts no "
		 "host unless --refresh\n"
		 "  --refresh               read every host first, as "
		 "'kreconcile refresh' does\n"
		 "  --accept-new-host-keys  with --refresh: trust the key of a "
		 "host not yet in known_hosts\n"
		 "  exit 0 every host was observed, 3 some were not, 1 none "
		 "was or an error",
	.flags = KR_CMD_JSON,
	.complete = "--refresh --accept-new-host-keys",
	.exec = cmd_status_exec,
};
