/*
 * The observed kamal-proxy of a host (see observed.h): releasing it, finding
 * a route, and its JSON form inside the observed host ("proxy": version,
 * whether its routes could be read, the routes with their options).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/error.h"
#include "state/observed.h"

void
kr_obs_route_release(struct kr_obs_route *r)
{
	if (!r)
		return;
	free(r->service);
	kr_strvec_release(&r->targets);
	kr_strvec_release(&r->hosts);
	kr_strvec_release(&r->path_prefixes);
	free(r->health_check_path);
	kr_strvec_release(&r->log_request_headers);
	kr_strvec_release(&r->log_response_headers);
	memset(r, 0, sizeof(*r));
}

void
kr_obs_proxy_release(struct kr_obs_proxy *p)
{
	size_t i;

	if (!p)
		return;
	free(p->version);
	for (i = 0; i < p->nroutes; i++)
		kr_obs_route_release(&p->routes[i]);
	free(p->routes);
	memset(p, 0, sizeof(*p));
}

const struct kr_obs_route *
kr_obs_proxy_route(const struct kr_obs_proxy *p, const char *service)
{
	size_t i;

	for (i = 0; p && service && i < p->nroutes; i++)
		if (p->routes[i].service &&
			strcmp(p->routes[i].service, service) == 0)
			return &p->routes[i];
	return NULL;
}

static json_t *
strs(const struct kr_strvec *sv)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < sv->n; i++)
		json_array_append_new(a, json_string(sv->v[i]));
	return a;
}

static json_t *
route_json(const struct kr_obs_route *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "service", json_string(r->service));
	json_object_set_new(o, "targets", strs(&r->targets));
	json_object_set_new(o, "hosts", strs(&r->hosts));
	json_object_set_new(o, "path_prefixes", strs(&r->path_prefixes));
	json_object_set_new(o, "tls", json_boolean(r->tls));
	json_object_set_new(o, "tls_redirect", json_boolean(r->tls_redirect));
	json_object_set_new(o, "strip_prefix", json_boolean(r->strip_prefix));
	json_object_set_new(
		o, "forward_headers", json_boolean(r->forward_headers));
	json_object_set_new(
		o, "buffer_requests", json_boolean(r->buffer_requests));
	json_object_set_new(
		o, "buffer_responses", json_boolean(r->buffer_responses));
	json_object_set_new(o, "buffer_memory", json_integer(r->buffer_memory));
	json_object_set_new(
		o, "max_request_body", json_integer(r->max_request_body));
	json_object_set_new(
		o, "max_response_body", json_integer(r->max_response_body));
	json_object_set_new(o, "health_check_path",
		r->health_check_path ? json_string(r->health_check_path) :
				       json_null());
	json_object_set_new(o, "health_check_interval_ms",
		json_integer(r->health_check_interval_ms));
	json_object_set_new(o, "health_check_timeout_ms",
		json_integer(r->health_check_timeout_ms));
	json_object_set_new(
		o, "response_timeout_ms", json_integer(r->response_timeout_ms));
	json_object_set_new(
		o, "log_request_headers", strs(&r->log_request_headers));
	json_object_set_new(
		o, "log_response_headers", strs(&r->log_response_headers));
	return o;
}

json_t *
kr_obs_proxy_to_json(const struct kr_obs_proxy *p)
{
	json_t *o, *a;
	size_t i;

	if (!p->version && !p->routes_known)
		return NULL;
	o = json_object();
	a = json_array();
	json_object_set_new(o, "version",
		p->version ? json_string(p->version) : json_null());
	json_object_set_new(o, "running", json_boolean(p->running));
	json_object_set_new(o, "routes_known", json_boolean(p->routes_known));
	for (i = 0; i < p->nroutes; i++)
		json_array_append_new(a, route_json(&p->routes[i]));
	json_object_set_new(o, "routes", a);
	return o;
}

static int
bad(const char *what)
{
	kr_error_set(KR_EPARSE, "observed state: bad proxy '%s'", what);
	return KR_EPARSE;
}

static int
get_strs(struct kr_strvec *out, const json_t *o, const char *key)
{
	const json_t *a = json_object_get(o, key), *v;
	size_t i;

	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return bad(key);
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v))
			return bad(key);
		kr_strvec_push(out, json_string_value(v));
	}
	return 0;
}

static long long
get_int(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

static int
route_from_json(struct kr_obs_route *r, const json_t *o)
{
	const json_t *v;
	int err;

	if (!json_is_object(o) ||
		!json_is_string(v = json_object_get(o, "service")))
		return bad("routes");
	r->service = kr_xstrdup(json_string_value(v));
	if ((err = get_strs(&r->targets, o, "targets")) < 0 ||
		(err = get_strs(&r->hosts, o, "hosts")) < 0 ||
		(err = get_strs(&r->path_prefixes, o, "path_prefixes")) < 0 ||
		(err = get_strs(&r->log_request_headers, o,
			 "log_request_headers")) < 0 ||
		(err = get_strs(&r->log_response_headers, o,
			 "log_response_headers")) < 0)
		return err;
	r->tls = json_is_true(json_object_get(o, "tls"));
	r->tls_redirect = json_is_true(json_object_get(o, "tls_redirect"));
	r->strip_prefix = json_is_true(json_object_get(o, "strip_prefix"));
	r->forward_headers =
		json_is_true(json_object_get(o, "forward_headers"));
	r->buffer_requests =
		json_is_true(json_object_get(o, "buffer_requests"));
	r->buffer_responses =
		json_is_true(json_object_get(o, "buffer_responses"));
	r->buffer_memory = get_int(o, "buffer_memory");
	r->max_request_body = get_int(o, "max_request_body");
	r->max_response_body = get_int(o, "max_response_body");
	v = json_object_get(o, "health_check_path");
	if (json_is_string(v))
		r->health_check_path = kr_xstrdup(json_string_value(v));
	r->health_check_interval_ms = get_int(o, "health_check_interval_ms");
	r->health_check_timeout_ms = get_int(o, "health_check_timeout_ms");
	r->response_timeout_ms = get_int(o, "response_timeout_ms");
	return 0;
}

int
kr_obs_proxy_from_json(struct kr_obs_proxy *out, const json_t *j)
{
	struct kr_obs_proxy p;
	const json_t *a, *v;
	size_t i;
	int err = 0;

	memset(&p, 0, sizeof(p));
	if (!j || json_is_null(j)) {
		*out = p;
		return 0;
	}
	if (!json_is_object(j))
		return bad("proxy");
	v = json_object_get(j, "version");
	if (json_is_string(v))
		p.version = kr_xstrdup(json_string_value(v));
	p.running = json_is_true(json_object_get(j, "running"));
	p.routes_known = json_is_true(json_object_get(j, "routes_known"));
	a = json_object_get(j, "routes");
	if (a && !json_is_array(a)) {
		err = bad("routes");
		goto fail;
	}
	if (a && json_array_size(a)) {
		p.routes = kr_xcalloc(json_array_size(a), sizeof(*p.routes));
		json_array_foreach(a, i, v)
		{
			p.nroutes++;
			if ((err = route_from_json(&p.routes[i], v)) < 0)
				goto fail;
		}
	}
	*out = p;
	return 0;
fail:
	kr_obs_proxy_release(&p);
	return err;
}
