/*
 * libFuzzer target for what kreconcile reads about images and from a
 * registry: image references (kr_registry_ref_parse, registry_ref.c), the
 * response header lines libcurl hands over (Docker-Content-Digest,
 * WWW-Authenticate; registry_http.c) and the WWW-Authenticate challenge
 * (RFC 7235 auth-params; registry_auth.c). The input is split at its first
 * two newlines: image reference, header line, challenge. Checks: a parsed
 * reference has a valid registry, name, and tag or digest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "drivers/registry.h"
#include "drivers/registry_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next newline-ended part of [*p, end) as a new string. */
static char *
part(const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	const char *stop = nl ? nl : end;
	char *s = kr_xstrndup(*p, (size_t)(stop - *p));

	*p = nl ? nl + 1 : end;
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	char *image = part(&p, end), *header = part(&p, end);
	char *challenge = part(&p, end);
	struct kr_registry_ref ref;
	struct reg_response r;

	/* a NUL inside a part ends it, as in a C string from a config */
	memset(&ref, 0, sizeof(ref));
	if (kr_registry_ref_parse(&ref, NULL, image) == 0) {
		if (!ref.registry || !kr_registry_valid_host(ref.registry) ||
			!ref.name || !kr_registry_valid_name(ref.name))
			abort();
		if (!ref.tag || !(kr_registry_valid_tag(ref.tag) ||
					kr_registry_valid_digest(ref.tag)))
			abort();
		kr_registry_ref_release(&ref);
	}
	if (kr_registry_ref_parse(&ref, "198.18.0.1:5000", image) == 0)
		kr_registry_ref_release(&ref);

	kr_registry_response_init(&r, 1 << 16);
	kr_registry_header_line(&r, header, strlen(header));
	kr_registry_header_line(&r, challenge, strlen(challenge));
	if (r.challenge)
		kr_registry_challenge_check(r.challenge);
	kr_registry_challenge_check(challenge);
	kr_registry_response_release(&r);

	free(image);
	free(header);
	free(challenge);
	return 0;
}
