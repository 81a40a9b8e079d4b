/*
 * The apply step of an app role: its removal or restart, or a new
 * container behind a health gate. The container holding the name is
 * renamed out of the way first; a new one that fails to start or to become
 * healthy is removed and the old one (and the previous env file) put back.
 * Old stopped containers beyond retain_containers are removed after.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/quote.h"
#include "drivers/docker_cmd.h"
#include "reconciler/apply_int.h"

static void
retention(struct kr_apply_sctx *x, const struct kr_app *a)
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
	f = kr_xasprintf("label=destination=%s",
		x->d->destination ? x->d->destination : "");
	kr_buf_puts(t, " --filter");
	kr_shell_arg(t, f);
	free(f);
	kr_buf_printf(t,
		" --filter status=created --filter status=exited "
		"--filter status=dead | tail -n +%d | while read -r kr_c; do "
		"docker rm \"$kr_c\" >/dev/null; done\n",
		(x->d->retain_containers > 0 ? x->d->retain_containers : 0) +
			1);
}

/*
 * A proxied role's health gate is kamal-proxy itself, as in Kamal's app
 * boot: `kamal-proxy deploy <service>-<role>[-<dest>]
 * --target=<container id>:<app_port>` returns once the new container
 * answers its health check and traffic has moved to it (the old target
 * drained); when it refuses, the new container goes and traffic stays.
 */
static void
proxy_switch(struct kr_apply_sctx *x, const struct kr_app *a)
{
	struct kr_buf cmd = KR_BUF_INIT, *t = &x->s->text;
	char *route = x->d->destination && *x->d->destination ?
			      kr_xasprintf("%s-%s-%s", x->d->service, a->role,
				      x->d->destination) :
			      kr_xasprintf("%s-%s", x->d->service, a->role);

	kr_docker_cmd_proxy_deploy(&cmd, NULL, route, "\"$kr_tgt\"",
		&a->proxy_config, x->d->deploy_timeout, x->d->drain_timeout);
	kr_buf_puts(t, "kr_tgt=$(printf %.12s \"$kr_id\")\nif ! kr_out=$(");
	kr_buf_put(t, cmd.ptr, cmd.len);
	kr_buf_puts(t,
		" 2>&1 </dev/null); then\n\techo \"kamal-proxy did not "
		"switch to $kr_name: $kr_out\"\n\techo \"its last log "
		"lines:\"\n\tdocker logs --tail 20 \"$kr_id\" 2>&1 | sed "
		"'s/^/  /' || true\n\tkr_undo\n\texit 1\nfi\n");
	kr_buf_release(&cmd);
	free(route);
}

/*
 * A custom TLS certificate, written as Kamal's app boot writes it before
 * the container starts: both PEMs mode 0644 (kamal-proxy's user reads them
 * through the apps-config volume), their bytes on stdin, never in the
 * script. Returns whether the step reads stdin.
 */
static bool
tls_files(struct kr_apply_sctx *x, const struct kr_app *a)
{
	const struct kr_app_proxy *p = &a->proxy_config;

	if (!a->proxy || !p->tls_cert_path || !p->tls_cert_pem ||
		!p->tls_key_pem)
		return false;
	kr_apply_step_write_file(x, p->tls_cert_path, p->tls_cert_pem,
		strlen(p->tls_cert_pem), "644");
	kr_apply_step_write_file(x, p->tls_key_path, p->tls_key_pem,
		strlen(p->tls_key_pem), "644");
	return true;
}

/* As Kamal's app boot: the image deployed is also <repository>:latest
 * (:latest-<dest>), so `kamal app boot` and `kamal prune` keep working. */
static void
tag_latest(struct kr_apply_sctx *x, const struct kr_app *a)
{
	struct kr_buf cmd = KR_BUF_INIT;
	const char *colon = strrchr(a->image, ':'), *slash;
	char *latest;

	slash = strrchr(a->image, '/');
	if (!colon || (slash && colon < slash))
		return;
	latest = x->d->destination && *x->d->destination ?
			 kr_xasprintf("%.*s:latest-%s", (int)(colon - a->image),
				 a->image, x->d->destination) :
			 kr_xasprintf("%.*s:latest", (int)(colon - a->image),
				 a->image);
	kr_docker_cmd_tag(&cmd, a->image, latest);
	kr_apply_step_line(x, &cmd);
	kr_buf_release(&cmd);
	free(latest);
}

int
kr_apply_step_app(struct kr_apply_sctx *x, const struct kr_change *c, size_t ci)
{
	const struct kr_app *a = c->app;
	struct kr_buf cmd = KR_BUF_INIT, *t = &x->s->text;
	char *label = NULL, *hostname = NULL, *old = NULL, *prev = NULL;
	bool uses_stdin = false;
	int err = 0;

	kr_apply_step_add(x->s, ci, c->address, kr_action_name(c->action));
	kr_apply_step_open(x, c->address);
	if (c->action == KR_ACTION_DELETE) {
		kr_apply_step_stop(x, &c->containers, a ? a->stop_timeout : 0);
		kr_apply_step_rm(x, &c->containers);
		kr_apply_step_audit(
			x, c->name, "Removed app containers (kreconcile)");
		goto close;
	}
	if (c->action == KR_ACTION_UPDATE) {
		if (c->start_container)
			kr_apply_step_start(x, c->start_container);
		kr_apply_step_stop(x, &c->containers, a ? a->stop_timeout : 0);
		kr_apply_step_audit(x, c->name,
			"Started app version %s (kreconcile)",
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
		prev = kr_apply_step_prev_path(x, a->env_file.path);
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
	kr_buf_puts(t,
		"\nkr_undo() {\n\tdocker rm -f \"$kr_name\" >/dev/null 2>&1 || "
		"true\n\tif [ -n \"$kr_old\" ]; then docker rename \"$kr_old\" "
		"\"$kr_name\" || true; fi\n"
		"\tif [ -n \"$kr_prev\" ] && [ -f \"$kr_prev\" ]; then\n"
		"\t\tmv -f \"$kr_prev\" \"$kr_envf\" && echo \"restored the "
		"previous $kr_envf\"\n\tfi\n}\n");
	label = kr_apply_step_hash_label(c->defhash);
	if (a->hostname_prefix && *a->hostname_prefix)
		hostname =
			kr_xasprintf("%s-%.12s", a->hostname_prefix, x->suffix);
	if ((err = kr_docker_cmd_app_run(&cmd, a, a->name, label, hostname)) <
		0)
		goto out;
	uses_stdin = tls_files(x, a);
	kr_buf_puts(t, "if ! kr_id=$(");
	kr_buf_put(t, cmd.ptr, cmd.len);
	kr_buf_puts(t, "); then\n\techo \"docker run of $kr_name failed\"\n"
		       "\tkr_undo\n\texit 1\nfi\n");
	if (a->proxy)
		proxy_switch(x, a);
	else
		kr_buf_printf(t,
			"if ! kr_wait \"$kr_id\" %d %d; then\n"
			"\techo \"new container $kr_name is not healthy; its "
			"last log lines:\"\n"
			"\tdocker logs --tail 20 \"$kr_id\" 2>&1 | sed 's/^/  "
			"/' || true\n\tkr_undo\n\texit 1\nfi\n",
			x->d->deploy_timeout > 0 ? x->d->deploy_timeout : 30,
			x->d->readiness_delay >= 0 ? x->d->readiness_delay : 7);
	kr_apply_step_stop(x, &c->containers, a->stop_timeout);
	kr_buf_puts(t, "if [ -n \"$kr_prev\" ]; then rm -f \"$kr_prev\"; fi\n");
	tag_latest(x, a);
	retention(x, a);
	kr_apply_step_audit(
		x, c->name, "Booted app version %s (kreconcile)", a->version);
close:
	kr_apply_step_close(x, uses_stdin);
out:
	free(label);
	free(hostname);
	free(old);
	free(prev);
	kr_buf_release(&cmd);
	return err;
}
