/*
 * Unit tests of the diff engine (reconciler/diff.c): each kind of change and
 * reason, the dependency order, purity, and that no secret value reaches a
 * plan. Models are built in C (diff_fixture.h); tests/golden holds the same
 * cases as files with hand-written expected plans.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "diff_fixture.h"
#include "reconciler/diff.h"
#include "reconciler/plan.h"

static const char *const web_secrets[] = {
	"DATABASE_URL",
	"postgres://app:hunter2@db/app",
	"SECRET_KEY_BASE",
	"s3cr3t-base-value",
	NULL,
};
static const char *const db_secrets[] = {
	"POSTGRES_PASSWORD",
	"pg-secret-pw",
	NULL,
};
static const char *const all_secret_values[] = {
	"hunter2",
	"s3cr3t-base-value",
	"pg-secret-pw",
	"registry-password-secret",
	"rotated-secret",
	NULL,
};

/* One host 10.0.0.1: roles web and worker, accessory db. */
struct world {
	struct kr_desired *d;
	struct kr_observed_host *oh;
	size_t noh;
	struct kr_plan *plan;
	struct kr_diff_opts opts;
};

static void
world_desired(struct world *w, const char *version)
{
	struct kr_host *h;

	w->d = fx_desired(version);
	h = fx_host(w->d, "10.0.0.1");
	fx_accessory(w->d, h, "db", "postgres:16", db_secrets);
	fx_app(w->d, h, "web", web_secrets);
	fx_app(w->d, h, "worker", web_secrets);
	fx_app_set_cmd(&h->apps[1], "bin/jobs");
	free(h->apps[1].env_file.path);
	h->apps[1].env_file.path =
		kr_xstrdup(".kamal/apps/app/env/roles/worker.env");
	w->opts.now = FX_NOW;
}

/* The host as deployed from `src` (a desired model of the same shape). */
static void
world_observe(struct world *w, const struct kr_desired *src, bool defhash)
{
	const struct kr_host *h = &src->hosts[0];
	size_t i;

	w->oh = fx_observed(1);
	w->noh = 1;
	fx_obs_init(&w->oh[0], "10.0.0.1");
	for (i = 0; i < h->naccessories; i++) {
		fx_obs_accessory(
			&w->oh[0], &h->accessories[i], defhash, FX_NOW - 86400);
		fx_obs_env(&w->oh[0], &h->accessories[i].env_file);
		fx_obs_file(&w->oh[0], "app-db/data", NULL, NULL);
	}
	for (i = 0; i < h->napps; i++) {
		fx_obs_app(&w->oh[0], &h->apps[i], defhash, FX_NOW - 3600);
		fx_obs_env(&w->oh[0], &h->apps[i].env_file);
	}
	/* as Kamal leaves it: kamal-proxy routing to the proxied role */
	for (i = 0; i < h->napps; i++)
		if (h->apps[i].proxy) {
			char *route = kr_xasprintf(
				"%s-%s", src->service, h->apps[i].role);
			char *target = kr_xasprintf("%.12s:80",
				w->oh[0].containers[h->naccessories + i].id);

			fx_obs_proxy(&w->oh[0], route, target);
			free(route);
			free(target);
			break;
		}
}

static int
teardown(void **state)
{
	struct world *w = *state;

	kr_plan_free(w->plan);
	fx_observed_free(w->oh, w->noh);
	fx_desired_free(w->d);
	free(w);
	return 0;
}

static int
setup(void **state)
{
	*state = kr_xcalloc(1, sizeof(struct world));
	return 0;
}

static void
build(struct world *w)
{
	kr_plan_free(w->plan);
	w->plan = NULL;
	assert_int_equal(
		kr_diff_build(&w->plan, w->d, w->oh, w->noh, &w->opts), 0);
	assert_non_null(w->plan);
}

static const struct kr_change *
change(const struct world *w, const char *address)
{
	size_t i;

	for (i = 0; i < w->plan->nchanges; i++)
		if (strcmp(w->plan->changes[i].address, address) == 0)
			return &w->plan->changes[i];
	fail_msg("no change '%s' in the plan", address);
	return NULL;
}

static bool
has_change(const struct world *w, const char *address)
{
	size_t i;

	for (i = 0; i < w->plan->nchanges; i++)
		if (strcmp(w->plan->changes[i].address, address) == 0)
			return true;
	return false;
}

static const struct kr_attr *
attr(const struct kr_change *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nattrs; i++)
		if (strcmp(c->attrs[i].name, name) == 0)
			return &c->attrs[i];
	return NULL;
}

static void
assert_change(const struct world *w, const char *address, enum kr_action action,
	enum kr_change_status status, const char *reason)
{
	const struct kr_change *c = change(w, address);

	if (c->action != action || c->status != status)
		fail_msg("%s: action %s status %d, want %s status %d (reason: "
			 "%s)",
			address, kr_action_name(c->action), c->status,
			kr_action_name(action), status,
			c->reason ? c->reason : "none");
	if (reason)
		assert_string_equal(c->reason, reason);
}

/* Every secret value is absent from the text and the JSON of the plan. */
static void
assert_no_secrets(const struct world *w)
{
	struct kr_buf text = KR_BUF_INIT, json = KR_BUF_INIT;
	size_t i;

	assert_int_equal(kr_plan_render_text(&text, w->plan, 0), 0);
	assert_int_equal(kr_plan_render_json(&json, w->plan, 0), 0);
	for (i = 0; all_secret_values[i]; i++) {
		if (strstr(text.ptr, all_secret_values[i]))
			fail_msg("secret '%s' in text plan",
				all_secret_values[i]);
		if (strstr(json.ptr, all_secret_values[i]))
			fail_msg("secret '%s' in json plan",
				all_secret_values[i]);
	}
	kr_buf_release(&text);
	kr_buf_release(&json);
}

static size_t
index_of(const struct world *w, const char *address)
{
	return (size_t)(change(w, address) - w->plan->changes);
}

/* ---------------------------------------------------------------- tests */

static void
test_fresh_host(void **state)
{
	struct world *w = *state;

	world_desired(w, FX_V1);
	w->oh = fx_observed(1);
	w->noh = 1;
	fx_obs_init(&w->oh[0], "10.0.0.1");
	kr_strvec_release(&w->oh[0].networks);
	kr_strvec_push(&w->oh[0].networks, "bridge");
	build(w);
	assert_change(w, "10.0.0.1/network/kamal", KR_ACTION_CREATE,
		KR_STATUS_PLANNED, "network 'kamal' does not exist");
	assert_change(w, "10.0.0.1/login/ghcr.io", KR_ACTION_RUN,
		KR_STATUS_PLANNED, NULL);
	assert_change(w, "10.0.0.1/env/accessories/db", KR_ACTION_CREATE,
		KR_STATUS_PLANNED, "env file does not exist on the host");
	assert_change(w, "10.0.0.1/env/roles/web", KR_ACTION_CREATE,
		KR_STATUS_PLANNED, NULL);
	assert_change(w, "10.0.0.1/accessory/db", KR_ACTION_CREATE,
		KR_STATUS_PLANNED, "no container 'app-db' on this host");
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_CREATE,
		KR_STATUS_PLANNED, "no container for role 'web' on this host");
	assert_change(w, "10.0.0.1/app/worker", KR_ACTION_CREATE,
		KR_STATUS_PLANNED, NULL);
	/* dependency order */
	assert_true(index_of(w, "10.0.0.1/network/kamal") <
		    index_of(w, "10.0.0.1/login/ghcr.io"));
	assert_true(index_of(w, "10.0.0.1/login/ghcr.io") <
		    index_of(w, "10.0.0.1/env/roles/web"));
	assert_true(index_of(w, "10.0.0.1/env/roles/worker") <
		    index_of(w, "10.0.0.1/accessory/db"));
	assert_true(index_of(w, "10.0.0.1/accessory/db") <
		    index_of(w, "10.0.0.1/app/web"));
	/* what apply needs */
	assert_ptr_equal(
		change(w, "10.0.0.1/app/web")->app, &w->d->hosts[0].apps[0]);
	assert_string_equal(
		change(w, "10.0.0.1/app/web")->image, FX_IMAGE ":" FX_V1);
	assert_int_equal(strlen(change(w, "10.0.0.1/app/web")->defhash), 64);
	assert_true(kr_plan_has_changes(w->plan));
	assert_no_secrets(w);
}

static void
test_no_change_labelled(void **state)
{
	struct world *w = *state;
	size_t i;

	world_desired(w, FX_V1);
	world_observe(w, w->d, true);
	build(w);
	for (i = 0; i < w->plan->nchanges; i++)
		if (w->plan->changes[i].status != KR_STATUS_UNCHANGED)
			fail_msg("%s: %s (%s)", w->plan->changes[i].address,
				kr_action_name(w->plan->changes[i].action),
				w->plan->changes[i].reason);
	assert_false(kr_plan_has_changes(w->plan));
	/* net, proxy, 3 env, db, web, worker, route */
	assert_int_equal(w->plan->nchanges, 9);
}

static void
test_no_change_kamal_made(void **state)
{
	struct world *w = *state;
	size_t i;

	world_desired(w, FX_V1);
	world_observe(w, w->d, false);
	/* Docker shows more than Kamal set: both ports bindings, extra log opts
	 */
	kr_strvec_push(&w->oh[0].containers[0].ports, ":::5432:5432/tcp");
	kr_strvec_release(&w->oh[0].containers[0].ports);
	kr_strvec_push(
		&w->oh[0].containers[0].ports, "127.0.0.1:5432:5432/tcp");
	build(w);
	for (i = 0; i < w->plan->nchanges; i++)
		if (w->plan->changes[i].status != KR_STATUS_UNCHANGED)
			fail_msg("%s: %s (%s)", w->plan->changes[i].address,
				kr_action_name(w->plan->changes[i].action),
				w->plan->changes[i].reason);
}

static void
test_kamal_asset_volume(void **state)
{
	struct world *w = *state;
	struct kr_app *web;

	world_desired(w, FX_V1);
	web = &w->d->hosts[0].apps[0];
	kr_strvec_push(&web->volumes, "$PWD/.kamal/apps/app/assets/volumes/"
				      "web-v1:/rails/public/assets");
	world_observe(w, w->d, false);
	/* the remote shell expanded $PWD to the SSH user's home */
	fx_obs_mount(&w->oh[0].containers[1], "bind",
		"/home/deploy/.kamal/apps/app/assets/volumes/web-v1",
		"/rails/public/assets", true);
	build(w);
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_NOOP,
		KR_STATUS_UNCHANGED, NULL);
	/* a bind mount the configuration does not name is a difference */
	fx_obs_mount(
		&w->oh[0].containers[1], "bind", "/srv/extra", "/extra", false);
	build(w);
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_REPLACE,
		KR_STATUS_PLANNED, "volumes changed");
}

static void
test_kamal_made_field_changes(void **state)
{
	struct world *w = *state;
	struct kr_obs_container *web, *worker;

	world_desired(w, FX_V1);
	world_observe(w, w->d, false);
	web = &w->oh[0].containers[1];
	worker = &w->oh[0].containers[2];
	kr_kvlist_set(&web->env, "RAILS_ENV", "staging");
	kr_kvlist_set(&web->labels, "role", "web");
	free(worker->cmd);
	worker->cmd = kr_xstrdup("bin/jobs --old");
	build(w);
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_REPLACE,
		KR_STATUS_PLANNED, "clear env changed: RAILS_ENV");
	assert_change(w, "10.0.0.1/app/worker", KR_ACTION_REPLACE,
		KR_STATUS_PLANNED, "cmd changed");
	assert_string_equal(
		attr(change(w, "10.0.0.1/app/web"), "env.RAILS_ENV")->before,
		"staging");
	/* the old container stops once the new one is healthy */
	assert_int_equal(change(w, "10.0.0.1/app/web")->containers.n, 1);
	assert_string_equal(
		change(w, "10.0.0.1/app/web")->containers.v[0], web->id);
}

static void
test_kamal_made_volume_removed(void **state)
{
	struct world *w = *state;

	world_desired(w, FX_V1);
	world_observe(w, w->d, false);
	kr_strvec_release(&w->d->hosts[0].apps[0].volumes);
	build(w);
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_REPLACE,
		KR_STATUS_PLANNED, "volumes changed");
	assert_change(w, "10.0.0.1/app/worker", KR_ACTION_NOOP,
		KR_STATUS_UNCHANGED, NULL);
}

static void
test_version_change(void **state)
{
	struct world *w = *state;
	struct world tmp = { 0 };
	struct kr_desired *old;

	world_desired(w, FX_V2);
	world_desired(&tmp, FX_V1);
	old = tmp.d;
	world_observe(w, old, true);
	build(w);
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_REPLACE,
		KR_STATUS_PLANNED, "version 1a2b3c4 → 3f4e5d6");
	assert_change(w, "10.0.0.1/app/worker", KR_ACTION_REPLACE,
		KR_STATUS_PLANNED, "version 1a2b3c4 → 3f4e5d6");
	assert_change(w, "10.0.0.1/accessory/db", KR_ACTION_NOOP,
		KR_STATUS_UNCHANGED, NULL);
	assert_change(w, "10.0.0.1/env/roles/web", KR_ACTION_NOOP,
		KR_STATUS_UNCHANGED, NULL);
	assert_change(w, "10.0.0.1/login/ghcr.io", KR_ACTION_RUN,
		KR_STATUS_PLANNED, "to pull " FX_IMAGE ":" FX_V2);
	assert_true(attr(change(w, "10.0.0.1/app/web"), "image")->changed);
	fx_desired_free(old);
}

static void
test_env_value_change(void **state)
{
	struct world *w = *state;
	struct world tmp = { 0 };
	static const char *const rotated[] = {
		"DATABASE_URL",
		"postgres://app:hunter2@db/app",
		"SECRET_KEY_BASE",
		"rotated-secret",
		NULL,
	};
	struct kr_app *web;

	world_desired(&tmp, FX_V1);
	world_desired(w, FX_V1);
	web = &w->d->hosts[0].apps[0];
	fx_env_file_release(&web->env_file);
	memset(&web->env_file, 0, sizeof(web->env_file));
	fx_env_file(
		&web->env_file, ".kamal/apps/app/env/roles/web.env", rotated);
	world_observe(w, tmp.d, true);
	build(w);
	assert_change(w, "10.0.0.1/env/roles/web", KR_ACTION_UPDATE,
		KR_STATUS_PLANNED,
		"env file content changed (keys: DATABASE_URL, "
		"SECRET_KEY_BASE)");
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_REPLACE,
		KR_STATUS_PLANNED,
		"env file content changed (keys: DATABASE_URL, "
		"SECRET_KEY_BASE)");
	/* same version: the new container has the same image */
	assert_string_equal(
		change(w, "10.0.0.1/app/web")->image, FX_IMAGE ":" FX_V1);
	assert_change(w, "10.0.0.1/app/worker", KR_ACTION_NOOP,
		KR_STATUS_UNCHANGED, NULL);
	assert_true(
		attr(change(w, "10.0.0.1/env/roles/web"), "content")->changed);
	assert_no_secrets(w);
	fx_desired_free(tmp.d);
}

static void
test_env_file_tampered_labelled(void **state)
{
	struct world *w = *state;

	world_desired(w, FX_V1);
	world_observe(w, w->d, true);
	/* someone edited web.env on the host; the container was started
	 * with the desired content, as its label says */
	memset(w->oh[0].files[2].sha256, 'e', 64);
	assert_string_equal(
		w->oh[0].files[2].path, ".kamal/apps/app/env/roles/web.env");
	build(w);
	assert_change(w, "10.0.0.1/env/roles/web", KR_ACTION_UPDATE,
		KR_STATUS_PLANNED, NULL);
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_NOOP,
		KR_STATUS_UNCHANGED, NULL);
	/* the same on a Kamal-made container: the file is all we know */
	fx_observed_free(w->oh, w->noh);
	world_observe(w, w->d, false);
	memset(w->oh[0].files[2].sha256, 'e', 64);
	build(w);
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_REPLACE,
		KR_STATUS_PLANNED, NULL);
}

static void
test_env_key_added_kamal_made(void **state)
{
	struct world *w = *state;
	struct world tmp = { 0 };
	static const char *const more[] = {
		"DATABASE_URL",
		"postgres://app:hunter2@db/app",
		"SECRET_KEY_BASE",
		"s3cr3t-base-value",
		"SMTP_PASSWORD",
		"rotated-secret",
		NULL,
	};
	struct kr_app *worker;

	world_desired(&tmp, FX_V1);
	world_desired(w, FX_V1);
	worker = &w->d->hosts[0].apps[1];
	fx_env_file_release(&worker->env_file);
	memset(&worker->env_file, 0, sizeof(worker->env_file));
	fx_env_file(&worker->env_file, ".kamal/apps/app/env/roles/worker.env",
		more);
	world_observe(w, tmp.d, false);
	build(w);
	assert_change(w, "10.0.0.1/env/roles/worker", KR_ACTION_UPDATE,
		KR_STATUS_PLANNED, "env file differs: SMTP_PASSWORD added");
	assert_change(w, "10.0.0.1/app/worker", KR_ACTION_REPLACE,
		KR_STATUS_PLANNED, "env file differs: SMTP_PASSWORD added");
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_NOOP,
		KR_STATUS_UNCHANGED, NULL);
	assert_no_secrets(w);
	fx_desired_free(tmp.d);
}

static void
test_accessory_image_change(void **state)
{
	struct world *w = *state;
	struct world tmp = { 0 };

	world_desired(&tmp, FX_V1);
	free(tmp.d->hosts[0].accessories[0].image);
	tmp.d->hosts[0].accessories[0].image = kr_xstrdup("postgres:15");
	world_desired(w, FX_V1);
	world_observe(w, tmp.d, false);
	build(w);
	assert_change(w, "10.0.0.1/accessory/db", KR_ACTION_REPLACE,
		KR_STATUS_PLANNED,
		"image postgres:15 → postgres:16 forces replacement");
	assert_true(attr(change(w, "10.0.0.1/accessory/db"), "image")->flags &
		    KR_ATTR_FORCES);
	assert_string_equal(change(w, "10.0.0.1/accessory/db")->containers.v[0],
		"id-app-db");
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_NOOP,
		KR_STATUS_UNCHANGED, NULL);
	/* postgres comes from Docker Hub: no ghcr.io login needed */
	assert_false(has_change(w, "10.0.0.1/login/ghcr.io"));
	fx_desired_free(tmp.d);
}

static void
test_accessory_labelled_hash_change(void **state)
{
	struct world *w = *state;
	struct world tmp = { 0 };

	world_desired(&tmp, FX_V1);
	kr_strvec_push(&tmp.d->hosts[0].accessories[0].args, "--shm-size=1g");
	world_desired(w, FX_V1);
	world_observe(w, tmp.d, true);
	build(w);
	/* options are not visible in docker inspect: only the hash tells */
	assert_change(w, "10.0.0.1/accessory/db", KR_ACTION_REPLACE,
		KR_STATUS_PLANNED, NULL);
	assert_non_null(strstr(change(w, "10.0.0.1/accessory/db")->reason,
		"definition changed (kreconcile.defhash "));
	fx_desired_free(tmp.d);
}

static void
test_stopped_accessory(void **state)
{
	struct world *w = *state;
	struct kr_obs_container *db;

	world_desired(w, FX_V1);
	world_observe(w, w->d, true);
	db = &w->oh[0].containers[0];
	free(db->state);
	db->state = kr_xstrdup("exited");
	db->finished = FX_NOW - 120;
	build(w);
	assert_change(w, "10.0.0.1/accessory/db", KR_ACTION_UPDATE,
		KR_STATUS_PLANNED, "container exited 2 minutes ago (drift)");
	assert_string_equal(change(w, "10.0.0.1/accessory/db")->start_container,
		"id-app-db");
	assert_false(has_change(w, "10.0.0.1/login/ghcr.io"));
}

static void
test_exited_app(void **state)
{
	struct world *w = *state;
	struct kr_obs_container *web;

	world_desired(w, FX_V1);
	world_observe(w, w->d, false);
	web = &w->oh[0].containers[1];
	free(web->state);
	web->state = kr_xstrdup("exited");
	web->finished = FX_NOW - 3 * 3600 - 5;
	build(w);
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_UPDATE,
		KR_STATUS_PLANNED, "container exited 3 hours ago (drift)");
	assert_string_equal(
		change(w, "10.0.0.1/app/web")->start_container, web->id);
	/* without a clock, no age */
	w->opts.now = 0;
	build(w);
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_UPDATE,
		KR_STATUS_PLANNED, "container exited (drift)");
}

static void
test_exited_app_old_version(void **state)
{
	struct world *w = *state;
	struct world tmp = { 0 };
	struct kr_obs_container *web;

	world_desired(&tmp, FX_V1);
	world_desired(w, FX_V2);
	world_observe(w, tmp.d, true);
	web = &w->oh[0].containers[1];
	free(web->state);
	web->state = kr_xstrdup("exited");
	web->finished = FX_NOW - 59;
	build(w);
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_REPLACE,
		KR_STATUS_PLANNED,
		"version 1a2b3c4 → 3f4e5d6; container exited "
		"59 seconds ago (drift)");
	/* nothing running to stop */
	assert_int_equal(change(w, "10.0.0.1/app/web")->containers.n, 0);
	fx_desired_free(tmp.d);
}

/* A crash-looping old container is stopped too, not left beside the new one. */
static void
test_restarting_app_old_version(void **state)
{
	struct world *w = *state;
	struct world tmp = { 0 };
	struct kr_obs_container *web;

	world_desired(&tmp, FX_V1);
	world_desired(w, FX_V2);
	world_observe(w, tmp.d, true);
	web = &w->oh[0].containers[1];
	free(web->state);
	web->state = kr_xstrdup("restarting");
	build(w);
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_REPLACE,
		KR_STATUS_PLANNED,
		"version 1a2b3c4 → 3f4e5d6; container is "
		"restarting (drift)");
	assert_int_equal(change(w, "10.0.0.1/app/web")->containers.n, 1);
	assert_string_equal(
		change(w, "10.0.0.1/app/web")->containers.v[0], web->id);
	fx_desired_free(tmp.d);
}

static void
test_newest_running_chosen(void **state)
{
	struct world *w = *state;
	struct world tmp = { 0 };
	struct kr_obs_container *old;

	world_desired(&tmp, FX_V1);
	world_desired(w, FX_V2);
	world_observe(w, w->d, true);
	/* an older version still running beside the new one (killed apply) */
	old = fx_obs_app(
		&w->oh[0], &tmp.d->hosts[0].apps[0], true, FX_NOW - 7200);
	build(w);
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_UPDATE,
		KR_STATUS_PLANNED,
		"1 other container of role 'web' still running (drift)");
	assert_int_equal(change(w, "10.0.0.1/app/web")->containers.n, 1);
	assert_string_equal(
		change(w, "10.0.0.1/app/web")->containers.v[0], old->id);
	assert_null(change(w, "10.0.0.1/app/web")->start_container);
	fx_desired_free(tmp.d);
}

static void
test_removed_role(void **state)
{
	struct world *w = *state;
	struct world tmp = { 0 };
	struct kr_host *h;

	world_desired(&tmp, FX_V1);
	world_desired(w, FX_V1);
	world_observe(w, tmp.d, true);
	/* drop the worker role from the configuration */
	h = &w->d->hosts[0];
	h->napps = 1;
	build(w);
	assert_change(w, "10.0.0.1/app/worker", KR_ACTION_NOOP, KR_STATUS_KEPT,
		"role 'worker' is not in the configuration");
	assert_change(w, "10.0.0.1/env/roles/worker", KR_ACTION_NOOP,
		KR_STATUS_KEPT, "role 'worker' is not in the configuration");
	assert_false(kr_plan_has_changes(w->plan));
	w->opts.prune = true;
	build(w);
	assert_change(w, "10.0.0.1/app/worker", KR_ACTION_DELETE,
		KR_STATUS_PLANNED, "role 'worker' is not in the configuration");
	assert_string_equal(change(w, "10.0.0.1/app/worker")->containers.v[0],
		"id-app-worker-" FX_V1);
	assert_change(w, "10.0.0.1/env/roles/worker", KR_ACTION_DELETE,
		KR_STATUS_PLANNED, NULL);
	assert_true(kr_plan_has_changes(w->plan));
	/* x-kreconcile.prune does the same */
	w->opts.prune = false;
	w->d->prune = true;
	build(w);
	assert_change(w, "10.0.0.1/app/worker", KR_ACTION_DELETE,
		KR_STATUS_PLANNED, NULL);
	h->napps = 2; /* so that teardown frees it */
	fx_desired_free(tmp.d);
}

static void
test_removed_accessory_keeps_data(void **state)
{
	struct world *w = *state;
	struct world tmp = { 0 };

	world_desired(&tmp, FX_V1);
	world_desired(w, FX_V1);
	world_observe(w, tmp.d, true);
	w->d->hosts[0].naccessories = 0;
	w->opts.prune = true;
	build(w);
	assert_change(w, "10.0.0.1/accessory/db", KR_ACTION_DELETE,
		KR_STATUS_PLANNED,
		"accessory 'db' is not in the configuration; "
		"its directories and files are kept");
	w->d->hosts[0].naccessories = 1;
	fx_desired_free(tmp.d);
}

/* The observed web container and its env file (world_observe's). */
static struct kr_obs_container *
obs_web(struct world *w)
{
	size_t i;

	for (i = 0; i < w->oh[0].ncontainers; i++) {
		const char *r =
			kr_kvlist_get(&w->oh[0].containers[i].labels, "role");

		if (r && strcmp(r, "web") == 0)
			return &w->oh[0].containers[i];
	}
	fail_msg("no web container");
	return NULL;
}

static struct kr_obs_file *
obs_file(struct world *w, const char *path)
{
	size_t i;

	for (i = 0; i < w->oh[0].nfiles; i++)
		if (strcmp(w->oh[0].files[i].path, path) == 0)
			return &w->oh[0].files[i];
	fail_msg("no file %s", path);
	return NULL;
}

static bool
reason_has(const struct world *w, const char *address, const char *text)
{
	const struct kr_change *c = change(w, address);

	return c->reason && strstr(c->reason, text);
}

/* Item 7: a tag pushed again is a change, unless --no-digest-check. */
static void
test_digest_changed(void **state)
{
	struct world *w = *state;
	struct kr_image_lookup images[] = {
		{ FX_IMAGE ":" FX_V1, KR_IMAGE_PRESENT, "sha256:bbbb0000" },
	};
	struct kr_obs_container *oc;

	for (int labelled = 0; labelled < 2; labelled++) {
		world_desired(w, FX_V1);
		world_observe(w, w->d, labelled);
		oc = obs_web(w);
		kr_strvec_push(&oc->repo_digests, FX_IMAGE "@sha256:aaaa0000");
		w->opts.images = images;
		w->opts.nimages = 1;
		w->opts.no_digest_check = false;
		build(w);
		assert_change(w, "10.0.0.1/app/web", KR_ACTION_REPLACE,
			KR_STATUS_PLANNED, NULL);
		assert_true(reason_has(w, "10.0.0.1/app/web",
			"image digest changed (sha256:aaaa0000… → "
			"sha256:bbbb0000…"));
		assert_true(change(w, "10.0.0.1/app/web")->repull);
		/* a replace that pulls logs in first */
		assert_true(has_change(w, "10.0.0.1/login/ghcr.io"));
		w->opts.no_digest_check = true;
		build(w);
		assert_change(w, "10.0.0.1/app/web", KR_ACTION_NOOP,
			KR_STATUS_UNCHANGED, NULL);
		/* the same digest, or an image without repo digests: no change
		 */
		w->opts.no_digest_check = false;
		images[0].digest = "sha256:aaaa0000";
		build(w);
		assert_change(w, "10.0.0.1/app/web", KR_ACTION_NOOP,
			KR_STATUS_UNCHANGED, NULL);
		images[0].digest = "sha256:bbbb0000";
		kr_strvec_release(&oc->repo_digests);
		build(w);
		assert_change(w, "10.0.0.1/app/web", KR_ACTION_NOOP,
			KR_STATUS_UNCHANGED, NULL);
		w->opts.images = NULL;
		w->opts.nimages = 0;
		kr_plan_free(w->plan);
		w->plan = NULL;
		fx_observed_free(w->oh, w->noh);
		w->oh = NULL;
		fx_desired_free(w->d);
		w->d = NULL;
	}
}

/* Item 8: an env file newer than the Kamal-made container reading it. */
static void
test_env_file_newer_than_container(void **state)
{
	struct world *w = *state;
	struct kr_obs_container *oc;
	struct kr_obs_file *f;

	world_desired(w, FX_V1);
	world_observe(w, w->d, false);
	oc = obs_web(w);
	f = obs_file(w, w->d->hosts[0].apps[0].env_file.path);
	f->mtime = oc->created - 5;
	build(w);
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_NOOP,
		KR_STATUS_UNCHANGED, NULL);
	f->mtime = oc->created; /* the same second: not later */
	build(w);
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_NOOP,
		KR_STATUS_UNCHANGED, NULL);
	f->mtime = oc->created + 1;
	build(w);
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_REPLACE,
		KR_STATUS_PLANNED,
		"env file was written after the container "
		"was created (an interrupted deploy?)");
	/* kreconcile's own container says what it was made from */
	kr_plan_free(w->plan);
	w->plan = NULL;
	fx_observed_free(w->oh, w->noh);
	world_observe(w, w->d, true);
	obs_file(w, w->d->hosts[0].apps[0].env_file.path)->mtime =
		obs_web(w)->created + 100;
	build(w);
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_NOOP,
		KR_STATUS_UNCHANGED, NULL);
}

/* Item 5: docker run options against docker inspect's fields. */
static void
test_options_compared(void **state)
{
	struct world *w = *state;
	struct kr_obs_container *oc;
	struct kr_app *a;
	static const char *const args[] = { "--memory", "256m", "--cpus", "1.5",
		"--init", "--cap-add", "NET_ADMIN", "--cap-add", "SYS_TIME",
		"--ulimit", "nproc=512", "--device", "/dev/fuse", "--user",
		"0:0", "--shm-size", "64m", "--publish", "127.0.0.1:8080:80",
		NULL };

	world_desired(w, FX_V1);
	a = &w->d->hosts[0].apps[0];
	for (size_t i = 0; args[i]; i++)
		kr_strvec_push(&a->args, args[i]);
	world_observe(w, w->d, false);
	oc = obs_web(w);
	kr_kvlist_append(&oc->run_opts, "HostConfig.Memory", "268435456");
	kr_kvlist_append(&oc->run_opts, "HostConfig.MemorySwap", "536870912");
	kr_kvlist_append(&oc->run_opts, "HostConfig.NanoCpus", "1500000000");
	kr_kvlist_append(&oc->run_opts, "HostConfig.Init", "true");
	kr_kvlist_append(&oc->run_opts, "HostConfig.CapAdd",
		"[\"SYS_TIME\",\"NET_ADMIN\"]");
	kr_kvlist_append(&oc->run_opts, "HostConfig.Ulimits",
		"[{\"Hard\":512,\"Name\":\"nproc\",\"Soft\":512}]");
	kr_kvlist_append(&oc->run_opts, "HostConfig.Devices",
		"[{\"CgroupPermissions\":\"rwm\",\"PathInContainer\":"
		"\"/dev/fuse\",\"PathOnHost\":\"/dev/fuse\"}]");
	kr_kvlist_append(&oc->run_opts, "HostConfig.ShmSize", "67108864");
	kr_kvlist_append(&oc->run_opts, "HostConfig.Privileged", "false");
	kr_kvlist_append(&oc->run_opts, "HostConfig.Dns", "[]");
	kr_kvlist_append(&oc->run_opts, "Config.User", "\"0:0\"");
	kr_kvlist_append(&oc->run_opts, "Config.WorkingDir", "\"/app\"");
	kr_strvec_push(&oc->ports, "127.0.0.1:8080:80/tcp");
	build(w);
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_NOOP,
		KR_STATUS_UNCHANGED, NULL);
	/* one changed value, one option the container has but the
	 * configuration dropped, one the image default hides */
	kr_kvlist_set(&oc->run_opts, "HostConfig.Memory", "536870912");
	kr_kvlist_set(&oc->run_opts, "HostConfig.Privileged", "true");
	kr_kvlist_set(&oc->run_opts, "Config.User", "\"app\"");
	build(w);
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_REPLACE,
		KR_STATUS_PLANNED, "options changed: memory, privileged, user");
	kr_kvlist_set(&oc->run_opts, "HostConfig.Memory", "268435456");
	kr_kvlist_set(&oc->run_opts, "HostConfig.Privileged", "false");
	kr_kvlist_set(&oc->run_opts, "Config.User", "\"0:0\"");
	kr_strvec_release(&oc->ports);
	build(w);
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_REPLACE,
		KR_STATUS_PLANNED, "ports changed");
}

/* Item 3: clear env as the container got it from Kamal's escaping. */
static void
test_env_as_kamal_passes_it(void **state)
{
	struct world *w = *state;
	struct kr_obs_container *oc;
	struct kr_app *a;

	world_desired(w, FX_V1);
	a = &w->d->hosts[0].apps[0];
	kr_kvlist_set(&a->env, "NEWLINE", "a\nb");
	kr_kvlist_set(&a->env, "HOMEX", "${HOME}/x");
	kr_kvlist_set(&a->env, "EMPTY", "");
	world_observe(w, w->d, false);
	oc = obs_web(w);
	kr_kvlist_set(&oc->env, "NEWLINE", "a\\nb");
	kr_kvlist_set(&oc->env, "HOMEX", "/home/deploy/x");
	kr_kvlist_set(&oc->env, "EMPTY", "");
	build(w);
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_NOOP,
		KR_STATUS_UNCHANGED, NULL);
	/* what kreconcile before Kamal's escaping started: a real newline */
	kr_kvlist_set(&oc->env, "NEWLINE", "a\nb");
	kr_kvlist_set(&oc->env, "HOMEX", "/home/deploy/y");
	build(w);
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_REPLACE,
		KR_STATUS_PLANNED, "clear env changed: NEWLINE, HOMEX");
}

static void
test_waiting_for_image(void **state)
{
	struct world *w = *state;
	struct world tmp = { 0 };
	struct kr_image_lookup images[] = {
		{ FX_IMAGE ":" FX_V2, KR_IMAGE_MISSING, NULL },
	};
	struct kr_plan_summary sum;

	world_desired(&tmp, FX_V1);
	world_desired(w, FX_V2);
	world_observe(w, tmp.d, true);
	w->opts.images = images;
	w->opts.nimages = 1;
	build(w);
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_REPLACE,
		KR_STATUS_WAITING,
		"version 1a2b3c4 → 3f4e5d6; the registry "
		"does not have the image yet");
	assert_false(kr_plan_has_changes(w->plan));
	assert_false(has_change(w, "10.0.0.1/login/ghcr.io"));
	kr_plan_summarize(&sum, w->plan);
	assert_int_equal(sum.waiting, 2);
	assert_int_equal(sum.change, 0);
	/* once pushed, it is planned */
	images[0].avail = KR_IMAGE_PRESENT;
	build(w);
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_REPLACE,
		KR_STATUS_PLANNED, "version 1a2b3c4 → 3f4e5d6");
	fx_desired_free(tmp.d);
}

static void
test_waiting_holds_env_file(void **state)
{
	struct world *w = *state;
	struct world tmp = { 0 };
	struct kr_image_lookup images[] = {
		{ FX_IMAGE ":" FX_V2, KR_IMAGE_MISSING, NULL },
	};
	static const char *const rotated[] = {
		"DATABASE_URL",
		"x",
		"SECRET_KEY_BASE",
		"rotated-secret",
		NULL,
	};
	struct kr_app *web;

	world_desired(&tmp, FX_V1);
	world_desired(w, FX_V2);
	web = &w->d->hosts[0].apps[0];
	fx_env_file_release(&web->env_file);
	memset(&web->env_file, 0, sizeof(web->env_file));
	fx_env_file(
		&web->env_file, ".kamal/apps/app/env/roles/web.env", rotated);
	world_observe(w, tmp.d, false);
	w->opts.images = images;
	w->opts.nimages = 1;
	build(w);
	/* writing the file now would let a Kamal-made container look current */
	assert_change(w, "10.0.0.1/env/roles/web", KR_ACTION_UPDATE,
		KR_STATUS_WAITING, NULL);
	assert_change(w, "10.0.0.1/app/web", KR_ACTION_REPLACE,
		KR_STATUS_WAITING, NULL);
	fx_desired_free(tmp.d);
}

static void
test_unreachable_host(void **state)
{
	struct world *w = *state;
	struct kr_plan_summary sum;

	world_desired(w, FX_V1);
	fx_host(w->d, "10.0.0.2");
	fx_app(w->d, &w->d->hosts[1], "web", web_secrets);
	w->oh = fx_observed(2);
	w->noh = 2;
	fx_obs_init(&w->oh[0], "10.0.0.2");
	w->oh[0].status = KR_OBS_UNREACHABLE;
	w->oh[0].error = kr_xstrdup("ssh: connection refused");
	fx_obs_init(&w->oh[1], "10.0.0.1");
	build(w);
	assert_int_equal(w->plan->nhosts, 2);
	assert_string_equal(w->plan->hosts[0].name, "10.0.0.1");
	assert_int_equal(w->plan->hosts[0].status, KR_OBS_OK);
	assert_string_equal(w->plan->hosts[1].name, "10.0.0.2");
	assert_int_equal(w->plan->hosts[1].status, KR_OBS_UNREACHABLE);
	assert_string_equal(w->plan->hosts[1].error, "ssh: connection refused");
	assert_int_equal(w->plan->hosts[1].count, 0);
	assert_true(w->plan->hosts[0].count > 0);
	kr_plan_summarize(&sum, w->plan);
	assert_int_equal(sum.failed_hosts, 1);
}

static void
test_host_not_observed_and_removed_host(void **state)
{
	struct world *w = *state;
	struct world tmp = { 0 };

	world_desired(&tmp, FX_V1);
	world_desired(w, FX_V1);
	world_observe(w, tmp.d, true);
	free(w->oh[0].name);
	w->oh[0].name = kr_xstrdup("10.0.0.9"); /* host dropped from config */
	build(w);
	assert_int_equal(w->plan->nhosts, 2);
	assert_int_equal(w->plan->hosts[0].status, KR_OBS_FAILED);
	assert_string_equal(w->plan->hosts[0].error, "host was not observed");
	assert_false(w->plan->hosts[1].configured);
	assert_change(w, "10.0.0.9/app/web", KR_ACTION_NOOP, KR_STATUS_KEPT,
		"host '10.0.0.9' is not in the configuration");
	assert_change(w, "10.0.0.9/accessory/db", KR_ACTION_NOOP,
		KR_STATUS_KEPT, NULL);
	assert_false(kr_plan_has_changes(w->plan));
	fx_desired_free(tmp.d);
}

static void
test_pure(void **state)
{
	struct world *w = *state;
	struct world tmp = { 0 };
	struct kr_buf a = KR_BUF_INIT, b = KR_BUF_INIT;
	struct kr_plan *p2 = NULL;

	world_desired(&tmp, FX_V1);
	world_desired(w, FX_V2);
	world_observe(w, tmp.d, false);
	build(w);
	assert_int_equal(kr_diff_build(&p2, w->d, w->oh, w->noh, &w->opts), 0);
	kr_plan_render_json(&a, w->plan, 0);
	kr_plan_render_json(&b, p2, 0);
	assert_string_equal(a.ptr, b.ptr);
	kr_buf_reset(&a);
	kr_buf_reset(&b);
	kr_plan_render_text(&a, w->plan, 0);
	kr_plan_render_text(&b, p2, 0);
	assert_string_equal(a.ptr, b.ptr);
	kr_plan_free(p2);
	kr_buf_release(&a);
	kr_buf_release(&b);
	fx_desired_free(tmp.d);
}

static void
test_other_destination_ignored(void **state)
{
	struct world *w = *state;
	struct kr_obs_container *c;

	world_desired(w, FX_V1);
	world_observe(w, w->d, true);
	c = fx_obs_app(&w->oh[0], &w->d->hosts[0].apps[0], false, FX_NOW);
	kr_kvlist_set(&c->labels, "destination", "staging");
	kr_kvlist_set(&c->labels, "role", "api");
	free(c->name);
	c->name = kr_xstrdup("app-api-staging-" FX_V1);
	build(w);
	assert_false(has_change(w, "10.0.0.1/app/api"));
	assert_false(kr_plan_has_changes(w->plan));
}

static void
test_images(void **state)
{
	struct world *w = *state;
	struct kr_strvec imgs = { 0 };

	world_desired(w, FX_V1);
	fx_host(w->d, "10.0.0.2");
	fx_app(w->d, &w->d->hosts[1], "web", web_secrets);
	fx_accessory(w->d, &w->d->hosts[1], "cache", "redis:7", NULL);
	kr_diff_images(&imgs, w->d);
	assert_int_equal(imgs.n, 3);
	assert_string_equal(imgs.v[0], FX_IMAGE ":" FX_V1);
	assert_string_equal(imgs.v[1], "postgres:16");
	assert_string_equal(imgs.v[2], "redis:7");
	kr_strvec_release(&imgs);
}

static void
test_short_version(void **state)
{
	char buf[64];

	(void)state;
	kr_diff_short_version(buf, sizeof(buf), FX_V1);
	assert_string_equal(buf, "1a2b3c4");
	kr_diff_short_version(buf, sizeof(buf), "v1.2.3");
	assert_string_equal(buf, "v1.2.3");
	kr_diff_short_version(buf, sizeof(buf), "abc123");
	assert_string_equal(buf, "abc123");
	kr_diff_short_version(buf, 4, "v1.2.3");
	assert_string_equal(buf, "v1.");
}

static void
test_no_service(void **state)
{
	struct kr_desired d;
	struct kr_plan *p = NULL;

	(void)state;
	memset(&d, 0, sizeof(d));
	assert_int_equal(kr_diff_build(&p, &d, NULL, 0, NULL), KR_EINVAL);
	assert_null(p);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/* kamal-proxy routes of a role whose container stays: a target other than
 * the running container, a missing route, unreadable routes; the proxy
 * container stopped or too old. */
static void
test_proxy_routes(void **state)
{
	struct world *w = *state;
	struct kr_observed_host *oh;
	struct kr_obs_route *r;
	const struct kr_change *c;

	world_desired(w, FX_V1);
	world_observe(w, w->d, true);
	oh = &w->oh[0];
	assert_string_equal(oh->containers[3].name, "kamal-proxy");
	r = &oh->proxy.routes[0];
	free(r->targets.v[0]);
	r->targets.v[0] = kr_xstrdup("0123456789ab:80");
	build(w);
	assert_change(w, "10.0.0.1/route/app-web", KR_ACTION_UPDATE,
		KR_STATUS_PLANNED,
		"kamal-proxy sends 'app-web' to 0123456789ab:80, not to the "
		"running container id-app-web-1");
	c = change(w, "10.0.0.1/route/app-web");
	assert_string_equal(c->start_container, oh->containers[1].id);
	assert_string_equal(attr(c, "target")->after, "id-app-web-1:80");
	assert_false(attr(c, "proxy.hosts")->changed);

	/* an option differs too: both in the reason */
	free(r->health_check_path);
	r->health_check_path = kr_xstrdup("/health");
	build(w);
	assert_change(w, "10.0.0.1/route/app-web", KR_ACTION_UPDATE,
		KR_STATUS_PLANNED,
		"kamal-proxy sends 'app-web' to 0123456789ab:80, not to the "
		"running container id-app-web-1; health_check_path /health → "
		"/up");

	/* no route for the running container */
	kr_obs_route_release(r);
	oh->proxy.nroutes = 0;
	build(w);
	assert_change(w, "10.0.0.1/route/app-web", KR_ACTION_CREATE,
		KR_STATUS_PLANNED,
		"kamal-proxy has no route 'app-web' for the running container "
		"of role 'web'");
	assert_change(w, "10.0.0.1/proxy/kamal-proxy", KR_ACTION_NOOP,
		KR_STATUS_UNCHANGED, NULL);

	/* routes that could not be read: nothing guessed */
	oh->proxy.routes_known = false;
	build(w);
	assert_false(has_change(w, "10.0.0.1/route/app-web"));
	assert_false(kr_plan_has_changes(w->plan));

	/* the proxy stopped: started as Kamal's boot does */
	free(oh->containers[3].state);
	oh->containers[3].state = kr_xstrdup("exited");
	oh->proxy.running = false;
	build(w);
	assert_change(w, "10.0.0.1/proxy/kamal-proxy", KR_ACTION_UPDATE,
		KR_STATUS_PLANNED, NULL);
	assert_string_equal(
		change(w, "10.0.0.1/proxy/kamal-proxy")->start_container,
		"proxyc0ffee");

	/* older than Kamal 2.12's minimum: replaced, with the reason */
	free(oh->proxy.version);
	oh->proxy.version = kr_xstrdup("v0.8.10");
	build(w);
	assert_change(w, "10.0.0.1/proxy/kamal-proxy", KR_ACTION_REPLACE,
		KR_STATUS_PLANNED, NULL);
	assert_non_null(strstr(change(w, "10.0.0.1/proxy/kamal-proxy")->reason,
		"v0.8.10 is older than v0.9.2"));
	/* unless proxy/run asks for that very version: adopted */
	w->d->hosts[0].apps[0].proxy_config.run = true;
	w->d->hosts[0].apps[0].proxy_config.run_version = kr_xstrdup("v0.8.10");
	build(w);
	assert_int_equal(change(w, "10.0.0.1/proxy/kamal-proxy")->action,
		KR_ACTION_UPDATE);
	w->d->hosts[0].apps[0].proxy_config.run = false;
	free(oh->proxy.version);
	oh->proxy.version = kr_xstrdup("v0.10.0");
	build(w);
	assert_int_equal(change(w, "10.0.0.1/proxy/kamal-proxy")->action,
		KR_ACTION_UPDATE); /* newer: only started */
}

/* A role that is no longer proxied here: its route is kept, removed with
 * prune; no proxy is needed for the host any more. */
static void
test_proxy_route_removed(void **state)
{
	struct world *w = *state;

	world_desired(w, FX_V1);
	world_observe(w, w->d, true);
	w->d->hosts[0].apps[0].proxy = false;
	build(w);
	assert_change(w, "10.0.0.1/route/app-web", KR_ACTION_NOOP,
		KR_STATUS_KEPT,
		"nothing proxied on this host is routed as 'app-web'");
	assert_false(has_change(w, "10.0.0.1/proxy/kamal-proxy"));
	w->opts.prune = true;
	build(w);
	assert_change(w, "10.0.0.1/route/app-web", KR_ACTION_DELETE,
		KR_STATUS_PLANNED, NULL);
	assert_string_equal(
		attr(change(w, "10.0.0.1/route/app-web"), "target")->before,
		"id-app-web-1:80");
}

/* An accessory with `proxy`: routed by its service name to its running
 * container; replaced, its change carries the route. */
static void
test_proxy_accessory(void **state)
{
	struct world *w = *state;
	struct kr_accessory *db;

	world_desired(w, FX_V1);
	world_observe(w, w->d, true);
	db = &w->d->hosts[0].accessories[0];
	db->proxy = true;
	db->proxy_config.app_port = 5432;
	db->proxy_config.strip_path_prefix = db->proxy_config.ssl_redirect = -1;
	db->proxy_config.forward_headers = -1;
	db->proxy_config.buffer_requests = db->proxy_config.buffer_responses =
		-1;
	db->proxy_config.buffer_memory = db->proxy_config.max_request_body = -1;
	db->proxy_config.max_response_body = -1;
	build(w);
	assert_change(w, "10.0.0.1/route/app-db", KR_ACTION_CREATE,
		KR_STATUS_PLANNED,
		"kamal-proxy has no route 'app-db' for the running container "
		"of accessory 'db'");
	assert_string_equal(change(w, "10.0.0.1/route/app-db")->start_container,
		w->oh[0].containers[0].id);
	assert_ptr_equal(change(w, "10.0.0.1/route/app-db")->accessory, db);
	/* a new image: the accessory's own step routes the new container */
	free(db->image);
	db->image = kr_xstrdup("postgres:17");
	build(w);
	assert_int_equal(
		change(w, "10.0.0.1/accessory/db")->action, KR_ACTION_REPLACE);
	assert_false(has_change(w, "10.0.0.1/route/app-db"));
	assert_string_equal(
		attr(change(w, "10.0.0.1/accessory/db"), "proxy.target")->after,
		"(new container):5432");
	/* only the accessory proxied: the host still needs kamal-proxy */
	w->d->hosts[0].apps[0].proxy = false;
	build(w);
	assert_ptr_equal(
		change(w, "10.0.0.1/proxy/kamal-proxy")->accessory, db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_fresh_host),
		T(test_no_change_labelled),
		T(test_no_change_kamal_made),
		T(test_kamal_asset_volume),
		T(test_kamal_made_field_changes),
		T(test_kamal_made_volume_removed),
		T(test_version_change),
		T(test_env_value_change),
		T(test_env_file_tampered_labelled),
		T(test_env_key_added_kamal_made),
		T(test_accessory_image_change),
		T(test_accessory_labelled_hash_change),
		T(test_stopped_accessory),
		T(test_exited_app),
		T(test_restarting_app_old_version),
		T(test_exited_app_old_version),
		T(test_newest_running_chosen),
		T(test_removed_role),
		T(test_proxy_routes),
		T(test_proxy_route_removed),
		T(test_proxy_accessory),
		T(test_removed_accessory_keeps_data),
		T(test_digest_changed),
		T(test_env_file_newer_than_container),
		T(test_options_compared),
		T(test_env_as_kamal_passes_it),
		T(test_waiting_for_image),
		T(test_waiting_holds_env_file),
		T(test_unreachable_host),
		T(test_host_not_observed_and_removed_host),
		T(test_pure),
		T(test_other_destination_ignored),
		T(test_images),
		cmocka_unit_test(test_short_version),
		cmocka_unit_test(test_no_service),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
