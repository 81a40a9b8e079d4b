/*
 * The registry client (see registry.h): resolve a reference to its
 * manifest digest with one HEAD (or a GET when HEAD gives no digest) of
 * /v2/<name>/manifests/<tag>, answering the auth challenge when there is
 * one (registry_auth.c). References are parsed in registry_ref.c, requests
 * made in registry_http.c.
 *
 * Credentials only ever reach curl through CURLOPT_USERNAME/PASSWORD and
 * CURLOPT_XOAUTH2_BEARER, so no URL, header we build or message holds them.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/vec.h"
#include "drivers/registry.h"
#include "drivers/registry_int.h"

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
	kr_registry_response_init(&resp, REG_MANIFEST_MAX);
	if (!ref || !ref->registry || !ref->name || !ref->tag ||
		!kr_registry_valid_host(ref->registry) ||
		!kr_registry_valid_name(ref->name) ||
		!(kr_registry_valid_tag(ref->tag) ||
			kr_registry_valid_digest(ref->tag))) {
		kr_error_set(KR_EINVAL,
			"invalid image reference for the registry client");
		rc = KR_EINVAL;
		goto out;
	}
	if ((rc = kr_registry_curl_init()) < 0)
		goto out;
	c.ref = ref;
	c.auth = auth && auth->username && *auth->username ? auth : NULL;
	c.opts = opts;
	c.timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : 30000;
	c.connect_timeout_ms = opts && opts->connect_timeout_ms > 0 ?
				       opts->connect_timeout_ms :
				       10000;
	c.http = kr_registry_use_http(ref->registry, opts);
	is_digest_ref = kr_registry_valid_digest(ref->tag);
	snprintf(c.display, sizeof(c.display), "%s/%s%s%s", ref->registry,
		ref->name, is_digest_ref ? "@" : ":", ref->tag);
	c.curl = curl_easy_init();
	if (!c.curl) {
		kr_error_set(KR_EREGISTRY, "cannot create a libcurl handle");
		rc = KR_EREGISTRY;
		goto out;
	}
	url = kr_registry_manifest_url(ref, opts);

	rc = kr_registry_fetch(&c, &resp, url, true, &mode);
	if (rc < 0)
		goto out;
	if (is_2xx(resp.status) && resp.digest &&
		kr_registry_valid_digest(resp.digest)) {
		digest = kr_xstrdup(resp.digest);
		goto done;
	}
	if (resp.status == 401 || resp.status == 403 || resp.status == 404 ||
		resp.status == 429) {
		rc = kr_registry_http_error(
			&c, resp.status, "the manifest HEAD request");
		goto out;
	}

	/* No usable digest from HEAD (or HEAD refused): GET the manifest. */
	kr_registry_response_release(&resp);
	kr_registry_response_init(&resp, REG_MANIFEST_MAX);
	rc = kr_registry_fetch(&c, &resp, url, false, &mode);
	if (rc < 0)
		goto out;
	if (!is_2xx(resp.status)) {
		rc = kr_registry_http_error(
			&c, resp.status, "the manifest GET request");
		goto out;
	}
	if (resp.digest && kr_registry_valid_digest(resp.digest)) {
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
	kr_registry_response_release(&resp);
	if (c.curl)
		curl_easy_cleanup(c.curl);
	kr_free_secret(c.token);
	return rc;
}
