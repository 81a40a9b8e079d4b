/*
 * The frame of an apply step and the small command writers every step
 * uses (apply_int.h): a step's begin/end markers around its `set -e`
 * subshell, audit lines, secret bytes for stdin, file writes, stop, rm and
 * pull of containers. Also the audit log's path and line (apply.h), which
 * the lock code shares.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "common/quote.h"
#include "drivers/docker_cmd.h"
#include "reconciler/apply_int.h"
#include "reconciler/defhash.h"

char *
kr_apply_audit_path(const char *service, const char *destination)
{
	if (destination && *destination)
		return kr_xasprintf(
			".kamal/%s-%s-audit.log", service, destination);
	return kr_xasprintf(".kamal/%s-audit.log", service);
}

char *
kr_apply_audit_line(time_t now, const char *performer, const char *destination,
	const char *role, const char *message)
{
	struct kr_buf b = KR_BUF_INIT;
	char ts[32];
	struct tm tm;

	if (!now)
		now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	kr_buf_printf(
		&b, "[%s] [%s]", ts, performer ? performer : "kreconcile");
	if (destination && *destination)
		kr_buf_printf(&b, " [%s]", destination);
	if (role && *role)
		kr_buf_printf(&b, " [%s]", role);
	kr_buf_printf(&b, " %s", message);
	/* one line, whatever the message holds */
	for (size_t i = 0; i < b.len; i++)
		if (b.ptr[i] == '\n' || b.ptr[i] == '\r')
			b.ptr[i] = ' ';
	return kr_buf_detach(&b, NULL);
}

struct kr_apply_step *
kr_apply_step_add(struct kr_apply_script *s, size_t change, const char *address,
	const char *action)
{
	struct kr_apply_step *st;

	if (s->nsteps == s->steps_alloc) {
		s->steps_alloc = s->steps_alloc ? 2 * s->steps_alloc : 8;
		s->steps = kr_xrealloc(
			s->steps, s->steps_alloc * sizeof(*s->steps));
	}
	st = &s->steps[s->nsteps++];
	memset(st, 0, sizeof(*st));
	st->change = change;
	st->address = kr_xstrdup(address);
	st->action = kr_xstrdup(action);
	return st;
}

/* Open the last added step's framed `set -e` subshell (its begin marker). */
void
kr_apply_step_open(struct kr_apply_sctx *x, const char *comment)
{
	struct kr_buf *t = &x->s->text;

	kr_buf_printf(t, "\n# %zu: ", x->s->nsteps - 1);
	/* the comment is ours (address and action): keep it on one line */
	for (const char *p = comment; *p; p++)
		kr_buf_putc(t, *p == '\n' ? ' ' : *p);
	kr_buf_printf(t,
		"\nif [ \"$kr_stop\" = 0 ]; then\n"
		"printf '%%s begin %zu\\n' \"$kr_m\"\n(\nset -e\n",
		x->s->nsteps - 1);
}

/* Close it: stdin is /dev/null unless the step reads its bytes from it. */
void
kr_apply_step_close(struct kr_apply_sctx *x, bool uses_stdin)
{
	kr_buf_printf(&x->s->text,
		")%s 2>&1\nkr_rc=$?\n"
		"printf '\\n%%s end %zu %%s\\n' \"$kr_m\" \"$kr_rc\"\n"
		"[ \"$kr_rc\" = 0 ] || kr_stop=1\nfi\n",
		uses_stdin ? "" : " </dev/null", x->s->nsteps - 1);
}

void
kr_apply_step_audit(
	struct kr_apply_sctx *x, const char *role, const char *fmt, ...)
{
	struct kr_buf msg = KR_BUF_INIT;
	char *line;
	va_list ap;

	va_start(ap, fmt);
	kr_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	line = kr_apply_audit_line(x->now, x->o ? x->o->performer : NULL,
		x->d->destination, role, msg.ptr);
	kr_buf_puts(&x->s->text, "printf '%s\\n'");
	kr_shell_arg(&x->s->text, line);
	kr_buf_puts(&x->s->text, " >>");
	kr_shell_arg(&x->s->text, x->audit_path);
	kr_buf_puts(&x->s->text, "\n");
	free(line);
	kr_buf_release(&msg);
}

/* Secret bytes for kr_put / kr_in: appended to stdin, never to the text. */
void
kr_apply_step_input(struct kr_apply_sctx *x, const char *data, size_t len)
{
	kr_buf_put(&x->s->input, data, len);
}

void
kr_apply_step_line(struct kr_apply_sctx *x, const struct kr_buf *cmd)
{
	kr_buf_put(&x->s->text, cmd->ptr, cmd->len);
	kr_buf_putc(&x->s->text, '\n');
}

/* mkdir -p of the directory holding a home-relative or absolute path. */
static void
mkdir_parent(struct kr_apply_sctx *x, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;

	if (!slash || slash == path)
		return;
	dir = kr_xstrndup(path, (size_t)(slash - path));
	kr_buf_puts(&x->s->text, "mkdir -p -- ");
	kr_docker_cmd_home_path(&x->s->text, dir);
	kr_buf_putc(&x->s->text, '\n');
	free(dir);
}

/* Write content (stdin bytes) to path with mode. */
void
kr_apply_step_write_file(struct kr_apply_sctx *x, const char *path,
	const char *content, size_t len, const char *mode)
{
	mkdir_parent(x, path);
	kr_buf_puts(&x->s->text, "kr_put ");
	kr_docker_cmd_home_path(&x->s->text, path);
	kr_buf_printf(&x->s->text, " %zu", len);
	kr_shell_arg(&x->s->text, mode);
	kr_buf_putc(&x->s->text, '\n');
	kr_apply_step_input(x, content, len);
}

/*
 * Where an env step keeps the file it overwrites, for this run only (the
 * random suffix): if the app reading it then fails its health gate, the
 * old file comes back with the old container, so the next plan still sees
 * the difference. Outside the env directory, which observe scans.
 */
char *
kr_apply_step_prev_path(const struct kr_apply_sctx *x, const char *path)
{
	char *flat = kr_xstrdup(path), *p, *out;

	for (p = flat; *p; p++)
		if (*p == '/')
			*p = '%';
	out = kr_xasprintf(".kamal/kreconcile-prev/%s-%s", x->suffix, flat);
	free(flat);
	return out;
}

void
kr_apply_step_stop(
	struct kr_apply_sctx *x, const struct kr_strvec *ids, int timeout)
{
	if (!ids->n)
		return;
	kr_buf_printf(&x->s->text, "kr_stopc %d", timeout > 0 ? timeout : 0);
	for (size_t i = 0; i < ids->n; i++)
		kr_shell_arg(&x->s->text, ids->v[i]);
	kr_buf_putc(&x->s->text, '\n');
}

void
kr_apply_step_rm(struct kr_apply_sctx *x, const struct kr_strvec *ids)
{
	struct kr_buf cmd = KR_BUF_INIT;

	if (!ids->n)
		return;
	kr_docker_cmd_rm(&cmd, ids);
	kr_buf_puts(&cmd, " >/dev/null");
	kr_apply_step_line(x, &cmd);
	kr_buf_release(&cmd);
}

void
kr_apply_step_start(struct kr_apply_sctx *x, const char *id)
{
	struct kr_buf cmd = KR_BUF_INIT;

	kr_docker_cmd_start(&cmd, id);
	kr_buf_puts(&cmd, " >/dev/null");
	kr_apply_step_line(x, &cmd);
	kr_buf_release(&cmd);
}

void
kr_apply_step_pull(struct kr_apply_sctx *x, const char *ref, const char *digest)
{
	struct kr_buf cmd = KR_BUF_INIT;

	if (digest)
		kr_docker_cmd_pull_digest(&cmd, ref, digest);
	else
		kr_docker_cmd_pull(&cmd, ref);
	kr_buf_puts(&cmd, " >/dev/null");
	kr_apply_step_line(x, &cmd);
	kr_buf_release(&cmd);
}

char *
kr_apply_step_hash_label(const char *defhash)
{
	if (!defhash || !*defhash)
		return NULL;
	return kr_xasprintf("%s=%s", KR_DEFHASH_LABEL, defhash);
}
