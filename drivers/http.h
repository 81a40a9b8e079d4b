/*
 * The HTTP listener driver: a small server on libmicrohttpd for the
 * watcher's webhook, metrics, health and status endpoints. It parses
 * nothing itself: each complete request (method, path, headers, body up to
 * a cap) is handed to one callback, which fills the response. Requests are
 * served on libmicrohttpd's own thread; the callback must be thread-safe.
 */
#ifndef KR_DRIVERS_HTTP_H
#define KR_DRIVERS_HTTP_H

#include <stddef.h>

#include "common/buf.h"

#define KR_HTTP_BODY_MAX (1024 * 1024) /* larger bodies get 413 */

struct kr_http_request {
	const char *method;
	const char *path; /* without the query string */
	const char *body; /* NUL-terminated; "" when none */
	size_t body_len;
	const char *peer; /* the client's address */
	void *conn; /* for kr_http_header */
};

/* A request header's value (case-insensitive name), or NULL. */
const char *kr_http_header(const struct kr_http_request *req, const char *name);

struct kr_http_response {
	int status; /* default 200 */
	const char *content_type; /* default "text/plain; charset=utf-8" */
	struct kr_buf body;
};

typedef void (*kr_http_handler)(const struct kr_http_request *req,
	struct kr_http_response *resp, void *arg);

struct kr_http;

/*
 * Listen on addr ("HOST:PORT", "[::1]:PORT" or ":PORT" for every address)
 * and serve each request with handler. KR_EINVAL for a malformed address,
 * KR_EIO when it cannot listen (message says why: port in use, ...).
 */
int kr_http_start(struct kr_http **out, const char *addr,
	kr_http_handler handler, void *arg);
/* The port it listens on (useful with port 0). */
int kr_http_port(const struct kr_http *h);
/* Stop listening, wait for requests in flight; accepts NULL. */
void kr_http_stop(struct kr_http *h);

#endif
