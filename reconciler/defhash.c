/*
 * The definition hash of app and accessory containers (see defhash.h and
 * docs/diff.md). Every field is fed with a tag and a NUL terminator, lists
 * with their length first, so no two different definitions can produce the
 * same byte stream. Maps (labels, env, log options) are fed sorted by key:
 * their order in deploy.yml does not change what Docker runs. Lists
 * (volumes, ports, options) keep their order: for options it can matter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/quote.h"
#include "reconciler/defhash.h"

static int
kv_cmp(const void *a, const void *b)
{
	const struct kr_kv *x = *(const struct kr_kv *const *)a;
	const struct kr_kv *y = *(const struct kr_kv *const *)b;

	return strcmp(x->key, y->key);
}

static void
feed_count(struct kr_sha256 *h, size_t n)
{
	char num[32];

	snprintf(num, sizeof(num), "%zu", n);
	kr_sha256_field(h, num);
}

static void
feed_str(struct kr_sha256 *h, const char *tag, const char *s)
{
	kr_sha256_field(h, tag);
	/* NULL and "" differ: "no cmd" is not "an empty cmd" */
	kr_sha256_field(h, s ? "=" : "-");
	kr_sha256_field(h, s);
}

static void
feed_vec(struct kr_sha256 *h, const char *tag, const struct kr_strvec *sv)
{
	size_t i;

	kr_sha256_field(h, tag);
	feed_count(h, sv->n);
	for (i = 0; i < sv->n; i++)
		kr_sha256_field(h, sv->v[i]);
}

/* A map, sorted by key, leaving out the key `skip` (may be NULL). */
static void
feed_map(struct kr_sha256 *h, const char *tag, const struct kr_kvlist *kv,
	const char *skip)
{
	const struct kr_kv **sorted;
	size_t i, n = 0;

	sorted = kr_xcalloc(kv->n ? kv->n : 1, sizeof(*sorted));
	for (i = 0; i < kv->n; i++)
		if (!skip || strcmp(kv->v[i].key, skip) != 0)
			sorted[n++] = &kv->v[i];
	qsort(sorted, n, sizeof(*sorted), kv_cmp);
	kr_sha256_field(h, tag);
	feed_count(h, n);
	for (i = 0; i < n; i++) {
		kr_sha256_field(h, sorted[i]->key);
		kr_sha256_field(h, sorted[i]->value);
	}
	free(sorted);
}

/*
 * Clear env, sorted by key, each value as the container gets it from
 * Kamal's escaping (kr_kamal_value_template: equal to the value unless it
 * holds a newline, tab, `#{`, `${...}`, ...), a blank one as the lone byte
 * KR_KAMAL_EXP_CLOSE, which no template holds: "unset".
 */
static void
feed_env(struct kr_sha256 *h, const struct kr_kvlist *env)
{
	struct kr_kvlist t = { 0 };
	struct kr_buf b = KR_BUF_INIT;
	static const char unset[] = { KR_KAMAL_EXP_CLOSE, '\0' };
	size_t i;

	for (i = 0; i < env->n; i++) {
		const char *v = env->v[i].value;

		kr_buf_reset(&b);
		if (kr_kamal_blank(v))
			kr_buf_puts(&b, unset);
		else
			kr_kamal_value_template(&b, v);
		kr_kvlist_append(&t, env->v[i].key, b.ptr);
	}
	feed_map(h, "env", &t, NULL);
	kr_kvlist_release(&t);
	kr_buf_release(&b);
}

/* An env file counts by its content hash only: never its path or values. */
static void
feed_env_file(struct kr_sha256 *h, const struct kr_env_file *ef)
{
	kr_sha256_field(h, "env_file_sha256");
	kr_sha256_field(h, ef->sha256);
}

void
kr_defhash_app(char out[KR_SHA256_HEX], const struct kr_app *app)
{
	struct kr_sha256 h;

	kr_sha256_init(&h);
	kr_sha256_field(&h, KR_DEFHASH_SCHEME);
	kr_sha256_field(&h, "app");
	feed_str(&h, "image", app->image);
	feed_str(&h, "cmd", app->cmd);
	feed_vec(&h, "options", &app->args);
	feed_vec(&h, "volumes", &app->volumes);
	feed_map(&h, "labels", &app->labels, KR_DEFHASH_LABEL);
	feed_env(&h, &app->env);
	feed_env_file(&h, &app->env_file);
	feed_str(&h, "network", app->network);
	feed_str(&h, "restart", app->restart);
	feed_str(&h, "log_driver", app->logging.driver);
	feed_map(&h, "log_opts", &app->logging.options, NULL);
	kr_sha256_final(&h, out);
}

void
kr_defhash_accessory(char out[KR_SHA256_HEX], const struct kr_accessory *acc)
{
	struct kr_sha256 h;
	size_t i;

	kr_sha256_init(&h);
	kr_sha256_field(&h, KR_DEFHASH_SCHEME);
	kr_sha256_field(&h, "accessory");
	feed_str(&h, "container", acc->container);
	feed_str(&h, "image", acc->image);
	feed_str(&h, "cmd", acc->cmd);
	feed_vec(&h, "options", &acc->args);
	feed_vec(&h, "ports", &acc->ports);
	feed_vec(&h, "volumes", &acc->volumes);
	feed_vec(&h, "directories", &acc->directories);
	feed_vec(&h, "directory_modes", &acc->directory_modes);
	kr_sha256_field(&h, "files");
	feed_count(&h, acc->nfiles);
	for (i = 0; i < acc->nfiles; i++) {
		kr_sha256_field(&h, acc->files[i].host_path);
		kr_sha256_field(&h, acc->files[i].remote);
		kr_sha256_field(&h, acc->files[i].sha256);
		feed_str(&h, "mode", acc->files[i].mode);
		feed_str(&h, "options", acc->files[i].options);
		feed_str(&h, "owner", acc->files[i].owner);
	}
	feed_map(&h, "labels", &acc->labels, KR_DEFHASH_LABEL);
	feed_env(&h, &acc->env);
	feed_env_file(&h, &acc->env_file);
	feed_str(&h, "network", acc->network);
	feed_str(&h, "restart", acc->restart);
	feed_str(&h, "log_driver", acc->logging.driver);
	feed_map(&h, "log_opts", &acc->logging.options, NULL);
	kr_sha256_final(&h, out);
}
