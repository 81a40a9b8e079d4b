/*
 * The HTTP listener (see http.h) on libmicrohttpd: one internal polling
 * thread, a connection limit and timeout, each request's body gathered up
 * to KR_HTTP_BODY_MAX, then handed whole to the callback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "common/error.h"
#include "drivers/http.h"

struct kr_http {
	struct MHD_Daemon *d;
	kr_http_handler handler;
	void *arg;
	int port;
};

/* One request being read. */
struct pending {
	struct kr_buf body;
	int too_large;
};

const char *
kr_http_header(const struct kr_http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

static enum MHD_Result
reply(struct MHD_Connection *c, struct kr_http_response *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(
		r->body.len, r->body.ptr, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type",
		r->content_type ? r->content_type :
				  "text/plain; charset=utf-8");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(c, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
peer_name(char *out, size_t size, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, size, "?");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			out, (socklen_t)size);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			&((const struct sockaddr_in6 *)sa)->sin6_addr, out,
			(socklen_t)size);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
	const char *method, const char *version, const char *upload_data,
	size_t *upload_size, void **con_cls)
{
	struct kr_http *h = cls;
	struct pending *p = *con_cls;
	struct kr_http_request req;
	struct kr_http_response resp = { 200, NULL, KR_BUF_INIT };
	enum MHD_Result ret;
	char peer[64];

	if (!p) {
		p = kr_xcalloc(1, sizeof(*p));
		kr_buf_init(&p->body, KR_HTTP_BODY_MAX);
		*con_cls = p;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!p->too_large &&
			kr_buf_put(&p->body, upload_data, *upload_size) < 0)
			p->too_large = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	if (p->too_large) {
		resp.status = 413;
		kr_buf_puts(&resp.body, "request body too large\n");
	} else {
		peer_name(peer, sizeof(peer), c);
		memset(&req, 0, sizeof(req));
		req.method = method;
		req.path = url;
		req.body = p->body.ptr;
		req.body_len = p->body.len;
		req.peer = peer;
		req.conn = c;
		h->handler(&req, &resp, h->arg);
	}
	ret = reply(c, &resp);
	kr_buf_release(&resp.body);
	return ret;
}

static void
on_done(void *cls, struct MHD_Connection *c, void **con_cls,
	enum MHD_RequestTerminationCode toe)
{
	struct pending *p = *con_cls;

	if (p) {
		kr_buf_release(&p->body);
		free(p);
		*con_cls = NULL;
	}
}

/* "HOST:PORT", "[V6]:PORT" or ":PORT" into a socket address. */
static int
parse_addr(struct sockaddr_storage *out, socklen_t *len, const char *addr)
{
	const char *colon = strrchr(addr, ':');
	char host[128];
	char *end;
	long port;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!colon)
		goto bad;
	port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 0 || port > 65535)
		goto bad;
	n = (size_t)(colon - addr);
	if (n >= sizeof(host))
		goto bad;
	memcpy(host, addr, n);
	host[n] = '\0';
	if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;

		host[n - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
			goto bad;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return 0;
	}
	{
		struct sockaddr_in *a4 = (struct sockaddr_in *)out;

		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		if (!*host)
			a4->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET,
				 strcmp(host, "localhost") == 0 ? "127.0.0.1" :
								  host,
				 &a4->sin_addr) != 1)
			goto bad;
		*len = sizeof(*a4);
		return 0;
	}
bad:
	kr_error_set(KR_EINVAL,
		"cannot listen on '%s': want HOST:PORT "
		"(127.0.0.1:9090, [::1]:9090 or :9090)",
		addr);
	return KR_EINVAL;
}

int
kr_http_start(struct kr_http **out, const char *addr, kr_http_handler handler,
	void *arg)
{
	struct sockaddr_storage sa;
	socklen_t salen = 0;
	struct kr_http *h;
	const union MHD_DaemonInfo *di;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
	int err;

	if ((err = parse_addr(&sa, &salen, addr)) < 0)
		return err;
	if (sa.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h = kr_xcalloc(1, sizeof(*h));
	h->handler = handler;
	h->arg = arg;
	errno = 0;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_NOTIFY_COMPLETED, on_done, h,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_END);
	if (!h->d) {
		kr_error_set(KR_EIO, "cannot listen on '%s': %s", addr,
			errno ? strerror(errno) :
				"the HTTP server did not "
				"start");
		free(h);
		return KR_EIO;
	}
	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = di ? di->port : 0;
	*out = h;
	return 0;
}

int
kr_http_port(const struct kr_http *h)
{
	return h->port;
}

void
kr_http_stop(struct kr_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
