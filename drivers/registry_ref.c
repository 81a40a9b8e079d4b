/*
 * Image references for the registry client (see registry.h): parsing
 * "[REGISTRY/]NAME[:TAG][@DIGEST]" the way docker does, the validity of
 * each part, and whether a registry is spoken to over plain http.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/error.h"
#include "drivers/registry.h"
#include "drivers/registry_int.h"

static bool
is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Docker's path components: [a-z0-9] at both ends, [a-z0-9._-] inside. */
bool
kr_registry_valid_name(const char *s)
{
	const char *comp = s;
	const char *p;

	if (!*s)
		return false;
	for (p = s;; p++) {
		if (*p == '/' || *p == '\0') {
			size_t n = (size_t)(p - comp);

			if (n == 0 || !is_lower_alnum(comp[0]) ||
				!is_lower_alnum(comp[n - 1]))
				return false;
			if (*p == '\0')
				return true;
			comp = p + 1;
			continue;
		}
		if (!is_lower_alnum(*p) && *p != '.' && *p != '_' && *p != '-')
			return false;
	}
}

bool
kr_registry_valid_tag(const char *s)
{
	size_t i;

	if (!*s || strlen(s) > 128 || *s == '.' || *s == '-')
		return false;
	for (i = 0; s[i]; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
			s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

/* "algo:hex" with a lowercase algorithm and at least 32 hex digits. */
bool
kr_registry_valid_digest(const char *s)
{
	const char *colon = strchr(s, ':');
	const char *p;

	if (!colon || colon == s || strlen(colon + 1) < 32)
		return false;
	for (p = s; p < colon; p++)
		if (!is_lower_alnum(*p))
			return false;
	for (p = colon + 1; *p; p++)
		if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
			return false;
	return true;
}

/* "host[:port]" or "[v6]:port"; no user info, path, query or spaces. */
bool
kr_registry_valid_host(const char *s)
{
	const char *p = s;

	if (*p == '[') {
		p++;
		while (isxdigit((unsigned char)*p) || *p == ':' || *p == '.')
			p++;
		if (*p != ']' || p == s + 1)
			return false;
		p++;
	} else {
		if (!isalnum((unsigned char)*p))
			return false;
		while (isalnum((unsigned char)*p) || *p == '.' || *p == '-')
			p++;
	}
	if (*p == ':') {
		p++;
		if (!isdigit((unsigned char)*p) || strlen(p) > 5)
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

static bool
looks_like_registry(const char *comp, size_t n)
{
	return memchr(comp, '.', n) || memchr(comp, ':', n) ||
	       (n == 9 && strncmp(comp, "localhost", 9) == 0) ||
	       (n && comp[0] == '[');
}

int
kr_registry_ref_parse(
	struct kr_registry_ref *out, const char *server, const char *image)
{
	char *full = NULL, *registry = NULL, *name = NULL, *tag = NULL;
	char *rest, *at, *slash, *colon;
	int rc = KR_EINVAL;

	if (!image || !*image) {
		kr_error_set(KR_EINVAL, "empty image reference");
		return KR_EINVAL;
	}
	full = server && *server ? kr_xasprintf("%s/%s", server, image) :
				   kr_xstrdup(image);
	rest = full;
	at = strchr(rest, '@');
	if (at) {
		*at = '\0';
		if (!kr_registry_valid_digest(at + 1)) {
			kr_error_set(KR_EINVAL,
				"image '%s': invalid digest '%s'", image,
				at + 1);
			goto out;
		}
		tag = kr_xstrdup(at + 1);
	}
	slash = strchr(rest, '/');
	if (slash && looks_like_registry(rest, (size_t)(slash - rest))) {
		registry = kr_xstrndup(rest, (size_t)(slash - rest));
		rest = slash + 1;
		if (!kr_registry_valid_host(registry)) {
			kr_error_set(KR_EINVAL,
				"image '%s': invalid registry '%s'", image,
				registry);
			goto out;
		}
	}
	slash = strrchr(rest, '/');
	colon = strrchr(rest, ':');
	if (colon && (!slash || colon > slash)) {
		*colon = '\0';
		if (!kr_registry_valid_tag(colon + 1)) {
			kr_error_set(KR_EINVAL, "image '%s': invalid tag '%s'",
				image, colon + 1);
			goto out;
		}
		if (!tag)
			tag = kr_xstrdup(colon + 1);
	}
	if (!kr_registry_valid_name(rest)) {
		kr_error_set(KR_EINVAL,
			"image '%s': invalid repository name '%s' (lowercase "
			"letters, digits and . _ - / only)",
			image, rest);
		goto out;
	}
	if (!registry || strcmp(registry, "docker.io") == 0 ||
		strcmp(registry, "index.docker.io") == 0) {
		free(registry);
		registry = kr_xstrdup(KR_REGISTRY_DOCKER_HUB);
	}
	if (strcmp(registry, KR_REGISTRY_DOCKER_HUB) == 0 && !strchr(rest, '/'))
		name = kr_xasprintf("library/%s", rest);
	else
		name = kr_xstrdup(rest);
	if (!tag)
		tag = kr_xstrdup("latest");

	out->registry = registry;
	out->name = name;
	out->tag = tag;
	registry = name = tag = NULL;
	rc = 0;
out:
	free(full);
	free(registry);
	free(name);
	free(tag);
	return rc;
}

void
kr_registry_ref_release(struct kr_registry_ref *ref)
{
	if (!ref)
		return;
	free(ref->registry);
	free(ref->name);
	free(ref->tag);
	ref->registry = ref->name = ref->tag = NULL;
}

bool
kr_registry_host_is_insecure(const char *registry)
{
	char host[256];
	const char *end;
	size_t n;
	struct in_addr a4;
	struct in6_addr a6;

	if (registry[0] == '[') {
		end = strchr(registry, ']');
		if (!end)
			return false;
		registry++;
	} else {
		end = strchr(registry, ':');
		if (!end)
			end = registry + strlen(registry);
	}
	n = (size_t)(end - registry);
	if (n == 0 || n >= sizeof(host))
		return false;
	memcpy(host, registry, n);
	host[n] = '\0';
	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1) {
		unsigned long ip = ntohl(a4.s_addr);

		return (ip >> 24) == 127 || /* 127.0.0.0/8 */
		       (ip & 0xfffe0000ul) == 0xc6120000ul; /* 198.18.0.0/15 */
	}
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

bool
kr_registry_use_http(const char *registry, const struct kr_registry_opts *opts)
{
	switch (opts ? opts->scheme : KR_REGISTRY_SCHEME_AUTO) {
	case KR_REGISTRY_SCHEME_HTTP:
		return true;
	case KR_REGISTRY_SCHEME_HTTPS:
		return false;
	case KR_REGISTRY_SCHEME_AUTO:
	default:
		return kr_registry_host_is_insecure(registry);
	}
}

char *
kr_registry_manifest_url(
	const struct kr_registry_ref *ref, const struct kr_registry_opts *opts)
{
	return kr_xasprintf("%s://%s/v2/%s/manifests/%s",
		kr_registry_use_http(ref->registry, opts) ? "http" : "https",
		ref->registry, ref->name, ref->tag);
}
