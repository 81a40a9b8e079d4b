/*
 * Tests of a run's connections (drivers/conns.c), which apply uses for one
 * connection per host: slots opened lazily and kept, execs counted across
 * the run, the slot's close a no-op, a lost connection reconnected once
 * (at once when the command had not started, else before the next one),
 * a failed first connect not retried, and kr_docker_observe_all reusing
 * the slot's connection. Connections are fakes made through the cache's
 * connect hook: each fake's exec follows a plan of what happens to it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"
#include "drivers/conns.h"
#include "drivers/docker.h"

/* What a fake connection's exec does, call by call. */
enum fake_step {
	RUN_OK = 0, /* runs, prints "ran N" */
	LOST_BEFORE, /* the channel cannot be opened: never started */
	LOST_DURING, /* started, then the connection dropped */
};

struct fake_world {
	unsigned connects; /* connections made */
	unsigned fail_connect; /* refuse this many connects first */
	/* each connection's plan: steps[conn][exec] */
	enum fake_step steps[4][8];
	unsigned ran; /* commands that ran (started) */
	unsigned closed; /* connections closed */
	unsigned reconnects; /* on_reconnect calls */
	char reason[256]; /* the last on_reconnect reason */
};

struct fake_conn {
	struct kr_transport base;
	struct fake_world *w;
	unsigned id; /* which connection (0-based) */
	unsigned calls;
};

static int
fake_exec(struct kr_transport *t, const char *cmd, const void *in, size_t len,
	struct kr_exec_result *res)
{
	struct fake_conn *f = (struct fake_conn *)t;
	enum fake_step st =
		f->calls < 8 ? f->w->steps[f->id][f->calls] : RUN_OK;

	(void)cmd;
	(void)in;
	(void)len;
	f->calls++;
	kr_buf_reset(&res->out);
	res->status = -1;
	if (st == LOST_BEFORE) {
		kr_error_set(KR_ESSH,
			"cannot open a channel to '%s': "
			"Socket error: disconnected",
			t->host);
		return KR_ESSH;
	}
	t->exec_count++;
	f->w->ran++;
	if (st == LOST_DURING) {
		kr_error_set(KR_ESSH,
			"connection lost while running a "
			"command on '%s'",
			t->host);
		return KR_ESSH;
	}
	kr_buf_printf(&res->out, "ran %u", f->w->ran);
	res->status = 0;
	return 0;
}

static void
fake_close(struct kr_transport *t)
{
	struct fake_conn *f = (struct fake_conn *)t;

	if (!f)
		return;
	f->w->closed++;
	free(f);
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
	struct fake_world *w = arg;
	struct fake_conn *f;

	if (w->fail_connect) {
		w->fail_connect--;
		kr_error_set(KR_ESSH,
			"cannot connect to '%s': Connection "
			"refused",
			o->host);
		return KR_ESSH;
	}
	f = kr_xcalloc(1, sizeof(*f));
	f->base.vt = &fake_vt;
	f->base.host = o->host;
	f->w = w;
	f->id = w->connects++;
	*out = &f->base;
	return 0;
}

static void
on_reconnect(const char *host, const char *reason, void *arg)
{
	struct fake_world *w = arg;

	w->reconnects++;
	snprintf(w->reason, sizeof(w->reason), "%s: %s", host,
		reason ? reason : "(none)");
}

static void
setup_conns(struct kr_conns *c, struct fake_world *w)
{
	kr_conns_init(c);
	c->connect = fake_connect;
	c->connect_arg = w;
	c->on_reconnect = on_reconnect;
	c->reconnect_arg = w;
}

static int
run(struct kr_transport *t, const char *cmd)
{
	struct kr_exec_result r;
	int err;

	kr_exec_result_init(&r, 0);
	err = t->vt->exec(t, cmd, NULL, 0, &r);
	kr_exec_result_release(&r);
	return err;
}

static void
test_one_connection_reused(void **state)
{
	struct fake_world w = { 0 };
	struct kr_conns c;
	struct kr_transport_opts o1 = { .host = "h1" }, o2 = { .host = "h2" };
	struct kr_transport *t = NULL, *t2 = NULL;
	size_t i1, i2;

	(void)state;
	setup_conns(&c, &w);
	i1 = kr_conns_add(&c, &o1);
	i2 = kr_conns_add(&c, &o2);
	assert_int_not_equal(i1, i2);
	assert_int_equal(kr_conns_add(&c, &o1), i1);
	assert_int_equal(kr_conns_find(&c, "h2"), i2);
	assert_int_equal(kr_conns_find(&c, "h9"), KR_CONNS_NONE);
	/* nothing is opened before it is used */
	assert_int_equal(w.connects, 0);
	assert_int_equal(kr_conns_get(&t, &c, i1), 0);
	assert_int_equal(w.connects, 1);
	assert_string_equal(t->host, "h1");
	assert_int_equal(run(t, "observe"), 0);
	/* the slot's close is a no-op: the next user gets it open */
	kr_transport_close(t);
	assert_int_equal(w.closed, 0);
	assert_int_equal(kr_conns_get(&t2, &c, i1), 0);
	assert_ptr_equal(t2, t);
	assert_int_equal(run(t2, "lock"), 0);
	assert_int_equal(run(t2, "script"), 0);
	assert_int_equal(run(t2, "observe"), 0);
	assert_int_equal(run(t2, "release"), 0);
	assert_int_equal(w.connects, 1);
	assert_int_equal(t2->exec_count, 5);
	assert_int_equal(kr_conns_opened(&c, i1), 1);
	assert_int_equal(kr_conns_opened(&c, i2), 0);
	assert_int_equal(kr_conns_opened(&c, KR_CONNS_NONE), 0);
	assert_int_equal(w.reconnects, 0);
	kr_conns_release(&c);
	assert_int_equal(w.closed, 1);
	kr_conns_release(NULL);
}

static void
test_lost_before_start_resent(void **state)
{
	struct fake_world w = { 0 };
	struct kr_conns c;
	struct kr_transport_opts o = { .host = "h1" };
	struct kr_transport *t = NULL;

	(void)state;
	/* the first connection: one exec, then dropped while idle */
	w.steps[0][1] = LOST_BEFORE;
	setup_conns(&c, &w);
	assert_int_equal(kr_conns_get(&t, &c, kr_conns_add(&c, &o)), 0);
	assert_int_equal(run(t, "observe"), 0);
	assert_int_equal(run(t, "lock"), 0);
	/* the lock was sent again on a new connection, and ran once */
	assert_int_equal(w.connects, 2);
	assert_int_equal(w.ran, 2);
	assert_int_equal(w.closed, 1);
	assert_int_equal(t->exec_count, 2);
	assert_int_equal(w.reconnects, 1);
	assert_non_null(strstr(w.reason, "h1: cannot open a channel"));
	assert_int_equal(run(t, "script"), 0);
	assert_int_equal(w.connects, 2);
	/* lost again: no third connection */
	w.steps[1][2] = LOST_BEFORE;
	assert_int_equal(run(t, "release"), KR_ESSH);
	assert_int_equal(w.connects, 2);
	assert_int_equal(run(t, "release"), KR_ESSH);
	assert_non_null(strstr(kr_error_last(), "lost again"));
	assert_int_equal(w.connects, 2);
	assert_int_equal(w.reconnects, 1);
	kr_conns_release(&c);
	assert_int_equal(w.closed, 2);
}

static void
test_lost_during_not_resent(void **state)
{
	struct fake_world w = { 0 };
	struct kr_conns c;
	struct kr_transport_opts o = { .host = "h1" };
	struct kr_transport *t = NULL;

	(void)state;
	w.steps[0][0] = LOST_DURING;
	setup_conns(&c, &w);
	assert_int_equal(kr_conns_get(&t, &c, kr_conns_add(&c, &o)), 0);
	/* what the script did is unknown: its failure stands */
	assert_int_equal(run(t, "script"), KR_ESSH);
	assert_non_null(strstr(kr_error_last(), "connection lost"));
	assert_int_equal(w.ran, 1);
	assert_int_equal(w.connects, 1);
	assert_int_equal(w.reconnects, 0);
	assert_int_equal(t->exec_count, 1);
	/* the next command gets a new connection */
	assert_int_equal(run(t, "observe"), 0);
	assert_int_equal(w.connects, 2);
	assert_int_equal(w.reconnects, 1);
	assert_non_null(strstr(w.reason, "connection lost while running"));
	assert_int_equal(t->exec_count, 2);
	kr_conns_release(&c);
}

static void
test_failed_connect_not_retried(void **state)
{
	struct fake_world w = { 0 };
	struct kr_conns c;
	struct kr_transport_opts o = { .host = "h1" };
	struct kr_transport *t = NULL;
	size_t i;

	(void)state;
	w.fail_connect = 1;
	setup_conns(&c, &w);
	i = kr_conns_add(&c, &o);
	assert_int_equal(kr_conns_get(&t, &c, i), KR_ESSH);
	assert_null(t);
	assert_non_null(strstr(kr_error_last(), "Connection refused"));
	kr_error_set(0, "%s", "");
	/* the same error at once, without a second attempt */
	assert_int_equal(kr_conns_get(&t, &c, i), KR_ESSH);
	assert_non_null(strstr(kr_error_last(), "Connection refused"));
	assert_int_equal(w.connects, 0);
	assert_int_equal(w.fail_connect, 0);
	assert_int_equal(kr_conns_opened(&c, i), 0);
	assert_int_equal(kr_conns_get(&t, &c, 7), KR_EINVAL);
	kr_conns_release(&c);
}

static void
test_observe_all_keeps_connection(void **state)
{
	struct fake_world w = { 0 };
	struct kr_conns c;
	struct kr_docker_scope scope = { .service = "app" };
	struct kr_observe_job jobs[2];
	struct kr_transport *t = NULL;
	size_t i, round;

	(void)state;
	w.fail_connect = 0;
	setup_conns(&c, &w);
	for (round = 0; round < 2; round++) {
		memset(jobs, 0, sizeof(jobs));
		jobs[0].opts.host = "h1";
		jobs[1].opts.host = "h2";
		for (i = 0; i < 2; i++) {
			jobs[i].scope = &scope;
			jobs[i].conns = &c;
		}
		/* the fake prints no frames: a parse failure, one exec */
		assert_int_equal(
			kr_docker_observe_all(jobs, 2, 2, NULL, NULL), 2);
		for (i = 0; i < 2; i++) {
			assert_int_equal(jobs[i].execs, 1);
			assert_int_not_equal(
				jobs[i].result.status, KR_OBS_UNREACHABLE);
			kr_observed_host_release(&jobs[i].result);
		}
	}
	/* two observes of two hosts: two connections, both still open */
	assert_int_equal(c.n, 2);
	assert_int_equal(w.connects, 2);
	assert_int_equal(w.closed, 0);
	assert_int_equal(kr_conns_get(&t, &c, kr_conns_find(&c, "h2")), 0);
	assert_int_equal(t->exec_count, 2);
	kr_conns_release(&c);
	assert_int_equal(w.closed, 2);
}

static void
test_observe_all_unreachable(void **state)
{
	struct fake_world w = { 0 };
	struct kr_conns c;
	struct kr_docker_scope scope = { .service = "app" };
	struct kr_observe_job job;

	(void)state;
	w.fail_connect = 1;
	setup_conns(&c, &w);
	memset(&job, 0, sizeof(job));
	job.opts.host = "h1";
	job.scope = &scope;
	job.conns = &c;
	assert_int_equal(kr_docker_observe_all(&job, 1, 1, NULL, NULL), 1);
	assert_int_equal(job.result.status, KR_OBS_UNREACHABLE);
	assert_non_null(strstr(job.result.error, "Connection refused"));
	assert_int_equal(job.execs, 0);
	kr_observed_host_release(&job.result);
	kr_conns_release(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_connection_reused),
		cmocka_unit_test(test_lost_before_start_resent),
		cmocka_unit_test(test_lost_during_not_resent),
		cmocka_unit_test(test_failed_connect_not_retried),
		cmocka_unit_test(test_observe_all_keeps_connection),
		cmocka_unit_test(test_observe_all_unreachable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
