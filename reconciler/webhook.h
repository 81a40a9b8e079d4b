/*
 * Push webhooks from git hosts, checked and read: GitHub and
 * Gitea/Forgejo sign the body with HMAC-SHA256 of the shared secret
 * (X-Hub-Signature-256 "sha256=<hex>", X-Gitea-Signature /
 * X-Forgejo-Signature "<hex>"); GitLab sends the secret itself
 * (X-Gitlab-Token). A pure function of the request: no I/O, so it is
 * unit-tested and fuzzed alone.
 */
#ifndef KR_RECONCILER_WEBHOOK_H
#define KR_RECONCILER_WEBHOOK_H

#include <stddef.h>

enum kr_webhook_verdict {
	KR_WEBHOOK_PUSH, /* a push to the watched branch: poll now */
	KR_WEBHOOK_IGNORED, /* authentic, but not a push to that branch */
	KR_WEBHOOK_UNAUTHORIZED, /* no or a wrong signature or token */
	KR_WEBHOOK_BAD, /* authentic but unreadable (not JSON, no ref) */
};

struct kr_webhook_event {
	enum kr_webhook_verdict verdict;
	const char *provider; /* "github", "gitea", "forgejo", "gitlab",
				 "unknown" */
	char *branch; /* the pushed branch; NULL */
	char *commit; /* the pushed head; NULL */
	char *reason; /* for the log and the response; never the secret */
};

/* A request header's value by case-insensitive name, or NULL. */
typedef const char *(*kr_webhook_header_fn)(void *ctx, const char *name);

/*
 * Check a webhook request against secret (never empty) and read which
 * branch it pushed. branch: the watched one. Always fills out (release
 * it).
 */
void kr_webhook_check(struct kr_webhook_event *out, kr_webhook_header_fn hdr,
	void *hdr_ctx, const char *body, size_t body_len, const char *secret,
	const char *branch);
void kr_webhook_event_release(struct kr_webhook_event *ev);

/* HMAC-SHA256 of data with key, as 64 lowercase hex digits and a NUL. */
void kr_webhook_hmac_hex(
	char out[65], const char *key, const void *data, size_t len);
/* a and b are equal, in time that depends on their lengths only. */
int kr_webhook_equal(const char *a, const char *b);

#endif
