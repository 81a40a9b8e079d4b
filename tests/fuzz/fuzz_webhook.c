/*
 * libFuzzer target for the webhook check (reconciler/webhook.c). The first
 * byte picks the provider's headers and whether the body is signed with
 * the right secret (so the JSON reading is reached: a fuzzer cannot forge
 * an HMAC); the rest is the body. Invariants: only a correctly signed
 * request is ever more than "unauthorized", and a push is always to the
 * watched branch.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reconciler/webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char secret[] = "fuzz-secret";

static const char *
hdr(void *ctx, const char *name)
{
	const char **h = ctx;

	for (; h[0]; h += 2)
		if (strcasecmp(h[0], name) == 0)
			return h[1];
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kr_webhook_event ev;
	char hex[65], sig[80];
	const char *h[7] = { NULL };
	const char *body;
	unsigned mode;
	bool signed_ok;

	if (size < 1)
		return 0;
	mode = data[0];
	body = (const char *)data + 1;
	size--;
	signed_ok = mode & 1;
	kr_webhook_hmac_hex(
		hex, signed_ok ? secret : "not-the-secret", body, size);
	snprintf(sig, sizeof(sig), "sha256=%s", hex);
	switch ((mode >> 1) & 3) {
	case 0:
		h[0] = "X-GitHub-Event";
		h[1] = mode & 8 ? "push" : "ping";
		h[2] = "X-Hub-Signature-256";
		h[3] = sig;
		break;
	case 1:
		h[0] = "X-Gitea-Event";
		h[1] = "push";
		h[2] = "X-Gitea-Signature";
		h[3] = hex;
		break;
	case 2:
		h[0] = "X-Gitlab-Event";
		h[1] = mode & 8 ? "Push Hook" : "Tag Push Hook";
		h[2] = "X-Gitlab-Token";
		h[3] = signed_ok ? secret : "wrong";
		break;
	default:
		h[0] = "X-Forgejo-Signature";
		h[1] = hex;
		break;
	}
	kr_webhook_check(&ev, hdr, h, body, size, secret, "main");
	if (!signed_ok && ev.verdict != KR_WEBHOOK_UNAUTHORIZED)
		abort();
	if (ev.verdict == KR_WEBHOOK_PUSH &&
		(!ev.branch || strcmp(ev.branch, "main") != 0))
		abort();
	if (ev.reason && strstr(ev.reason, secret))
		abort();
	kr_webhook_event_release(&ev);
	return 0;
}
