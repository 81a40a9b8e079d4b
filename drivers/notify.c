/* POSTing notification events with libcurl (see notify.h). */
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "common/error.h"
#include "drivers/notify.h"

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* The URL for messages: scheme, host and path, no user info or query
 * (a Slack webhook's path is its secret: only the host is named). */
static void
safe_url(char *out, size_t size, const char *url)
{
	const char *s = strstr(url, "://"), *host, *at, *end;

	if (!s) {
		snprintf(out, size, "(not a URL)");
		return;
	}
	host = s + 3;
	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	if (at)
		host = at + 1;
	snprintf(out, size, "%.*s://%.*s/...", (int)(s - url), url,
		(int)(end - host), host);
}

int
kr_notify_post(const char *url, const char *body, size_t len,
	const struct kr_notify_opts *o)
{
	int timeout = o && o->timeout_ms > 0 ? o->timeout_ms : 5000;
	int attempts = o && o->attempts > 0 ? o->attempts : 3;
	int backoff = o && o->backoff_ms > 0 ? o->backoff_ms : 500;
	struct curl_slist *h = NULL;
	char why[CURL_ERROR_SIZE] = "", where[256];
	long status = 0;
	int i, err = KR_EIO;
	CURL *c = curl_easy_init();

	safe_url(where, sizeof(where), url);
	if (!c) {
		kr_error_set(
			KR_ENOMEM, "notify %s: cannot start libcurl", where);
		return KR_ENOMEM;
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, why);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "kreconcile/" KR_VERSION);
	for (i = 0; i < attempts; i++) {
		CURLcode rc;

		if (i)
			poll(NULL, 0, backoff << (i - 1));
		why[0] = '\0';
		rc = curl_easy_perform(c);
		if (rc == CURLE_OK) {
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
			if (status >= 200 && status < 300) {
				err = 0;
				break;
			}
			snprintf(why, sizeof(why), "HTTP %ld", status);
			/* a 4xx other than 408/429 will not get better */
			if (status >= 400 && status < 500 && status != 408 &&
				status != 429) {
				i = attempts;
				break;
			}
		} else if (!*why) {
			snprintf(
				why, sizeof(why), "%s", curl_easy_strerror(rc));
		}
	}
	if (err)
		kr_error_set(KR_EIO, "notify %s: %s (after %d attempt%s)",
			where, why, i > attempts ? attempts : i,
			(i > attempts ? attempts : i) == 1 ? "" : "s");
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return err;
}
