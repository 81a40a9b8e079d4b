/*
 * The observed model as JSON (format_version 1), both ways, for the store
 * and the golden tests; and the snapshot fingerprint, a sha256 of its
 * canonical form. Values are written as held: env values from env files are
 * already "(sensitive)" (drivers/docker.c masks them at parse time).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/error.h"
#include "common/hash.h"
#include "state/observed.h"

int
kr_obs_time_parse(time_t *out, const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0, off = 0;
	const char *p;
	time_t t;

	if (!s || !*s) {
		*out = 0;
		return 0;
	}
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
		    &n) != 6 ||
		n != 19)
		goto bad;
	p = s + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == 'Z' && p[1] == '\0') {
		off = 0;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		int oh, om;

		if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
			goto bad;
		off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
	} else {
		goto bad;
	}
	if (y <= 1) { /* Go's zero time: never happened */
		*out = 0;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	*out = t - off;
	return 0;
bad:
	kr_error_set(KR_EPARSE, "bad time '%s'", s);
	return KR_EPARSE;
}

void
kr_obs_time_format(char out[32], time_t t)
{
	struct tm tm;

	if (t == 0 || !gmtime_r(&t, &tm)) {
		out[0] = '\0';
		return;
	}
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Helpers that build: each returns a new reference. */
static json_t *
str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *
time_or_null(time_t t)
{
	char buf[32];

	if (!t)
		return json_null();
	kr_obs_time_format(buf, t);
	return json_string(buf);
}

static json_t *
strvec_json(const struct kr_strvec *sv)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < sv->n; i++)
		json_array_append_new(a, json_string(sv->v[i]));
	return a;
}

static json_t *
kvlist_json(const struct kr_kvlist *kv)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < kv->n; i++)
		json_object_set_new(
			o, kv->v[i].key, json_string(kv->v[i].value));
	return o;
}

static json_t *
container_json(const struct kr_obs_container *c)
{
	json_t *o = json_object(), *mounts = json_array();
	size_t i;

	for (i = 0; i < c->nmounts; i++) {
		const struct kr_obs_mount *m = &c->mounts[i];

		json_array_append_new(
			mounts, json_pack("{s:o,s:o,s:o,s:o,s:b}", "type",
					str_or_null(m->type), "source",
					str_or_null(m->source), "destination",
					str_or_null(m->destination), "mode",
					str_or_null(m->mode), "rw", m->rw));
	}
	json_object_set_new(o, "id", str_or_null(c->id));
	json_object_set_new(o, "name", str_or_null(c->name));
	json_object_set_new(o, "image", str_or_null(c->image));
	json_object_set_new(o, "image_id", str_or_null(c->image_id));
	json_object_set_new(o, "repo_digests", strvec_json(&c->repo_digests));
	json_object_set_new(o, "labels", kvlist_json(&c->labels));
	json_object_set_new(o, "env", kvlist_json(&c->env));
	json_object_set_new(o, "cmd", str_or_null(c->cmd));
	json_object_set_new(o, "mounts", mounts);
	json_object_set_new(o, "ports", strvec_json(&c->ports));
	json_object_set_new(o, "networks", strvec_json(&c->networks));
	json_object_set_new(o, "restart", str_or_null(c->restart));
	json_object_set_new(o, "log_driver", str_or_null(c->log_driver));
	json_object_set_new(o, "log_opts", kvlist_json(&c->log_opts));
	json_object_set_new(o, "state", str_or_null(c->state));
	json_object_set_new(o, "health", str_or_null(c->health));
	json_object_set_new(o, "exit_code", json_integer(c->exit_code));
	json_object_set_new(o, "created", time_or_null(c->created));
	json_object_set_new(o, "started", time_or_null(c->started));
	json_object_set_new(o, "finished", time_or_null(c->finished));
	if (c->run_opts.n)
		json_object_set_new(o, "run_opts", kvlist_json(&c->run_opts));
	return o;
}

static json_t *
file_json(const struct kr_obs_file *f)
{
	json_t *o = json_object();

	json_object_set_new(o, "path", str_or_null(f->path));
	json_object_set_new(o, "kind",
		json_string(f->is_dir ? "dir" :
			    f->is_env ? "env" :
					"file"));
	json_object_set_new(o, "mode", str_or_null(f->mode));
	if (!f->is_dir)
		json_object_set_new(o, "sha256",
			f->sha256[0] ? json_string(f->sha256) : json_null());
	if (f->is_env)
		json_object_set_new(o, "keys", strvec_json(&f->keys));
	if (f->mtime)
		json_object_set_new(o, "mtime", time_or_null(f->mtime));
	return o;
}

static json_t *
host_json(const struct kr_observed_host *h, int with_volatile)
{
	json_t *o = json_object(), *cs = json_array(), *fs = json_array();
	size_t i;

	json_object_set_new(
		o, "format_version", json_integer(KR_OBSERVED_FORMAT_VERSION));
	json_object_set_new(o, "name", str_or_null(h->name));
	json_object_set_new(
		o, "status", json_string(kr_obs_status_name(h->status)));
	json_object_set_new(o, "error", str_or_null(h->error));
	if (with_volatile) {
		json_object_set_new(
			o, "observed_at", time_or_null(h->observed_at));
		json_object_set_new(o, "fingerprint",
			h->fingerprint[0] ? json_string(h->fingerprint) :
					    json_null());
	}
	json_object_set_new(
		o, "docker_version", str_or_null(h->docker_version));
	json_object_set_new(o, "networks", strvec_json(&h->networks));
	for (i = 0; i < h->ncontainers; i++)
		json_array_append_new(cs, container_json(&h->containers[i]));
	json_object_set_new(o, "containers", cs);
	for (i = 0; i < h->nfiles; i++)
		json_array_append_new(fs, file_json(&h->files[i]));
	json_object_set_new(o, "files", fs);
	json_object_set_new(o, "lock",
		json_pack("{s:b,s:o}", "held", h->lock.held, "details",
			str_or_null(h->lock.details)));
	if ((fs = kr_obs_proxy_to_json(&h->proxy)))
		json_object_set_new(o, "proxy", fs);
	return o;
}

json_t *
kr_observed_host_to_json(const struct kr_observed_host *h)
{
	return host_json(h, 1);
}

char *
kr_observed_host_dump(const struct kr_observed_host *h)
{
	json_t *j = host_json(h, 1);
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	char *out;

	json_decref(j);
	if (!s)
		return kr_xstrdup("{}");
	out = kr_xasprintf("%s\n", s);
	free(s);
	return out;
}

void
kr_observed_host_fingerprint(
	const struct kr_observed_host *h, char out[KR_SHA256_HEX])
{
	json_t *j = host_json(h, 0);
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);

	kr_sha256_hex(out, s ? s : "", s ? strlen(s) : 0);
	free(s);
	json_decref(j);
}

/* Reading back. Every helper reports what is wrong with which field. */
static int
bad(const char *what)
{
	kr_error_set(KR_EPARSE, "observed state: bad or missing '%s'", what);
	return KR_EPARSE;
}

static int
get_str(char **out, const json_t *o, const char *key, int required)
{
	const json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v)) {
		if (required)
			return bad(key);
		*out = NULL;
		return 0;
	}
	if (!json_is_string(v))
		return bad(key);
	*out = kr_xstrndup(json_string_value(v), json_string_length(v));
	return 0;
}

static int
get_time(time_t *out, const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v)) {
		*out = 0;
		return 0;
	}
	if (!json_is_string(v) ||
		kr_obs_time_parse(out, json_string_value(v)) < 0)
		return bad(key);
	return 0;
}

static int
get_strvec(struct kr_strvec *out, const json_t *o, const char *key)
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

static int
get_kvlist(struct kr_kvlist *out, const json_t *o, const char *key)
{
	const json_t *m = json_object_get(o, key), *v;
	const char *k;

	if (!m || json_is_null(m))
		return 0;
	if (!json_is_object(m))
		return bad(key);
	json_object_foreach((json_t *)m, k, v)
	{
		if (!json_is_string(v))
			return bad(key);
		kr_kvlist_append(out, k, json_string_value(v));
	}
	return 0;
}

static int
container_from_json(struct kr_obs_container *c, const json_t *o)
{
	const json_t *mounts, *m, *v;
	size_t i;
	int err;

	if (!json_is_object(o))
		return bad("containers");
	if ((err = get_str(&c->id, o, "id", 0)) < 0 ||
		(err = get_str(&c->name, o, "name", 1)) < 0 ||
		(err = get_str(&c->image, o, "image", 0)) < 0 ||
		(err = get_str(&c->image_id, o, "image_id", 0)) < 0 ||
		(err = get_strvec(&c->repo_digests, o, "repo_digests")) < 0 ||
		(err = get_kvlist(&c->labels, o, "labels")) < 0 ||
		(err = get_kvlist(&c->env, o, "env")) < 0 ||
		(err = get_str(&c->cmd, o, "cmd", 0)) < 0 ||
		(err = get_strvec(&c->ports, o, "ports")) < 0 ||
		(err = get_strvec(&c->networks, o, "networks")) < 0 ||
		(err = get_str(&c->restart, o, "restart", 0)) < 0 ||
		(err = get_str(&c->log_driver, o, "log_driver", 0)) < 0 ||
		(err = get_kvlist(&c->log_opts, o, "log_opts")) < 0 ||
		(err = get_kvlist(&c->run_opts, o, "run_opts")) < 0 ||
		(err = get_str(&c->state, o, "state", 0)) < 0 ||
		(err = get_str(&c->health, o, "health", 0)) < 0 ||
		(err = get_time(&c->created, o, "created")) < 0 ||
		(err = get_time(&c->started, o, "started")) < 0 ||
		(err = get_time(&c->finished, o, "finished")) < 0)
		return err;
	v = json_object_get(o, "exit_code");
	c->exit_code = json_is_integer(v) ? (int)json_integer_value(v) : 0;
	mounts = json_object_get(o, "mounts");
	if (mounts && !json_is_array(mounts))
		return bad("mounts");
	if (mounts && json_array_size(mounts)) {
		c->mounts =
			kr_xcalloc(json_array_size(mounts), sizeof(*c->mounts));
		json_array_foreach(mounts, i, m)
		{
			struct kr_obs_mount *mt = &c->mounts[c->nmounts++];

			if (!json_is_object(m))
				return bad("mounts");
			if ((err = get_str(&mt->type, m, "type", 0)) < 0 ||
				(err = get_str(&mt->source, m, "source", 0)) <
					0 ||
				(err = get_str(&mt->destination, m,
					 "destination", 0)) < 0 ||
				(err = get_str(&mt->mode, m, "mode", 0)) < 0)
				return err;
			mt->rw = json_is_true(json_object_get(m, "rw"));
		}
	}
	return 0;
}

static int
file_from_json(struct kr_obs_file *f, const json_t *o)
{
	const json_t *sha;
	const char *kind;
	int err;

	if (!json_is_object(o))
		return bad("files");
	if ((err = get_str(&f->path, o, "path", 1)) < 0 ||
		(err = get_str(&f->mode, o, "mode", 0)) < 0 ||
		(err = get_strvec(&f->keys, o, "keys")) < 0 ||
		(err = get_time(&f->mtime, o, "mtime")) < 0)
		return err;
	kind = json_string_value(json_object_get(o, "kind"));
	if (!kind)
		return bad("kind");
	f->is_dir = strcmp(kind, "dir") == 0;
	f->is_env = strcmp(kind, "env") == 0;
	sha = json_object_get(o, "sha256");
	if (json_is_string(sha)) {
		if (json_string_length(sha) != KR_SHA256_HEX - 1)
			return bad("sha256");
		memcpy(f->sha256, json_string_value(sha), KR_SHA256_HEX);
	}
	return 0;
}

static int
status_from_name(enum kr_obs_status *out, const char *s)
{
	static const enum kr_obs_status all[] = {
		KR_OBS_OK,
		KR_OBS_UNREACHABLE,
		KR_OBS_NO_DOCKER,
		KR_OBS_FAILED,
	};
	size_t i;

	for (i = 0; s && i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, kr_obs_status_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	return bad("status");
}

int
kr_observed_host_from_json(struct kr_observed_host *out, const json_t *j)
{
	struct kr_observed_host h;
	const json_t *a, *v, *lock, *fv;
	size_t i;
	int err;

	memset(&h, 0, sizeof(h));
	if (!json_is_object(j)) {
		err = bad("observed host");
		goto out;
	}
	fv = json_object_get(j, "format_version");
	if (!json_is_integer(fv) ||
		json_integer_value(fv) != KR_OBSERVED_FORMAT_VERSION) {
		kr_error_set(KR_EPARSE,
			"observed state: format_version %lld is not %d "
			"(written by another version of kreconcile?)",
			json_is_integer(fv) ?
				(long long)json_integer_value(fv) :
				-1LL,
			KR_OBSERVED_FORMAT_VERSION);
		err = KR_EPARSE;
		goto out;
	}
	if ((err = get_str(&h.name, j, "name", 1)) < 0 ||
		(err = status_from_name(&h.status,
			 json_string_value(json_object_get(j, "status")))) <
			0 ||
		(err = get_str(&h.error, j, "error", 0)) < 0 ||
		(err = get_time(&h.observed_at, j, "observed_at")) < 0 ||
		(err = get_str(&h.docker_version, j, "docker_version", 0)) <
			0 ||
		(err = get_strvec(&h.networks, j, "networks")) < 0)
		goto out;
	v = json_object_get(j, "fingerprint");
	if (json_is_string(v) && json_string_length(v) == KR_SHA256_HEX - 1)
		memcpy(h.fingerprint, json_string_value(v), KR_SHA256_HEX);
	a = json_object_get(j, "containers");
	if (a && !json_is_array(a)) {
		err = bad("containers");
		goto out;
	}
	if (a && json_array_size(a)) {
		h.containers =
			kr_xcalloc(json_array_size(a), sizeof(*h.containers));
		json_array_foreach(a, i, v)
		{
			h.ncontainers++;
			if ((err = container_from_json(&h.containers[i], v)) <
				0)
				goto out;
		}
	}
	a = json_object_get(j, "files");
	if (a && !json_is_array(a)) {
		err = bad("files");
		goto out;
	}
	if (a && json_array_size(a)) {
		h.files = kr_xcalloc(json_array_size(a), sizeof(*h.files));
		json_array_foreach(a, i, v)
		{
			h.nfiles++;
			if ((err = file_from_json(&h.files[i], v)) < 0)
				goto out;
		}
	}
	lock = json_object_get(j, "lock");
	if (lock && json_is_object(lock)) {
		h.lock.held = json_is_true(json_object_get(lock, "held"));
		if ((err = get_str(&h.lock.details, lock, "details", 0)) < 0)
			goto out;
	}
	if ((err = kr_obs_proxy_from_json(
		     &h.proxy, json_object_get(j, "proxy"))) < 0)
		goto out;
	*out = h;
	return 0;
out:
	kr_observed_host_release(&h);
	return err;
}

int
kr_observed_host_load(
	struct kr_observed_host *out, const char *text, size_t len)
{
	json_error_t e;
	json_t *j = json_loadb(text, len, 0, &e);
	int err;

	if (!j) {
		kr_error_set(KR_EPARSE, "observed state: %d:%d: %s", e.line,
			e.column, e.text);
		return KR_EPARSE;
	}
	err = kr_observed_host_from_json(out, j);
	json_decref(j);
	return err;
}
