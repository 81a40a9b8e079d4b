/*
 * Unit tests of the plan's renderings (reconciler/plan.c): the exact
 * Terraform-shaped text, color only when asked, the JSON form, and the
 * identity a saved plan is checked against. Plans are built by hand here
 * so that the expected text is independent of the diff.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/error.h"
#include "reconciler/plan.h"

static struct kr_plan *
sample_plan(void)
{
	struct kr_plan *p = kr_xcalloc(1, sizeof(*p));
	struct kr_plan_host *ph;
	struct kr_change *c;
	struct kr_strvec k1 = { 0 }, k2 = { 0 };
	struct kr_attr *a;

	p->version = kr_xstrdup("v2");
	memset(p->config_sha256, 'c', 64);
	memset(p->revision, 'r', 64);

	ph = kr_plan_add_host(p, "web1");
	ph->configured = true;
	ph->status = KR_OBS_OK;
	memset(ph->fingerprint, 'f', 64);

	c = kr_plan_add_change(p, KR_CHANGE_NETWORK, "kamal", KR_ACTION_CREATE);
	kr_change_set_reason(c, "network '%s' does not exist", "kamal");
	kr_change_attr(c, "name", NULL, "kamal");

	c = kr_plan_add_change(p, KR_CHANGE_ENV, "roles/web", KR_ACTION_UPDATE);
	kr_change_set_reason(c, "env file differs: %s added", "SMTP_PASSWORD");
	kr_strvec_push(&k1, "DATABASE_URL");
	kr_strvec_copy(&k2, &k1);
	kr_strvec_push(&k2, "SMTP_PASSWORD");
	kr_change_attr(c, "path", "e/web.env", "e/web.env");
	kr_change_attr_list(c, "keys", &k1, &k2);
	kr_change_attr_sensitive(c, "content", true, true, true);

	c = kr_plan_add_change(p, KR_CHANGE_ACCESSORY, "db", KR_ACTION_REPLACE);
	kr_change_set_reason(c, "image postgres:15 → postgres:16 forces "
		"replacement");
	a = kr_change_attr(c, "image", "postgres:15", "postgres:16");
	a->flags |= KR_ATTR_FORCES;
	kr_change_attr(c, "name", "app-db", "app-db");
	kr_change_attr(c, "env.POSTGRES_USER", "app", "app");

	c = kr_plan_add_change(p, KR_CHANGE_APP, "web", KR_ACTION_REPLACE);
	kr_change_set_reason(c, "version 1a2b3c4 → 3f4e5d6");
	kr_change_attr(c, "image", "app:1a2b3c4", "app:3f4e5d6");
	kr_change_attr(c, "env.MOTD", "say \"hi\"\n", "say \"hi\"\n");
	kr_change_attr(c, "env.QUOTED", "a\"b", "a\tb");

	c = kr_plan_add_change(p, KR_CHANGE_APP, "worker", KR_ACTION_NOOP);
	c->status = KR_STATUS_KEPT;
	kr_change_set_reason(c, "role 'worker' is not in the configuration");
	kr_change_attr(c, "name", "app-worker-v1", NULL);

	c = kr_plan_add_change(p, KR_CHANGE_APP, "cron", KR_ACTION_DELETE);
	kr_change_set_reason(c, "role 'cron' is not in the configuration");
	kr_change_attr(c, "name", "app-cron-v1", NULL);
	kr_change_attr(c, "state", "exited", NULL);

	c = kr_plan_add_change(p, KR_CHANGE_APP, "jobs", KR_ACTION_NOOP);
	kr_change_attr(c, "name", "app-jobs-v2", "app-jobs-v2");

	ph = kr_plan_add_host(p, "web2");
	ph->configured = true;
	ph->status = KR_OBS_UNREACHABLE;
	ph->error = kr_xstrdup("ssh: connection refused");

	ph = kr_plan_add_host(p, "web3");
	ph->configured = true;
	memset(ph->fingerprint, 'g', 64);
	c = kr_plan_add_change(p, KR_CHANGE_LOGIN, "ghcr.io", KR_ACTION_RUN);
	kr_change_set_reason(c, "to pull app:3f4e5d6");
	kr_change_attr(c, "server", NULL, "ghcr.io");
	c = kr_plan_add_change(p, KR_CHANGE_APP, "web", KR_ACTION_REPLACE);
	c->status = KR_STATUS_WAITING;
	c->image = kr_xstrdup("app:3f4e5d6");
	kr_change_set_reason(c, "version 1a2b3c4 → 3f4e5d6; the registry does "
		"not have the image yet");

	ph = kr_plan_add_host(p, "web4");
	ph->configured = true;
	c = kr_plan_add_change(p, KR_CHANGE_APP, "web", KR_ACTION_NOOP);

	kr_strvec_release(&k1);
	kr_strvec_release(&k2);
	return p;
}

/* Written by hand from shared/STYLE.md's description. */
static const char expected_text[] =
"kreconcile will perform the following actions:\n"
"\n"
"Host web1\n"
"\n"
"  # web1/network/kamal will be created\n"
"  # (network 'kamal' does not exist)\n"
"  + network \"kamal\" {\n"
"      + name = \"kamal\"\n"
"    }\n"
"\n"
"  # web1/env/roles/web will be updated in-place\n"
"  # (env file differs: SMTP_PASSWORD added)\n"
"  ~ env \"roles/web\" {\n"
"      ~ keys    = [\"DATABASE_URL\"] -> [\"DATABASE_URL\", \"SMTP_PASSWORD\"]\n"
"      ~ content = (sensitive)\n"
"        # (1 unchanged attribute hidden)\n"
"    }\n"
"\n"
"  # web1/accessory/db will be replaced\n"
"  # (image postgres:15 → postgres:16 forces replacement)\n"
"-/+ accessory \"db\" {\n"
"      ~ image = \"postgres:15\" -> \"postgres:16\" # forces replacement\n"
"        # (2 unchanged attributes hidden)\n"
"    }\n"
"\n"
"  # web1/app/web will be replaced\n"
"  # (version 1a2b3c4 → 3f4e5d6)\n"
"-/+ app \"web\" {\n"
"      ~ image      = \"app:1a2b3c4\" -> \"app:3f4e5d6\"\n"
"      ~ env.QUOTED = \"a\\\"b\" -> \"a\\tb\"\n"
"        # (1 unchanged attribute hidden)\n"
"    }\n"
"\n"
"  # web1/app/worker is not in the configuration, kept (use --prune)\n"
"  # (role 'worker' is not in the configuration)\n"
"\n"
"  # web1/app/cron will be destroyed\n"
"  # (role 'cron' is not in the configuration)\n"
"  - app \"cron\" {\n"
"      - name  = \"app-cron-v1\" -> null\n"
"      - state = \"exited\" -> null\n"
"    }\n"
"\n"
"Host web2: not observed (unreachable): ssh: connection refused\n"
"\n"
"Host web3\n"
"\n"
"  # web3/login/ghcr.io will be run\n"
"  # (to pull app:3f4e5d6)\n"
" <= login \"ghcr.io\" {\n"
"      + server = \"ghcr.io\"\n"
"    }\n"
"\n"
"  # web3/app/web is waiting for image app:3f4e5d6\n"
"  # (version 1a2b3c4 → 3f4e5d6; the registry does not have the image yet)\n"
"\n"
"Host web4: no changes\n"
"\n"
"Plan: 1 to add, 3 to change, 1 to destroy.\n"
"1 change is waiting for an image that the registry does not have yet.\n"
"1 host could not be observed and is not planned.\n";

static void
test_text(void **state)
{
	struct kr_plan *p = sample_plan();
	struct kr_buf b = KR_BUF_INIT;

	(void)state;
	assert_int_equal(kr_plan_render_text(&b, p, 0), 0);
	assert_string_equal(b.ptr, expected_text);
	assert_null(strchr(b.ptr, '\033'));
	kr_buf_release(&b);
	kr_plan_free(p);
}

static void
test_color_only_when_asked(void **state)
{
	struct kr_plan *p = sample_plan();
	struct kr_buf b = KR_BUF_INIT;

	(void)state;
	assert_int_equal(kr_plan_render_text(&b, p, KR_PLAN_COLOR), 0);
	assert_non_null(strstr(b.ptr, "  \033[32m+\033[0m network \"kamal\""));
	assert_non_null(strstr(b.ptr, "\033[31m-\033[0m/\033[32m+\033[0m app"));
	kr_buf_release(&b);
	kr_plan_free(p);
}

static void
test_summary(void **state)
{
	struct kr_plan *p = sample_plan();
	struct kr_plan_summary s;

	(void)state;
	kr_plan_summarize(&s, p);
	assert_int_equal(s.add, 1);
	assert_int_equal(s.change, 3);
	assert_int_equal(s.destroy, 1);
	assert_int_equal(s.waiting, 1);
	assert_int_equal(s.kept, 1);
	assert_int_equal(s.failed_hosts, 1);
	assert_true(kr_plan_has_changes(p));
	kr_plan_free(p);
}

static void
test_no_changes(void **state)
{
	struct kr_plan *p = kr_xcalloc(1, sizeof(*p));
	struct kr_buf b = KR_BUF_INIT;
	struct kr_change *c;

	(void)state;
	kr_plan_add_host(p, "web1");
	c = kr_plan_add_change(p, KR_CHANGE_APP, "web", KR_ACTION_NOOP);
	kr_change_attr(c, "image", "a", "a");
	kr_plan_add_host(p, "web2");
	assert_false(kr_plan_has_changes(p));
	kr_plan_render_text(&b, p, 0);
	assert_string_equal(b.ptr, "No changes. Hosts match the configuration.\n");
	kr_buf_reset(&b);
	kr_plan_render_text(&b, p, KR_PLAN_SHOW_UNCHANGED);
	assert_string_equal(b.ptr, "No changes. Hosts match the configuration.\n");
	kr_buf_release(&b);
	kr_plan_free(p);
}

static void
test_no_changes_with_kept(void **state)
{
	struct kr_plan *p = kr_xcalloc(1, sizeof(*p));
	struct kr_buf b = KR_BUF_INIT;
	struct kr_change *c;

	(void)state;
	kr_plan_add_host(p, "web1")->configured = true;
	c = kr_plan_add_change(p, KR_CHANGE_ACCESSORY, "redis", KR_ACTION_NOOP);
	c->status = KR_STATUS_KEPT;
	kr_change_set_reason(c, "accessory 'redis' is not in the configuration");
	kr_plan_render_text(&b, p, 0);
	assert_string_equal(b.ptr,
		"Host web1\n"
		"\n"
		"  # web1/accessory/redis is not in the configuration, kept (use --prune)\n"
		"  # (accessory 'redis' is not in the configuration)\n"
		"\n"
		"No changes. Hosts match the configuration.\n");
	kr_buf_release(&b);
	kr_plan_free(p);
}

static json_t *
change_at(json_t *root, size_t i)
{
	return json_array_get(json_object_get(root, "changes"), i);
}

static void
assert_actions(json_t *ch, const char *a0, const char *a1)
{
	json_t *a = json_object_get(ch, "actions");

	assert_true(json_is_array(a));
	assert_int_equal(json_array_size(a), a1 ? 2 : 1);
	assert_string_equal(json_string_value(json_array_get(a, 0)), a0);
	if (a1)
		assert_string_equal(json_string_value(json_array_get(a, 1)), a1);
}

static void
test_json(void **state)
{
	struct kr_plan *p = sample_plan();
	struct kr_buf b = KR_BUF_INIT;
	json_error_t jerr;
	json_t *root, *ch, *sens;

	(void)state;
	assert_int_equal(kr_plan_render_json(&b, p, 0), 0);
	assert_int_equal(b.ptr[b.len - 1], '\n');
	root = json_loads(b.ptr, 0, &jerr);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root,
		"format_version")), KR_PLAN_FORMAT_VERSION);
	assert_int_equal(json_array_size(json_object_get(root, "changes")),
		p->nchanges);

	ch = change_at(root, 0);	/* network create */
	assert_string_equal(json_string_value(json_object_get(ch, "address")),
		"web1/network/kamal");
	assert_actions(ch, "create", NULL);
	assert_true(json_is_null(json_object_get(ch, "before")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
		ch, "after"), "name")), "kamal");

	ch = change_at(root, 1);	/* env update: sensitive content */
	assert_actions(ch, "update", NULL);
	sens = json_object_get(ch, "sensitive_paths");
	assert_int_equal(json_array_size(sens), 1);
	assert_string_equal(json_string_value(json_array_get(json_array_get(
		sens, 0), 0)), "content");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
		ch, "after"), "content")), KR_SENSITIVE);
	assert_int_equal(json_array_size(json_object_get(json_object_get(ch,
		"after"), "keys")), 2);

	assert_actions(change_at(root, 2), "delete", "create");	/* accessory */
	ch = change_at(root, 3);	/* app: new one first */
	assert_actions(ch, "create", "delete");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
		json_object_get(ch, "after"), "env"), "QUOTED")), "a\tb");
	assert_string_equal(json_string_value(json_object_get(ch, "reason")),
		"version 1a2b3c4 → 3f4e5d6");

	ch = change_at(root, 4);	/* kept */
	assert_actions(ch, "no-op", NULL);
	assert_string_equal(json_string_value(json_object_get(ch, "status")),
		"kept");
	ch = change_at(root, 5);	/* delete */
	assert_actions(ch, "delete", NULL);
	assert_true(json_is_null(json_object_get(ch, "after")));
	ch = change_at(root, 6);	/* unchanged */
	assert_actions(ch, "no-op", NULL);
	assert_true(json_is_null(json_object_get(ch, "reason")));
	ch = change_at(root, 8);	/* waiting */
	assert_actions(ch, "no-op", NULL);
	assert_string_equal(json_string_value(json_object_get(ch, "status")),
		"waiting");
	assert_string_equal(json_string_value(json_object_get(ch, "image")),
		"app:3f4e5d6");

	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(root, "hosts"), 1), "status")), "unreachable");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
		root, "summary"), "destroy")), 1);
	assert_true(json_is_true(json_object_get(json_object_get(root,
		"summary"), "changes_pending")));
	json_decref(root);
	kr_buf_release(&b);
	kr_plan_free(p);
}

static void
test_identity_roundtrip(void **state)
{
	struct kr_plan *p = sample_plan();
	struct kr_plan_identity id;
	struct kr_buf b = KR_BUF_INIT;

	(void)state;
	kr_plan_render_json(&b, p, KR_PLAN_JSON_INDENT);
	assert_int_equal(kr_plan_identity_read(&id, b.ptr, b.len), 0);
	assert_string_equal(id.version, "v2");
	assert_int_equal(id.hosts.n, 4);
	assert_int_equal(kr_plan_identity_check(&id, p), 0);

	/* a host observed differently since */
	p->hosts[0].fingerprint[0] = 'x';
	assert_int_equal(kr_plan_identity_check(&id, p), KR_EINVAL);
	assert_string_equal(kr_error_last(), "saved plan is stale: host 'web1' "
		"changed since it was observed");
	p->hosts[0].fingerprint[0] = 'f';
	assert_int_equal(kr_plan_identity_check(&id, p), 0);

	/* another version */
	free(p->version);
	p->version = kr_xstrdup("v3");
	assert_int_equal(kr_plan_identity_check(&id, p), KR_EINVAL);
	assert_string_equal(kr_error_last(), "saved plan is stale: version 'v2' "
		"is now 'v3'");
	free(p->version);
	p->version = kr_xstrdup("v2");

	/* another configuration */
	p->config_sha256[3] = 'd';
	assert_int_equal(kr_plan_identity_check(&id, p), KR_EINVAL);
	p->config_sha256[3] = 'c';

	/* the same inputs but another outcome (an image was pushed) */
	p->changes[8].status = KR_STATUS_PLANNED;
	assert_int_equal(kr_plan_identity_check(&id, p), KR_EINVAL);
	assert_non_null(strstr(kr_error_last(), "changes it lists differ"));
	p->changes[8].status = KR_STATUS_WAITING;

	/* prune turned on */
	p->prune = true;
	assert_int_equal(kr_plan_identity_check(&id, p), KR_EINVAL);
	p->prune = false;
	assert_int_equal(kr_plan_identity_check(&id, p), 0);

	kr_plan_identity_release(&id);
	kr_buf_release(&b);
	kr_plan_free(p);
}

static void
test_identity_read_rejects(void **state)
{
	struct kr_plan_identity id;
	static const char bad_version[] =
		"{\"format_version\": \"2.0\", \"identity\": {}}";
	static const char no_identity[] = "{\"format_version\": \"1.0\"}";

	(void)state;
	assert_int_equal(kr_plan_identity_read(&id, "{", 1), KR_EPARSE);
	assert_int_equal(kr_plan_identity_read(&id, bad_version,
		sizeof(bad_version) - 1), KR_EPARSE);
	assert_int_equal(kr_plan_identity_read(&id, no_identity,
		sizeof(no_identity) - 1), KR_EPARSE);
	assert_non_null(strstr(kr_error_last(), "identity"));
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(kr_action_name(KR_ACTION_REPLACE), "replace");
	assert_string_equal(kr_action_name(KR_ACTION_NOOP), "no-op");
	assert_string_equal(kr_change_type_name(KR_CHANGE_ENV), "env");
	kr_plan_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_color_only_when_asked),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_no_changes),
		cmocka_unit_test(test_no_changes_with_kept),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_identity_roundtrip),
		cmocka_unit_test(test_identity_read_rejects),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
