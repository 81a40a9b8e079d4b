/*
 * Apply (see apply.h): the deploy lock, then every host's script run in
 * parallel through the pool, one exec per host, each step journaled before
 * the exec and after it from the script's markers.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "common/quote.h"
#include "drivers/docker.h"
#include "drivers/pool.h"
#include "reconciler/apply.h"
#include "reconciler/apply_int.h"
#include "state/store.h"

#define APPLY_OUTPUT_MAX ((size_t)16 * 1024 * 1024)
#define ERROR_TAIL 3000

/* ---- the deploy lock ----------------------------------------------------- */

static void
base64_wrapped(struct kr_buf *out, const unsigned char *s, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, col = 0;

	/* Ruby's Base64.encode64: 60 characters a line, each line ended */
	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16;
		char q[4];

		if (i + 1 < n)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		q[0] = tab[(v >> 18) & 63];
		q[1] = tab[(v >> 12) & 63];
		q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? tab[v & 63] : '=';
		kr_buf_put(out, q, 4);
		col += 4;
		if (col == 60) {
			kr_buf_putc(out, '\n');
			col = 0;
		}
	}
	if (col)
		kr_buf_putc(out, '\n');
}

static void
iso8601(char out[32], time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
kr_apply_lock_acquire(char **holder, struct kr_transport *t,
	const struct kr_apply_lock_opts *o)
{
	struct kr_buf cmd = KR_BUF_INIT, details = KR_BUF_INIT,
		      b64 = KR_BUF_INIT;
	struct kr_exec_result res;
	char ts[32], reason[256];
	char *dir = kr_docker_lock_dir(o->service, o->destination);
	const char *held;
	int err;

	kr_exec_result_init(&res, 1024 * 1024);
	iso8601(ts, o->now ? o->now : time(NULL));
	kr_buf_printf(&details, "Locked by: %s at %s\nVersion: %s\nMessage: %s",
		o->who ? o->who : "kreconcile", ts,
		o->version ? o->version : "", o->message ? o->message : "");
	base64_wrapped(&b64, (const unsigned char *)details.ptr, details.len);

	/* one attempt: the caller waits between attempts (and hears Ctrl-C) */
	kr_buf_puts(&cmd, "mkdir -p .kamal || exit 1\nif ! mkdir ");
	kr_shell_quote(&cmd, dir);
	kr_buf_puts(&cmd, " 2>/dev/null; then\n\tif [ ! -d ");
	kr_shell_quote(&cmd, dir);
	kr_buf_puts(&cmd, " ]; then echo \"cannot create the lock directory\"; "
			  "exit 1; fi\n\techo '@@KRL held'\n\tbase64 -d <");
	kr_shell_quote(&cmd, dir);
	kr_buf_puts(&cmd, "/details 2>/dev/null || echo '(no details)'\n"
			  "\texit 3\nfi\nprintf '%s\\n'");
	kr_shell_arg(&cmd, b64.ptr);
	kr_buf_puts(&cmd, " >");
	kr_shell_quote(&cmd, dir);
	kr_buf_puts(&cmd, "/details\necho '@@KRL acquired'\n");

	if ((err = t->vt->exec(t, cmd.ptr, NULL, 0, &res)) < 0)
		goto out;
	if (res.status == 0 && strstr(res.out.ptr, "@@KRL acquired")) {
		err = 0;
		goto out;
	}
	if (res.status == 3 && (held = strstr(res.out.ptr, "@@KRL held\n"))) {
		size_t n;

		held += strlen("@@KRL held\n");
		n = strlen(held);
		while (n && (held[n - 1] == '\n' || held[n - 1] == '\r'))
			n--;
		if (holder)
			*holder = kr_xstrndup(held, n);
		kr_error_set(KR_ELOCKED,
			"the deploy lock '%s' on '%s' is held "
			"by someone else",
			dir, t->host ? t->host : "?");
		err = KR_ELOCKED;
		goto out;
	}
	kr_error_set(KR_EIO, "cannot take the deploy lock '%s' on '%s': %s",
		dir, t->host ? t->host : "?",
		kr_exec_result_reason(&res, reason, sizeof(reason)));
	err = KR_EIO;
out:
	kr_exec_result_release(&res);
	kr_buf_release(&cmd);
	kr_buf_release(&details);
	kr_buf_release(&b64);
	free(dir);
	return err;
}

int
kr_apply_lock_release(struct kr_transport *t, const char *service,
	const char *destination, const char *audit_line)
{
	struct kr_buf cmd = KR_BUF_INIT;
	struct kr_exec_result res;
	char *dir = kr_docker_lock_dir(service, destination);
	char *audit = kr_apply_audit_path(service, destination);
	char reason[256];
	int err;

	kr_exec_result_init(&res, 64 * 1024);
	if (audit_line) {
		kr_buf_puts(&cmd, "mkdir -p .kamal && printf '%s\\n'");
		kr_shell_arg(&cmd, audit_line);
		kr_buf_puts(&cmd, " >>");
		kr_shell_arg(&cmd, audit);
		kr_buf_puts(&cmd, "\n");
	}
	kr_buf_puts(&cmd, "rm");
	kr_shell_arg(&cmd, dir);
	kr_buf_puts(&cmd, "/details && rm -r");
	kr_shell_arg(&cmd, dir);
	kr_buf_puts(&cmd, "\n");
	if ((err = t->vt->exec(t, cmd.ptr, NULL, 0, &res)) < 0)
		goto out;
	if (res.status != 0) {
		kr_error_set(KR_EIO,
			"cannot release the deploy lock '%s' on "
			"'%s': %s",
			dir, t->host ? t->host : "?",
			kr_exec_result_reason(&res, reason, sizeof(reason)));
		err = KR_EIO;
	}
out:
	kr_exec_result_release(&res);
	kr_buf_release(&cmd);
	free(dir);
	free(audit);
	return err;
}

/* ---- running the scripts ------------------------------------------------- */

struct actx {
	const struct kr_apply_opts *o;
	struct kr_apply_result *r;
	struct kr_apply_script *scripts;
	struct kr_strvec secrets; /* masked in outputs and errors */
	pthread_mutex_t mu;
};

static void
event(struct actx *x, const char *host, const char *address, const char *action,
	const char *what, const char *detail)
{
	struct kr_apply_event ev = { host, address, action, what, detail,
		NULL };

	if (!x->o->progress)
		return;
	pthread_mutex_lock(&x->mu);
	x->o->progress(&ev, x->o->progress_arg);
	pthread_mutex_unlock(&x->mu);
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
host_event(struct actx *x, const struct kr_apply_host *hr)
{
	struct kr_apply_event ev = { hr->name, NULL, NULL,
		hr->state == KR_APPLY_HOST_OK ? "ok" : "failed", hr->error,
		hr };

	if (!x->o->progress)
		return;
	pthread_mutex_lock(&x->mu);
	x->o->progress(&ev, x->o->progress_arg);
	pthread_mutex_unlock(&x->mu);
}

static const char *
step_result_name(enum kr_step_result r)
{
	switch (r) {
	case KR_STEP_OK:
		return "ok";
	case KR_STEP_FAILED:
		return "failed";
	case KR_STEP_NOT_RUN:
		break;
	}
	return "not run";
}

/* The last ERROR_TAIL bytes of s, from a line start when possible. */
static char *
tail_of(const char *s)
{
	size_t n = strlen(s);
	const char *p = s;

	if (n > ERROR_TAIL) {
		p = s + n - ERROR_TAIL;
		if (strchr(p, '\n') && strchr(p, '\n')[1])
			p = strchr(p, '\n') + 1;
	}
	return kr_xstrdup(p);
}

/* An env change whose app failed its health gate: the old file is back. */
static bool
env_restored(
	const struct kr_plan *p, const struct kr_apply_script *s, size_t ci)
{
	const struct kr_change *ce = &p->changes[ci];
	size_t i;

	if (ce->type != KR_CHANGE_ENV || !ce->env_file)
		return false;
	for (i = 0; i < s->nsteps; i++) {
		const struct kr_change *c = &p->changes[s->steps[i].change];

		if (c->type == KR_CHANGE_APP && c->env_file == ce->env_file &&
			s->steps[i].result == KR_STEP_FAILED)
			return true;
	}
	return false;
}

static void
count_changes(struct kr_apply_host *hr, const struct kr_plan *p,
	const struct kr_apply_script *s)
{
	size_t i, j;

	for (i = 0; i < s->nsteps; i++) {
		size_t ci = s->steps[i].change;
		bool done = true, first = true;

		/* once per change: at its first step */
		for (j = 0; j < i; j++)
			if (s->steps[j].change == ci)
				first = false;
		if (!first)
			continue;
		for (j = i; j < s->nsteps; j++)
			if (s->steps[j].change == ci &&
				s->steps[j].result != KR_STEP_OK)
				done = false;
		if (!done || env_restored(p, s, ci))
			continue;
		switch (p->changes[ci].action) {
		case KR_ACTION_CREATE:
			hr->added++;
			break;
		case KR_ACTION_UPDATE:
		case KR_ACTION_REPLACE:
			hr->changed++;
			break;
		case KR_ACTION_DELETE:
			hr->destroyed++;
			break;
		default:
			break;
		}
	}
}

static void
journal_end_all(struct actx *x, struct kr_apply_script *s,
	const int64_t *entries, const char *result_override, const char *detail)
{
	size_t i;

	for (i = 0; i < s->nsteps; i++) {
		struct kr_apply_step *st = &s->steps[i];
		const char *res = result_override ?
					  result_override :
					  step_result_name(st->result);

		if (x->o->store && entries[i])
			kr_store_journal_end(x->o->store, entries[i], res,
				st->output ? st->output : detail);
		event(x, s->host, st->address, st->action, res,
			st->output ? st->output : detail);
	}
}

static int
host_run(size_t i, void *arg)
{
	struct actx *x = arg;
	const struct kr_apply_opts *o = x->o;
	struct kr_apply_script *s = &x->scripts[i];
	struct kr_apply_host *hr = &x->r->hosts[i];
	struct kr_transport *t = NULL;
	struct kr_exec_result res;
	int64_t *entries = NULL;
	char reason[512];
	size_t k;
	int err = 0;
	double t0 = now_seconds();

	kr_exec_result_init(&res, APPLY_OUTPUT_MAX);
	if (!s->nsteps)
		goto out;
	entries = kr_xcalloc(s->nsteps, sizeof(*entries));
	if (o->interrupted && *o->interrupted) {
		hr->state = KR_APPLY_HOST_SKIPPED;
		hr->error = kr_xstrdup("interrupted before it started");
		for (k = 0; k < s->nsteps; k++)
			if (o->store)
				kr_store_journal_begin(&entries[k], o->store,
					o->run, s->host, s->steps[k].address,
					s->steps[k].action);
		journal_end_all(x, s, entries, "not run (interrupted)", NULL);
		hr->steps_not_run = s->nsteps;
		goto out;
	}
	for (k = 0; k < s->nsteps; k++) {
		if (o->store &&
			(err = kr_store_journal_begin(&entries[k], o->store,
				 o->run, s->host, s->steps[k].address,
				 s->steps[k].action)) < 0) {
			hr->state = KR_APPLY_HOST_FAILED;
			hr->error = kr_xasprintf(
				"cannot journal: %s", kr_error_last());
			kr_apply_mask(&x->secrets, &hr->error);
			journal_end_all(x, s, entries, "not run", hr->error);
			hr->steps_not_run = s->nsteps;
			goto out;
		}
		event(x, s->host, s->steps[k].address, s->steps[k].action,
			"starting", NULL);
	}
	if ((err = o->connect(&t, s->host, o->connect_arg)) < 0) {
		hr->state = KR_APPLY_HOST_FAILED;
		hr->error = kr_xasprintf("cannot connect: %s", kr_error_last());
		kr_apply_mask(&x->secrets, &hr->error);
		journal_end_all(x, s, entries, "not run", hr->error);
		hr->steps_not_run = s->nsteps;
		goto out;
	}
	hr->execs++;
	err = t->vt->exec(t, s->text.ptr, s->input.len ? s->input.ptr : NULL,
		s->input.len, &res);
	if (err < 0) {
		/* what ran is unknown past the output we have */
		char *msg =
			kr_xasprintf("the exec failed: %s", kr_error_last());

		kr_apply_script_parse(s, res.out.ptr, res.out.len);
		hr->state = KR_APPLY_HOST_FAILED;
		hr->error = msg;
	} else {
		kr_apply_script_parse(s, res.out.ptr, res.out.len);
	}
	for (k = 0; k < s->nsteps; k++) {
		struct kr_apply_step *st = &s->steps[k];

		kr_apply_mask(&x->secrets, &st->output);
		if (st->result == KR_STEP_OK)
			hr->steps_ok++;
		else if (st->result == KR_STEP_FAILED)
			hr->steps_failed++;
		else
			hr->steps_not_run++;
		if (st->result == KR_STEP_FAILED && !hr->error)
			hr->error =
				kr_xasprintf("%s (%s) failed%s%s", st->address,
					st->action, st->output ? ":\n" : "",
					st->output ? st->output : "");
	}
	if (!hr->error && hr->steps_not_run) {
		/* the script stopped without a failed step: say why */
		hr->error = kr_xasprintf("the script stopped early (exit "
					 "status %d): %s",
			res.status,
			kr_exec_result_reason(&res, reason, sizeof(reason)));
	}
	if (hr->error) {
		char *t2;

		kr_apply_mask(&x->secrets, &hr->error);
		t2 = tail_of(hr->error);

		free(hr->error);
		hr->error = t2;
		hr->state = KR_APPLY_HOST_FAILED;
	} else {
		hr->state = KR_APPLY_HOST_OK;
	}
	journal_end_all(x, s, entries, NULL, NULL);
	count_changes(hr, o->plan, s);
	hr->seconds = now_seconds() - t0;
	host_event(x, hr);
	err = 0;
out:
	if (t && o->disconnect)
		o->disconnect(t, o->connect_arg);
	else
		kr_transport_close(t);
	kr_exec_result_release(&res);
	free(entries);
	return err;
}

int
kr_apply_run(struct kr_apply_result *out, const struct kr_apply_opts *o)
{
	const struct kr_plan *p = o->plan;
	struct kr_apply_script_opts so = { 0 };
	struct kr_pool_result *pr = NULL;
	struct actx x = { .o = o, .r = out };
	size_t i;
	int err = 0;

	memset(out, 0, sizeof(*out));
	out->nhosts = p->nhosts;
	out->hosts = kr_xcalloc(p->nhosts + 1, sizeof(*out->hosts));
	x.scripts = kr_xcalloc(p->nhosts + 1, sizeof(*x.scripts));
	so.performer = o->performer;
	so.now = o->now;
	so.nonce = o->nonce;
	so.suffix = o->suffix;
	pthread_mutex_init(&x.mu, NULL);
	kr_apply_mask_collect(&x.secrets, o->desired);

	/* every script first: a change that cannot be carried out stops
	 * the apply before anything is touched */
	for (i = 0; i < p->nhosts; i++) {
		const struct kr_plan_host *ph = &p->hosts[i];

		out->hosts[i].name = ph->name;
		if (ph->status != KR_OBS_OK) {
			out->hosts[i].state = ph->configured ?
						      KR_APPLY_HOST_FAILED :
						      KR_APPLY_HOST_NOTHING;
			if (ph->configured)
				out->hosts[i].error = kr_xasprintf(
					"not "
					"observed (%s): %s",
					kr_obs_status_name(ph->status),
					ph->error ? ph->error : "no details");
			kr_apply_mask(&x.secrets, &out->hosts[i].error);
			continue;
		}
		if ((err = kr_apply_script_build(
			     &x.scripts[i], o->desired, p, ph, &so)) < 0)
			goto out;
	}
	pr = kr_xcalloc(p->nhosts + 1, sizeof(*pr));
	kr_pool_run(pr, p->nhosts, o->max_parallel, host_run, NULL, &x);
	for (i = 0; i < p->nhosts; i++) {
		struct kr_apply_host *hr = &out->hosts[i];

		if (pr[i].rc < 0 && !hr->error) {
			hr->state = KR_APPLY_HOST_FAILED;
			hr->error = kr_xstrdup(
				pr[i].error ? pr[i].error : "failed");
			kr_apply_mask(&x.secrets, &hr->error);
		}
		switch (hr->state) {
		case KR_APPLY_HOST_OK:
			out->hosts_ok++;
			break;
		case KR_APPLY_HOST_FAILED:
			out->hosts_failed++;
			break;
		case KR_APPLY_HOST_SKIPPED:
			out->hosts_skipped++;
			break;
		case KR_APPLY_HOST_NOTHING:
			break;
		}
		out->added += hr->added;
		out->changed += hr->changed;
		out->destroyed += hr->destroyed;
	}
	out->interrupted = o->interrupted && *o->interrupted;
out:
	if (pr)
		kr_pool_results_release(pr, p->nhosts);
	free(pr);
	for (i = 0; i < p->nhosts; i++)
		kr_apply_script_release(&x.scripts[i]);
	free(x.scripts);
	kr_apply_mask_release(&x.secrets);
	pthread_mutex_destroy(&x.mu);
	return err;
}

void
kr_apply_result_release(struct kr_apply_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nhosts; i++)
		free(r->hosts[i].error);
	free(r->hosts);
	memset(r, 0, sizeof(*r));
}
