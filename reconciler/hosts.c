/*
 * Observing every host for a run (see hosts.h): SSH options from the
 * config, the run's connections, the parallel one-exec observe with an
 * event per host, the snapshots kept in the store, and the registry
 * lookups.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "reconciler/hosts.h"
#include "common/error.h"
#include "drivers/docker.h"
#include "drivers/pool.h"
#include "drivers/registry.h"

int
kr_ssh_settings_init(struct kr_ssh_settings *out, const struct kr_loaded *l,
	bool accept_new_host_keys)
{
	const struct kr_config_ssh *c = &l->config->ssh;
	struct kr_transport_opts *o = &out->base;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < c->key_data.n; i++) {
		const char *name = c->key_data.v[i];
		const char *v = kr_load_is_inline_key(name) ?
					name :
					kr_kvlist_get(&l->secrets, name);

		if (!v) {
			kr_error_set(KR_ECONFIG,
				"ssh key_data: secret '%s' is not set", name);
			kr_ssh_settings_release(out);
			return KR_ECONFIG;
		}
		kr_strvec_push(&out->key_data, v);
	}
	o->keys = c->keys.n ? &c->keys : NULL;
	o->key_data = out->key_data.n ? &out->key_data : NULL;
	o->keys_only = c->keys_only == KR_TRI_TRUE;
	o->known_hosts = l->desired ? l->desired->known_hosts : NULL;
	o->accept_new_host_keys = accept_new_host_keys;
	o->proxy = c->proxy;
	o->proxy_command = c->proxy_command;
	o->log_level = c->log_level;
	/* Kamal's ssh.config: true (default) the usual files, false none. */
	if (c->config_list.n)
		o->ssh_config = c->config_list.v[0];
	else if (!c->config || strcmp(c->config, "true") == 0)
		o->ssh_config = NULL;
	else if (strcmp(c->config, "false") == 0)
		o->ssh_config = "";
	else
		o->ssh_config = c->config;
	return 0;
}

void
kr_ssh_settings_release(struct kr_ssh_settings *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->key_data.n; i++)
		kr_free_secret(s->key_data.v[i]);
	free(s->key_data.v);
	memset(s, 0, sizeof(*s));
}

void
kr_ssh_settings_for_host(struct kr_transport_opts *out,
	const struct kr_ssh_settings *s, const char *host, const char *user,
	int port)
{
	*out = s->base;
	out->host = host;
	out->user = user;
	out->port = port;
}

/* A lost connection being opened again: say so, and journal it. */
static void
conns_reconnect(const char *host, const char *reason, void *arg)
{
	struct kr_hostconns *c = arg;
	char *addr;
	int64_t e = 0;

	kr_event_say(c->events, KR_EVENT_PROGRESS, host,
		"host %s: connection lost (%s); reconnecting", host,
		reason ? reason : "no reason given");
	if (!c->store)
		return;
	addr = kr_xasprintf("%s/connection", host);
	if (kr_store_journal_begin(
		    &e, c->store, c->run, host, addr, "reconnect") == 0 &&
		e)
		kr_store_journal_end(c->store, e, "ok", reason);
	free(addr);
}

int
kr_hostconns_init(struct kr_hostconns *out, const struct kr_events *ev,
	const struct kr_loaded *l, bool accept_new_host_keys)
{
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = kr_ssh_settings_init(&out->ssh, l, accept_new_host_keys)) <
		0)
		return err;
	kr_conns_init(&out->conns);
	out->events = ev;
	out->conns.on_reconnect = conns_reconnect;
	out->conns.reconnect_arg = out;
	return 0;
}

void
kr_hostconns_release(struct kr_hostconns *c)
{
	if (!c)
		return;
	kr_conns_release(&c->conns);
	kr_ssh_settings_release(&c->ssh);
}

size_t
kr_hostconns_add(
	struct kr_hostconns *c, const struct kr_desired *d, const char *host)
{
	const struct kr_host *h = kr_desired_host(d, host);
	struct kr_transport_opts o;
	size_t i = kr_conns_find(&c->conns, host);

	if (i != KR_CONNS_NONE)
		return i;
	kr_ssh_settings_for_host(&o, &c->ssh, host,
		h	  ? h->user :
		d->nhosts ? d->hosts[0].user :
			    "root",
		h ? h->port : 22);
	return kr_conns_add(&c->conns, &o);
}

int
kr_hostconns_get(
	struct kr_transport **out, struct kr_hostconns *c, const char *host)
{
	size_t i = kr_conns_find(&c->conns, host);

	if (i == KR_CONNS_NONE) {
		*out = NULL;
		kr_error_set(KR_EINVAL, "no connection for '%s'", host);
		return KR_EINVAL;
	}
	return kr_conns_get(out, &c->conns, i);
}

unsigned
kr_hostconns_opened(const struct kr_hostconns *c, const char *host)
{
	return kr_conns_opened(&c->conns, kr_conns_find(&c->conns, host));
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct progress {
	const struct kr_events *ev;
	double start;
};

/* Called by the pool, one host at a time, as each finishes. */
static void
observe_progress(const struct kr_observe_job *job, void *arg)
{
	const struct progress *p = arg;
	const struct kr_observed_host *h = &job->result;
	struct kr_event ev = { .kind = KR_EVENT_OBSERVED,
		.host = job->opts.host,
		.observed = h,
		.execs = job->execs };
	struct kr_buf msg = KR_BUF_INIT;
	const char *why = h->error ? h->error : "unknown reason";
	char dur[32];

	kr_format_duration(dur, sizeof(dur), now_seconds() - p->start);
	switch (h->status) {
	case KR_OBS_OK:
		kr_buf_printf(&msg, "host %s: observed (%u exec%s, %s)",
			job->opts.host, job->execs, job->execs == 1 ? "" : "s",
			dur);
		break;
	case KR_OBS_UNREACHABLE:
		kr_buf_printf(
			&msg, "host %s: unreachable: %s", job->opts.host, why);
		break;
	case KR_OBS_NO_DOCKER:
		kr_buf_printf(
			&msg, "host %s: no docker: %s", job->opts.host, why);
		break;
	default:
		kr_buf_printf(&msg, "host %s: failed: %s", job->opts.host, why);
		break;
	}
	ev.message = msg.ptr;
	kr_event_send(p->ev, &ev);
	kr_buf_release(&msg);
}

/* The host's last snapshot, or a failure entry saying there is none. */
static void
from_store(struct kr_observed_host *out, struct kr_store *s, const char *host)
{
	struct kr_store_snapshot snap;
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = kr_store_snapshot_latest(&snap, s, host)) < 0) {
		kr_observed_host_set_failure(out, host, KR_OBS_FAILED,
			err == KR_ENOTFOUND ?
				"not observed yet (run 'kreconcile refresh')" :
				kr_error_last());
		return;
	}
	if (snap.json &&
		kr_observed_host_load(out, snap.json, strlen(snap.json)) == 0) {
		/* keep the stored fingerprint: it is what was planned from */
		if (snap.fingerprint &&
			strlen(snap.fingerprint) == KR_SHA256_HEX - 1)
			memcpy(out->fingerprint, snap.fingerprint,
				KR_SHA256_HEX);
	} else {
		kr_observed_host_set_failure(out, host,
			snap.status == KR_OBS_OK ? KR_OBS_FAILED : snap.status,
			snap.error ? snap.error :
				     "the stored snapshot cannot be read");
	}
	out->observed_at = snap.observed_at;
	kr_store_snapshot_release(&snap);
}

static int
store_snapshot(
	struct kr_store *s, int64_t run, const struct kr_observed_host *h)
{
	char *json = kr_observed_host_dump(h);
	int err;

	err = kr_store_snapshot_add(s, run, h->name, h->status, h->error,
		h->status == KR_OBS_OK ? h->fingerprint : NULL, json,
		h->observed_at);
	free(json);
	return err;
}

/* Hosts the store has seen that the configuration no longer names. */
static void
add_removed(
	struct kr_hosts *out, const struct kr_desired *d, struct kr_store *s)
{
	struct kr_store_host *known = NULL;
	size_t nknown = 0, i;

	if (kr_store_hosts(&known, &nknown, s) < 0)
		return;
	for (i = 0; i < nknown; i++) {
		if (kr_desired_host(d, known[i].name))
			continue;
		out->hosts = kr_xrealloc(
			out->hosts, (out->n + 1) * sizeof(*out->hosts));
		out->execs = kr_xrealloc(
			out->execs, (out->n + 1) * sizeof(*out->execs));
		from_store(&out->hosts[out->n], s, known[i].name);
		out->execs[out->n] = 0;
		out->n++;
	}
	kr_store_hosts_free(known, nknown);
}

int
kr_hosts_observe(struct kr_hosts *out, const struct kr_events *ev,
	const struct kr_loaded *l, struct kr_store *s, int64_t run,
	const struct kr_observe_opts *o)
{
	const struct kr_desired *d = l->desired;
	struct kr_docker_scope_buf *scopes = NULL;
	struct kr_observe_job *jobs = NULL;
	struct kr_ssh_settings ssh;
	struct progress p = { ev, 0 };
	long long maxp = l->config->sshkit_max_concurrent_starts;
	size_t i, n = d->nhosts;
	int err = 0;

	memset(out, 0, sizeof(*out));
	out->hosts = kr_xcalloc(n ? n : 1, sizeof(*out->hosts));
	out->execs = kr_xcalloc(n ? n : 1, sizeof(*out->execs));
	out->n = n;
	if (!o->refresh) {
		out->from_store = true;
		for (i = 0; i < n; i++)
			from_store(&out->hosts[i], s, d->hosts[i].name);
		goto removed;
	}
	if (o->conns) {
		ssh = o->conns->ssh;
	} else if ((err = kr_ssh_settings_init(
			    &ssh, l, o->accept_new_host_keys)) < 0) {
		kr_hosts_release(out);
		return err;
	}
	scopes = kr_xcalloc(n ? n : 1, sizeof(*scopes));
	jobs = kr_xcalloc(n ? n : 1, sizeof(*jobs));
	for (i = 0; i < n; i++) {
		const struct kr_host *h = &d->hosts[i];

		kr_docker_scope_from_desired(&scopes[i], d, h);
		kr_ssh_settings_for_host(
			&jobs[i].opts, &ssh, h->name, h->user, h->port);
		jobs[i].opts.cancel = o->cancel;
		jobs[i].opts.exec_timeout =
			o->timeout > 0 ? o->timeout : KR_OBSERVE_TIMEOUT;
		jobs[i].scope = &scopes[i].scope;
		jobs[i].conns = o->conns ? &o->conns->conns : NULL;
	}
	if (o->conns) {
		o->conns->conns.cancel = o->cancel;
		o->conns->conns.timeout =
			o->timeout > 0 ? o->timeout : KR_OBSERVE_TIMEOUT;
	}
	p.start = now_seconds();
	kr_docker_observe_all(jobs, n,
		maxp > 0 && maxp < 1000 ? (unsigned)maxp : 0, observe_progress,
		&p);
	for (i = 0; i < n; i++) {
		out->hosts[i] = jobs[i].result;
		out->execs[i] = jobs[i].execs;
		if (s && store_snapshot(s, run, &out->hosts[i]) < 0 && !err) {
			err = kr_error_last_code() ? kr_error_last_code() :
						     KR_ESTORE;
			kr_event_say(ev, KR_EVENT_ERROR, NULL, "%s",
				kr_error_last());
		}
		kr_docker_scope_buf_release(&scopes[i]);
	}
	free(scopes);
	free(jobs);
	if (!o->conns)
		kr_ssh_settings_release(&ssh);
removed:
	if (o->include_removed && s)
		add_removed(out, d, s);
	/* only configured hosts count: a removed one is not read now */
	for (i = 0; i < n; i++)
		if (out->hosts[i].status != KR_OBS_OK)
			out->failed++;
	return err;
}

void
kr_hosts_release(struct kr_hosts *h)
{
	size_t i;

	if (!h)
		return;
	for (i = 0; i < h->n; i++)
		kr_observed_host_release(&h->hosts[i]);
	free(h->hosts);
	free(h->execs);
	memset(h, 0, sizeof(*h));
}

/* ---- registry lookups for the diff (plan, apply) ---- */

/* One image reference to look up, and what the registry said. */
struct image_job {
	const char *ref;
	const struct kr_desired *d;
	enum kr_image_avail avail;
	char *error; /* the registry's error, other than "not found" */
	char *digest; /* the registry's digest, when found */
};

/* True when some observed host has a container started from ref. */
static bool
image_on_a_host(const struct kr_hosts *hosts, const char *ref)
{
	size_t i, j;

	for (i = 0; i < hosts->n; i++) {
		const struct kr_observed_host *h = &hosts->hosts[i];

		if (h->status != KR_OBS_OK)
			continue;
		for (j = 0; j < h->ncontainers; j++)
			if (h->containers[j].image &&
				strcmp(h->containers[j].image, ref) == 0)
				return true;
	}
	return false;
}

/*
 * The credentials for ref: the configuration's registry when ref lives in
 * it (Docker Hub when registry.server is unset), else none.
 */
static void
image_auth(struct kr_registry_auth *out, const struct kr_desired *d,
	const struct kr_registry_ref *ref)
{
	struct kr_registry_ref server = { 0 };
	bool same;

	memset(out, 0, sizeof(*out));
	if (!d->registry.username || !d->registry.password)
		return;
	if (!d->registry.server)
		same = strcmp(ref->registry, KR_REGISTRY_DOCKER_HUB) == 0;
	else if (kr_registry_ref_parse(&server, d->registry.server, "x") == 0)
		same = strcmp(server.registry, ref->registry) == 0;
	else
		same = false;
	kr_registry_ref_release(&server);
	if (same) {
		out->username = d->registry.username;
		out->password = d->registry.password;
	}
}

/* Runs on a pool thread: resolve one reference. */
static int
resolve_one(size_t i, void *arg)
{
	struct image_job *job = &((struct image_job *)arg)[i];
	struct kr_registry_ref ref;
	struct kr_registry_auth auth;
	char *digest = NULL;
	int err;

	if ((err = kr_registry_ref_parse(&ref, NULL, job->ref)) < 0) {
		job->error = kr_xstrdup(kr_error_last());
		return err;
	}
	image_auth(&auth, job->d, &ref);
	err = kr_registry_resolve(&digest, &ref, &auth, NULL);
	if (err == 0) {
		job->avail = KR_IMAGE_PRESENT;
		job->digest = digest;
		digest = NULL;
	} else if (err == KR_ENOTFOUND) {
		job->avail = KR_IMAGE_MISSING;
	} else {
		job->error = kr_xstrdup(kr_error_last());
	}
	free(digest);
	kr_registry_ref_release(&ref);
	return err == KR_ENOTFOUND ? 0 : err;
}

size_t
kr_images_resolve(struct kr_image_lookup **out, size_t *nout,
	const struct kr_desired *d, const struct kr_hosts *hosts,
	const struct kr_events *ev, bool digests)
{
	struct kr_strvec refs = { 0 };
	struct image_job *jobs, *todo;
	struct kr_pool_result *r;
	size_t i, n = 0, failed = 0;

	kr_diff_images(&refs, d);
	jobs = kr_xcalloc(refs.n ? refs.n : 1, sizeof(*jobs));
	todo = kr_xcalloc(refs.n ? refs.n : 1, sizeof(*todo));
	for (i = 0; i < refs.n; i++) {
		jobs[i].ref = refs.v[i];
		jobs[i].d = d;
		if (image_on_a_host(hosts, refs.v[i]))
			jobs[i].avail = KR_IMAGE_PRESENT;
		/* a running image is looked up for its digest only */
		if (jobs[i].avail != KR_IMAGE_PRESENT || digests)
			todo[n++] = jobs[i];
	}
	if (n) {
		kr_event_say(ev, KR_EVENT_PROGRESS, NULL,
			"registry: looking up %zu image%s", n,
			n == 1 ? "" : "s");
		r = kr_xcalloc(n, sizeof(*r));
		kr_pool_run(r, n, 8, resolve_one, NULL, todo);
		kr_pool_results_release(r, n);
		free(r);
	}
	/* copy the answers back, in the model's order */
	for (i = 0, n = 0; i < refs.n; i++) {
		if (jobs[i].avail == KR_IMAGE_PRESENT && !digests)
			continue;
		jobs[i].digest = todo[n].digest;
		if (jobs[i].avail == KR_IMAGE_PRESENT) {
			/* running already: a failed lookup only skips the
			 * digest check */
			if (todo[n].error)
				kr_event_say(ev, KR_EVENT_PROGRESS, NULL,
					"image '%s': digest not checked: %s",
					jobs[i].ref, todo[n].error);
			free(todo[n].error);
			n++;
			continue;
		}
		jobs[i].avail = todo[n].avail;
		if (todo[n].error) {
			kr_event_say(ev, KR_EVENT_ERROR, NULL, "image '%s': %s",
				jobs[i].ref, todo[n].error);
			free(todo[n].error);
			failed++;
		}
		n++;
	}
	*out = kr_xcalloc(refs.n ? refs.n : 1, sizeof(**out));
	for (i = 0; i < refs.n; i++) {
		(*out)[i].ref = kr_xstrdup(jobs[i].ref);
		(*out)[i].avail = jobs[i].avail;
		(*out)[i].digest = jobs[i].digest;
	}
	*nout = refs.n;
	free(todo);
	free(jobs);
	kr_strvec_release(&refs);
	return failed;
}

void
kr_images_free(struct kr_image_lookup *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++) {
		free((char *)v[i].ref);
		free((char *)v[i].digest);
	}
	free(v);
}
