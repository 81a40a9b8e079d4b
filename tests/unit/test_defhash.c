/*
 * Unit tests of the definition hash (reconciler/defhash.c): every defining
 * field changes it, nothing else does (order of maps, the env file's path,
 * the hash label itself, secret values except through the file's content
 * hash), and the byte stream is the one docs/diff.md documents.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "diff_fixture.h"
#include "reconciler/defhash.h"

static const char *const secrets[] = {
	"DATABASE_URL", "postgres://u:p@db/app", NULL,
};

static struct kr_desired *
one_app(void)
{
	struct kr_desired *d = fx_desired(FX_V1);
	struct kr_host *h = fx_host(d, "10.0.0.1");

	fx_app(d, h, "web", secrets);
	fx_accessory(d, h, "db", "postgres:16", secrets);
	return d;
}

static void
app_hash(char out[KR_SHA256_HEX], const struct kr_desired *d)
{
	kr_defhash_app(out, &d->hosts[0].apps[0]);
}

static void
acc_hash(char out[KR_SHA256_HEX], const struct kr_desired *d)
{
	kr_defhash_accessory(out, &d->hosts[0].accessories[0]);
}

static void
test_stable_and_hex(void **state)
{
	struct kr_desired *a = one_app(), *b = one_app();
	char h1[KR_SHA256_HEX], h2[KR_SHA256_HEX];
	size_t i;

	(void)state;
	app_hash(h1, a);
	app_hash(h2, b);
	assert_string_equal(h1, h2);
	assert_int_equal(strlen(h1), 64);
	for (i = 0; i < 64; i++)
		assert_non_null(strchr("0123456789abcdef", h1[i]));
	acc_hash(h2, a);
	assert_string_not_equal(h1, h2);
	fx_desired_free(a);
	fx_desired_free(b);
}

typedef void (*app_mut)(struct kr_app *a);

static void m_image(struct kr_app *a) { free(a->image); a->image = kr_xstrdup("ghcr.io/acme/app:other"); }
static void m_cmd_empty(struct kr_app *a) { fx_app_set_cmd(a, ""); }
static void m_cmd(struct kr_app *a) { fx_app_set_cmd(a, "bin/jobs"); }
static void m_args(struct kr_app *a) { kr_strvec_push(&a->args, "--cpus=2"); }
static void m_volumes(struct kr_app *a) { kr_strvec_push(&a->volumes, "/x:/y"); }
static void m_label_value(struct kr_app *a) { kr_kvlist_set(&a->labels, "role", "api"); }
static void m_label_added(struct kr_app *a) { kr_kvlist_set(&a->labels, "team", "core"); }
static void m_env_value(struct kr_app *a) { kr_kvlist_set(&a->env, "RAILS_ENV", "staging"); }
static void m_env_added(struct kr_app *a) { kr_kvlist_set(&a->env, "FOO", ""); }
static void m_env_file(struct kr_app *a) { a->env_file.sha256[0] = a->env_file.sha256[0] == 'a' ? 'b' : 'a'; }
static void m_network(struct kr_app *a) { free(a->network); a->network = kr_xstrdup("other"); }
static void m_restart(struct kr_app *a) { free(a->restart); a->restart = kr_xstrdup("always"); }
static void m_log_driver(struct kr_app *a) { a->logging.driver = kr_xstrdup("journald"); }
static void m_log_opt(struct kr_app *a) { kr_kvlist_set(&a->logging.options, "max-size", "20m"); }

static void
test_app_fields_change_hash(void **state)
{
	static const struct { const char *name; app_mut f; } muts[] = {
		{ "image", m_image }, { "cmd empty", m_cmd_empty },
		{ "cmd", m_cmd }, { "options", m_args },
		{ "volumes", m_volumes }, { "label value", m_label_value },
		{ "label added", m_label_added }, { "env value", m_env_value },
		{ "env added", m_env_added }, { "env file", m_env_file },
		{ "network", m_network }, { "restart", m_restart },
		{ "log driver", m_log_driver }, { "log opt", m_log_opt },
	};
	char base[KR_SHA256_HEX], h[KR_SHA256_HEX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(muts) / sizeof(muts[0]); i++) {
		struct kr_desired *d = one_app();

		app_hash(base, d);
		muts[i].f(&d->hosts[0].apps[0]);
		app_hash(h, d);
		if (strcmp(base, h) == 0)
			fail_msg("changing %s left the hash unchanged",
				muts[i].name);
		fx_desired_free(d);
	}
}

static void
test_app_hash_ignores(void **state)
{
	struct kr_desired *d = one_app();
	struct kr_app *a = &d->hosts[0].apps[0];
	char base[KR_SHA256_HEX], h[KR_SHA256_HEX];
	struct kr_kvlist rev = { 0 };
	size_t i;

	(void)state;
	app_hash(base, d);
	/* map order */
	for (i = a->labels.n; i > 0; i--)
		kr_kvlist_append(&rev, a->labels.v[i - 1].key,
			a->labels.v[i - 1].value);
	kr_kvlist_release(&a->labels);
	a->labels = rev;
	app_hash(h, d);
	assert_string_equal(base, h);
	/* its own label */
	kr_kvlist_set(&a->labels, KR_DEFHASH_LABEL, "whatever");
	app_hash(h, d);
	assert_string_equal(base, h);
	/* the env file's path, and secret values the content hash covers */
	free(a->env_file.path);
	a->env_file.path = kr_xstrdup("elsewhere/web.env");
	kr_kvlist_set(&a->env_file.secrets, "DATABASE_URL", "changed");
	app_hash(h, d);
	assert_string_equal(base, h);
	/* stop_timeout and proxy are not part of the container's definition */
	a->stop_timeout = 99;
	a->proxy = !a->proxy;
	app_hash(h, d);
	assert_string_equal(base, h);
	fx_desired_free(d);
}

static void
test_fields_do_not_run_together(void **state)
{
	struct kr_desired *a = one_app(), *b = one_app();
	char h1[KR_SHA256_HEX], h2[KR_SHA256_HEX];

	(void)state;
	kr_kvlist_set(&a->hosts[0].apps[0].labels, "ab", "c");
	kr_kvlist_set(&b->hosts[0].apps[0].labels, "a", "bc");
	app_hash(h1, a);
	app_hash(h2, b);
	assert_string_not_equal(h1, h2);
	/* an option moved into the volume list is another definition */
	kr_strvec_push(&a->hosts[0].apps[0].args, "/x:/y");
	kr_strvec_push(&b->hosts[0].apps[0].volumes, "/x:/y");
	kr_kvlist_set(&a->hosts[0].apps[0].labels, "a", "bc");
	kr_kvlist_del(&a->hosts[0].apps[0].labels, "ab");
	app_hash(h1, a);
	app_hash(h2, b);
	assert_string_not_equal(h1, h2);
	fx_desired_free(a);
	fx_desired_free(b);
}

typedef void (*acc_mut)(struct kr_accessory *a);

static void a_image(struct kr_accessory *a) { free(a->image); a->image = kr_xstrdup("postgres:17"); }
static void a_ports(struct kr_accessory *a) { kr_strvec_push(&a->ports, "6432:6432"); }
static void a_dirs(struct kr_accessory *a) { kr_strvec_push(&a->directories, "app-db/x:/x"); }
static void a_volumes(struct kr_accessory *a) { kr_strvec_push(&a->volumes, "pg:/pg"); }
static void a_env(struct kr_accessory *a) { kr_kvlist_set(&a->env, "POSTGRES_DB", "app"); }
static void a_env_file(struct kr_accessory *a) { a->env_file.sha256[1] = a->env_file.sha256[1] == 'a' ? 'b' : 'a'; }
static void a_cmd(struct kr_accessory *a) { a->cmd = kr_xstrdup("postgres -c fsync=off"); }
static void a_name(struct kr_accessory *a) { free(a->container); a->container = kr_xstrdup("pg"); }
static void a_log(struct kr_accessory *a) { kr_kvlist_set(&a->logging.options, "max-size", "1m"); }
static void a_dir_mode(struct kr_accessory *a) { kr_strvec_push(&a->directory_modes, "0700"); }
static void
a_file(struct kr_accessory *a)
{
	a->files = kr_xcalloc(1, sizeof(*a->files));
	a->nfiles = 1;
	a->files[0].local = kr_xstrdup("config/init.sql");
	a->files[0].remote = kr_xstrdup("/docker-entrypoint-initdb.d/init.sql");
	a->files[0].host_path = kr_xstrdup("app-db/docker-entrypoint-initdb.d/init.sql");
	kr_sha256_hex(a->files[0].sha256, "x", 1);
}

static void
test_accessory_fields_change_hash(void **state)
{
	static const struct { const char *name; acc_mut f; } muts[] = {
		{ "image", a_image }, { "ports", a_ports },
		{ "directories", a_dirs }, { "volumes", a_volumes },
		{ "env", a_env }, { "env file", a_env_file }, { "cmd", a_cmd },
		{ "container name", a_name }, { "files", a_file },
		{ "logging", a_log }, { "directory modes", a_dir_mode },
	};
	char base[KR_SHA256_HEX], h[KR_SHA256_HEX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(muts) / sizeof(muts[0]); i++) {
		struct kr_desired *d = one_app();

		acc_hash(base, d);
		muts[i].f(&d->hosts[0].accessories[0]);
		acc_hash(h, d);
		if (strcmp(base, h) == 0)
			fail_msg("changing %s left the hash unchanged",
				muts[i].name);
		fx_desired_free(d);
	}
}

static void
test_accessory_file_content(void **state)
{
	struct kr_desired *d = one_app();
	struct kr_accessory *acc = &d->hosts[0].accessories[0];
	char h1[KR_SHA256_HEX], h2[KR_SHA256_HEX];

	(void)state;
	a_file(acc);
	acc_hash(h1, d);
	kr_sha256_hex(acc->files[0].sha256, "y", 1);
	acc_hash(h2, d);
	assert_string_not_equal(h1, h2);
	fx_desired_free(d);
}

/*
 * The byte stream docs/diff.md documents, written out here by hand: if the
 * implementation changes it, every running container would be replaced on
 * the next apply, so that must be a deliberate scheme change.
 */
static void
test_documented_encoding(void **state)
{
	struct kr_app a;
	char want[KR_SHA256_HEX], got[KR_SHA256_HEX];
	static const char stream[] =
		"kreconcile-defhash-v1\0app\0"
		"image\0=\0img:v1\0"
		"cmd\0-\0\0"
		"options\0" "1\0--init\0"
		"volumes\0" "0\0"
		"labels\0" "2\0role\0web\0service\0app\0"
		"env\0" "1\0A\0b\0"
		"env_file_sha256\0"
		"0000000000000000000000000000000000000000000000000000000000000000\0"
		"network\0=\0kamal\0"
		"restart\0=\0unless-stopped\0"
		"log_driver\0-\0\0"
		"log_opts\0" "1\0max-size\0" "10m\0";

	(void)state;
	memset(&a, 0, sizeof(a));
	a.image = "img:v1";
	kr_strvec_push(&a.args, "--init");
	kr_kvlist_append(&a.labels, "service", "app");
	kr_kvlist_append(&a.labels, "role", "web");
	kr_kvlist_append(&a.env, "A", "b");
	memset(a.env_file.sha256, '0', 64);
	a.env_file.sha256[64] = '\0';
	a.network = "kamal";
	a.restart = "unless-stopped";
	kr_kvlist_append(&a.logging.options, "max-size", "10m");
	kr_sha256_hex(want, stream, sizeof(stream) - 1);
	kr_defhash_app(got, &a);
	assert_string_equal(got, want);
	kr_strvec_release(&a.args);
	kr_kvlist_release(&a.labels);
	kr_kvlist_release(&a.env);
	kr_kvlist_release(&a.logging.options);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stable_and_hex),
		cmocka_unit_test(test_app_fields_change_hash),
		cmocka_unit_test(test_app_hash_ignores),
		cmocka_unit_test(test_fields_do_not_run_together),
		cmocka_unit_test(test_accessory_fields_change_hash),
		cmocka_unit_test(test_accessory_file_content),
		cmocka_unit_test(test_documented_encoding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
