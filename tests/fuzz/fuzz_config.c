/*
 * libFuzzer target for the configuration path: bytes → ERB subset → YAML
 * tree → typed model and validation → (when valid) per-host resolution →
 * JSON. An input holding the line "--- destination ---" is split into a base
 * and a destination file, so the deep merge is reached too. ENV lookups see
 * a fixed fake environment; accessory files point at a directory that does
 * not exist, so nothing outside the input is read. Beyond "no crash, no
 * leak, no sanitizer report" it checks that every diagnostic has a message
 * and that no secret value reaches the JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/diag.h"
#include "common/error.h"
#include "state/config.h"
#include "state/desired.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECRET_VALUE "fuzz-secret-value-0123456789"
#define SPLIT "\n--- destination ---\n"

static const char *
fake_env(void *ctx, const char *name)
{
	(void)ctx;
	if (strcmp(name, "HOST") == 0)
		return "10.0.0.1";
	if (strcmp(name, "MULTI") == 0)
		return "a\nb: [";
	return NULL;
}

static int
contains(const uint8_t *data, size_t size, const char *s)
{
	size_t n = strlen(s), i;

	for (i = 0; size >= n && i <= size - n; i++)
		if (memcmp(data + i, s, n) == 0)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* nothing the text names may run: no backticks, no Ruby */
	struct kr_config_load_opts lo = {
		.getenv_fn = fake_env, .ruby = "", .erb_no_commands = true
	};
	struct kr_diags d = { 0 };
	struct kr_config *c = NULL;
	const char *text = (const char *)data, *dest = NULL;
	size_t len = size, dlen = 0, i;
	const char *split = NULL;

	for (i = 0;
		size >= sizeof(SPLIT) - 1 && i <= size - (sizeof(SPLIT) - 1);
		i++) {
		if (memcmp(data + i, SPLIT, sizeof(SPLIT) - 1) == 0) {
			split = text + i;
			break;
		}
	}
	if (split) {
		len = (size_t)(split - text);
		dest = split + sizeof(SPLIT) - 1;
		dlen = size - len - (sizeof(SPLIT) - 1);
		lo.destination = "staging";
	}
	lo.partial = size % 2 == 0;
	kr_config_load_text(&c, &d, "deploy.yml", text, len,
		dest ? "deploy.staging.yml" : NULL, dest, dlen, &lo);
	for (i = 0; i < d.n; i++) {
		char *s = kr_diag_format(&d.v[i]);

		if (!d.v[i].msg[0] || !s)
			abort();
		free(s);
	}
	if (c && d.n == 0) {
		struct kr_kvlist secrets = { 0 };
		struct kr_resolve_opts ro = { .version = "v1",
			.version_source = "fuzz",
			.base_dir = "/nonexistent-kr-fuzz" };
		struct kr_desired *des = NULL;

		for (i = 0; i < c->nsecret_refs; i++)
			kr_kvlist_set(
				&secrets, c->secret_refs[i].name, SECRET_VALUE);
		if (kr_config_check_secrets(c, &secrets, "fuzz", &d) != 0)
			abort(); /* every referenced name was defined */
		if (kr_desired_resolve(&des, &d, c, &secrets, &ro) == 0) {
			json_t *j = kr_desired_to_json(des);
			char *s = json_dumps(j, JSON_COMPACT);

			/* unless the input itself holds the text, no secret
			 * value may appear */
			if (s && strstr(s, SECRET_VALUE) &&
				!contains(data, size, SECRET_VALUE))
				abort();
			free(s);
			json_decref(j);
			kr_desired_free(des);
		}
		kr_kvlist_release(&secrets);
	}
	kr_config_free(c);
	kr_diags_release(&d);
	return 0;
}
