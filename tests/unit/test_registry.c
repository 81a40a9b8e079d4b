/*
 * Tests of the registry client (drivers/registry.c): reference parsing, the
 * http/https decision, and resolve against (1) a scripted HTTP server of our
 * own on 127.0.0.1 (a thread with a socket: 200 with a digest, HEAD refused,
 * basic auth, the bearer challenge and token endpoint, 404, 500, a slow
 * answer, a TLS failure, a refused connection) and (2) a real
 * `docker-registry serve` with htpasswd auth when the packages are there.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <openssl/evp.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/hash.h"
#include "drivers/registry.h"

#define USER "deployer"
#define PASS "s3cret-Pa55-\"q'uote"
#define TOKEN "tok-6c1f0e"
#define DIGEST    \
	"sha256:" \
	"4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"
#define MANIFEST                                            \
	"{\"schemaVersion\":2,\"mediaType\":\"application/" \
	"vnd.oci.image.manifest.v1+json\"}"

/* ---- a scripted HTTP server, one thread, one request per connection ---- */

struct fake_req {
	char method[16];
	char target[1024];
	char authorization[1024];
	char accept[2048]; /* every Accept header value, joined by ", " */
	bool tls; /* the client spoke TLS to us */
};

struct fake;
typedef void (*fake_handler)(
	struct fake *f, const struct fake_req *r, struct kr_buf *resp);

struct fake {
	int lfd;
	int wake[2];
	pthread_t th;
	int port;
	fake_handler handler;
	int delay_ms; /* handler sets: wait this long before answering */
	pthread_mutex_t mu;
	struct fake_req reqs[16];
	int nreq;
	struct kr_buf raw; /* every byte received, to look for the password */
};

static void
header_append(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(dst);

	snprintf(dst + n, cap - n, "%s%s", n ? ", " : "", v);
}

static void
fake_parse(struct fake_req *r, char *text)
{
	char *line, *save = NULL;
	bool first = true;

	for (line = strtok_r(text, "\r\n", &save); line;
		line = strtok_r(NULL, "\r\n", &save)) {
		if (first) {
			sscanf(line, "%15s %1023s", r->method, r->target);
			first = false;
		} else if (strncasecmp(line, "Authorization: ", 15) == 0) {
			snprintf(r->authorization, sizeof(r->authorization),
				"%s", line + 15);
		} else if (strncasecmp(line, "Accept: ", 8) == 0) {
			header_append(r->accept, sizeof(r->accept), line + 8);
		}
	}
}

static void *
fake_main(void *arg)
{
	struct fake *f = arg;

	for (;;) {
		struct pollfd pf[2] = { { f->lfd, POLLIN, 0 },
			{ f->wake[0], POLLIN, 0 } };
		struct kr_buf in = KR_BUF_INIT, out = KR_BUF_INIT;
		struct fake_req r;
		char chunk[4096];
		int cfd;

		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			break;
		if (pf[1].revents)
			break;
		if (!(pf[0].revents & POLLIN))
			continue;
		cfd = accept(f->lfd, NULL, NULL);
		if (cfd < 0)
			continue;
		memset(&r, 0, sizeof(r));
		for (;;) {
			struct pollfd cp = { cfd, POLLIN, 0 };
			ssize_t n;

			if (poll(&cp, 1, 2000) <= 0)
				break;
			n = read(cfd, chunk, sizeof(chunk));
			if (n <= 0)
				break;
			kr_buf_put(&in, chunk, (size_t)n);
			if ((unsigned char)in.ptr[0] == 0x16) {
				r.tls = true; /* a TLS ClientHello */
				break;
			}
			if (strstr(in.ptr, "\r\n\r\n"))
				break;
		}
		pthread_mutex_lock(&f->mu);
		kr_buf_put(&f->raw, in.ptr, in.len);
		if (!r.tls)
			fake_parse(&r, in.ptr);
		if (f->nreq < (int)(sizeof(f->reqs) / sizeof(f->reqs[0])))
			f->reqs[f->nreq++] = r;
		f->delay_ms = 0;
		if (r.tls)
			kr_buf_puts(
				&out, "HTTP/1.1 400 Bad Request\r\nConnection: "
				      "close\r\n\r\n");
		else
			f->handler(f, &r, &out);
		pthread_mutex_unlock(&f->mu);
		if (f->delay_ms) {
			struct pollfd wp = { f->wake[0], POLLIN, 0 };

			if (poll(&wp, 1, f->delay_ms) > 0) {
				close(cfd);
				kr_buf_release(&in);
				kr_buf_release(&out);
				break;
			}
		}
		if (write(cfd, out.ptr, out.len) < 0) {
			/* the client gave up (the timeout test): nothing to do
			 */
		}
		shutdown(cfd, SHUT_WR);
		close(cfd);
		kr_buf_release(&in);
		kr_buf_release(&out);
	}
	return NULL;
}

static int
listen_loopback(int *port_out)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	*port_out = ntohs(a.sin_port);
	return fd;
}

static struct fake *
fake_start(fake_handler h)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->handler = h;
	kr_buf_init(&f->raw, 0);
	pthread_mutex_init(&f->mu, NULL);
	f->lfd = listen_loopback(&f->port);
	assert_int_equal(pipe(f->wake), 0);
	assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
	return f;
}

static void
fake_stop(struct fake *f)
{
	assert_int_equal(write(f->wake[1], "x", 1), 1);
	pthread_join(f->th, NULL);
	close(f->lfd);
	close(f->wake[0]);
	close(f->wake[1]);
	/* The password may only ever cross the wire base64-encoded in a header.
	 */
	assert_null(strstr(f->raw.ptr, PASS));
	kr_buf_release(&f->raw);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

static void
respond(struct kr_buf *out, int status, const char *extra, const char *body)
{
	kr_buf_printf(out,
		"HTTP/1.1 %d X\r\nConnection: close\r\nContent-Length: "
		"%zu\r\n%s\r\n%s",
		status, body ? strlen(body) : 0, extra ? extra : "",
		body ? body : "");
}

static bool
is_manifest_path(const struct fake_req *r)
{
	return strcmp(r->target, "/v2/team/app/manifests/v1") == 0;
}

static char *
basic_header(const char *user, const char *pass)
{
	char *plain = kr_xasprintf("%s:%s", user, pass);
	unsigned char enc[512];
	char *h;

	EVP_EncodeBlock(enc, (const unsigned char *)plain, (int)strlen(plain));
	h = kr_xasprintf("Basic %s", enc);
	free(plain);
	return h;
}

static void
h_digest(struct fake *f, const struct fake_req *r, struct kr_buf *out)
{
	if (strcmp(r->method, "HEAD") == 0 && is_manifest_path(r))
		respond(out, 200,
			"Docker-Content-Digest: " DIGEST "\r\n"
			"Content-Type: "
			"application/vnd.oci.image.index.v1+json\r\n",
			NULL);
	else
		respond(out, 404, NULL, "{}");
}

static void
h_head405(struct fake *f, const struct fake_req *r, struct kr_buf *out)
{
	if (strcmp(r->method, "HEAD") == 0)
		respond(out, 405, NULL, NULL);
	else if (strcmp(r->method, "GET") == 0 && is_manifest_path(r))
		respond(out, 200,
			"Content-Type: "
			"application/vnd.oci.image.manifest.v1+json\r\n",
			MANIFEST);
	else
		respond(out, 404, NULL, "{}");
}

static void
h_basic(struct fake *f, const struct fake_req *r, struct kr_buf *out)
{
	char *want = basic_header(USER, PASS);

	if (strcmp(r->authorization, want) != 0)
		respond(out, 401, "WWW-Authenticate: Basic realm=\"fake\"\r\n",
			"{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}");
	else if (is_manifest_path(r))
		respond(out, 200, "Docker-Content-Digest: " DIGEST "\r\n",
			NULL);
	else
		respond(out, 404, NULL, NULL);
	free(want);
}

static void
h_bearer(struct fake *f, const struct fake_req *r, struct kr_buf *out)
{
	char *basic = basic_header(USER, PASS);
	char *challenge;

	if (strncmp(r->target, "/token?", 7) == 0) {
		if (strcmp(r->authorization, basic) == 0)
			respond(out, 200, "Content-Type: application/json\r\n",
				"{\"token\":\"" TOKEN "\",\"expires_in\":300}");
		else
			respond(out, 401, NULL, "{}");
	} else if (strcmp(r->authorization, "Bearer " TOKEN) == 0 &&
		   is_manifest_path(r)) {
		respond(out, 200, "Docker-Content-Digest: " DIGEST "\r\n",
			NULL);
	} else if (strcmp(r->authorization, "Bearer " TOKEN) == 0) {
		respond(out, 404, NULL, NULL);
	} else {
		challenge = kr_xasprintf(
			"WWW-Authenticate: Bearer "
			"realm=\"http://127.0.0.1:%d/token\",service=\"fake "
			"registry\",scope=\"repository:team/app:pull\"\r\n",
			f->port);
		respond(out, 401, challenge, "{}");
		free(challenge);
	}
	free(basic);
}

static void
h_404(struct fake *f, const struct fake_req *r, struct kr_buf *out)
{
	respond(out, 404, "Content-Type: application/json\r\n",
		"{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\"}]}");
}

static void
h_500(struct fake *f, const struct fake_req *r, struct kr_buf *out)
{
	respond(out, 500, NULL, "oops");
}

static void
h_slow(struct fake *f, const struct fake_req *r, struct kr_buf *out)
{
	f->delay_ms = 5000;
	respond(out, 200, "Docker-Content-Digest: " DIGEST "\r\n", NULL);
}

static int
ref_for(struct kr_registry_ref *ref, const struct fake *f, const char *image)
{
	char server[64];

	snprintf(server, sizeof(server), "127.0.0.1:%d", f->port);
	return kr_registry_ref_parse(ref, server, image);
}

static const struct kr_registry_opts fast = { .timeout_ms = 3000,
	.connect_timeout_ms = 2000 };

/* ---- reference parsing ---- */

static void
expect_ref(const char *server, const char *image, const char *registry,
	const char *name, const char *tag)
{
	struct kr_registry_ref ref = { 0 };

	if (kr_registry_ref_parse(&ref, server, image) != 0)
		fail_msg("parse '%s': %s", image, kr_error_last());
	assert_string_equal(ref.registry, registry);
	assert_string_equal(ref.name, name);
	assert_string_equal(ref.tag, tag);
	kr_registry_ref_release(&ref);
}

static void
test_ref_parse(void **state)
{
	expect_ref(NULL, "nginx", "registry-1.docker.io", "library/nginx",
		"latest");
	expect_ref(NULL, "nginx:1.25", "registry-1.docker.io", "library/nginx",
		"1.25");
	expect_ref(NULL, "docker.io/nginx", "registry-1.docker.io",
		"library/nginx", "latest");
	expect_ref(NULL, "index.docker.io/user/app:v1", "registry-1.docker.io",
		"user/app", "v1");
	expect_ref(
		NULL, "user/app:v1", "registry-1.docker.io", "user/app", "v1");
	expect_ref(NULL, "ghcr.io/basecamp/kamal-proxy:v0.8.4", "ghcr.io",
		"basecamp/kamal-proxy", "v0.8.4");
	expect_ref(
		NULL, "localhost:5000/app", "localhost:5000", "app", "latest");
	expect_ref(NULL, "localhost/app:x", "localhost", "app", "x");
	expect_ref("198.18.0.1:5000", "demo/app:v2", "198.18.0.1:5000",
		"demo/app", "v2");
	expect_ref("ghcr.io", "org/app:abc123", "ghcr.io", "org/app", "abc123");
	expect_ref(NULL, "[::1]:5000/a/b/c:t", "[::1]:5000", "a/b/c", "t");
	expect_ref(NULL, "app@" DIGEST, "registry-1.docker.io", "library/app",
		DIGEST);
	expect_ref(NULL, "r.io/app:v1@" DIGEST, "r.io", "app", DIGEST);
}

static void
test_ref_parse_invalid(void **state)
{
	static const char *const bad[] = {
		"",
		"App",
		"app:",
		"app:bad tag",
		"-app",
		"app/",
		"/app",
		"app:-x",
		"r.io/",
		"app@sha256:xyz",
		"a//b",
		"user:pw@r.io/app",
		"r.io/app?x=1",
		"app:v1\n",
	};
	struct kr_registry_ref ref = { 0 };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = kr_registry_ref_parse(&ref, NULL, bad[i]);

		if (rc != KR_EINVAL)
			fail_msg("'%s' parsed (rc %d)", bad[i], rc);
		assert_null(ref.registry);
	}
}

static void
test_scheme(void **state)
{
	struct kr_registry_ref ref = { 0 };
	struct kr_registry_opts o = { 0 };
	char *url;

	assert_true(kr_registry_host_is_insecure("localhost:5000"));
	assert_true(kr_registry_host_is_insecure("127.0.0.1"));
	assert_true(kr_registry_host_is_insecure("127.9.9.9:80"));
	assert_true(kr_registry_host_is_insecure("198.18.0.1:5000"));
	assert_true(kr_registry_host_is_insecure("198.19.255.254"));
	assert_true(kr_registry_host_is_insecure("[::1]:5000"));
	assert_false(kr_registry_host_is_insecure("198.20.0.1:5000"));
	assert_false(kr_registry_host_is_insecure("198.17.255.255"));
	assert_false(kr_registry_host_is_insecure("ghcr.io"));
	assert_false(kr_registry_host_is_insecure("127.0.0.1.example.com"));
	assert_false(kr_registry_host_is_insecure("[::2]:5000"));

	assert_int_equal(
		kr_registry_ref_parse(&ref, NULL, "ghcr.io/o/a:v1"), 0);
	url = kr_registry_manifest_url(&ref, NULL);
	assert_string_equal(url, "https://ghcr.io/v2/o/a/manifests/v1");
	free(url);
	o.scheme = KR_REGISTRY_SCHEME_HTTP;
	url = kr_registry_manifest_url(&ref, &o);
	assert_string_equal(url, "http://ghcr.io/v2/o/a/manifests/v1");
	free(url);
	kr_registry_ref_release(&ref);

	assert_int_equal(
		kr_registry_ref_parse(&ref, "198.18.0.1:5000", "d/app:v2"), 0);
	url = kr_registry_manifest_url(&ref, NULL);
	assert_string_equal(
		url, "http://198.18.0.1:5000/v2/d/app/manifests/v2");
	free(url);
	o.scheme = KR_REGISTRY_SCHEME_HTTPS;
	url = kr_registry_manifest_url(&ref, &o);
	assert_string_equal(
		url, "https://198.18.0.1:5000/v2/d/app/manifests/v2");
	free(url);
	kr_registry_ref_release(&ref);
}

/* ---- resolve against the scripted server ---- */

static void
test_resolve_head_digest(void **state)
{
	struct fake *f = fake_start(h_digest);
	struct kr_registry_ref ref = { 0 };
	char *digest = NULL;

	assert_int_equal(ref_for(&ref, f, "team/app:v1"), 0);
	if (kr_registry_resolve(&digest, &ref, NULL, &fast) != 0)
		fail_msg("%s", kr_error_last());
	assert_string_equal(digest, DIGEST);
	assert_int_equal(f->nreq, 1);
	assert_string_equal(f->reqs[0].method, "HEAD");
	assert_string_equal(f->reqs[0].authorization, "");
	assert_non_null(strstr(
		f->reqs[0].accept, "application/vnd.oci.image.index.v1+json"));
	assert_non_null(strstr(f->reqs[0].accept,
		"application/vnd.oci.image.manifest.v1+json"));
	assert_non_null(strstr(f->reqs[0].accept,
		"application/vnd.docker.distribution.manifest.list.v2+json"));
	assert_non_null(strstr(f->reqs[0].accept,
		"application/vnd.docker.distribution.manifest.v2+json"));
	free(digest);
	kr_registry_ref_release(&ref);
	fake_stop(f);
}

static void
test_resolve_get_fallback(void **state)
{
	struct fake *f = fake_start(h_head405);
	struct kr_registry_ref ref = { 0 };
	char hex[KR_SHA256_HEX];
	char *digest = NULL, *want;

	assert_int_equal(ref_for(&ref, f, "team/app:v1"), 0);
	if (kr_registry_resolve(&digest, &ref, NULL, &fast) != 0)
		fail_msg("%s", kr_error_last());
	kr_sha256_hex(hex, MANIFEST, strlen(MANIFEST));
	want = kr_xasprintf("sha256:%s", hex);
	assert_string_equal(digest, want);
	assert_int_equal(f->nreq, 2);
	assert_string_equal(f->reqs[0].method, "HEAD");
	assert_string_equal(f->reqs[1].method, "GET");
	assert_non_null(strstr(
		f->reqs[1].accept, "application/vnd.oci.image.index.v1+json"));
	free(want);
	free(digest);
	kr_registry_ref_release(&ref);
	fake_stop(f);
}

static void
test_resolve_basic(void **state)
{
	struct fake *f = fake_start(h_basic);
	struct kr_registry_ref ref = { 0 };
	struct kr_registry_auth good = { USER, PASS }, bad = { USER, "wrong" };
	char *digest = NULL;
	int rc;

	assert_int_equal(ref_for(&ref, f, "team/app:v1"), 0);
	if (kr_registry_resolve(&digest, &ref, &good, &fast) != 0)
		fail_msg("%s", kr_error_last());
	assert_string_equal(digest, DIGEST);
	free(digest);
	digest = NULL;
	/* challenge first, credentials only in answer to it */
	assert_int_equal(f->nreq, 2);
	assert_string_equal(f->reqs[0].authorization, "");
	assert_true(strncmp(f->reqs[1].authorization, "Basic ", 6) == 0);

	rc = kr_registry_resolve(&digest, &ref, &bad, &fast);
	assert_int_equal(rc, KR_EREGISTRY);
	assert_null(digest);
	assert_non_null(strstr(kr_error_last(), "refused the credentials"));
	assert_non_null(strstr(kr_error_last(), "HTTP 401"));
	assert_null(strstr(kr_error_last(), "wrong"));
	/* The username may itself come from a secret: not shown either. */
	assert_null(strstr(kr_error_last(), USER));

	rc = kr_registry_resolve(&digest, &ref, NULL, &fast);
	assert_int_equal(rc, KR_EREGISTRY);
	assert_non_null(strstr(kr_error_last(), "requires credentials"));
	kr_registry_ref_release(&ref);
	fake_stop(f);
}

static void
test_resolve_bearer(void **state)
{
	struct fake *f = fake_start(h_bearer);
	struct kr_registry_ref ref = { 0 };
	struct kr_registry_auth good = { USER, PASS }, bad = { USER, "nope" };
	char *digest = NULL;
	int rc;

	assert_int_equal(ref_for(&ref, f, "team/app:v1"), 0);
	if (kr_registry_resolve(&digest, &ref, &good, &fast) != 0)
		fail_msg("%s", kr_error_last());
	assert_string_equal(digest, DIGEST);
	free(digest);
	digest = NULL;
	assert_int_equal(f->nreq, 3);
	assert_string_equal(f->reqs[0].authorization, "");
	assert_string_equal(
		f->reqs[1].target, "/token?service=fake%20registry&scope="
				   "repository%3Ateam%2Fapp%3Apull");
	assert_true(strncmp(f->reqs[1].authorization, "Basic ", 6) == 0);
	assert_string_equal(f->reqs[2].authorization, "Bearer " TOKEN);
	assert_string_equal(f->reqs[2].method, "HEAD");

	/* A wrong password fails at the token endpoint. */
	rc = kr_registry_resolve(&digest, &ref, &bad, &fast);
	assert_int_equal(rc, KR_EREGISTRY);
	assert_non_null(strstr(kr_error_last(), "refused the credentials"));
	assert_null(strstr(kr_error_last(), "nope"));
	assert_null(strstr(kr_error_last(), TOKEN));

	/* With a token, a tag that is missing is a 404, not an auth error. */
	kr_registry_ref_release(&ref);
	assert_int_equal(ref_for(&ref, f, "team/app:v9"), 0);
	rc = kr_registry_resolve(&digest, &ref, &good, &fast);
	assert_int_equal(rc, KR_ENOTFOUND);
	kr_registry_ref_release(&ref);
	fake_stop(f);
}

static void
test_resolve_404(void **state)
{
	struct fake *f = fake_start(h_404);
	struct kr_registry_ref ref = { 0 };
	char *digest = NULL;

	assert_int_equal(ref_for(&ref, f, "team/app:v7"), 0);
	assert_int_equal(
		kr_registry_resolve(&digest, &ref, NULL, &fast), KR_ENOTFOUND);
	assert_null(digest);
	assert_non_null(strstr(kr_error_last(), "not pushed yet"));
	assert_non_null(strstr(kr_error_last(), "team/app:v7"));
	kr_registry_ref_release(&ref);
	fake_stop(f);
}

static void
test_resolve_500(void **state)
{
	struct fake *f = fake_start(h_500);
	struct kr_registry_ref ref = { 0 };
	char *digest = NULL;

	assert_int_equal(ref_for(&ref, f, "team/app:v1"), 0);
	assert_int_equal(
		kr_registry_resolve(&digest, &ref, NULL, &fast), KR_EREGISTRY);
	assert_non_null(strstr(kr_error_last(), "HTTP 500"));
	kr_registry_ref_release(&ref);
	fake_stop(f);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
test_resolve_timeout(void **state)
{
	struct fake *f = fake_start(h_slow);
	struct kr_registry_ref ref = { 0 };
	struct kr_registry_opts o = { .timeout_ms = 300,
		.connect_timeout_ms = 300 };
	char *digest = NULL;
	double t0, dt;

	assert_int_equal(ref_for(&ref, f, "team/app:v1"), 0);
	t0 = now_s();
	assert_int_equal(
		kr_registry_resolve(&digest, &ref, NULL, &o), KR_ETIMEOUT);
	dt = now_s() - t0;
	assert_true(dt >= 0.25 && dt < 3.0);
	assert_non_null(strstr(kr_error_last(), "did not answer"));
	kr_registry_ref_release(&ref);
	fake_stop(f);
}

static void
test_resolve_tls_failure(void **state)
{
	struct fake *f = fake_start(h_digest);
	struct kr_registry_ref ref = { 0 };
	struct kr_registry_opts o = fast;
	char *digest = NULL;

	o.scheme = KR_REGISTRY_SCHEME_HTTPS;
	assert_int_equal(ref_for(&ref, f, "team/app:v1"), 0);
	assert_int_equal(
		kr_registry_resolve(&digest, &ref, NULL, &o), KR_EREGISTRY);
	assert_non_null(strstr(kr_error_last(), "tls failure"));
	assert_true(f->nreq >= 1 && f->reqs[0].tls);
	kr_registry_ref_release(&ref);
	fake_stop(f);
}

static void
test_resolve_refused(void **state)
{
	struct kr_registry_ref ref = { 0 };
	char server[64], *digest = NULL;
	int port, fd = listen_loopback(&port);

	close(fd); /* nothing listens there now */
	snprintf(server, sizeof(server), "127.0.0.1:%d", port);
	assert_int_equal(kr_registry_ref_parse(&ref, server, "team/app:v1"), 0);
	assert_int_equal(
		kr_registry_resolve(&digest, &ref, NULL, &fast), KR_EREGISTRY);
	assert_non_null(strstr(kr_error_last(), "cannot connect"));
	kr_registry_ref_release(&ref);
}

/* A bearer realm on another, non-local host over plain http gets no
 * credentials. */
static void
h_bad_realm(struct fake *f, const struct fake_req *r, struct kr_buf *out)
{
	respond(out, 401,
		"WWW-Authenticate: Bearer "
		"realm=\"http://auth.example.com/token\",service=\"x\"\r\n",
		"{}");
}

static void
test_resolve_insecure_realm(void **state)
{
	struct fake *f = fake_start(h_bad_realm);
	struct kr_registry_ref ref = { 0 };
	struct kr_registry_auth good = { USER, PASS };
	char *digest = NULL;

	assert_int_equal(ref_for(&ref, f, "team/app:v1"), 0);
	assert_int_equal(
		kr_registry_resolve(&digest, &ref, &good, &fast), KR_EREGISTRY);
	assert_non_null(
		strstr(kr_error_last(), "refusing to send credentials"));
	assert_int_equal(f->nreq, 1);
	kr_registry_ref_release(&ref);
	fake_stop(f);
}

/* ---- a real docker-registry with htpasswd auth ---- */

struct real_registry {
	pid_t pid;
	int port;
	char dir[64];
};

static const char *
which(const char *prog)
{
	static char path[512];
	const char *dirs[] = { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
		"/usr/bin", "/sbin", "/bin" };
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], prog);
		if (access(path, X_OK) == 0)
			return path;
	}
	return NULL;
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

/* htpasswd -iBc FILE USER, the password on stdin (never in argv). */
static void
make_htpasswd(const char *file)
{
	int in[2];
	pid_t pid;
	int status;

	assert_int_equal(pipe(in), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(in[0], 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		close(in[1]);
		execl(which("htpasswd"), "htpasswd", "-iBc", file, USER,
			(char *)NULL);
		_exit(127);
	}
	close(in[0]);
	assert_int_equal(write(in[1], PASS "\n", strlen(PASS) + 1),
		(ssize_t)strlen(PASS) + 1);
	close(in[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static bool
port_answers(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

static int
real_start(struct real_registry *rr)
{
	char path[128], *cfg;
	int fd, i;

	snprintf(rr->dir, sizeof(rr->dir), "/tmp/kr-registry-XXXXXX");
	assert_non_null(mkdtemp(rr->dir));
	snprintf(path, sizeof(path), "%s/htpasswd", rr->dir);
	make_htpasswd(path);
	fd = listen_loopback(&rr->port);
	close(fd); /* a free port; the registry binds it next */
	cfg = kr_xasprintf(
		"version: 0.1\nlog:\n  level: error\n  accesslog:\n    "
		"disabled: true\n"
		"storage:\n  filesystem:\n    rootdirectory: %s/data\n"
		"http:\n  addr: 127.0.0.1:%d\n"
		"auth:\n  htpasswd:\n    realm: kr-test\n    path: "
		"%s/htpasswd\n",
		rr->dir, rr->port, rr->dir);
	snprintf(path, sizeof(path), "%s/config.yml", rr->dir);
	write_file(path, cfg);
	free(cfg);
	rr->pid = fork();
	assert_true(rr->pid >= 0);
	if (rr->pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(devnull, 1);
		dup2(devnull, 2);
		execl(which("docker-registry"), "docker-registry", "serve",
			path, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100; i++) {
		if (port_answers(rr->port))
			return 0;
		if (waitpid(rr->pid, NULL, WNOHANG) == rr->pid) {
			rr->pid = 0;
			return -1;
		}
		usleep(50000);
	}
	return -1;
}

static void
rm_rf(const char *dir)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl("/bin/rm", "rm", "-rf", "--", dir, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
}

static void
real_stop(struct real_registry *rr)
{
	if (rr->pid > 0) {
		kill(rr->pid, SIGTERM);
		waitpid(rr->pid, NULL, 0);
	}
	rm_rf(rr->dir);
}

static size_t
collect(char *data, size_t size, size_t n, void *userdata)
{
	kr_buf_put(userdata, data, size * n);
	return size * n;
}

static size_t
location_cb(char *line, size_t size, size_t n, void *userdata)
{
	char **loc = userdata;
	size_t len = size * n;

	if (len > 10 && strncasecmp(line, "Location: ", 10) == 0) {
		free(*loc);
		*loc = kr_xstrndup(line + 10, len - 10);
		(*loc)[strcspn(*loc, "\r\n")] = '\0';
	}
	return len;
}

/* One authenticated request; returns the status, the Location in *loc. */
static long
http_do(const char *method, const char *url, const char *ctype,
	const char *body, size_t len, char **loc)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct kr_buf sink = KR_BUF_INIT;
	long status = 0;

	assert_non_null(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_USERNAME, USER);
	curl_easy_setopt(c, CURLOPT_PASSWORD, PASS);
	curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	if (loc) {
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, location_cb);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, loc);
	}
	if (ctype) {
		char *hv = kr_xasprintf("Content-Type: %s", ctype);

		h = curl_slist_append(h, hv);
		free(hv);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	}
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	}
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	kr_buf_release(&sink);
	return status;
}

/* Monolithic blob upload: POST uploads/, then PUT ...&digest=. Returns the
 * digest. */
static char *
push_blob(int port, const char *repo, const char *data)
{
	char hex[KR_SHA256_HEX], *url, *loc = NULL, *put;

	kr_sha256_hex(hex, data, strlen(data));
	url = kr_xasprintf(
		"http://127.0.0.1:%d/v2/%s/blobs/uploads/", port, repo);
	assert_int_equal(http_do("POST", url, NULL, "", 0, &loc), 202);
	assert_non_null(loc);
	put = kr_xasprintf("%s%s%sdigest=sha256:%s", loc[0] == '/' ? "" : "",
		loc, strchr(loc, '?') ? "&" : "?", hex);
	free(url);
	url = put[0] == '/' ? kr_xasprintf("http://127.0.0.1:%d%s", port, put) :
			      kr_xstrdup(put);
	assert_int_equal(http_do("PUT", url, "application/octet-stream", data,
				 strlen(data), NULL),
		201);
	free(url);
	free(put);
	free(loc);
	return kr_xasprintf("sha256:%s", hex);
}

static char *
push_manifest(int port, const char *repo, const char *tag, const char *ctype,
	const char *body)
{
	char hex[KR_SHA256_HEX];
	char *url = kr_xasprintf(
		"http://127.0.0.1:%d/v2/%s/manifests/%s", port, repo, tag);
	long st = http_do("PUT", url, ctype, body, strlen(body), NULL);

	if (st != 201)
		fail_msg("manifest PUT for %s:%s answered %ld", repo, tag, st);
	free(url);
	kr_sha256_hex(hex, body, strlen(body));
	return kr_xasprintf("sha256:%s", hex);
}

static int
real_setup(void **state)
{
	struct real_registry *rr = kr_xcalloc(1, sizeof(*rr));

	*state = rr;
	if (!which("docker-registry") || !which("htpasswd"))
		return 0; /* the test says why it skips */
	if (real_start(rr) != 0)
		print_message(
			"docker-registry serve did not start on 127.0.0.1:%d\n",
			rr->port);
	return 0;
}

/* Runs even when the test fails, so the registry never outlives us. */
static int
real_teardown(void **state)
{
	struct real_registry *rr = *state;

	if (rr->dir[0])
		real_stop(rr);
	free(rr);
	return 0;
}

static void
test_real_registry(void **state)
{
	struct real_registry *rrp = *state;
	struct real_registry rr;
	struct kr_registry_ref ref = { 0 };
	struct kr_registry_auth good = { USER, PASS },
				bad = { USER, "wrong-password" };
	char server[64], *digest = NULL, *cfg, *layer, *man, *want, *oci,
			 *oci_d;
	char *idx, *idx_d;
	const char *cfg_json =
		"{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{"
		"\"type\":\"layers\",\"diff_ids\":[]},\"config\":{}}";
	const char *layer_data =
		"not really a tarball, the registry does not look";

	if (!which("docker-registry") || !which("htpasswd")) {
		print_message("skipped: docker-registry or htpasswd "
			      "(apache2-utils) is not installed\n");
		skip();
	}
	if (rrp->pid <= 0)
		fail_msg("docker-registry serve did not start");
	rr = *rrp;
	snprintf(server, sizeof(server), "127.0.0.1:%d", rr.port);

	/* Push a Docker v2 image: config blob, one layer blob, the manifest. */
	cfg = push_blob(rr.port, "kr/app", cfg_json);
	layer = push_blob(rr.port, "kr/app", layer_data);
	man = kr_xasprintf("{\"schemaVersion\":2,\"mediaType\":\"application/"
			   "vnd.docker.distribution.manifest.v2+json\","
			   "\"config\":{\"mediaType\":\"application/"
			   "vnd.docker.container.image.v1+json\",\"size\":%zu,"
			   "\"digest\":\"%s\"},"
			   "\"layers\":[{\"mediaType\":\"application/"
			   "vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":%"
			   "zu,\"digest\":\"%s\"}]}",
		strlen(cfg_json), cfg, strlen(layer_data), layer);
	want = push_manifest(rr.port, "kr/app", "v1",
		"application/vnd.docker.distribution.manifest.v2+json", man);

	assert_int_equal(kr_registry_ref_parse(&ref, server, "kr/app:v1"), 0);
	if (kr_registry_resolve(&digest, &ref, &good, &fast) != 0)
		fail_msg("%s", kr_error_last());
	assert_string_equal(digest, want);
	free(digest);
	digest = NULL;

	/* Wrong password: 401 as a credentials error. */
	assert_int_equal(
		kr_registry_resolve(&digest, &ref, &bad, &fast), KR_EREGISTRY);
	assert_non_null(strstr(kr_error_last(), "refused the credentials"));
	assert_null(strstr(kr_error_last(), "wrong-password"));
	assert_int_equal(
		kr_registry_resolve(&digest, &ref, NULL, &fast), KR_EREGISTRY);
	assert_non_null(strstr(kr_error_last(), "requires credentials"));
	kr_registry_ref_release(&ref);

	/* A tag never pushed. */
	assert_int_equal(kr_registry_ref_parse(&ref, server, "kr/app:v2"), 0);
	assert_int_equal(
		kr_registry_resolve(&digest, &ref, &good, &fast), KR_ENOTFOUND);
	assert_non_null(strstr(kr_error_last(), "not pushed yet"));
	kr_registry_ref_release(&ref);

	/*
	 * An OCI image index over an OCI manifest: the registry answers it
	 * only to a client that accepts the OCI index type, and the digest is
	 * the index's, not the platform manifest's.
	 */
	oci = kr_xasprintf("{\"schemaVersion\":2,\"mediaType\":\"application/"
			   "vnd.oci.image.manifest.v1+json\","
			   "\"config\":{\"mediaType\":\"application/"
			   "vnd.oci.image.config.v1+json\",\"size\":%zu,"
			   "\"digest\":\"%s\"},"
			   "\"layers\":[{\"mediaType\":\"application/"
			   "vnd.oci.image.layer.v1.tar+gzip\",\"size\":%zu,"
			   "\"digest\":\"%s\"}]}",
		strlen(cfg_json), cfg, strlen(layer_data), layer);
	oci_d = push_manifest(rr.port, "kr/app", "oci-single",
		"application/vnd.oci.image.manifest.v1+json", oci);
	idx = kr_xasprintf(
		"{\"schemaVersion\":2,\"mediaType\":\"application/"
		"vnd.oci.image.index.v1+json\","
		"\"manifests\":[{\"mediaType\":\"application/"
		"vnd.oci.image.manifest.v1+json\",\"size\":%zu,\"digest\":\"%"
		"s\","
		"\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}",
		strlen(oci), oci_d);
	idx_d = push_manifest(rr.port, "kr/app", "multi",
		"application/vnd.oci.image.index.v1+json", idx);
	assert_int_equal(
		kr_registry_ref_parse(&ref, server, "kr/app:multi"), 0);
	if (kr_registry_resolve(&digest, &ref, &good, &fast) != 0)
		fail_msg("%s", kr_error_last());
	assert_string_equal(digest, idx_d);
	free(digest);
	digest = NULL;
	kr_registry_ref_release(&ref);
	assert_int_equal(
		kr_registry_ref_parse(&ref, server, "kr/app:oci-single"), 0);
	if (kr_registry_resolve(&digest, &ref, &good, &fast) != 0)
		fail_msg("%s", kr_error_last());
	assert_string_equal(digest, oci_d);
	free(digest);
	kr_registry_ref_release(&ref);

	free(cfg);
	free(layer);
	free(man);
	free(want);
	free(oci);
	free(oci_d);
	free(idx);
	free(idx_d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref_parse),
		cmocka_unit_test(test_ref_parse_invalid),
		cmocka_unit_test(test_scheme),
		cmocka_unit_test(test_resolve_head_digest),
		cmocka_unit_test(test_resolve_get_fallback),
		cmocka_unit_test(test_resolve_basic),
		cmocka_unit_test(test_resolve_bearer),
		cmocka_unit_test(test_resolve_404),
		cmocka_unit_test(test_resolve_500),
		cmocka_unit_test(test_resolve_timeout),
		cmocka_unit_test(test_resolve_tls_failure),
		cmocka_unit_test(test_resolve_refused),
		cmocka_unit_test(test_resolve_insecure_realm),
		cmocka_unit_test_setup_teardown(
			test_real_registry, real_setup, real_teardown),
	};

	/* Talk to our own servers directly, whatever proxy the environment
	 * names. */
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
