/*
 * The Docker observe driver (see docker.h): observing one host in one exec
 * (a fresh nonce, the script from docker_script.c, its output parsed by
 * docker_parse.c) and many hosts at once through the pool. The scope lives
 * in docker_scope.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/quote.h"
#include "drivers/conns.h"
#include "drivers/docker.h"
#include "drivers/docker_int.h"
#include "drivers/pool.h"

int
kr_docker_fail_host(struct kr_observed_host *h, const char *host,
	enum kr_obs_status status, int err)
{
	char *msg = kr_xstrdup(kr_error_last());

	kr_observed_host_set_failure(h, host, status, msg);
	kr_error_set(err, "%s", msg);
	free(msg);
	return err;
}

static void
make_nonce(char out[17])
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	unsigned char rnd[16];
	size_t i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		unsigned long v = (unsigned long)time(NULL) ^
				  (unsigned long)getpid() ^
				  (unsigned long)(size_t)out;

		for (i = 0; i < sizeof(rnd);
			i++, v = v * 6364136223846793005UL + 1)
			rnd[i] = (unsigned char)(v >> 33);
	}
	for (i = 0; i < 16; i++)
		out[i] = digits[rnd[i] % 36];
	out[16] = '\0';
}

int
kr_docker_observe(struct kr_observed_host *out, struct kr_transport *t,
	const struct kr_docker_scope *scope)
{
	struct kr_buf script = KR_BUF_INIT, cmd = KR_BUF_INIT;
	struct kr_exec_result res;
	char nonce[17];
	const char *host = t->host ? t->host : "?";
	int err;

	memset(out, 0, sizeof(*out));
	kr_exec_result_init(&res, 0);
	make_nonce(nonce);
	if ((err = kr_docker_observe_script(&script, scope, nonce)) < 0 ||
		(err = kr_buf_puts(&cmd, "/bin/sh -c")) < 0 ||
		(err = kr_shell_arg(&cmd, script.ptr)) < 0)
		goto fail;
	if ((err = t->vt->exec(t, cmd.ptr, NULL, 0, &res)) < 0)
		goto fail;
	if (res.status != 0 && res.out.len == 0) {
		char reason[256];

		kr_error_set(KR_EIO, "observe script failed on '%s': %s", host,
			kr_exec_result_reason(&res, reason, sizeof(reason)));
		err = KR_EIO;
		goto fail;
	}
	err = kr_docker_parse(
		out, host, scope, nonce, res.out.ptr, res.out.len);
	out->observed_at = time(NULL);
	goto done;
fail:
	kr_docker_fail_host(out, host, KR_OBS_FAILED, err);
done:
	kr_exec_result_release(&res);
	kr_buf_release(&script);
	kr_buf_release(&cmd);
	return err;
}

struct observe_all {
	struct kr_observe_job *jobs;
	size_t *slots; /* each job's slot in its conns (with conns) */
	void (*progress)(const struct kr_observe_job *job, void *arg);
	void *arg;
};

/* Observe on the run's connection of the host, kept open. */
static int
observe_cached(struct kr_observe_job *job, size_t slot)
{
	struct kr_transport *t = NULL;
	unsigned before;
	int err, tries;

	for (tries = 0;; tries++) {
		if ((err = kr_conns_get(&t, job->conns, slot)) < 0)
			return tries ? kr_docker_fail_host(&job->result,
					       job->opts.host, KR_OBS_FAILED,
					       err) :
				       kr_docker_fail_host(&job->result,
					       job->opts.host,
					       KR_OBS_UNREACHABLE, err);
		before = t->exec_count;
		err = kr_docker_observe(&job->result, t, job->scope);
		job->execs += t->exec_count - before;
		/* lost mid-command: reading again does no harm, once */
		if (err != KR_ESSH || tries)
			return err;
		kr_observed_host_release(&job->result);
	}
}

static int
observe_one(size_t i, void *data)
{
	struct observe_all *all = data;
	struct kr_observe_job *job = &all->jobs[i];
	struct kr_transport *t = NULL;
	int err;

	job->execs = 0;
	if (job->conns)
		return observe_cached(job, all->slots[i]);
	if ((err = kr_transport_connect(&t, &job->opts)) < 0)
		return kr_docker_fail_host(
			&job->result, job->opts.host, KR_OBS_UNREACHABLE, err);
	err = kr_docker_observe(&job->result, t, job->scope);
	job->execs = t->exec_count;
	kr_transport_close(t);
	return err;
}

static void
observe_progress(size_t i, const struct kr_pool_result *r, void *data)
{
	struct observe_all *all = data;

	if (all->progress)
		all->progress(&all->jobs[i], all->arg);
}

size_t
kr_docker_observe_all(struct kr_observe_job *jobs, size_t n,
	unsigned max_parallel,
	void (*progress)(const struct kr_observe_job *job, void *arg),
	void *arg)
{
	struct observe_all all = { jobs, NULL, progress, arg };
	struct kr_pool_result *r = kr_xcalloc(n ? n : 1, sizeof(*r));
	size_t failed, i;

	/* every slot before the threads: then each touches only its own */
	all.slots = kr_xcalloc(n ? n : 1, sizeof(*all.slots));
	for (i = 0; i < n; i++)
		if (jobs[i].conns)
			all.slots[i] =
				kr_conns_add(jobs[i].conns, &jobs[i].opts);
	failed = kr_pool_run(
		r, n, max_parallel, observe_one, observe_progress, &all);
	kr_pool_results_release(r, n);
	free(r);
	free(all.slots);
	return failed;
}
