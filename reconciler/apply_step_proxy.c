/*
 * The apply steps of kamal-proxy: boot the proxy as Kamal's `proxy boot`
 * does (start the stopped one, or run one from the host's boot config),
 * replace one older than Kamal's minimum (Kamal's `proxy reboot`: its
 * routes stay in the kamal-proxy-config volume), and a route's deploy or
 * removal while the role's container stays. The switch of a role to a new
 * container is part of the app step (apply_step_app.c).
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/quote.h"
#include "drivers/docker_cmd.h"
#include "reconciler/apply_int.h"

/* Wait (up to 30 s) until kamal-proxy answers on its socket. */
static const char wait_proxy[] =
	"kr_n=0\nuntil docker exec kamal-proxy kamal-proxy list >/dev/null "
	"2>&1; do\n\tkr_n=$((kr_n + 1))\n\tif [ \"$kr_n\" -gt 150 ]; then "
	"echo \"kamal-proxy does not answer after 30 s:\"; docker logs "
	"--tail 20 kamal-proxy 2>&1 | sed 's/^/  /' || true; exit 1; fi\n"
	"\tsleep 0.2\ndone\n";

int
kr_apply_step_proxy(
	struct kr_apply_sctx *x, const struct kr_change *c, size_t ci)
{
	struct kr_buf cmd = KR_BUF_INIT, *t = &x->s->text;

	kr_apply_step_add(x->s, ci, c->address, kr_action_name(c->action));
	kr_apply_step_open(x, c->address);
	if (c->action == KR_ACTION_REPLACE)
		kr_buf_puts(t, "docker container stop kamal-proxy >/dev/null "
			       "2>&1 || true\ndocker container rm kamal-proxy "
			       ">/dev/null\n");
	kr_docker_cmd_proxy_boot(&cmd, c->app ? &c->app->proxy_config :
				       c->accessory ?
						&c->accessory->proxy_config :
						NULL);
	kr_buf_puts(&cmd, " >/dev/null");
	kr_apply_step_line(x, &cmd);
	kr_buf_puts(t, wait_proxy);
	kr_apply_step_audit(x, NULL, "%s proxy (kreconcile)",
		c->action == KR_ACTION_REPLACE ? "Rebooted" : "Booted");
	kr_apply_step_close(x, false);
	kr_buf_release(&cmd);
	return 0;
}

/*
 * Kamal's accessory boot with a proxy: once the accessory runs, `kamal-proxy
 * deploy <its service name> --target=<its running container's id>:<port>`.
 * A refusal fails the step with kamal-proxy's reason (the accessory stays:
 * it already replaced the old one, as Kamal's accessory boot does).
 */
void
kr_apply_step_acc_proxy(struct kr_apply_sctx *x, const struct kr_accessory *acc)
{
	struct kr_buf cmd = KR_BUF_INIT, *t = &x->s->text;
	char *f = kr_xasprintf("name=^%s$", acc->container);

	kr_buf_puts(t, "kr_tgt=$(docker container ls --filter");
	kr_shell_arg(t, f);
	kr_buf_puts(t, " --quiet)\nif ! kr_out=$(");
	kr_docker_cmd_proxy_deploy(&cmd, NULL, acc->container, "\"$kr_tgt\"",
		&acc->proxy_config, x->d->deploy_timeout, x->d->drain_timeout);
	kr_buf_put(t, cmd.ptr, cmd.len);
	kr_buf_puts(t, " 2>&1 </dev/null); then\n\techo \"kamal-proxy did not "
		       "route to the accessory: $kr_out\"\n\texit 1\nfi\n");
	kr_buf_release(&cmd);
	free(f);
}

int
kr_apply_step_route(
	struct kr_apply_sctx *x, const struct kr_change *c, size_t ci)
{
	struct kr_buf cmd = KR_BUF_INIT, *t = &x->s->text;
	const struct kr_app_proxy *pc;
	char tgt[13];

	kr_apply_step_add(x->s, ci, c->address, kr_action_name(c->action));
	kr_apply_step_open(x, c->address);
	if (c->action == KR_ACTION_DELETE) {
		kr_docker_cmd_proxy_remove(&cmd, NULL, c->name);
		kr_apply_step_line(x, &cmd);
		kr_apply_step_audit(
			x, NULL, "Removed route %s (kreconcile)", c->name);
		goto close;
	}
	pc = c->app	  ? &c->app->proxy_config :
	     c->accessory ? &c->accessory->proxy_config :
			    NULL;
	if (!pc || !c->start_container) {
		kr_buf_release(&cmd);
		kr_error_set(KR_EINVAL, "'%s': no container to route to",
			c->address);
		return KR_EINVAL;
	}
	snprintf(tgt, sizeof(tgt), "%.12s", c->start_container);
	kr_buf_puts(t, "kr_tgt=");
	kr_shell_quote(t, tgt);
	kr_buf_puts(t, "\nif ! kr_out=$(");
	kr_docker_cmd_proxy_deploy(&cmd, NULL, c->name, "\"$kr_tgt\"", pc,
		x->d->deploy_timeout, x->d->drain_timeout);
	kr_buf_put(t, cmd.ptr, cmd.len);
	kr_buf_puts(t, " 2>&1); then\n\techo \"kamal-proxy refused the "
		       "route: $kr_out\"\n\texit 1\nfi\n");
	kr_apply_step_audit(x, c->app ? c->app->role : NULL,
		"Routed %s to %s (kreconcile)", c->name, tgt);
close:
	kr_apply_step_close(x, false);
	kr_buf_release(&cmd);
	return 0;
}
