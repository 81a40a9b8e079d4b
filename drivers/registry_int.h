/*
 * What the files of the registry client share and nothing else sees (the
 * API is registry.h): the validity of reference parts, one request's
 * context and answer, the request itself, and the challenge-answering
 * fetch that resolve calls.
 */
#ifndef KR_DRIVERS_REGISTRY_INT_H
#define KR_DRIVERS_REGISTRY_INT_H

#include <stdbool.h>

#include <curl/curl.h>

#include "common/buf.h"
#include "drivers/registry.h"

/* The OCI distribution spec's manifest limit. */
#define REG_MANIFEST_MAX (4u << 20)
#define REG_TOKEN_MAX (1u << 20)
#define REG_HEADER_MAX 8192

/* registry_ref.c: docker's rules for each part of a reference. */
bool kr_registry_valid_name(const char *s);
bool kr_registry_valid_tag(const char *s);
bool kr_registry_valid_digest(const char *s);
bool kr_registry_valid_host(const char *s);
bool kr_registry_use_http(
	const char *registry, const struct kr_registry_opts *opts);

enum reg_auth_mode { REG_AUTH_NONE, REG_AUTH_BASIC, REG_AUTH_BEARER };

struct reg_ctx {
	CURL *curl;
	const struct kr_registry_ref *ref;
	const struct kr_registry_auth *auth;
	const struct kr_registry_opts *opts;
	char display[1024]; /* REGISTRY/NAME:TAG for messages */
	long timeout_ms;
	long connect_timeout_ms;
	bool http; /* plain http allowed for this registry */
	char *token; /* bearer token; SECRET-ish, zeroed on release */
};

struct reg_response {
	long status;
	struct kr_buf body;
	char *digest; /* Docker-Content-Digest */
	char *challenge; /* preferred WWW-Authenticate value */
	bool truncated;
};

/* registry_http.c */
void kr_registry_response_init(struct reg_response *r, size_t max);
void kr_registry_response_release(struct reg_response *r);
/* curl_global_init once per process; KR_EREGISTRY when it failed. */
int kr_registry_curl_init(void);
/*
 * One request. `head` selects HEAD, else GET; `accept` adds the manifest
 * media types. Returns 0 with resp->status set, or a curl error.
 */
int kr_registry_request(struct reg_ctx *c, struct reg_response *resp,
	const char *url, bool head, bool accept, enum reg_auth_mode mode,
	const char *what);
/* The error for an unexpected HTTP status (KR_ENOTFOUND for 404). */
int kr_registry_http_error(
	const struct reg_ctx *c, long status, const char *what);

/*
 * registry_auth.c: request the manifest URL; on a first 401, answer the
 * challenge and ask once more. *mode carries the auth that worked.
 */
int kr_registry_fetch(struct reg_ctx *c, struct reg_response *resp,
	const char *url, bool head, enum reg_auth_mode *mode);

/*
 * The parsers of what a registry sends, for tests and fuzzing: one
 * response header line as libcurl hands it over (Docker-Content-Digest,
 * WWW-Authenticate into r), and a WWW-Authenticate value (0 when it parses;
 * the parts are then freed).
 */
void kr_registry_header_line(struct reg_response *r, char *line, size_t len);
int kr_registry_challenge_check(const char *value);

#endif
