/*
 * One host's apply script (see apply.h): the planned changes of the host
 * as POSIX sh, one framed `set -e` subshell per action, secrets read from
 * stdin with `dd bs=1 count=N` (never over-reads, so the next action finds
 * its own bytes), and the parser of the markers it prints. Also the audit
 * line and path helpers the lock code shares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/quote.h"
#include "drivers/docker_cmd.h"
#include "reconciler/apply.h"
#include "reconciler/defhash.h"

static void
random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[32];
	size_t i;

	if (nbytes > sizeof(rnd))
		nbytes = sizeof(rnd);
	if (getrandom(rnd, nbytes, 0) != (ssize_t)nbytes) {
		unsigned long v = (unsigned long)getpid() ^
			(unsigned long)time(NULL) ^ (unsigned long)(size_t)out;

		for (i = 0; i < nbytes; i++, v = v * 6364136223846793005UL + 1)
			rnd[i] = (unsigned char)(v >> 33);
	}
	for (i = 0; i < nbytes; i++) {
		out[2 * i] = hex[rnd[i] >> 4];
		out[2 * i + 1] = hex[rnd[i] & 15];
	}
	out[2 * nbytes] = '\0';
}

char *
kr_apply_audit_path(const char *service, const char *destination)
{
	if (destination && *destination)
		return kr_xasprintf(".kamal/%s-%s-audit.log", service,
			destination);
	return kr_xasprintf(".kamal/%s-audit.log", service);
}

char *
kr_apply_audit_line(time_t now, const char *performer,
	const char *destination, const char *role, const char *message)
{
	struct kr_buf b = KR_BUF_INIT;
	char ts[32];
	struct tm tm;

	if (!now)
		now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	kr_buf_printf(&b, "[%s] [%s]", ts, performer ? performer :
		"kreconcile");
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

/* The script's fixed prelude: helpers every action may use. */
static const char prelude[] =
	"kr_stop=0\n"
	/* exactly $1 bytes of stdin: dd reads one byte per read(2) */
	"kr_in() { dd bs=1 count=\"$1\" 2>/dev/null; }\n"
	/* kr_put PATH BYTES MODE: stdin bytes to PATH, whole or not at all */
	"kr_put() {\n"
	"\tkr_t=\"$1.kr-tmp-$kr_sfx\"\n"
	"\tif ( umask 077 && kr_in \"$2\" >\"$kr_t\" ) &&\n"
	"\t    [ \"$(wc -c <\"$kr_t\")\" -eq \"$2\" ] &&\n"
	"\t    chmod \"$3\" \"$kr_t\" && mv -f \"$kr_t\" \"$1\"; then\n"
	"\t\treturn 0\n"
	"\tfi\n"
	"\trm -f \"$kr_t\"\n"
	"\techo \"cannot write $1\"\n"
	"\treturn 1\n"
	"}\n"
	/* Kamal's health status: health when the image has a check, else state */
	"kr_status() {\n"
	"\tdocker inspect --format '{{if .State.Health}}{{.State.Health.Status}}"
	"{{else}}{{.State.Status}}{{end}}' \"$1\" 2>/dev/null || echo missing\n"
	"}\n"
	/* kr_wait ID TIMEOUT DELAY: healthy, or running still after DELAY */
	"kr_wait() {\n"
	"\tkr_end=$(( $(date +%s) + $2 ))\n"
	"\twhile :; do\n"
	"\t\tkr_st=$(kr_status \"$1\")\n"
	"\t\tif [ \"$kr_st\" = running ] && [ \"$3\" -gt 0 ]; then\n"
	"\t\t\tsleep \"$3\"\n"
	"\t\t\tkr_st=$(kr_status \"$1\")\n"
	"\t\tfi\n"
	"\t\tcase $kr_st in healthy|running) return 0 ;; esac\n"
	"\t\tif [ \"$(date +%s)\" -ge \"$kr_end\" ]; then\n"
	"\t\t\techo \"container not ready after $2 seconds ($kr_st)\"\n"
	"\t\t\treturn 1\n"
	"\t\tfi\n"
	"\t\tsleep 1\n"
	"\tdone\n"
	"}\n"
	/* kr_stopc TIMEOUT ID...: stop those that still exist */
	"kr_stopc() {\n"
	"\tkr_to=$1\n"
	"\tshift\n"
	"\tfor kr_c in \"$@\"; do\n"
	"\t\tif docker container inspect \"$kr_c\" >/dev/null 2>&1; then\n"
	"\t\t\tif [ \"$kr_to\" -gt 0 ]; then docker stop -t \"$kr_to\" "
	"\"$kr_c\" >/dev/null; else docker stop \"$kr_c\" >/dev/null; fi\n"
	"\t\tfi\n"
	"\tdone\n"
	"}\n";

struct sctx {
	struct kr_apply_script *s;
	const struct kr_desired *d;
	const struct kr_apply_script_opts *o;
	char *audit_path;
	char suffix[33];
	time_t now;
};

static struct kr_apply_step *
add_step(struct kr_apply_script *s, size_t change, const char *address,
	const char *action)
{
	struct kr_apply_step *st;

	if (s->nsteps == s->steps_alloc) {
		s->steps_alloc = s->steps_alloc ? 2 * s->steps_alloc : 8;
		s->steps = kr_xrealloc(s->steps,
			s->steps_alloc * sizeof(*s->steps));
	}
	st = &s->steps[s->nsteps++];
	memset(st, 0, sizeof(*st));
	st->change = change;
	st->address = kr_xstrdup(address);
	st->action = kr_xstrdup(action);
	return st;
}

/* Open the last added step's framed `set -e` subshell (its begin marker). */
static void
step_open(struct sctx *x, const char *comment)
{
	struct kr_buf *t = &x->s->text;

	kr_buf_printf(t, "\n# %zu: ", x->s->nsteps - 1);
	/* the comment is ours (address and action): keep it on one line */
	for (const char *p = comment; *p; p++)
		kr_buf_putc(t, *p == '\n' ? ' ' : *p);
	kr_buf_printf(t, "\nif [ \"$kr_stop\" = 0 ]; then\n"
		"printf '%%s begin %zu\\n' \"$kr_m\"\n(\nset -e\n",
		x->s->nsteps - 1);
}

/* Close it: stdin is /dev/null unless the step reads its bytes from it. */
static void
step_close(struct sctx *x, bool uses_stdin)
{
	kr_buf_printf(&x->s->text, ")%s 2>&1\nkr_rc=$?\n"
		"printf '\\n%%s end %zu %%s\\n' \"$kr_m\" \"$kr_rc\"\n"
		"[ \"$kr_rc\" = 0 ] || kr_stop=1\nfi\n",
		uses_stdin ? "" : " </dev/null", x->s->nsteps - 1);
}

/* Append an audit line for the step (after its commands succeeded). */
static void
audit(struct sctx *x, const char *role, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
audit(struct sctx *x, const char *role, const char *fmt, ...)
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
static void
put_input(struct sctx *x, const char *data, size_t len)
{
	kr_buf_put(&x->s->input, data, len);
}

static void
line(struct sctx *x, const struct kr_buf *cmd)
{
	kr_buf_put(&x->s->text, cmd->ptr, cmd->len);
	kr_buf_putc(&x->s->text, '\n');
}

/* mkdir -p of the directory holding a home-relative or absolute path. */
static void
mkdir_parent(struct sctx *x, const char *path)
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
static void
write_file(struct sctx *x, const char *path, const char *content, size_t len,
	const char *mode)
{
	mkdir_parent(x, path);
	kr_buf_puts(&x->s->text, "kr_put ");
	kr_docker_cmd_home_path(&x->s->text, path);
	kr_buf_printf(&x->s->text, " %zu", len);
	kr_shell_arg(&x->s->text, mode);
	kr_buf_putc(&x->s->text, '\n');
	put_input(x, content, len);
}

/*
 * Where an env step keeps the file it overwrites, for this run only (the
 * random suffix): if the app reading it then fails its health gate, the
 * old file comes back with the old container, so the next plan still sees
 * the difference. Outside the env directory, which observe scans.
 */
static char *
prev_path(const struct sctx *x, const char *path)
{
	char *flat = kr_xstrdup(path), *p, *out;

	for (p = flat; *p; p++)
		if (*p == '/')
			*p = '%';
	out = kr_xasprintf(".kamal/kreconcile-prev/%s-%s", x->suffix, flat);
	free(flat);
	return out;
}

static int
step_network(struct sctx *x, const struct kr_change *c, size_t ci)
{
	struct kr_buf cmd = KR_BUF_INIT;

	add_step(x->s, ci, c->address, kr_action_name(c->action));
	step_open(x, c->address);
	kr_docker_cmd_network_create(&cmd, c->name);
	kr_buf_puts(&cmd, " >/dev/null");
	line(x, &cmd);
	step_close(x, false);
	kr_buf_release(&cmd);
	return 0;
}

static int
step_login(struct sctx *x, const struct kr_change *c, size_t ci)
{
	const struct kr_registry *r = &x->d->registry;
	struct kr_buf cmd = KR_BUF_INIT;

	if (!r->username || !r->password) {
		kr_error_set(KR_EINVAL, "cannot log in to '%s': no %s (are "
			"the secrets loaded?)", c->name, r->username ?
			"password" : "username");
		return KR_EINVAL;
	}
	add_step(x->s, ci, c->address, "login");
	step_open(x, c->address);
	kr_buf_printf(&cmd, "kr_in %zu | ", strlen(r->password));
	kr_docker_cmd_login(&cmd, r->server, r->username);
	kr_buf_puts(&cmd, " >/dev/null");
	line(x, &cmd);
	put_input(x, r->password, strlen(r->password));
	step_close(x, true);
	kr_buf_release(&cmd);
	return 0;
}

static int
step_env(struct sctx *x, const struct kr_change *c, size_t ci)
{
	const struct kr_env_file *ef = c->env_file;
	const char *path = c->path ? c->path : ef ? ef->path : NULL;

	if (!path) {
		kr_error_set(KR_EINVAL, "'%s': no env file path", c->address);
		return KR_EINVAL;
	}
	add_step(x->s, ci, c->address, kr_action_name(c->action));
	step_open(x, c->address);
	if (c->action == KR_ACTION_DELETE) {
		kr_buf_puts(&x->s->text, "rm -f -- ");
		kr_docker_cmd_home_path(&x->s->text, path);
		kr_buf_putc(&x->s->text, '\n');
		step_close(x, false);
		return 0;
	}
	if (!ef || !ef->content) {
		kr_error_set(KR_EINVAL, "'%s': the env file's content is not "
			"known (are the secrets loaded?)", c->address);
		return KR_EINVAL;
	}
	if (c->name && strncmp(c->name, "roles/", 6) == 0) {
		char *prev = prev_path(x, path);

		kr_buf_puts(&x->s->text, "mkdir -p .kamal/kreconcile-prev\n"
			"if [ -f ");
		kr_docker_cmd_home_path(&x->s->text, path);
		kr_buf_puts(&x->s->text, " ]; then cp -p -- ");
		kr_docker_cmd_home_path(&x->s->text, path);
		kr_buf_putc(&x->s->text, ' ');
		kr_docker_cmd_home_path(&x->s->text, prev);
		kr_buf_puts(&x->s->text, "; fi\n");
		free(prev);
	}
	write_file(x, path, ef->content, strlen(ef->content), "600");
	step_close(x, true);
	return 0;
}

static void
stop_list(struct sctx *x, const struct kr_strvec *ids, int timeout)
{
	if (!ids->n)
		return;
	kr_buf_printf(&x->s->text, "kr_stopc %d", timeout > 0 ? timeout : 0);
	for (size_t i = 0; i < ids->n; i++)
		kr_shell_arg(&x->s->text, ids->v[i]);
	kr_buf_putc(&x->s->text, '\n');
}

static void
rm_list(struct sctx *x, const struct kr_strvec *ids)
{
	struct kr_buf cmd = KR_BUF_INIT;

	if (!ids->n)
		return;
	kr_docker_cmd_rm(&cmd, ids);
	kr_buf_puts(&cmd, " >/dev/null");
	line(x, &cmd);
	kr_buf_release(&cmd);
}

static void
pull(struct sctx *x, const char *ref)
{
	struct kr_buf cmd = KR_BUF_INIT;

	kr_docker_cmd_pull(&cmd, ref);
	kr_buf_puts(&cmd, " >/dev/null");
	line(x, &cmd);
	kr_buf_release(&cmd);
}

static char *
hash_label(const char *defhash)
{
	if (!defhash || !*defhash)
		return NULL;
	return kr_xasprintf("%s=%s", KR_DEFHASH_LABEL, defhash);
}

static int
step_accessory(struct sctx *x, const struct kr_change *c, size_t ci)
{
	const struct kr_accessory *acc = c->accessory;
	struct kr_buf cmd = KR_BUF_INIT;
	bool uses_stdin = false;
	char *label = NULL;
	size_t i;
	int err = 0;

	add_step(x->s, ci, c->address, kr_action_name(c->action));
	step_open(x, c->address);
	if (c->action == KR_ACTION_DELETE) {
		/* the container only: directories and files hold data */
		rm_list(x, &c->containers);
		audit(x, NULL, "Removed %s accessory (kreconcile)", c->name);
		goto close;
	}
	if (c->action == KR_ACTION_UPDATE) {
		if (c->start_container) {
			kr_docker_cmd_start(&cmd, c->start_container);
			kr_buf_puts(&cmd, " >/dev/null");
			line(x, &cmd);
		}
		stop_list(x, &c->containers, 0);
		audit(x, NULL, "Started %s accessory (kreconcile)", c->name);
		goto close;
	}
	if (!acc) {
		kr_error_set(KR_EINVAL, "'%s': no accessory definition",
			c->address);
		err = KR_EINVAL;
		goto out;
	}
	/* create or replace: directories, files, image, then the container */
	for (i = 0; i < acc->directories.n; i++) {
		const char *dsp = acc->directories.v[i];
		const char *colon = strchr(dsp, ':');
		char *host = colon ? kr_xstrndup(dsp, (size_t)(colon - dsp)) :
			kr_xstrdup(dsp);
		const char *mode = i < acc->directory_modes.n ?
			acc->directory_modes.v[i] : "";

		kr_buf_puts(&x->s->text, "mkdir -p -- ");
		kr_docker_cmd_home_path(&x->s->text, host);
		kr_buf_putc(&x->s->text, '\n');
		if (mode && *mode) {
			kr_buf_puts(&x->s->text, "chmod");
			kr_shell_arg(&x->s->text, mode);
			kr_buf_puts(&x->s->text, " -- ");
			kr_docker_cmd_home_path(&x->s->text, host);
			kr_buf_putc(&x->s->text, '\n');
		}
		free(host);
	}
	for (i = 0; i < acc->nfiles; i++) {
		const struct kr_acc_file *f = &acc->files[i];

		if (!f->content) {
			kr_error_set(KR_EINVAL, "'%s': the content of '%s' is "
				"not known", c->address, f->local);
			err = KR_EINVAL;
			goto out;
		}
		write_file(x, f->host_path, f->content, strlen(f->content),
			f->mode ? f->mode : "755");
		uses_stdin = true;
		if (f->owner) {
			kr_buf_puts(&x->s->text, "chown");
			kr_shell_arg(&x->s->text, f->owner);
			kr_buf_puts(&x->s->text, " -- ");
			kr_docker_cmd_home_path(&x->s->text, f->host_path);
			kr_buf_putc(&x->s->text, '\n');
		}
	}
	pull(x, c->image ? c->image : acc->image);
	/* the old container (same name) goes first; so does a leftover */
	{
		struct kr_strvec ids = { 0 };

		kr_strvec_copy(&ids, &c->containers);
		if (!kr_strvec_contains(&ids, acc->container))
			kr_strvec_push(&ids, acc->container);
		rm_list(x, &ids);
		kr_strvec_release(&ids);
	}
	label = hash_label(c->defhash);
	if ((err = kr_docker_cmd_accessory_run(&cmd, acc, label)) < 0)
		goto out;
	kr_buf_puts(&cmd, " >/dev/null");
	line(x, &cmd);
	audit(x, NULL, "Booted %s accessory (kreconcile)", c->name);
close:
	step_close(x, uses_stdin);
out:
	free(label);
	kr_buf_release(&cmd);
	return err;
}

static void
retention(struct sctx *x, const struct kr_app *a)
{
	struct kr_buf *t = &x->s->text;
	const char *role = kr_kvlist_get(&a->labels, "role");
	char *f;

	kr_buf_puts(t, "docker ps -q -a");
	f = kr_xasprintf("label=service=%s", x->d->service);
	kr_buf_puts(t, " --filter");
	kr_shell_arg(t, f);
	free(f);
	f = kr_xasprintf("label=role=%s", role ? role : a->role);
	kr_buf_puts(t, " --filter");
	kr_shell_arg(t, f);
	free(f);
	f = kr_xasprintf("label=destination=%s", x->d->destination ?
		x->d->destination : "");
	kr_buf_puts(t, " --filter");
	kr_shell_arg(t, f);
	free(f);
	kr_buf_printf(t, " --filter status=created --filter status=exited "
		"--filter status=dead | tail -n +%d | while read -r kr_c; do "
		"docker rm \"$kr_c\" >/dev/null; done\n",
		(x->d->retain_containers > 0 ? x->d->retain_containers : 0) +
		1);
}

static int
step_app(struct sctx *x, const struct kr_change *c, size_t ci)
{
	const struct kr_app *a = c->app;
	struct kr_buf cmd = KR_BUF_INIT, *t = &x->s->text;
	char *label = NULL, *hostname = NULL, *old = NULL, *prev = NULL;
	int err = 0;

	add_step(x->s, ci, c->address, kr_action_name(c->action));
	step_open(x, c->address);
	if (c->action == KR_ACTION_DELETE) {
		stop_list(x, &c->containers, a ? a->stop_timeout : 0);
		rm_list(x, &c->containers);
		audit(x, c->name, "Removed app containers (kreconcile)");
		goto close;
	}
	if (c->action == KR_ACTION_UPDATE) {
		if (c->start_container) {
			kr_docker_cmd_start(&cmd, c->start_container);
			kr_buf_puts(&cmd, " >/dev/null");
			line(x, &cmd);
		}
		stop_list(x, &c->containers, a ? a->stop_timeout : 0);
		audit(x, c->name, "Started app version %s (kreconcile)",
			a ? a->version : "?");
		goto close;
	}
	if (!a) {
		kr_error_set(KR_EINVAL, "'%s': no app definition", c->address);
		err = KR_EINVAL;
		goto out;
	}
	/*
	 * create or replace. A container that already has the name (the
	 * old one of an env-only change, a stopped earlier deploy of this
	 * version, a leftover of an interrupted run) is renamed out of the
	 * way as Kamal does, and renamed back if the new one fails.
	 */
	old = kr_xasprintf("%s_replaced_%s", a->name, x->suffix);
	if (a->env_file.path)
		prev = prev_path(x, a->env_file.path);
	kr_buf_puts(t, "kr_name=");
	kr_shell_quote(t, a->name);
	kr_buf_puts(t, "\nkr_old=\nif docker container inspect \"$kr_name\" "
		">/dev/null 2>&1; then\n\tkr_old=");
	kr_shell_quote(t, old);
	kr_buf_puts(t, "\n\tdocker rename \"$kr_name\" \"$kr_old\"\nfi\n"
		"kr_prev=");
	kr_shell_quote(t, prev ? prev : "");
	kr_buf_puts(t, "\nkr_envf=");
	kr_shell_quote(t, a->env_file.path ? a->env_file.path : "");
	kr_buf_puts(t, "\nkr_undo() {\n\tdocker rm -f \"$kr_name\" >/dev/null 2>&1 || "
		"true\n\tif [ -n \"$kr_old\" ]; then docker rename \"$kr_old\" "
		"\"$kr_name\" || true; fi\n"
		"\tif [ -n \"$kr_prev\" ] && [ -f \"$kr_prev\" ]; then\n"
		"\t\tmv -f \"$kr_prev\" \"$kr_envf\" && echo \"restored the "
		"previous $kr_envf\"\n\tfi\n}\n");
	label = hash_label(c->defhash);
	if (a->hostname_prefix && *a->hostname_prefix)
		hostname = kr_xasprintf("%s-%.12s", a->hostname_prefix,
			x->suffix);
	if ((err = kr_docker_cmd_app_run(&cmd, a, a->name, label,
		hostname)) < 0)
		goto out;
	kr_buf_puts(t, "if ! kr_id=$(");
	kr_buf_put(t, cmd.ptr, cmd.len);
	kr_buf_puts(t, "); then\n\techo \"docker run of $kr_name failed\"\n"
		"\tkr_undo\n\texit 1\nfi\n");
	kr_buf_printf(t, "if ! kr_wait \"$kr_id\" %d %d; then\n"
		"\techo \"new container $kr_name is not healthy; its last log "
		"lines:\"\n"
		"\tdocker logs --tail 20 \"$kr_id\" 2>&1 | sed 's/^/  /' || "
		"true\n\tkr_undo\n\texit 1\nfi\n",
		x->d->deploy_timeout > 0 ? x->d->deploy_timeout : 30,
		x->d->readiness_delay >= 0 ? x->d->readiness_delay : 7);
	stop_list(x, &c->containers, a->stop_timeout);
	kr_buf_puts(t, "if [ -n \"$kr_prev\" ]; then rm -f \"$kr_prev\"; fi\n");
	retention(x, a);
	audit(x, c->name, "Booted app version %s (kreconcile)", a->version);
close:
	step_close(x, false);
out:
	free(label);
	free(hostname);
	free(old);
	free(prev);
	kr_buf_release(&cmd);
	return err;
}

/*
 * Size the stdin buffer for every secret byte up front, so it never grows
 * by realloc (which would leave copies of secrets in freed memory).
 */
static void
reserve_input(struct kr_apply_script *s, const struct kr_desired *d,
	const struct kr_plan *p, const struct kr_plan_host *ph)
{
	size_t i, j, total = 0;
	char *zeros;

	for (i = ph->first; i < ph->first + ph->count && i < p->nchanges;
	     i++) {
		const struct kr_change *c = &p->changes[i];

		if (c->status != KR_STATUS_PLANNED)
			continue;
		if (c->type == KR_CHANGE_LOGIN && d->registry.password)
			total += strlen(d->registry.password);
		if (c->type == KR_CHANGE_ENV && c->env_file &&
		    c->env_file->content)
			total += strlen(c->env_file->content);
		if (c->type == KR_CHANGE_ACCESSORY && c->accessory)
			for (j = 0; j < c->accessory->nfiles; j++)
				if (c->accessory->files[j].content)
					total += strlen(
						c->accessory->files[j].content);
	}
	if (!total)
		return;
	zeros = kr_xcalloc(1, total);
	kr_buf_put(&s->input, zeros, total);
	kr_buf_truncate(&s->input, 0);
	free(zeros);
}

int
kr_apply_script_build(struct kr_apply_script *out,
	const struct kr_desired *d, const struct kr_plan *p,
	const struct kr_plan_host *ph, const struct kr_apply_script_opts *o)
{
	struct sctx x = { .s = out, .d = d, .o = o };
	struct kr_strvec pulled = { 0 };
	size_t i;
	int err = 0;

	memset(out, 0, sizeof(*out));
	kr_buf_init(&out->text, 0);
	kr_buf_init(&out->input, 0);
	out->host = kr_xstrdup(ph->name);
	reserve_input(out, d, p, ph);
	if (o && o->nonce)
		snprintf(out->nonce, sizeof(out->nonce), "%s", o->nonce);
	else
		random_hex(out->nonce, 16);
	if (o && o->suffix)
		snprintf(x.suffix, sizeof(x.suffix), "%s", o->suffix);
	else
		random_hex(x.suffix, 8);
	x.now = o && o->now ? o->now : time(NULL);
	x.audit_path = kr_apply_audit_path(d->service, d->destination);

	kr_buf_printf(&out->text, "# kreconcile apply on %s\n", ph->name);
	kr_buf_printf(&out->text, "kr_m='@@KRA-%s'\nkr_sfx='%s'\n",
		out->nonce, x.suffix);
	kr_buf_puts(&out->text, prelude);
	kr_buf_puts(&out->text, "mkdir -p .kamal\n");

	for (i = ph->first; i < ph->first + ph->count && i < p->nchanges;
	     i++) {
		const struct kr_change *c = &p->changes[i];

		if (c->status != KR_STATUS_PLANNED ||
		    c->action == KR_ACTION_NOOP)
			continue;
		/* app images are pulled after the accessories, before apps */
		if (c->type == KR_CHANGE_APP && !pulled.n) {
			size_t j;

			for (j = i; j < ph->first + ph->count; j++) {
				const struct kr_change *a = &p->changes[j];

				if (a->type != KR_CHANGE_APP ||
				    a->status != KR_STATUS_PLANNED ||
				    (a->action != KR_ACTION_CREATE &&
				     a->action != KR_ACTION_REPLACE) ||
				    !a->image ||
				    kr_strvec_contains(&pulled, a->image))
					continue;
				kr_strvec_push(&pulled, a->image);
				add_step(out, j, a->address, "pull");
				step_open(&x, a->address);
				pull(&x, a->image);
				step_close(&x, false);
			}
			kr_strvec_push(&pulled, "");	/* done */
		}
		switch (c->type) {
		case KR_CHANGE_NETWORK:
			err = step_network(&x, c, i);
			break;
		case KR_CHANGE_LOGIN:
			err = step_login(&x, c, i);
			break;
		case KR_CHANGE_ENV:
			err = step_env(&x, c, i);
			break;
		case KR_CHANGE_ACCESSORY:
			err = step_accessory(&x, c, i);
			break;
		case KR_CHANGE_APP:
			err = step_app(&x, c, i);
			break;
		}
		if (err < 0)
			break;
	}
	/*
	 * The previous env files kept for a failed health gate are of no use
	 * once the script ends (restored or superseded): nothing of this run
	 * stays on the host (DESIGN.md: records live in SQLite, not there).
	 */
	if (!err && out->nsteps)
		kr_buf_puts(&out->text, "\nrm -f .kamal/kreconcile-prev/\"$kr_sfx\"-* "
			"2>/dev/null\nrmdir .kamal/kreconcile-prev 2>/dev/null\n"
			"exit 0\n");
	if (err < 0 || !out->nsteps)
		kr_buf_reset(&out->text);	/* nothing to run: no script */
	kr_strvec_release(&pulled);
	free(x.audit_path);
	return err;
}

/* Does line (len n) start with "<marker> <word> "? Returns the rest. */
static const char *
marker(const char *ln, size_t n, const char *m, size_t mlen, const char *word)
{
	size_t wl = strlen(word);

	if (n < mlen + 1 + wl + 1 || memcmp(ln, m, mlen) != 0 ||
	    ln[mlen] != ' ' || memcmp(ln + mlen + 1, word, wl) != 0 ||
	    ln[mlen + 1 + wl] != ' ')
		return NULL;
	return ln + mlen + 1 + wl + 1;
}

void
kr_apply_script_parse(struct kr_apply_script *s, const char *text, size_t len)
{
	char m[48];
	size_t mlen, pos = 0, out_start = 0;
	long cur = -1;

	mlen = (size_t)snprintf(m, sizeof(m), "@@KRA-%s", s->nonce);
	while (pos < len) {
		const char *ln = text + pos, *nl = memchr(ln, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - ln) : len - pos;
		size_t next = pos + n + (nl ? 1 : 0);
		const char *rest;
		char *end;

		if ((rest = marker(ln, n, m, mlen, "begin"))) {
			long i = strtol(rest, &end, 10);

			if (end != rest && i >= 0 && (size_t)i < s->nsteps) {
				cur = i;
				out_start = next;
			}
		} else if ((rest = marker(ln, n, m, mlen, "end")) && cur >= 0) {
			long i = strtol(rest, &end, 10);
			struct kr_apply_step *st;
			size_t olen;

			if (end != rest && i == cur) {
				st = &s->steps[cur];
				st->status = (int)strtol(end, NULL, 10);
				st->result = st->status == 0 ? KR_STEP_OK :
					KR_STEP_FAILED;
				olen = pos > out_start ? pos - out_start : 0;
				/* the newline printed before the marker, and
				 * the output's own trailing newlines */
				while (olen && text[out_start + olen - 1] == '\n')
					olen--;
				free(st->output);
				st->output = olen ? kr_xstrndup(text + out_start,
					olen) : NULL;
				cur = -1;
			}
		}
		pos = next;
	}
	/* a step begun but never ended (the exec died): failed */
	if (cur >= 0 && s->steps[cur].result == KR_STEP_NOT_RUN) {
		s->steps[cur].result = KR_STEP_FAILED;
		s->steps[cur].status = -1;
		if (len > out_start)
			s->steps[cur].output = kr_xstrndup(text + out_start,
				len - out_start);
	}
}

void
kr_apply_script_release(struct kr_apply_script *s)
{
	size_t i;

	if (!s)
		return;
	free(s->host);
	kr_buf_release(&s->text);
	if (s->input.alloc)
		memset(s->input.ptr, 0, s->input.alloc);
	kr_buf_release(&s->input);
	for (i = 0; i < s->nsteps; i++) {
		free(s->steps[i].address);
		free(s->steps[i].action);
		free(s->steps[i].output);
	}
	free(s->steps);
	memset(s, 0, sizeof(*s));
}
