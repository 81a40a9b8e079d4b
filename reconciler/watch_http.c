/*
 * The watcher's HTTP endpoints (served by drivers/http.c): POST /webhook
 * (a push event from GitHub, GitLab, Gitea or Forgejo: a poll at once),
 * POST /reconcile (with the webhook secret: a reconcile at once),
 * GET /metrics, /healthz and /readyz. Read-only but for the two pokes;
 * no secret in any answer.
 */
#include <string.h>

#include "reconciler/webhook.h"
#include "reconciler/watch_int.h"

static const char *
header(void *ctx, const char *name)
{
	return kr_http_header(ctx, name);
}

static void
text(struct kr_http_response *resp, int status, const char *msg)
{
	resp->status = status;
	kr_buf_puts(&resp->body, msg);
	kr_buf_putc(&resp->body, '\n');
}

static void
refused(struct kr_watch *w, const struct kr_http_request *req, const char *why)
{
	pthread_mutex_lock(&w->mu);
	w->m.webhooks_refused++;
	pthread_mutex_unlock(&w->mu);
	kr_event_say(&w->o.events, KR_EVENT_ERROR, NULL,
		"watch: %s %s from %s refused: %s", req->method, req->path,
		req->peer, why);
}

static void
webhook(struct kr_watch *w, const struct kr_http_request *req,
	struct kr_http_response *resp)
{
	struct kr_webhook_event ev;

	kr_webhook_check(&ev, header, (void *)req, req->body, req->body_len,
		w->o.webhook_secret, w->branch);
	switch (ev.verdict) {
	case KR_WEBHOOK_PUSH:
		pthread_mutex_lock(&w->mu);
		w->m.webhooks_accepted++;
		pthread_mutex_unlock(&w->mu);
		kr_event_say(&w->o.events, KR_EVENT_PROGRESS, NULL,
			"watch: webhook (%s): a push to '%s'%s%.12s; polling "
			"now",
			ev.provider, ev.branch, ev.commit ? " at " : "",
			ev.commit ? ev.commit : "");
		kr_watch_poke(w, KR_WATCH_POKE_POLL);
		text(resp, 202, "accepted: polling now");
		break;
	case KR_WEBHOOK_IGNORED:
		kr_event_say(&w->o.events, KR_EVENT_PROGRESS, NULL,
			"watch: webhook (%s) ignored: %s", ev.provider,
			ev.reason);
		resp->status = 202;
		kr_buf_printf(&resp->body, "ignored: %s\n", ev.reason);
		break;
	case KR_WEBHOOK_UNAUTHORIZED:
		refused(w, req, ev.reason);
		text(resp, 401, "unauthorized");
		break;
	case KR_WEBHOOK_BAD:
		refused(w, req, ev.reason);
		resp->status = 400;
		kr_buf_printf(&resp->body, "bad request: %s\n", ev.reason);
		break;
	}
	kr_webhook_event_release(&ev);
}

/* POST /reconcile: "Authorization: Bearer <secret>", or the body signed
 * as a GitHub webhook would be. */
static void
reconcile(struct kr_watch *w, const struct kr_http_request *req,
	struct kr_http_response *resp)
{
	const char *auth = kr_http_header(req, "Authorization");
	const char *sig = kr_http_header(req, "X-Hub-Signature-256");
	const char *secret = w->o.webhook_secret;
	char want[65];
	int ok = 0;

	if (secret && *secret && auth && strncmp(auth, "Bearer ", 7) == 0)
		ok = kr_webhook_equal(auth + 7, secret);
	else if (secret && *secret && sig && strncmp(sig, "sha256=", 7) == 0) {
		kr_webhook_hmac_hex(want, secret, req->body, req->body_len);
		ok = kr_webhook_equal(sig + 7, want);
	}
	if (!ok) {
		refused(w, req,
			secret && *secret ? "missing or wrong secret" :
					    "no webhook secret is set");
		text(resp, 401, "unauthorized");
		return;
	}
	kr_event_say(&w->o.events, KR_EVENT_PROGRESS, NULL,
		"watch: reconcile asked for by %s", req->peer);
	kr_watch_poke(w, KR_WATCH_POKE_RECONCILE);
	text(resp, 202, "accepted: reconciling now");
}

static void
readyz(struct kr_watch *w, struct kr_http_response *resp)
{
	bool ready;
	size_t i;

	pthread_mutex_lock(&w->mu);
	ready = w->polled;
	for (i = 0; i < w->ndests; i++)
		if (!w->dests[i].attempted)
			ready = false;
	pthread_mutex_unlock(&w->mu);
	if (ready)
		text(resp, 200, "ready");
	else
		text(resp, 503,
			"not ready: the first poll and reconcile have "
			"not finished");
}

void
kr_watch_http(const struct kr_http_request *req, struct kr_http_response *resp,
	void *arg)
{
	struct kr_watch *w = arg;
	bool get = strcmp(req->method, "GET") == 0 ||
		   strcmp(req->method, "HEAD") == 0;
	bool post = strcmp(req->method, "POST") == 0;

	if (strcmp(req->path, "/webhook") == 0) {
		if (post)
			webhook(w, req, resp);
		else
			text(resp, 405, "use POST");
	} else if (strcmp(req->path, "/reconcile") == 0) {
		if (post)
			reconcile(w, req, resp);
		else
			text(resp, 405, "use POST");
	} else if (strcmp(req->path, "/metrics") == 0 && get) {
		resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
		kr_watch_metrics_render(&resp->body, w);
	} else if (strcmp(req->path, "/") == 0 && get) {
		kr_watch_page_status(resp, w);
	} else if (strncmp(req->path, "/runs/", 6) == 0 && get) {
		kr_watch_page_run(resp, w, req->path + 6);
	} else if (strcmp(req->path, "/healthz") == 0 && get) {
		text(resp, 200, "ok");
	} else if (strcmp(req->path, "/readyz") == 0 && get) {
		readyz(w, resp);
	} else if (get || post) {
		text(resp, 404, "not found");
	} else {
		text(resp, 405, "method not allowed");
	}
}
