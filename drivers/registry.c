/*
 * The registry client (see registry.h): one HEAD (or GET) of
 * /v2/<name>/manifests/<tag>, answering the auth challenge when there is
 * one. libcurl's errors are translated in exactly one place,
 * reg_curl_error(); HTTP statuses in reg_http_error().
 *
 * Credentials only ever reach curl through CURLOPT_USERNAME/PASSWORD and
 * CURLOPT_XOAUTH2_BEARER, so no URL, header we build or message holds them.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/vec.h"
#include "drivers/registry.h"

#define REG_MANIFEST_MAX (4u << 20) /* OCI distribution spec's manifest limit \
				     */
#define REG_TOKEN_MAX (1u << 20)
#define REG_HEADER_MAX 8192

static const char *const reg_accept[] = {
	"Accept: application/vnd.oci.image.index.v1+json",
	"Accept: application/vnd.oci.image.manifest.v1+json",
	"Accept: application/vnd.docker.distribution.manifest.list.v2+json",
	"Accept: application/vnd.docker.distribution.manifest.v2+json",
};

/* ---- references ---- */

static bool
is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Docker's path components: [a-z0-9] at both ends, [a-z0-9._-] inside. */
static bool
valid_name(const char *s)
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

static bool
valid_tag(const char *s)
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
static bool
valid_digest(const char *s)
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
static bool
valid_registry(const char *s)
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
		if (!valid_digest(at + 1)) {
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
		if (!valid_registry(registry)) {
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
		if (!valid_tag(colon + 1)) {
			kr_error_set(KR_EINVAL, "image '%s': invalid tag '%s'",
				image, colon + 1);
			goto out;
		}
		if (!tag)
			tag = kr_xstrdup(colon + 1);
	}
	if (!valid_name(rest)) {
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

static bool
use_http(const char *registry, const struct kr_registry_opts *opts)
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
		use_http(ref->registry, opts) ? "http" : "https", ref->registry,
		ref->name, ref->tag);
}

/* ---- HTTP ---- */

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

static void
reg_response_init(struct reg_response *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	kr_buf_init(&r->body, max);
}

static void
reg_response_release(struct reg_response *r)
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
static int
reg_http_error(const struct reg_ctx *c, long status, const char *what)
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
static int
reg_request(struct reg_ctx *c, struct reg_response *resp, const char *url,
	bool head, bool accept, enum reg_auth_mode mode, const char *what)
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

/* ---- the auth challenge ---- */

struct reg_challenge {
	char *scheme; /* "Bearer" or "Basic" */
	char *realm;
	char *service;
	char *scope;
};

static void
reg_challenge_release(struct reg_challenge *ch)
{
	free(ch->scheme);
	free(ch->realm);
	free(ch->service);
	free(ch->scope);
	memset(ch, 0, sizeof(*ch));
}

/* Parse `Scheme k1="v1",k2=v2` (RFC 7235 auth-params, quoted-pair aware). */
static int
reg_challenge_parse(struct reg_challenge *ch, const char *s)
{
	const char *p = s;
	struct kr_buf key = KR_BUF_INIT, val = KR_BUF_INIT;
	int rc = KR_EREGISTRY;

	memset(ch, 0, sizeof(*ch));
	while (*p == ' ')
		p++;
	while (*p && *p != ' ')
		p++;
	ch->scheme = kr_xstrndup(s, (size_t)(p - s));
	for (;;) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (!*p)
			break;
		kr_buf_reset(&key);
		kr_buf_reset(&val);
		while (*p && *p != '=' && *p != ',' && *p != ' ')
			kr_buf_putc(&key, (char)tolower((unsigned char)*p++));
		while (*p == ' ')
			p++;
		if (*p != '=')
			goto out;
		p++;
		while (*p == ' ')
			p++;
		if (*p == '"') {
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				kr_buf_putc(&val, *p++);
			}
			if (*p != '"')
				goto out;
			p++;
		} else {
			while (*p && *p != ',' && *p != ' ')
				kr_buf_putc(&val, *p++);
		}
		if (strcmp(key.ptr, "realm") == 0) {
			free(ch->realm);
			ch->realm = kr_xstrdup(val.ptr);
		} else if (strcmp(key.ptr, "service") == 0) {
			free(ch->service);
			ch->service = kr_xstrdup(val.ptr);
		} else if (strcmp(key.ptr, "scope") == 0) {
			free(ch->scope);
			ch->scope = kr_xstrdup(val.ptr);
		}
	}
	rc = 0;
out:
	kr_buf_release(&key);
	kr_buf_release(&val);
	return rc;
}

/* May the token realm receive credentials? https, or http where we speak http.
 */
static int
reg_realm_check(const struct reg_ctx *c, const char *realm)
{
	const char *host;
	char *hostport;
	size_t n;
	bool ok = false;

	if (strncasecmp(realm, "https://", 8) == 0)
		return 0;
	if (strncasecmp(realm, "http://", 7) == 0) {
		host = realm + 7;
		n = strcspn(host, "/?#");
		hostport = kr_xstrndup(host, n);
		ok = !strchr(hostport, '@') &&
		     ((c->opts && c->opts->scheme == KR_REGISTRY_SCHEME_HTTP) ||
			     (c->http &&
				     kr_registry_host_is_insecure(hostport)));
		free(hostport);
		if (ok)
			return 0;
	}
	kr_error_set(KR_EREGISTRY,
		"registry '%s' sent its token service as '%s': refusing to "
		"send credentials there (https required)",
		c->ref->registry, realm);
	return KR_EREGISTRY;
}

static void
url_add_param(struct kr_buf *url, CURL *curl, bool *first, const char *k,
	const char *v)
{
	char *esc = curl_easy_escape(curl, v, 0);

	kr_buf_printf(url, "%c%s=%s",
		*first ? (strchr(url->ptr, '?') ? '&' : '?') : '&', k,
		esc ? esc : "");
	*first = false;
	curl_free(esc);
}

/* GET the realm (with basic credentials when we have them) for a token. */
static int
reg_fetch_token(struct reg_ctx *c, const struct reg_challenge *ch)
{
	struct kr_buf url = KR_BUF_INIT;
	struct reg_response resp;
	char *scope = NULL;
	json_t *root = NULL;
	json_error_t jerr;
	const char *tok;
	bool first = true;
	int rc;

	reg_response_init(&resp, REG_TOKEN_MAX);
	if (!ch->realm || !*ch->realm) {
		kr_error_set(KR_EREGISTRY,
			"registry '%s' sent a bearer challenge without a realm",
			c->ref->registry);
		rc = KR_EREGISTRY;
		goto out;
	}
	if ((rc = reg_realm_check(c, ch->realm)) < 0)
		goto out;
	scope = ch->scope ? kr_xstrdup(ch->scope) :
			    kr_xasprintf("repository:%s:pull", c->ref->name);
	kr_buf_puts(&url, ch->realm);
	if (ch->service)
		url_add_param(&url, c->curl, &first, "service", ch->service);
	url_add_param(&url, c->curl, &first, "scope", scope);

	rc = reg_request(c, &resp, url.ptr, false, false,
		c->auth && c->auth->username ? REG_AUTH_BASIC : REG_AUTH_NONE,
		"the token request");
	if (rc < 0)
		goto out;
	if (resp.status < 200 || resp.status > 299) {
		rc = reg_http_error(c, resp.status, "the token request");
		if (rc == KR_ENOTFOUND) {
			kr_error_set(KR_EREGISTRY,
				"registry '%s': token service '%s' answered "
				"HTTP 404",
				c->ref->registry, ch->realm);
			rc = KR_EREGISTRY;
		}
		goto out;
	}
	root = json_loadb(resp.body.ptr, resp.body.len, 0, &jerr);
	tok = json_string_value(json_object_get(root, "token"));
	if (!tok || !*tok)
		tok = json_string_value(json_object_get(root, "access_token"));
	if (!tok || !*tok) {
		kr_error_set(KR_EREGISTRY,
			"registry '%s': token service '%s' answered without a "
			"token",
			c->ref->registry, ch->realm);
		rc = KR_EREGISTRY;
		goto out;
	}
	if (c->token)
		kr_free_secret(c->token);
	c->token = kr_xstrdup(tok);
	rc = 0;
out:
	json_decref(root);
	free(scope);
	kr_buf_release(&url);
	/* The body held the token: clear it before freeing. */
	if (resp.body.alloc)
		memset(resp.body.ptr, 0, resp.body.len);
	reg_response_release(&resp);
	return rc;
}

/* ---- resolve ---- */

/*
 * Request the manifest URL; on a first 401, answer the challenge (bearer
 * token or basic credentials) and ask once more. *mode carries the auth
 * that worked to the next request.
 */
static int
reg_fetch(struct reg_ctx *c, struct reg_response *resp, const char *url,
	bool head, enum reg_auth_mode *mode)
{
	struct reg_challenge ch = { 0 };
	const char *what =
		head ? "the manifest HEAD request" : "the manifest GET request";
	int rc;

	rc = reg_request(c, resp, url, head, true, *mode, what);
	if (rc < 0 || resp->status != 401 || *mode != REG_AUTH_NONE)
		goto out;

	if (resp->challenge && reg_challenge_parse(&ch, resp->challenge) < 0) {
		kr_error_set(KR_EREGISTRY,
			"registry '%s' sent an unreadable WWW-Authenticate "
			"challenge",
			c->ref->registry);
		rc = KR_EREGISTRY;
		goto out;
	}
	if (ch.scheme && strcasecmp(ch.scheme, "Bearer") == 0) {
		if ((rc = reg_fetch_token(c, &ch)) < 0)
			goto out;
		*mode = REG_AUTH_BEARER;
	} else if (c->auth && c->auth->username) {
		*mode = REG_AUTH_BASIC;
	} else {
		goto out; /* the 401 stands: reg_http_error says "no
			     credentials" */
	}
	reg_response_release(resp);
	reg_response_init(resp, resp->body.max);
	rc = reg_request(c, resp, url, head, true, *mode, what);
out:
	reg_challenge_release(&ch);
	return rc;
}

static bool
is_2xx(long status)
{
	return status >= 200 && status <= 299;
}

int
kr_registry_resolve(char **digest_out, const struct kr_registry_ref *ref,
	const struct kr_registry_auth *auth,
	const struct kr_registry_opts *opts)
{
	struct reg_ctx c;
	struct reg_response resp;
	enum reg_auth_mode mode = REG_AUTH_NONE;
	char hex[KR_SHA256_HEX];
	char *url = NULL;
	char *digest = NULL;
	bool is_digest_ref;
	int rc;

	memset(&c, 0, sizeof(c));
	reg_response_init(&resp, REG_MANIFEST_MAX);
	if (!ref || !ref->registry || !ref->name || !ref->tag ||
		!valid_registry(ref->registry) || !valid_name(ref->name) ||
		!(valid_tag(ref->tag) || valid_digest(ref->tag))) {
		kr_error_set(KR_EINVAL,
			"invalid image reference for the registry client");
		rc = KR_EINVAL;
		goto out;
	}
	pthread_once(&reg_curl_once, reg_curl_init);
	if (reg_curl_init_rc != CURLE_OK) {
		kr_error_set(KR_EREGISTRY, "cannot initialise libcurl: %s",
			curl_easy_strerror(reg_curl_init_rc));
		rc = KR_EREGISTRY;
		goto out;
	}
	c.ref = ref;
	c.auth = auth && auth->username && *auth->username ? auth : NULL;
	c.opts = opts;
	c.timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : 30000;
	c.connect_timeout_ms = opts && opts->connect_timeout_ms > 0 ?
				       opts->connect_timeout_ms :
				       10000;
	c.http = use_http(ref->registry, opts);
	is_digest_ref = valid_digest(ref->tag);
	snprintf(c.display, sizeof(c.display), "%s/%s%s%s", ref->registry,
		ref->name, is_digest_ref ? "@" : ":", ref->tag);
	c.curl = curl_easy_init();
	if (!c.curl) {
		kr_error_set(KR_EREGISTRY, "cannot create a libcurl handle");
		rc = KR_EREGISTRY;
		goto out;
	}
	url = kr_registry_manifest_url(ref, opts);

	rc = reg_fetch(&c, &resp, url, true, &mode);
	if (rc < 0)
		goto out;
	if (is_2xx(resp.status) && resp.digest && valid_digest(resp.digest)) {
		digest = kr_xstrdup(resp.digest);
		goto done;
	}
	if (resp.status == 401 || resp.status == 403 || resp.status == 404 ||
		resp.status == 429) {
		rc = reg_http_error(
			&c, resp.status, "the manifest HEAD request");
		goto out;
	}

	/* No usable digest from HEAD (or HEAD refused): GET the manifest. */
	reg_response_release(&resp);
	reg_response_init(&resp, REG_MANIFEST_MAX);
	rc = reg_fetch(&c, &resp, url, false, &mode);
	if (rc < 0)
		goto out;
	if (!is_2xx(resp.status)) {
		rc = reg_http_error(
			&c, resp.status, "the manifest GET request");
		goto out;
	}
	if (resp.digest && valid_digest(resp.digest)) {
		digest = kr_xstrdup(resp.digest);
	} else if (resp.body.len > 0) {
		/* The digest of a manifest is the sha256 of its exact bytes. */
		kr_sha256_hex(hex, resp.body.ptr, resp.body.len);
		digest = kr_xasprintf("sha256:%s", hex);
	} else {
		kr_error_set(KR_EREGISTRY,
			"registry '%s' answered the manifest request for '%s' "
			"without a digest or a body",
			ref->registry, c.display);
		rc = KR_EREGISTRY;
		goto out;
	}
done:
	*digest_out = digest;
	digest = NULL;
	rc = 0;
out:
	free(digest);
	free(url);
	reg_response_release(&resp);
	if (c.curl)
		curl_easy_cleanup(c.curl);
	kr_free_secret(c.token);
	return rc;
}
