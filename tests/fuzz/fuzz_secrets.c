/*
 * libFuzzer target for the secrets parser (state/secrets.c) and the env file
 * escaping that consumes its values (state/envfile.c). Nothing is ever run:
 * $(command) goes to a fake runner whose answer depends on the command text,
 * so command substitution, variable expansion of outputs, the `kamal
 * secrets fetch` escaping, failures and NUL bytes in output are all reached.
 * Beyond "no crash, no leak, no sanitizer report" it checks invariants that
 * hold for every input and aborts when one breaks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "state/envfile.h"
#include "state/secrets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
fake_run(struct kr_buf *out, struct kr_buf *why, const char *command,
	int timeout, void *arg)
{
	size_t n = strlen(command), i;

	(void)timeout;
	(void)arg;
	if (strstr(command, "fail")) {
		kr_buf_printf(why, "exited with status 1: %s", command);
		return KR_ERROR;
	}
	if (strstr(command, "nul"))
		return kr_buf_put(out, "a\0b", 3);
	if (strncmp(command, "kamal secrets fetch", 19) == 0)
		return kr_buf_puts(out, "{\"A\":\"x y$z\\\"\"}\n");
	/* Echo the command back, reversed, with a trailing newline. */
	for (i = 0; i < n; i++)
		if (kr_buf_putc(out, command[n - 1 - i]) < 0)
			return KR_EINVAL;
	return kr_buf_putc(out, '\n');
}

static int
is_key(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '_' || c == '.';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kr_diags diags = { 0 }, warnings = { 0 };
	struct kr_kvlist kv = { 0 };
	struct kr_secrets_opts o = { .command_timeout = 1,
		.run_commands = size > 0 && (data[0] & 1), .run = fake_run,
		.warnings = &warnings };
	struct kr_buf env = KR_BUF_INIT;
	size_t i, k;
	int rc;

	rc = kr_secrets_parse(&kv, &diags, "fuzz", (const char *)data, size, &o);
	if (rc != 0 && rc != KR_ECONFIG)
		abort();
	if ((rc == 0) != (diags.n == 0))
		abort();
	if (rc != 0 && kv.n != 0)
		abort();
	for (i = 0; i < diags.n; i++)
		if (diags.v[i].line < 1 || diags.v[i].col < 1)
			abort();
	for (i = 0; i < warnings.n; i++)
		if (warnings.v[i].line < 1 || warnings.v[i].col < 1)
			abort();
	for (i = 0; i < kv.n; i++) {
		const char *key = kv.v[i].key;

		if (!*key)
			abort();
		for (k = 0; key[k]; k++)
			if (!is_key(key[k]))
				abort();
		for (k = 0; k < i; k++)
			if (strcmp(kv.v[k].key, key) == 0)
				abort();
	}

	/* Every parsed value renders, or is refused as invalid UTF-8. */
	rc = kr_envfile_render(&env, &kv);
	if (rc != 0 && rc != KR_EINVAL)
		abort();
	if (rc == 0) {
		/* One line per key: no raw control characters inside. */
		size_t lines = 0;

		for (i = 0; i < env.len; i++) {
			unsigned char c = (unsigned char)env.ptr[i];

			if (c == '\n')
				lines++;
			else if (c < 0x20 || c == 0x7f)
				abort();
		}
		if (lines != (kv.n ? kv.n : 1))
			abort();
	}

	kr_buf_release(&env);
	kr_kvlist_release(&kv);
	kr_diags_release(&diags);
	kr_diags_release(&warnings);
	return 0;
}
