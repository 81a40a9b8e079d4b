/*
 * Unit tests of the webhook check (reconciler/webhook.c): GitHub's and
 * Gitea/Forgejo's HMAC-SHA256 signatures and GitLab's token, accepted only
 * with the right secret; pushes to other branches, tags and other events
 * ignored; bodies that are not a push refused; the HMAC against a value
 * computed with openssl(1) on this machine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "reconciler/webhook.h"

/* Request headers as name/value pairs, NULL-terminated. */
static const char *
hdr(void *ctx, const char *name)
{
	const char **h = ctx;

	for (; h[0]; h += 2)
		if (strcasecmp(h[0], name) == 0)
			return h[1];
	return NULL;
}

static const char secret[] = "s3cr3t-webhook";
static const char push_main[] =
	"{\"ref\":\"refs/heads/main\",\"after\":"
	"\"0123456789abcdef0123456789abcdef01234567\",\"commits\":[]}";

static enum kr_webhook_verdict
check(const char **headers, const char *body, const char *key,
	struct kr_webhook_event *ev)
{
	kr_webhook_check(ev, hdr, headers, body, strlen(body), key, "main");
	return ev->verdict;
}

static void
test_hmac_matches_openssl(void **state)
{
	char mine[65], theirs[128] = "";
	FILE *p;

	(void)state;
	kr_webhook_hmac_hex(mine, secret, push_main, strlen(push_main));
	assert_int_equal(strlen(mine), 64);
	p = popen("printf '%s' '{\"ref\":\"refs/heads/main\",\"after\":"
		  "\"0123456789abcdef0123456789abcdef01234567\",\"commits\":"
		  "[]}' | openssl dgst -sha256 -hmac 's3cr3t-webhook' -r",
		"r");
	if (!p || !fgets(theirs, sizeof(theirs), p)) {
		if (p)
			pclose(p);
		skip(); /* openssl(1) is not installed here */
	}
	pclose(p);
	theirs[64] = '\0';
	assert_string_equal(mine, theirs);
}

static void
test_github(void **state)
{
	struct kr_webhook_event ev;
	char sig[80], hex[65];
	const char *h[] = { "X-GitHub-Event", "push", "X-Hub-Signature-256",
		sig, NULL };

	(void)state;
	kr_webhook_hmac_hex(hex, secret, push_main, strlen(push_main));
	snprintf(sig, sizeof(sig), "sha256=%s", hex);
	assert_int_equal(check(h, push_main, secret, &ev), KR_WEBHOOK_PUSH);
	assert_string_equal(ev.provider, "github");
	assert_string_equal(ev.branch, "main");
	assert_string_equal(
		ev.commit, "0123456789abcdef0123456789abcdef01234567");
	kr_webhook_event_release(&ev);
	/* upper-case hex is the same signature */
	for (size_t i = 7; sig[i]; i++)
		if (sig[i] >= 'a' && sig[i] <= 'f')
			sig[i] = (char)(sig[i] - 'a' + 'A');
	assert_int_equal(check(h, push_main, secret, &ev), KR_WEBHOOK_PUSH);
	kr_webhook_event_release(&ev);
	/* another secret, a changed body, a cut or missing signature */
	assert_int_equal(
		check(h, push_main, "other", &ev), KR_WEBHOOK_UNAUTHORIZED);
	kr_webhook_event_release(&ev);
	assert_int_equal(check(h, "{\"ref\":\"refs/heads/main\"}", secret, &ev),
		KR_WEBHOOK_UNAUTHORIZED);
	kr_webhook_event_release(&ev);
	sig[40] = '\0';
	assert_int_equal(
		check(h, push_main, secret, &ev), KR_WEBHOOK_UNAUTHORIZED);
	assert_null(strstr(ev.reason, secret));
	kr_webhook_event_release(&ev);
	h[2] = "X-Nothing";
	assert_int_equal(
		check(h, push_main, secret, &ev), KR_WEBHOOK_UNAUTHORIZED);
	kr_webhook_event_release(&ev);
	/* no secret configured: nothing is accepted */
	h[2] = "X-Hub-Signature-256";
	assert_int_equal(check(h, push_main, "", &ev), KR_WEBHOOK_UNAUTHORIZED);
	kr_webhook_event_release(&ev);
}

static void
test_gitea_forgejo(void **state)
{
	struct kr_webhook_event ev;
	char hex[65];
	const char *gitea[] = { "X-Gitea-Event", "push", "X-Gitea-Signature",
		hex, NULL };
	const char *forgejo[] = { "X-Forgejo-Event", "push",
		"X-Forgejo-Signature", hex, NULL };

	(void)state;
	kr_webhook_hmac_hex(hex, secret, push_main, strlen(push_main));
	assert_int_equal(check(gitea, push_main, secret, &ev), KR_WEBHOOK_PUSH);
	assert_string_equal(ev.provider, "gitea");
	kr_webhook_event_release(&ev);
	assert_int_equal(
		check(forgejo, push_main, secret, &ev), KR_WEBHOOK_PUSH);
	assert_string_equal(ev.provider, "forgejo");
	kr_webhook_event_release(&ev);
	hex[0] = hex[0] == 'a' ? 'b' : 'a';
	assert_int_equal(
		check(gitea, push_main, secret, &ev), KR_WEBHOOK_UNAUTHORIZED);
	kr_webhook_event_release(&ev);
}

static void
test_gitlab(void **state)
{
	struct kr_webhook_event ev;
	const char *h[] = { "X-Gitlab-Event", "Push Hook", "X-Gitlab-Token",
		secret, NULL };
	const char *wrong[] = { "X-Gitlab-Event", "Push Hook", "X-Gitlab-Token",
		"s3cr3t-webhooK", NULL };
	const char *tag[] = { "X-Gitlab-Event", "Tag Push Hook",
		"X-Gitlab-Token", secret, NULL };

	(void)state;
	assert_int_equal(check(h, push_main, secret, &ev), KR_WEBHOOK_PUSH);
	assert_string_equal(ev.provider, "gitlab");
	kr_webhook_event_release(&ev);
	assert_int_equal(
		check(wrong, push_main, secret, &ev), KR_WEBHOOK_UNAUTHORIZED);
	kr_webhook_event_release(&ev);
	assert_int_equal(
		check(tag, push_main, secret, &ev), KR_WEBHOOK_IGNORED);
	kr_webhook_event_release(&ev);
}

static void
test_ignored_and_bad(void **state)
{
	struct kr_webhook_event ev;
	char sig[80], hex[65];
	const char *h[] = { "X-GitHub-Event", "push", "X-Hub-Signature-256",
		sig, NULL };
	const char *bodies[][2] = {
		{ "{\"ref\":\"refs/heads/feature\",\"after\":\"x\"}", "i" },
		{ "{\"ref\":\"refs/tags/v1\"}", "i" },
		{ "{\"after\":\"abc\"}", "b" },
		{ "not json", "b" },
		{ "[1,2]", "b" },
		{ "{\"ref\":\"refs/heads/main\",\"ref\":\"refs/heads/x\"}",
			"b" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		const char *b = bodies[i][0];

		kr_webhook_hmac_hex(hex, secret, b, strlen(b));
		snprintf(sig, sizeof(sig), "sha256=%s", hex);
		assert_int_equal(check(h, b, secret, &ev),
			bodies[i][1][0] == 'i' ? KR_WEBHOOK_IGNORED :
						 KR_WEBHOOK_BAD);
		kr_webhook_event_release(&ev);
	}
	/* a signed ping is authentic, and no push */
	h[1] = "ping";
	kr_webhook_hmac_hex(hex, secret, push_main, strlen(push_main));
	snprintf(sig, sizeof(sig), "sha256=%s", hex);
	assert_int_equal(check(h, push_main, secret, &ev), KR_WEBHOOK_IGNORED);
	kr_webhook_event_release(&ev);
}

static void
test_equal(void **state)
{
	(void)state;
	assert_true(kr_webhook_equal("abc", "abc"));
	assert_false(kr_webhook_equal("abc", "abd"));
	assert_false(kr_webhook_equal("abc", "abcd"));
	assert_false(kr_webhook_equal("", "a"));
	assert_true(kr_webhook_equal("", ""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmac_matches_openssl),
		cmocka_unit_test(test_github),
		cmocka_unit_test(test_gitea_forgejo),
		cmocka_unit_test(test_gitlab),
		cmocka_unit_test(test_ignored_and_bad),
		cmocka_unit_test(test_equal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
