/*
 * libFuzzer target for the observe output parser (kr_docker_parse,
 * drivers/docker_parse.c and docker_inspect.c): the framed output of the
 * observe script as a host prints it, `docker inspect` JSON included. The
 * scope is the one tests/fixtures/observed was recorded with; the first
 * input byte chooses whether the scope keeps env values only for clear
 * keys (as kr_docker_scope_from_desired sets it) or masks by key name.
 * Beyond "no crash, no leak" it checks: the return code and status agree,
 * and with the clear list every env value but the clear key's reads
 * KR_SENSITIVE.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "drivers/docker.h"
#include "state/desired.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kr_strvec db_data = { 0 }, sensitive = { 0 };
	struct kr_kvlist web_env = { 0 };
	struct kr_docker_accessory acc = {
		.name = "db", .container = "krobs-db", .data_dirs = &db_data
	};
	struct kr_docker_clear clear = { .role = "web", .env = &web_env };
	struct kr_docker_scope scope = { .service = "krobs",
		.accessories = &acc,
		.naccessories = 1,
		.proxy_container = "krobs-proxy",
		.sensitive_keys = &sensitive };
	struct kr_observed_host h;
	bool strict = size > 0 && (data[0] & 1);
	size_t i, j;
	int rc;

	kr_strvec_push(&db_data, "krobs-db/data");
	kr_strvec_push(&sensitive, "STAGING_TOKEN");
	kr_kvlist_append(&web_env, "SAMPLE_MESSAGE", "hello");
	if (strict) {
		scope.clear = &clear;
		scope.nclear = 1;
	}
	if (size > 0) {
		data++;
		size--;
	}
	memset(&h, 0, sizeof(h));
	rc = kr_docker_parse(&h, "198.18.0.12", &scope, "fixture0nonce000",
		(const char *)data, size);
	if (rc == 0 && h.status != KR_OBS_OK)
		abort();
	if (rc == KR_EDOCKER && h.status != KR_OBS_NO_DOCKER)
		abort();
	if (rc != 0 && rc != KR_EDOCKER && rc != KR_EPARSE)
		abort();
	for (i = 0; strict && i < h.ncontainers; i++)
		for (j = 0; j < h.containers[i].env.n; j++) {
			const struct kr_kv *e = &h.containers[i].env.v[j];

			if (strcmp(e->key, "SAMPLE_MESSAGE") != 0 && e->value &&
				strcmp(e->value, KR_SENSITIVE) != 0)
				abort();
		}
	kr_observed_host_release(&h);
	kr_strvec_release(&db_data);
	kr_strvec_release(&sensitive);
	kr_kvlist_release(&web_env);
	return 0;
}
