/*
 * The `docker run` options of a role or accessory (deploy.yml `options`,
 * Kamal's optionize: "--name value" or a bare "--flag") compared with what
 * docker inspect shows of them (kr_obs_container.run_opts, kept by the
 * Docker driver). Each known option has one inspect field and a canonical
 * form both sides are brought to ("256m" and 268435456 both give
 * "268435456"); a HostConfig field the options leave out must hold Docker's
 * default, a Config field (user, workdir, entrypoint, ...) is compared only
 * when the options set it, since the image gives its own. Options not in
 * the table are compared only through the definition hash; docs/diff.md
 * lists them. Pure: no I/O.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "common/error.h"
#include "reconciler/diff_int.h"

enum okind {
	O_NANO, /* "1.5" cpus -> 1500000000 */
	O_BYTES, /* "256m" -> 268435456 (binary units, as docker) */
	O_INT, /* a number */
	O_STR, /* a string as given */
	O_BOOL, /* a bare flag -> true */
	O_SET, /* a repeated option: a set of strings */
	O_CAPS, /* capabilities: upper case, without CAP_ */
	O_DEVICES, /* host[:container][:perms] */
	O_ULIMITS, /* name=soft[:hard] */
	O_KV, /* key=value pairs (sysctl) */
	O_TMPFS, /* path[:options] */
	O_ENTRY, /* one string: Config.Entrypoint's one word */
	O_HTEST, /* health-cmd: Healthcheck.Test = CMD-SHELL cmd */
	O_HNONE, /* no-healthcheck: Healthcheck.Test = NONE */
	O_HDUR, /* a Go duration in a Healthcheck key, in ns */
	O_HINT, /* a number in a Healthcheck key */
};

struct oent {
	const char *name; /* the option, without "--" */
	const char *field; /* the run_opts key */
	enum okind kind;
	bool only_set; /* compared only when the options set it */
	const char *dflt; /* Docker's default, canonical; NULL = "" */
	const char *hkey; /* O_HDUR, O_HINT: key in Healthcheck */
};

static const struct oent table[] = {
	{ "cpus", "HostConfig.NanoCpus", O_NANO, false, NULL, NULL },
	{ "cpu-shares", "HostConfig.CpuShares", O_INT, false, NULL, NULL },
	{ "cpu-period", "HostConfig.CpuPeriod", O_INT, false, NULL, NULL },
	{ "cpu-quota", "HostConfig.CpuQuota", O_INT, false, NULL, NULL },
	{ "cpuset-cpus", "HostConfig.CpusetCpus", O_STR, false, NULL, NULL },
	{ "cpuset-mems", "HostConfig.CpusetMems", O_STR, false, NULL, NULL },
	{ "memory", "HostConfig.Memory", O_BYTES, false, NULL, NULL },
	/* with --memory alone Docker sets twice the memory */
	{ "memory-swap", "HostConfig.MemorySwap", O_BYTES, true, NULL, NULL },
	{ "memory-reservation", "HostConfig.MemoryReservation", O_BYTES, false,
		NULL, NULL },
	{ "shm-size", "HostConfig.ShmSize", O_BYTES, false, "67108864", NULL },
	{ "add-host", "HostConfig.ExtraHosts", O_SET, false, NULL, NULL },
	{ "cap-add", "HostConfig.CapAdd", O_CAPS, false, NULL, NULL },
	{ "cap-drop", "HostConfig.CapDrop", O_CAPS, false, NULL, NULL },
	{ "device", "HostConfig.Devices", O_DEVICES, false, NULL, NULL },
	{ "device-cgroup-rule", "HostConfig.DeviceCgroupRules", O_SET, false,
		NULL, NULL },
	{ "ulimit", "HostConfig.Ulimits", O_ULIMITS, false, NULL, NULL },
	{ "init", "HostConfig.Init", O_BOOL, false, NULL, NULL },
	{ "privileged", "HostConfig.Privileged", O_BOOL, false, NULL, NULL },
	{ "read-only", "HostConfig.ReadonlyRootfs", O_BOOL, false, NULL, NULL },
	{ "oom-kill-disable", "HostConfig.OomKillDisable", O_BOOL, false, NULL,
		NULL },
	{ "oom-score-adj", "HostConfig.OomScoreAdj", O_INT, false, NULL, NULL },
	/* unlimited: 0, -1 or null, by the API version */
	{ "pids-limit", "HostConfig.PidsLimit", O_INT, false, "-1", NULL },
	{ "blkio-weight", "HostConfig.BlkioWeight", O_INT, false, NULL, NULL },
	{ "security-opt", "HostConfig.SecurityOpt", O_SET, false, NULL, NULL },
	{ "sysctl", "HostConfig.Sysctls", O_KV, false, NULL, NULL },
	{ "tmpfs", "HostConfig.Tmpfs", O_TMPFS, false, NULL, NULL },
	{ "dns", "HostConfig.Dns", O_SET, false, NULL, NULL },
	{ "dns-search", "HostConfig.DnsSearch", O_SET, false, NULL, NULL },
	{ "dns-option", "HostConfig.DnsOptions", O_SET, false, NULL, NULL },
	{ "group-add", "HostConfig.GroupAdd", O_SET, false, NULL, NULL },
	/* the daemon's own defaults can differ: compared when set */
	{ "pid", "HostConfig.PidMode", O_STR, true, NULL, NULL },
	{ "ipc", "HostConfig.IpcMode", O_STR, true, NULL, NULL },
	{ "uts", "HostConfig.UTSMode", O_STR, true, NULL, NULL },
	{ "userns", "HostConfig.UsernsMode", O_STR, true, NULL, NULL },
	{ "runtime", "HostConfig.Runtime", O_STR, true, NULL, NULL },
	/* the image sets these too: compared when set */
	{ "user", "Config.User", O_STR, true, NULL, NULL },
	{ "workdir", "Config.WorkingDir", O_STR, true, NULL, NULL },
	{ "entrypoint", "Config.Entrypoint", O_ENTRY, true, NULL, NULL },
	{ "stop-signal", "Config.StopSignal", O_STR, true, NULL, NULL },
	{ "stop-timeout", "Config.StopTimeout", O_INT, true, NULL, NULL },
	{ "domainname", "Config.Domainname", O_STR, true, NULL, NULL },
	{ "tty", "Config.Tty", O_BOOL, true, NULL, NULL },
	{ "interactive", "Config.OpenStdin", O_BOOL, true, NULL, NULL },
	{ "health-cmd", "Config.Healthcheck", O_HTEST, true, NULL, NULL },
	{ "no-healthcheck", "Config.Healthcheck", O_HNONE, true, NULL, NULL },
	{ "health-interval", "Config.Healthcheck", O_HDUR, true, NULL,
		"Interval" },
	{ "health-timeout", "Config.Healthcheck", O_HDUR, true, NULL,
		"Timeout" },
	{ "health-start-period", "Config.Healthcheck", O_HDUR, true, NULL,
		"StartPeriod" },
	{ "health-retries", "Config.Healthcheck", O_HINT, true, NULL,
		"Retries" },
};

#define NTABLE (sizeof(table) / sizeof(table[0]))

static const struct oent *
lookup(const char *name)
{
	size_t i;

	for (i = 0; i < NTABLE; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

/* ------------------------------------------------- value conversions */

/* "1.5" with up to 9 decimals -> 1500000000; false when not a number. */
static bool
parse_nano(long long *out, const char *s)
{
	long long whole = 0, frac = 0;
	int digits = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p) && *p != '.')
		return false;
	for (; isdigit((unsigned char)*p); p++)
		whole = whole * 10 + (*p - '0');
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			if (digits < 9) {
				frac = frac * 10 + (*p - '0');
				digits++;
			}
	if (*p)
		return false;
	while (digits++ < 9)
		frac *= 10;
	*out = whole * 1000000000LL + frac;
	return true;
}

/* docker's RAMInBytes: "512", "512m", "1.5g", "64MB", "2KiB". */
static bool
parse_bytes(long long *out, const char *s)
{
	char *end;
	double v = strtod(s, &end);
	double mult = 1;
	char u;

	if (end == s || v < 0)
		return false;
	while (*end == ' ')
		end++;
	u = (char)tolower((unsigned char)*end);
	if (u && strchr("kmgtp", u)) {
		const char *units = "kmgtp";

		for (const char *q = units; *q; q++) {
			mult *= 1024;
			if (*q == u)
				break;
		}
		end++;
		if (tolower((unsigned char)*end) == 'i')
			end++;
	}
	if (tolower((unsigned char)*end) == 'b')
		end++;
	if (*end)
		return false;
	*out = (long long)(v * mult);
	return true;
}

/* A Go duration ("30s", "1m30s", "500ms", "2h") in nanoseconds. */
static bool
parse_duration(long long *out, const char *s)
{
	static const struct {
		const char *u;
		double ns;
	} units[] = { { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
		{ "m", 60e9 }, { "h", 3600e9 } };
	double total = 0;
	const char *p = s;

	if (strcmp(s, "0") == 0) {
		*out = 0;
		return true;
	}
	while (*p) {
		char *end;
		double v = strtod(p, &end);
		size_t i, best = 0, bestlen = 0;

		if (end == p)
			return false;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].u);

			if (strncmp(end, units[i].u, l) == 0 && l > bestlen) {
				best = i;
				bestlen = l;
			}
		}
		if (!bestlen)
			return false;
		total += v * units[best].ns;
		p = end + bestlen;
	}
	*out = (long long)total;
	return true;
}

static char *
lld(long long v)
{
	return kr_xasprintf("%lld", v);
}

/* One desired value in canonical form; NULL for "unset". */
static char *
canon_desired(const struct oent *e, const char *v)
{
	long long n;
	const char *c1, *c2;
	char *s;

	switch (e->kind) {
	case O_NANO:
		return parse_nano(&n, v) ? lld(n) : kr_xstrdup(v);
	case O_BYTES:
		if (strcmp(v, "-1") == 0)
			return kr_xstrdup("-1");
		return parse_bytes(&n, v) ? lld(n) : kr_xstrdup(v);
	case O_HDUR:
		return parse_duration(&n, v) ? lld(n) : kr_xstrdup(v);
	case O_BOOL:
		return kr_xstrdup("true");
	case O_HNONE:
		return kr_xstrdup("NONE");
	case O_HTEST:
		return kr_xasprintf("CMD-SHELL %s", v);
	case O_CAPS:
		s = kr_xstrdup(strncasecmp(v, "CAP_", 4) == 0 ? v + 4 : v);
		for (char *p = s; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		return s;
	case O_DEVICES:
		c1 = strchr(v, ':');
		c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c1)
			return kr_xasprintf("%s:%s:rwm", v, v);
		if (!c2 && strspn(c1 + 1, "rwm") == strlen(c1 + 1))
			return kr_xasprintf("%.*s:%.*s:%s", (int)(c1 - v), v,
				(int)(c1 - v), v, c1 + 1);
		if (!c2)
			return kr_xasprintf("%s:rwm", v);
		return kr_xstrdup(v);
	case O_ULIMITS:
		c1 = strchr(v, '=');
		if (c1 && !strchr(c1, ':'))
			return kr_xasprintf("%s:%s", v, c1 + 1);
		return kr_xstrdup(v);
	case O_TMPFS:
		return strchr(v, ':') ? kr_xstrdup(v) : kr_xasprintf("%s:", v);
	case O_INT:
	case O_HINT:
	case O_STR:
	case O_SET:
	case O_KV:
	case O_ENTRY:
		break;
	}
	return kr_xstrdup(v);
}

/* A JSON string's value, "" for anything else. */
static const char *
jstr(const json_t *j)
{
	const char *s = json_string_value(j);

	return s ? s : "";
}

static char *
json_scalar(const json_t *j)
{
	if (json_is_string(j))
		return kr_xstrdup(json_string_value(j));
	if (json_is_integer(j))
		return lld((long long)json_integer_value(j));
	if (json_is_true(j))
		return kr_xstrdup("true");
	if (json_is_false(j))
		return kr_xstrdup("false");
	return NULL;
}

/* The observed field in canonical form, appended to out (a set, or one). */
static void
canon_observed(struct kr_strvec *out, const struct oent *e, const json_t *j)
{
	const json_t *v;
	const char *k;
	size_t i;

	if (e->kind == O_HTEST || e->kind == O_HNONE) {
		struct kr_buf b = KR_BUF_INIT;

		json_array_foreach(json_object_get(j, "Test"), i,
			v) kr_buf_printf(&b, "%s%s", i ? " " : "",
			json_string_value(v) ? json_string_value(v) : "");
		if (b.len)
			kr_strvec_push(out, b.ptr);
		kr_buf_release(&b);
		return;
	}
	if (e->kind == O_HDUR || e->kind == O_HINT)
		j = json_object_get(j, e->hkey);
	if (json_is_array(j)) {
		struct kr_buf b = KR_BUF_INIT;

		json_array_foreach(j, i, v)
		{
			char *s = NULL;

			if (e->kind == O_DEVICES)
				s = kr_xasprintf("%s:%s:%s",
					jstr(json_object_get(v, "PathOnHost")),
					jstr(json_object_get(
						v, "PathInContainer")),
					jstr(json_object_get(
						v, "CgroupPermissions")));
			else if (e->kind == O_ULIMITS)
				s = kr_xasprintf("%s=%lld:%lld",
					jstr(json_object_get(v, "Name")),
					(long long)json_integer_value(
						json_object_get(v, "Soft")),
					(long long)json_integer_value(
						json_object_get(v, "Hard")));
			else if (e->kind == O_ENTRY)
				kr_buf_printf(
					&b, "%s%s", i ? " " : "", jstr(v));
			else
				s = canon_desired(e, jstr(v));
			if (s)
				kr_strvec_push_owned(out, s);
		}
		if (e->kind == O_ENTRY)
			kr_strvec_push(out, b.ptr);
		kr_buf_release(&b);
		return;
	}
	if (json_is_object(j)) {
		json_object_foreach((json_t *)j, k, v) kr_strvec_push_owned(out,
			kr_xasprintf(e->kind == O_TMPFS ? "%s:%s" : "%s=%s", k,
				jstr(v)));
		return;
	}
	{
		char *s = json_scalar(j);

		if (s)
			kr_strvec_push_owned(out, s);
	}
}

static bool
is_set_kind(enum okind k)
{
	return k == O_SET || k == O_CAPS || k == O_DEVICES || k == O_ULIMITS ||
	       k == O_KV || k == O_TMPFS;
}

/* Drop Docker's defaults ("", 0, false, the entry's dflt); sort sets. */
static void
canon_finish(struct kr_strvec *sv, const struct oent *e)
{
	struct kr_strvec keep = { 0 };
	size_t i;

	for (i = 0; i < sv->n; i++) {
		const char *s = sv->v[i];

		if (!*s ||
			(!e->only_set && (strcmp(s, "0") == 0 ||
						 strcmp(s, "false") == 0)) ||
			(e->dflt && strcmp(s, e->dflt) == 0))
			continue;
		if (!kr_strvec_contains(&keep, s))
			kr_strvec_push(&keep, s);
	}
	if (is_set_kind(e->kind) && keep.n > 1)
		qsort(keep.v, keep.n, sizeof(*keep.v), kr_diff_str_cmp);
	kr_strvec_release(sv);
	*sv = keep;
}

/* ------------------------------------------------------ the args */

/* Options Kamal passes without a value (a `true` in deploy.yml). */
static bool
takes_value(const struct oent *e, const char *next)
{
	if (e)
		return e->kind != O_BOOL && e->kind != O_HNONE;
	return next && next[0] != '-';
}

/*
 * The args as (option, values) for the table's options: `vals[i]` gets
 * every value given to table[i], `set[i]` whether it was given at all.
 * The ports given with --publish go to `publish`.
 */
static void
args_split(struct kr_strvec *vals, bool *set, struct kr_strvec *publish,
	const struct kr_strvec *args)
{
	size_t i;

	for (i = 0; i < args->n; i++) {
		const char *w = args->v[i], *name, *eq;
		const char *next = i + 1 < args->n ? args->v[i + 1] : NULL;
		const struct oent *e;
		char *nm;
		const char *val = NULL;

		if (strncmp(w, "--", 2) != 0)
			continue;
		name = w + 2;
		eq = strchr(name, '=');
		nm = eq ? kr_xstrndup(name, (size_t)(eq - name)) :
			  kr_xstrdup(name);
		e = lookup(nm);
		if (eq)
			val = eq + 1;
		else if (takes_value(e, next) && next) {
			val = next;
			i++;
		}
		if (strcmp(nm, "publish") == 0 && val)
			kr_strvec_push(publish, val);
		if (e) {
			size_t k = (size_t)(e - table);

			set[k] = true;
			kr_strvec_push(&vals[k], val ? val : "");
		}
		free(nm);
	}
}

void
kr_diff_options_publish(struct kr_strvec *out, const struct kr_strvec *args)
{
	struct kr_strvec vals[NTABLE];
	bool set[NTABLE];
	size_t i;

	memset(vals, 0, sizeof(vals));
	memset(set, 0, sizeof(set));
	args_split(vals, set, out, args);
	for (i = 0; i < NTABLE; i++)
		kr_strvec_release(&vals[i]);
}

void
kr_diff_options_attrs(struct kr_change *c, const struct kr_strvec *args,
	const struct kr_obs_container *oc, struct kr_strvec *phrases)
{
	struct kr_strvec vals[NTABLE], publish = { 0 }, changed = { 0 };
	bool set[NTABLE];
	size_t i, j;

	memset(vals, 0, sizeof(vals));
	memset(set, 0, sizeof(set));
	args_split(vals, set, &publish, args);
	for (i = 0; i < NTABLE; i++) {
		const struct oent *e = &table[i];
		struct kr_strvec want = { 0 }, have = { 0 };
		const char *js =
			oc ? kr_kvlist_get(&oc->run_opts, e->field) : NULL;
		json_t *jv = js ? json_loads(js, JSON_DECODE_ANY, NULL) : NULL;
		char *name = kr_xasprintf("options.%s", e->name);
		struct kr_attr *a;

		if (e->only_set && !set[i])
			goto next;
		for (j = 0; j < vals[i].n; j++)
			kr_strvec_push_owned(
				&want, canon_desired(e, vals[i].v[j]));
		if (!is_set_kind(e->kind) && want.n > 1) {
			/* the last one wins, as in docker's flag parsing */
			char *last = kr_xstrdup(want.v[want.n - 1]);

			kr_strvec_release(&want);
			kr_strvec_push_owned(&want, last);
		}
		if (jv)
			canon_observed(&have, e, jv);
		canon_finish(&want, e);
		canon_finish(&have, e);
		if (!want.n && !have.n)
			goto next;
		a = kr_change_attr_list(c, name, oc ? &have : NULL, &want);
		a->flags |= KR_ATTR_FORCES;
		if (oc && a->changed)
			kr_strvec_push(&changed, e->name);
	next:
		json_decref(jv);
		free(name);
		kr_strvec_release(&want);
		kr_strvec_release(&have);
		kr_strvec_release(&vals[i]);
	}
	if (changed.n) {
		struct kr_buf b = KR_BUF_INIT;

		kr_buf_puts(&b, "options changed: ");
		kr_diff_put_key_list(&b, &changed);
		kr_strvec_push_owned(phrases, kr_buf_detach(&b, NULL));
	}
	kr_strvec_release(&changed);
	kr_strvec_release(&publish);
}
