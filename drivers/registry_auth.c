/*
 * The registry's auth challenge: on a 401, read WWW-Authenticate (RFC 7235
 * auth-params), fetch a bearer token from the realm it names (only over
 * https, or http where the registry itself is plain http; basic
 * credentials when we have them), or answer with basic credentials, and
 * ask once more. The token body is cleared before it is freed.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/vec.h"
#include "drivers/registry.h"
#include "drivers/registry_int.h"

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

int
kr_registry_challenge_check(const char *value)
{
	struct reg_challenge ch;
	int rc = reg_challenge_parse(&ch, value);

	reg_challenge_release(&ch);
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

	kr_registry_response_init(&resp, REG_TOKEN_MAX);
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

	rc = kr_registry_request(c, &resp, url.ptr, false, false,
		c->auth && c->auth->username ? REG_AUTH_BASIC : REG_AUTH_NONE,
		"the token request");
	if (rc < 0)
		goto out;
	if (resp.status < 200 || resp.status > 299) {
		rc = kr_registry_http_error(
			c, resp.status, "the token request");
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
	kr_registry_response_release(&resp);
	return rc;
}

/* ---- asking again with credentials ---- */

/*
 * Request the manifest URL; on a first 401, answer the challenge (bearer
 * token or basic credentials) and ask once more. *mode carries the auth
 * that worked to the next request.
 */
int
kr_registry_fetch(struct reg_ctx *c, struct reg_response *resp, const char *url,
	bool head, enum reg_auth_mode *mode)
{
	struct reg_challenge ch = { 0 };
	const char *what =
		head ? "the manifest HEAD request" : "the manifest GET request";
	int rc;

	rc = kr_registry_request(c, resp, url, head, true, *mode, what);
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
	kr_registry_response_release(resp);
	kr_registry_response_init(resp, resp->body.max);
	rc = kr_registry_request(c, resp, url, head, true, *mode, what);
out:
	reg_challenge_release(&ch);
	return rc;
}
