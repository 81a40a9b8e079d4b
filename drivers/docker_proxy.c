/*
 * kamal-proxy as the observe script sees it: the proxy container's image
 * version and running state, and its routes, read from the state file that
 * kamal-proxy saves after every deploy and remove (a JSON list of services:
 * name, options, target_options, active_targets; durations in
 * nanoseconds). kamal-proxy v0.9.2's `list` has no JSON output and shows
 * only host, path, target and TLS, so the state file is the one place that
 * holds every option. Pure: no I/O.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/error.h"
#include "drivers/docker_int.h"

static void
push_strs(struct kr_strvec *out, const json_t *a)
{
	const json_t *v;
	size_t i;

	if (!json_is_array(a))
		return;
	json_array_foreach(a, i, v)
	{
		if (json_is_string(v))
			kr_strvec_push(out, json_string_value(v));
	}
}

static long long
num(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

static bool
flag(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

static int
cmp_route(const void *a, const void *b)
{
	const struct kr_obs_route *x = a, *y = b;

	return strcmp(x->service, y->service);
}

int
kr_docker_parse_proxy_state(
	struct kr_obs_proxy *p, const char *host, const char *text, size_t len)
{
	json_error_t e;
	json_t *j = NULL;
	const json_t *s;
	size_t i, n = 0;

	while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
		len--;
	if (len == 0) { /* nothing deployed yet: no state file */
		p->routes_known = true;
		return 0;
	}
	j = json_loadb(text, len, 0, &e);
	if (!j || !json_is_array(j)) {
		kr_error_set(KR_EPARSE,
			"kamal-proxy state on '%s' is not a JSON list%s%s",
			host, j ? "" : ": ", j ? "" : e.text);
		json_decref(j);
		return KR_EPARSE;
	}
	p->routes = kr_xcalloc(json_array_size(j) + 1, sizeof(*p->routes));
	json_array_foreach(j, i, s)
	{
		const json_t *name = json_object_get(s, "name");
		const json_t *so = json_object_get(s, "options");
		const json_t *to = json_object_get(s, "target_options");
		const json_t *hc = json_object_get(to, "health_check_config");
		const json_t *v;
		struct kr_obs_route *r;

		if (!json_is_string(name))
			continue;
		r = &p->routes[n++];
		r->service = kr_xstrdup(json_string_value(name));
		push_strs(&r->targets, json_object_get(s, "active_targets"));
		/* kamal-proxy before v0.8 saved one target and the hosts
		 * outside the options */
		if (!r->targets.n &&
			json_is_string(v = json_object_get(s, "active_target")))
			kr_strvec_push(&r->targets, json_string_value(v));
		push_strs(&r->hosts, json_object_get(so, "hosts"));
		if (!r->hosts.n)
			push_strs(&r->hosts, json_object_get(s, "hosts"));
		push_strs(&r->path_prefixes,
			json_object_get(so, "path_prefixes"));
		r->tls = flag(so, "tls_enabled");
		r->tls_redirect = flag(so, "tls_redirect");
		r->strip_prefix = flag(so, "strip_prefix");
		r->forward_headers = flag(to, "forward_headers");
		r->buffer_requests = flag(to, "buffer_requests");
		r->buffer_responses = flag(to, "buffer_responses");
		r->buffer_memory = num(to, "max_memory_buffer_size");
		r->max_request_body = num(to, "max_request_body_size");
		r->max_response_body = num(to, "max_response_body_size");
		if (json_is_string(v = json_object_get(hc, "path")))
			r->health_check_path = kr_xstrdup(json_string_value(v));
		r->health_check_interval_ms = num(hc, "interval") / 1000000;
		r->health_check_timeout_ms = num(hc, "timeout") / 1000000;
		r->response_timeout_ms = num(to, "response_timeout") / 1000000;
		push_strs(&r->log_request_headers,
			json_object_get(to, "log_request_headers"));
		push_strs(&r->log_response_headers,
			json_object_get(to, "log_response_headers"));
	}
	p->nroutes = n;
	if (n > 1)
		qsort(p->routes, n, sizeof(*p->routes), cmp_route);
	p->routes_known = true;
	json_decref(j);
	return 0;
}

void
kr_docker_proxy_container(struct kr_obs_proxy *p,
	const struct kr_observed_host *h, const char *name)
{
	const struct kr_obs_container *c = kr_observed_container(h, name);
	const char *img, *colon, *slash;

	if (!c)
		return;
	img = c->image ? c->image : "";
	colon = strrchr(img, ':');
	slash = strrchr(img, '/');
	/* Kamal reads the version as the text after the last ':' */
	free(p->version);
	p->version = kr_xstrdup(
		colon && (!slash || colon > slash) ? colon + 1 : "latest");
	p->running = c->state && strcmp(c->state, "running") == 0;
}
