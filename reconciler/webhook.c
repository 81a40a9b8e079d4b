/* Checking and reading push webhooks (see webhook.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/error.h"
#include "reconciler/webhook.h"

void
kr_webhook_hmac_hex(char out[65], const char *key, const void *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	HMAC(EVP_sha256(), key, (int)strlen(key), data, len, mac, &n);
	for (i = 0; i < n && i < 32; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 15];
	}
	out[2 * i] = '\0';
	OPENSSL_cleanse(mac, sizeof(mac));
}

int
kr_webhook_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return 0;
	return CRYPTO_memcmp(a, b, la) == 0;
}

/* The hex digest a signature header carries, lowercased ("" when it is not
 * one: wrong prefix, length or characters). */
static void
digest_of(char out[65], const char *header, const char *prefix)
{
	size_t n = strlen(prefix), i;

	out[0] = '\0';
	if (!header || strncmp(header, prefix, n) != 0)
		return;
	header += n;
	if (strlen(header) != 64)
		return;
	for (i = 0; i < 64; i++) {
		if (!isxdigit((unsigned char)header[i]))
			return;
		out[i] = (char)tolower((unsigned char)header[i]);
	}
	out[64] = '\0';
}

static void
set(struct kr_webhook_event *ev, enum kr_webhook_verdict v, const char *why)
{
	ev->verdict = v;
	free(ev->reason);
	ev->reason = kr_xstrdup(why);
}

/* Which host sent it, and whether it proves it knows the secret. */
static int
authentic(struct kr_webhook_event *ev, kr_webhook_header_fn hdr, void *ctx,
	const char *body, size_t len, const char *secret)
{
	const char *gl = hdr(ctx, "X-Gitlab-Token");
	const char *gh = hdr(ctx, "X-Hub-Signature-256");
	const char *gt = hdr(ctx, "X-Gitea-Signature");
	const char *fj = hdr(ctx, "X-Forgejo-Signature");
	char want[65], got[65];
	int ok = 0;

	if (hdr(ctx, "X-GitHub-Event"))
		ev->provider = "github";
	else if (hdr(ctx, "X-Forgejo-Event"))
		ev->provider = "forgejo";
	else if (hdr(ctx, "X-Gitea-Event"))
		ev->provider = "gitea";
	else if (hdr(ctx, "X-Gitlab-Event"))
		ev->provider = "gitlab";
	if (gl)
		return kr_webhook_equal(gl, secret);
	if (!gh && !gt && !fj)
		return 0;
	kr_webhook_hmac_hex(want, secret, body, len);
	if (gh) {
		digest_of(got, gh, "sha256=");
		ok = *got && kr_webhook_equal(got, want);
	} else {
		digest_of(got, gt ? gt : fj, "");
		ok = *got && kr_webhook_equal(got, want);
	}
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

/* Whether the event names a push (a ping or another event is not). */
static int
is_push(kr_webhook_header_fn hdr, void *ctx)
{
	static const char *const names[] = { "X-GitHub-Event", "X-Gitea-Event",
		"X-Forgejo-Event", "X-Gitlab-Event", NULL };
	size_t i;

	for (i = 0; names[i]; i++) {
		const char *v = hdr(ctx, names[i]);

		if (v)
			return strcmp(v, "push") == 0 ||
			       strcmp(v, "Push Hook") == 0;
	}
	return 1; /* no event header: judge by the body */
}

void
kr_webhook_check(struct kr_webhook_event *out, kr_webhook_header_fn hdr,
	void *hdr_ctx, const char *body, size_t body_len, const char *secret,
	const char *branch)
{
	json_error_t jerr;
	json_t *root = NULL;
	const char *ref, *after;

	memset(out, 0, sizeof(*out));
	out->provider = "unknown";
	if (!secret || !*secret) {
		set(out, KR_WEBHOOK_UNAUTHORIZED, "no webhook secret is set");
		return;
	}
	if (!authentic(out, hdr, hdr_ctx, body, body_len, secret)) {
		set(out, KR_WEBHOOK_UNAUTHORIZED,
			"missing or wrong signature or token");
		return;
	}
	if (!is_push(hdr, hdr_ctx)) {
		set(out, KR_WEBHOOK_IGNORED, "not a push event");
		return;
	}
	root = json_loadb(body, body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root || !json_is_object(root)) {
		set(out, KR_WEBHOOK_BAD, "the body is not a JSON object");
		goto out;
	}
	ref = json_string_value(json_object_get(root, "ref"));
	after = json_string_value(json_object_get(root, "after"));
	if (!ref) {
		set(out, KR_WEBHOOK_BAD, "the push names no \"ref\"");
		goto out;
	}
	if (strncmp(ref, "refs/heads/", 11) != 0) {
		set(out, KR_WEBHOOK_IGNORED, "not a branch push");
		goto out;
	}
	out->branch = kr_xstrdup(ref + 11);
	if (after && strspn(after, "0123456789abcdef") == strlen(after) &&
		(strlen(after) == 40 || strlen(after) == 64))
		out->commit = kr_xstrdup(after);
	if (branch && strcmp(out->branch, branch) != 0) {
		set(out, KR_WEBHOOK_IGNORED, "a push to another branch");
		goto out;
	}
	set(out, KR_WEBHOOK_PUSH, "a push to the watched branch");
out:
	json_decref(root);
}

void
kr_webhook_event_release(struct kr_webhook_event *ev)
{
	if (!ev)
		return;
	free(ev->branch);
	free(ev->commit);
	free(ev->reason);
	memset(ev, 0, sizeof(*ev));
}
