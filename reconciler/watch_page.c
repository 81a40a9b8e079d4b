/*
 * The watcher's status page, rendered on the server as HTML and CSS (no
 * script framework, no outside asset; a meta refresh every 10 s): per
 * destination the commit applied against the newest seen, drift found and
 * repaired, and each host with its reachability, roles and the versions
 * they run, accessories, env files (names and hashes only) and the deploy
 * lock, from the status document of its last run (reconciler/status.h);
 * then the last runs from the history, each linking to /runs/N with its
 * plan and journal. Every value is escaped; nothing on it is secret
 * (status and history hold none). Read-only.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/error.h"
#include "reconciler/watch_int.h"
#include "state/store.h"

/* Text as HTML: & < > " ' escaped. */
static void
esc(struct kr_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			kr_buf_puts(b, "&amp;");
			break;
		case '<':
			kr_buf_puts(b, "&lt;");
			break;
		case '>':
			kr_buf_puts(b, "&gt;");
			break;
		case '"':
			kr_buf_puts(b, "&quot;");
			break;
		case '\'':
			kr_buf_puts(b, "&#39;");
			break;
		default:
			kr_buf_putc(b, *s);
		}
	}
}

static const char *
jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static void
head(struct kr_buf *b, const char *title, bool refresh)
{
	kr_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
		       "<meta charset=\"utf-8\">");
	if (refresh)
		kr_buf_puts(b, "<meta http-equiv=\"refresh\" content=\"10\">");
	kr_buf_puts(b, "<meta name=\"viewport\" content=\"width=device-width\">"
		       "<title>");
	esc(b, title);
	kr_buf_puts(b,
		"</title><style>"
		"body{font:14px/1.4 "
		"system-ui,sans-serif;margin:0;color:#1d232a;"
		"background:#f4f6f8}"
		"header{background:#1d232a;color:#fff;padding:12px 24px}"
		"header h1{font-size:18px;margin:0}"
		"header p{margin:4px 0 0;color:#b8c2cc}"
		"main{padding:16px 24px;max-width:1200px}"
		"section{background:#fff;border:1px solid #dde3e8;"
		"border-radius:6px;padding:12px 16px;margin-bottom:16px}"
		"h2{font-size:16px;margin:0 0 8px}"
		"table{border-collapse:collapse;width:100%}"
		"th,td{text-align:left;padding:4px 8px;border-bottom:1px solid "
		"#eef1f4;vertical-align:top}"
		"th{font-weight:600;color:#52606d}"
		"code{font:12px ui-monospace,monospace}"
		".ok{color:#17803d}.bad{color:#c62828}.warn{color:#a15c00}"
		".pill{display:inline-block;padding:0 6px;border-radius:8px;"
		"background:#eef1f4;margin-right:4px}"
		"a{color:#0b5cad}"
		"</style></head><body>");
}

static void
outcome_span(struct kr_buf *b, const char *outcome)
{
	const char *cls = !outcome		     ? "warn" :
			  strcmp(outcome, "ok") == 0 ? "ok" :
			  strcmp(outcome, "failed") == 0 ||
					  strcmp(outcome, "partial") == 0 ?
						       "bad" :
						       "warn";

	kr_buf_printf(b, "<span class=\"%s\">", cls);
	esc(b, outcome ? outcome : "running");
	kr_buf_puts(b, "</span>");
}

static void
host_rows(struct kr_buf *b, const json_t *status)
{
	const json_t *h, *r, *a, *e;
	size_t i, j;

	kr_buf_puts(b, "<table><tr><th>host</th><th>state</th>"
		       "<th>roles (running version)</th><th>accessories</th>"
		       "<th>env files</th><th>deploy lock</th></tr>");
	json_array_foreach(json_object_get(status, "hosts"), i, h)
	{
		const json_t *lock = json_object_get(h, "lock");
		bool ok = strcmp(jstr(h, "status"), "ok") == 0;

		kr_buf_puts(b, "<tr class=\"host\"><td><code>");
		esc(b, jstr(h, "name"));
		kr_buf_puts(b, "</code>");
		if (!json_is_true(json_object_get(h, "configured")))
			kr_buf_puts(b, " <span class=\"warn\">(not configured)"
				       "</span>");
		kr_buf_printf(b, "</td><td class=\"%s\">", ok ? "ok" : "bad");
		esc(b, ok ? "reachable" : jstr(h, "status"));
		if (!ok) {
			kr_buf_puts(b, ": ");
			esc(b, jstr(h, "error"));
		} else {
			kr_buf_puts(b, ", docker ");
			esc(b, jstr(h, "docker_version"));
		}
		kr_buf_puts(b, "</td><td>");
		json_array_foreach(json_object_get(h, "roles"), j, r)
		{
			const json_t *run =
				json_object_get(r, "running_versions");
			const json_t *v;
			size_t k;

			kr_buf_puts(b, "<div><span class=\"pill\">");
			esc(b, jstr(r, "role"));
			kr_buf_puts(b, "</span>");
			if (!json_array_size(run))
				kr_buf_puts(b, "<span class=\"bad\">not "
					       "running</span>");
			json_array_foreach(run, k, v)
			{
				kr_buf_puts(b, k ? ", <code>" : "<code>");
				esc(b, jstr(v, "version"));
				kr_buf_puts(b, "</code>");
			}
			kr_buf_puts(b, "</div>");
		}
		kr_buf_puts(b, "</td><td>");
		json_array_foreach(json_object_get(h, "accessories"), j, a)
		{
			kr_buf_puts(b, "<div>");
			esc(b, jstr(a, "name"));
			kr_buf_puts(b, ": ");
			esc(b, jstr(a, "state"));
			kr_buf_puts(b, "</div>");
		}
		kr_buf_puts(b, "</td><td>");
		json_array_foreach(json_object_get(h, "env_files"), j, e)
		{
			kr_buf_puts(b, "<div><code>");
			esc(b, jstr(e, "path"));
			kr_buf_puts(b, "</code> ");
			esc(b, jstr(e, "state"));
			kr_buf_puts(b, " <code>");
			kr_buf_printf(b, "%.12s", jstr(e, "sha256"));
			kr_buf_puts(b, "</code></div>");
		}
		kr_buf_puts(b, "</td><td>");
		if (json_is_true(json_object_get(lock, "held"))) {
			kr_buf_puts(b, "<span class=\"warn\">held</span> ");
			esc(b, jstr(lock, "details"));
		} else if (json_is_true(json_object_get(lock, "lock_host"))) {
			kr_buf_puts(b, "free");
		}
		kr_buf_puts(b, "</td></tr>");
	}
	kr_buf_puts(b, "</table>");
}

static void
iso(char out[32], time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%d %H:%M:%SZ", &tm);
}

static void
runs_table(struct kr_buf *b, struct kr_watch *w)
{
	struct kr_store *s = NULL;
	struct kr_store_run_info *v = NULL;
	size_t n = 0, i;
	char when[32];

	kr_buf_puts(b, "<section><h2>Last runs</h2>");
	if (kr_store_open(&s, w->o.state_path) < 0 ||
		kr_store_runs_list(&v, &n, s, NULL, 25) < 0) {
		kr_buf_puts(b, "<p class=\"bad\">");
		esc(b, kr_error_last());
		kr_buf_puts(b, "</p></section>");
		kr_store_close(s);
		return;
	}
	kr_buf_puts(b,
		"<table><tr><th>run</th><th>started</th><th>trigger"
		"</th><th>destination</th><th>commit</th><th>outcome</th>"
		"<th>time</th><th>what happened</th></tr>");
	for (i = 0; i < n; i++) {
		iso(when, v[i].started_at);
		kr_buf_printf(b,
			"<tr class=\"run\"><td><a href=\"/runs/%lld\">"
			"%lld</a></td><td>%s</td><td>",
			(long long)v[i].id, (long long)v[i].id, when);
		esc(b, v[i].trigger ? v[i].trigger : "");
		kr_buf_puts(b, "</td><td>");
		esc(b, v[i].destination ? v[i].destination : "");
		kr_buf_puts(b, "</td><td><code>");
		if (v[i].git_commit)
			kr_buf_printf(b, "%.10s", v[i].git_commit);
		kr_buf_puts(b, "</code></td><td>");
		outcome_span(b, v[i].result);
		kr_buf_puts(b, "</td><td>");
		if (v[i].duration_ms >= 0)
			kr_buf_printf(
				b, "%.1f s", (double)v[i].duration_ms / 1000.0);
		kr_buf_puts(b, "</td><td>");
		esc(b, v[i].summary ? v[i].summary : "");
		kr_buf_puts(b, "</td></tr>");
	}
	kr_buf_puts(b, "</table></section>");
	kr_store_runs_free(v, n);
	kr_store_close(s);
}

void
kr_watch_page_status(struct kr_http_response *resp, struct kr_watch *w)
{
	struct kr_buf *b = &resp->body;
	json_t **status = kr_xcalloc(w->ndests, sizeof(*status));
	char **applied = kr_xcalloc(w->ndests, sizeof(*applied));
	unsigned long long *found = kr_xcalloc(w->ndests, sizeof(*found));
	unsigned long long *fixed = kr_xcalloc(w->ndests, sizeof(*fixed));
	char *seen;
	size_t i;

	/* take what the main loop last wrote, then render unlocked */
	pthread_mutex_lock(&w->mu);
	seen = w->seen ? kr_xstrdup(w->seen) : NULL;
	for (i = 0; i < w->ndests; i++) {
		status[i] = json_incref(w->dests[i].status);
		applied[i] = w->dests[i].applied ?
				     kr_xstrdup(w->dests[i].applied) :
				     NULL;
		found[i] = w->dests[i].drift_found;
		fixed[i] = w->dests[i].drift_repaired;
	}
	pthread_mutex_unlock(&w->mu);

	resp->content_type = "text/html; charset=utf-8";
	head(b, "kreconcile watch", true);
	kr_buf_puts(b, "<header><h1>kreconcile watch</h1><p>");
	esc(b, w->branch);
	kr_buf_puts(b, " of ");
	esc(b, w->url_shown);
	kr_buf_puts(b, " &middot; newest commit seen <code>");
	esc(b, seen ? seen : "none yet");
	kr_buf_puts(b, "</code></p></header><main>");
	for (i = 0; i < w->ndests; i++) {
		bool current =
			seen && applied[i] && strcmp(seen, applied[i]) == 0;

		kr_buf_puts(b, "<section class=\"destination\"><h2>");
		esc(b, w->dests[i].name ? w->dests[i].name :
					  "(no destination)");
		kr_buf_puts(b, "</h2><p>applied <code>");
		esc(b, applied[i] ? applied[i] : "nothing yet");
		kr_buf_printf(b,
			"</code> <span class=\"%s\">%s</span> "
			"&middot; drift found %llu, repaired %llu</p>",
			current ? "ok" : "warn",
			current ? "(newest)" : "(behind the newest commit)",
			found[i], fixed[i]);
		if (status[i])
			host_rows(b, status[i]);
		else
			kr_buf_puts(b, "<p class=\"warn\">no run yet</p>");
		kr_buf_puts(b, "</section>");
		json_decref(status[i]);
		free(applied[i]);
	}
	runs_table(b, w);
	kr_buf_puts(b, "</main></body></html>\n");
	free(status);
	free(applied);
	free(found);
	free(fixed);
	free(seen);
}

void
kr_watch_page_run(
	struct kr_http_response *resp, struct kr_watch *w, const char *id_text)
{
	struct kr_buf *b = &resp->body;
	struct kr_store *s = NULL;
	struct kr_store_run_info r;
	struct kr_store_journal_entry *j = NULL;
	size_t n = 0, i;
	json_t *plan = NULL, *c;
	char *end, when[32], title[64];
	long long id = strtoll(id_text, &end, 10);

	memset(&r, 0, sizeof(r));
	if (*end || id <= 0 || kr_store_open(&s, w->o.state_path) < 0 ||
		kr_store_run_get(&r, s, id) < 0 ||
		kr_store_journal_list(&j, &n, s, id) < 0) {
		resp->status = 404;
		kr_buf_puts(b, "no such run\n");
		kr_store_run_info_release(&r);
		kr_store_journal_free(j, n);
		kr_store_close(s);
		return;
	}
	resp->content_type = "text/html; charset=utf-8";
	snprintf(title, sizeof(title), "kreconcile run %lld", id);
	head(b, title, false);
	iso(when, r.started_at);
	kr_buf_printf(b, "<header><h1>run %lld</h1><p>", id);
	esc(b, r.kind);
	kr_buf_puts(b, " &middot; ");
	esc(b, r.trigger ? r.trigger : "manual");
	kr_buf_printf(b, " &middot; started %s &middot; ", when);
	outcome_span(b, r.result);
	kr_buf_puts(b, "</p></header><main><p><a href=\"/\">&larr; status</a>"
		       "</p><section><h2>Summary</h2><p>");
	esc(b, r.summary ? r.summary : "");
	kr_buf_puts(b, "</p><p>commit <code>");
	esc(b, r.git_commit ? r.git_commit : "-");
	kr_buf_puts(b, "</code></p></section><section><h2>Plan</h2>");
	if (r.plan_json && *r.plan_json)
		plan = json_loads(r.plan_json, 0, NULL);
	if (plan) {
		kr_buf_puts(b, "<table><tr><th>address</th><th>actions</th>"
			       "<th>status</th><th>why</th></tr>");
		json_array_foreach(json_object_get(plan, "changes"), i, c)
		{
			const json_t *a;
			size_t k;

			kr_buf_puts(b, "<tr class=\"change\"><td><code>");
			esc(b, jstr(c, "address"));
			kr_buf_puts(b, "</code></td><td>");
			json_array_foreach(json_object_get(c, "actions"), k, a)
			{
				if (k)
					kr_buf_puts(b, ", ");
				esc(b, json_string_value(a));
			}
			kr_buf_puts(b, "</td><td>");
			esc(b, jstr(c, "status"));
			kr_buf_puts(b, "</td><td>");
			esc(b, jstr(c, "reason"));
			kr_buf_puts(b, "</td></tr>");
		}
		kr_buf_puts(b, "</table>");
	} else {
		kr_buf_puts(b, "<p>no plan was made</p>");
	}
	kr_buf_puts(b,
		"</section><section><h2>Journal</h2><table><tr>"
		"<th>address</th><th>action</th><th>result</th><th>output</th>"
		"</tr>");
	for (i = 0; i < n; i++) {
		kr_buf_puts(b, "<tr class=\"journal\"><td><code>");
		esc(b, j[i].address);
		kr_buf_puts(b, "</code></td><td>");
		esc(b, j[i].action);
		kr_buf_puts(b, "</td><td>");
		outcome_span(b, j[i].result);
		kr_buf_puts(b, "</td><td><code>");
		esc(b, j[i].stderr_tail ? j[i].stderr_tail : "");
		kr_buf_puts(b, "</code></td></tr>");
	}
	kr_buf_puts(b, "</table></section></main></body></html>\n");
	json_decref(plan);
	kr_store_journal_free(j, n);
	kr_store_run_info_release(&r);
	kr_store_close(s);
}
