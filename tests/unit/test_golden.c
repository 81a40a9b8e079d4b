/*
 * Golden plan tests: every folder under tests/golden/ is one case, with
 *
 *   deploy.yml     the configuration (Kamal's config/deploy.yml)
 *   secrets        its secrets (.kamal/secrets; secrets-common also read)
 *   observed.json  the observed hosts: an array of observed-host objects
 *                  in the store's JSON form (state/observed_json.c)
 *   options        key=value lines: version (required), destination, now
 *                  (RFC 3339), prune=true, image_missing=REF (repeatable),
 *                  image_digest=REF@DIGEST (present, with the registry's
 *                  digest), no_digest_check=true
 *   expected.txt   the plan text, WRITTEN BY HAND and reviewed
 *
 * The runner loads the case through the real loaders (config, secrets,
 * resolver, observed JSON), builds the plan, renders it without color and
 * compares it with expected.txt byte for byte. It never writes
 * expected.txt. It also checks that no secret value of the case reaches the
 * text or the JSON plan.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/diag.h"
#include "common/error.h"
#include "reconciler/diff.h"
#include "reconciler/plan.h"
#include "state/config.h"
#include "state/desired.h"
#include "state/observed.h"
#include "state/secrets.h"

#define GOLDEN_DIR KR_FIXTURES "/../golden"

struct gcase {
	char *name;
	char *dir;
};

static char *
read_file(const char *dir, const char *name, size_t *len)
{
	char *path = kr_xasprintf("%s/%s", dir, name);
	struct kr_buf b = KR_BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f;

	f = fopen(path, "rb");
	free(path);
	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		kr_buf_put(&b, chunk, n);
	fclose(f);
	return kr_buf_detach(&b, len);
}

struct options {
	char *version;
	char *destination;
	time_t now;
	bool prune;
	bool no_digest_check;
	struct kr_image_lookup images[16];
	size_t nimages;
	char *text;
};

static void
options_load(struct options *o, const char *dir)
{
	char *line, *save = NULL;

	memset(o, 0, sizeof(*o));
	o->text = read_file(dir, "options", NULL);
	if (!o->text)
		fail_msg("%s: no 'options' file", dir);
	for (line = strtok_r(o->text, "\n", &save); line;
		line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (line[0] == '#' || !eq)
			continue;
		*eq = '\0';
		if (strcmp(line, "version") == 0) {
			o->version = eq + 1;
		} else if (strcmp(line, "destination") == 0) {
			o->destination = eq + 1;
		} else if (strcmp(line, "now") == 0) {
			if (kr_obs_time_parse(&o->now, eq + 1) != 0)
				fail_msg("%s: options: bad time '%s'", dir,
					eq + 1);
		} else if (strcmp(line, "prune") == 0) {
			o->prune = strcmp(eq + 1, "true") == 0;
		} else if (strcmp(line, "image_digest") == 0) {
			/* REF@DIGEST: present, with the registry's digest */
			char *at = strrchr(eq + 1, '@');

			assert_non_null(at);
			assert_true(o->nimages < 16);
			*at = '\0';
			o->images[o->nimages].ref = eq + 1;
			o->images[o->nimages].digest = at + 1;
			o->images[o->nimages++].avail = KR_IMAGE_PRESENT;
		} else if (strcmp(line, "no_digest_check") == 0) {
			o->no_digest_check = strcmp(eq + 1, "true") == 0;
		} else if (strcmp(line, "image_missing") == 0 ||
			   strcmp(line, "image_present") == 0) {
			assert_true(o->nimages < 16);
			o->images[o->nimages].ref = eq + 1;
			o->images[o->nimages++].avail =
				line[6] == 'm' ? KR_IMAGE_MISSING :
						 KR_IMAGE_PRESENT;
		} else {
			fail_msg("%s: options: unknown key '%s'", dir, line);
		}
	}
	if (!o->version)
		fail_msg("%s: options: no version", dir);
}

static void
fail_diags(const char *what, const struct kr_diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		char *s = kr_diag_format(&d->v[i]);

		print_error("%s\n", s);
		free(s);
	}
	fail_msg("%s failed: %s", what, kr_error_last());
}

static struct kr_desired *
load_desired(
	const char *dir, const struct options *o, struct kr_kvlist *secrets)
{
	struct kr_config_load_opts copts = { .destination = o->destination };
	struct kr_secrets_opts sopts = { .command_timeout = 5 };
	struct kr_resolve_opts ropts = {
		.version = o->version,
		.version_source = "--app-version",
		.base_dir = dir,
	};
	struct kr_diags diags = { 0 };
	struct kr_config *c = NULL;
	struct kr_desired *d = NULL;
	char *file = kr_xasprintf("%s/deploy.yml", dir);

	if (kr_config_load(&c, &diags, file, &copts) != 0)
		fail_diags(file, &diags);
	if (kr_secrets_load(secrets, &diags, dir, o->destination, &sopts) != 0)
		fail_diags("secrets", &diags);
	if (kr_desired_resolve(&d, &diags, c, secrets, &ropts) != 0)
		fail_diags("resolve", &diags);
	kr_config_free(c);
	kr_diags_release(&diags);
	free(file);
	return d;
}

static struct kr_observed_host *
load_observed(const char *dir, size_t *n)
{
	struct kr_observed_host *hosts;
	json_error_t jerr;
	json_t *root, *v;
	char *text, *path;
	size_t i, len;

	*n = 0;
	text = read_file(dir, "observed.json", &len);
	if (!text)
		return kr_xcalloc(1, sizeof(*hosts));
	root = json_loadb(text, len, 0, &jerr);
	free(text);
	if (!root || !json_is_array(root))
		fail_msg("%s/observed.json:%d: %s", dir, jerr.line,
			root ? "not an array of hosts" : jerr.text);
	hosts = kr_xcalloc(json_array_size(root) + 1, sizeof(*hosts));
	json_array_foreach(root, i, v)
	{
		if (kr_observed_host_from_json(&hosts[i], v) != 0) {
			path = kr_xasprintf("%s/observed.json", dir);
			fail_msg("%s: host %zu: %s", path, i, kr_error_last());
		}
		/* the driver fingerprints every snapshot; a file may omit it */
		if (!hosts[i].fingerprint[0])
			kr_observed_host_fingerprint(
				&hosts[i], hosts[i].fingerprint);
		(*n)++;
	}
	json_decref(root);
	return hosts;
}

/* Print expected and actual around the first differing line. */
static void
show_difference(const char *want, const char *got)
{
	size_t line = 1;
	const char *w = want, *g = got;

	while (*w && *w == *g) {
		if (*w == '\n')
			line++;
		w++;
		g++;
	}
	print_error("first difference at line %zu\n--- expected.txt\n%s\n"
		    "--- actual\n%s\n",
		line, want, got);
}

static void
run_case(void **state)
{
	const struct gcase *gc = *state;
	struct kr_kvlist secrets = { 0 };
	struct kr_observed_host *hosts;
	struct kr_diff_opts dopts = { 0 };
	struct kr_buf text = KR_BUF_INIT, json = KR_BUF_INIT;
	struct kr_desired *d;
	struct kr_plan *plan = NULL;
	struct options o;
	char *expected;
	size_t nhosts, i;

	options_load(&o, gc->dir);
	expected = read_file(gc->dir, "expected.txt", NULL);
	if (!expected)
		fail_msg("%s: no expected.txt", gc->dir);
	d = load_desired(gc->dir, &o, &secrets);
	hosts = load_observed(gc->dir, &nhosts);
	dopts.now = o.now;
	dopts.prune = o.prune;
	dopts.images = o.images;
	dopts.nimages = o.nimages;
	dopts.no_digest_check = o.no_digest_check;
	assert_int_equal(kr_diff_build(&plan, d, hosts, nhosts, &dopts), 0);
	assert_int_equal(kr_plan_render_text(&text, plan, 0), 0);
	assert_int_equal(kr_plan_render_json(&json, plan, 0), 0);
	for (i = 0; i < secrets.n; i++) {
		const char *v = secrets.v[i].value;

		if (!v || strlen(v) < 4)
			continue; /* too short to search for honestly */
		if (strstr(text.ptr, v) || strstr(json.ptr, v))
			fail_msg("%s: the value of secret '%s' is in the plan",
				gc->name, secrets.v[i].key);
	}
	if (strcmp(text.ptr, expected) != 0) {
		/* KR_GOLDEN_ACTUAL=DIR: the actual text to DIR/<case>.txt, to
		 * read beside expected.txt (never copied over it unread) */
		const char *dir = getenv("KR_GOLDEN_ACTUAL");

		if (dir && *dir) {
			char *path = kr_xasprintf("%s/%s.txt", dir, gc->name);
			FILE *f = fopen(path, "w");

			if (f) {
				fputs(text.ptr, f);
				fclose(f);
			}
			free(path);
		}
		show_difference(expected, text.ptr);
		fail_msg("%s: plan differs from expected.txt", gc->name);
	}
	free(expected);
	kr_buf_release(&text);
	kr_buf_release(&json);
	kr_plan_free(plan);
	for (i = 0; i < nhosts; i++)
		kr_observed_host_release(&hosts[i]);
	free(hosts);
	kr_desired_free(d);
	kr_kvlist_release(&secrets);
	free(o.text);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct gcase *)a)->name,
		((const struct gcase *)b)->name);
}

int
main(void)
{
	struct CMUnitTest *tests;
	struct gcase *cases = NULL;
	size_t n = 0, alloc = 0, i;
	struct dirent *de;
	DIR *dir;
	int rc;

	dir = opendir(GOLDEN_DIR);
	if (!dir) {
		fprintf(stderr, "cannot open %s: %s\n", GOLDEN_DIR,
			strerror(errno));
		return 1;
	}
	while ((de = readdir(dir))) {
		char *path, *exp;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		path = kr_xasprintf("%s/%s", GOLDEN_DIR, de->d_name);
		exp = kr_xasprintf("%s/expected.txt", path);
		if (stat(exp, &st) != 0) {
			free(path);
			free(exp);
			continue;
		}
		free(exp);
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 16;
			cases = kr_xrealloc(cases, alloc * sizeof(*cases));
		}
		cases[n].name = kr_xstrdup(de->d_name);
		cases[n].dir = path;
		n++;
	}
	closedir(dir);
	if (!n) {
		fprintf(stderr, "no golden cases under %s\n", GOLDEN_DIR);
		return 1;
	}
	qsort(cases, n, sizeof(*cases), name_cmp);
	tests = kr_xcalloc(n, sizeof(*tests));
	for (i = 0; i < n; i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = run_case;
		tests[i].initial_state = &cases[i];
	}
	rc = _cmocka_run_group_tests("golden", tests, n, NULL, NULL);
	for (i = 0; i < n; i++) {
		free(cases[i].name);
		free(cases[i].dir);
	}
	free(cases);
	free(tests);
	return rc;
}
