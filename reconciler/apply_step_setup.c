/*
 * The apply steps that set a host up before its containers: the docker
 * network, the registry login (the password from stdin), an env file
 * (kept aside first when an app reads it, for its health gate to restore),
 * and an accessory: its directories, files, image and container, or its
 * removal or restart.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/quote.h"
#include "drivers/docker_cmd.h"
#include "reconciler/apply_int.h"

int
kr_apply_step_network(
	struct kr_apply_sctx *x, const struct kr_change *c, size_t ci)
{
	struct kr_buf cmd = KR_BUF_INIT;

	kr_apply_step_add(x->s, ci, c->address, kr_action_name(c->action));
	kr_apply_step_open(x, c->address);
	kr_docker_cmd_network_create(&cmd, c->name);
	kr_buf_puts(&cmd, " >/dev/null");
	kr_apply_step_line(x, &cmd);
	kr_apply_step_close(x, false);
	kr_buf_release(&cmd);
	return 0;
}

int
kr_apply_step_login(
	struct kr_apply_sctx *x, const struct kr_change *c, size_t ci)
{
	const struct kr_registry *r = &x->d->registry;
	struct kr_buf cmd = KR_BUF_INIT;

	if (!r->username || !r->password) {
		kr_error_set(KR_EINVAL,
			"cannot log in to '%s': no %s (are "
			"the secrets loaded?)",
			c->name, r->username ? "password" : "username");
		return KR_EINVAL;
	}
	kr_apply_step_add(x->s, ci, c->address, "login");
	kr_apply_step_open(x, c->address);
	kr_buf_printf(&cmd, "kr_in %zu | ", strlen(r->password));
	kr_docker_cmd_login(&cmd, r->server, r->username);
	kr_buf_puts(&cmd, " >/dev/null");
	kr_apply_step_line(x, &cmd);
	kr_apply_step_input(x, r->password, strlen(r->password));
	kr_apply_step_close(x, true);
	kr_buf_release(&cmd);
	return 0;
}

int
kr_apply_step_env(struct kr_apply_sctx *x, const struct kr_change *c, size_t ci)
{
	const struct kr_env_file *ef = c->env_file;
	const char *path = c->path ? c->path : ef ? ef->path : NULL;

	if (!path) {
		kr_error_set(KR_EINVAL, "'%s': no env file path", c->address);
		return KR_EINVAL;
	}
	kr_apply_step_add(x->s, ci, c->address, kr_action_name(c->action));
	kr_apply_step_open(x, c->address);
	if (c->action == KR_ACTION_DELETE) {
		kr_buf_puts(&x->s->text, "rm -f -- ");
		kr_docker_cmd_home_path(&x->s->text, path);
		kr_buf_putc(&x->s->text, '\n');
		kr_apply_step_close(x, false);
		return 0;
	}
	if (!ef || !ef->content) {
		kr_error_set(KR_EINVAL,
			"'%s': the env file's content is not "
			"known (are the secrets loaded?)",
			c->address);
		return KR_EINVAL;
	}
	if (c->name && strncmp(c->name, "roles/", 6) == 0) {
		char *prev = kr_apply_step_prev_path(x, path);

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
	kr_apply_step_write_file(
		x, path, ef->content, strlen(ef->content), "600");
	kr_apply_step_close(x, true);
	return 0;
}

/* " ID... NAME": the old containers and one more name, quoted. */
static void
old_args(struct kr_buf *t, const struct kr_change *c, const char *name)
{
	for (size_t i = 0; i < c->containers.n; i++)
		kr_shell_arg(t, c->containers.v[i]);
	kr_shell_arg(t, name);
}

/*
 * Replace an accessory without ever leaving none: its successor is created
 * first under a temporary name (a bad option fails here, the old one
 * untouched), then the old one is stopped (it may hold the port or the
 * data directory's lock) and renamed aside, the successor takes the name
 * and starts. If it does not start, it is removed, the old one gets its
 * name back and runs again (if it ran), and the step fails. The old one is
 * removed only once its successor started. Leftovers of an interrupted
 * swap (the temporary names, which observe never takes for the accessory)
 * are removed first.
 */
static int
accessory_swap(struct kr_apply_sctx *x, const struct kr_change *c,
	const struct kr_accessory *acc, const char *label)
{
	struct kr_buf *t = &x->s->text;
	struct kr_buf cmd = KR_BUF_INIT;
	char *next = kr_xasprintf("%s_kr_next_%.8s", acc->container, x->suffix);
	char *prev = kr_xasprintf("%s_kr_prev_%.8s", acc->container, x->suffix);
	char *leftovers =
		kr_xasprintf("name=^%s_kr_(next|prev)_", acc->container);
	int err;

	kr_buf_puts(t, "docker ps -aq --filter");
	kr_shell_arg(t, leftovers);
	kr_buf_puts(t, " | while read -r kr_c; do docker rm -f \"$kr_c\" "
		       ">/dev/null; done\n");
	if ((err = kr_docker_cmd_accessory_create(&cmd, acc, next, label)) < 0)
		goto out;
	kr_buf_puts(&cmd, " >/dev/null");
	kr_apply_step_line(x, &cmd);
	/* which of the old ones run now, to run them again on failure */
	kr_buf_puts(t, "kr_run=$(docker inspect --format "
		       "'{{if .State.Running}}{{.Id}}{{end}}'");
	old_args(t, c, acc->container);
	kr_buf_puts(t, " 2>/dev/null || true)\nkr_stopc 0");
	old_args(t, c, acc->container);
	kr_buf_puts(t, "\nif docker container inspect");
	kr_shell_arg(t, acc->container);
	kr_buf_puts(t, " >/dev/null 2>&1; then docker rename");
	kr_shell_arg(t, acc->container);
	kr_shell_arg(t, prev);
	kr_buf_puts(t, "; fi\ndocker rename");
	kr_shell_arg(t, next);
	kr_shell_arg(t, acc->container);
	kr_buf_puts(t, "\nif ! docker start");
	kr_shell_arg(t, acc->container);
	kr_buf_puts(t, " >/dev/null; then\n\tdocker rm -f");
	kr_shell_arg(t, acc->container);
	kr_buf_puts(t, " >/dev/null 2>&1 || true\n"
		       "\tif docker container inspect");
	kr_shell_arg(t, prev);
	kr_buf_puts(t, " >/dev/null 2>&1; then docker rename");
	kr_shell_arg(t, prev);
	kr_shell_arg(t, acc->container);
	kr_buf_puts(t,
		"; fi\n"
		"\t[ -z \"$kr_run\" ] || docker start $kr_run >/dev/null\n"
		"\techo 'the new container did not start; the old one runs "
		"again'\n\texit 1\nfi\nfor kr_c in");
	old_args(t, c, prev);
	kr_buf_puts(t,
		"; do\n\tif docker container inspect \"$kr_c\" "
		">/dev/null 2>&1; then docker rm \"$kr_c\" >/dev/null; fi\n"
		"done\n");
out:
	kr_buf_release(&cmd);
	free(next);
	free(prev);
	free(leftovers);
	return err;
}

int
kr_apply_step_accessory(
	struct kr_apply_sctx *x, const struct kr_change *c, size_t ci)
{
	const struct kr_accessory *acc = c->accessory;
	struct kr_buf cmd = KR_BUF_INIT;
	bool uses_stdin = false;
	char *label = NULL;
	size_t i;
	int err = 0;

	kr_apply_step_add(x->s, ci, c->address, kr_action_name(c->action));
	kr_apply_step_open(x, c->address);
	if (c->action == KR_ACTION_DELETE) {
		/* the container only: directories and files hold data */
		kr_apply_step_rm(x, &c->containers);
		kr_apply_step_audit(
			x, NULL, "Removed %s accessory (kreconcile)", c->name);
		goto close;
	}
	if (c->action == KR_ACTION_UPDATE) {
		if (c->start_container)
			kr_apply_step_start(x, c->start_container);
		kr_apply_step_stop(x, &c->containers, 0);
		kr_apply_step_audit(
			x, NULL, "Started %s accessory (kreconcile)", c->name);
		goto close;
	}
	if (!acc) {
		kr_error_set(
			KR_EINVAL, "'%s': no accessory definition", c->address);
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
					   acc->directory_modes.v[i] :
					   "";

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
			kr_error_set(KR_EINVAL,
				"'%s': the content of '%s' is "
				"not known",
				c->address, f->local);
			err = KR_EINVAL;
			goto out;
		}
		kr_apply_step_write_file(x, f->host_path, f->content,
			strlen(f->content), f->mode ? f->mode : "755");
		uses_stdin = true;
		if (f->owner) {
			kr_buf_puts(&x->s->text, "chown");
			kr_shell_arg(&x->s->text, f->owner);
			kr_buf_puts(&x->s->text, " -- ");
			kr_docker_cmd_home_path(&x->s->text, f->host_path);
			kr_buf_putc(&x->s->text, '\n');
		}
	}
	kr_apply_step_pull(
		x, c->image ? c->image : acc->image, c->image_digest);
	label = kr_apply_step_hash_label(c->defhash);
	if (c->containers.n) {
		if ((err = accessory_swap(x, c, acc, label)) < 0)
			goto out;
	} else {
		/* nothing to keep: a leftover of the same name goes first */
		kr_buf_puts(&x->s->text, "if docker container inspect");
		kr_shell_arg(&x->s->text, acc->container);
		kr_buf_puts(&x->s->text, " >/dev/null 2>&1; then docker rm");
		kr_shell_arg(&x->s->text, acc->container);
		kr_buf_puts(&x->s->text, " >/dev/null; fi\n");
		if ((err = kr_docker_cmd_accessory_run(&cmd, acc, label)) < 0)
			goto out;
		kr_buf_puts(&cmd, " >/dev/null");
		kr_apply_step_line(x, &cmd);
	}
	if (acc->proxy)
		kr_apply_step_acc_proxy(x, acc);
	kr_apply_step_audit(
		x, NULL, "Booted %s accessory (kreconcile)", c->name);
close:
	kr_apply_step_close(x, uses_stdin);
out:
	free(label);
	kr_buf_release(&cmd);
	return err;
}
