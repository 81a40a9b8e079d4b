/*
 * Tests of apply (reconciler/apply*.c): plans built by the real diff from
 * C fixtures, host scripts run by a real /bin/sh through a fake transport
 * (the local one, with each "host" in its own directory) and a fake `docker`
 * that logs its calls and keeps containers as files. Checks the order of
 * actions, stdin-only secrets, files written 0600, the health gate (an
 * unhealthy new container is removed and the old one kept, renamed back),
 * one exec per host, per-host failure, the journal, interruption, the
 * markers and the deploy lock.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/error.h"
#include "common/quote.h"
#include "diff_fixture.h"
#include "drivers/transport.h"
#include "reconciler/apply.h"
#include "reconciler/apply_int.h"
#include "reconciler/diff.h"
#include "state/store.h"

#define PASSWORD "registry-password-secret"
#define DB_URL "postgres://u:p4ss'$(touch pwned)@db/x"
#define PG_PW "pg \"secret\" `id`"
#define SUFFIX "0011223344556677"

static char root[4096] = "/tmp/kr-test-apply-XXXXXX";

/* The fake docker: every call logged (words joined by '|'), containers
 * as files in $FAKE/c, health from $FAKE_HEALTH, login stdin kept. */
static const char fake_docker[] =
	"#!/bin/sh\n"
	"d=$FAKE\n"
	"{ printf 'docker'; for a in \"$@\"; do printf '|%s' \"$a\"; done; "
	"echo; } >>\"$d/calls\"\n"
	"case \"$1 $2\" in\n"
	"'network inspect') exit 1 ;;\n"
	"'network create') exit 0 ;;\n"
	"'image inspect') exit 1 ;;\n"
	"'container inspect') [ -e \"$d/c/$3\" ] || [ -e \"$d/c/${3#id-}\" ]; "
	"exit ;;\n"
	"'login '*) cat >\"$d/login-stdin\"; exit 0 ;;\n"
	"'container start') [ -e \"$d/c/$3\" ]; exit ;;\n"
	/* kamal-proxy: a deploy passes its health check as the container's
	 * health says */
	"'exec kamal-proxy') case \"$4\" in list) exit 0 ;; deploy) "
	"[ \"${FAKE_HEALTH:-healthy}\" = healthy ] && exit 0; echo 'Error: "
	"target failed to become healthy within configured timeout (30s)' "
	">&2; exit 1 ;; esac ;;\n"
	"esac\n"
	"case $1 in\n"
	"pull) exit 0 ;;\n"
	"run) prev=; for a in \"$@\"; do [ \"$prev\" = --name ] && n=$a; "
	"prev=$a; done\n"
	"  echo \"$n\" >\"$d/c/$n\"; echo \"id-$n\"; exit 0 ;;\n"
	"inspect) echo \"${FAKE_HEALTH:-healthy}\"; exit 0 ;;\n"
	"logs) echo 'boom: cannot reach the database'; exit 0 ;;\n"
	"rm) shift; [ \"$1\" = -f ] && shift; for c in \"$@\"; do "
	"rm -f \"$d/c/$c\" \"$d/c/${c#id-}\"; done; exit 0 ;;\n"
	"rename) mv \"$d/c/$2\" \"$d/c/$3\"; exit ;;\n"
	"stop|start|ps|tag) exit 0 ;;\n"
	"esac\n"
	"echo \"fake docker: unexpected $*\" >&2\nexit 2\n";

/* A transport running commands locally inside the host's directory. */
struct fake {
	struct kr_transport base;
	struct kr_transport *local;
	char *dir;
	const char *health;
};

static int
fake_exec(struct kr_transport *t, const char *cmd, const void *in, size_t inlen,
	struct kr_exec_result *res)
{
	struct fake *f = (struct fake *)t;
	struct kr_buf full = KR_BUF_INIT;
	int err;

	kr_buf_puts(&full, "cd");
	kr_shell_arg(&full, f->dir);
	kr_buf_printf(&full,
		" || exit 99\nFAKE=\"$PWD/.fake\" "
		"FAKE_HEALTH=%s PATH=\"%s/bin:$PATH\"\n"
		"export FAKE FAKE_HEALTH PATH\n",
		f->health, root);
	kr_buf_puts(&full, cmd);
	t->exec_count++;
	err = f->local->vt->exec(f->local, full.ptr, in, inlen, res);
	kr_buf_release(&full);
	return err;
}

static int
fake_upload(struct kr_transport *t, const char *path, const void *data,
	size_t len, int mode)
{
	return kr_transport_upload_via_exec(t, path, data, len, mode);
}

static void
fake_close(struct kr_transport *t)
{
	struct fake *f = (struct fake *)t;

	kr_transport_close(f->local);
	free(f->dir);
	free(f);
}

static const struct kr_transport_vtable fake_vt = {
	.name = "fake",
	.exec = fake_exec,
	.upload = fake_upload,
	.close = fake_close,
};

/* Hosts are named "h1", "h2"; "bad" refuses to connect. */
struct world {
	const char *health[3]; /* per host index 1, 2 */
	unsigned connects;
};

static char *
host_dir(const char *host)
{
	return kr_xasprintf("%s/%s", root, host);
}

static int
fake_connect(struct kr_transport **out, const char *host, void *arg)
{
	struct world *w = arg;
	struct kr_transport_opts o = { .host = "localhost" };
	struct fake *f;

	if (strcmp(host, "bad") == 0) {
		kr_error_set(KR_ESSH, "connection refused");
		return KR_ESSH;
	}
	f = kr_xcalloc(1, sizeof(*f));
	f->base.vt = &fake_vt;
	f->base.host = "fake";
	if (kr_transport_local.connect(&f->local, &o) != 0) {
		free(f);
		return KR_ERROR;
	}
	f->dir = host_dir(host);
	f->health = w->health[host[1] == '2' ? 2 : 1];
	if (!f->health)
		f->health = "healthy";
	w->connects++;
	*out = &f->base;
	return 0;
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct kr_buf b = KR_BUF_INIT;
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		kr_buf_put(&b, chunk, n);
	fclose(f);
	return kr_buf_detach(&b, NULL);
}

static char *
host_file(const char *host, const char *rel)
{
	char *p = kr_xasprintf("%s/%s/%s", root, host, rel);
	char *s = slurp(p);

	free(p);
	return s;
}

static void
make_host(const char *host)
{
	char *cmd = kr_xasprintf("mkdir -p '%s/%s/.fake/c'", root, host);

	assert_int_equal(system(cmd), 0);
	free(cmd);
}

/* The fixture world: web on h1 (DATABASE_URL), db accessory on h1. */
static struct kr_desired *
desired(const char *version, const char *db_url)
{
	struct kr_desired *d = fx_desired(version);
	struct kr_host *h = fx_host(d, "h1");
	const char *app_secrets[] = { "DATABASE_URL", db_url, NULL };
	const char *db_secrets[] = { "POSTGRES_PASSWORD", PG_PW, NULL };

	d->retain_containers = 5;
	d->deploy_timeout = 2;
	d->readiness_delay = 0;
	fx_app(d, h, "web", app_secrets);
	fx_accessory(d, h, "db", "postgres:16", db_secrets);
	return d;
}

static struct kr_plan *
plan_for(const struct kr_desired *d, struct kr_observed_host *obs, size_t n)
{
	struct kr_diff_opts o = { .now = FX_NOW };
	struct kr_plan *p = NULL;

	assert_int_equal(kr_diff_build(&p, d, obs, n, &o), 0);
	return p;
}

static struct kr_store *
store_open(int64_t *run, const char *name)
{
	struct kr_store *s = NULL;
	char *path = kr_xasprintf("%s/%s.db", root, name);

	assert_int_equal(kr_store_open(&s, path), 0);
	kr_store_set_secrets(s, NULL);
	assert_int_equal(kr_store_run_begin(run, s, KR_RUN_APPLY, 0), 0);
	free(path);
	return s;
}

static void
opts_init(struct kr_apply_opts *o, const struct kr_desired *d,
	const struct kr_plan *p, struct world *w)
{
	memset(o, 0, sizeof(*o));
	o->desired = d;
	o->plan = p;
	o->connect = fake_connect;
	o->connect_arg = w;
	o->performer = "tester";
	o->now = FX_NOW;
	o->suffix = SUFFIX;
}

/* Index of the first log line containing needle after line `from`. */
static int
call_index(const char *calls, const char *needle, int from)
{
	int i = 0;
	const char *p = calls;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *ln = kr_xstrndup(p, n);
		bool hit = i >= from && strstr(ln, needle);

		free(ln);
		if (hit)
			return i;
		i++;
		p = nl ? nl + 1 : NULL;
	}
	return -1;
}

static void
test_fresh_host(void **state)
{
	struct kr_desired *d = desired(FX_V1, DB_URL);
	struct kr_observed_host *obs = fx_observed(1);
	struct kr_apply_result r;
	struct kr_apply_opts o;
	struct kr_apply_script s;
	struct kr_store_journal_entry *j = NULL;
	struct world w = { { 0 }, 0 };
	struct kr_store *st;
	struct kr_plan *p;
	struct kr_plan_summary sum;
	char *calls, *envf, *login, *audit, *mode_path;
	struct stat sb;
	int64_t run;
	size_t nj = 0, i;
	int net, lg, acc, pull, app;

	(void)state;
	make_host("h1");
	fx_obs_init(&obs[0], "h1");
	kr_strvec_release(&obs[0].networks);
	kr_strvec_push(&obs[0].networks, "bridge");
	p = plan_for(d, obs, 1);

	/* the script holds no secret; its stdin holds them */
	assert_int_equal(
		kr_apply_script_build(&s, d, p, &p->hosts[0], NULL), 0);
	assert_null(strstr(s.text.ptr, PASSWORD));
	assert_null(strstr(s.text.ptr, "p4ss"));
	assert_null(strstr(s.text.ptr, "secret\""));
	assert_non_null(
		memmem(s.input.ptr, s.input.len, PASSWORD, strlen(PASSWORD)));
	assert_non_null(
		memmem(s.input.ptr, s.input.len, DB_URL, strlen(DB_URL)));
	/* network, login, proxy boot, 2 env files, accessory, pull, app */
	assert_int_equal(s.nsteps, 8);
	kr_apply_script_release(&s);

	st = store_open(&run, "fresh");
	opts_init(&o, d, p, &w);
	o.store = st;
	o.run = run;
	assert_int_equal(kr_apply_run(&r, &o), 0);
	assert_int_equal(r.hosts_ok, 1);
	assert_int_equal(r.hosts_failed, 0);
	assert_int_equal(r.hosts[0].state, KR_APPLY_HOST_OK);
	assert_int_equal(r.hosts[0].execs, 1);
	assert_int_equal(r.hosts[0].steps_ok, 8);
	kr_plan_summarize(&sum, p);
	assert_int_equal(r.added, sum.add);
	/* network, kamal-proxy, 2 env files, db, web */
	assert_int_equal(r.added, 6);

	calls = host_file("h1", ".fake/calls");
	assert_non_null(calls);
	net = call_index(calls, "docker|network|create|kamal", 0);
	lg = call_index(
		calls, "docker|login|ghcr.io|-u|acme|--password-stdin", 0);
	acc = call_index(calls, "docker|run|--name|app-db|", 0);
	pull = call_index(
		calls, "docker|pull|--quiet|ghcr.io/acme/app:" FX_V1, 0);
	app = call_index(calls,
		"docker|run|--detach|--restart|unless-stopped|"
		"--name|app-web-" FX_V1 "|--network|kamal|",
		0);
	assert_true(
		net >= 0 && lg > net && acc > lg && pull > acc && app > pull);
	assert_true(
		call_index(calls, "|--label|kreconcile.defhash=", app) == app);
	/* kamal-proxy booted before the app, the app deployed behind it (its
	 * short id as the target), then the image tagged :latest */
	assert_true(call_index(calls,
			    "docker|run|--name|kamal-proxy|--network"
			    "|kamal|--detach|--restart|unless-stopped|--volume|"
			    "kamal-proxy-config:/home/kamal-proxy/.config/"
			    "kamal-proxy|",
			    0) < app);
	assert_true(call_index(calls,
			    "docker|exec|kamal-proxy|kamal-proxy|"
			    "deploy|app-web|--target=id-app-web-1:80|--deploy-"
			    "timeout=2s|"
			    "--drain-timeout=30s|--buffer-requests|--buffer-"
			    "responses|"
			    "--log-request-header=Cache-Control|",
			    app) > app);
	assert_true(call_index(calls,
			    "docker|tag|ghcr.io/acme/app:" FX_V1
			    "|ghcr.io/acme/app:latest",
			    app) > app);
	assert_null(strstr(calls, PASSWORD));
	assert_null(strstr(calls, "p4ss"));

	/* env files: exact bytes, 0600; the password reached login's stdin */
	envf = host_file("h1", ".kamal/apps/app/env/roles/web.env");
	assert_non_null(envf);
	assert_string_equal(envf, d->hosts[0].apps[0].env_file.content);
	mode_path =
		kr_xasprintf("%s/h1/.kamal/apps/app/env/roles/web.env", root);
	assert_int_equal(stat(mode_path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	login = host_file("h1", ".fake/login-stdin");
	assert_string_equal(login, PASSWORD);
	{
		char *db = host_file(
			"h1", ".kamal/apps/app/env/accessories/db.env");

		assert_string_equal(
			db, d->hosts[0].accessories[0].env_file.content);
		free(db);
	}
	/* the accessory's data directory exists; the audit log says what ran */
	{
		char *dd = kr_xasprintf("%s/h1/app-db/data", root);

		assert_int_equal(stat(dd, &sb), 0);
		assert_true(S_ISDIR(sb.st_mode));
		free(dd);
	}
	audit = host_file("h1", ".kamal/app-audit.log");
	assert_non_null(audit);
	assert_non_null(
		strstr(audit, "] [tester] [web] Booted app version " FX_V1));
	assert_non_null(strstr(audit, "Booted db accessory"));

	/* one journal entry per step, each finished ok */
	assert_int_equal(kr_store_journal_list(&j, &nj, st, run), 0);
	assert_int_equal(nj, 8);
	for (i = 0; i < nj; i++) {
		assert_string_equal(j[i].result, "ok");
		assert_string_equal(j[i].host, "h1");
		assert_true(j[i].finished_at != 0);
	}
	assert_string_equal(j[0].address, "h1/network/kamal");
	assert_string_equal(j[2].address, "h1/proxy/kamal-proxy");
	assert_string_equal(j[7].address, "h1/app/web");
	assert_string_equal(j[6].action, "pull");

	kr_store_journal_free(j, nj);
	kr_store_close(st);
	kr_apply_result_release(&r);
	free(calls);
	free(envf);
	free(login);
	free(audit);
	free(mode_path);
	kr_plan_free(p);
	fx_observed_free(obs, 1);
	fx_desired_free(d);
}

/* A version change whose new container never becomes healthy. */
static void
test_unhealthy_keeps_old(void **state)
{
	struct kr_desired *d1 = desired(FX_V1, DB_URL);
	struct kr_desired *d2 = desired(FX_V2, DB_URL);
	struct kr_observed_host *obs = fx_observed(1);
	struct world w = { { NULL, "unhealthy", NULL }, 0 };
	struct kr_apply_result r;
	struct kr_apply_opts o;
	struct kr_plan *p;
	char *calls;

	(void)state;
	make_host("h3");
	fx_obs_init(&obs[0], "h1");
	fx_obs_app(&obs[0], &d1->hosts[0].apps[0], true, FX_NOW - 100);
	fx_obs_accessory(
		&obs[0], &d1->hosts[0].accessories[0], true, FX_NOW - 100);
	fx_obs_env(&obs[0], &d1->hosts[0].apps[0].env_file);
	fx_obs_env(&obs[0], &d1->hosts[0].accessories[0].env_file);
	free(d2->hosts[0].name);
	free(obs[0].name);
	d2->hosts[0].name = kr_xstrdup("h3");
	obs[0].name = kr_xstrdup("h3");
	p = plan_for(d2, obs, 1);
	opts_init(&o, d2, p, &w);
	w.health[1] = "unhealthy";
	assert_int_equal(kr_apply_run(&r, &o), 0);
	assert_int_equal(r.hosts_failed, 1);
	assert_int_equal(r.hosts_ok, 0);
	assert_int_equal(r.hosts[0].state, KR_APPLY_HOST_FAILED);
	assert_non_null(
		strstr(r.hosts[0].error, "h3/app/web (replace) failed"));
	/* kamal-proxy's reason, then the container's log */
	assert_non_null(strstr(r.hosts[0].error, "kamal-proxy did not switch"));
	assert_non_null(strstr(r.hosts[0].error, "failed to become healthy"));
	assert_non_null(strstr(r.hosts[0].error, "boom: cannot reach"));
	assert_int_equal(r.changed, 0);

	calls = host_file("h3", ".fake/calls");
	/* the new one was started, then removed; the old one never stopped */
	assert_true(call_index(calls, "docker|run|--detach", 0) >= 0);
	assert_true(call_index(calls, "docker|rm|-f|app-web-" FX_V2, 0) >
		    call_index(calls, "docker|run|--detach", 0));
	assert_int_equal(call_index(calls, "docker|stop", 0), -1);
	kr_apply_result_release(&r);
	free(calls);
	kr_plan_free(p);
	fx_observed_free(obs, 1);
	fx_desired_free(d1);
	fx_desired_free(d2);
}

/* Two hosts with an env-only change: the old container (same name) is
 * renamed out of the way; on the healthy host it is stopped after the new
 * one is up, on the unhealthy one it gets its name back and keeps running. */
static void
test_env_only_change_renames(void **state)
{
	struct kr_desired *d1 = desired(FX_V1, DB_URL);
	struct kr_desired *d2 = desired(FX_V1, "postgres://other");
	struct kr_observed_host *obs = fx_observed(2);
	struct world w = { { NULL, "healthy", "starting" }, 0 };
	struct kr_apply_result r;
	struct kr_apply_opts o;
	struct kr_plan *p;
	char *calls1, *calls2, *old;
	const char *hn[2] = { "h4", "h2" };
	char *renamed =
		kr_xasprintf("app-web-%s_replaced_%.16s", FX_V1, SUFFIX);
	char *ren = kr_xasprintf("docker|rename|app-web-%s|%s", FX_V1, renamed);
	char *back =
		kr_xasprintf("docker|rename|%s|app-web-%s", renamed, FX_V1);
	size_t i;

	(void)state;
	/* a second host like the first */
	{
		struct kr_host *h = fx_host(d2, "h2");
		const char *app_secrets[] = { "DATABASE_URL",
			"postgres://other", NULL };

		fx_app(d2, h, "web", app_secrets);
	}
	free(d2->hosts[0].name);
	d2->hosts[0].name = kr_xstrdup("h4");
	for (i = 0; i < 2; i++) {
		make_host(hn[i]);
		fx_obs_init(&obs[i], hn[i]);
		/* made by Kamal: no hash label; its env file holds the old URL
		 */
		fx_obs_app(&obs[i], &d1->hosts[0].apps[0], false, FX_NOW - 50);
		fx_obs_file(&obs[i], d1->hosts[0].apps[0].env_file.path,
			d1->hosts[0].apps[0].env_file.sha256,
			&d1->hosts[0].apps[0].env_file.secrets);
		/* the old env file and container exist on the fake host */
		{
			char *ef = kr_xasprintf("%s/%s/%s", root, hn[i],
				d1->hosts[0].apps[0].env_file.path);
			char *mk = kr_xasprintf(
				"mkdir -p \"$(dirname '%s')\"", ef);
			FILE *f;

			assert_int_equal(system(mk), 0);
			f = fopen(ef, "w");
			assert_non_null(f);
			fputs(d1->hosts[0].apps[0].env_file.content, f);
			fclose(f);
			chmod(ef, 0600);
			free(ef);
			free(mk);
		}
		old = kr_xasprintf(
			"%s/%s/.fake/c/app-web-%s", root, hn[i], FX_V1);
		fclose(fopen(old, "w"));
		free(old);
	}
	fx_obs_accessory(
		&obs[0], &d2->hosts[0].accessories[0], true, FX_NOW - 100);
	fx_obs_env(&obs[0], &d2->hosts[0].accessories[0].env_file);
	p = plan_for(d2, obs, 2);
	opts_init(&o, d2, p, &w);
	assert_int_equal(kr_apply_run(&r, &o), 0);
	assert_int_equal(r.hosts[0].state, KR_APPLY_HOST_OK);
	assert_int_equal(r.hosts[1].state, KR_APPLY_HOST_FAILED);
	assert_int_equal(r.hosts_ok, 1);
	assert_int_equal(r.hosts_failed, 1);
	assert_int_equal(r.hosts[0].execs + r.hosts[1].execs, 2);
	/* env file update + app replace on the healthy host */
	assert_int_equal(r.changed, 2);
	/* the healthy host has the new env file; the failed one the old one
	 * back, so the next plan still sees the change (Kamal-made container)
	 */
	{
		char *e1 = host_file("h4", d2->hosts[0].apps[0].env_file.path);
		char *e2 = host_file("h2", d2->hosts[0].apps[0].env_file.path);

		assert_string_equal(e1, d2->hosts[0].apps[0].env_file.content);
		assert_non_null(e2);
		assert_string_equal(e2, d1->hosts[0].apps[0].env_file.content);
		free(e1);
		free(e2);
	}

	calls1 = host_file("h4", ".fake/calls");
	calls2 = host_file("h2", ".fake/calls");
	/* healthy: rename, run under the same name, then stop the old id */
	assert_true(call_index(calls1, ren, 0) >= 0);
	assert_true(call_index(calls1, "|--name|app-web-" FX_V1 "|", 0) >
		    call_index(calls1, ren, 0));
	assert_true(call_index(calls1, "docker|stop|-t", 0) < 0);
	assert_true(call_index(calls1, "docker|stop|id-app-web-" FX_V1, 0) >
		    call_index(calls1, "|--name|app-web-" FX_V1 "|", 0));
	assert_int_equal(call_index(calls1, back, 0), -1);
	/* unhealthy (still "starting" at the deadline): renamed back */
	assert_true(call_index(calls2, back, 0) >
		    call_index(calls2, "docker|rm|-f|app-web-" FX_V1, 0));
	assert_int_equal(call_index(calls2, "docker|stop", 0), -1);
	old = kr_xasprintf("%s/h2/.fake/c/app-web-%s", root, FX_V1);
	assert_int_equal(access(old, F_OK), 0);
	free(old);

	kr_apply_result_release(&r);
	free(calls1);
	free(calls2);
	free(renamed);
	free(ren);
	free(back);
	kr_plan_free(p);
	fx_observed_free(obs, 2);
	fx_desired_free(d1);
	fx_desired_free(d2);
}

static void
test_interrupted_and_unreachable(void **state)
{
	struct kr_desired *d = desired(FX_V1, DB_URL);
	struct kr_observed_host *obs = fx_observed(1);
	struct world w = { { 0 }, 0 };
	struct kr_apply_result r;
	struct kr_apply_opts o;
	struct kr_store_journal_entry *j = NULL;
	volatile sig_atomic_t stop = 1;
	struct kr_store *st;
	struct kr_plan *p;
	int64_t run;
	size_t nj = 0, i;

	(void)state;
	fx_obs_init(&obs[0], "h1");
	p = plan_for(d, obs, 1);
	st = store_open(&run, "interrupted");
	opts_init(&o, d, p, &w);
	o.store = st;
	o.run = run;
	o.interrupted = &stop;
	assert_int_equal(kr_apply_run(&r, &o), 0);
	assert_true(r.interrupted);
	assert_int_equal(r.hosts_skipped, 1);
	assert_int_equal(w.connects, 0);
	assert_int_equal(kr_store_journal_list(&j, &nj, st, run), 0);
	assert_true(nj > 0);
	for (i = 0; i < nj; i++)
		assert_string_equal(j[i].result, "not run (interrupted)");
	kr_store_journal_free(j, nj);
	kr_apply_result_release(&r);

	/* a host that cannot be reached fails alone, nothing ran */
	free(d->hosts[0].name);
	d->hosts[0].name = kr_xstrdup("bad");
	free(obs[0].name);
	obs[0].name = kr_xstrdup("bad");
	kr_plan_free(p);
	p = plan_for(d, obs, 1);
	opts_init(&o, d, p, &w);
	assert_int_equal(kr_apply_run(&r, &o), 0);
	assert_int_equal(r.hosts_failed, 1);
	assert_non_null(strstr(r.hosts[0].error, "connection refused"));
	assert_int_equal(r.hosts[0].execs, 0);
	kr_apply_result_release(&r);

	kr_store_close(st);
	kr_plan_free(p);
	fx_observed_free(obs, 1);
	fx_desired_free(d);
}

/* An accessory with a file: uploaded on stdin with its mode, mounted. */
static void
test_accessory_file(void **state)
{
	struct kr_desired *d = desired(FX_V1, DB_URL);
	struct kr_observed_host *obs = fx_observed(1);
	struct world w = { { 0 }, 0 };
	struct kr_accessory *acc = &d->hosts[0].accessories[0];
	struct kr_acc_file *f;
	struct kr_apply_result r;
	struct kr_apply_opts o;
	struct kr_plan *p;
	const char body[] = "max_connections = 10 # it's $(not run) `x`\n";
	char *got, *path, *calls, *vol;
	struct stat sb;

	(void)state;
	make_host("h6");
	free(d->hosts[0].name);
	d->hosts[0].name = kr_xstrdup("h6");
	acc->files = kr_xcalloc(1, sizeof(*acc->files));
	acc->nfiles = 1;
	f = &acc->files[0];
	f->local = kr_xstrdup("config/pg.conf");
	f->remote = kr_xstrdup("/etc/pg.conf");
	f->host_path = kr_xstrdup("app-db/etc/pg.conf");
	f->content = kr_xstrdup(body);
	kr_sha256_hex(f->sha256, body, strlen(body));
	f->mode = kr_xstrdup("640");
	f->options = kr_xstrdup("ro");
	fx_obs_init(&obs[0], "h6");
	p = plan_for(d, obs, 1);
	opts_init(&o, d, p, &w);
	assert_int_equal(kr_apply_run(&r, &o), 0);
	assert_int_equal(r.hosts[0].state, KR_APPLY_HOST_OK);
	got = host_file("h6", "app-db/etc/pg.conf");
	assert_non_null(got);
	assert_string_equal(got, body);
	path = kr_xasprintf("%s/h6/app-db/etc/pg.conf", root);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0640);
	calls = host_file("h6", ".fake/calls");
	vol = kr_xasprintf(
		"|--volume|%s/h6/app-db/etc/pg.conf:/etc/pg.conf:ro|", root);
	assert_non_null(strstr(calls, vol));
	/* its content never on a command line */
	assert_null(strstr(calls, "max_connections"));
	kr_apply_result_release(&r);
	free(got);
	free(path);
	free(calls);
	free(vol);
	kr_plan_free(p);
	fx_observed_free(obs, 1);
	fx_desired_free(d);
}

static void
test_no_secrets_no_script(void **state)
{
	struct kr_desired *d = desired(FX_V1, DB_URL);
	struct kr_observed_host *obs = fx_observed(1);
	struct kr_apply_script s;
	struct kr_plan *p;

	(void)state;
	fx_obs_init(&obs[0], "h1");
	p = plan_for(d, obs, 1);
	/* secrets not loaded: refused before anything runs */
	kr_free_secret(d->registry.password);
	d->registry.password = NULL;
	assert_int_equal(
		kr_apply_script_build(&s, d, p, &p->hosts[0], NULL), KR_EINVAL);
	assert_non_null(strstr(kr_error_last(), "password"));
	kr_apply_script_release(&s);
	kr_plan_free(p);
	fx_observed_free(obs, 1);
	fx_desired_free(d);
}

static void
test_parse_markers(void **state)
{
	struct kr_apply_script s;
	const char out[] = "noise\n"
			   "@@KRA-n0nce begin 0\n"
			   "made it\n"
			   "@@KRA-forged end 0 0\n" /* wrong nonce: output */
			   "\n@@KRA-n0nce end 0 0\n"
			   "@@KRA-n0nce begin 1\n"
			   "half way\n"; /* the exec died here */

	(void)state;
	memset(&s, 0, sizeof(s));
	strcpy(s.nonce, "n0nce");
	s.steps = kr_xcalloc(3, sizeof(*s.steps));
	s.nsteps = 3;
	kr_apply_script_parse(&s, out, sizeof(out) - 1);
	assert_int_equal(s.steps[0].result, KR_STEP_OK);
	assert_string_equal(s.steps[0].output, "made it\n@@KRA-forged end 0 0");
	assert_int_equal(s.steps[1].result, KR_STEP_FAILED);
	assert_non_null(strstr(s.steps[1].output, "half way"));
	assert_int_equal(s.steps[2].result, KR_STEP_NOT_RUN);
	kr_apply_script_release(&s);

	/* an end marker that ends the input, with no NUL after it (found by
	 * fuzz_apply_parse): its numbers are read within the line only */
	{
		static const char tail[] = "@@KRA-n0nce begin 0\nx\n"
					   "@@KRA-n0nce end 0 7";
		char *exact = kr_xmalloc(sizeof(tail) - 1);

		memcpy(exact, tail, sizeof(tail) - 1);
		memset(&s, 0, sizeof(s));
		strcpy(s.nonce, "n0nce");
		s.steps = kr_xcalloc(1, sizeof(*s.steps));
		s.nsteps = 1;
		kr_apply_script_parse(&s, exact, sizeof(tail) - 1);
		assert_int_equal(s.steps[0].result, KR_STEP_FAILED);
		assert_int_equal(s.steps[0].status, 7);
		kr_apply_script_release(&s);
		free(exact);
	}
}

static void
test_lock(void **state)
{
	struct world w = { { 0 }, 0 };
	struct kr_transport *t = NULL;
	struct kr_apply_lock_opts lo = { .service = "app",
		.destination = "staging",
		.who = "alice",
		.version = "v2",
		.message = "deploying",
		.now = FX_NOW };
	char *holder = NULL, *details, *audit, *line, *cmd;

	(void)state;
	make_host("h5");
	assert_int_equal(fake_connect(&t, "h5", &w), 0);
	assert_int_equal(kr_apply_lock_acquire(&holder, t, &lo), 0);
	/* Kamal's details: base64 of the three lines */
	cmd = kr_xasprintf("base64 -d <'%s/h5/.kamal/lock-app-staging/details' "
			   ">'%s/h5/decoded'",
		root, root);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	details = host_file("h5", "decoded");
	assert_string_equal(details, "Locked by: alice at 2027-01-15T08:00:00Z"
				     "\nVersion: v2\nMessage: deploying");
	/* taken: a second apply is refused with the holder's details */
	lo.who = "bob";
	assert_int_equal(kr_apply_lock_acquire(&holder, t, &lo), KR_ELOCKED);
	assert_non_null(holder);
	assert_non_null(strstr(holder, "Locked by: alice"));
	line = kr_apply_audit_line(
		FX_NOW, "alice", "staging", NULL, "Released\nthe lock");
	assert_string_equal(line, "[2027-01-15T08:00:00Z] [alice] [staging] "
				  "Released the lock");
	assert_int_equal(kr_apply_lock_release(t, "app", "staging", line), 0);
	audit = host_file("h5", ".kamal/app-staging-audit.log");
	assert_non_null(audit);
	assert_non_null(strstr(audit, line));
	cmd = kr_xasprintf("%s/h5/.kamal/lock-app-staging", root);
	assert_int_not_equal(access(cmd, F_OK), 0);
	free(cmd);
	/* and free again */
	free(holder);
	holder = NULL;
	assert_int_equal(kr_apply_lock_acquire(&holder, t, &lo), 0);
	assert_null(holder);
	assert_int_equal(kr_apply_lock_release(t, "app", "staging", NULL), 0);
	free(details);
	free(audit);
	free(line);
	kr_transport_close(t);
}

static int
setup(void **state)
{
	char *real, *p;
	FILE *f;

	(void)state;
	if (!mkdtemp(root))
		return -1;
	real = realpath(root, NULL);
	if (!real)
		return -1;
	snprintf(root, sizeof(root), "%s", real);
	free(real);
	p = kr_xasprintf("%s/bin", root);
	mkdir(p, 0700);
	free(p);
	p = kr_xasprintf("%s/bin/docker", root);
	f = fopen(p, "w");
	if (!f)
		return -1;
	fputs(fake_docker, f);
	fclose(f);
	chmod(p, 0755);
	free(p);
	return 0;
}

static int
teardown(void **state)
{
	char *cmd = kr_xasprintf("rm -rf '%s'", root);
	int rc;

	(void)state;
	rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

/* A route that kamal-proxy holds with another health check path while the
 * container stays: one step, `kamal-proxy deploy` of the running container
 * with the configured options; a role no longer proxied (prune): `remove`. */
static void
test_route_steps(void **state)
{
	struct kr_desired *d = desired(FX_V1, DB_URL);
	struct kr_observed_host *obs = fx_observed(1);
	struct kr_apply_script s;
	struct kr_plan *p;
	struct kr_diff_opts o = { .now = FX_NOW, .prune = true };

	(void)state;
	fx_obs_init(&obs[0], "h1");
	fx_obs_app(&obs[0], &d->hosts[0].apps[0], true, FX_NOW - 100);
	fx_obs_accessory(
		&obs[0], &d->hosts[0].accessories[0], true, FX_NOW - 100);
	fx_obs_env(&obs[0], &d->hosts[0].apps[0].env_file);
	fx_obs_env(&obs[0], &d->hosts[0].accessories[0].env_file);
	fx_obs_proxy(&obs[0], "app-web", "id-app-web-1:80");
	free(obs[0].proxy.routes[0].health_check_path);
	obs[0].proxy.routes[0].health_check_path = kr_xstrdup("/old");
	p = plan_for(d, obs, 1);
	assert_int_equal(
		kr_apply_script_build(&s, d, p, &p->hosts[0], NULL), 0);
	assert_int_equal(s.nsteps, 1);
	assert_string_equal(s.steps[0].address, "h1/route/app-web");
	assert_non_null(strstr(s.text.ptr, "kr_tgt='id-app-web-1'\n"));
	assert_non_null(strstr(s.text.ptr,
		"docker exec 'kamal-proxy' kamal-proxy deploy 'app-web' "
		"--target=\"$kr_tgt\":80 '--deploy-timeout=2s' "
		"'--drain-timeout=30s' --buffer-requests --buffer-responses"));
	assert_null(strstr(s.text.ptr, "docker run"));
	kr_apply_script_release(&s);
	kr_plan_free(p);

	d->hosts[0].apps[0].proxy = false;
	assert_int_equal(kr_diff_build(&p, d, obs, 1, &o), 0);
	assert_int_equal(
		kr_apply_script_build(&s, d, p, &p->hosts[0], NULL), 0);
	assert_int_equal(s.nsteps, 1);
	assert_string_equal(s.steps[0].action, "delete");
	assert_non_null(strstr(s.text.ptr,
		"docker exec 'kamal-proxy' kamal-proxy remove 'app-web'"));
	kr_apply_script_release(&s);
	kr_plan_free(p);
	fx_observed_free(obs, 1);
	fx_desired_free(d);
}

/* A custom TLS certificate from the secrets: both PEMs written as Kamal
 * writes them (0644 under .kamal/proxy/apps-config/<service>/tls/<role>/)
 * from stdin, never in the script, and the deploy names them inside
 * kamal-proxy. */
static void
test_tls_certificate(void **state)
{
	struct kr_desired *d = desired(FX_V1, DB_URL);
	struct kr_observed_host *obs = fx_observed(1);
	struct kr_app_proxy *px = &d->hosts[0].apps[0].proxy_config;
	struct kr_apply_script s;
	struct kr_plan *p;
	const char *cert = "-----BEGIN CERTIFICATE-----\ncert-bytes\n";
	const char *key = "-----BEGIN PRIVATE KEY-----\nkey-bytes-secret\n";

	(void)state;
	px->ssl = true;
	kr_strvec_push(&px->hosts, "app.example.com");
	px->tls_cert_path =
		kr_xstrdup(".kamal/proxy/apps-config/app/tls/web/cert.pem");
	px->tls_key_path =
		kr_xstrdup(".kamal/proxy/apps-config/app/tls/web/key.pem");
	px->tls_cert_container = kr_xstrdup(
		"/home/kamal-proxy/.apps-config/app/tls/web/cert.pem");
	px->tls_key_container = kr_xstrdup(
		"/home/kamal-proxy/.apps-config/app/tls/web/key.pem");
	px->tls_cert_pem = kr_xstrdup(cert);
	px->tls_key_pem = kr_xstrdup(key);
	fx_obs_init(&obs[0], "h1");
	p = plan_for(d, obs, 1);
	assert_int_equal(
		kr_apply_script_build(&s, d, p, &p->hosts[0], NULL), 0);
	assert_null(strstr(s.text.ptr, "key-bytes-secret"));
	assert_null(strstr(s.text.ptr, "cert-bytes"));
	assert_non_null(memmem(s.input.ptr, s.input.len, key, strlen(key)));
	assert_non_null(memmem(s.input.ptr, s.input.len, cert, strlen(cert)));
	assert_non_null(strstr(s.text.ptr,
		"kr_put \"$PWD\"/'.kamal/proxy/"
		"apps-config/app/tls/web/key.pem' 45 '644'"));
	assert_non_null(strstr(s.text.ptr,
		" --tls "
		"'--tls-certificate-path=/home/kamal-proxy/.apps-config/app/"
		"tls/"
		"web/cert.pem' '--tls-private-key-path=/home/kamal-proxy/"
		".apps-config/app/tls/web/key.pem' '--deploy-timeout=2s'"));
	kr_apply_script_release(&s);
	kr_plan_free(p);
	fx_observed_free(obs, 1);
	fx_desired_free(d);
}

/* Secret values in outputs: long ones anywhere, short ones as words. */
static void
test_mask_secrets(void **state)
{
	struct kr_strvec sec = { 0 };
	char *t;

	(void)state;
	/* longest first, as kr_apply_mask_collect orders them */
	kr_strvec_push(&sec, "postgres://u:s3cret-pa55@h/db");
	kr_strvec_push(&sec, "s3cret-pa55");
	kr_strvec_push(&sec, "web");
	t = kr_xstrdup(
		"DATABASE_URL=postgres://u:s3cret-pa55@h/db\n"
		"PW=s3cret-pa55s3cret-pa55 ROLE=web sample-web-v1 webby");
	kr_apply_mask(&sec, &t);
	assert_string_equal(t, "DATABASE_URL=(sensitive)\n"
			       "PW=(sensitive)(sensitive) ROLE=(sensitive) "
			       "sample-(sensitive)-v1 webby");
	free(t);
	t = NULL;
	kr_apply_mask(&sec, &t);
	assert_null(t);
	kr_strvec_release(&sec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_host),
		cmocka_unit_test(test_unhealthy_keeps_old),
		cmocka_unit_test(test_env_only_change_renames),
		cmocka_unit_test(test_interrupted_and_unreachable),
		cmocka_unit_test(test_accessory_file),
		cmocka_unit_test(test_no_secrets_no_script),
		cmocka_unit_test(test_route_steps),
		cmocka_unit_test(test_tls_certificate),
		cmocka_unit_test(test_parse_markers),
		cmocka_unit_test(test_mask_secrets),
		cmocka_unit_test(test_lock),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
