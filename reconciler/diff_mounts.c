/*
 * Kamal's volume and port specs against what `docker inspect` shows: a
 * desired "src:dst[:ro]" mount matched with an observed mount (home-relative
 * accessory paths, $PWD asset volumes, named volumes), and ports normalised
 * so IPv4/IPv6 and any-address bindings compare equal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "reconciler/diff_int.h"

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

/* Mount options "ro,z": is one of them ro (or readonly)? */
static bool
has_ro(const char *opts)
{
	const char *p = opts;

	while (*p) {
		size_t n = strcspn(p, ",");

		if ((n == 2 && strncmp(p, "ro", 2) == 0) ||
			(n == 8 && strncmp(p, "readonly", 8) == 0))
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

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
	m->ro = has_ro(c2 + 1);
}

static void
mspec_release(struct mspec *m)
{
	free(m->src);
	free(m->dst);
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
		ok = kr_diff_ends_with(src, tail);
		free(tail);
		return ok;
	}
	if (m->home) {
		tail = kr_xasprintf("/%s", m->src);
		ok = kr_diff_ends_with(src, tail) || path_eq(src, m->src);
		free(tail);
		return ok;
	}
	if (m->src[0] == '/' || !m->src[0])
		return !m->src[0] || path_eq(src, m->src);
	/* a named volume: the driver may give its name or its path */
	if (strcmp(src, m->src) == 0)
		return true;
	tail = kr_xasprintf("/volumes/%s/_data", m->src);
	ok = kr_diff_ends_with(src, tail);
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
void
kr_diff_mounts_before(struct kr_strvec *before, const struct kr_strvec *specs,
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

void
kr_diff_mounts_extra(struct kr_strvec *before,
	const struct kr_obs_container *oc, const bool *used)
{
	size_t j;

	for (j = 0; j < oc->nmounts; j++) {
		const struct kr_obs_mount *om = &oc->mounts[j];

		if (used[j] || !om->type || strcmp(om->type, "bind") != 0)
			continue;
		kr_strvec_push_owned(before,
			kr_xasprintf("%s:%s%s", om->source ? om->source : "",
				om->destination ? om->destination : "",
				om->rw ? "" : ":ro"));
	}
}

/* "[ip:]host:container[/proto]" -> "[ip:]host:container/proto", with the
 * any-address forms (0.0.0.0, ::, empty) dropped. */
static char *
port_norm(const char *p)
{
	const char *slash = strchr(p, '/');
	const char *proto = slash ? slash + 1 : "tcp";
	char *body =
		slash ? kr_xstrndup(p, (size_t)(slash - p)) : kr_xstrdup(p);
	char *last = strrchr(body, ':'), *first, *res;

	if (last && last != body) {
		*last = '\0';
		first = strrchr(body, ':');
		*last = ':';
		if (first) {
			size_t iplen = (size_t)(first - body);

			if (iplen == 0 ||
				(iplen == 7 &&
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

/* Normalised, sorted, without duplicates (IPv4 and IPv6 bindings). */
void
kr_diff_ports_set(struct kr_strvec *out, const struct kr_strvec *in)
{
	struct kr_strvec tmp = { 0 };
	size_t i;

	for (i = 0; i < in->n; i++)
		kr_strvec_push_owned(&tmp, port_norm(in->v[i]));
	if (tmp.n)
		qsort(tmp.v, tmp.n, sizeof(*tmp.v), kr_diff_str_cmp);
	for (i = 0; i < tmp.n; i++)
		if (!out->n || strcmp(out->v[out->n - 1], tmp.v[i]) != 0)
			kr_strvec_push(out, tmp.v[i]);
	kr_strvec_release(&tmp);
}
