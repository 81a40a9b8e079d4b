/*
 * deploy.yml → struct kr_config (see config.h): loading (ERB, YAML,
 * destination merge), then one walk over the merged tree that both checks
 * every key against Kamal 2's schema and fills the typed model. Each problem
 * is added to the diagnostics with the position of the node at fault, and the
 * walk goes on, so one run reports everything.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/hash.h"
#include "state/config.h"

struct ctx {
	struct kr_diags *d;
	struct kr_config *c;
};

static void err(struct ctx *x, const struct kr_yaml_node *n,
	const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
err(struct ctx *x, const struct kr_yaml_node *n, const char *fmt, ...)
{
	struct kr_buf b = KR_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	kr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	kr_diags_add(x->d, n ? n->file : x->c->file, n ? n->line : 0,
		n ? n->col : 0, "%s", b.ptr);
	kr_buf_release(&b);
}

static void
set_pos(struct kr_config_pos *p, const struct kr_yaml_node *n)
{
	p->file = kr_xstrdup(n->file);
	p->line = n->line;
	p->col = n->col;
}

static char *
sub(const char *path, const char *key)
{
	return *path ? kr_xasprintf("%s/%s", path, key) : kr_xstrdup(key);
}

/* ---- did-you-mean and unknown keys ------------------------------------ */

size_t
kr_config_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t *prev, *cur, *t, r;

	if (la > 64 || lb > 64)
		return la > lb ? la : lb;
	prev = kr_xcalloc(lb + 1, sizeof(*prev));
	cur = kr_xcalloc(lb + 1, sizeof(*cur));
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			size_t rep = prev[j - 1] + (a[i - 1] != b[j - 1]);

			cur[j] = del < ins ? del : ins;
			if (rep < cur[j])
				cur[j] = rep;
		}
		t = prev, prev = cur, cur = t;
	}
	r = prev[lb];
	free(prev);
	free(cur);
	return r;
}

static const char *
suggest(const char *key, const char *const *allowed)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, limit = strlen(key) / 3, i;

	if (limit < 2)
		limit = 2;
	for (i = 0; allowed[i]; i++) {
		size_t d = kr_config_edit_distance(key, allowed[i]);

		if (d < best_d) {
			best_d = d;
			best = allowed[i];
		}
	}
	return best_d <= limit ? best : NULL;
}

/* Kamal 1 keys that Kamal 2 dropped, and what replaced them. */
struct removed_key {
	const char *where;	/* "" root, "role", "builder", "accessory" */
	const char *key;
	const char *instead;
};

static const struct removed_key removed_keys[] = {
	{ "", "traefik", "use 'proxy'" },
	{ "", "healthcheck", "use 'proxy/healthcheck'" },
	{ "", "stop_wait_time", "use 'drain_timeout'" },
	{ "", "readiness_timeout", "use 'deploy_timeout'" },
	{ "", "primary_web_role", "use 'primary_role'" },
	{ "role", "traefik", "use 'proxy'" },
	{ "role", "healthcheck", "use 'proxy/healthcheck'" },
	{ "builder", "multiarch", "use 'arch'" },
	{ "proxy", "deploy_timeout", "use the root 'deploy_timeout'" },
	{ "proxy", "drain_timeout", "use the root 'drain_timeout'" },
	{ NULL, NULL, NULL },
};

static bool
in_list(const char *s, const char *const *list)
{
	size_t i;

	for (i = 0; list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

/*
 * Report every key of map not in allowed. `where` selects the removed-key
 * table; extensions ("x-...") pass when allow_x.
 */
static void
check_keys(struct ctx *x, const struct kr_yaml_node *map, const char *path,
	const char *where, const char *const *allowed, bool allow_x)
{
	size_t i, j;

	for (i = 0; i < map->n; i++) {
		const struct kr_yaml_node *k = map->v[2 * i];
		const char *name, *s;
		bool done = false;

		if (k->type != KR_YAML_SCALAR) {
			err(x, k, "keys%s%s%s must be strings", *path ? " of '" : "",
				path, *path ? "'" : "");
			continue;
		}
		name = k->value;
		if (in_list(name, allowed))
			continue;
		if (allow_x && strncmp(name, "x-", 2) == 0)
			continue;
		for (j = 0; removed_keys[j].key; j++) {
			if (strcmp(removed_keys[j].where, where) == 0 &&
			    strcmp(removed_keys[j].key, name) == 0) {
				if (*path)
					err(x, k, "'%s/%s' was removed in Kamal 2; %s",
						path, name, removed_keys[j].instead);
				else
					err(x, k, "'%s' was removed in Kamal 2; %s",
						name, removed_keys[j].instead);
				done = true;
				break;
			}
		}
		if (done)
			continue;
		s = suggest(name, allowed);
		if (*path && s)
			err(x, k, "unknown key '%s' in '%s' (did you mean '%s'?)",
				name, path, s);
		else if (*path)
			err(x, k, "unknown key '%s' in '%s'", name, path);
		else if (s)
			err(x, k, "unknown key '%s' (did you mean '%s'?)", name, s);
		else
			err(x, k, "unknown key '%s'", name);
	}
}

/* ---- typed getters: report wrong types, return "unset" ---------------- */

static bool
stringish(const struct kr_yaml_node *n)
{
	enum kr_yaml_kind k = kr_yaml_kind(n);

	return k == KR_YK_STR || k == KR_YK_INT || k == KR_YK_FLOAT ||
		k == KR_YK_BOOL;
}

static void
type_error(struct ctx *x, const struct kr_yaml_node *n, const char *path,
	const char *expected)
{
	err(x, n, "'%s' should be %s, not %s", path, expected,
		kr_yaml_kind_name(kr_yaml_kind(n)));
}

static char *
str_node(struct ctx *x, const struct kr_yaml_node *n, const char *path)
{
	if (!stringish(n)) {
		type_error(x, n, path, "a string");
		return NULL;
	}
	return kr_yaml_to_string(n);
}

static char *
get_str(struct ctx *x, const struct kr_yaml_node *map, const char *key,
	const char *path)
{
	const struct kr_yaml_node *n = kr_yaml_get(map, key);
	char *p, *s;

	if (!n)
		return NULL;
	p = sub(path, key);
	s = str_node(x, n, p);
	free(p);
	return s;
}

static long long
get_int(struct ctx *x, const struct kr_yaml_node *map, const char *key,
	const char *path)
{
	const struct kr_yaml_node *n = kr_yaml_get(map, key);
	long long v;
	char *p;

	if (!n)
		return -1;
	if (kr_yaml_to_int(n, &v) && v >= 0)
		return v;
	p = sub(path, key);
	if (kr_yaml_kind(n) == KR_YK_INT)
		err(x, n, "'%s' should be a non-negative integer that fits", p);
	else
		type_error(x, n, p, "an integer");
	free(p);
	return -1;
}

static enum kr_tri
get_bool(struct ctx *x, const struct kr_yaml_node *map, const char *key,
	const char *path)
{
	const struct kr_yaml_node *n = kr_yaml_get(map, key);
	bool b;
	char *p;

	if (!n)
		return KR_TRI_UNSET;
	if (kr_yaml_to_bool(n, &b))
		return b ? KR_TRI_TRUE : KR_TRI_FALSE;
	p = sub(path, key);
	type_error(x, n, p, "a boolean");
	free(p);
	return KR_TRI_UNSET;
}

/* A list of strings; returns the node when it was a list. */
static const struct kr_yaml_node *
str_list_node(struct ctx *x, const struct kr_yaml_node *n, const char *path,
	struct kr_strvec *out)
{
	size_t i;

	if (n->type != KR_YAML_SEQ) {
		type_error(x, n, path, "a list");
		return NULL;
	}
	for (i = 0; i < n->n; i++) {
		char *p = kr_xasprintf("%s/%zu", path, i);
		char *s = str_node(x, n->v[i], p);

		if (s)
			kr_strvec_push_owned(out, s);
		free(p);
	}
	return n;
}

static const struct kr_yaml_node *
get_str_list(struct ctx *x, const struct kr_yaml_node *map, const char *key,
	const char *path, struct kr_strvec *out)
{
	const struct kr_yaml_node *n = kr_yaml_get(map, key);
	const struct kr_yaml_node *r;
	char *p;

	if (!n)
		return NULL;
	p = sub(path, key);
	r = str_list_node(x, n, p, out);
	free(p);
	return r;
}

/* A map whose values are strings (labels, env clear, build args). */
static void
str_map_node(struct ctx *x, const struct kr_yaml_node *n, const char *path,
	struct kr_kvlist *out)
{
	size_t i;

	if (n->type != KR_YAML_MAP) {
		type_error(x, n, path, "a map");
		return;
	}
	for (i = 0; i < n->n; i++) {
		const struct kr_yaml_node *k = n->v[2 * i], *v = n->v[2 * i + 1];
		char *ks = kr_yaml_to_string(k), *p, *vs;

		if (!ks) {
			err(x, k, "keys of '%s' must be strings", path);
			continue;
		}
		p = sub(path, ks);
		vs = str_node(x, v, p);
		if (vs)
			kr_kvlist_set(out, ks, vs);
		free(vs);
		free(p);
		free(ks);
	}
}

static void
get_str_map(struct ctx *x, const struct kr_yaml_node *map, const char *key,
	const char *path, struct kr_kvlist *out)
{
	const struct kr_yaml_node *n = kr_yaml_get(map, key);
	char *p;

	if (!n)
		return;
	p = sub(path, key);
	str_map_node(x, n, p, out);
	free(p);
}

/* A map value, or NULL (reporting when present but of another type). */
static const struct kr_yaml_node *
get_map(struct ctx *x, const struct kr_yaml_node *map, const char *key,
	const char *path)
{
	const struct kr_yaml_node *n = kr_yaml_get(map, key);
	char *p;

	if (!n)
		return NULL;
	if (n->type == KR_YAML_MAP)
		return n;
	p = sub(path, key);
	type_error(x, n, p, "a map");
	free(p);
	return NULL;
}

static void
add_secret_ref(struct ctx *x, const char *name, const char *context,
	const struct kr_yaml_node *n)
{
	struct kr_config *c = x->c;
	struct kr_config_secret_ref *r;

	c->secret_refs = kr_xrealloc(c->secret_refs,
		(c->nsecret_refs + 1) * sizeof(*c->secret_refs));
	r = &c->secret_refs[c->nsecret_refs++];
	r->name = kr_xstrdup(name);
	r->context = kr_xstrdup(context);
	set_pos(&r->pos, n);
}

/* ---- docker options ----------------------------------------------------- */

static bool
valid_restart(const char *s)
{
	const char *p;

	if (strcmp(s, "no") == 0 || strcmp(s, "always") == 0 ||
	    strcmp(s, "unless-stopped") == 0 || strcmp(s, "on-failure") == 0)
		return true;
	if (strncmp(s, "on-failure:", 11) != 0 || !s[11])
		return false;
	for (p = s + 11; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/*
 * options: {key: value} → "--key" "value" (Kamal's optionize): a list value
 * repeats the option, true gives a bare flag. restart is taken out.
 */
static void
options_node(struct ctx *x, const struct kr_yaml_node *map, const char *key,
	const char *path, struct kr_strvec *args, char **restart,
	bool check_restart)
{
	const struct kr_yaml_node *n = get_map(x, map, key, path);
	size_t i, j;

	if (!n)
		return;
	for (i = 0; i < n->n; i++) {
		const struct kr_yaml_node *k = n->v[2 * i], *v = n->v[2 * i + 1];
		char *ks = kr_yaml_to_string(k);

		if (!ks) {
			err(x, k, "keys of '%s/%s' must be strings", path, key);
			continue;
		}
		if (restart && strcmp(ks, "restart") == 0) {
			char *s = NULL;

			if (kr_yaml_kind(v) != KR_YK_STR)
				err(x, v, "'%s/options/restart' should be a string; "
					"use \"no\" to disable restarts", path);
			else if (!valid_restart(s = kr_yaml_to_string(v)))
				err(x, v, "'%s/options/restart' should be no, always, "
					"unless-stopped, on-failure or on-failure:N", path);
			else if (check_restart) {
				free(*restart);
				*restart = s;
				s = NULL;
			}
			free(s);
			free(ks);
			continue;
		}
		if (v->type == KR_YAML_SEQ) {
			for (j = 0; j < v->n; j++) {
				char *vs = kr_yaml_to_string(v->v[j]);

				kr_strvec_push_owned(args, kr_xasprintf("--%s", ks));
				if (!vs) {
					err(x, v->v[j], "'%s/%s/%s' entries should be strings",
						path, key, ks);
					vs = kr_xstrdup("");
				}
				kr_strvec_push_owned(args, vs);
			}
		} else if (v->type == KR_YAML_MAP) {
			err(x, v, "'%s/%s/%s' should be a string or a list", path,
				key, ks);
		} else {
			bool b;

			kr_strvec_push_owned(args, kr_xasprintf("--%s", ks));
			if (!(kr_yaml_to_bool(v, &b) && b))
				kr_strvec_push_owned(args, kr_yaml_to_string(v));
		}
		free(ks);
	}
}

/* ---- hosts --------------------------------------------------------------- */

static bool
parse_port(const char *s, int *out)
{
	long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
		if (v > 65535)
			return false;
	}
	*out = (int)v;
	return v > 0;
}

/*
 * SSHKit's reading of a host string: "host", "user@host", "host:port",
 * "user@host:port", "[v6]:port", a bare IPv6 address.
 */
static bool
parse_host_entry(struct kr_config_host *h, const char *entry)
{
	const char *at = strchr(entry, '@'), *rest = entry;
	const char *colon;

	h->entry = kr_xstrdup(entry);
	if (at) {
		if (at == entry)
			return false;
		h->user = kr_xstrndup(entry, (size_t)(at - entry));
		rest = at + 1;
	}
	if (rest[0] == '[') {
		const char *close = strchr(rest, ']');

		if (!close || close == rest + 1)
			return false;
		h->host = kr_xstrndup(rest + 1, (size_t)(close - rest - 1));
		if (close[1] == ':')
			return parse_port(close + 2, &h->port);
		return close[1] == '\0';
	}
	colon = strchr(rest, ':');
	if (colon && strchr(colon + 1, ':') && !at) {
		h->host = kr_xstrdup(rest);	/* a bare IPv6 address */
		return true;
	}
	if (colon) {
		if (colon == rest)
			return false;
		h->host = kr_xstrndup(rest, (size_t)(colon - rest));
		return parse_port(colon + 1, &h->port);
	}
	if (!*rest || strchr(rest, ' ') || strchr(rest, '@'))
		return false;
	h->host = kr_xstrdup(rest);
	return true;
}

static void
host_release(struct kr_config_host *h)
{
	free(h->entry);
	free(h->host);
	free(h->user);
	kr_strvec_release(&h->tags);
	free(h->pos.file);
}

/* Kamal's validate_servers!: strings, or one-pair maps host → tag(s). */
static void
host_list(struct ctx *x, const struct kr_yaml_node *n, const char *path,
	struct kr_config_host **out, size_t *nout)
{
	size_t i;

	if (n->type != KR_YAML_SEQ) {
		type_error(x, n, path, "a list");
		return;
	}
	*out = kr_xcalloc(n->n ? n->n : 1, sizeof(**out));
	for (i = 0; i < n->n; i++) {
		const struct kr_yaml_node *item = n->v[i], *hn = item;
		struct kr_config_host *h = &(*out)[*nout];
		char *p = kr_xasprintf("%s/%zu", path, i), *s;

		if (item->type == KR_YAML_MAP) {
			const struct kr_yaml_node *tags;

			if (item->n != 1) {
				err(x, item, "'%s' should name one host (multiple hosts found)",
					p);
				free(p);
				continue;
			}
			hn = item->v[0];
			tags = item->v[1];
			if (tags->type == KR_YAML_SEQ)
				str_list_node(x, tags, p, &h->tags);
			else if (stringish(tags))
				kr_strvec_push_owned(&h->tags, kr_yaml_to_string(tags));
			else
				type_error(x, tags, p, "a tag or a list of tags");
		}
		s = str_node(x, hn, p);
		free(p);
		if (!s) {
			kr_strvec_release(&h->tags);
			continue;
		}
		set_pos(&h->pos, hn);
		if (!parse_host_entry(h, s)) {
			err(x, hn, "invalid host '%s' (expected host, user@host or "
				"host:port)", s);
			host_release(h);
			memset(h, 0, sizeof(*h));
			free(s);
			continue;
		}
		free(s);
		(*nout)++;
	}
}

/* ---- env ------------------------------------------------------------------ */

static void env_node(struct ctx *x, const struct kr_yaml_node *n,
	const char *path, struct kr_config_env *env, bool allow_tags);

static void
secret_list(struct ctx *x, const struct kr_yaml_node *n, const char *path,
	struct kr_strvec *out)
{
	size_t i;

	if (n->type != KR_YAML_SEQ) {
		type_error(x, n, path, "a list");
		return;
	}
	for (i = 0; i < n->n; i++) {
		char *p = kr_xasprintf("%s/%zu", path, i);
		char *s = str_node(x, n->v[i], p);
		const char *colon;

		free(p);
		if (!s)
			continue;
		colon = strchr(s, ':');
		if (!*s || colon == s || (colon && !colon[1])) {
			err(x, n->v[i], "invalid secret '%s' (expected NAME or "
				"NAME:SECRET_NAME)", s);
			free(s);
			continue;
		}
		add_secret_ref(x, colon ? colon + 1 : s, path, n->v[i]);
		kr_strvec_push_owned(out, s);
	}
}

static void
env_node(struct ctx *x, const struct kr_yaml_node *n, const char *path,
	struct kr_config_env *env, bool allow_tags)
{
	static const char *const keys[] = { "clear", "secret", "tags", NULL };
	const struct kr_yaml_node *v;
	size_t i;

	if (n->type != KR_YAML_MAP) {
		type_error(x, n, path, "a map");
		return;
	}
	if (!kr_yaml_get(n, "clear") && !kr_yaml_get(n, "secret") &&
	    !kr_yaml_get(n, "tags")) {
		str_map_node(x, n, path, &env->clear);
		return;
	}
	check_keys(x, n, path, "env", keys, false);
	get_str_map(x, n, "clear", path, &env->clear);
	if ((v = kr_yaml_get(n, "secret"))) {
		char *p = sub(path, "secret");

		secret_list(x, v, p, &env->secret);
		free(p);
	}
	if ((v = kr_yaml_get(n, "tags"))) {
		if (!allow_tags) {
			err(x, kr_yaml_get_key(n, "tags"),
				"'%s/tags': tags are only allowed in the root env", path);
			return;
		}
		if (v->type != KR_YAML_MAP) {
			char *p = sub(path, "tags");

			type_error(x, v, p, "a map");
			free(p);
			return;
		}
		env->tags = kr_xcalloc(v->n ? v->n : 1, sizeof(*env->tags));
		for (i = 0; i < v->n; i++) {
			struct kr_config_env_tag *t = &env->tags[env->ntags];
			char *name = kr_yaml_to_string(v->v[2 * i]), *p;

			if (!name) {
				err(x, v->v[2 * i], "tag names must be strings");
				continue;
			}
			p = kr_xasprintf("%s/tags/%s", path, name);
			t->name = name;
			env_node(x, v->v[2 * i + 1], p, &t->env, false);
			free(p);
			env->ntags++;
		}
	}
}

static void
env_release(struct kr_config_env *e)
{
	size_t i;

	kr_kvlist_release(&e->clear);
	kr_strvec_release(&e->secret);
	for (i = 0; i < e->ntags; i++) {
		free(e->tags[i].name);
		env_release(&e->tags[i].env);
	}
	free(e->tags);
	memset(e, 0, sizeof(*e));
}

/* ---- sections ------------------------------------------------------------ */

static void
logging_node(struct ctx *x, const struct kr_yaml_node *n, const char *path,
	struct kr_config_logging *l)
{
	static const char *const keys[] = { "driver", "options", NULL };
	const struct kr_yaml_node *o;
	size_t i;

	if (n->type != KR_YAML_MAP) {
		type_error(x, n, path, "a map");
		return;
	}
	check_keys(x, n, path, "logging", keys, false);
	l->driver = get_str(x, n, "driver", path);
	if ((o = get_map(x, n, "options", path))) {
		for (i = 0; i < o->n; i++) {
			char *k = kr_yaml_to_string(o->v[2 * i]);
			char *v = kr_yaml_to_string(o->v[2 * i + 1]);

			if (!k || !v)
				err(x, o->v[2 * i], "'%s/options' should map names to "
					"strings", path);
			else
				kr_kvlist_set(&l->options, k, v);
			free(k);
			free(v);
		}
	}
}

static void
logging_release(struct kr_config_logging *l)
{
	free(l->driver);
	kr_kvlist_release(&l->options);
}

static bool
valid_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static void
split_commas(struct kr_strvec *out, const char *s)
{
	const char *p = s, *c;

	while ((c = strchr(p, ','))) {
		kr_strvec_push_owned(out, kr_xstrndup(p, (size_t)(c - p)));
		p = c + 1;
	}
	kr_strvec_push(out, p);
}

static void
proxy_node(struct ctx *x, const struct kr_yaml_node *n, const char *path,
	struct kr_config_proxy *p)
{
	static const char *const keys[] = { "host", "hosts", "app_port", "ssl",
		"ssl_redirect", "forward_headers", "response_timeout",
		"path_prefix", "path_prefixes", "strip_path_prefix", "healthcheck",
		"buffering", "logging", "run", NULL };
	static const char *const hc_keys[] = { "interval", "path", "timeout",
		NULL };
	static const char *const buf_keys[] = { "requests", "responses",
		"max_request_body", "max_response_body", "memory", NULL };
	static const char *const log_keys[] = { "request_headers",
		"response_headers", NULL };
	static const char *const run_keys[] = { "http_port", "https_port",
		"metrics_port", "debug", "log_max_size", "publish", "bind_ips",
		"registry", "repository", "version", "options", NULL };
	const struct kr_yaml_node *v, *ssl;
	char *sp, *host;
	size_t i;

	p->app_port = p->response_timeout = -1;
	p->healthcheck_interval = p->healthcheck_timeout = -1;
	p->buffering_max_request_body = p->buffering_max_response_body = -1;
	p->buffering_memory = -1;
	p->run_http_port = p->run_https_port = p->run_metrics_port = -1;
	p->ssl = p->ssl_redirect = p->forward_headers = KR_TRI_UNSET;
	p->strip_path_prefix = p->buffering_requests = KR_TRI_UNSET;
	p->buffering_responses = p->run_debug = p->run_publish = KR_TRI_UNSET;
	if (!n)
		return;
	if (n->type != KR_YAML_MAP) {
		type_error(x, n, path, "a map");
		return;
	}
	check_keys(x, n, path, "proxy", keys, false);
	if (kr_yaml_get(n, "host") && kr_yaml_get(n, "hosts"))
		err(x, kr_yaml_get_key(n, "hosts"),
			"'%s': specify one of 'host' or 'hosts', not both", path);
	if ((host = get_str(x, n, "host", path))) {
		split_commas(&p->hosts, host);
		free(host);
	}
	get_str_list(x, n, "hosts", path, &p->hosts);
	p->app_port = get_int(x, n, "app_port", path);
	if ((ssl = kr_yaml_get(n, "ssl"))) {
		bool b;

		sp = sub(path, "ssl");
		if (kr_yaml_to_bool(ssl, &b)) {
			p->ssl = b ? KR_TRI_TRUE : KR_TRI_FALSE;
		} else if (ssl->type == KR_YAML_MAP) {
			p->ssl = KR_TRI_TRUE;	/* Kamal checks no other keys here */
			p->ssl_certificate_pem = get_str(x, ssl, "certificate_pem", sp);
			p->ssl_private_key_pem = get_str(x, ssl, "private_key_pem", sp);
			if (!p->ssl_certificate_pem != !p->ssl_private_key_pem)
				err(x, ssl, "'%s' needs both certificate_pem and "
					"private_key_pem", sp);
			if (p->ssl_certificate_pem)
				add_secret_ref(x, p->ssl_certificate_pem, sp,
					kr_yaml_get(ssl, "certificate_pem"));
			if (p->ssl_private_key_pem)
				add_secret_ref(x, p->ssl_private_key_pem, sp,
					kr_yaml_get(ssl, "private_key_pem"));
		} else {
			type_error(x, ssl, sp, "a boolean or a map");
		}
		free(sp);
		if (p->ssl == KR_TRI_TRUE && !p->hosts.n)
			err(x, ssl, "'%s': automatic ssl needs a host", path);
	}
	p->ssl_redirect = get_bool(x, n, "ssl_redirect", path);
	p->forward_headers = get_bool(x, n, "forward_headers", path);
	p->response_timeout = get_int(x, n, "response_timeout", path);
	if ((host = get_str(x, n, "path_prefix", path))) {
		split_commas(&p->path_prefixes, host);
		free(host);
	}
	if (kr_yaml_get(n, "path_prefixes")) {
		kr_strvec_release(&p->path_prefixes);
		get_str_list(x, n, "path_prefixes", path, &p->path_prefixes);
	}
	p->strip_path_prefix = get_bool(x, n, "strip_path_prefix", path);
	if ((v = get_map(x, n, "healthcheck", path))) {
		sp = sub(path, "healthcheck");
		check_keys(x, v, sp, "healthcheck", hc_keys, false);
		p->healthcheck_interval = get_int(x, v, "interval", sp);
		p->healthcheck_path = get_str(x, v, "path", sp);
		p->healthcheck_timeout = get_int(x, v, "timeout", sp);
		free(sp);
	}
	if ((v = get_map(x, n, "buffering", path))) {
		sp = sub(path, "buffering");
		check_keys(x, v, sp, "buffering", buf_keys, false);
		p->buffering_requests = get_bool(x, v, "requests", sp);
		p->buffering_responses = get_bool(x, v, "responses", sp);
		p->buffering_max_request_body = get_int(x, v, "max_request_body", sp);
		p->buffering_max_response_body = get_int(x, v, "max_response_body",
			sp);
		p->buffering_memory = get_int(x, v, "memory", sp);
		free(sp);
	}
	if ((v = get_map(x, n, "logging", path))) {
		sp = sub(path, "logging");
		check_keys(x, v, sp, "proxy-logging", log_keys, false);
		get_str_list(x, v, "request_headers", sp, &p->logging_request_headers);
		get_str_list(x, v, "response_headers", sp,
			&p->logging_response_headers);
		free(sp);
	}
	if ((v = get_map(x, n, "run", path))) {
		sp = sub(path, "run");
		p->has_run = true;
		check_keys(x, v, sp, "run", run_keys, false);
		p->run_http_port = get_int(x, v, "http_port", sp);
		p->run_https_port = get_int(x, v, "https_port", sp);
		p->run_metrics_port = get_int(x, v, "metrics_port", sp);
		p->run_debug = get_bool(x, v, "debug", sp);
		p->run_log_max_size = get_str(x, v, "log_max_size", sp);
		p->run_publish = get_bool(x, v, "publish", sp);
		get_str_list(x, v, "bind_ips", sp, &p->run_bind_ips);
		for (i = 0; i < p->run_bind_ips.n; i++)
			if (!valid_ip(p->run_bind_ips.v[i]))
				err(x, kr_yaml_get(v, "bind_ips"),
					"'%s/bind_ips': invalid IP address '%s'", sp,
					p->run_bind_ips.v[i]);
		p->run_registry = get_str(x, v, "registry", sp);
		p->run_repository = get_str(x, v, "repository", sp);
		p->run_version = get_str(x, v, "version", sp);
		options_node(x, v, "options", sp, &p->run_args, NULL, false);
		if (p->run_publish == KR_TRI_FALSE &&
		    (p->run_bind_ips.n || p->run_http_port >= 0 ||
		     p->run_https_port >= 0))
			err(x, v, "'%s': http_port, https_port and bind_ips cannot be "
				"set when publish is false", sp);
		free(sp);
	}
}

static void
proxy_release(struct kr_config_proxy *p)
{
	kr_strvec_release(&p->hosts);
	free(p->ssl_certificate_pem);
	free(p->ssl_private_key_pem);
	kr_strvec_release(&p->path_prefixes);
	free(p->healthcheck_path);
	kr_strvec_release(&p->logging_request_headers);
	kr_strvec_release(&p->logging_response_headers);
	free(p->run_log_max_size);
	kr_strvec_release(&p->run_bind_ips);
	free(p->run_registry);
	free(p->run_repository);
	free(p->run_version);
	kr_strvec_release(&p->run_args);
}

static bool
local_registry(const char *server)
{
	/* Kamal: server.match?("^localhost[:$]") */
	return server && strncmp(server, "localhost", 9) == 0 &&
		(server[9] == ':' || server[9] == '$');
}

static void
registry_cred(struct ctx *x, const struct kr_yaml_node *n, const char *key,
	const char *path, char **literal, char **secret)
{
	const struct kr_yaml_node *v = kr_yaml_get(n, key);
	char *p = sub(path, key);

	if (!v) {
		free(p);
		return;
	}
	if (v->type == KR_YAML_SEQ && v->n == 1 &&
	    kr_yaml_kind(v->v[0]) == KR_YK_STR) {
		*secret = kr_yaml_to_string(v->v[0]);
		add_secret_ref(x, *secret, p, v->v[0]);
	} else if (kr_yaml_kind(v) == KR_YK_STR) {
		*literal = kr_yaml_to_string(v);
		if (!**literal) {
			free(*literal);
			*literal = NULL;
		}
	} else {
		err(x, v, "'%s' should be a string or a list with one string "
			"(for secret lookup)", p);
	}
	free(p);
}

static void
registry_node(struct ctx *x, const struct kr_yaml_node *n, const char *path,
	struct kr_config_registry *r)
{
	static const char *const keys[] = { "server", "username", "password",
		NULL };
	const char *creds[] = { "username", "password" };
	size_t i;

	if (n->type != KR_YAML_MAP) {
		type_error(x, n, path, "a map");
		return;
	}
	r->present = true;
	check_keys(x, n, path, "registry", keys, false);
	r->server = get_str(x, n, "server", path);
	registry_cred(x, n, "username", path, &r->username, &r->username_secret);
	registry_cred(x, n, "password", path, &r->password, &r->password_secret);
	if (local_registry(r->server))
		return;
	for (i = 0; i < 2; i++) {
		const struct kr_yaml_node *v = kr_yaml_get(n, creds[i]);
		bool have = i == 0 ? (r->username || r->username_secret) :
			(r->password || r->password_secret);

		if (!v)
			err(x, n, "'%s/%s' is required", path, creds[i]);
		else if (!have && kr_yaml_kind(v) != KR_YK_SEQ &&
			 kr_yaml_kind(v) == KR_YK_STR)
			err(x, v, "'%s/%s' is required", path, creds[i]);
	}
}

static void
registry_release(struct kr_config_registry *r)
{
	free(r->server);
	free(r->username);
	free(r->username_secret);
	kr_free_secret(r->password);
	free(r->password_secret);
}

static void
labels_node(struct ctx *x, const struct kr_yaml_node *map, const char *path,
	struct kr_kvlist *out, bool reserved)
{
	static const char *const res[] = { "service", "role", "destination",
		NULL };
	const struct kr_yaml_node *n = kr_yaml_get(map, "labels");
	size_t i;

	if (!n)
		return;
	get_str_map(x, map, "labels", path, out);
	if (!reserved || n->type != KR_YAML_MAP)
		return;
	for (i = 0; i < n->n; i++) {
		const struct kr_yaml_node *k = n->v[2 * i];

		if (k->value && in_list(k->value, res))
			err(x, k, "'%s/labels/%s': destination, role and service are "
				"reserved labels", path, k->value);
	}
}

static void
role_node(struct ctx *x, const char *name, const struct kr_yaml_node *n,
	struct kr_config_role *r)
{
	static const char *const keys[] = { "hosts", "cmd", "stop_timeout",
		"options", "logging", "proxy", "labels", "env", "asset_path", NULL };
	char *path = kr_xasprintf("servers/%s", name);
	const struct kr_yaml_node *v;
	bool b;

	r->name = kr_xstrdup(name);
	r->stop_timeout = -1;
	set_pos(&r->pos, n);
	if (n->type == KR_YAML_SEQ) {
		host_list(x, n, path, &r->hosts, &r->nhosts);
		goto out;
	}
	if (n->type != KR_YAML_MAP) {
		type_error(x, n, path, "a list of hosts or a map");
		goto out;
	}
	check_keys(x, n, path, "role", keys, false);
	if ((v = kr_yaml_get(n, "hosts"))) {
		char *p = sub(path, "hosts");

		host_list(x, v, p, &r->hosts, &r->nhosts);
		free(p);
	}
	r->cmd = get_str(x, n, "cmd", path);
	r->stop_timeout = get_int(x, n, "stop_timeout", path);
	options_node(x, n, "options", path, &r->args, &r->restart, true);
	if ((v = kr_yaml_get(n, "logging"))) {
		char *p = sub(path, "logging");

		r->has_logging = true;
		logging_node(x, v, p, &r->logging);
		free(p);
	}
	if ((v = kr_yaml_get(n, "proxy"))) {
		char *p = sub(path, "proxy");

		if (kr_yaml_to_bool(v, &b)) {
			r->proxy_mode = b ? KR_ROLE_PROXY_TRUE : KR_ROLE_PROXY_FALSE;
		} else if (v->type == KR_YAML_MAP) {
			r->proxy_mode = KR_ROLE_PROXY_MAP;
			proxy_node(x, v, p, &r->proxy);
		} else {
			type_error(x, v, p, "a boolean or a map");
		}
		free(p);
	}
	labels_node(x, n, path, &r->labels, true);
	if ((v = kr_yaml_get(n, "env"))) {
		char *p = sub(path, "env");

		r->has_env = true;
		env_node(x, v, p, &r->env, false);
		free(p);
	}
	r->asset_path = get_str(x, n, "asset_path", path);
out:
	free(path);
}

static void
role_release(struct kr_config_role *r)
{
	size_t i;

	free(r->name);
	for (i = 0; i < r->nhosts; i++)
		host_release(&r->hosts[i]);
	free(r->hosts);
	free(r->cmd);
	kr_strvec_release(&r->args);
	free(r->restart);
	logging_release(&r->logging);
	proxy_release(&r->proxy);
	kr_kvlist_release(&r->labels);
	env_release(&r->env);
	free(r->asset_path);
	free(r->pos.file);
}

static int
role_cmp(const void *a, const void *b)
{
	const struct kr_config_role *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static void
servers_node(struct ctx *x, const struct kr_yaml_node *n)
{
	struct kr_config *c = x->c;
	size_t i;

	if (n->type == KR_YAML_SEQ) {
		c->servers_is_list = true;
		c->roles = kr_xcalloc(1, sizeof(*c->roles));
		c->nroles = 1;
		role_node(x, "web", n, &c->roles[0]);
		return;
	}
	if (n->type != KR_YAML_MAP) {
		type_error(x, n, "servers", "a list or a map");
		return;
	}
	c->roles = kr_xcalloc(n->n ? n->n : 1, sizeof(*c->roles));
	for (i = 0; i < n->n; i++) {
		char *name = kr_yaml_to_string(n->v[2 * i]);

		if (!name) {
			err(x, n->v[2 * i], "role names must be strings");
			continue;
		}
		role_node(x, name, n->v[2 * i + 1], &c->roles[c->nroles++]);
		free(name);
	}
	qsort(c->roles, c->nroles, sizeof(*c->roles), role_cmp);
}

static void
path_list(struct ctx *x, const struct kr_yaml_node *map, const char *key,
	const char *path, struct kr_config_path **out, size_t *nout)
{
	const struct kr_yaml_node *n = kr_yaml_get(map, key);
	char *p;
	size_t i;

	if (!n)
		return;
	p = sub(path, key);
	if (n->type != KR_YAML_SEQ) {
		type_error(x, n, p, "a list");
		free(p);
		return;
	}
	*out = kr_xcalloc(n->n ? n->n : 1, sizeof(**out));
	for (i = 0; i < n->n; i++) {
		const struct kr_yaml_node *item = n->v[i];
		struct kr_config_path *e = &(*out)[*nout];
		char *ip = kr_xasprintf("%s/%zu", p, i);

		if (item->type == KR_YAML_MAP) {
			/* Kamal types these keys but lets others pass: so do we */
			e->local = get_str(x, item, "local", ip);
			e->remote = get_str(x, item, "remote", ip);
			e->mode = get_str(x, item, "mode", ip);
			e->owner = get_str(x, item, "owner", ip);
			e->options = get_str(x, item, "options", ip);
		} else if (stringish(item)) {
			/* local:remote[:options] */
			char *s = kr_yaml_to_string(item);
			char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

			if (c1) {
				e->local = kr_xstrndup(s, (size_t)(c1 - s));
				e->remote = c2 ? kr_xstrndup(c1 + 1, (size_t)(c2 - c1 - 1)) :
					kr_xstrdup(c1 + 1);
				if (c2)
					e->options = kr_xstrdup(c2 + 1);
			} else {
				e->local = kr_xstrdup(s);
			}
			free(s);
		} else {
			type_error(x, item, ip, "a string or a map");
			free(ip);
			continue;
		}
		if (!e->local || !*e->local || !e->remote || !*e->remote) {
			err(x, item, "'%s' needs a local and a remote path "
				"(local:remote[:options])", ip);
			free(e->local);
			free(e->remote);
			free(e->mode);
			free(e->owner);
			free(e->options);
			memset(e, 0, sizeof(*e));
			free(ip);
			continue;
		}
		set_pos(&e->pos, item);
		(*nout)++;
		free(ip);
	}
	free(p);
}

static void
path_release(struct kr_config_path *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(p[i].local);
		free(p[i].remote);
		free(p[i].mode);
		free(p[i].owner);
		free(p[i].options);
		free(p[i].pos.file);
	}
	free(p);
}

static void
accessory_node(struct ctx *x, const char *name, const struct kr_yaml_node *n,
	struct kr_config_accessory *a)
{
	static const char *const keys[] = { "service", "image", "registry",
		"host", "hosts", "role", "roles", "tag", "tags", "cmd", "port",
		"labels", "options", "env", "files", "directories", "volumes",
		"network", "proxy", NULL };
	static const char *const on_keys[] = { "host", "hosts", "role", "roles",
		"tag", "tags", NULL };
	char *path = kr_xasprintf("accessories/%s", name);
	const struct kr_yaml_node *v;
	size_t i, count = 0;

	a->name = kr_xstrdup(name);
	set_pos(&a->pos, n);
	if (n->type != KR_YAML_MAP) {
		type_error(x, n, path, "a map");
		goto out;
	}
	check_keys(x, n, path, "accessory", keys, false);
	a->service = get_str(x, n, "service", path);
	a->image = get_str(x, n, "image", path);
	if (!kr_yaml_get(n, "image"))
		err(x, n, "'%s/image' is required", path);
	if ((v = kr_yaml_get(n, "registry"))) {
		char *p = sub(path, "registry");

		registry_node(x, v, p, &a->registry);
		free(p);
	}
	{
		const struct kr_yaml_node *second = NULL;

		for (i = 0; on_keys[i]; i++) {
			if (kr_yaml_get(n, on_keys[i]) && ++count == 2)
				second = kr_yaml_get_key(n, on_keys[i]);
		}
		if (count != 1)
			err(x, second ? second : n, "'%s': specify exactly one of "
				"'host', 'hosts', 'role', 'roles', 'tag' or 'tags'%s",
				path, count ? " (found several)" : "");
	}
	if ((v = kr_yaml_get(n, "host"))) {
		char *s = get_str(x, n, "host", path);

		a->on = KR_ACC_ON_HOST;
		if (s) {
			a->hosts = kr_xcalloc(1, sizeof(*a->hosts));
			if (parse_host_entry(&a->hosts[0], s)) {
				set_pos(&a->hosts[0].pos, v);
				a->nhosts = 1;
			} else {
				err(x, v, "invalid host '%s' (expected host, user@host or "
					"host:port)", s);
				host_release(&a->hosts[0]);
				memset(&a->hosts[0], 0, sizeof(a->hosts[0]));
			}
			free(s);
		}
	} else if ((v = kr_yaml_get(n, "hosts"))) {
		char *p = sub(path, "hosts");

		a->on = KR_ACC_ON_HOSTS;
		host_list(x, v, p, &a->hosts, &a->nhosts);
		free(p);
	} else if (kr_yaml_get(n, "role") || kr_yaml_get(n, "tag")) {
		const char *k = kr_yaml_get(n, "role") ? "role" : "tag";
		char *s = get_str(x, n, k, path);

		a->on = *k == 'r' ? KR_ACC_ON_ROLE : KR_ACC_ON_TAG;
		if (s)
			kr_strvec_push_owned(&a->on_names, s);
	} else if (kr_yaml_get(n, "roles") || kr_yaml_get(n, "tags")) {
		const char *k = kr_yaml_get(n, "roles") ? "roles" : "tags";

		a->on = *k == 'r' ? KR_ACC_ON_ROLES : KR_ACC_ON_TAGS;
		get_str_list(x, n, k, path, &a->on_names);
	}
	if (a->on == KR_ACC_ON_ROLE || a->on == KR_ACC_ON_ROLES) {
		const char *k = a->on == KR_ACC_ON_ROLE ? "role" : "roles";

		for (i = 0; i < a->on_names.n; i++)
			if (!kr_config_role(x->c, a->on_names.v[i]))
				err(x, kr_yaml_get(n, k), "'%s': unknown role '%s'", path,
					a->on_names.v[i]);
	}
	a->cmd = get_str(x, n, "cmd", path);
	a->port = get_str(x, n, "port", path);
	labels_node(x, n, path, &a->labels, true);
	options_node(x, n, "options", path, &a->args, &a->restart, true);
	if ((v = kr_yaml_get(n, "env"))) {
		char *p = sub(path, "env");

		env_node(x, v, p, &a->env, false);
		free(p);
	}
	path_list(x, n, "files", path, &a->files, &a->nfiles);
	path_list(x, n, "directories", path, &a->directories, &a->ndirectories);
	get_str_list(x, n, "volumes", path, &a->volumes);
	a->network = get_str(x, n, "network", path);
	if ((v = kr_yaml_get(n, "proxy"))) {
		char *p = sub(path, "proxy");

		a->has_proxy = true;
		proxy_node(x, v, p, &a->proxy);
		free(p);
	}
out:
	free(path);
}

static void
accessory_release(struct kr_config_accessory *a)
{
	size_t i;

	free(a->name);
	free(a->service);
	free(a->image);
	registry_release(&a->registry);
	for (i = 0; i < a->nhosts; i++)
		host_release(&a->hosts[i]);
	free(a->hosts);
	kr_strvec_release(&a->on_names);
	free(a->cmd);
	free(a->port);
	kr_kvlist_release(&a->labels);
	kr_strvec_release(&a->args);
	free(a->restart);
	env_release(&a->env);
	path_release(a->files, a->nfiles);
	path_release(a->directories, a->ndirectories);
	kr_strvec_release(&a->volumes);
	free(a->network);
	proxy_release(&a->proxy);
	free(a->pos.file);
}

static void
builder_node(struct ctx *x, const struct kr_yaml_node *n)
{
	static const char *const keys[] = { "arch", "remote", "local", "pack",
		"cache", "context", "dockerfile", "target", "args", "secrets", "ssh",
		"driver", "provenance", "sbom", NULL };
	static const char *const pack_keys[] = { "builder", "buildpacks", NULL };
	static const char *const cache_keys[] = { "type", "options", "image",
		NULL };
	struct kr_config_builder *b = &x->c->builder;
	const struct kr_yaml_node *v;

	b->local = KR_TRI_UNSET;
	if (n->type != KR_YAML_MAP) {
		type_error(x, n, "builder", "a map");
		return;
	}
	check_keys(x, n, "builder", "builder", keys, false);
	if ((v = kr_yaml_get(n, "arch"))) {
		if (v->type == KR_YAML_SEQ)
			str_list_node(x, v, "builder/arch", &b->arch);
		else if (stringish(v))
			kr_strvec_push_owned(&b->arch, kr_yaml_to_string(v));
		else
			type_error(x, v, "builder/arch", "a string or a list");
	}
	if (!b->arch.n)
		err(x, v ? v : n, "'builder/arch' is required (amd64, arm64 or both)");
	b->remote = get_str(x, n, "remote", "builder");
	b->local = get_bool(x, n, "local", "builder");
	if (b->local == KR_TRI_FALSE && !b->remote)
		err(x, kr_yaml_get(n, "local"),
			"'builder': cannot disable local builds, no remote is set");
	if ((v = get_map(x, n, "pack", "builder"))) {
		check_keys(x, v, "builder/pack", "pack", pack_keys, false);
		b->pack_builder = get_str(x, v, "builder", "builder/pack");
		get_str_list(x, v, "buildpacks", "builder/pack", &b->pack_buildpacks);
		if (b->arch.n > 1)
			err(x, v, "'builder/pack': buildpacks only support building for "
				"one arch");
	}
	if ((v = get_map(x, n, "cache", "builder"))) {
		check_keys(x, v, "builder/cache", "cache", cache_keys, false);
		b->cache_type = get_str(x, v, "type", "builder/cache");
		b->cache_options = get_str(x, v, "options", "builder/cache");
		b->cache_image = get_str(x, v, "image", "builder/cache");
		if (b->cache_type && strcmp(b->cache_type, "gha") != 0 &&
		    strcmp(b->cache_type, "registry") != 0)
			err(x, kr_yaml_get(v, "type"), "'builder/cache/type' should be "
				"gha or registry, not '%s'", b->cache_type);
	}
	b->context = get_str(x, n, "context", "builder");
	b->dockerfile = get_str(x, n, "dockerfile", "builder");
	b->target = get_str(x, n, "target", "builder");
	if ((v = get_map(x, n, "args", "builder"))) {
		size_t i;

		for (i = 0; i < v->n; i++) {
			char *k = kr_yaml_to_string(v->v[2 * i]);
			char *s = kr_yaml_to_string(v->v[2 * i + 1]);

			if (k && s)
				kr_kvlist_set(&b->args, k, s);
			else
				err(x, v->v[2 * i], "'builder/args' should map names to "
					"strings");
			free(k);
			free(s);
		}
	}
	get_str_list(x, n, "secrets", "builder", &b->secrets);
	b->ssh = get_str(x, n, "ssh", "builder");
	b->driver = get_str(x, n, "driver", "builder");
	b->provenance = get_str(x, n, "provenance", "builder");
	if (get_bool(x, n, "sbom", "builder") != KR_TRI_UNSET)
		b->sbom = get_str(x, n, "sbom", "builder");
}

static void
builder_release(struct kr_config_builder *b)
{
	kr_strvec_release(&b->arch);
	free(b->remote);
	free(b->pack_builder);
	kr_strvec_release(&b->pack_buildpacks);
	free(b->cache_type);
	free(b->cache_options);
	free(b->cache_image);
	free(b->context);
	free(b->dockerfile);
	free(b->target);
	kr_kvlist_release(&b->args);
	kr_strvec_release(&b->secrets);
	free(b->ssh);
	free(b->driver);
	free(b->provenance);
	free(b->sbom);
}

static void
ssh_node(struct ctx *x, const struct kr_yaml_node *n)
{
	static const char *const keys[] = { "user", "port", "proxy",
		"proxy_command", "log_level", "keys_only", "keys", "key_data",
		"config", "forward_agent", NULL };
	struct kr_config_ssh *s = &x->c->ssh;
	const struct kr_yaml_node *v;

	s->keys_only = s->forward_agent = KR_TRI_UNSET;
	if (n->type != KR_YAML_MAP) {
		type_error(x, n, "ssh", "a map");
		return;
	}
	check_keys(x, n, "ssh", "ssh", keys, false);
	s->user = get_str(x, n, "user", "ssh");
	s->port = get_str(x, n, "port", "ssh");
	if (s->port) {
		int port;

		if (!parse_port(s->port, &port))
			err(x, kr_yaml_get(n, "port"), "'ssh/port' should be a port "
				"number, not '%s'", s->port);
	}
	s->proxy = get_str(x, n, "proxy", "ssh");
	s->proxy_command = get_str(x, n, "proxy_command", "ssh");
	s->log_level = get_str(x, n, "log_level", "ssh");
	s->keys_only = get_bool(x, n, "keys_only", "ssh");
	get_str_list(x, n, "keys", "ssh", &s->keys);
	get_str_list(x, n, "key_data", "ssh", &s->key_data);
	if ((v = kr_yaml_get(n, "config"))) {
		if (v->type == KR_YAML_SEQ)
			str_list_node(x, v, "ssh/config", &s->config_list);
		else if (stringish(v))
			s->config = kr_yaml_to_string(v);
		else
			type_error(x, v, "ssh/config", "a boolean, a string or a list");
	}
	s->forward_agent = get_bool(x, n, "forward_agent", "ssh");
}

static void
ssh_release(struct kr_config_ssh *s)
{
	free(s->user);
	free(s->port);
	free(s->proxy);
	free(s->proxy_command);
	free(s->log_level);
	kr_strvec_release(&s->keys);
	kr_strvec_release(&s->key_data);
	free(s->config);
	kr_strvec_release(&s->config_list);
}

/* Kamal's built-in commands, which an alias may not shadow. */
static const char *const builtin_commands[] = { "accessory", "app", "audit",
	"build", "config", "deploy", "details", "docs", "help", "init", "lock",
	"proxy", "prune", "redeploy", "registry", "remove", "rollback",
	"secrets", "server", "setup", "upgrade", "version", NULL };

static bool
valid_name(const char *s, bool lower_only)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		char c = *s;

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		    c == '-')
			continue;
		if (!lower_only && c >= 'A' && c <= 'Z')
			continue;
		return false;
	}
	return true;
}

static void
aliases_node(struct ctx *x, const struct kr_yaml_node *n)
{
	struct kr_config *c = x->c;
	size_t i;

	if (n->type != KR_YAML_MAP) {
		type_error(x, n, "aliases", "a map");
		return;
	}
	c->aliases = kr_xcalloc(n->n ? n->n : 1, sizeof(*c->aliases));
	for (i = 0; i < n->n; i++) {
		const struct kr_yaml_node *k = n->v[2 * i];
		char *name = kr_yaml_to_string(k), *p, *cmd;

		if (!name) {
			err(x, k, "alias names must be strings");
			continue;
		}
		p = sub("aliases", name);
		if (!valid_name(name, true))
			err(x, k, "invalid alias name '%s': use lowercase letters, "
				"digits, '-' and '_'", name);
		else if (in_list(name, builtin_commands))
			err(x, k, "alias '%s' conflicts with a built-in command", name);
		cmd = str_node(x, n->v[2 * i + 1], p);
		free(p);
		if (!cmd) {
			free(name);
			continue;
		}
		c->aliases[c->naliases].name = name;
		c->aliases[c->naliases].command = cmd;
		c->naliases++;
	}
}

static void
hooks_output_node(struct ctx *x, const struct kr_yaml_node *n)
{
	struct kr_config *c = x->c;
	size_t i;

	if (n->type == KR_YAML_MAP) {
		str_map_node(x, n, "hooks_output", &c->hooks_output_map);
		for (i = 0; i < c->hooks_output_map.n; i++) {
			const char *lvl = c->hooks_output_map.v[i].value;

			if (strcmp(lvl, "quiet") != 0 && strcmp(lvl, "verbose") != 0)
				err(x, n->v[2 * i + 1], "invalid hooks_output '%s' for "
					"hook '%s', must be one of: quiet, verbose", lvl,
					c->hooks_output_map.v[i].key);
		}
		return;
	}
	if (!(c->hooks_output = str_node(x, n, "hooks_output")))
		return;
	if (strcmp(c->hooks_output, "quiet") != 0 &&
	    strcmp(c->hooks_output, "verbose") != 0)
		err(x, n, "invalid hooks_output '%s', must be one of: quiet, verbose",
			c->hooks_output);
}

static void
xkr_node(struct ctx *x, const struct kr_yaml_node *n)
{
	static const char *const keys[] = { "known_hosts", "prune", NULL };

	if (n->type != KR_YAML_MAP) {
		type_error(x, n, "x-kreconcile", "a map");
		return;
	}
	check_keys(x, n, "x-kreconcile", "x-kreconcile", keys, false);
	x->c->known_hosts = get_str(x, n, "known_hosts", "x-kreconcile");
	x->c->prune = get_bool(x, n, "prune", "x-kreconcile");
}

static const char *const root_keys[] = { "service", "image", "labels",
	"volumes", "registry", "servers", "env", "asset_path", "hooks_path",
	"hooks_output", "secrets_path", "error_pages_path",
	"require_destination", "primary_role", "allow_empty_roles",
	"retain_containers", "minimum_version", "readiness_delay",
	"deploy_timeout", "drain_timeout", "stop_timeout", "run_directory",
	"ssh", "builder", "accessories", "proxy", "sshkit", "boot", "logging",
	"output", "aliases", NULL };

static void
root_node(struct ctx *x, const struct kr_yaml_node *root)
{
	static const char *const sshkit_keys[] = { "max_concurrent_starts",
		"pool_idle_timeout", "dns_retries", NULL };
	static const char *const boot_keys[] = { "limit", "wait",
		"parallel_roles", NULL };
	static const char *const output_keys[] = { "otel", "file", NULL };
	static const char *const otel_keys[] = { "endpoint", NULL };
	static const char *const file_keys[] = { "path", NULL };
	struct kr_config *c = x->c;
	const struct kr_yaml_node *v;
	size_t i;

	c->retain_containers = c->readiness_delay = -1;
	c->deploy_timeout = c->drain_timeout = c->stop_timeout = -1;
	c->sshkit_max_concurrent_starts = c->sshkit_pool_idle_timeout = -1;
	c->sshkit_dns_retries = c->boot_wait = -1;
	c->require_destination = c->allow_empty_roles = KR_TRI_UNSET;
	c->boot_parallel_roles = c->prune = KR_TRI_UNSET;
	c->ssh.keys_only = c->ssh.forward_agent = KR_TRI_UNSET;
	c->builder.local = KR_TRI_UNSET;

	check_keys(x, root, "", "", root_keys, true);

	c->service = get_str(x, root, "service", "");
	if (!kr_yaml_get(root, "service"))
		err(x, root, "missing required key 'service'");
	else if (c->service && !valid_name(c->service, false))
		err(x, kr_yaml_get(root, "service"), "invalid service name '%s': "
			"use letters, digits, '-' and '_'", c->service);
	c->image = get_str(x, root, "image", "");
	labels_node(x, root, "", &c->labels, false);
	get_str_list(x, root, "volumes", "", &c->volumes);
	if ((v = kr_yaml_get(root, "registry")))
		registry_node(x, v, "registry", &c->registry);
	else
		err(x, root, "missing required key 'registry'");
	if ((!c->image || !*c->image) && kr_yaml_get(root, "image") == NULL) {
		if (local_registry(c->registry.server) && c->service) {
			free(c->image);
			c->image = kr_xstrdup(c->service);
		} else {
			err(x, root, "missing required key 'image'");
		}
	}
	/* servers before accessories: accessories name roles */
	if ((v = kr_yaml_get(root, "servers")))
		servers_node(x, v);
	if ((v = kr_yaml_get(root, "env")))
		env_node(x, v, "env", &c->env, true);
	c->asset_path = get_str(x, root, "asset_path", "");
	c->hooks_path = get_str(x, root, "hooks_path", "");
	if ((v = kr_yaml_get(root, "hooks_output")))
		hooks_output_node(x, v);
	c->secrets_path = get_str(x, root, "secrets_path", "");
	c->error_pages_path = get_str(x, root, "error_pages_path", "");
	c->require_destination = get_bool(x, root, "require_destination", "");
	c->primary_role = get_str(x, root, "primary_role", "");
	c->allow_empty_roles = get_bool(x, root, "allow_empty_roles", "");
	c->retain_containers = get_int(x, root, "retain_containers", "");
	if (c->retain_containers == 0)
		err(x, kr_yaml_get(root, "retain_containers"),
			"'retain_containers' must be at least 1");
	c->minimum_version = get_str(x, root, "minimum_version", "");
	c->readiness_delay = get_int(x, root, "readiness_delay", "");
	c->deploy_timeout = get_int(x, root, "deploy_timeout", "");
	c->drain_timeout = get_int(x, root, "drain_timeout", "");
	c->stop_timeout = get_int(x, root, "stop_timeout", "");
	c->run_directory = get_str(x, root, "run_directory", "");
	if ((v = kr_yaml_get(root, "ssh")))
		ssh_node(x, v);
	if ((v = kr_yaml_get(root, "builder")))
		builder_node(x, v);
	else
		err(x, root, "missing required key 'builder' ('builder/arch' is "
			"required)");
	if ((v = kr_yaml_get(root, "accessories"))) {
		if (v->type != KR_YAML_MAP) {
			type_error(x, v, "accessories", "a map");
		} else {
			c->accessories = kr_xcalloc(v->n ? v->n : 1,
				sizeof(*c->accessories));
			for (i = 0; i < v->n; i++) {
				char *name = kr_yaml_to_string(v->v[2 * i]);

				if (!name) {
					err(x, v->v[2 * i], "accessory names must be strings");
					continue;
				}
				accessory_node(x, name, v->v[2 * i + 1],
					&c->accessories[c->naccessories++]);
				free(name);
			}
		}
	}
	if ((v = kr_yaml_get(root, "proxy"))) {
		c->has_proxy = true;
		proxy_node(x, v, "proxy", &c->proxy);
	} else {
		proxy_node(x, NULL, "proxy", &c->proxy);
	}
	if ((v = get_map(x, root, "sshkit", ""))) {
		check_keys(x, v, "sshkit", "sshkit", sshkit_keys, false);
		c->sshkit_max_concurrent_starts = get_int(x, v,
			"max_concurrent_starts", "sshkit");
		c->sshkit_pool_idle_timeout = get_int(x, v, "pool_idle_timeout",
			"sshkit");
		c->sshkit_dns_retries = get_int(x, v, "dns_retries", "sshkit");
	}
	if ((v = get_map(x, root, "boot", ""))) {
		check_keys(x, v, "boot", "boot", boot_keys, false);
		c->boot_limit = get_str(x, v, "limit", "boot");
		c->boot_wait = get_int(x, v, "wait", "boot");
		c->boot_parallel_roles = get_bool(x, v, "parallel_roles", "boot");
	}
	if ((v = kr_yaml_get(root, "logging")))
		logging_node(x, v, "logging", &c->logging);
	if ((v = get_map(x, root, "output", ""))) {
		const struct kr_yaml_node *o;

		check_keys(x, v, "output", "output", output_keys, false);
		if ((o = get_map(x, v, "otel", "output"))) {
			check_keys(x, o, "output/otel", "otel", otel_keys, false);
			c->output_otel_endpoint = get_str(x, o, "endpoint",
				"output/otel");
		}
		if ((o = get_map(x, v, "file", "output"))) {
			check_keys(x, o, "output/file", "file", file_keys, false);
			c->output_file_path = get_str(x, o, "path", "output/file");
		}
	}
	if ((v = kr_yaml_get(root, "aliases")))
		aliases_node(x, v);
	if ((v = kr_yaml_get(root, "x-kreconcile")))
		xkr_node(x, v);
}

/*
 * Kamal's ensure_one_host_for_ssl and ensure_unique_hosts_for_ssl_roles, on
 * each proxied role's proxy (its own map merged over the root one).
 */
static void
check_ssl_roles(struct ctx *x, const struct kr_yaml_node *servers)
{
	struct kr_config *c = x->c;
	struct kr_strvec seen = { 0 }, owner = { 0 };
	size_t i, j;

	for (i = 0; i < c->nroles; i++) {
		const struct kr_config_role *r = &c->roles[i];
		const struct kr_config_proxy *rp = r->proxy_mode == KR_ROLE_PROXY_MAP ?
			&r->proxy : NULL;
		const struct kr_yaml_node *at = c->servers_is_list ? servers :
			kr_yaml_get_key(servers, r->name);
		const struct kr_strvec *hosts;
		enum kr_tri ssl;
		bool custom;

		if (!kr_config_role_proxied(c, r))
			continue;
		ssl = rp && rp->ssl != KR_TRI_UNSET ? rp->ssl : c->proxy.ssl;
		if (ssl != KR_TRI_TRUE)
			continue;
		custom = (rp && rp->ssl_certificate_pem && rp->ssl_private_key_pem) ||
			(!(rp && rp->ssl != KR_TRI_UNSET) &&
			 c->proxy.ssl_certificate_pem && c->proxy.ssl_private_key_pem);
		if (r->nhosts > 1 && !custom)
			err(x, at, "ssl is only supported on a single server unless you "
				"provide custom certificates, found %zu servers for role '%s'",
				r->nhosts, r->name);
		hosts = rp && rp->hosts.n ? &rp->hosts : &c->proxy.hosts;
		for (j = 0; j < hosts->n; j++) {
			size_t k;

			for (k = 0; k < seen.n; k++)
				if (strcmp(seen.v[k], hosts->v[j]) == 0 &&
				    strcmp(owner.v[k], r->name) != 0)
					break;
			if (k < seen.n) {
				err(x, at, "different roles cannot share the same host for "
					"ssl: '%s' (roles '%s' and '%s')", hosts->v[j],
					owner.v[k], r->name);
				continue;
			}
			kr_strvec_push(&seen, hosts->v[j]);
			kr_strvec_push(&owner, r->name);
		}
	}
	kr_strvec_release(&seen);
	kr_strvec_release(&owner);
}

/* Kamal's ensure_required_keys_present and friends, after the walk. */
static void
check_roles(struct ctx *x, const struct kr_yaml_node *root)
{
	struct kr_config *c = x->c;
	const struct kr_yaml_node *servers = kr_yaml_get(root, "servers");
	const struct kr_config_role *primary;
	const char *pname = kr_config_primary_role(c);
	size_t i;

	if (c->require_destination == KR_TRI_TRUE && !c->destination)
		err(x, kr_yaml_get(root, "require_destination"),
			"a destination is required (require_destination: true); use -d");
	if (!servers) {
		if (!c->naccessories)
			err(x, root, "no servers or accessories specified");
		return;
	}
	if (servers->type != KR_YAML_SEQ && servers->type != KR_YAML_MAP)
		return;
	if (!(primary = kr_config_role(c, pname))) {
		const struct kr_yaml_node *at = kr_yaml_get(root, "primary_role");

		err(x, at ? at : servers, "the primary role '%s' is not defined in "
			"'servers'", pname);
		return;
	}
	if (!primary->nhosts)
		err(x, servers, "no servers specified for the primary role '%s'",
			pname);
	check_ssl_roles(x, servers);
	if (c->allow_empty_roles == KR_TRI_TRUE)
		return;
	for (i = 0; i < c->nroles; i++)
		if (c->roles[i].nhosts == 0 && &c->roles[i] != primary)
			err(x, kr_yaml_get_key(servers, c->roles[i].name),
				"no servers specified for the role '%s' (allow with "
				"allow_empty_roles: true)", c->roles[i].name);
}

/* ---- loading -------------------------------------------------------------- */

static int
read_file(char **out, size_t *len, const char *path)
{
	FILE *f = fopen(path, "rb");
	struct kr_buf b = KR_BUF_INIT;
	char chunk[8192];
	size_t n;

	if (!f)
		return errno == ENOENT ? KR_ENOTFOUND : KR_EIO;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		kr_buf_put(&b, chunk, n);
	if (ferror(f)) {
		fclose(f);
		kr_buf_release(&b);
		return KR_EIO;
	}
	fclose(f);
	*out = kr_buf_detach(&b, len);
	return 0;
}

/* Render and parse one file; NULL on errors (in diags). */
static struct kr_yaml_node *
load_one(struct kr_diags *d, const char *file, const char *text, size_t len,
	const struct kr_config_load_opts *opts, struct kr_sha256 *h)
{
	struct kr_buf out = KR_BUF_INIT;
	struct kr_erb_map map = { 0 };
	struct kr_yaml_node *root = NULL;
	int rc;

	rc = kr_erb_render(&out, &map, d, file, text, len,
		opts ? opts->getenv_fn : NULL, opts ? opts->getenv_ctx : NULL);
	kr_sha256_field(h, file);
	kr_sha256_update(h, out.ptr, out.len);
	if (rc == 0 && memchr(out.ptr, '\0', out.len)) {
		kr_diags_add(d, file, 0, 0, "file contains a NUL byte");
		rc = KR_ECONFIG;
	}
	if (rc == 0)
		kr_yaml_parse(&root, d, file, out.ptr, out.len,
			kr_erb_map_position, &map);
	kr_erb_map_release(&map);
	kr_buf_release(&out);
	return root;
}

int
kr_config_load_text(struct kr_config **out, struct kr_diags *diags,
	const char *file, const char *text, size_t len,
	const char *dest_file, const char *dest_text, size_t dest_len,
	const struct kr_config_load_opts *opts)
{
	struct kr_config *c = kr_xcalloc(1, sizeof(*c));
	struct kr_yaml_node *root = NULL, *dest = NULL;
	struct kr_sha256 h;
	struct ctx x = { diags, c };
	size_t before = diags->n;
	int rc = KR_ECONFIG;

	c->file = kr_xstrdup(file);
	if (opts && opts->destination)
		c->destination = kr_xstrdup(opts->destination);
	if (dest_file)
		c->dest_file = kr_xstrdup(dest_file);
	kr_sha256_init(&h);
	root = load_one(diags, file, text, len, opts, &h);
	if (dest_text)
		dest = load_one(diags, dest_file, dest_text, dest_len, opts, &h);
	kr_sha256_final(&h, c->sha256);
	if (!root || (dest_text && !dest))
		goto out;
	if (root->type != KR_YAML_MAP) {
		err(&x, root, "the configuration should be a map of keys, not %s",
			kr_yaml_kind_name(kr_yaml_kind(root)));
		goto out;
	}
	if (dest) {
		if (dest->type != KR_YAML_MAP &&
		    !(dest->type == KR_YAML_NULL)) {
			err(&x, dest, "the destination configuration should be a map "
				"of keys, not %s", kr_yaml_kind_name(kr_yaml_kind(dest)));
			goto out;
		}
		if (dest->type == KR_YAML_MAP) {
			kr_yaml_deep_merge(&root, dest);
			dest = NULL;
		}
	}
	c->root = root;
	root = NULL;
	root_node(&x, c->root);
	check_roles(&x, c->root);
	if (diags->n == before || (opts && opts->partial)) {
		rc = diags->n == before ? 0 : KR_ECONFIG;
		*out = c;
		c = NULL;
	}
out:
	kr_yaml_free(root);
	kr_yaml_free(dest);
	kr_config_free(c);
	if (rc)
		kr_error_set(rc, "'%s' is not a valid configuration", file);
	return rc;
}

/* config/deploy.yml → config/deploy.staging.yml (Ruby's sub_ext). */
static char *
dest_path(const char *file, const char *dest)
{
	const char *slash = strrchr(file, '/');
	const char *dot = strrchr(slash ? slash + 1 : file, '.');

	if (!dot || dot == (slash ? slash + 1 : file))
		return kr_xasprintf("%s.%s.yml", file, dest);
	return kr_xasprintf("%.*s.%s.yml", (int)(dot - file), file, dest);
}

int
kr_config_load(struct kr_config **out, struct kr_diags *diags,
	const char *file, const struct kr_config_load_opts *opts)
{
	char *text = NULL, *dtext = NULL, *dfile = NULL;
	size_t len = 0, dlen = 0;
	int rc;

	if ((rc = read_file(&text, &len, file)) != 0) {
		kr_diags_add(diags, file, 0, 0, "%s", rc == KR_ENOTFOUND ?
			"configuration file not found" : strerror(errno));
		kr_error_set(rc, "cannot read '%s'", file);
		return rc;
	}
	if (opts && opts->destination) {
		dfile = dest_path(file, opts->destination);
		if ((rc = read_file(&dtext, &dlen, dfile)) != 0) {
			kr_diags_add(diags, dfile, 0, 0, "%s", rc == KR_ENOTFOUND ?
				"destination configuration file not found" :
				strerror(errno));
			kr_error_set(rc, "cannot read '%s'", dfile);
			goto out;
		}
	}
	rc = kr_config_load_text(out, diags, file, text, len, dfile, dtext, dlen,
		opts);
out:
	free(text);
	free(dtext);
	free(dfile);
	return rc;
}

size_t
kr_config_check_secrets(const struct kr_config *c,
	const struct kr_kvlist *secrets, const char *where,
	struct kr_diags *diags)
{
	size_t i, missing = 0;

	for (i = 0; i < c->nsecret_refs; i++) {
		const struct kr_config_secret_ref *r = &c->secret_refs[i];

		if (secrets && kr_kvlist_get(secrets, r->name))
			continue;
		kr_diags_add(diags, r->pos.file, r->pos.line, r->pos.col,
			"secret '%s' (%s) is not defined in %s", r->name, r->context,
			where);
		missing++;
	}
	return missing;
}

/* ---- accessors -------------------------------------------------------------- */

const char *
kr_config_primary_role(const struct kr_config *c)
{
	return c->primary_role ? c->primary_role : "web";
}

int
kr_config_retain_containers(const struct kr_config *c)
{
	return c->retain_containers > 0 ? (int)c->retain_containers : 5;
}

static int
clamp(long long v, int def)
{
	if (v < 0)
		return def;
	return v > 86400 * 365 ? 86400 * 365 : (int)v;
}

int
kr_config_readiness_delay(const struct kr_config *c)
{
	return clamp(c->readiness_delay, 7);
}

int
kr_config_deploy_timeout(const struct kr_config *c)
{
	return clamp(c->deploy_timeout, 30);
}

int
kr_config_drain_timeout(const struct kr_config *c)
{
	return clamp(c->drain_timeout, 30);
}

const char *
kr_config_ssh_user(const struct kr_config *c)
{
	return c->ssh.user ? c->ssh.user : "root";
}

int
kr_config_ssh_port(const struct kr_config *c)
{
	int port;

	if (c->ssh.port && parse_port(c->ssh.port, &port))
		return port;
	return 22;
}

const char *
kr_config_secrets_path(const struct kr_config *c)
{
	return c->secrets_path ? c->secrets_path : ".kamal/secrets";
}

int
kr_config_app_port(const struct kr_config_proxy *p)
{
	return p->app_port > 0 && p->app_port <= 65535 ? (int)p->app_port : 80;
}

const struct kr_config_role *
kr_config_role(const struct kr_config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nroles; i++)
		if (strcmp(c->roles[i].name, name) == 0)
			return &c->roles[i];
	return NULL;
}

bool
kr_config_role_proxied(const struct kr_config *c,
	const struct kr_config_role *r)
{
	if (strcmp(r->name, kr_config_primary_role(c)) == 0)
		return r->proxy_mode != KR_ROLE_PROXY_FALSE;
	return r->proxy_mode == KR_ROLE_PROXY_TRUE ||
		r->proxy_mode == KR_ROLE_PROXY_MAP;
}

void
kr_config_free(struct kr_config *c)
{
	size_t i;

	if (!c)
		return;
	free(c->file);
	free(c->destination);
	free(c->dest_file);
	kr_yaml_free(c->root);
	free(c->service);
	free(c->image);
	kr_kvlist_release(&c->labels);
	kr_strvec_release(&c->volumes);
	registry_release(&c->registry);
	for (i = 0; i < c->nroles; i++)
		role_release(&c->roles[i]);
	free(c->roles);
	env_release(&c->env);
	free(c->asset_path);
	free(c->hooks_path);
	free(c->hooks_output);
	kr_kvlist_release(&c->hooks_output_map);
	free(c->secrets_path);
	free(c->error_pages_path);
	free(c->primary_role);
	free(c->minimum_version);
	free(c->run_directory);
	ssh_release(&c->ssh);
	builder_release(&c->builder);
	for (i = 0; i < c->naccessories; i++)
		accessory_release(&c->accessories[i]);
	free(c->accessories);
	proxy_release(&c->proxy);
	free(c->boot_limit);
	logging_release(&c->logging);
	free(c->output_otel_endpoint);
	free(c->output_file_path);
	for (i = 0; i < c->naliases; i++) {
		free(c->aliases[i].name);
		free(c->aliases[i].command);
	}
	free(c->aliases);
	free(c->known_hosts);
	for (i = 0; i < c->nsecret_refs; i++) {
		free(c->secret_refs[i].name);
		free(c->secret_refs[i].context);
		free(c->secret_refs[i].pos.file);
	}
	free(c->secret_refs);
	free(c);
}
