/*
 * kamal-proxy in the diff: the proxy container a host needs when it runs
 * a proxied role (boot one as Kamal does when there is none, start a
 * stopped one, replace one older than Kamal's minimum version, adopt any
 * other as it is), and the routes: each proxied role's route compared with
 * what kamal-proxy saved (target, hosts, path prefixes, TLS, health check,
 * timeouts, buffering, log headers). A role whose container is replaced
 * gets its route switched by the app step (its attributes show the route
 * change); a route that differs while the container stays is a route
 * change of its own; a route of a role no longer here is removed (prune).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "drivers/docker_cmd.h"
#include "reconciler/diff_int.h"

#define PROXY_NAME "kamal-proxy"

/* "<service>-<role>[-<dest>]": Kamal's container prefix, the route name. */
static char *
route_name(const struct dctx *dc, const char *role)
{
	if (*dc->dest)
		return kr_xasprintf("%s-%s-%s", dc->d->service, role, dc->dest);
	return kr_xasprintf("%s-%s", dc->d->service, role);
}

/* "v0.9.2" < "v0.10.0": numeric parts compared in turn. */
static int
version_cmp(const char *a, const char *b)
{
	while (*a == 'v')
		a++;
	while (*b == 'v')
		b++;
	while (*a || *b) {
		char *ea, *eb;
		long x = strtol(a, &ea, 10), y = strtol(b, &eb, 10);

		if (x != y)
			return x < y ? -1 : 1;
		if (ea == a && eb == b)
			return strcmp(a, b);
		a = *ea == '.' ? ea + 1 : ea;
		b = *eb == '.' ? eb + 1 : eb;
		if (ea == a && *a && !(*a >= '0' && *a <= '9'))
			return strcmp(a, b);
	}
	return 0;
}

/* What boots the proxy (proxy.run of the first proxied role, else of the
 * first proxied accessory): c->app or c->accessory, and its words. */
static const struct kr_app_proxy *
host_proxies(const struct kr_host *h, struct kr_change *c, char **who)
{
	size_t i;

	for (i = 0; h && i < h->napps; i++)
		if (h->apps[i].proxy) {
			if (c)
				c->app = &h->apps[i];
			if (who)
				*who = kr_xasprintf(
					"role '%s'", h->apps[i].role);
			return &h->apps[i].proxy_config;
		}
	for (i = 0; h && i < h->naccessories; i++)
		if (h->accessories[i].proxy) {
			if (c)
				c->accessory = &h->accessories[i];
			if (who)
				*who = kr_xasprintf("accessory '%s'",
					h->accessories[i].name);
			return &h->accessories[i].proxy_config;
		}
	return NULL;
}

void
kr_diff_plan_proxy(struct kr_plan *p, struct hctx *hc)
{
	const struct kr_observed_host *oh = hc->oh;
	const struct kr_obs_container *oc =
		kr_observed_container(oh, PROXY_NAME);
	const struct kr_app_proxy *pc;
	struct kr_change *c;
	const char *wanted;
	char *want, *who = NULL;

	if (!host_proxies(hc->h, NULL, NULL))
		return;
	c = kr_plan_add_change(p, KR_CHANGE_PROXY, PROXY_NAME, KR_ACTION_NOOP);
	pc = host_proxies(hc->h, c, &who);
	if (!oc) {
		c->action = KR_ACTION_CREATE;
		c->status = KR_STATUS_PLANNED;
		want = kr_docker_proxy_image(pc);
		kr_change_attr(c, "image", NULL, want);
		free(want);
		kr_change_set_reason(c,
			"%s runs behind kamal-proxy and the host has "
			"none (booted from %s as Kamal does)",
			who, pc->run ? "proxy/run" : ".kamal/proxy/");
		free(who);
		return;
	}
	free(who);
	kr_change_attr(c, "image", oc->image, oc->image);
	/* a proxy/run that asks for this very version is what the config
	 * wants: rebooting would bring the same one back */
	wanted = pc->run && pc->run_version ? pc->run_version :
					      KR_PROXY_MIN_VERSION;
	if (oh->proxy.version &&
		version_cmp(oh->proxy.version, KR_PROXY_MIN_VERSION) < 0 &&
		!str_eq(oh->proxy.version, wanted)) {
		c->action = KR_ACTION_REPLACE;
		c->status = KR_STATUS_PLANNED;
		kr_strvec_push(&c->containers, cid(oc));
		kr_change_attr(c, "version", oh->proxy.version, wanted)
			->flags |= KR_ATTR_FORCES;
		kr_change_set_reason(c,
			"kamal-proxy %s is older than %s, the "
			"minimum Kamal 2.12 requires (its routes are kept in "
			"the kamal-proxy-config volume)",
			oh->proxy.version, KR_PROXY_MIN_VERSION);
		return;
	}
	kr_change_attr(c, "version", oh->proxy.version, oh->proxy.version);
	if (!is_running(oc)) {
		c->action = KR_ACTION_UPDATE;
		c->status = KR_STATUS_PLANNED;
		c->start_container = kr_xstrdup(cid(oc));
		kr_change_attr(c, "state", oc->state, "running");
		kr_change_set_reason(c,
			"kamal-proxy is %s (drift); started as "
			"Kamal's proxy boot does",
			oc->state ? oc->state : "not running");
		return;
	}
	c->status = KR_STATUS_UNCHANGED;
}

static char *
join(const struct kr_strvec *v)
{
	struct kr_buf b = KR_BUF_INIT;
	size_t i;

	for (i = 0; i < v->n; i++)
		kr_buf_printf(&b, "%s%s", i ? "," : "", v->v[i]);
	return kr_buf_detach(&b, NULL);
}

static char *
bools(bool v)
{
	return kr_xstrdup(v ? "true" : "false");
}

static char *
msecs(long long ms)
{
	if (ms % 1000 == 0)
		return kr_xasprintf("%llds", ms / 1000);
	return kr_xasprintf("%lldms", ms);
}

static char *
num(long long v)
{
	return kr_xasprintf("%lld", v);
}

#define NOPTS 15

/*
 * The route options in kamal-proxy's terms: what the config asks for
 * (Kamal's deploy_options, kamal-proxy's defaults for what it leaves out)
 * and what kamal-proxy holds (r; NULL = no route). Names in `names`.
 */
static void
route_opts(char *want[NOPTS], char *have[NOPTS], const char *names[NOPTS],
	const struct kr_app_proxy *p, const struct kr_obs_route *r)
{
	static const char *const n[NOPTS] = { "hosts", "path_prefixes", "tls",
		"tls_redirect", "strip_path_prefix", "forward_headers",
		"health_check_path", "health_check_interval",
		"health_check_timeout", "response_timeout", "buffer_requests",
		"buffer_responses", "buffer_memory", "max_request_body",
		"log_request_headers" };
	struct kr_strvec prefixes = { 0 }, logh = { 0 };
	size_t i;

	for (i = 0; i < NOPTS; i++)
		names[i] = n[i];
	if (p->path_prefixes.n)
		kr_strvec_copy(&prefixes, &p->path_prefixes);
	else
		kr_strvec_push(&prefixes, "/");
	if (p->log_request_headers.n) {
		kr_strvec_copy(&logh, &p->log_request_headers);
	} else {
		kr_strvec_push(&logh, "Cache-Control");
		kr_strvec_push(&logh, "Last-Modified");
		kr_strvec_push(&logh, "User-Agent");
	}
	want[0] = join(&p->hosts);
	want[1] = join(&prefixes);
	want[2] = bools(p->ssl);
	want[3] = bools(p->ssl_redirect != 0);
	want[4] = bools(p->strip_path_prefix != 0);
	want[5] = bools(p->forward_headers >= 0 ? p->forward_headers : !p->ssl);
	want[6] = kr_xstrdup(p->healthcheck_path ? p->healthcheck_path : "/up");
	want[7] = msecs(p->healthcheck_interval > 0 ?
				p->healthcheck_interval * 1000LL :
				1000);
	want[8] = msecs(p->healthcheck_timeout > 0 ?
				p->healthcheck_timeout * 1000LL :
				5000);
	want[9] = msecs(
		p->response_timeout > 0 ? p->response_timeout * 1000LL : 30000);
	want[10] = bools(p->buffer_requests != 0);
	want[11] = bools(p->buffer_responses != 0);
	want[12] = num(p->buffer_memory >= 0 ? p->buffer_memory : 1048576);
	want[13] = num(p->max_request_body >= 0 ? p->max_request_body : 0);
	want[14] = join(&logh);
	kr_strvec_release(&prefixes);
	kr_strvec_release(&logh);
	if (!r) {
		for (i = 0; i < NOPTS; i++)
			have[i] = NULL;
		return;
	}
	have[0] = join(&r->hosts);
	have[1] = join(&r->path_prefixes);
	have[2] = bools(r->tls);
	have[3] = bools(r->tls_redirect);
	have[4] = bools(r->strip_prefix);
	have[5] = bools(r->forward_headers);
	have[6] = kr_xstrdup(r->health_check_path ? r->health_check_path : "");
	have[7] = msecs(r->health_check_interval_ms);
	have[8] = msecs(r->health_check_timeout_ms);
	have[9] = msecs(r->response_timeout_ms);
	have[10] = bools(r->buffer_requests);
	have[11] = bools(r->buffer_responses);
	have[12] = num(r->buffer_memory);
	have[13] = num(r->max_request_body);
	have[14] = join(&r->log_request_headers);
}

/* Attributes proxy.* on c; the names of the options that differ go to
 * diffs (as "name before → after"). */
static void
route_attrs(struct kr_change *c, const struct kr_app_proxy *p,
	const struct kr_obs_route *r, struct kr_strvec *diffs)
{
	char *want[NOPTS], *have[NOPTS];
	const char *names[NOPTS];
	size_t i;

	route_opts(want, have, names, p, r);
	for (i = 0; i < NOPTS; i++) {
		char *an = kr_xasprintf("proxy.%s", names[i]);

		kr_change_attr(c, an, have[i], want[i]);
		if (r && !str_eq(have[i], want[i]))
			kr_strvec_push_owned(
				diffs, kr_xasprintf("%s %s → %s", names[i],
					       *have[i] ? have[i] : "(none)",
					       *want[i] ? want[i] : "(none)"));
		free(an);
		free(want[i]);
		free(have[i]);
	}
}

/* The running container of role (newest), or NULL. */
static const struct kr_obs_container *
running_of(const struct hctx *hc, const char *role)
{
	const struct kr_obs_container *run = NULL;
	size_t i;

	for (i = 0; i < hc->oh->ncontainers; i++) {
		const struct kr_obs_container *oc = &hc->oh->containers[i];

		if (kr_diff_is_app(hc->dc, oc) && is_running(oc) &&
			str_eq(label(oc, "role"), role) &&
			(!run || kr_diff_newer(oc, run)))
			run = oc;
	}
	return run;
}

/* Does target "X:port" name container oc (id prefix or name)? */
static bool
target_is(const char *target, const struct kr_obs_container *oc, int port)
{
	const char *colon = strrchr(target, ':');
	size_t n = colon ? (size_t)(colon - target) : strlen(target);
	const char *id = oc->id ? oc->id : "";

	if (!colon || atoi(colon + 1) != port || n == 0)
		return false;
	if (n >= 12 && n <= strlen(id) && strncmp(id, target, n) == 0)
		return true;
	return strlen(cname(oc)) == n && strncmp(cname(oc), target, n) == 0;
}

static struct kr_change *
app_change(struct kr_plan *app, const char *role)
{
	size_t i;

	for (i = 0; i < app->nchanges; i++)
		if (app->changes[i].type == KR_CHANGE_APP &&
			str_eq(app->changes[i].name, role))
			return &app->changes[i];
	return NULL;
}

/*
 * One route: rn, routed as pc says, to the container of change ac (the
 * role's or accessory's, in a scratch plan) or, when that one stays, to
 * the running container run. who names it in reasons.
 */
static void
plan_route(struct hctx *hc, char *rn, const struct kr_app_proxy *pc,
	struct kr_change *ac, const struct kr_obs_container *run,
	const char *who, const struct kr_app *a, const struct kr_accessory *acc)
{
	const struct kr_obs_proxy *px = &hc->oh->proxy;
	const struct kr_obs_route *r = kr_obs_proxy_route(px, rn);
	struct kr_change *c;
	struct kr_strvec diffs = { 0 };
	struct kr_buf why = KR_BUF_INIT;
	char *tgt_have = r ? join(&r->targets) : NULL, *tgt_want;
	int port = pc->app_port > 0 ? pc->app_port : 80;

	if (ac && ac->status == KR_STATUS_PLANNED &&
		(ac->action == KR_ACTION_CREATE ||
			ac->action == KR_ACTION_REPLACE)) {
		/* its step deploys the new container behind the proxy */
		tgt_want = kr_xasprintf("(new container):%d", port);
		kr_change_attr(ac, "proxy.route", r ? rn : NULL, rn);
		kr_change_attr(ac, "proxy.target", tgt_have, tgt_want);
		route_attrs(ac, pc, r, &diffs);
		free(tgt_want);
		goto out;
	}
	if (!run || (px->version && !px->routes_known && px->running))
		goto out; /* nothing to route to, or routes unreadable */
	tgt_want = kr_xasprintf("%.12s:%d", cid(run), port);
	c = kr_plan_add_change(hc->app, KR_CHANGE_ROUTE, rn, KR_ACTION_NOOP);
	c->app = a;
	c->accessory = acc;
	c->start_container = kr_xstrdup(cid(run));
	kr_change_attr(c, "target", tgt_have, tgt_want);
	route_attrs(c, pc, r, &diffs);
	if (!r) {
		c->action = KR_ACTION_CREATE;
		kr_buf_printf(&why,
			"kamal-proxy has no route '%s' for the "
			"running container of %s",
			rn, who);
	} else {
		bool tgt_ok = r->targets.n == 1 &&
			      target_is(r->targets.v[0], run, port);

		if (!tgt_ok)
			kr_buf_printf(&why,
				"kamal-proxy sends '%s' to %s, not "
				"to the running container %.12s",
				rn,
				tgt_have && *tgt_have ? tgt_have : "nothing",
				cid(run));
		if (diffs.n) {
			kr_buf_puts(&why, why.len ? "; " : "");
			kr_diff_put_key_list(&why, &diffs);
		}
		if (why.len)
			c->action = KR_ACTION_UPDATE;
	}
	if (c->action != KR_ACTION_NOOP) {
		c->status = KR_STATUS_PLANNED;
		kr_diff_set_reason_buf(c, &why);
	} else {
		c->status = KR_STATUS_UNCHANGED;
	}
	free(tgt_want);
out:
	kr_buf_release(&why);
	kr_strvec_release(&diffs);
	free(tgt_have);
	free(rn);
}

/* The running container named name (an accessory), or NULL. */
static const struct kr_obs_container *
running_named(const struct hctx *hc, const char *name)
{
	const struct kr_obs_container *oc = kr_observed_container(hc->oh, name);

	return oc && is_running(oc) ? oc : NULL;
}

static struct kr_change *
acc_change(struct kr_plan *acc, const char *name)
{
	size_t i;

	for (i = 0; i < acc->nchanges; i++)
		if (acc->changes[i].type == KR_CHANGE_ACCESSORY &&
			str_eq(acc->changes[i].name, name))
			return &acc->changes[i];
	return NULL;
}

void
kr_diff_plan_routes(struct hctx *hc)
{
	size_t i;

	for (i = 0; hc->h && i < hc->h->napps; i++) {
		const struct kr_app *a = &hc->h->apps[i];
		char *who;

		if (!a->proxy)
			continue;
		who = kr_xasprintf("role '%s'", a->role);
		plan_route(hc, route_name(hc->dc, a->role), &a->proxy_config,
			app_change(hc->app, a->role), running_of(hc, a->role),
			who, a, NULL);
		free(who);
	}
	/* Kamal routes a proxied accessory by its service name */
	for (i = 0; hc->h && i < hc->h->naccessories; i++) {
		const struct kr_accessory *acc = &hc->h->accessories[i];
		char *who;

		if (!acc->proxy)
			continue;
		who = kr_xasprintf("accessory '%s'", acc->name);
		plan_route(hc, kr_xstrdup(acc->container), &acc->proxy_config,
			acc_change(hc->acc, acc->name),
			running_named(hc, acc->container), who, NULL, acc);
		free(who);
	}
}

/*
 * Routes of this service's roles and accessories that are not proxied
 * here any more. Planned before the removals of containers, as Kamal's
 * `app stop` removes the route before it stops the container.
 */
void
kr_diff_plan_removed_routes(struct hctx *hc)
{
	const struct kr_obs_proxy *px = &hc->oh->proxy;
	size_t i, j;

	for (i = 0; i < px->nroutes; i++) {
		const struct kr_obs_route *r = &px->routes[i];
		bool ours = false, wanted = false;
		struct kr_change *c;
		char *why;

		for (j = 0; j < hc->oh->ncontainers && !ours; j++) {
			const struct kr_obs_container *oc =
				&hc->oh->containers[j];
			char *rn;

			if (!kr_diff_is_app(hc->dc, oc))
				continue;
			rn = route_name(hc->dc, label(oc, "role"));
			ours = str_eq(rn, r->service);
			free(rn);
		}
		for (j = 0; hc->h && j < hc->h->napps; j++) {
			char *rn = route_name(hc->dc, hc->h->apps[j].role);

			if (str_eq(rn, r->service)) {
				ours = true;
				wanted = hc->h->apps[j].proxy;
			}
			free(rn);
		}
		for (j = 0; j < hc->oh->ncontainers && !ours; j++)
			ours = kr_diff_is_accessory(
				       hc->dc, &hc->oh->containers[j]) &&
			       str_eq(cname(&hc->oh->containers[j]),
				       r->service);
		for (j = 0; hc->h && j < hc->h->naccessories; j++)
			if (str_eq(hc->h->accessories[j].container,
				    r->service)) {
				ours = true;
				wanted = hc->h->accessories[j].proxy;
			}
		if (!ours || wanted)
			continue;
		c = kr_plan_add_change(
			hc->app, KR_CHANGE_ROUTE, r->service, KR_ACTION_NOOP);
		{
			char *t = join(&r->targets);

			kr_change_attr(c, "target", t, NULL);
			free(t);
		}
		why = hc->h ? kr_xasprintf("nothing proxied on this host is "
					   "routed as '%s'",
				      r->service) :
			      kr_diff_removal_words(
				      hc, "route", r->service, false);
		kr_diff_mark_removal(hc, c, why);
		free(why);
	}
}
