/*
 * The diff engine (see diff.h, docs/diff.md): for each host, compare the
 * desired model with the observed snapshot and append changes to a plan in
 * dependency order. Pure: the only inputs are the arguments.
 *
 * Each host is worked out in three scratch plans (env files, accessories,
 * apps), because what is planned for the apps decides the registry login
 * and whether an env file change must wait for an image; then network,
 * login, env, accessory and app changes are moved into the plan in order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "reconciler/defhash.h"
#include "reconciler/diff.h"

struct dctx {
	const struct kr_desired *d;
	const struct kr_diff_opts *opts;
	bool prune;
	const char *dest;		/* "" when none */
	char *env_dir;			/* ".kamal/apps/<svc>[-<dest>]/env/" */
};

struct hctx {
	const struct dctx *dc;
	const char *name;
	const struct kr_host *h;		/* NULL: host not in the config */
	const struct kr_observed_host *oh;
	struct kr_plan *env;			/* scratch plans, one per stage */
	struct kr_plan *acc;
	struct kr_plan *app;
	struct kr_strvec pulls;			/* images planned changes pull */
};

/* ---------------------------------------------------------------- words */

void
kr_diff_short_version(char *out, size_t outlen, const char *version)
{
	size_t n, i;
	bool hex = true;

	if (!outlen)
		return;
	if (!version)
		version = "(none)";
	n = strlen(version);
	for (i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", version[i]))
			hex = false;
	if (hex && n > 12)
		n = 7;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, version, n);
	out[n] = '\0';
}

static void
put_age(struct kr_buf *b, time_t now, time_t then)
{
	long long s;

	if (!now || !then || now < then)
		return;
	s = (long long)(now - then);
	if (s < 60)
		kr_buf_printf(b, " %lld second%s ago", s, s == 1 ? "" : "s");
	else if (s < 3600)
		kr_buf_printf(b, " %lld minute%s ago", s / 60,
			s / 60 == 1 ? "" : "s");
	else if (s < 86400)
		kr_buf_printf(b, " %lld hour%s ago", s / 3600,
			s / 3600 == 1 ? "" : "s");
	else
		kr_buf_printf(b, " %lld day%s ago", s / 86400,
			s / 86400 == 1 ? "" : "s");
}

/* "container exited 2 minutes ago (drift)" and friends. */
static void
put_drift(struct kr_buf *b, const struct dctx *dc,
	const struct kr_obs_container *oc)
{
	const char *st = oc->state ? oc->state : "unknown";

	if (strcmp(st, "exited") == 0) {
		kr_buf_puts(b, "container exited");
		put_age(b, dc->opts->now, oc->finished);
	} else if (strcmp(st, "created") == 0) {
		kr_buf_puts(b, "container was created but never started");
	} else {
		kr_buf_printf(b, "container is %s", st);
	}
	kr_buf_puts(b, " (drift)");
}

static void
join_reason(struct kr_buf *b, const struct kr_strvec *phrases)
{
	size_t i;

	for (i = 0; i < phrases->n; i++) {
		if (b->len)
			kr_buf_puts(b, "; ");
		kr_buf_puts(b, phrases->v[i]);
	}
}

static void
set_reason_buf(struct kr_change *c, struct kr_buf *b)
{
	free(c->reason);
	c->reason = b->len ? kr_buf_detach(b, NULL) : NULL;
	kr_buf_release(b);
}

/* ------------------------------------------------------------ observed */

static bool
str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static const char *
cname(const struct kr_obs_container *oc)
{
	const char *n = oc->name ? oc->name : "";

	return n[0] == '/' ? n + 1 : n;
}

static const char *
label(const struct kr_obs_container *oc, const char *key)
{
	return kr_kvlist_get(&oc->labels, key);
}

static bool
is_running(const struct kr_obs_container *oc)
{
	return oc->state && strcmp(oc->state, "running") == 0;
}

/* An app container of this service and destination (any role). */
static bool
is_app(const struct dctx *dc, const struct kr_obs_container *oc)
{
	const char *dest = label(oc, "destination");

	return str_eq(label(oc, "service"), dc->d->service) &&
		label(oc, "role") && str_eq(dest ? dest : "", dc->dest);
}

/* An accessory of this service: labelled service=<its own name>, no role. */
static bool
is_accessory(const struct dctx *dc, const struct kr_obs_container *oc)
{
	const char *svc = label(oc, "service");
	size_t n = strlen(dc->d->service);

	if (!svc || label(oc, "role") || strcmp(svc, cname(oc)) != 0)
		return false;
	if (strcmp(cname(oc), "kamal-proxy") == 0)
		return false;
	return strncmp(svc, dc->d->service, n) == 0 && svc[n] == '-';
}

/* a is newer than b: created, then started, then name. */
static bool
newer(const struct kr_obs_container *a, const struct kr_obs_container *b)
{
	if (a->created != b->created)
		return a->created > b->created;
	if (a->started != b->started)
		return a->started > b->started;
	return strcmp(cname(a), cname(b)) > 0;
}

/* The version an app container runs: from its name, else its image tag. */
static const char *
container_version(const struct dctx *dc, const struct kr_obs_container *oc,
	const char *role, char *buf, size_t buflen)
{
	const char *n = cname(oc), *colon, *slash;
	int len;

	if (*dc->dest)
		len = snprintf(buf, buflen, "%s-%s-%s-", dc->d->service, role,
			dc->dest);
	else
		len = snprintf(buf, buflen, "%s-%s-", dc->d->service, role);
	if (len > 0 && (size_t)len < buflen &&
	    strncmp(n, buf, (size_t)len) == 0 && n[len])
		return n + len;
	if (!oc->image)
		return NULL;
	colon = strrchr(oc->image, ':');
	slash = strrchr(oc->image, '/');
	if (colon && (!slash || colon > slash))
		return colon + 1;
	return NULL;
}

static void
collapse_ws(struct kr_buf *b, const char *s)
{
	bool space = false;

	for (; s && *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n') {
			space = b->len > 0;
			continue;
		}
		if (space)
			kr_buf_putc(b, ' ');
		space = false;
		kr_buf_putc(b, *s);
	}
}

static bool
cmd_eq(const char *a, const char *b)
{
	struct kr_buf x = KR_BUF_INIT, y = KR_BUF_INIT;
	bool eq;

	collapse_ws(&x, a);
	collapse_ws(&y, b);
	eq = strcmp(x.ptr, y.ptr) == 0;
	kr_buf_release(&x);
	kr_buf_release(&y);
	return eq;
}

/* The observed file at path (relative to home), or NULL. */
static const struct kr_obs_file *
find_file(const struct kr_observed_host *oh, const char *path)
{
	size_t i;

	for (i = 0; path && i < oh->nfiles; i++)
		if (str_eq(oh->files[i].path, path))
			return &oh->files[i];
	return NULL;
}

static const char *
mode_digits(const char *m)
{
	if (!m)
		return "";
	while (m[0] == '0' && m[1])
		m++;
	return m;
}

/* ---------------------------------------------------------------- mounts */

/*
 * One desired mount: "src:dst[:mode]". `home` says src is relative to the
 * SSH user's home (accessory directories and files), so the observed
 * absolute source must end with "/" src.
 */
struct mspec {
	char *src;
	char *dst;
	bool ro;
	bool home;
};

static void
mspec_parse(struct mspec *m, const char *spec, bool home)
{
	const char *c1 = strchr(spec, ':'), *c2;

	memset(m, 0, sizeof(*m));
	m->home = home;
	if (!c1) {
		m->src = kr_xstrdup("");
		m->dst = kr_xstrdup(spec);
		return;
	}
	m->src = kr_xstrndup(spec, (size_t)(c1 - spec));
	c2 = strchr(c1 + 1, ':');
	if (!c2) {
		m->dst = kr_xstrdup(c1 + 1);
		return;
	}
	m->dst = kr_xstrndup(c1 + 1, (size_t)(c2 - c1 - 1));
	m->ro = strstr(c2 + 1, "ro") != NULL;
}

static void
mspec_release(struct mspec *m)
{
	free(m->src);
	free(m->dst);
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static bool
path_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (lb > 1 && b[lb - 1] == '/')
		lb--;
	return la == lb && strncmp(a, b, la) == 0;
}

static bool
mount_matches(const struct kr_obs_mount *om, const struct mspec *m)
{
	const char *src = om->source ? om->source : "";
	char *tail;
	bool ok;

	if (!om->destination || !path_eq(om->destination, m->dst))
		return false;
	if (m->ro == om->rw)
		return false;
	if (!m->home && strncmp(m->src, "$PWD/", 5) == 0) {
		/* Kamal's asset volume: the remote shell expands $PWD, the
		 * SSH user's home */
		tail = kr_xasprintf("%s", m->src + 4);
		ok = ends_with(src, tail);
		free(tail);
		return ok;
	}
	if (m->home) {
		tail = kr_xasprintf("/%s", m->src);
		ok = ends_with(src, tail) || path_eq(src, m->src);
		free(tail);
		return ok;
	}
	if (m->src[0] == '/' || !m->src[0])
		return !m->src[0] || path_eq(src, m->src);
	/* a named volume: the driver may give its name or its path */
	if (strcmp(src, m->src) == 0)
		return true;
	tail = kr_xasprintf("/volumes/%s/_data", m->src);
	ok = ends_with(src, tail);
	free(tail);
	return ok;
}

/*
 * Compare a list of desired mounts with the container's mounts. `before`
 * gets the desired specs the container has, then its unmatched bind mounts
 * as "source:destination[:ro]" (only binds: images declare volumes of their
 * own that the configuration cannot know). `used` marks matched mounts and
 * is shared between the lists of one container.
 */
static void
mounts_before(struct kr_strvec *before, const struct kr_strvec *specs,
	bool home, const struct kr_obs_container *oc, bool *used)
{
	size_t i, j;

	for (i = 0; i < specs->n; i++) {
		struct mspec m;

		mspec_parse(&m, specs->v[i], home);
		for (j = 0; j < oc->nmounts; j++) {
			if (!used[j] && mount_matches(&oc->mounts[j], &m)) {
				used[j] = true;
				kr_strvec_push(before, specs->v[i]);
				break;
			}
		}
		mspec_release(&m);
	}
}

static void
mounts_extra(struct kr_strvec *before, const struct kr_obs_container *oc,
	const bool *used)
{
	size_t j;

	for (j = 0; j < oc->nmounts; j++) {
		const struct kr_obs_mount *om = &oc->mounts[j];

		if (used[j] || !om->type || strcmp(om->type, "bind") != 0)
			continue;
		kr_strvec_push_owned(before, kr_xasprintf("%s:%s%s",
			om->source ? om->source : "",
			om->destination ? om->destination : "",
			om->rw ? "" : ":ro"));
	}
}

/* ----------------------------------------------------------------- ports */

/* "[ip:]host:container[/proto]" -> "[ip:]host:container/proto", with the
 * any-address forms (0.0.0.0, ::, empty) dropped. */
static char *
port_norm(const char *p)
{
	const char *slash = strchr(p, '/');
	const char *proto = slash ? slash + 1 : "tcp";
	char *body = slash ? kr_xstrndup(p, (size_t)(slash - p)) : kr_xstrdup(p);
	char *last = strrchr(body, ':'), *first, *res;

	if (last && last != body) {
		*last = '\0';
		first = strrchr(body, ':');
		*last = ':';
		if (first) {
			size_t iplen = (size_t)(first - body);

			if (iplen == 0 || (iplen == 7 &&
			    strncmp(body, "0.0.0.0", 7) == 0) ||
			    (iplen == 2 && strncmp(body, "::", 2) == 0) ||
			    (iplen == 4 && strncmp(body, "[::]", 4) == 0)) {
				res = kr_xasprintf("%s/%s", first + 1, proto);
				free(body);
				return res;
			}
		}
	}
	res = kr_xasprintf("%s/%s", body, proto);
	free(body);
	return res;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Normalised, sorted, without duplicates (IPv4 and IPv6 bindings). */
static void
ports_set(struct kr_strvec *out, const struct kr_strvec *in)
{
	struct kr_strvec tmp = { 0 };
	size_t i;

	for (i = 0; i < in->n; i++)
		kr_strvec_push_owned(&tmp, port_norm(in->v[i]));
	if (tmp.n)
		qsort(tmp.v, tmp.n, sizeof(*tmp.v), str_cmp);
	for (i = 0; i < tmp.n; i++)
		if (!out->n || strcmp(out->v[out->n - 1], tmp.v[i]) != 0)
			kr_strvec_push(out, tmp.v[i]);
	kr_strvec_release(&tmp);
}

/* ------------------------------------------------------------- env files */

struct env_cmp {
	const struct kr_obs_file *of;	/* NULL: not on the host */
	bool content_differs;
	bool mode_differs;
	char *reason;			/* NULL when equal */
};

static void
put_key_list(struct kr_buf *b, const struct kr_strvec *keys)
{
	size_t i;

	for (i = 0; i < keys->n; i++)
		kr_buf_printf(b, "%s%s", i ? ", " : "", keys->v[i]);
}

static void
env_compare(struct env_cmp *out, const struct kr_observed_host *oh,
	const struct kr_env_file *ef)
{
	struct kr_strvec added = { 0 }, removed = { 0 }, keys = { 0 };
	struct kr_buf b = KR_BUF_INIT;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->of = find_file(oh, ef->path);
	if (!out->of) {
		out->content_differs = true;
		out->reason = kr_xstrdup("env file does not exist on the host");
		return;
	}
	out->content_differs = strcmp(out->of->sha256, ef->sha256) != 0;
	out->mode_differs = strcmp(mode_digits(out->of->mode), "600") != 0;
	if (out->content_differs) {
		for (i = 0; i < ef->secrets.n; i++) {
			kr_strvec_push(&keys, ef->secrets.v[i].key);
			if (!kr_strvec_contains(&out->of->keys,
			    ef->secrets.v[i].key))
				kr_strvec_push(&added, ef->secrets.v[i].key);
		}
		for (i = 0; i < out->of->keys.n; i++)
			if (!kr_kvlist_get(&ef->secrets, out->of->keys.v[i]))
				kr_strvec_push(&removed, out->of->keys.v[i]);
		if (added.n || removed.n) {
			kr_buf_puts(&b, "env file differs:");
			for (i = 0; i < added.n; i++)
				kr_buf_printf(&b, "%s %s added", i ? "," : "",
					added.v[i]);
			for (i = 0; i < removed.n; i++)
				kr_buf_printf(&b, "%s %s removed",
					(i || added.n) ? "," : "", removed.v[i]);
		} else {
			/* same key names: which value changed cannot be told */
			kr_buf_puts(&b, "env file content changed (keys: ");
			put_key_list(&b, &keys);
			kr_buf_putc(&b, ')');
		}
	} else if (out->mode_differs) {
		kr_buf_printf(&b, "env file mode %s → 600",
			mode_digits(out->of->mode));
	}
	if (b.len)
		out->reason = kr_buf_detach(&b, NULL);
	kr_buf_release(&b);
	kr_strvec_release(&added);
	kr_strvec_release(&removed);
	kr_strvec_release(&keys);
}

static void
env_cmp_release(struct env_cmp *e)
{
	free(e->reason);
}

static void
env_attrs(struct kr_change *c, const struct kr_env_file *ef,
	const struct env_cmp *ec)
{
	const struct kr_obs_file *of = ec ? ec->of : NULL;
	struct kr_strvec after_keys = { 0 };
	size_t i;

	for (i = 0; ef && i < ef->secrets.n; i++)
		kr_strvec_push(&after_keys, ef->secrets.v[i].key);
	kr_change_attr(c, "path", of ? of->path : NULL, ef ? ef->path : NULL);
	kr_change_attr(c, "mode", of ? mode_digits(of->mode) : NULL,
		ef ? "600" : NULL);
	kr_change_attr_list(c, "keys", of ? &of->keys : NULL,
		ef ? &after_keys : NULL);
	kr_change_attr(c, "sha256", of ? of->sha256 : NULL,
		ef ? ef->sha256 : NULL);
	kr_change_attr_sensitive(c, "content", of != NULL, ef != NULL,
		ec ? ec->content_differs : true);
	kr_strvec_release(&after_keys);
}

/* ------------------------------------------------------ container fields */

static void
push_changed_keys(struct kr_strvec *phrases, const char *what,
	const struct kr_strvec *keys)
{
	struct kr_buf b = KR_BUF_INIT;

	if (!keys->n)
		return;
	kr_buf_printf(&b, "%s changed: ", what);
	put_key_list(&b, keys);
	kr_strvec_push_owned(phrases, kr_buf_detach(&b, NULL));
}

/*
 * A map compared as a subset: every desired key must be in the container
 * with the same value; keys the container has beyond those (set by the
 * image, or by Docker) are not compared. One attribute per desired key.
 */
static void
map_attrs(struct kr_change *c, const char *prefix, const struct kr_kvlist *want,
	const struct kr_kvlist *have, struct kr_strvec *changed, unsigned flags)
{
	size_t i;

	for (i = 0; i < want->n; i++) {
		char *name = kr_xasprintf("%s.%s", prefix, want->v[i].key);
		const char *before = have ? kr_kvlist_get(have,
			want->v[i].key) : NULL;
		struct kr_attr *a = kr_change_attr(c, name,
			have ? before : NULL, want->v[i].value);

		a->flags |= flags;
		if (have && a->changed)
			kr_strvec_push(changed, want->v[i].key);
		free(name);
	}
}

/* The fields an app and an accessory share. `oc` NULL: a create. */
struct fields {
	const char *image;
	const char *cmd;
	const struct kr_strvec *args;
	const struct kr_strvec *volumes;
	const struct kr_kvlist *labels;
	const struct kr_kvlist *env;
	const struct kr_env_file *env_file;
	const char *network;
	const char *restart;
};

static void
common_attrs(struct kr_change *c, const struct fields *f,
	const struct kr_obs_container *oc, struct kr_strvec *phrases,
	bool image_phrase, const char *image_suffix)
{
	struct kr_strvec changed = { 0 };
	struct kr_attr *a;
	size_t i;

	a = kr_change_attr(c, "image", oc ? oc->image : NULL, f->image);
	a->flags |= KR_ATTR_FORCES;
	if (oc && a->changed && image_phrase)
		kr_strvec_push_owned(phrases, kr_xasprintf("image %s → %s%s",
			oc->image ? oc->image : "(none)", f->image, image_suffix));
	if (f->cmd) {
		a = kr_change_attr(c, "cmd", oc ? (oc->cmd ? oc->cmd : "") :
			NULL, f->cmd);
		a->flags |= KR_ATTR_FORCES;
		if (oc)
			a->changed = !cmd_eq(oc->cmd, f->cmd);
		if (oc && a->changed)
			kr_strvec_push(phrases, "cmd changed");
	}
	if (f->args->n)
		/* not visible in docker inspect: compared through the hash */
		kr_change_attr_list(c, "options", oc ? f->args : NULL, f->args);
	map_attrs(c, "labels", f->labels, oc ? &oc->labels : NULL, &changed,
		KR_ATTR_FORCES);
	push_changed_keys(phrases, "labels", &changed);
	kr_strvec_release(&changed);
	map_attrs(c, "env", f->env, oc ? &oc->env : NULL, &changed,
		KR_ATTR_FORCES);
	push_changed_keys(phrases, "clear env", &changed);
	kr_strvec_release(&changed);
	if (f->env_file && f->env_file->path) {
		kr_change_attr(c, "env_file", oc ? f->env_file->path : NULL,
			f->env_file->path);
		/* keys of the env file the container does not have: it was
		 * started before they were added */
		for (i = 0; oc && i < f->env_file->secrets.n; i++)
			if (!kr_kvlist_get(&oc->env,
			    f->env_file->secrets.v[i].key))
				kr_strvec_push(&changed,
					f->env_file->secrets.v[i].key);
		if (changed.n) {
			struct kr_buf b = KR_BUF_INIT;

			kr_buf_puts(&b, "container env lacks ");
			put_key_list(&b, &changed);
			kr_buf_puts(&b, " (env file changed since it started)");
			kr_strvec_push_owned(phrases, kr_buf_detach(&b, NULL));
		}
		kr_strvec_release(&changed);
	}
	if (f->network) {
		const char *before = NULL;

		if (oc && kr_strvec_contains(&oc->networks, f->network))
			before = f->network;
		else if (oc)
			before = oc->networks.n ? oc->networks.v[0] : "";
		a = kr_change_attr(c, "network", before, f->network);
		a->flags |= KR_ATTR_FORCES;
		if (oc && a->changed)
			kr_strvec_push_owned(phrases, kr_xasprintf(
				"network %s → %s", before, f->network));
	}
	if (f->restart) {
		a = kr_change_attr(c, "restart", oc ? (oc->restart ?
			oc->restart : "") : NULL, f->restart);
		a->flags |= KR_ATTR_FORCES;
		if (oc && a->changed)
			kr_strvec_push_owned(phrases, kr_xasprintf(
				"restart policy %s → %s", oc->restart ?
				oc->restart : "(none)", f->restart));
	}
}

static void
volumes_attr(struct kr_change *c, const char *name,
	const struct kr_strvec *specs, bool home,
	const struct kr_obs_container *oc, bool *used, bool extras,
	struct kr_strvec *phrases, const char *phrase)
{
	struct kr_strvec before = { 0 };
	struct kr_attr *a;

	if (!oc) {
		if (specs->n)
			kr_change_attr_list(c, name, NULL, specs);
		return;
	}
	mounts_before(&before, specs, home, oc, used);
	if (extras)
		mounts_extra(&before, oc, used);
	if (specs->n || before.n) {
		a = kr_change_attr_list(c, name, &before, specs);
		a->flags |= KR_ATTR_FORCES;
		if (a->changed)
			kr_strvec_push(phrases, phrase);
	}
	kr_strvec_release(&before);
}

static void
tail_attrs(struct kr_change *c, const struct kr_obs_container *oc,
	const char *defhash)
{
	kr_change_attr(c, "state", oc ? (oc->state ? oc->state : "") : NULL,
		"running");
	kr_change_attr(c, "defhash", oc ? label(oc, KR_DEFHASH_LABEL) : NULL,
		defhash);
}

/* The log driver only when configured; options as a subset. */
static void
logging_attrs(struct kr_change *c, const struct kr_logging *lg,
	const struct kr_obs_container *oc, struct kr_strvec *phrases)
{
	struct kr_strvec changed = { 0 };
	struct kr_attr *at;

	if (lg->driver) {
		at = kr_change_attr(c, "log_driver", oc ? (oc->log_driver ?
			oc->log_driver : "") : NULL, lg->driver);
		at->flags |= KR_ATTR_FORCES;
		if (oc && at->changed)
			kr_strvec_push(&changed, "driver");
	}
	map_attrs(c, "log_opts", &lg->options, oc ? &oc->log_opts : NULL,
		&changed, KR_ATTR_FORCES);
	push_changed_keys(phrases, "logging", &changed);
	kr_strvec_release(&changed);
}

/* App fields; pushes a phrase per differing defining field except image. */
static void
app_attrs(struct kr_change *c, const struct kr_app *a,
	const struct kr_obs_container *oc, const char *defhash,
	struct kr_strvec *phrases)
{
	struct fields f = {
		.image = a->image, .cmd = a->cmd, .args = &a->args,
		.volumes = &a->volumes, .labels = &a->labels, .env = &a->env,
		.env_file = &a->env_file, .network = a->network,
		.restart = a->restart,
	};
	bool *used = NULL;

	kr_change_attr(c, "name", oc ? cname(oc) : NULL, a->name);
	common_attrs(c, &f, oc, phrases, false, "");
	if (oc)
		used = kr_xcalloc(oc->nmounts + 1, sizeof(*used));
	volumes_attr(c, "volumes", &a->volumes, false, oc, used, true, phrases,
		"volumes changed");
	free(used);
	logging_attrs(c, &a->logging, oc, phrases);
	tail_attrs(c, oc, defhash);
}

/* Accessory fields, including its files' content on the host. */
static void
acc_attrs(struct kr_change *c, const struct kr_accessory *acc,
	const struct kr_obs_container *oc, const struct kr_observed_host *oh,
	const char *defhash, struct kr_strvec *phrases)
{
	struct fields f = {
		.image = acc->image, .cmd = acc->cmd, .args = &acc->args,
		.volumes = &acc->volumes, .labels = &acc->labels,
		.env = &acc->env, .env_file = &acc->env_file,
		.network = acc->network, .restart = acc->restart,
	};
	struct kr_strvec want = { 0 }, have = { 0 }, fmounts = { 0 };
	bool *used = NULL;
	struct kr_attr *a;
	size_t i;

	kr_change_attr(c, "name", oc ? cname(oc) : NULL, acc->container);
	common_attrs(c, &f, oc, phrases, true, " forces replacement");
	ports_set(&want, &acc->ports);
	if (oc)
		ports_set(&have, &oc->ports);
	if (want.n || have.n) {
		a = kr_change_attr_list(c, "ports", oc ? &have : NULL, &want);
		a->flags |= KR_ATTR_FORCES;
		if (oc && a->changed)
			kr_strvec_push(phrases, "ports changed");
	}
	if (oc)
		used = kr_xcalloc(oc->nmounts + 1, sizeof(*used));
	volumes_attr(c, "directories", &acc->directories, true, oc, used,
		false, phrases, "directories changed");
	for (i = 0; i < acc->nfiles; i++)
		kr_strvec_push_owned(&fmounts, kr_xasprintf("%s:%s",
			acc->files[i].host_path, acc->files[i].remote));
	if (oc) {
		/* files are mounts too: mark them before looking for extras */
		struct kr_strvec ignored = { 0 };

		mounts_before(&ignored, &fmounts, true, oc, used);
		kr_strvec_release(&ignored);
	}
	volumes_attr(c, "volumes", &acc->volumes, false, oc, used, true,
		phrases, "volumes changed");
	free(used);
	for (i = 0; i < acc->nfiles; i++) {
		const struct kr_acc_file *af = &acc->files[i];
		const struct kr_obs_file *of = find_file(oh, af->host_path);
		char *name = kr_xasprintf("files.%s", af->remote);

		a = kr_change_attr(c, name, oc ? (of ? of->sha256 : "") : NULL,
			af->sha256);
		a->flags |= KR_ATTR_FORCES;
		if (oc && a->changed)
			kr_strvec_push_owned(phrases, of ?
				kr_xasprintf("file %s content changed",
					af->local) :
				kr_xasprintf("file %s is missing on the host",
					af->local));
		free(name);
	}
	logging_attrs(c, &acc->logging, oc, phrases);
	kr_strvec_release(&want);
	kr_strvec_release(&have);
	kr_strvec_release(&fmounts);
	tail_attrs(c, oc, defhash);
}

/* ------------------------------------------------------------------ hosts */

static const struct kr_image_lookup *
image_lookup(const struct dctx *dc, const char *ref)
{
	size_t i;

	for (i = 0; dc->opts->images && i < dc->opts->nimages; i++)
		if (dc->opts->images[i].ref &&
		    strcmp(dc->opts->images[i].ref, ref) == 0)
			return &dc->opts->images[i];
	return NULL;
}

/* A container on the host was started from `ref`: no pull needed. */
static bool
image_on_host(const struct hctx *hc, const char *ref)
{
	size_t i;

	for (i = 0; i < hc->oh->ncontainers; i++)
		if (str_eq(hc->oh->containers[i].image, ref))
			return true;
	return false;
}

/* A create or replace needs `ref`: hold it or note the pull. */
static void
need_image(struct hctx *hc, struct kr_change *c, const char *ref)
{
	const struct kr_image_lookup *il;

	if (!ref)
		return;
	free(c->image);
	c->image = kr_xstrdup(ref);
	if (image_on_host(hc, ref))
		return;
	il = image_lookup(hc->dc, ref);
	if (il && il->avail == KR_IMAGE_MISSING) {
		c->status = KR_STATUS_WAITING;
		if (c->reason) {
			char *r = kr_xasprintf("%s; the registry does not have "
				"the image yet", c->reason);

			free(c->reason);
			c->reason = r;
		} else {
			kr_change_set_reason(c, "the registry does not have "
				"the image yet");
		}
		return;
	}
	if (!kr_strvec_contains(&hc->pulls, ref))
		kr_strvec_push(&hc->pulls, ref);
}

static bool
desired_has_role(const struct kr_desired *d, const char *role)
{
	size_t i, j;

	for (i = 0; i < d->nhosts; i++)
		for (j = 0; j < d->hosts[i].napps; j++)
			if (str_eq(d->hosts[i].apps[j].role, role))
				return true;
	return false;
}

static bool
desired_has_accessory(const struct kr_desired *d, const char *container)
{
	size_t i, j;

	for (i = 0; i < d->nhosts; i++)
		for (j = 0; j < d->hosts[i].naccessories; j++)
			if (str_eq(d->hosts[i].accessories[j].container,
			    container))
				return true;
	return false;
}

/* Plan one env file (app role or accessory). */
static struct kr_change *
plan_env(struct hctx *hc, const char *kind, const char *name,
	const struct kr_env_file *ef, struct env_cmp *ec)
{
	char *sub = kr_xasprintf("%s/%s", kind, name);
	struct kr_change *c;
	enum kr_action act;

	env_compare(ec, hc->oh, ef);
	if (!ec->of)
		act = KR_ACTION_CREATE;
	else if (ec->content_differs || ec->mode_differs)
		act = KR_ACTION_UPDATE;
	else
		act = KR_ACTION_NOOP;
	c = kr_plan_add_change(hc->env, KR_CHANGE_ENV, sub, act);
	c->env_file = ef;
	c->path = kr_xstrdup(ef->path);
	if (ec->reason)
		c->reason = kr_xstrdup(ec->reason);
	env_attrs(c, ef, ec);
	free(sub);
	return c;
}

/* Starting or stopping containers does not relabel them. */
static void
keep_defhash(struct kr_change *c)
{
	size_t i;

	for (i = 0; i < c->nattrs; i++) {
		struct kr_attr *a = &c->attrs[i];

		if (strcmp(a->name, "defhash") != 0)
			continue;
		free(a->after);
		a->after = a->before ? kr_xstrdup(a->before) : NULL;
		a->has_after = a->has_before;
		a->changed = false;
	}
}

/* Plan one role's app container. `ec` is its env file's comparison. */
static struct kr_change *
plan_app(struct hctx *hc, const struct kr_app *a, const struct env_cmp *ec)
{
	const struct dctx *dc = hc->dc;
	const struct kr_obs_container *run = NULL, *last = NULL, *oc;
	struct kr_strvec phrases = { 0 }, others = { 0 };
	struct kr_buf why = KR_BUF_INIT;
	char defhash[KR_SHA256_HEX], vbuf[256], s1[64], s2[64];
	const char *ov = NULL, *hash;
	bool differs, env_changed;
	struct kr_change *c;
	size_t i;

	kr_defhash_app(defhash, a);
	for (i = 0; i < hc->oh->ncontainers; i++) {
		oc = &hc->oh->containers[i];
		if (!is_app(dc, oc) || !str_eq(label(oc, "role"), a->role))
			continue;
		if (is_running(oc) && (!run || newer(oc, run)))
			run = oc;
		if (!last || newer(oc, last))
			last = oc;
	}
	for (i = 0; i < hc->oh->ncontainers; i++) {
		oc = &hc->oh->containers[i];
		if (oc != run && is_app(dc, oc) && is_running(oc) &&
		    str_eq(label(oc, "role"), a->role))
			kr_strvec_push(&others, oc->id ? oc->id : cname(oc));
	}
	oc = run ? run : last;
	c = kr_plan_add_change(hc->app, KR_CHANGE_APP, a->role,
		KR_ACTION_NOOP);
	c->app = a;
	c->env_file = &a->env_file;
	memcpy(c->defhash, defhash, sizeof(defhash));
	app_attrs(c, a, oc, defhash, &phrases);
	if (!oc) {
		c->action = KR_ACTION_CREATE;
		c->status = KR_STATUS_PLANNED;
		kr_change_set_reason(c, "no container for role '%s' on this "
			"host", a->role);
		need_image(hc, c, a->image);
		goto out;
	}
	ov = container_version(dc, oc, a->role, vbuf, sizeof(vbuf));
	env_changed = ec->of && ec->content_differs && a->env_file.path;
	hash = label(oc, KR_DEFHASH_LABEL);
	/*
	 * A labelled container says what it was started with: if that is
	 * the desired definition, a changed env file on the host only needs
	 * rewriting. Without the label the host's file is all we know.
	 */
	if (hash)
		differs = strcmp(hash, defhash) != 0;
	else
		differs = env_changed || phrases.n > 0;
	if (!str_eq(ov, a->version)) {
		kr_diff_short_version(s1, sizeof(s1), ov);
		kr_diff_short_version(s2, sizeof(s2), a->version);
		kr_buf_printf(&why, "version %s → %s", s1, s2);
	} else if (differs && env_changed) {
		kr_buf_puts(&why, ec->reason);
	} else if (differs) {
		if (!str_eq(oc->image, a->image))
			kr_buf_printf(&why, "image %s → %s", oc->image ?
				oc->image : "(none)", a->image);
		join_reason(&why, &phrases);
		if (!why.len) {
			kr_diff_short_version(s1, sizeof(s1), hash);
			kr_diff_short_version(s2, sizeof(s2), defhash);
			kr_buf_printf(&why, "definition changed (%s %s → %s)",
				KR_DEFHASH_LABEL, s1, s2);
		}
	}
	if (why.len) {
		/* a new container; the running ones stop once it is healthy */
		c->action = KR_ACTION_REPLACE;
		if (!run) {
			kr_buf_puts(&why, "; ");
			put_drift(&why, dc, oc);
		}
		if (run)
			kr_strvec_push(&c->containers,
				run->id ? run->id : cname(run));
		kr_strvec_copy(&c->containers, &others);
	} else if (!run) {
		const char *st = oc->state ? oc->state : "";

		put_drift(&why, dc, oc);
		if (strcmp(st, "exited") == 0 || strcmp(st, "created") == 0) {
			c->action = KR_ACTION_UPDATE;
			c->start_container = kr_xstrdup(oc->id ? oc->id :
				cname(oc));
		} else {
			c->action = KR_ACTION_REPLACE;
		}
	} else if (others.n) {
		c->action = KR_ACTION_UPDATE;
		kr_buf_printf(&why, "%zu other container%s of role '%s' still "
			"running (drift)", others.n, others.n == 1 ? "" : "s",
			a->role);
		kr_strvec_copy(&c->containers, &others);
	}
	if (c->action != KR_ACTION_NOOP)
		c->status = KR_STATUS_PLANNED;
	if (c->action == KR_ACTION_UPDATE)
		keep_defhash(c);
	set_reason_buf(c, &why);
	if (c->action == KR_ACTION_REPLACE)
		need_image(hc, c, a->image);
out:
	kr_buf_release(&why);
	kr_strvec_release(&phrases);
	kr_strvec_release(&others);
	return c;
}

static struct kr_change *
plan_accessory(struct hctx *hc, const struct kr_accessory *acc,
	const struct env_cmp *ec)
{
	const struct dctx *dc = hc->dc;
	const struct kr_obs_container *oc = NULL;
	struct kr_strvec phrases = { 0 };
	struct kr_buf why = KR_BUF_INIT;
	char defhash[KR_SHA256_HEX], s1[64], s2[64];
	const char *hash;
	struct kr_change *c;
	bool differs, env_changed;
	size_t i;

	kr_defhash_accessory(defhash, acc);
	for (i = 0; i < hc->oh->ncontainers; i++)
		if (str_eq(cname(&hc->oh->containers[i]), acc->container))
			oc = &hc->oh->containers[i];
	c = kr_plan_add_change(hc->acc, KR_CHANGE_ACCESSORY, acc->name,
		KR_ACTION_NOOP);
	c->accessory = acc;
	c->env_file = &acc->env_file;
	memcpy(c->defhash, defhash, sizeof(defhash));
	acc_attrs(c, acc, oc, hc->oh, defhash, &phrases);
	if (!oc) {
		c->action = KR_ACTION_CREATE;
		c->status = KR_STATUS_PLANNED;
		kr_change_set_reason(c, "no container '%s' on this host",
			acc->container);
		need_image(hc, c, acc->image);
		goto out;
	}
	hash = label(oc, KR_DEFHASH_LABEL);
	env_changed = ec && ec->of && ec->content_differs;
	if (hash)
		differs = strcmp(hash, defhash) != 0;
	else
		differs = env_changed || phrases.n > 0;
	/* the host's copy of a file changed: drift, whatever the label says */
	for (i = 0; i < acc->nfiles; i++) {
		const struct kr_obs_file *of = find_file(hc->oh,
			acc->files[i].host_path);

		if (!of || strcmp(of->sha256, acc->files[i].sha256) != 0)
			differs = true;
	}
	if (differs) {
		if (env_changed)
			kr_buf_puts(&why, ec->reason);
		join_reason(&why, &phrases);
		if (!why.len) {
			kr_diff_short_version(s1, sizeof(s1), hash);
			kr_diff_short_version(s2, sizeof(s2), defhash);
			kr_buf_printf(&why, "definition changed (%s %s → %s)",
				KR_DEFHASH_LABEL, s1, s2);
		}
	}
	if (why.len) {
		c->action = KR_ACTION_REPLACE;
		if (!is_running(oc)) {
			kr_buf_puts(&why, "; ");
			put_drift(&why, dc, oc);
		}
		kr_strvec_push(&c->containers, oc->id ? oc->id : cname(oc));
	} else if (!is_running(oc)) {
		const char *st = oc->state ? oc->state : "";

		put_drift(&why, dc, oc);
		if (strcmp(st, "exited") == 0 || strcmp(st, "created") == 0) {
			c->action = KR_ACTION_UPDATE;
			c->start_container = kr_xstrdup(oc->id ? oc->id :
				cname(oc));
		} else {
			c->action = KR_ACTION_REPLACE;
			kr_strvec_push(&c->containers, oc->id ? oc->id :
				cname(oc));
		}
	}
	if (c->action != KR_ACTION_NOOP)
		c->status = KR_STATUS_PLANNED;
	if (c->action == KR_ACTION_UPDATE)
		keep_defhash(c);
	set_reason_buf(c, &why);
	if (c->action == KR_ACTION_REPLACE)
		need_image(hc, c, acc->image);
out:
	kr_buf_release(&why);
	kr_strvec_release(&phrases);
	return c;
}

/* A removal: DELETE with prune, else KEPT. */
static void
mark_removal(const struct hctx *hc, struct kr_change *c, const char *why)
{
	if (hc->dc->prune) {
		c->action = KR_ACTION_DELETE;
		c->status = KR_STATUS_PLANNED;
	} else {
		c->action = KR_ACTION_NOOP;
		c->status = KR_STATUS_KEPT;
	}
	kr_change_set_reason(c, "%s", why);
}

static bool
host_has_role(const struct kr_host *h, const char *role)
{
	size_t i;

	for (i = 0; h && i < h->napps; i++)
		if (str_eq(h->apps[i].role, role))
			return true;
	return false;
}

static bool
host_has_accessory(const struct kr_host *h, const char *container)
{
	size_t i;

	for (i = 0; h && i < h->naccessories; i++)
		if (str_eq(h->accessories[i].container, container))
			return true;
	return false;
}

static char *
removal_words(const struct hctx *hc, const char *what, const char *name,
	bool configured_elsewhere)
{
	if (!hc->h)
		return kr_xasprintf("host '%s' is not in the configuration",
			hc->name);
	if (configured_elsewhere)
		return kr_xasprintf("%s '%s' is not configured for this host",
			what, name);
	return kr_xasprintf("%s '%s' is not in the configuration", what, name);
}

/* Roles on the host that are not desired there, sorted by name. */
static void
plan_removed_apps(struct hctx *hc)
{
	const struct dctx *dc = hc->dc;
	struct kr_strvec roles = { 0 };
	size_t i, j;

	for (i = 0; i < hc->oh->ncontainers; i++) {
		const struct kr_obs_container *oc = &hc->oh->containers[i];
		const char *role = label(oc, "role");

		if (is_app(dc, oc) && !host_has_role(hc->h, role) &&
		    !kr_strvec_contains(&roles, role))
			kr_strvec_push(&roles, role);
	}
	if (roles.n)
		qsort(roles.v, roles.n, sizeof(*roles.v), str_cmp);
	for (j = 0; j < roles.n; j++) {
		struct kr_change *c = kr_plan_add_change(hc->app,
			KR_CHANGE_APP, roles.v[j], KR_ACTION_NOOP);
		const struct kr_obs_container *newest = NULL;
		char *why;

		for (i = 0; i < hc->oh->ncontainers; i++) {
			const struct kr_obs_container *oc =
				&hc->oh->containers[i];

			if (!is_app(dc, oc) ||
			    !str_eq(label(oc, "role"), roles.v[j]))
				continue;
			kr_strvec_push(&c->containers, oc->id ? oc->id :
				cname(oc));
			if (!newest || newer(oc, newest))
				newest = oc;
		}
		kr_change_attr(c, "name", cname(newest), NULL);
		kr_change_attr(c, "image", newest->image ? newest->image : "",
			NULL);
		kr_change_attr(c, "state", newest->state ? newest->state : "",
			NULL);
		why = removal_words(hc, "role", roles.v[j],
			desired_has_role(dc->d, roles.v[j]));
		mark_removal(hc, c, why);
		free(why);
	}
	kr_strvec_release(&roles);
}

static void
plan_removed_accessories(struct hctx *hc)
{
	const struct dctx *dc = hc->dc;
	size_t i, n = strlen(dc->d->service) + 1;

	for (i = 0; i < hc->oh->ncontainers; i++) {
		const struct kr_obs_container *oc = &hc->oh->containers[i];
		struct kr_change *c;
		char *why;

		if (!is_accessory(dc, oc) || host_has_accessory(hc->h, cname(oc)))
			continue;
		c = kr_plan_add_change(hc->acc, KR_CHANGE_ACCESSORY,
			cname(oc) + n, KR_ACTION_NOOP);
		kr_strvec_push(&c->containers, oc->id ? oc->id : cname(oc));
		kr_change_attr(c, "name", cname(oc), NULL);
		kr_change_attr(c, "image", oc->image ? oc->image : "", NULL);
		kr_change_attr(c, "state", oc->state ? oc->state : "", NULL);
		why = removal_words(hc, "accessory", cname(oc) + n,
			desired_has_accessory(dc->d, cname(oc)));
		if (dc->prune) {
			char *w = kr_xasprintf("%s; its directories and files "
				"are kept", why);

			free(why);
			why = w;
		}
		mark_removal(hc, c, why);
		free(why);
	}
}

/* Env files under env/roles/ and env/accessories/ nobody here reads. */
static void
plan_removed_env(struct hctx *hc)
{
	const struct dctx *dc = hc->dc;
	size_t i, j, n = strlen(dc->env_dir);

	for (i = 0; i < hc->oh->nfiles; i++) {
		const struct kr_obs_file *of = &hc->oh->files[i];
		const char *rest, *kind = NULL;
		char *name, *addr, *why;
		bool wanted = false;
		struct kr_change *c;

		if (!of->path || strncmp(of->path, dc->env_dir, n) != 0 ||
		    !ends_with(of->path, ".env"))
			continue;
		rest = of->path + n;
		if (strncmp(rest, "roles/", 6) == 0)
			kind = "role";
		else if (strncmp(rest, "accessories/", 12) == 0)
			kind = "accessory";
		else
			continue;
		for (j = 0; hc->h && j < hc->h->napps; j++)
			if (str_eq(hc->h->apps[j].env_file.path, of->path))
				wanted = true;
		for (j = 0; hc->h && j < hc->h->naccessories; j++)
			if (str_eq(hc->h->accessories[j].env_file.path,
			    of->path))
				wanted = true;
		if (wanted)
			continue;
		addr = kr_xstrndup(rest, strlen(rest) - 4);
		name = kr_xstrdup(strchr(addr, '/') + 1);
		c = kr_plan_add_change(hc->env, KR_CHANGE_ENV, addr,
			KR_ACTION_NOOP);
		c->path = kr_xstrdup(of->path);
		env_attrs(c, NULL, &(struct env_cmp){ .of = of,
			.content_differs = true });
		why = removal_words(hc, kind, name, false);
		mark_removal(hc, c, why);
		free(why);
		free(name);
		free(addr);
	}
}

/* Move every change of `src` to the end of `dst` (same host). */
static void
move_changes(struct kr_plan *dst, struct kr_plan *src)
{
	struct kr_plan_host *ph = &dst->hosts[dst->nhosts - 1];
	size_t i;

	for (i = 0; i < src->nchanges; i++) {
		if (dst->nchanges == dst->changes_alloc) {
			dst->changes_alloc = dst->changes_alloc ?
				2 * dst->changes_alloc : 16;
			dst->changes = kr_xrealloc(dst->changes,
				dst->changes_alloc * sizeof(*dst->changes));
		}
		dst->changes[dst->nchanges++] = src->changes[i];
		ph->count++;
	}
	src->nchanges = 0;
	kr_plan_free(src);
}

static const char *
registry_name(const struct kr_desired *d)
{
	return d->registry.server && *d->registry.server ?
		d->registry.server : "docker.io";
}

/* The registry host an image reference names ("docker.io" when none). */
static bool
image_in_registry(const char *ref, const char *registry)
{
	const char *slash = strchr(ref, '/');
	size_t n;

	if (!slash) {
		return strcmp(registry, "docker.io") == 0;
	}
	n = (size_t)(slash - ref);
	if (memchr(ref, '.', n) || memchr(ref, ':', n) ||
	    (n == 9 && strncmp(ref, "localhost", 9) == 0))
		return strlen(registry) == n && strncmp(ref, registry, n) == 0;
	return strcmp(registry, "docker.io") == 0;
}

static void
plan_host(struct kr_plan *p, const struct dctx *dc, const char *name,
	const struct kr_host *h, const struct kr_observed_host *oh)
{
	struct kr_plan_host *ph = kr_plan_add_host(p, name);
	struct hctx hc = { .dc = dc, .name = name, .h = h, .oh = oh };
	struct kr_strvec nets = { 0 }, logins = { 0 };
	struct env_cmp *app_ec = NULL, *acc_ec = NULL;
	struct kr_change **app_env = NULL, **app_chg = NULL, **acc_env = NULL;
	const char *reg = registry_name(dc->d);
	size_t i;

	ph->configured = h != NULL;
	if (!oh) {
		ph->status = KR_OBS_FAILED;
		ph->error = kr_xstrdup("host was not observed");
		return;
	}
	memcpy(ph->fingerprint, oh->fingerprint, KR_SHA256_HEX);
	ph->fingerprint[KR_SHA256_HEX - 1] = '\0';
	if (oh->status != KR_OBS_OK) {
		ph->status = oh->status;
		ph->error = kr_xstrdup(oh->error ? oh->error : "no details");
		return;
	}
	hc.env = kr_plan_new(NULL, dc->prune);
	hc.acc = kr_plan_new(NULL, dc->prune);
	hc.app = kr_plan_new(NULL, dc->prune);
	kr_plan_add_host(hc.env, name);
	kr_plan_add_host(hc.acc, name);
	kr_plan_add_host(hc.app, name);

	if (h) {
		app_ec = kr_xcalloc(h->napps + 1, sizeof(*app_ec));
		acc_ec = kr_xcalloc(h->naccessories + 1, sizeof(*acc_ec));
		app_env = kr_xcalloc(h->napps + 1, sizeof(*app_env));
		app_chg = kr_xcalloc(h->napps + 1, sizeof(*app_chg));
		acc_env = kr_xcalloc(h->naccessories + 1, sizeof(*acc_env));
		for (i = 0; i < h->naccessories; i++)
			if (h->accessories[i].env_file.path)
				acc_env[i] = plan_env(&hc, "accessories",
					h->accessories[i].name,
					&h->accessories[i].env_file, &acc_ec[i]);
		for (i = 0; i < h->napps; i++)
			if (h->apps[i].env_file.path)
				app_env[i] = plan_env(&hc, "roles",
					h->apps[i].role, &h->apps[i].env_file,
					&app_ec[i]);
		for (i = 0; i < h->naccessories; i++) {
			struct kr_change *c = plan_accessory(&hc,
				&h->accessories[i], acc_env[i] ? &acc_ec[i] :
				NULL);

			/* an env file waits with the container reading it */
			if (c->status == KR_STATUS_WAITING && acc_env[i] &&
			    acc_env[i]->status == KR_STATUS_PLANNED) {
				acc_env[i]->status = KR_STATUS_WAITING;
				acc_env[i]->image = kr_xstrdup(c->image);
			}
		}
		for (i = 0; i < h->napps; i++) {
			app_chg[i] = plan_app(&hc, &h->apps[i], &app_ec[i]);
			if (app_chg[i]->status == KR_STATUS_WAITING &&
			    app_env[i] &&
			    app_env[i]->status == KR_STATUS_PLANNED) {
				app_env[i]->status = KR_STATUS_WAITING;
				app_env[i]->image = kr_xstrdup(
					app_chg[i]->image);
			}
		}
		for (i = 0; i < h->naccessories; i++) {
			const char *n = h->accessories[i].network;

			if (n && !kr_strvec_contains(&nets, n))
				kr_strvec_push(&nets, n);
		}
		for (i = 0; i < h->napps; i++) {
			const char *n = h->apps[i].network;

			if (n && !kr_strvec_contains(&nets, n))
				kr_strvec_push(&nets, n);
		}
	}
	plan_removed_env(&hc);
	plan_removed_accessories(&hc);
	plan_removed_apps(&hc);

	/* networks first, in the order the containers name them */
	for (i = 0; i < nets.n; i++) {
		bool have = kr_strvec_contains(&oh->networks, nets.v[i]);
		struct kr_change *c = kr_plan_add_change(p, KR_CHANGE_NETWORK,
			nets.v[i], have ? KR_ACTION_NOOP : KR_ACTION_CREATE);

		kr_change_attr(c, "name", have ? nets.v[i] : NULL, nets.v[i]);
		if (!have)
			kr_change_set_reason(c, "network '%s' does not exist",
				nets.v[i]);
	}
	/* a login when a planned change pulls from the configured registry
	 * (app images always do, whatever their reference looks like) */
	for (i = 0; i < hc.pulls.n; i++) {
		bool app_image = false;
		size_t j;

		for (j = 0; h && j < h->napps; j++)
			if (str_eq(h->apps[j].image, hc.pulls.v[i]))
				app_image = true;
		if (app_image || image_in_registry(hc.pulls.v[i], reg))
			kr_strvec_push(&logins, hc.pulls.v[i]);
	}
	if (logins.n && dc->d->registry.username) {
		struct kr_buf why = KR_BUF_INIT;
		struct kr_change *c = kr_plan_add_change(p, KR_CHANGE_LOGIN,
			reg, KR_ACTION_RUN);

		kr_change_attr(c, "server", NULL, reg);
		kr_change_attr(c, "username", NULL, dc->d->registry.username);
		kr_change_attr_sensitive(c, "password", false, true, true);
		kr_buf_puts(&why, "to pull ");
		put_key_list(&why, &logins);
		set_reason_buf(c, &why);
	}
	move_changes(p, hc.env);
	move_changes(p, hc.acc);
	move_changes(p, hc.app);
	for (i = 0; h && i < h->napps; i++)
		env_cmp_release(&app_ec[i]);
	for (i = 0; h && i < h->naccessories; i++)
		env_cmp_release(&acc_ec[i]);
	free(app_ec);
	free(acc_ec);
	free(app_env);
	free(app_chg);
	free(acc_env);
	kr_strvec_release(&nets);
	kr_strvec_release(&logins);
	kr_strvec_release(&hc.pulls);
}

void
kr_diff_images(struct kr_strvec *out, const struct kr_desired *d)
{
	size_t i, j;

	for (i = 0; i < d->nhosts; i++)
		for (j = 0; j < d->hosts[i].napps; j++)
			if (d->hosts[i].apps[j].image &&
			    !kr_strvec_contains(out, d->hosts[i].apps[j].image))
				kr_strvec_push(out, d->hosts[i].apps[j].image);
	for (i = 0; i < d->nhosts; i++)
		for (j = 0; j < d->hosts[i].naccessories; j++) {
			const char *img = d->hosts[i].accessories[j].image;

			if (img && !kr_strvec_contains(out, img))
				kr_strvec_push(out, img);
		}
}

static const struct kr_host *
desired_host(const struct kr_desired *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->nhosts; i++)
		if (str_eq(d->hosts[i].name, name))
			return &d->hosts[i];
	return NULL;
}

int
kr_diff_build(struct kr_plan **out, const struct kr_desired *d,
	const struct kr_observed_host *hosts, size_t nhosts,
	const struct kr_diff_opts *opts)
{
	static const struct kr_diff_opts defaults;
	struct dctx dc = { .d = d, .opts = opts ? opts : &defaults };
	struct kr_plan *p;
	size_t i, j;

	if (!d || !d->service || !*d->service) {
		kr_error_set(KR_EINVAL, "desired model has no service");
		return KR_EINVAL;
	}
	dc.prune = dc.opts->prune || d->prune;
	dc.dest = d->destination ? d->destination : "";
	if (*dc.dest)
		dc.env_dir = kr_xasprintf(".kamal/apps/%s-%s/env/", d->service,
			dc.dest);
	else
		dc.env_dir = kr_xasprintf(".kamal/apps/%s/env/", d->service);
	p = kr_plan_new(d, dc.prune);
	for (i = 0; i < d->nhosts; i++) {
		const struct kr_observed_host *oh = NULL;

		for (j = 0; j < nhosts; j++)
			if (str_eq(hosts[j].name, d->hosts[i].name))
				oh = &hosts[j];
		plan_host(p, &dc, d->hosts[i].name, &d->hosts[i], oh);
	}
	for (j = 0; j < nhosts; j++)
		if (hosts[j].name && !desired_host(d, hosts[j].name))
			plan_host(p, &dc, hosts[j].name, NULL, &hosts[j]);
	free(dc.env_dir);
	*out = p;
	return 0;
}
