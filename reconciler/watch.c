/*
 * The watcher's loop (see watch.h): git polls, deploys of new commits,
 * retries with backoff, drift checks, each through the engine, and the
 * settings from x-kreconcile.watch.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "drivers/git.h"
#include "reconciler/load.h"
#include "reconciler/status.h"
#include "reconciler/watch_int.h"
#include "state/store.h"

int
kr_watch_duration(const char *s)
{
	char *end;
	long v;
	long mul = 1;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || v < 0)
		return -1;
	if (*end == 's')
		mul = 1;
	else if (*end == 'm')
		mul = 60;
	else if (*end == 'h')
		mul = 3600;
	else if (*end == 'd')
		mul = 86400;
	else if (*end)
		return -1;
	if (*end && end[1])
		return -1;
	if (v > INT_MAX / mul)
		return -1;
	return (int)(v * mul);
}

static void say(struct kr_watch *w, enum kr_event_kind kind, const char *fmt,
	...) __attribute__((format(printf, 3, 4)));

static void
say(struct kr_watch *w, enum kr_event_kind kind, const char *fmt, ...)
{
	struct kr_buf b = KR_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	kr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	kr_event_say(&w->o.events, kind, NULL, "%s", b.ptr);
	kr_buf_release(&b);
}

void
kr_watch_poke(struct kr_watch *w, enum kr_watch_poke what)
{
	char c = 'p';
	ssize_t n;

	switch (what) {
	case KR_WATCH_POKE_POLL:
		w->want_poll = 1;
		break;
	case KR_WATCH_POKE_RECONCILE:
		w->want_reconcile = 1;
		break;
	case KR_WATCH_POKE_RELOAD:
		w->want_reload = 1;
		break;
	}
	n = write(w->wake[1], &c, 1); /* full pipe: a wake-up is pending */
	(void)n;
}

void
kr_watch_stop(struct kr_watch *w)
{
	char c = 's';
	ssize_t n;

	w->stop = 1;
	n = write(w->wake[1], &c, 1);
	(void)n;
}

/* "abc1234" of a commit, for messages. */
static const char *
short_sha(const char *sha, char buf[16])
{
	snprintf(buf, 16, "%.7s", sha ? sha : "none");
	return buf;
}

static const char *
dest_label(const struct watch_dest *d)
{
	return d->name ? d->name : "(no destination)";
}

/* Where the watcher keeps its mirror and work tree: beside the store. */
static char *
state_dir(const char *state_path)
{
	const char *slash = strrchr(state_path, '/');

	if (!slash)
		return kr_xstrdup(".");
	if (slash == state_path)
		return kr_xstrdup("/");
	return kr_xstrndup(state_path, (size_t)(slash - state_path));
}

static int
mkdir_p(const char *dir)
{
	char *p = kr_xstrdup(dir), *s;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			break;
		*s = '/';
	}
	free(p);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		kr_error_set(
			KR_EIO, "cannot create '%s': %s", dir, strerror(errno));
		return KR_EIO;
	}
	return 0;
}

/* One watcher per state database: an flock held for the process's life,
 * with its PID in the file for the message a second one gets. */
static int
take_lock(struct kr_watch *w)
{
	char pid[32] = "";
	ssize_t n;
	int fd = open(w->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		kr_error_set(KR_EIO, "cannot open '%s': %s", w->lock_path,
			strerror(errno));
		return KR_EIO;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		n = read(fd, pid, sizeof(pid) - 1);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		close(fd);
		kr_error_set(KR_ELOCKED,
			"another watcher (PID %s) already "
			"watches with the state database '%s'; stop it first",
			*pid ? pid : "?", w->o.state_path);
		return KR_ELOCKED;
	}
	if (ftruncate(fd, 0) == 0) {
		n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
		if (write(fd, pid, (size_t)n) != n)
			n = 0;
	}
	w->lock_fd = fd;
	return 0;
}

/* x-kreconcile.watch from a loaded configuration, where the caller gave
 * nothing. */
static void
apply_settings(struct kr_watch *w, const struct kr_config *c)
{
	const struct kr_config_watch *cw = &c->watch;
	int v;

	if (!(w->o.set & KR_WATCH_SET_INTERVAL) &&
		(v = kr_watch_duration(cw->interval)) > 0)
		w->o.interval = v;
	if (!(w->o.set & KR_WATCH_SET_DRIFT) &&
		(v = kr_watch_duration(cw->drift_interval)) > 0)
		w->o.drift_interval = v;
	if (!(w->o.set & KR_WATCH_SET_IMAGE_WAIT) &&
		(v = kr_watch_duration(cw->image_wait)) > 0)
		w->o.image_wait = v;
	if (!(w->o.set & KR_WATCH_SET_BACKOFF) &&
		(v = kr_watch_duration(cw->backoff_max)) > 0)
		w->o.backoff_max = v;
	if (!(w->o.set & KR_WATCH_SET_SELF_HEAL) && cw->pos.file &&
		cw->self_heal != KR_TRI_UNSET)
		w->o.self_heal = cw->self_heal == KR_TRI_TRUE;
	if (!(w->o.set & KR_WATCH_SET_RETENTION) && cw->retention > 0)
		w->o.retention = (size_t)cw->retention;
}

/*
 * A repository URL for logs, metrics, the status page and notifications:
 * "scheme://user:token@host/..." loses its user info (a token may be
 * there); scp-like "git@host:path" and paths are shown as they are.
 */
static char *
shown_url(const char *url)
{
	const char *s = strstr(url, "://"), *host, *at, *end;

	if (!s)
		return kr_xstrdup(url);
	host = s + 3;
	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	if (!at)
		return kr_xstrdup(url);
	return kr_xasprintf("%.*s%s", (int)(host - url), url, at + 1);
}

int
kr_watch_new(struct kr_watch **out, const struct kr_watch_opts *o)
{
	struct kr_watch *w = kr_xcalloc(1, sizeof(*w));
	char *dir = NULL;
	size_t i;
	int err;

	w->o = *o;
	w->lock_fd = -1;
	{
		char host[256] = "";

		gethostname(host, sizeof(host) - 1);
		w->lock_message = kr_xasprintf("kreconcile watch pid=%ld "
					       "host=%s",
			(long)getpid(), *host ? host : "localhost");
	}
	w->wake[0] = w->wake[1] = -1;
	pthread_mutex_init(&w->mu, NULL);
	if (!w->o.interval)
		w->o.interval = 60;
	if (!w->o.drift_interval)
		w->o.drift_interval = 300;
	if (!w->o.image_wait)
		w->o.image_wait = 600;
	if (!w->o.backoff_max)
		w->o.backoff_max = 600;
	if (!w->o.retention)
		w->o.retention = 1000;
	if (!w->o.config_rel)
		w->o.config_rel = "config/deploy.yml";
	if (!w->o.path)
		w->o.path = "";
	if (!o->state_path) {
		err = KR_EINVAL;
		kr_error_set(err, "watch needs a state database path");
		goto fail;
	}
	dir = state_dir(o->state_path);
	if ((err = mkdir_p(dir)) < 0)
		goto fail;
	{
		/* git runs in the mirror: every path it is given is absolute */
		char *abs = realpath(dir, NULL);

		if (!abs) {
			err = KR_EIO;
			kr_error_set(err, "cannot resolve '%s': %s", dir,
				strerror(errno));
			goto fail;
		}
		free(dir);
		dir = abs;
	}
	{
		const char *base = strrchr(o->state_path, '/');

		w->state_abs = kr_xasprintf(
			"%s/%s", dir, base ? base + 1 : o->state_path);
		w->o.state_path = w->state_abs;
	}
	w->lock_path = kr_xasprintf("%s.watch.lock", o->state_path);
	w->mirror = kr_xasprintf("%s/watch-mirror.git", dir);
	w->tree = kr_xasprintf("%s/watch-tree", dir);
	if ((err = take_lock(w)) < 0)
		goto fail;
	if (o->repo) {
		w->url = kr_xstrdup(o->repo);
		w->branch = kr_xstrdup(o->branch ? o->branch : "main");
	} else {
		char *url = NULL, *branch = NULL;

		if ((err = kr_git_upstream(&url, &branch,
			     o->checkout_dir ? o->checkout_dir : ".")) < 0)
			goto fail;
		w->url = url;
		w->branch = o->branch ? (free(branch), kr_xstrdup(o->branch)) :
					branch;
	}
	w->url_shown = shown_url(w->url);
	{
		/* a wrong --repo or --branch is said at once, not retried */
		char *head = NULL;

		if ((err = kr_git_remote_head(&head, w->url, w->branch)) < 0) {
			kr_error_set(err,
				"cannot watch branch '%s' of '%s': %s "
				"(check --repo, --branch and git's access to "
				"it)",
				w->branch, w->url_shown, kr_error_last());
			goto fail;
		}
		free(head);
	}
	if (pipe(w->wake) != 0 || fcntl(w->wake[0], F_SETFL, O_NONBLOCK) != 0 ||
		fcntl(w->wake[1], F_SETFL, O_NONBLOCK) != 0 ||
		fcntl(w->wake[0], F_SETFD, FD_CLOEXEC) != 0 ||
		fcntl(w->wake[1], F_SETFD, FD_CLOEXEC) != 0) {
		err = KR_EIO;
		kr_error_set(err, "cannot make a pipe: %s", strerror(errno));
		goto fail;
	}
	w->ndests = o->ndestinations ? o->ndestinations : 1;
	w->dests = kr_xcalloc(w->ndests, sizeof(*w->dests));
	for (i = 0; i < o->ndestinations; i++)
		w->dests[i].name = kr_xstrdup(o->destinations[i]);
	if (o->listen && (err = kr_http_start(
				  &w->http, o->listen, kr_watch_http, w)) < 0)
		goto fail;
	if ((err = kr_watch_notifier_start(w)) < 0)
		goto fail;
	free(dir);
	*out = w;
	return 0;
fail:
	free(dir);
	kr_watch_free(w);
	return err;
}

void
kr_watch_free(struct kr_watch *w)
{
	size_t i;

	if (!w)
		return;
	kr_http_stop(w->http);
	kr_watch_notifier_stop(w);
	for (i = 0; i < w->ndests; i++) {
		free(w->dests[i].name);
		free(w->dests[i].applied);
		free(w->dests[i].failed);
		json_decref(w->dests[i].status);
	}
	free(w->dests);
	if (w->lock_fd >= 0) {
		if (ftruncate(w->lock_fd, 0) != 0)
			(void)0;
		close(w->lock_fd);
	}
	if (w->wake[0] >= 0)
		close(w->wake[0]);
	if (w->wake[1] >= 0)
		close(w->wake[1]);
	pthread_mutex_destroy(&w->mu);
	free(w->url);
	free(w->url_shown);
	free(w->branch);
	free(w->mirror);
	free(w->tree);
	free(w->tree_commit);
	free(w->lock_path);
	free(w->state_abs);
	free(w->lock_message);
	free(w->seen);
	free(w);
}

/* A run that failed before the engine could record it (the checkout, an
 * invalid config): it goes in the history like any other. */
static void
record_failed_run(struct kr_watch *w, const struct watch_dest *d,
	const char *trigger, const char *commit, const char *why)
{
	struct kr_store *s = NULL;
	int64_t run = 0;

	if (kr_store_open(&s, w->o.state_path) == 0) {
		kr_store_set_secrets(s, NULL);
		if (kr_store_run_begin(&run, s, KR_RUN_WATCH, 0) == 0) {
			kr_store_run_describe(s, run, trigger, commit, d->name);
			kr_store_run_end(s, run, "failed", why);
		}
	}
	kr_store_close(s);
}

static void
record_failure(struct kr_watch *w, const struct watch_dest *d,
	const char *trigger, const char *commit, const char *why)
{
	record_failed_run(w, d, trigger, commit, why);
	kr_watch_count_run(w, trigger, "failed", 0);
}

/* Keep the history within its retention. */
static void
prune(struct kr_watch *w)
{
	struct kr_store *s = NULL;

	if (kr_store_open(&s, w->o.state_path) == 0) {
		kr_store_set_secrets(s, NULL);
		if (kr_store_runs_prune(s, NULL, w->o.retention) < 0)
			say(w, KR_EVENT_ERROR, "%s", kr_error_last());
	}
	kr_store_close(s);
}

/* Check commit out into the private work tree (once per commit). */
static int
checkout(struct kr_watch *w, const char *commit)
{
	int err;

	if (w->tree_commit && strcmp(w->tree_commit, commit) == 0)
		return 0;
	free(w->tree_commit);
	w->tree_commit = NULL;
	if ((err = kr_git_checkout(
		     w->mirror, w->tree, w->url, w->branch, commit)) < 0) {
		pthread_mutex_lock(&w->mu);
		w->m.git_errors++;
		pthread_mutex_unlock(&w->mu);
		return err;
	}
	w->tree_commit = kr_xstrdup(commit);
	return 0;
}

static const char *
outcome_name(enum kr_engine_outcome oc)
{
	switch (oc) {
	case KR_OUTCOME_OK:
		return "ok";
	case KR_OUTCOME_CHANGES:
		return "changes";
	case KR_OUTCOME_PARTIAL:
		return "partial";
	case KR_OUTCOME_FAILED:
		break;
	case KR_OUTCOME_WAITING:
		return "waiting";
	case KR_OUTCOME_CANCELLED:
		return "cancelled";
	}
	return "failed";
}

/*
 * A deploy lock whose message is a watcher's of this machine
 * ("kreconcile watch pid=N host=H") and whose process is gone: left by a
 * watcher that was killed, safe to take over.
 */
static bool
lock_stale(const char *holder, void *arg)
{
	struct kr_watch *w = arg;
	const char *m = strstr(holder, "kreconcile watch pid=");
	char host[256] = "", theirs[256] = "";
	long pid = 0;

	(void)w;
	if (!m ||
		sscanf(m, "kreconcile watch pid=%ld host=%255s", &pid,
			theirs) != 2 ||
		pid <= 0)
		return false;
	gethostname(host, sizeof(host) - 1);
	if (strcmp(host, theirs) != 0 || pid == (long)getpid())
		return false;
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Run the engine on the work tree's config for one destination. */
static enum kr_engine_outcome
engine_run(struct kr_watch *w, struct watch_dest *d, enum kr_engine_op op,
	const char *trigger, const char *commit, struct kr_engine_result *r)
{
	struct kr_engine_opts eo = {
		.op = op, .refresh = true, .include_removed = true
	};
	char *project = kr_xasprintf(
		"%s%s%s", w->tree, *w->o.path ? "/" : "", w->o.path);
	enum kr_engine_outcome oc;
	int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t i;

	/* Kamal runs in the project's directory: the secrets file, accessory
	 * files and ERB's File.read are relative to it */
	if (here < 0 || chdir(project) != 0) {
		memset(r, 0, sizeof(*r));
		r->outcome = KR_OUTCOME_FAILED;
		r->error = kr_xasprintf(
			"cannot enter '%s': %s", project, strerror(errno));
		say(w, KR_EVENT_ERROR, "watch: %s", r->error);
		if (here >= 0)
			close(here);
		free(project);
		return KR_OUTCOME_FAILED;
	}
	eo.src.config = w->o.config_rel;
	eo.src.destination = d->name;
	eo.src.app_version = w->o.app_version ? w->o.app_version : commit;
	eo.src.state_path = w->o.state_path;
	eo.trigger = trigger;
	eo.commit = commit;
	eo.accept_new_host_keys = w->o.accept_new_host_keys;
	eo.performer = w->o.performer;
	eo.message = w->lock_message;
	eo.lock_stale = lock_stale;
	eo.lock_stale_arg = w;
	eo.cancel = &w->stop;
	eo.events = w->o.events;
	oc = kr_engine_run(r, &eo);
	if (fchdir(here) != 0)
		say(w, KR_EVENT_ERROR,
			"watch: cannot return to the directory "
			"it started in: %s",
			strerror(errno));
	close(here);
	free(project);
	d->attempted = true;
	if (!r->run) /* it ended before it began a run: loading failed */
		record_failed_run(w, d, trigger, commit,
			r->error ? r->error : "failed before it started");
	if (r->loaded.desired && r->hosts.hosts) {
		/* after an apply, the hosts as read again */
		json_t *st = kr_status_to_json(r->loaded.desired,
			r->after.hosts ? &r->after : &r->hosts);

		pthread_mutex_lock(&w->mu);
		json_decref(d->status);
		d->status = st;
		pthread_mutex_unlock(&w->mu);
	}
	d->hosts_unreachable = 0;
	for (i = 0; i < r->hosts.n && r->loaded.desired &&
		    i < r->loaded.desired->nhosts;
		i++)
		if (r->hosts.hosts[i].status != KR_OBS_OK)
			d->hosts_unreachable++;
	if (r->loaded.config)
		apply_settings(w, r->loaded.config);
	pthread_mutex_lock(&w->mu);
	w->m.registry_errors += r->registry_errors;
	pthread_mutex_unlock(&w->mu);
	kr_watch_count_run(
		w, trigger, outcome_name(oc), (double)r->duration_ms / 1000.0);
	prune(w);
	return oc;
}

static int
backoff(const struct kr_watch *w, int failures)
{
	long s = w->o.interval < 5 ? 5 : w->o.interval;
	int i;

	for (i = 1; i < failures && s < w->o.backoff_max; i++)
		s *= 2;
	return s > w->o.backoff_max ? w->o.backoff_max : (int)s;
}

/* Deploy commit to one destination. */
static void
deploy(struct kr_watch *w, struct watch_dest *d, const char *commit_in,
	const char *trigger)
{
	struct kr_engine_result r;
	enum kr_engine_outcome oc;
	time_t now = time(NULL);
	/* a copy: commit_in may be d->failed, which this replaces */
	char *commit = kr_xstrdup(commit_in), *why = NULL;
	char sb[16];

	say(w, KR_EVENT_PROGRESS, "watch: %s: deploying commit %s (%s)",
		dest_label(d), short_sha(commit, sb), trigger);
	if (checkout(w, commit) < 0) {
		say(w, KR_EVENT_ERROR, "watch: %s: cannot check out %s: %s",
			dest_label(d), short_sha(commit, sb), kr_error_last());
		record_failure(w, d, trigger, commit, kr_error_last());
		oc = KR_OUTCOME_FAILED;
		goto failed;
	}
	oc = engine_run(w, d, KR_OP_APPLY, trigger, commit, &r);
	why = r.error ? kr_xstrdup(r.error) : NULL;
	kr_engine_result_release(&r);
	if (oc == KR_OUTCOME_OK) {
		kr_watch_notify(
			w, "applied", d, commit, "applied; the hosts match");
		say(w, KR_EVENT_PROGRESS,
			"watch: %s: commit %s applied; "
			"hosts match",
			dest_label(d), short_sha(commit, sb));
		pthread_mutex_lock(&w->mu);
		free(d->applied);
		d->applied = kr_xstrdup(commit);
		pthread_mutex_unlock(&w->mu);
		free(d->failed);
		d->failed = NULL;
		d->failures = 0;
		d->waiting_since = 0;
		d->next_drift = now + w->o.drift_interval;
		goto out;
	}
	if (oc == KR_OUTCOME_CANCELLED && w->stop)
		goto out;
	if (oc == KR_OUTCOME_WAITING) {
		if (!d->waiting_since || !d->failed ||
			strcmp(d->failed, commit) != 0)
			d->waiting_since = now;
		if (now - d->waiting_since <= w->o.image_wait) {
			free(d->failed);
			d->failed = kr_xstrdup(commit);
			d->failures++;
			d->retry_at = now + backoff(w, d->failures);
			say(w, KR_EVENT_PROGRESS,
				"watch: %s: waiting for the "
				"image of %s; next look in %lld s",
				dest_label(d), short_sha(commit, sb),
				(long long)(d->retry_at - now));
			goto out;
		}
		say(w, KR_EVENT_ERROR,
			"watch: %s: the image of %s is still "
			"not in the registry after %d s; giving up on it until "
			"a new commit",
			dest_label(d), short_sha(commit, sb), w->o.image_wait);
		record_failure(w, d, "image-wait", commit,
			"waiting for image too long");
		kr_watch_notify(w, "image_wait_exceeded", d, commit,
			"the image is still not in the registry; waiting for "
			"a new commit");
		d->retry_at = (time_t)-1; /* only a new commit */
		free(d->failed);
		d->failed = kr_xstrdup(commit);
		goto out;
	}
failed:
	now = time(NULL);
	if (!d->failed || strcmp(d->failed, commit) != 0) {
		free(d->failed);
		d->failed = kr_xstrdup(commit);
		d->failures = 0;
	}
	d->failures++;
	d->waiting_since = 0;
	d->retry_at = now + backoff(w, d->failures);
	say(w, KR_EVENT_ERROR,
		"watch: %s: commit %s %s (attempt %d); retry "
		"in %lld s, or at once on a newer commit",
		dest_label(d), short_sha(commit, sb),
		oc == KR_OUTCOME_PARTIAL ? "applied on some hosts only" :
					   "failed",
		d->failures, (long long)(d->retry_at - now));
	if (d->failures == 1) /* once per failing commit, not per retry */
		kr_watch_notify(w, "failed", d, commit,
			why ? why :
			oc == KR_OUTCOME_PARTIAL ?
			      "applied on some hosts only" :
			      "failed");
out:
	free(why);
	free(commit);
}

/* Every drift interval: plan against the last applied commit and, with
 * self-heal, apply what drifted. */
static void
drift(struct kr_watch *w, struct watch_dest *d, const char *trigger)
{
	struct kr_engine_result r;
	enum kr_engine_outcome oc;
	struct kr_plan_summary sum = { 0 };
	char sb[16];

	d->next_drift = time(NULL) + w->o.drift_interval;
	if (!d->applied)
		return;
	if (checkout(w, d->applied) < 0) {
		say(w, KR_EVENT_ERROR, "watch: %s: cannot check out %s: %s",
			dest_label(d), short_sha(d->applied, sb),
			kr_error_last());
		record_failure(w, d, trigger, d->applied, kr_error_last());
		return;
	}
	oc = engine_run(w, d, w->o.self_heal ? KR_OP_APPLY : KR_OP_PLAN,
		trigger, d->applied, &r);
	if (r.plan)
		kr_plan_summarize(&sum, r.plan);
	if (r.plan && kr_plan_has_changes(r.plan)) {
		pthread_mutex_lock(&w->mu);
		w->m.drift_detected++;
		d->drift_found++;
		if (w->o.self_heal && oc == KR_OUTCOME_OK) {
			w->m.drift_repaired++;
			d->drift_repaired++;
		}
		pthread_mutex_unlock(&w->mu);
		if (!w->o.self_heal)
			say(w, KR_EVENT_ERROR,
				"watch: %s: drift: %zu to add, "
				"%zu to change, %zu to destroy; not repaired "
				"(self-heal is off)",
				dest_label(d), sum.add, sum.change,
				sum.destroy);
		else if (oc == KR_OUTCOME_OK)
			say(w, KR_EVENT_PROGRESS,
				"watch: %s: drift repaired: "
				"%zu added, %zu changed, %zu destroyed",
				dest_label(d), r.applied.added,
				r.applied.changed, r.applied.destroyed);
		else
			say(w, KR_EVENT_ERROR,
				"watch: %s: drift found; the "
				"repair failed: %s",
				dest_label(d),
				r.error ? r.error : outcome_name(oc));
		kr_watch_notify(w,
			!w->o.self_heal	    ? "drift" :
			oc == KR_OUTCOME_OK ? "drift_repaired" :
					      "failed",
			d, d->applied,
			!w->o.self_heal	    ? "the hosts differ from "
					      "the last applied commit; not "
					      "repaired (self-heal is "
					      "off)" :
			oc == KR_OUTCOME_OK ? "drift found and "
					      "repaired" :
					      "drift found; the repair failed");
	}
	kr_engine_result_release(&r);
}

/* The seconds until t (0 when due; INT_MAX for never). */
static long long
until(time_t t, time_t now)
{
	if (t == (time_t)-1 || t == 0)
		return LLONG_MAX;
	return t > now ? (long long)(t - now) : 0;
}

/* Look at the branch's head; NULL when git failed (reported). */
static char *
poll_git(struct kr_watch *w)
{
	char *head = NULL;

	if (kr_git_remote_head(&head, w->url, w->branch) < 0) {
		say(w, KR_EVENT_ERROR, "watch: cannot read '%s' of '%s': %s",
			w->branch, w->url_shown, kr_error_last());
		pthread_mutex_lock(&w->mu);
		w->m.git_errors++;
		pthread_mutex_unlock(&w->mu);
		return NULL;
	}
	pthread_mutex_lock(&w->mu);
	w->polled = true;
	w->m.last_poll = time(NULL);
	if (!w->seen || strcmp(w->seen, head) != 0) {
		free(w->seen);
		w->seen = kr_xstrdup(head);
	}
	pthread_mutex_unlock(&w->mu);
	return head;
}

/* SIGHUP: the watch settings of the config at the tree, read again. */
static void
reload(struct kr_watch *w)
{
	struct kr_config *c = NULL;
	struct kr_diags diags = { 0 };
	struct kr_config_load_opts lo = { .partial = true };
	char *config;

	if (!w->tree_commit) {
		say(w, KR_EVENT_PROGRESS,
			"watch: reload: nothing checked out "
			"yet; settings are read with the first commit");
		return;
	}
	config = kr_xasprintf("%s%s%s/%s", w->tree, *w->o.path ? "/" : "",
		w->o.path, w->o.config_rel);
	lo.destination = w->dests[0].name;
	kr_config_load(&c, &diags, config, &lo);
	if (c)
		apply_settings(w, c);
	say(w, KR_EVENT_PROGRESS,
		"watch: settings: interval %d s, drift "
		"interval %d s, self-heal %s, image wait %d s, retention %zu "
		"runs",
		w->o.interval, w->o.drift_interval,
		w->o.self_heal ? "on" : "off", w->o.image_wait, w->o.retention);
	kr_config_free(c);
	kr_diags_release(&diags);
	free(config);
}

int
kr_watch_run(struct kr_watch *w)
{
	time_t next_poll = 0, now;
	const char *trigger = "startup";
	bool first = true;
	size_t i;

	say(w, KR_EVENT_PROGRESS,
		"watch: watching '%s' of '%s' every %d s "
		"(drift every %d s, self-heal %s)",
		w->branch, w->url_shown, w->o.interval, w->o.drift_interval,
		w->o.self_heal ? "on" : "off");
	if (w->http)
		say(w, KR_EVENT_PROGRESS, "watch: listening on port %d (%s)",
			kr_http_port(w->http), w->o.listen);
	while (!w->stop) {
		struct pollfd pfd = { w->wake[0], POLLIN, 0 };
		long long wait = LLONG_MAX;
		bool reconcile = false;
		char buf[64];

		now = time(NULL);
		if (w->want_reload) {
			w->want_reload = 0;
			reload(w);
		}
		if (w->want_reconcile) {
			w->want_reconcile = 0;
			reconcile = true;
			trigger = "manual";
			next_poll = 0;
		}
		if (w->want_poll) {
			w->want_poll = 0;
			if (!first)
				trigger = "webhook";
			next_poll = 0;
		}
		if (now >= next_poll) {
			char *head = poll_git(w);

			next_poll = now + w->o.interval;
			for (i = 0; head && i < w->ndests && !w->stop; i++) {
				struct watch_dest *d = &w->dests[i];

				if (d->applied && strcmp(d->applied, head) == 0)
					continue;
				/* a failed commit waits for its retry */
				if (d->failed && strcmp(d->failed, head) == 0)
					continue;
				deploy(w, d, head,
					first ? "startup" :
					strcmp(trigger, "startup") == 0 ?
						"commit" :
						trigger);
			}
			free(head);
			first = false;
		}
		now = time(NULL);
		for (i = 0; i < w->ndests && !w->stop; i++) {
			struct watch_dest *d = &w->dests[i];

			if (d->failed && d->retry_at != (time_t)-1 &&
				now >= d->retry_at && w->seen &&
				strcmp(d->failed, w->seen) == 0)
				deploy(w, d, d->failed, "retry");
			else if (reconcile ||
				 (d->next_drift && now >= d->next_drift))
				drift(w, d, reconcile ? "manual" : "drift");
		}
		trigger = "commit";
		now = time(NULL);
		wait = until(next_poll, now);
		for (i = 0; i < w->ndests; i++) {
			struct watch_dest *d = &w->dests[i];
			long long t = until(d->next_drift, now);

			if (t < wait)
				wait = t;
			if (d->failed && (t = until(d->retry_at, now)) < wait)
				wait = t;
		}
		if (w->stop)
			break;
		if (poll(&pfd, 1,
			    wait > 86400 ? 86400 * 1000 : (int)wait * 1000) > 0)
			while (read(w->wake[0], buf, sizeof(buf)) > 0)
				;
	}
	say(w, KR_EVENT_PROGRESS, "watch: stopped");
	return 0;
}
