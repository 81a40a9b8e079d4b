/*
 * The engine (see engine.h): the run of every command as one call. The
 * steps each op takes:
 *   refresh  load → store → observe
 *   status   load → store → observe (or the last snapshots)
 *   plan     load → store → observe → images → diff
 *   apply    plan → confirm → lock → (waited: observe and plan again)
 *            → apply → release → observe again → diff again
 * Apply keeps one SSH connection per host for the whole run (hosts.h
 * kr_hostconns), opened by the first observe. The lock, apply and
 * re-observe are in engine_apply.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/error.h"
#include "reconciler/diff.h"
#include "reconciler/engine.h"
#include "reconciler/engine_int.h"

enum kr_engine_outcome
kr_engine_hosts_outcome(const struct kr_hosts *h)
{
	if (!h->failed)
		return KR_OUTCOME_OK;
	return h->failed < h->n ? KR_OUTCOME_PARTIAL : KR_OUTCOME_FAILED;
}

bool
kr_engine_plan_done(const struct kr_plan *p)
{
	struct kr_plan_summary sum;

	kr_plan_summarize(&sum, p);
	return !kr_plan_has_changes(p) && sum.waiting == 0;
}

int
kr_engine_store_open(struct kr_store **out, const struct kr_source *src,
	const struct kr_loaded *l)
{
	struct kr_kvlist sec = { 0 };
	struct kr_store *s = NULL;
	char *path = src->state_path ? kr_xstrdup(src->state_path) :
				       kr_store_default_path(src->config);
	int err;

	if ((err = kr_store_open(&s, path)) < 0)
		goto out;
	kr_load_secret_values(&sec, l);
	kr_store_set_secrets(s, &sec);
	*out = s;
out:
	kr_kvlist_release(&sec);
	free(path);
	return err;
}

int
kr_engine_revision_add(
	int64_t *id_out, struct kr_store *s, const struct kr_loaded *l)
{
	const struct kr_desired *d = l->desired;
	struct kr_store_revision rev = { 0 };
	json_t *j = kr_desired_to_json(d);
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	int err;

	if (!text) {
		json_decref(j);
		kr_error_set(KR_ENOMEM, "cannot serialise the desired model");
		return KR_ENOMEM;
	}
	rev.config_sha256 = d->config_sha256;
	rev.app_version = d->version;
	rev.git_commit = d->version_source && strcmp(d->version_source,
						      "git HEAD") == 0 ?
				 d->version :
				 NULL;
	rev.destination = d->destination;
	rev.model_json = text;
	err = kr_store_revision_add(id_out, s, &rev);
	free(text);
	json_decref(j);
	return err;
}

char *
kr_engine_lock_address(const struct kr_desired *d)
{
	if (d->destination && *d->destination)
		return kr_xasprintf("%s/lock/%s-%s", d->lock_host, d->service,
			d->destination);
	return kr_xasprintf("%s/lock/%s", d->lock_host, d->service);
}

bool
kr_engine_cancelled(const struct kr_engine_opts *o)
{
	return o->cancel && *o->cancel;
}

/* End the run (when one was begun) with status and summary. */
void
kr_engine_end(struct engine *e, const char *status, const char *summary)
{
	if (e->store && e->out->run)
		kr_store_run_end(e->store, e->out->run, status, summary);
}

enum kr_engine_outcome
kr_engine_fail(struct engine *e, const char *fmt, ...)
{
	struct kr_buf b = KR_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	kr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	kr_event_say(&e->o->events, KR_EVENT_ERROR, NULL, "%s", b.ptr);
	kr_engine_end(e, "failed", b.ptr);
	free(e->out->error);
	e->out->error = kr_buf_detach(&b, NULL);
	return e->out->outcome = KR_OUTCOME_FAILED;
}

enum kr_engine_outcome
kr_engine_cancel(struct engine *e)
{
	const char *why = "cancelled before anything was changed";

	kr_engine_end(e, "cancelled", why);
	free(e->out->error);
	e->out->error = kr_xstrdup(why);
	return e->out->outcome = KR_OUTCOME_CANCELLED;
}

/* Load the configuration; its problems as DIAG events, sorted. */
static int
load(struct engine *e)
{
	const struct kr_engine_opts *o = e->o;
	struct kr_engine_result *r = e->out;
	struct kr_source src = o->src;
	size_t i;
	int err;

	/* a saved plan names its version: the default when none is given */
	if (e->have_saved && !src.app_version && e->saved.version &&
		!getenv("VERSION"))
		src.app_version = e->saved.version;
	err = kr_load(&r->loaded, &r->diags, &src, o->load_flags);
	for (i = 0; i < r->loaded.warnings.n; i++) {
		char *w = kr_diag_format(&r->loaded.warnings.v[i]);

		kr_event_say(&o->events, KR_EVENT_PROGRESS, NULL, "%s", w);
		free(w);
	}
	if (err < 0) {
		kr_diags_sort(&r->diags);
		for (i = 0; i < r->diags.n; i++) {
			struct kr_event ev = { .kind = KR_EVENT_DIAG,
				.diag = &r->diags.v[i] };

			kr_event_send(&o->events, &ev);
		}
		if (!r->diags.n)
			kr_event_say(&o->events, KR_EVENT_ERROR, NULL, "%s",
				kr_error_last());
		r->error = kr_xstrdup(r->diags.n ?
					      "the configuration has problems" :
					      kr_error_last());
		r->outcome = KR_OUTCOME_FAILED;
	}
	return err;
}

/* The commit a run deploys, when the version is the config's git HEAD. */
static const char *
rev_commit(const struct kr_loaded *l)
{
	const struct kr_desired *d = l->desired;

	return d->version_source && strcmp(d->version_source, "git HEAD") == 0 ?
		       d->version :
		       NULL;
}

/* Open the store, record the revision and begin the run. */
static int
begin(struct engine *e)
{
	const struct kr_engine_opts *o = e->o;
	const struct kr_loaded *l = &e->out->loaded;
	int64_t rev = 0;
	bool record, run;
	int err;

	/* refresh and status need no version: without one no revision */
	record = o->op == KR_OP_PLAN || o->op == KR_OP_APPLY ||
		 strcmp(l->desired->version_source, "none") != 0;
	run = o->op != KR_OP_STATUS || o->refresh;
	if ((err = kr_engine_store_open(&e->store, &o->src, l)) == 0)
		e->out->store_path = kr_xstrdup(kr_store_path(e->store));
	if (err < 0 ||
		(run && record &&
			(err = kr_engine_revision_add(&rev, e->store, l)) <
				0) ||
		(run && (err = kr_store_run_begin(
				 &e->out->run, e->store, e->kind, rev)) < 0) ||
		(run && (err = kr_store_run_describe(e->store, e->out->run,
				 o->trigger ? o->trigger : "manual",
				 o->commit ? o->commit : rev_commit(l),
				 l->desired->destination)) < 0)) {
		kr_engine_fail(e, "%s", kr_error_last());
		return err;
	}
	return 0;
}

/* Observe every host (into *h) with the run's options. */
int
kr_engine_observe(
	struct engine *e, struct kr_hosts *h, struct kr_hostconns *conns)
{
	const struct kr_engine_opts *o = e->o;
	struct kr_observe_opts oo = {
		.refresh = o->op == KR_OP_STATUS || o->op == KR_OP_PLAN ?
				   o->refresh :
				   true,
		.accept_new_host_keys = o->accept_new_host_keys,
		.include_removed = o->include_removed,
		.conns = conns,
		.cancel = o->cancel,
		.timeout = o->observe_timeout > 0 ?
				   o->observe_timeout :
				   (int)e->out->loaded.config->timeout_observe,
	};
	return kr_hosts_observe(
		h, &o->events, &e->out->loaded, e->store, e->out->run, &oo);
}

static enum kr_engine_outcome
run_refresh(struct engine *e)
{
	struct kr_engine_result *r = e->out;
	char summary[128];
	int err;

	err = kr_engine_observe(e, &r->hosts, NULL);
	if (err < 0 && !r->hosts.n)
		return kr_engine_fail(e, "%s", kr_error_last());
	if (kr_engine_cancelled(e->o))
		return kr_engine_cancel(e);
	r->outcome = err < 0 ? KR_OUTCOME_FAILED :
			       kr_engine_hosts_outcome(&r->hosts);
	snprintf(summary, sizeof(summary), "%zu of %zu hosts observed",
		r->hosts.n - r->hosts.failed, r->hosts.n);
	kr_engine_end(e,
		r->outcome == KR_OUTCOME_OK	 ? "ok" :
		r->outcome == KR_OUTCOME_PARTIAL ? "partial" :
						   "failed",
		summary);
	return r->outcome;
}

static enum kr_engine_outcome
run_status(struct engine *e)
{
	struct kr_engine_result *r = e->out;
	int err = kr_engine_observe(e, &r->hosts, NULL);

	if (e->o->refresh)
		kr_engine_end(e,
			err < 0		? "failed" :
			r->hosts.failed ? "partial" :
					  "ok",
			"status --refresh");
	if (err < 0) {
		r->error = kr_xstrdup(kr_error_last());
		kr_event_say(
			&e->o->events, KR_EVENT_ERROR, NULL, "%s", r->error);
		return r->outcome = KR_OUTCOME_FAILED;
	}
	if (kr_engine_cancelled(e->o))
		return kr_engine_cancel(e);
	return r->outcome = kr_engine_hosts_outcome(&r->hosts);
}

int
kr_engine_diff(struct engine *e, struct kr_plan **out, const struct kr_hosts *h)
{
	const struct kr_engine_opts *o = e->o;
	const struct kr_desired *d = e->out->loaded.desired;
	struct kr_diff_opts dopts = { 0 };
	struct kr_image_lookup *images = NULL;
	size_t nimages = 0, bad;
	int err;

	*out = NULL;
	bad = kr_images_resolve(
		&images, &nimages, d, h, &o->events, !o->no_digest_check);
	e->out->registry_errors += bad;
	if (bad) {
		kr_images_free(images, nimages);
		kr_error_set(KR_EREGISTRY,
			"%zu image%s could not be looked "
			"up in the registry",
			bad, bad == 1 ? "" : "s");
		return KR_EREGISTRY;
	}
	dopts.now = time(NULL);
	dopts.prune = e->have_saved ? e->saved.prune : o->prune || d->prune;
	dopts.no_digest_check = o->no_digest_check;
	dopts.images = images;
	dopts.nimages = nimages;
	err = kr_diff_build(out, d, h->hosts, h->n, &dopts);
	kr_images_free(images, nimages);
	return err;
}

static enum kr_engine_outcome
run_plan(struct engine *e)
{
	struct kr_engine_result *r = e->out;
	struct kr_plan_summary sum;
	const char *status;
	char summary[160];
	int err;

	if (kr_engine_observe(e, &r->hosts, NULL) < 0)
		return kr_engine_fail(e, "%s", kr_error_last());
	if (kr_engine_cancelled(e->o))
		return kr_engine_cancel(e);
	if ((err = kr_engine_diff(e, &r->plan, &r->hosts)) < 0)
		return kr_engine_fail(e, "cannot plan: %s", kr_error_last());
	kr_plan_summarize(&sum, r->plan);
	snprintf(summary, sizeof(summary),
		"Plan: %zu to add, %zu to change, %zu to destroy; %zu waiting; "
		"%zu host(s) not observed",
		sum.add, sum.change, sum.destroy, sum.waiting, r->hosts.failed);
	if (r->hosts.failed && r->hosts.failed == r->loaded.desired->nhosts)
		r->outcome = KR_OUTCOME_FAILED;
	else if (r->hosts.failed)
		r->outcome = KR_OUTCOME_PARTIAL;
	else if (kr_plan_has_changes(r->plan))
		r->outcome = KR_OUTCOME_CHANGES;
	else
		r->outcome = KR_OUTCOME_OK;
	status = r->outcome == KR_OUTCOME_FAILED  ? "failed" :
		 r->outcome == KR_OUTCOME_PARTIAL ? "partial" :
		 r->outcome == KR_OUTCOME_CHANGES ? "changes" :
						    "ok";
	kr_engine_end(e, status, summary);
	return r->outcome;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum kr_run_kind
default_kind(enum kr_engine_op op)
{
	switch (op) {
	case KR_OP_PLAN:
		return KR_RUN_PLAN;
	case KR_OP_APPLY:
		return KR_RUN_APPLY;
	case KR_OP_REFRESH:
	case KR_OP_STATUS:
		break;
	}
	return KR_RUN_REFRESH;
}

enum kr_engine_outcome
kr_engine_run(struct kr_engine_result *out, const struct kr_engine_opts *o)
{
	struct engine e;
	long long t0 = now_ms();

	memset(out, 0, sizeof(*out));
	memset(&e, 0, sizeof(e));
	e.o = o;
	e.out = out;
	e.kind = o->run_kind ? o->run_kind : default_kind(o->op);
	out->outcome = KR_OUTCOME_FAILED;
	if (o->op == KR_OP_APPLY && o->saved_plan) {
		if (kr_plan_identity_read(
			    &e.saved, o->saved_plan, o->saved_plan_len) < 0) {
			kr_engine_fail(&e, "%s", kr_error_last());
			goto out;
		}
		e.have_saved = true;
	}
	if (load(&e) < 0 || begin(&e) < 0)
		goto out;
	if (kr_engine_cancelled(o)) {
		kr_engine_cancel(&e);
		goto out;
	}
	switch (o->op) {
	case KR_OP_REFRESH:
		run_refresh(&e);
		break;
	case KR_OP_STATUS:
		run_status(&e);
		break;
	case KR_OP_PLAN:
		run_plan(&e);
		break;
	case KR_OP_APPLY:
		kr_engine_apply(&e);
		break;
	}
out:
	out->duration_ms = now_ms() - t0;
	/* the history keeps the plan the run made and how long it took */
	if (e.store && out->run) {
		struct kr_buf json = KR_BUF_INIT;

		if (out->plan &&
			kr_plan_render_json(&json, out->plan, 0) == 0 &&
			kr_store_run_set_plan(e.store, out->run, json.ptr) < 0)
			kr_event_say(&o->events, KR_EVENT_ERROR, NULL, "%s",
				kr_error_last());
		kr_store_run_set_duration(e.store, out->run, out->duration_ms);
		kr_buf_release(&json);
	}
	if (e.have_saved)
		kr_plan_identity_release(&e.saved);
	kr_store_close(e.store);
	return out->outcome;
}

void
kr_engine_result_release(struct kr_engine_result *r)
{
	if (!r)
		return;
	kr_loaded_release(&r->loaded);
	kr_diags_release(&r->diags);
	kr_hosts_release(&r->hosts);
	kr_hosts_release(&r->after);
	kr_plan_free(r->plan);
	kr_plan_free(r->plan2);
	kr_apply_result_release(&r->applied);
	free(r->connections);
	free(r->error);
	free(r->store_path);
	memset(r, 0, sizeof(*r));
}
