/*
 * One HTTP request of the registry client on libcurl: the options (timeouts,
 * protocols, no credentials on redirects), the manifest media types, the
 * credentials given only through curl's options and dropped after the
 * request, the answer's body (capped) and the headers kept
 * (Docker-Content-Digest, WWW-Authenticate). libcurl's errors are
 * translated in exactly one place, reg_curl_error(); HTTP statuses in
 * kr_registry_http_error().
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "common/buf.h"
#include "common/error.h"
#include "drivers/registry.h"
#include "drivers/registry_int.h"

static const char *const reg_accept[] = {
	"Accept: application/vnd.oci.image.index.v1+json",
	"Accept: application/vnd.oci.image.manifest.v1+json",
	"Accept: application/vnd.docker.distribution.manifest.list.v2+json",
	"Accept: application/vnd.docker.distribution.manifest.v2+json",
};

void
kr_registry_response_init(struct reg_response *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	kr_buf_init(&r->body, max);
}

void
kr_registry_response_release(struct reg_response *r)
{
	kr_buf_release(&r->body);
	free(r->digest);
	free(r->challenge);
	r->digest = r->challenge = NULL;
}

static pthread_once_t reg_curl_once = PTHREAD_ONCE_INIT;
static CURLcode reg_curl_init_rc;

static void
reg_curl_init(void)
{
	reg_curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int
kr_registry_curl_init(void)
{
	pthread_once(&reg_curl_once, reg_curl_init);
	if (reg_curl_init_rc != CURLE_OK) {
		kr_error_set(KR_EREGISTRY, "cannot initialise libcurl: %s",
			curl_easy_strerror(reg_curl_init_rc));
		return KR_EREGISTRY;
	}
	return 0;
}

static size_t
reg_write_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct reg_response *r = userdata;
	size_t n = size * nmemb;

	if (kr_buf_put(&r->body, data, n) < 0) {
		r->truncated = true;
		return 0; /* makes curl fail with CURLE_WRITE_ERROR */
	}
	return n;
}

static char *
header_value(const char *line, size_t len, const char *name)
{
	size_t nlen = strlen(name);
	const char *v, *end;

	if (len <= nlen || strncasecmp(line, name, nlen) != 0 ||
		line[nlen] != ':')
		return NULL;
	v = line + nlen + 1;
	end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
				  end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return kr_xstrndup(v, (size_t)(end - v));
}

static size_t
reg_header_cb(char *line, size_t size, size_t nitems, void *userdata)
{
	struct reg_response *r = userdata;
	size_t len = size * nitems;
	char *v;

	if (len > REG_HEADER_MAX)
		return len; /* ignore absurd headers rather than keep them */
	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* A new response (after a redirect or 100): forget the last
		 * one. */
		free(r->digest);
		free(r->challenge);
		r->digest = r->challenge = NULL;
		return len;
	}
	if ((v = header_value(line, len, "Docker-Content-Digest"))) {
		free(r->digest);
		r->digest = v;
	} else if ((v = header_value(line, len, "WWW-Authenticate"))) {
		/* Prefer a Bearer challenge over Basic when both are offered.
		 */
		if (!r->challenge || strncasecmp(v, "Bearer", 6) == 0) {
			free(r->challenge);
			r->challenge = v;
		} else {
			free(v);
		}
	}
	return len;
}

void
kr_registry_header_line(struct reg_response *r, char *line, size_t len)
{
	reg_header_cb(line, 1, len, r);
}

/* The one place libcurl's errors become kreconcile errors. */
static int
reg_curl_error(const struct reg_ctx *c, CURLcode rc, const char *errbuf,
	const char *what)
{
	const char *why = errbuf && errbuf[0] ? errbuf : curl_easy_strerror(rc);

	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		kr_error_set(KR_ETIMEOUT,
			"registry '%s' did not answer %s in time (connect "
			"timeout %ld ms, request timeout %ld ms): %s",
			c->ref->registry, what, c->connect_timeout_ms,
			c->timeout_ms, why);
		return KR_ETIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
		kr_error_set(KR_EREGISTRY,
			"tls failure talking to registry '%s' (%s): %s; a "
			"registry served over plain http must be configured as "
			"insecure",
			c->ref->registry, what, why);
		return KR_EREGISTRY;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		kr_error_set(KR_EREGISTRY,
			"cannot resolve the host of registry '%s': %s",
			c->ref->registry, why);
		return KR_EREGISTRY;
	case CURLE_COULDNT_CONNECT:
		kr_error_set(KR_EREGISTRY,
			"cannot connect to registry '%s': %s", c->ref->registry,
			why);
		return KR_EREGISTRY;
	case CURLE_WRITE_ERROR:
		kr_error_set(KR_EREGISTRY,
			"registry '%s' sent too large an answer to %s",
			c->ref->registry, what);
		return KR_EREGISTRY;
	default:
		kr_error_set(KR_EREGISTRY, "registry '%s' (%s): %s",
			c->ref->registry, what, why);
		return KR_EREGISTRY;
	}
}

/* The one place unexpected HTTP statuses become kreconcile errors. */
int
kr_registry_http_error(const struct reg_ctx *c, long status, const char *what)
{
	bool have_creds = c->auth && c->auth->username;

	if (status == 401 || status == 403) {
		if (have_creds)
			kr_error_set(KR_EREGISTRY,
				"registry '%s' refused the credentials for "
				"'%s' (HTTP %ld): check the registry username "
				"and password, and that the repository exists",
				c->ref->registry, c->display, status);
		else
			kr_error_set(KR_EREGISTRY,
				"registry '%s' requires credentials for '%s' "
				"(HTTP %ld) and none are configured: set "
				"registry username and password",
				c->ref->registry, c->display, status);
		return KR_EREGISTRY;
	}
	if (status == 404) {
		kr_error_set(KR_ENOTFOUND,
			"image '%s' not found in registry '%s' (HTTP 404): the "
			"tag is not pushed yet",
			c->display, c->ref->registry);
		return KR_ENOTFOUND;
	}
	if (status == 429) {
		kr_error_set(KR_EREGISTRY,
			"registry '%s' is rate limiting requests (HTTP 429) "
			"for %s",
			c->ref->registry, what);
		return KR_EREGISTRY;
	}
	kr_error_set(KR_EREGISTRY,
		"registry '%s' answered HTTP %ld to %s of '%s'",
		c->ref->registry, status, what, c->display);
	return KR_EREGISTRY;
}

/*
 * One request. `head` selects HEAD, else GET; `accept` adds the manifest
 * media types. Returns 0 with resp->status set, or a curl error.
 */
int
kr_registry_request(struct reg_ctx *c, struct reg_response *resp,
	const char *url, bool head, bool accept, enum reg_auth_mode mode,
	const char *what)
{
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *hdrs = NULL;
	CURLcode rc;
	size_t i;
	int ret = 0;

	curl_easy_reset(c->curl);
	errbuf[0] = '\0';
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(
		c->curl, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "kreconcile/" KR_VERSION);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR,
		c->http ? "http,https" : "https");
	curl_easy_setopt(c->curl, CURLOPT_REDIR_PROTOCOLS_STR,
		c->http ? "http,https" : "https");
	curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c->curl, CURLOPT_MAXREDIRS, 5L);
	/* Credentials go only to the host we asked (curl's default), never on a
	 * redirect. */
	curl_easy_setopt(c->curl, CURLOPT_UNRESTRICTED_AUTH, 0L);
	if (c->opts && c->opts->ca_file)
		curl_easy_setopt(c->curl, CURLOPT_CAINFO, c->opts->ca_file);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, reg_header_cb);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, reg_write_cb);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, resp);
	if (head)
		curl_easy_setopt(c->curl, CURLOPT_NOBODY, 1L);
	else
		curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
	if (accept)
		for (i = 0; i < sizeof(reg_accept) / sizeof(reg_accept[0]); i++)
			hdrs = curl_slist_append(hdrs, reg_accept[i]);
	if (hdrs)
		curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
	if (mode == REG_AUTH_BASIC) {
		curl_easy_setopt(
			c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c->curl, CURLOPT_USERNAME, c->auth->username);
		curl_easy_setopt(c->curl, CURLOPT_PASSWORD,
			c->auth->password ? c->auth->password : "");
	} else if (mode == REG_AUTH_BEARER) {
		curl_easy_setopt(
			c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		curl_easy_setopt(c->curl, CURLOPT_XOAUTH2_BEARER, c->token);
	}

	rc = curl_easy_perform(c->curl);
	if (rc != CURLE_OK) {
		ret = reg_curl_error(c, rc, errbuf, what);
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
out:
	/* Drop the credentials from the handle as soon as the request is done.
	 */
	curl_easy_setopt(c->curl, CURLOPT_PASSWORD, NULL);
	curl_easy_setopt(c->curl, CURLOPT_XOAUTH2_BEARER, NULL);
	curl_slist_free_all(hdrs);
	return ret;
}
