/*
 * The engine's apply (see engine.h): plan afresh (or check a saved plan
 * against a fresh one), ask, take Kamal's deploy lock, plan again inside
 * the lock when it had to be waited for, carry out every host's changes in
 * parallel (apply.h: one exec per host, each action journaled), release
 * the lock, read the hosts again and tell whether they now match. All of
 * it over one SSH connection per host, opened by the first observe.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "drivers/docker.h"
#include "reconciler/engine_int.h"

/* The state of one apply, beside the run's. */
struct apply_run {
	struct engine *e;
	struct kr_hostconns cc;
	bool conns_ready;
	struct kr_transport *lock_t; /* the run's connection to the lock host */
	bool locked;
	unsigned attempts; /* lock attempts */
};

/* Apply's hosts get the run's connection (opened by the observe). */
static int
apply_connect(struct kr_transport **out, const char *host, void *arg)
{
	return kr_hostconns_get(out, arg, host);
}

/* The connection stays open for the second observe and the lock. */
static void
apply_disconnect(struct kr_transport *t, void *arg)
{
	(void)t;
	(void)arg;
}

static void
apply_progress(const struct kr_apply_event *ae, void *arg)
{
	const struct kr_engine_opts *o = arg;
	struct kr_event ev = {
		.kind = KR_EVENT_APPLY, .host = ae->host, .apply = ae
	};

	kr_event_send(&o->events, &ev);
}

/*
 * Hosts no longer configured that apply acted on: the shared observe step
 * reads only configured hosts (a removed one comes from its last
 * snapshot), so read these again here and store what they show now, or the
 * next plan would plan their removals again from the old snapshot.
 */
static void
reobserve_removed(struct apply_run *a)
{
	struct kr_engine_result *r = a->e->out;
	const struct kr_desired *d = r->loaded.desired;
	struct kr_hosts *after = &r->after;
	size_t i, j;

	for (i = d->nhosts; i < after->n; i++) {
		struct kr_docker_scope_buf sb;
		struct kr_observe_job job;
		const char *name = after->hosts[i].name;
		bool acted = false;
		char *json;

		for (j = 0; j < r->applied.nhosts; j++)
			if (strcmp(r->applied.hosts[j].name, name) == 0 &&
				(r->applied.hosts[j].state ==
						KR_APPLY_HOST_OK ||
					r->applied.hosts[j].state ==
						KR_APPLY_HOST_FAILED))
				acted = true;
		if (!acted)
			continue;
		memset(&job, 0, sizeof(job));
		kr_docker_scope_from_desired(&sb, d, NULL);
		kr_ssh_settings_for_host(&job.opts, &a->cc.ssh, name,
			d->nhosts ? d->hosts[0].user : "root", 22);
		job.scope = &sb.scope;
		job.conns = &a->cc.conns; /* apply's connection to it */
		kr_docker_observe_all(&job, 1, 1, NULL, NULL);
		json = kr_observed_host_dump(&job.result);
		if (kr_store_snapshot_add(a->e->store, r->run, job.result.name,
			    job.result.status, job.result.error,
			    job.result.status == KR_OBS_OK ?
				    job.result.fingerprint :
				    NULL,
			    json, job.result.observed_at) < 0)
			kr_event_say(&a->e->o->events, KR_EVENT_ERROR, NULL,
				"%s", kr_error_last());
		free(json);
		kr_observed_host_release(&after->hosts[i]);
		after->hosts[i] = job.result;
		after->execs[i] = job.execs;
		kr_docker_scope_buf_release(&sb);
	}
}

/* Release the deploy lock, journaled. */
static int
lock_release(struct apply_run *a)
{
	struct engine *e = a->e;
	const struct kr_desired *d = e->out->loaded.desired;
	char *addr = kr_engine_lock_address(d), *msg = NULL;
	int64_t entry = 0;
	int err;

	e->out->lock_execs++;
	kr_store_journal_begin(
		&entry, e->store, e->out->run, d->lock_host, addr, "release");
	err = kr_apply_lock_release(
		a->lock_t, d->service, d->destination, NULL);
	if (err < 0)
		msg = kr_xstrdup(kr_error_last());
	if (entry)
		kr_store_journal_end(
			e->store, entry, err < 0 ? "failed" : "ok", msg);
	if (err < 0)
		kr_event_say(&e->o->events, KR_EVENT_ERROR, NULL, "%s", msg);
	else
		a->locked = false;
	free(msg);
	free(addr);
	return err;
}

/* Wait up to ms, waking early when the run is cancelled. */
static void
nap(const struct kr_engine_opts *o, int ms)
{
	while (ms > 0 && !kr_engine_cancelled(o)) {
		poll(NULL, 0, ms > 100 ? 100 : ms);
		ms -= 100;
	}
}

/*
 * Take Kamal's deploy lock on d->lock_host, journaled; with lock_wait one
 * attempt every 2 s until the deadline (a cancel ends the wait). 0 when
 * taken; otherwise the reason is sent, the run ended as failed and a
 * negative KR_E* returned.
 */
static int
lock_acquire(struct apply_run *a)
{
	struct engine *e = a->e;
	const struct kr_engine_opts *o = e->o;
	const struct kr_desired *d = e->out->loaded.desired;
	struct kr_apply_lock_opts lo = {
		.service = d->service,
		.destination = d->destination,
		.who = o->performer ? o->performer : "kreconcile",
		.version = d->version,
		.message = o->message ? o->message : "kreconcile apply",
	};
	time_t deadline = time(NULL) + o->lock_wait;
	char *addr, *holder = NULL;
	int64_t entry = 0;
	bool stale_released = false;
	int err;

	kr_hostconns_add(&a->cc, d, d->lock_host);
	if ((err = kr_hostconns_get(&a->lock_t, &a->cc, d->lock_host)) < 0) {
		kr_engine_fail(e, "cannot take the deploy lock on '%s': %s",
			d->lock_host, kr_error_last());
		return err;
	}
	addr = kr_engine_lock_address(d);
	kr_store_journal_begin(
		&entry, e->store, e->out->run, d->lock_host, addr, "acquire");
	for (;;) {
		free(holder);
		holder = NULL;
		a->attempts++;
		e->out->lock_execs++;
		err = kr_apply_lock_acquire(&holder, a->lock_t, &lo);
		if (err == KR_ELOCKED && !stale_released && o->lock_stale &&
			holder && o->lock_stale(holder, o->lock_stale_arg)) {
			/* left by a run of ours that is gone: take it over */
			stale_released = true;
			kr_event_say(&o->events, KR_EVENT_PROGRESS, NULL,
				"releasing a stale deploy lock (its holder is "
				"gone): %s",
				holder);
			e->out->lock_execs++;
			if (kr_apply_lock_release(a->lock_t, d->service,
				    d->destination, NULL) == 0)
				continue;
		}
		if (err != KR_ELOCKED || kr_engine_cancelled(o) ||
			time(NULL) + 2 > deadline)
			break;
		if (a->attempts == 1)
			kr_event_say(&o->events, KR_EVENT_PROGRESS, NULL,
				"the deploy lock is held; waiting up to %ld s",
				o->lock_wait);
		nap(o, 2000);
		if (kr_engine_cancelled(o))
			break;
	}
	if (entry)
		kr_store_journal_end(e->store, entry,
			err == 0	  ? "ok" :
			err == KR_ELOCKED ? "held" :
					    "failed",
			err == KR_ELOCKED ? holder :
			err < 0		  ? kr_error_last() :
					    NULL);
	if (err == 0) {
		a->locked = true;
	} else {
		kr_event_say(&o->events, KR_EVENT_ERROR, NULL, "%s",
			kr_error_last());
		if (holder)
			kr_event_say(
				&o->events, KR_EVENT_TEXT, NULL, "%s", holder);
		if (holder && !o->lock_wait)
			kr_event_say(&o->events, KR_EVENT_TEXT, NULL,
				"(wait for it with --lock-wait SECONDS, or, "
				"if its holder is gone, release it with "
				"'kreconcile lock release')");
		free(e->out->error);
		e->out->error = kr_xstrdup(err == KR_ELOCKED ?
						   "the deploy lock is held" :
						   kr_error_last());
		kr_engine_end(e, "failed", "locked");
		e->out->outcome = KR_OUTCOME_FAILED;
	}
	free(holder);
	free(addr);
	return err;
}

/* The identity of what a plan would do on which observed hosts. */
static bool
same_plan(const struct kr_plan *a, const struct kr_plan *b)
{
	struct kr_plan_identity ia, ib;
	bool same;

	kr_plan_identity(&ia, a);
	kr_plan_identity(&ib, b);
	same = kr_plan_identity_check(&ia, b) == 0 &&
	       kr_plan_identity_check(&ib, a) == 0;
	kr_plan_identity_release(&ia);
	kr_plan_identity_release(&ib);
	return same;
}

/*
 * The lock was waited for: someone else may have changed the hosts
 * meanwhile, so read them and plan again, inside the lock. 1: carry on
 * with r->plan (replaced when it changed); 0: nothing is left to do; a
 * negative KR_E*: stop (reported).
 */
static int
replan_in_lock(struct apply_run *a)
{
	struct engine *e = a->e;
	struct kr_engine_result *r = e->out;
	struct kr_hosts fresh = { 0 };
	struct kr_plan *plan = NULL;
	struct kr_event ev = { .kind = KR_EVENT_PLAN };
	int err;

	if (kr_engine_observe(e, &fresh, &a->cc) < 0 ||
		(err = kr_engine_diff(e, &plan, &fresh)) < 0) {
		kr_hosts_release(&fresh);
		kr_engine_fail(e,
			"cannot plan again after waiting for the "
			"deploy lock: %s",
			kr_error_last());
		return KR_ERROR;
	}
	if (same_plan(r->plan, plan)) {
		kr_plan_free(plan);
		kr_hosts_release(&fresh);
		return 1;
	}
	r->replanned = true;
	if (e->have_saved || e->o->confirm) {
		/* what was saved or confirmed is not what would run now */
		kr_plan_free(plan);
		kr_hosts_release(&fresh);
		kr_engine_fail(e,
			"the hosts changed while waiting for the "
			"deploy lock; nothing applied: run 'kreconcile %s' "
			"again",
			e->have_saved ? "plan" : "apply");
		return KR_ERROR;
	}
	kr_event_say(&e->o->events, KR_EVENT_PROGRESS, NULL,
		"the hosts changed while waiting for the deploy lock; "
		"planned again");
	kr_plan_free(r->plan);
	r->plan = plan;
	kr_hosts_release(&r->hosts);
	r->hosts = fresh;
	ev.plan = plan;
	kr_event_send(&e->o->events, &ev);
	return kr_plan_has_changes(plan) ? 1 : 0;
}

/* No changes to make: the outcome from the hosts and images. */
static enum kr_engine_outcome
nothing_to_do(struct engine *e)
{
	struct kr_engine_result *r = e->out;
	struct kr_plan_summary sum;

	r->outcome = kr_engine_hosts_outcome(&r->hosts);
	/* a version whose image is not pushed yet is no success */
	kr_plan_summarize(&sum, r->plan);
	if (sum.waiting) {
		kr_event_say(&e->o->events, KR_EVENT_ERROR, NULL,
			"%zu change%s wait%s for an image the registry does "
			"not have yet; nothing applied",
			sum.waiting, sum.waiting == 1 ? "" : "s",
			sum.waiting == 1 ? "s" : "");
		r->outcome = KR_OUTCOME_WAITING;
	}
	kr_engine_end(e, r->outcome == KR_OUTCOME_OK ? "ok" : "partial",
		"no changes");
	return r->outcome;
}

static void
run_scripts(struct apply_run *a)
{
	struct engine *e = a->e;
	const struct kr_engine_opts *o = e->o;
	struct kr_engine_result *r = e->out;
	const struct kr_desired *d = r->loaded.desired;
	struct kr_apply_opts ao = { 0 };
	long long maxp = r->loaded.config->sshkit_max_concurrent_starts;
	size_t i;

	/* every host apply may touch has its slot before the threads */
	for (i = 0; i < r->plan->nhosts; i++)
		kr_hostconns_add(&a->cc, d, r->plan->hosts[i].name);
	/* a cancel lets the scripts in flight finish; a deadline does not */
	a->cc.conns.cancel = NULL;
	a->cc.conns.timeout = o->apply_timeout > 0 ?
				      o->apply_timeout :
			      r->loaded.config->timeout_apply > 0 ?
				      (int)r->loaded.config->timeout_apply :
				      KR_APPLY_TIMEOUT;
	ao.desired = d;
	ao.plan = r->plan;
	ao.store = e->store;
	ao.run = r->run;
	ao.connect = apply_connect;
	ao.disconnect = apply_disconnect;
	ao.connect_arg = &a->cc;
	ao.max_parallel = maxp > 0 && maxp < 1000 ? (unsigned)maxp : 0;
	ao.performer = o->performer;
	ao.interrupted = o->cancel;
	ao.progress = apply_progress;
	ao.progress_arg = (void *)o;
	if (kr_apply_run(&r->applied, &ao) < 0) {
		kr_engine_fail(e, "%s", kr_error_last());
		return;
	}
	r->apply_ran = true;
	for (i = 0; i < r->applied.nhosts; i++)
		if (r->applied.hosts[i].state == KR_APPLY_HOST_FAILED ||
			r->applied.hosts[i].state == KR_APPLY_HOST_SKIPPED)
			kr_event_say(&o->events, KR_EVENT_ERROR,
				r->applied.hosts[i].name, "host %s: %s",
				r->applied.hosts[i].name,
				r->applied.hosts[i].error ?
					r->applied.hosts[i].error :
					"failed");
}

/* After the scripts: release, read again, diff again, the outcome. */
static void
finish(struct apply_run *a)
{
	struct engine *e = a->e;
	struct kr_engine_result *r = e->out;
	const struct kr_apply_result *res = &r->applied;
	bool matched;
	char summary[256];

	/* Release first, then read the hosts: the snapshot the store keeps
	 * (what 'status' shows) must not say the lock is still ours. */
	if (a->locked)
		lock_release(a);
	if (kr_engine_observe(e, &r->after, &a->cc) == 0) {
		reobserve_removed(a);
		if (kr_engine_diff(e, &r->plan2, &r->after) < 0)
			r->plan2 = NULL;
	}
	matched = r->plan2 && !r->after.failed && kr_engine_plan_done(r->plan2);
	if (res->hosts_failed + res->hosts_skipped == 0 && r->plan2 &&
		!r->after.failed)
		/* every host that ran did its part: done if nothing is left
		 * (also when a cancel came after the last host started) */
		r->outcome = matched ? KR_OUTCOME_OK :
			     res->interrupted && res->hosts_ok ?
				       KR_OUTCOME_PARTIAL :
				       KR_OUTCOME_FAILED;
	else if (res->hosts_ok > 0)
		r->outcome = KR_OUTCOME_PARTIAL;
	else
		r->outcome = KR_OUTCOME_FAILED;
	snprintf(summary, sizeof(summary),
		"Apply: %zu added, %zu changed, "
		"%zu destroyed; %zu host(s) failed%s",
		res->added, res->changed, res->destroyed,
		res->hosts_failed + res->hosts_skipped,
		res->interrupted ? "; interrupted" : "");
	kr_engine_end(e,
		r->outcome == KR_OUTCOME_OK	 ? "ok" :
		r->outcome == KR_OUTCOME_PARTIAL ? "partial" :
						   "failed",
		summary);
}

enum kr_engine_outcome
kr_engine_apply(struct engine *e)
{
	const struct kr_engine_opts *o = e->o;
	struct kr_engine_result *r = e->out;
	const struct kr_desired *d = r->loaded.desired;
	struct apply_run a = { .e = e };
	struct kr_event ev = { .kind = KR_EVENT_PLAN };
	size_t i;
	int err;

	/* one connection per host for the whole run, opened by the observe */
	if (kr_hostconns_init(&a.cc, &o->events, &r->loaded,
		    o->accept_new_host_keys) < 0) {
		kr_engine_fail(e, "%s", kr_error_last());
		goto out;
	}
	a.conns_ready = true;
	a.cc.store = e->store;
	a.cc.run = r->run;
	if (kr_engine_observe(e, &r->hosts, &a.cc) < 0) {
		kr_engine_fail(e, "%s", kr_error_last());
		goto out;
	}
	if (kr_engine_cancelled(o)) {
		kr_engine_cancel(e);
		goto out;
	}
	if (kr_engine_diff(e, &r->plan, &r->hosts) < 0) {
		kr_engine_fail(e, "cannot apply: %s", kr_error_last());
		goto out;
	}
	if (e->have_saved && kr_plan_identity_check(&e->saved, r->plan) < 0) {
		kr_engine_fail(
			e, "%s; run 'kreconcile plan' again", kr_error_last());
		goto out;
	}
	ev.plan = r->plan;
	kr_event_send(&o->events, &ev);
	if (!kr_plan_has_changes(r->plan)) {
		nothing_to_do(e);
		goto out;
	}
	if (kr_engine_cancelled(o)) {
		kr_engine_cancel(e);
		goto out;
	}
	if (o->confirm && !o->confirm(r->plan, o->confirm_arg)) {
		free(r->error);
		r->error = kr_xstrdup("not confirmed");
		kr_engine_end(e, "cancelled", "not confirmed");
		r->outcome = KR_OUTCOME_CANCELLED;
		goto out;
	}
	if (kr_engine_cancelled(o)) {
		kr_engine_cancel(e);
		goto out;
	}

	/* Kamal's deploy lock, on the primary role's first host */
	if (d->lock_host) {
		struct kr_event lev = { .kind = KR_EVENT_LOCKING,
			.host = d->lock_host };

		kr_event_send(&o->events, &lev);
		if (lock_acquire(&a) < 0)
			goto out;
		if (a.attempts > 1 && (err = replan_in_lock(&a)) <= 0) {
			if (err == 0)
				nothing_to_do(e);
			goto out;
		}
	}
	run_scripts(&a);
	if (!r->apply_ran)
		goto out;
	finish(&a);
out:
	if (a.locked)
		lock_release(&a);
	if (a.conns_ready && d) {
		r->connections = kr_xcalloc(
			d->nhosts ? d->nhosts : 1, sizeof(*r->connections));
		for (i = 0; i < d->nhosts; i++)
			r->connections[i] =
				kr_hostconns_opened(&a.cc, d->hosts[i].name);
	}
	/* the lock host's connection is the run's: closed here */
	if (a.conns_ready)
		kr_hostconns_release(&a.cc);
	return r->outcome;
}
