/*
 * `docker inspect` output into observed containers (see docker.h): names,
 * image, labels, env, cmd, mounts, ports, networks, restart policy,
 * logging, state and times, then each image's repo digests. Secret values
 * are masked here, as soon as they are parsed. jansson's errors about host
 * output are translated in parse_inspect() only.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/error.h"
#include "drivers/docker.h"
#include "drivers/docker_int.h"
#include "state/desired.h"

/* Plain accessors over docker inspect's JSON; NULL when absent. */
static const char *
jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static char *
jdup(const json_t *o, const char *key)
{
	const char *s = jstr(o, key);

	return s ? kr_xstrdup(s) : NULL;
}

static void
jtime(time_t *out, const json_t *o, const char *key)
{
	if (kr_obs_time_parse(out, jstr(o, key)) < 0)
		*out = 0;
}

static void
parse_ports(struct kr_strvec *ports, const json_t *bindings)
{
	const char *cport;
	json_t *list, *b;
	size_t i;

	json_object_foreach((json_t *)bindings, cport, list)
	{
		json_array_foreach(list, i, b)
		{
			const char *ip = jstr(b, "HostIp"),
				   *hp = jstr(b, "HostPort");

			if (ip && *ip)
				kr_strvec_push_owned(
					ports, kr_xasprintf("%s:%s:%s", ip,
						       hp ? hp : "", cport));
			else
				kr_strvec_push_owned(
					ports, kr_xasprintf("%s:%s",
						       hp ? hp : "", cport));
		}
	}
}

/* Keys masked in one container's env (see docker.h). */
static void
masked_keys(struct kr_strvec *out, const struct kr_observed_host *h,
	const struct kr_obs_container *c, const struct kr_docker_scope *scope)
{
	const char *svc = kr_kvlist_get(&c->labels, "service");
	const char *role = kr_kvlist_get(&c->labels, "role");
	const char *dest = kr_kvlist_get(&c->labels, "destination");
	char *dir = NULL, *path = NULL;
	const struct kr_obs_file *f = NULL;
	size_t i, j;

	if (svc && role && strcmp(svc, scope->service) == 0) {
		dir = kr_docker_env_dir(scope->service, dest);
		path = kr_xasprintf("%s/roles/%s.env", dir, role);
	} else {
		for (i = 0; i < scope->naccessories; i++) {
			const struct kr_docker_accessory *a =
				&scope->accessories[i];

			if ((c->name && strcmp(c->name, a->container) == 0) ||
				(svc && strcmp(svc, a->container) == 0)) {
				dir = kr_docker_env_dir(
					scope->service, scope->destination);
				path = kr_xasprintf(
					"%s/accessories/%s.env", dir, a->name);
				break;
			}
		}
	}
	if (path && (f = kr_observed_file(h, path)) && f->is_env) {
		for (j = 0; j < f->keys.n; j++)
			kr_strvec_push(out, f->keys.v[j]);
	} else if (path) {
		/* Its env file is not on the host: mask what any env file
		 * holds. */
		for (i = 0; i < h->nfiles; i++)
			for (j = 0;
				h->files[i].is_env && j < h->files[i].keys.n;
				j++)
				if (!kr_strvec_contains(
					    out, h->files[i].keys.v[j]))
					kr_strvec_push(
						out, h->files[i].keys.v[j]);
	}
	for (j = 0; scope->sensitive_keys && j < scope->sensitive_keys->n; j++)
		if (!kr_strvec_contains(out, scope->sensitive_keys->v[j]))
			kr_strvec_push(out, scope->sensitive_keys->v[j]);
	free(dir);
	free(path);
}

/*
 * The inspect fields `docker run` options set, kept as compact JSON for the
 * option comparison (reconciler/diff_options.c names the same paths).
 */
static const char *const run_fields[] = {
	"HostConfig.NanoCpus",
	"HostConfig.CpuShares",
	"HostConfig.CpuPeriod",
	"HostConfig.CpuQuota",
	"HostConfig.CpusetCpus",
	"HostConfig.CpusetMems",
	"HostConfig.Memory",
	"HostConfig.MemorySwap",
	"HostConfig.MemoryReservation",
	"HostConfig.ShmSize",
	"HostConfig.ExtraHosts",
	"HostConfig.CapAdd",
	"HostConfig.CapDrop",
	"HostConfig.Devices",
	"HostConfig.Ulimits",
	"HostConfig.Init",
	"HostConfig.Privileged",
	"HostConfig.ReadonlyRootfs",
	"HostConfig.SecurityOpt",
	"HostConfig.Tmpfs",
	"HostConfig.Sysctls",
	"HostConfig.Dns",
	"HostConfig.DnsSearch",
	"HostConfig.DnsOptions",
	"HostConfig.GroupAdd",
	"HostConfig.PidMode",
	"HostConfig.IpcMode",
	"HostConfig.UTSMode",
	"HostConfig.UsernsMode",
	"HostConfig.PidsLimit",
	"HostConfig.OomKillDisable",
	"HostConfig.OomScoreAdj",
	"HostConfig.BlkioWeight",
	"HostConfig.Runtime",
	"HostConfig.DeviceCgroupRules",
	"Config.User",
	"Config.WorkingDir",
	"Config.Entrypoint",
	"Config.StopSignal",
	"Config.StopTimeout",
	"Config.Healthcheck",
	"Config.Tty",
	"Config.OpenStdin",
	"Config.Domainname",
};

static void
parse_run_fields(struct kr_kvlist *out, const json_t *o)
{
	size_t i;

	for (i = 0; i < sizeof(run_fields) / sizeof(run_fields[0]); i++) {
		const char *dot = strchr(run_fields[i], '.');
		char *sect = kr_xstrndup(
			run_fields[i], (size_t)(dot - run_fields[i]));
		const json_t *v =
			json_object_get(json_object_get(o, sect), dot + 1);
		char *js;

		free(sect);
		if (!v || json_is_null(v))
			continue;
		js = json_dumps(
			v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
		if (js)
			kr_kvlist_append(out, run_fields[i], js);
		free(js);
	}
}

/*
 * Is key clear env of c's own role or accessory in scope->clear? Only
 * those values are kept (see docker.h); any other config's clear keys do
 * not count, nor does a role of another service or destination.
 */
static bool
clear_key(const struct kr_obs_container *c, const struct kr_docker_scope *scope,
	const char *key)
{
	const char *svc = kr_kvlist_get(&c->labels, "service");
	const char *role = kr_kvlist_get(&c->labels, "role");
	const char *dest = kr_kvlist_get(&c->labels, "destination");
	const char *want = scope->destination ? scope->destination : "";
	size_t i;

	for (i = 0; i < scope->nclear; i++) {
		const struct kr_docker_clear *cl = &scope->clear[i];

		if (cl->role) {
			if (!svc || !role || strcmp(svc, scope->service) != 0 ||
				strcmp(role, cl->role) != 0 ||
				strcmp(dest ? dest : "", want) != 0)
				continue;
		} else if (!cl->container || !c->name ||
			   strcmp(c->name, cl->container) != 0) {
			continue;
		}
		for (size_t j = 0; j < cl->env->n; j++)
			if (strcmp(cl->env->v[j].key, key) == 0)
				return true;
	}
	return false;
}

static void
parse_container(struct kr_obs_container *c, const json_t *o)
{
	const json_t *cfg = json_object_get(o, "Config");
	const json_t *hc = json_object_get(o, "HostConfig");
	const json_t *st = json_object_get(o, "State");
	const json_t *nets = json_object_get(
		json_object_get(o, "NetworkSettings"), "Networks");
	const json_t *v, *lc;
	const char *k, *name;
	size_t i;

	c->id = jdup(o, "Id");
	name = jstr(o, "Name");
	c->name = name ? kr_xstrdup(name[0] == '/' ? name + 1 : name) : NULL;
	c->image = jdup(cfg, "Image");
	c->image_id = jdup(o, "Image");
	json_object_foreach((json_t *)json_object_get(cfg, "Labels"), k,
		v) if (json_is_string(v))
		kr_kvlist_append(&c->labels, k, json_string_value(v));
	json_array_foreach(json_object_get(cfg, "Env"), i, v)
	{
		const char *kv = json_string_value(v), *eq;

		if (!kv)
			continue;
		eq = strchr(kv, '=');
		if (eq) {
			char *key = kr_xstrndup(kv, (size_t)(eq - kv));

			kr_kvlist_append(&c->env, key, eq + 1);
			free(key);
		} else {
			kr_kvlist_append(&c->env, kv, "");
		}
	}
	if (json_array_size(json_object_get(cfg, "Cmd"))) {
		struct kr_buf b = KR_BUF_INIT;

		json_array_foreach(json_object_get(cfg, "Cmd"), i,
			v) if (json_is_string(v)) kr_buf_printf(&b, "%s%s",
			i ? " " : "", json_string_value(v));
		c->cmd = kr_buf_detach(&b, NULL);
	}
	if (json_array_size(json_object_get(o, "Mounts"))) {
		const json_t *mounts = json_object_get(o, "Mounts");

		c->mounts =
			kr_xcalloc(json_array_size(mounts), sizeof(*c->mounts));
		json_array_foreach(mounts, i, v)
		{
			struct kr_obs_mount *m = &c->mounts[c->nmounts++];

			m->type = jdup(v, "Type");
			m->source = jdup(v, "Source");
			m->destination = jdup(v, "Destination");
			m->mode = jdup(v, "Mode");
			m->rw = json_is_true(json_object_get(v, "RW"));
		}
	}
	if (json_is_object(json_object_get(hc, "PortBindings")))
		parse_ports(&c->ports, json_object_get(hc, "PortBindings"));
	json_object_foreach((json_t *)nets, k, v)
		kr_strvec_push(&c->networks, k);
	c->restart = jdup(json_object_get(hc, "RestartPolicy"), "Name");
	lc = json_object_get(hc, "LogConfig");
	c->log_driver = jdup(lc, "Type");
	json_object_foreach((json_t *)json_object_get(lc, "Config"), k,
		v) if (json_is_string(v))
		kr_kvlist_append(&c->log_opts, k, json_string_value(v));
	c->state = jdup(st, "Status");
	c->health = jdup(json_object_get(st, "Health"), "Status");
	v = json_object_get(st, "ExitCode");
	c->exit_code = json_is_integer(v) ? (int)json_integer_value(v) : 0;
	jtime(&c->created, o, "Created");
	jtime(&c->started, st, "StartedAt");
	jtime(&c->finished, st, "FinishedAt");
	parse_run_fields(&c->run_opts, o);
}

/* The one place jansson's errors about host output are translated. */
static int
parse_inspect(json_t **out, const char *host, const char *what, const char *s,
	size_t len)
{
	json_error_t e;
	json_t *j = json_loadb(s, len, 0, &e);

	if (!j) {
		kr_error_set(KR_EPARSE, "cannot parse %s from '%s': %d:%d: %s",
			what, host, e.line, e.column, e.text);
		return KR_EPARSE;
	}
	*out = j;
	return 0;
}

int
kr_docker_parse_containers(struct kr_observed_host *h, const char *host,
	const struct kr_docker_scope *scope, const struct frame *cf,
	const struct frame *imf)
{
	json_t *arr = NULL, *v;
	size_t i, j;
	int err;

	if (!cf || cf->body_len == 0)
		return 0;
	if ((err = parse_inspect(&arr, host, "docker inspect output", cf->body,
		     cf->body_len)) < 0)
		return err;
	if (!json_is_array(arr)) {
		json_decref(arr);
		kr_error_set(KR_EPARSE,
			"docker inspect output from '%s' is not a list", host);
		return KR_EPARSE;
	}
	h->containers =
		kr_xcalloc(json_array_size(arr) + 1, sizeof(*h->containers));
	json_array_foreach(arr, i, v)
	{
		struct kr_obs_container *c = &h->containers[h->ncontainers];
		struct kr_strvec mask = { 0 };

		if (!json_is_object(v))
			continue;
		h->ncontainers++;
		parse_container(c, v);
		masked_keys(&mask, h, c, scope);
		for (j = 0; j < c->env.n; j++)
			if (scope->clear ?
					!clear_key(c, scope, c->env.v[j].key) :
					kr_strvec_contains(
						&mask, c->env.v[j].key)) {
				kr_free_secret(c->env.v[j].value);
				c->env.v[j].value = kr_xstrdup(KR_SENSITIVE);
			}
		kr_strvec_release(&mask);
	}
	json_decref(arr);

	/* Repo digests: lines "<image id> <json list>". */
	if (imf) {
		const char *p = imf->body, *end = imf->body + imf->body_len;

		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
			const char *sp = memchr(p, ' ', l);
			json_t *list = NULL;

			if (sp && parse_inspect(&list, host, "image digests",
					  sp + 1,
					  (size_t)(p + l - sp - 1)) == 0) {
				char *id = kr_xstrndup(p, (size_t)(sp - p));
				json_t *d;
				size_t k;

				for (i = 0; i < h->ncontainers; i++) {
					struct kr_obs_container *c =
						&h->containers[i];

					if (!c->image_id ||
						strcmp(c->image_id, id))
						continue;
					json_array_foreach(list, k,
						d) if (json_is_string(d))
						kr_strvec_push(&c->repo_digests,
							json_string_value(d));
				}
				free(id);
				json_decref(list);
			}
			p += l + 1;
		}
	}
	return 0;
}
