/*
 * The parts of reconciler/hosts.c that need no host: which values are
 * registered as secrets with the store, the SSH options built from the
 * config's ssh section, the outcome of an observation, durations, and
 * observing with refresh off (last snapshots from a real store in a temp
 * directory, hosts no longer configured included). What the engine would
 * say is recorded by an event sink.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/error.h"
#include "reconciler/engine.h"
#include "reconciler/hosts.h"
#include "reconciler/load.h"

static struct kr_buf said = KR_BUF_INIT;

/* The events the engine would send the CLI, as the CLI prints them. */
static void
record_event(const struct kr_event *ev, void *arg)
{
	(void)arg;
	if (!ev->message)
		return;
	if (ev->kind == KR_EVENT_ERROR)
		kr_buf_puts(&said, "kreconcile: ");
	kr_buf_puts(&said, ev->message);
	kr_buf_putc(&said, '\n');
}

static const struct kr_events recorder = { record_event, NULL };

static const char deploy_yml[] = "service: app\n"
				 "image: acme/app\n"
				 "servers:\n"
				 "  web:\n"
				 "    hosts: [10.0.0.1, 10.0.0.2]\n"
				 "registry:\n"
				 "  username: acme\n"
				 "  password: [REG_PW]\n"
				 "builder:\n"
				 "  arch: amd64\n"
				 "env:\n"
				 "  clear: {MODE: prod}\n"
				 "  secret: [DB_PW]\n"
				 "accessories:\n"
				 "  db:\n"
				 "    image: postgres:16\n"
				 "    host: 10.0.0.2\n"
				 "    env:\n"
				 "      secret: [PG_PW]\n"
				 "ssh:\n"
				 "  user: deploy\n"
				 "  port: 2222\n"
				 "  keys_only: true\n"
				 "  keys: [/keys/id_ed25519]\n"
				 "  key_data: [SSH_KEY]\n"
				 "  proxy: bastion@10.0.0.9\n"
				 "  log_level: debug\n"
				 "  config: false\n"
				 "x-kreconcile:\n"
				 "  known_hosts: /etc/kr/known_hosts\n";

/* A loaded configuration as kr_load leaves it, from text. */
static void
load(struct kr_loaded *l, const char *yml, bool with_key)
{
	struct kr_diags d = { 0 };
	struct kr_resolve_opts ro = { .version = "v1",
		.version_source = "--app-version" };

	memset(l, 0, sizeof(*l));
	assert_int_equal(kr_config_load_text(&l->config, &d, "deploy.yml", yml,
				 strlen(yml), NULL, NULL, 0, NULL),
		0);
	kr_kvlist_set(&l->secrets, "REG_PW", "registry-pw-1");
	kr_kvlist_set(&l->secrets, "DB_PW", "db-pw-2");
	kr_kvlist_set(&l->secrets, "PG_PW", "pg-pw-3");
	if (with_key)
		kr_kvlist_set(&l->secrets, "SSH_KEY",
			"-----BEGIN OPENSSH PRIVATE KEY-----\nk\n");
	/* in .kamal/secrets but no secret of the model: never registered */
	kr_kvlist_set(&l->secrets, "UNUSED", "not-a-model-secret");
	assert_int_equal(kr_desired_resolve(
				 &l->desired, &d, l->config, &l->secrets, &ro),
		0);
	kr_diags_release(&d);
}

/* Whether the n bytes at p hold s anywhere (binary-safe). */
static bool
holds(const char *p, size_t n, const char *s)
{
	size_t i, k = strlen(s);

	for (i = 0; i + k <= n; i++)
		if (memcmp(p + i, s, k) == 0)
			return true;
	return false;
}

static bool
has_value(const struct kr_kvlist *kv, const char *v)
{
	size_t i;

	for (i = 0; i < kv->n; i++)
		if (strcmp(kv->v[i].value, v) == 0)
			return true;
	return false;
}

static void
test_secret_values(void **state)
{
	struct kr_loaded l;
	struct kr_kvlist kv = { 0 };

	(void)state;
	load(&l, deploy_yml, true);
	kr_load_secret_values(&kv, &l);
	assert_true(has_value(&kv, "registry-pw-1"));
	assert_true(has_value(&kv, "db-pw-2"));
	assert_true(has_value(&kv, "pg-pw-3"));
	assert_true(has_value(&kv, "-----BEGIN OPENSSH PRIVATE KEY-----\nk\n"));
	assert_false(has_value(&kv, "not-a-model-secret"));
	/* the registry username is clear: registering it would refuse every
	 * revision */
	assert_false(has_value(&kv, "acme"));
	kr_kvlist_release(&kv);
	kr_loaded_release(&l);
}

static void
test_ssh_options(void **state)
{
	struct kr_loaded l;
	struct kr_ssh_settings ssh;
	struct kr_transport_opts o;

	(void)state;
	load(&l, deploy_yml, true);
	assert_int_equal(kr_ssh_settings_init(&ssh, &l, true), 0);
	kr_ssh_settings_for_host(&o, &ssh, l.desired->hosts[1].name,
		l.desired->hosts[1].user, l.desired->hosts[1].port);
	assert_string_equal(o.host, "10.0.0.2");
	assert_string_equal(o.user, "deploy");
	assert_int_equal(o.port, 2222);
	assert_true(o.keys_only);
	assert_true(o.accept_new_host_keys);
	assert_non_null(o.keys);
	assert_string_equal(o.keys->v[0], "/keys/id_ed25519");
	assert_non_null(o.key_data);
	assert_int_equal(o.key_data->n, 1);
	assert_string_equal(
		o.key_data->v[0], "-----BEGIN OPENSSH PRIVATE KEY-----\nk\n");
	assert_string_equal(o.proxy, "bastion@10.0.0.9");
	assert_string_equal(o.log_level, "debug");
	assert_string_equal(o.known_hosts, "/etc/kr/known_hosts");
	assert_string_equal(o.ssh_config, ""); /* config: false = no file */
	kr_ssh_settings_release(&ssh);
	kr_loaded_release(&l);
}

static void
test_ssh_config_forms(void **state)
{
	static const char *const forms[][2] = {
		{ "  config: true\n", NULL },
		{ "  config: /etc/kr/ssh_config\n", "/etc/kr/ssh_config" },
		{ "  config: [/a/one, /a/two]\n", "/a/one" },
		{ "", NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct kr_loaded l;
		struct kr_ssh_settings ssh;
		char *yml = kr_xasprintf("service: app\nimage: acme/app\n"
					 "servers: [10.0.0.1]\nbuilder: {arch: "
					 "amd64}\nregistry: {username: u, "
					 "password: [REG_PW]}\nssh:\n  user: "
					 "root\n%s",
			forms[i][0]);

		load(&l, yml, false);
		assert_int_equal(kr_ssh_settings_init(&ssh, &l, false), 0);
		if (forms[i][1])
			assert_string_equal(ssh.base.ssh_config, forms[i][1]);
		else
			assert_null(ssh.base.ssh_config);
		assert_null(ssh.base.key_data);
		assert_null(ssh.base.known_hosts);
		assert_false(ssh.base.accept_new_host_keys);
		kr_ssh_settings_release(&ssh);
		kr_loaded_release(&l);
		free(yml);
	}
}

static void
test_ssh_key_data_missing(void **state)
{
	struct kr_observe_opts o = { .refresh = true };
	struct kr_hosts h;
	struct kr_loaded l;
	struct kr_ssh_settings ssh;

	(void)state;
	load(&l, deploy_yml, false);
	assert_int_equal(kr_ssh_settings_init(&ssh, &l, false), KR_ECONFIG);
	assert_non_null(strstr(kr_error_last(), "'SSH_KEY'"));
	/* observing stops before any host is contacted, and says nothing */
	assert_int_equal(
		kr_hosts_observe(&h, &recorder, &l, NULL, 0, &o), KR_ECONFIG);
	assert_int_equal(h.n, 0);
	assert_null(h.hosts);
	kr_hosts_release(&h);
	kr_loaded_release(&l);
}

static void
test_exit_and_duration(void **state)
{
	struct kr_hosts h = { .n = 4 };
	char buf[32];

	(void)state;
	h.failed = 0;
	assert_int_equal(kr_engine_hosts_outcome(&h), KR_OUTCOME_OK);
	h.failed = 1;
	assert_int_equal(kr_engine_hosts_outcome(&h), KR_OUTCOME_PARTIAL);
	h.failed = 4;
	assert_int_equal(kr_engine_hosts_outcome(&h), KR_OUTCOME_FAILED);
	kr_format_duration(buf, sizeof(buf), 0.3);
	assert_string_equal(buf, "0.3 s");
	kr_format_duration(buf, sizeof(buf), 1.26);
	assert_string_equal(buf, "1.3 s");
	kr_format_duration(buf, sizeof(buf), -1);
	assert_string_equal(buf, "0.00 s");
	kr_format_duration(buf, sizeof(buf), 0.042);
	assert_string_equal(buf, "0.04 s");
}

/* With refresh off: the store's last snapshots, and a note where none. */
static void
test_observe_from_store(void **state)
{
	char dir[] = "/tmp/kr-test-cli-hosts-XXXXXX";
	struct kr_source src = { .config = "config/deploy.yml" };
	struct kr_observe_opts o = { .refresh = false,
		.include_removed = true };
	struct kr_observed_host snap = { 0 };
	struct kr_hosts h;
	struct kr_loaded l;
	struct kr_store *s = NULL;
	int64_t rev = 0;
	char *path, *json, *model = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = kr_xasprintf("%s/state.db", dir);
	src.state_path = path;
	load(&l, deploy_yml, true);
	assert_int_equal(kr_engine_store_open(&s, &src, &l), 0);
	/* the revision holds the model without a secret value */
	assert_int_equal(kr_engine_revision_add(&rev, s, &l), 0);
	assert_true(rev > 0);

	snap.name = kr_xstrdup("10.0.0.1");
	snap.docker_version = kr_xstrdup("27.0.1");
	snap.observed_at = 1700000000;
	kr_observed_host_fingerprint(&snap, snap.fingerprint);
	json = kr_observed_host_dump(&snap);
	assert_int_equal(
		kr_store_snapshot_add(s, 0, "10.0.0.1", KR_OBS_OK, NULL,
			snap.fingerprint, json, snap.observed_at),
		0);
	free(json);
	/* a host the configuration no longer names */
	assert_int_equal(
		kr_store_snapshot_add(s, 0, "10.0.0.7", KR_OBS_UNREACHABLE,
			"no route to host", NULL, NULL, 1700000001),
		0);

	assert_int_equal(kr_hosts_observe(&h, &recorder, &l, s, 0, &o), 0);
	assert_true(h.from_store);
	assert_int_equal(h.n, 3);
	assert_string_equal(h.hosts[0].name, "10.0.0.1");
	assert_int_equal(h.hosts[0].status, KR_OBS_OK);
	assert_string_equal(h.hosts[0].docker_version, "27.0.1");
	assert_string_equal(h.hosts[0].fingerprint, snap.fingerprint);
	assert_int_equal(h.hosts[0].observed_at, 1700000000);
	assert_int_equal(h.execs[0], 0);
	assert_string_equal(h.hosts[1].name, "10.0.0.2");
	assert_int_not_equal(h.hosts[1].status, KR_OBS_OK);
	assert_non_null(strstr(h.hosts[1].error, "kreconcile refresh"));
	assert_string_equal(h.hosts[2].name, "10.0.0.7");
	assert_int_equal(h.hosts[2].status, KR_OBS_UNREACHABLE);
	assert_string_equal(h.hosts[2].error, "no route to host");
	/* only configured hosts count as failed */
	assert_int_equal(h.failed, 1);
	assert_int_equal(kr_engine_hosts_outcome(&h), KR_OUTCOME_PARTIAL);
	kr_hosts_release(&h);

	kr_store_close(s);
	s = NULL;
	/* nothing secret in the database file */
	{
		FILE *f = fopen(path, "rb");
		size_t n;

		assert_non_null(f);
		model = kr_xmalloc(1 << 20);
		n = fread(model, 1, (1 << 20) - 1, f);
		fclose(f);
		assert_false(holds(model, n, "db-pw-2"));
		assert_false(holds(model, n, "pg-pw-3"));
		assert_false(holds(model, n, "registry-pw-1"));
		assert_true(holds(model, n, "27.0.1"));
	}
	free(model);
	kr_observed_host_release(&snap);
	kr_loaded_release(&l);
	{
		char *cmd = kr_xasprintf("rm -rf '%s'", dir);

		assert_int_equal(system(cmd), 0);
		free(cmd);
	}
	free(path);
}

/* A fake connection for the run's cache: every exec prints nothing, the
 * second exec of the first connection finds it dropped (never started). */
struct fake_conn {
	struct kr_transport base;
	bool drop; /* its second exec finds it dropped */
	unsigned calls;
};
/* hosts are observed on pool threads */
static pthread_mutex_t fake_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned fake_connects, fake_closed;
static bool fake_dropped;

static int
fake_exec(struct kr_transport *t, const char *cmd, const void *in, size_t len,
	struct kr_exec_result *res)
{
	struct fake_conn *f = (struct fake_conn *)t;

	(void)cmd;
	(void)in;
	(void)len;
	if (f->drop && f->calls++ == 1) {
		kr_error_set(KR_ESSH,
			"cannot open a channel to '%s': "
			"Socket error: disconnected",
			t->host);
		return KR_ESSH;
	}
	t->exec_count++;
	kr_buf_reset(&res->out);
	res->status = 0;
	return 0;
}

static void
fake_close(struct kr_transport *t)
{
	pthread_mutex_lock(&fake_mu);
	fake_closed++;
	pthread_mutex_unlock(&fake_mu);
	free(t);
}

static const struct kr_transport_vtable fake_vt = {
	.name = "fake",
	.exec = fake_exec,
	.close = fake_close,
};

static int
fake_connect(
	struct kr_transport **out, const struct kr_transport_opts *o, void *arg)
{
	struct fake_conn *f = kr_xcalloc(1, sizeof(*f));

	(void)arg;
	assert_non_null(o->key_data); /* the run's ssh options */
	f->base.vt = &fake_vt;
	f->base.host = o->host;
	pthread_mutex_lock(&fake_mu);
	fake_connects++;
	if (strcmp(o->host, "10.0.0.1") == 0 && !fake_dropped)
		f->drop = fake_dropped = true;
	pthread_mutex_unlock(&fake_mu);
	*out = &f->base;
	return 0;
}

/* Two observes with the run's connections: one connection per host, and a
 * dropped one reconnected once, said and journaled. */
static void
test_observe_with_conns(void **state)
{
	char dir[] = "/tmp/kr-test-cli-conns-XXXXXX";
	struct kr_source src = { .config = "config/deploy.yml" };
	struct kr_observe_opts o = { .refresh = true };
	struct kr_store_journal_entry *j = NULL;
	struct kr_hosts h;
	struct kr_hostconns cc;
	struct kr_transport *t = NULL;
	struct kr_loaded l;
	struct kr_store *s = NULL;
	int64_t rev = 0, run = 0;
	size_t nj = 0, i, round;
	char *path;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = kr_xasprintf("%s/state.db", dir);
	src.state_path = path;
	load(&l, deploy_yml, true);
	assert_int_equal(kr_engine_store_open(&s, &src, &l), 0);
	assert_int_equal(kr_engine_revision_add(&rev, s, &l), 0);
	assert_int_equal(kr_store_run_begin(&run, s, KR_RUN_APPLY, rev), 0);
	assert_int_equal(kr_hostconns_init(&cc, &recorder, &l, false), 0);
	cc.conns.connect = fake_connect;
	cc.store = s;
	cc.run = run;
	o.conns = &cc;
	kr_buf_reset(&said);
	fake_connects = fake_closed = 0;
	fake_dropped = false;
	for (round = 0; round < 2; round++) {
		assert_int_equal(
			kr_hosts_observe(&h, &recorder, &l, s, run, &o), 0);
		assert_int_equal(h.n, 2);
		for (i = 0; i < 2; i++)
			assert_int_equal(h.execs[i], 1);
		kr_hosts_release(&h);
	}
	/* host 1's second observe found its connection gone: sent again */
	assert_int_equal(fake_connects, 3);
	assert_int_equal(fake_closed, 1);
	assert_int_equal(kr_hostconns_opened(&cc, "10.0.0.1"), 2);
	assert_int_equal(kr_hostconns_opened(&cc, "10.0.0.2"), 1);
	assert_int_equal(kr_hostconns_opened(&cc, "10.0.0.9"), 0);
	assert_non_null(strstr(said.ptr,
		"host 10.0.0.1: connection lost "
		"(cannot open a channel to '10.0.0.1': Socket error: "
		"disconnected); reconnecting"));
	assert_null(strstr(said.ptr, "host 10.0.0.2: connection lost"));
	assert_int_equal(kr_store_journal_list(&j, &nj, s, run), 0);
	assert_int_equal(nj, 1);
	assert_string_equal(j[0].host, "10.0.0.1");
	assert_string_equal(j[0].address, "10.0.0.1/connection");
	assert_string_equal(j[0].action, "reconnect");
	assert_string_equal(j[0].result, "ok");
	kr_store_journal_free(j, nj);
	/* apply's hosts: a slot before the threads, the open connection */
	assert_int_equal(kr_hostconns_add(&cc, l.desired, "10.0.0.2"),
		kr_conns_find(&cc.conns, "10.0.0.2"));
	assert_int_equal(kr_hostconns_get(&t, &cc, "10.0.0.2"), 0);
	assert_int_equal(t->exec_count, 2);
	assert_int_equal(fake_connects, 3);
	assert_int_equal(kr_hostconns_get(&t, &cc, "10.0.0.8"), KR_EINVAL);
	kr_hostconns_add(&cc, l.desired, "10.0.0.8"); /* no longer configured */
	assert_int_equal(kr_hostconns_get(&t, &cc, "10.0.0.8"), 0);
	assert_int_equal(fake_connects, 4);
	kr_hostconns_release(&cc);
	assert_int_equal(fake_closed, 4);
	kr_hostconns_release(NULL);
	kr_store_close(s);
	kr_loaded_release(&l);
	{
		char *cmd = kr_xasprintf("rm -rf '%s'", dir);

		assert_int_equal(system(cmd), 0);
		free(cmd);
	}
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret_values),
		cmocka_unit_test(test_ssh_options),
		cmocka_unit_test(test_ssh_config_forms),
		cmocka_unit_test(test_ssh_key_data_missing),
		cmocka_unit_test(test_exit_and_duration),
		cmocka_unit_test(test_observe_from_store),
		cmocka_unit_test(test_observe_with_conns),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	kr_buf_release(&said);
	return rc;
}
