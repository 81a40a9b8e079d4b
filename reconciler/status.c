/*
 * What each host runs, as a JSON document (`status --json` prints it, the
 * watcher's status page reads it): reachable or why not, docker version,
 * the app version running per role (by the rule the diff uses,
 * kr_obs_app_version), accessories and their state, the env files present,
 * absent or differing from the configuration (by sha256), the deploy lock's
 * holder and when the host was observed.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "reconciler/status.h"

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

/* The version of an app container (the rule plan uses too). */
static const char *
container_version(const struct kr_desired *d, const struct kr_obs_container *c)
{
	const char *role = kr_kvlist_get(&c->labels, "role");
	const char *v = kr_obs_app_version(
		c, d->service, role ? role : "", d->destination);

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

json_t *
kr_status_to_json(const struct kr_desired *d, const struct kr_hosts *h)
{
	json_t *out = json_object(), *hosts = json_array();
	size_t i;

	json_object_set_new(
		out, "format_version", json_string(KR_STATUS_FORMAT_VERSION));
	json_object_set_new(out, "service", json_string(d->service));
	json_object_set_new(out, "destination",
		d->destination ? json_string(d->destination) : json_null());
	for (i = 0; i < h->n; i++)
		json_array_append_new(hosts,
			host_json(d, &h->hosts[i], h->execs[i], h->from_store));
	json_object_set_new(out, "hosts", hosts);
	return out;
}
