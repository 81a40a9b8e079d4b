/*
 * The registry client: resolve an image reference ([REGISTRY/]NAME[:TAG])
 * to the digest of its manifest through the registry HTTP API v2, on
 * libcurl. Plan uses it to tell "image not pushed yet" (KR_ENOTFOUND) apart
 * from a real change. Basic auth and the bearer-token challenge flow
 * (Docker Hub, GHCR) are supported; the password travels only in curl's
 * credential options, never in a URL, a log line or an error message.
 */
#ifndef KR_DRIVERS_REGISTRY_H
#define KR_DRIVERS_REGISTRY_H

#include <stdbool.h>

/* Docker Hub's API host, used when a reference names no registry. */
#define KR_REGISTRY_DOCKER_HUB "registry-1.docker.io"

/* A parsed image reference. Every field is owned and never NULL once parsed. */
struct kr_registry_ref {
	char *registry;	/* "host[:port]", KR_REGISTRY_DOCKER_HUB by default */
	char *name;	/* repository path, "library/" added for one-part Hub names */
	char *tag;	/* the tag ("latest" by default), or "sha256:..." for NAME@DIGEST */
};

/* Credentials; both NULL for anonymous access. Borrowed, never copied. */
struct kr_registry_auth {
	const char *username;
	const char *password;	/* SECRET */
};

enum kr_registry_scheme {
	KR_REGISTRY_SCHEME_AUTO = 0,	/* http for loopback and 198.18.0.0/15, else https */
	KR_REGISTRY_SCHEME_HTTPS,	/* always https */
	KR_REGISTRY_SCHEME_HTTP,	/* always plain http (an insecure registry) */
};

struct kr_registry_opts {
	enum kr_registry_scheme scheme;
	long timeout_ms;	/* per HTTP request, whole transfer; 0 = 30000 */
	long connect_timeout_ms;	/* 0 = 10000 */
	const char *ca_file;	/* extra CA bundle for TLS; NULL = system default */
};

/*
 * Parse "[REGISTRY/]NAME[:TAG][@DIGEST]" the way docker does: the first
 * path component is a registry when it contains '.' or ':' or is
 * "localhost"; "docker.io" and "index.docker.io" mean Docker Hub. `server`
 * (Kamal's registry.server) is prepended with a '/' when not NULL. Returns
 * 0 or KR_EINVAL; `out` is written only on success.
 */
int kr_registry_ref_parse(struct kr_registry_ref *out, const char *server,
	const char *image);
void kr_registry_ref_release(struct kr_registry_ref *ref);

/* True when `registry` ("host[:port]") is spoken to over plain http in AUTO mode. */
bool kr_registry_host_is_insecure(const char *registry);

/* The manifest URL for ref ("http[s]://REGISTRY/v2/NAME/manifests/TAG"); caller frees. */
char *kr_registry_manifest_url(const struct kr_registry_ref *ref,
	const struct kr_registry_opts *opts);

/*
 * Resolve ref to its manifest digest ("sha256:<hex>", caller frees) with a
 * HEAD request (falling back to GET) for the OCI index, OCI manifest,
 * Docker manifest list and Docker v2 manifest media types. auth and opts
 * may be NULL. Errors (the message names registry and image, never the
 * password):
 *   KR_ENOTFOUND  the tag (or repository) is not in the registry: not pushed yet
 *   KR_ETIMEOUT   connect or transfer took longer than the timeout
 *   KR_EREGISTRY  credentials refused or missing (401/403), TLS failure,
 *                 connection refused, unexpected HTTP status or answer
 *   KR_EINVAL     a bad reference
 */
int kr_registry_resolve(char **digest_out, const struct kr_registry_ref *ref,
	const struct kr_registry_auth *auth, const struct kr_registry_opts *opts);

#endif
