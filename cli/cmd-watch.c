/*
 * kreconcile watch: the GitOps loop (reconciler/watch.h) as a long-running
 * process. Options, then x-kreconcile.watch of the local config, then the
 * defaults. One log line per event (text or JSON). SIGTERM and SIGINT
 * finish the action in flight, release the deploy lock and exit 0; SIGHUP
 * reads the watch settings again; SIGUSR1 reconciles at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cmd_common.h"
#include "cli/run.h"
#include "common/error.h"
#include "reconciler/watch.h"
#include "state/config.h"
#include "state/store.h"

enum {
	OPT_REPO = KR_CLI_OPT_ACCEPT_NEW + 1,
	OPT_BRANCH,
	OPT_PATH,
	OPT_INTERVAL,
	OPT_DRIFT,
	OPT_NO_SELF_HEAL,
	OPT_LISTEN,
	OPT_SECRET_FILE,
	OPT_LOG_FORMAT,
	OPT_IMAGE_WAIT,
	OPT_BACKOFF_MAX,
	OPT_RETENTION,
	OPT_NOTIFY,
};

static const struct option watch_options[] = {
	KR_CLI_OPTION_ACCEPT_NEW,
	{ "repo", required_argument, NULL, OPT_REPO },
	{ "branch", required_argument, NULL, OPT_BRANCH },
	{ "path", required_argument, NULL, OPT_PATH },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "drift-interval", required_argument, NULL, OPT_DRIFT },
	{ "no-self-heal", no_argument, NULL, OPT_NO_SELF_HEAL },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "webhook-secret-file", required_argument, NULL, OPT_SECRET_FILE },
	{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
	{ "image-wait", required_argument, NULL, OPT_IMAGE_WAIT },
	{ "backoff-max", required_argument, NULL, OPT_BACKOFF_MAX },
	{ "retention", required_argument, NULL, OPT_RETENTION },
	{ "notify", required_argument, NULL, OPT_NOTIFY },
	{ NULL, 0, NULL, 0 },
};

/* The log: one line per event, serialised across threads. */
struct watch_log {
	const struct kr_globals *g;
	bool json;
	pthread_mutex_t mu;
};

static const char *
event_name(enum kr_event_kind k)
{
	switch (k) {
	case KR_EVENT_ERROR:
		return "error";
	case KR_EVENT_PROGRESS:
		return "progress";
	case KR_EVENT_TEXT:
		return "text";
	case KR_EVENT_DIAG:
		return "config";
	case KR_EVENT_OBSERVED:
		return "observed";
	case KR_EVENT_PLAN:
		return "plan";
	case KR_EVENT_APPLY:
		return "apply";
	case KR_EVENT_LOCKING:
		return "locking";
	}
	return "event";
}

/* The line an event prints as; NULL for events the log leaves out. */
static char *
event_text(const struct kr_event *ev)
{
	const struct kr_apply_event *a = ev->apply;

	switch (ev->kind) {
	case KR_EVENT_DIAG:
		return kr_diag_format(ev->diag);
	case KR_EVENT_PLAN:
		return NULL;
	case KR_EVENT_LOCKING:
		return kr_xasprintf("taking the deploy lock on %s", ev->host);
	case KR_EVENT_APPLY:
		if (!a->address && a->result)
			return kr_xasprintf("host %s: %s (%zu ok, %zu failed, "
					    "%zu not run)",
				a->host,
				a->result->state == KR_APPLY_HOST_OK ?
					"applied" :
					"failed",
				a->result->steps_ok, a->result->steps_failed,
				a->result->steps_not_run);
		if (!a->address || strcmp(a->what, "starting") == 0)
			return NULL;
		return kr_xasprintf(
			"%s: %s %s", a->address, a->action, a->what);
	default:
		return ev->message ? kr_xstrdup(ev->message) : NULL;
	}
}

static void
log_event(const struct kr_event *ev, void *arg)
{
	struct watch_log *l = arg;
	char *msg = event_text(ev);
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	bool error = ev->kind == KR_EVENT_ERROR || ev->kind == KR_EVENT_DIAG ||
		     (ev->kind == KR_EVENT_APPLY && ev->apply->what &&
			     strcmp(ev->apply->what, "failed") == 0);

	if (!msg)
		return;
	if (!error && l->g->verbosity < 0) {
		free(msg);
		return;
	}
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	pthread_mutex_lock(&l->mu);
	if (l->json) {
		json_t *o = json_object();
		char *text;

		json_object_set_new(o, "time", json_string(when));
		json_object_set_new(
			o, "level", json_string(error ? "error" : "info"));
		json_object_set_new(
			o, "event", json_string(event_name(ev->kind)));
		if (ev->host)
			json_object_set_new(o, "host", json_string(ev->host));
		json_object_set_new(o, "message", json_string(msg));
		text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (text)
			fprintf(stderr, "%s\n", text);
		free(text);
		json_decref(o);
	} else {
		fprintf(stderr, "%s %s %s\n", when, error ? "error" : "info ",
			msg);
	}
	fflush(stderr);
	pthread_mutex_unlock(&l->mu);
	free(msg);
}

/* Signals for the watcher: a thread of their own waits for them. */
static sigset_t watch_sigs;

static void *
signal_thread(void *arg)
{
	struct kr_watch *w = arg;
	int sig;

	for (;;) {
		if (sigwait(&watch_sigs, &sig) != 0)
			continue;
		switch (sig) {
		case SIGUSR2:
			return NULL;
		case SIGHUP:
			kr_watch_poke(w, KR_WATCH_POKE_RELOAD);
			break;
		case SIGUSR1:
			kr_watch_poke(w, KR_WATCH_POKE_RECONCILE);
			break;
		default:
			kr_watch_stop(w);
			break;
		}
	}
}

/* The webhook secret from a file (first line) or $KREC_WEBHOOK_SECRET:
 * never from argv. */
static int
read_secret(char **out, const char *file)
{
	char buf[1024];
	size_t n;
	FILE *f;
	const char *env = getenv("KREC_WEBHOOK_SECRET");

	*out = NULL;
	if (!file) {
		if (env && *env)
			*out = kr_xstrdup(env);
		return 0;
	}
	if (!(f = fopen(file, "r"))) {
		kr_cli_error("cannot read the webhook secret '%s': %s", file,
			strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!*buf) {
		kr_cli_error("the webhook secret file '%s' is empty", file);
		return -1;
	}
	*out = kr_xstrdup(buf);
	memset(buf, 0, sizeof(buf));
	return 0;
}

static int
duration_opt(int *out, const char *name, const char *v)
{
	int s = kr_watch_duration(v);

	if (s <= 0)
		return kr_cli_usage(&kr_cmd_watch_entry,
			"%s takes a duration "
			"such as 30s, 2m or 1h, not '%s'",
			name, v);
	*out = s;
	return 0;
}

/* Settings the watcher needs before its first checkout (repository,
 * branch, path, listener, log format) from the local config, if any. */
static void
local_settings(struct kr_watch_opts *o, const char **log_format,
	struct kr_config **keep, const struct kr_globals *g)
{
	struct kr_config_load_opts lo = { .partial = true };
	struct kr_diags d = { 0 };
	struct stat st;

	*keep = NULL;
	if (stat(g->config, &st) != 0)
		return;
	lo.destination = g->ndestinations ? g->destinations[0] : NULL;
	kr_config_load(keep, &d, g->config, &lo);
	kr_diags_release(&d);
	if (!*keep)
		return;
	if (!o->repo)
		o->repo = (*keep)->watch.repo;
	if (!o->branch)
		o->branch = (*keep)->watch.branch;
	if (!o->path)
		o->path = (*keep)->watch.path;
	if (!o->listen)
		o->listen = (*keep)->watch.listen;
	if (!*log_format)
		*log_format = (*keep)->watch.log_format;
}

static int
cmd_watch_exec(const struct kr_globals *g, int argc, char **argv)
{
	struct kr_watch_opts o = { .self_heal = true };
	struct watch_log log = { .g = g };
	struct kr_config *local = NULL;
	struct kr_watch *w = NULL;
	const char *secret_file = NULL, *log_format = NULL;
	char *secret = NULL, *state = NULL, *who = NULL, *end;
	sigset_t old;
	pthread_t tid;
	bool thread = false;
	const char *notify[8];
	size_t nnotify = 0;
	long n;
	int c, rc = KR_EXIT_ERROR, err;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", watch_options, NULL)) != -1) {
		switch (c) {
		case KR_CLI_OPT_ACCEPT_NEW:
			o.accept_new_host_keys = true;
			break;
		case OPT_REPO:
			o.repo = optarg;
			break;
		case OPT_BRANCH:
			o.branch = optarg;
			break;
		case OPT_PATH:
			o.path = optarg;
			break;
		case OPT_INTERVAL:
			if ((err = duration_opt(
				     &o.interval, "--interval", optarg)))
				return err;
			o.set |= KR_WATCH_SET_INTERVAL;
			break;
		case OPT_DRIFT:
			if ((err = duration_opt(&o.drift_interval,
				     "--drift-interval", optarg)))
				return err;
			o.set |= KR_WATCH_SET_DRIFT;
			break;
		case OPT_IMAGE_WAIT:
			if ((err = duration_opt(
				     &o.image_wait, "--image-wait", optarg)))
				return err;
			o.set |= KR_WATCH_SET_IMAGE_WAIT;
			break;
		case OPT_BACKOFF_MAX:
			if ((err = duration_opt(
				     &o.backoff_max, "--backoff-max", optarg)))
				return err;
			o.set |= KR_WATCH_SET_BACKOFF;
			break;
		case OPT_NO_SELF_HEAL:
			o.self_heal = false;
			o.set |= KR_WATCH_SET_SELF_HEAL;
			break;
		case OPT_LISTEN:
			o.listen = optarg;
			break;
		case OPT_NOTIFY:
			if (nnotify >= sizeof(notify) / sizeof(notify[0]))
				return kr_cli_usage(&kr_cmd_watch_entry,
					"at most %zu --notify URLs",
					sizeof(notify) / sizeof(notify[0]));
			if (strncmp(optarg, "http://", 7) != 0 &&
				strncmp(optarg, "https://", 8) != 0)
				return kr_cli_usage(&kr_cmd_watch_entry,
					"--notify takes an http:// or https:// "
					"URL");
			notify[nnotify++] = optarg;
			break;
		case OPT_SECRET_FILE:
			secret_file = optarg;
			break;
		case OPT_LOG_FORMAT:
			log_format = optarg;
			break;
		case OPT_RETENTION:
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || *end || n < 1 || n > 1000000)
				return kr_cli_usage(&kr_cmd_watch_entry,
					"--retention takes a number of runs "
					"(1 to 1000000), not '%s'",
					optarg);
			o.retention = (size_t)n;
			o.set |= KR_WATCH_SET_RETENTION;
			break;
		default:
			return kr_cli_opt_error(&kr_cmd_watch_entry, c, argv);
		}
	}
	if ((err = kr_cli_opt_no_more(&kr_cmd_watch_entry, argc, argv)))
		return err;
	local_settings(&o, &log_format, &local, g);
	if (log_format && strcmp(log_format, "text") != 0 &&
		strcmp(log_format, "json") != 0) {
		rc = kr_cli_usage(&kr_cmd_watch_entry,
			"--log-format takes text "
			"or json, not '%s'",
			log_format);
		goto out;
	}
	log.json = log_format && strcmp(log_format, "json") == 0;
	pthread_mutex_init(&log.mu, NULL);
	if (read_secret(&secret, secret_file) < 0)
		goto out;
	/* the watcher's own store: the config lives in its work tree */
	state = kr_xstrdup(
		g->state_path ? g->state_path : ".kreconcile/state.db");
	o.state_path = state;
	o.destinations = g->destinations;
	o.ndestinations = g->ndestinations;
	o.app_version = g->app_version;
	o.webhook_secret = secret;
	o.notify = notify;
	o.nnotify = nnotify;
	o.performer = who = kr_cli_performer();
	o.events.fn = log_event;
	o.events.arg = &log;
	if (o.listen && !secret) {
		struct kr_event ev = { .kind = KR_EVENT_ERROR,
			.message = "warning: no webhook secret "
				   "(--webhook-secret-file or "
				   "KREC_WEBHOOK_SECRET): /webhook and "
				   "/reconcile refuse every request" };

		log_event(&ev, &log);
	}

	/* every thread started from here blocks the signals */
	sigemptyset(&watch_sigs);
	sigaddset(&watch_sigs, SIGINT);
	sigaddset(&watch_sigs, SIGTERM);
	sigaddset(&watch_sigs, SIGHUP);
	sigaddset(&watch_sigs, SIGUSR1);
	sigaddset(&watch_sigs, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &watch_sigs, &old);
	if (kr_watch_new(&w, &o) < 0) {
		kr_cli_error("%s", kr_error_last());
		goto unblock;
	}
	if (pthread_create(&tid, NULL, signal_thread, w) == 0)
		thread = true;
	rc = kr_watch_run(w) < 0 ? KR_EXIT_ERROR : KR_EXIT_OK;
	if (rc != KR_EXIT_OK)
		kr_cli_error("%s", kr_error_last());
	if (thread) {
		pthread_kill(tid, SIGUSR2);
		pthread_join(tid, NULL);
	}
unblock:
	kr_watch_free(w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_destroy(&log.mu);
out:
	if (secret) {
		memset(secret, 0, strlen(secret));
		free(secret);
	}
	kr_config_free(local);
	free(state);
	free(who);
	return rc;
}

const struct kr_cmd_entry kr_cmd_watch_entry = {
	.name = "watch",
	.summary = "keep the hosts equal to a git branch: deploy every commit, "
		   "repair drift",
	.usage = "kreconcile watch [--repo URL] [--branch B] [--path DIR] "
		 "[-d DEST]... [options]\n"
		 "  --repo URL              the repository (default: the "
		 "upstream of this checkout)\n"
		 "  --branch B              its branch (default: the "
		 "upstream's, or main)\n"
		 "  --path DIR              the project's directory in it "
		 "(holding config/deploy.yml)\n"
		 "  --interval 1m           how often to look at git\n"
		 "  --drift-interval 5m     how often to compare the hosts "
		 "with the last applied commit\n"
		 "  --no-self-heal          report drift, do not repair it\n"
		 "  --image-wait 10m        how long a commit waits for its "
		 "image in the registry\n"
		 "  --backoff-max 10m       the longest wait before retrying "
		 "a failed commit\n"
		 "  --retention N           runs kept in the history "
		 "(default 1000)\n"
		 "  --listen ADDR:PORT      serve /webhook, /reconcile, "
		 "/metrics, /healthz, /readyz\n"
		 "  --webhook-secret-file F the webhook secret (or "
		 "$KREC_WEBHOOK_SECRET; never an argument)\n"
		 "  --log-format text|json  one line per event on stderr\n"
		 "  --notify URL            POST each outcome as JSON (Slack's "
		 "\"text\" included); repeatable\n"
		 "  --accept-new-host-keys  trust the key of a host not yet in "
		 "known_hosts\n"
		 "every option can also be set under x-kreconcile: watch: in "
		 "the config (options win)\n"
		 "signals: TERM/INT finish the action in flight and exit 0, "
		 "HUP re-reads the settings, USR1 reconciles now\n"
		 "the state database (--state) defaults to "
		 ".kreconcile/state.db in the current directory",
	.flags = KR_CMD_DESTINATIONS,
	.complete = "--repo=URL --branch=BRANCH --path=DIR --interval=DURATION "
		    "--drift-interval=DURATION --no-self-heal "
		    "--image-wait=DURATION --backoff-max=DURATION "
		    "--retention=N --listen=ADDR --webhook-secret-file=FILE "
		    "--notify=URL "
		    "--log-format=FORMAT "
		    "--accept-new-host-keys",
	.exec = cmd_watch_exec,
};
