/*
 * The watcher's metrics in Prometheus' text format (0.0.4): runs by
 * trigger and outcome, a histogram of reconcile durations, the commit last
 * applied against the one last seen per destination, drift found and
 * repaired, hosts unreachable, git, registry and webhook errors.
 */
#include <stdio.h>
#include <string.h>

#include "reconciler/watch_int.h"

static const double bucket_le[WATCH_NBUCKETS] = { 0.5, 1, 2, 5, 10, 30, 60, 120,
	300, 600 };

void
kr_watch_count_run(struct kr_watch *w, const char *trigger, const char *outcome,
	double seconds)
{
	struct watch_metrics *m = &w->m;
	size_t i;

	pthread_mutex_lock(&w->mu);
	for (i = 0; i < m->nruns; i++)
		if (strcmp(m->runs[i].trigger, trigger) == 0 &&
			strcmp(m->runs[i].outcome, outcome) == 0)
			break;
	if (i == m->nruns && i < sizeof(m->runs) / sizeof(m->runs[0])) {
		snprintf(m->runs[i].trigger, sizeof(m->runs[i].trigger), "%s",
			trigger);
		snprintf(m->runs[i].outcome, sizeof(m->runs[i].outcome), "%s",
			outcome);
		m->nruns++;
	}
	if (i < m->nruns)
		m->runs[i].n++;
	for (i = 0; i < WATCH_NBUCKETS; i++)
		if (seconds <= bucket_le[i])
			m->buckets[i]++;
	m->buckets[WATCH_NBUCKETS]++;
	m->seconds_sum += seconds;
	m->seconds_count++;
	pthread_mutex_unlock(&w->mu);
}

/* A label value as Prometheus wants it: \, " and newlines escaped. */
static void
label(struct kr_buf *b, const char *v)
{
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			kr_buf_putc(b, '\\');
		if (*v == '\n') {
			kr_buf_puts(b, "\\n");
			continue;
		}
		kr_buf_putc(b, *v);
	}
}

static void
help(struct kr_buf *b, const char *name, const char *type, const char *text)
{
	kr_buf_printf(
		b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

void
kr_watch_metrics_render(struct kr_buf *b, struct kr_watch *w)
{
	const struct watch_metrics *m = &w->m;
	size_t i;

	pthread_mutex_lock(&w->mu);
	help(b, "kreconcile_runs_total", "counter",
		"Reconcile runs by trigger and outcome.");
	for (i = 0; i < m->nruns; i++)
		kr_buf_printf(b,
			"kreconcile_runs_total{trigger=\"%s\","
			"outcome=\"%s\"} %llu\n",
			m->runs[i].trigger, m->runs[i].outcome, m->runs[i].n);
	help(b, "kreconcile_reconcile_duration_seconds", "histogram",
		"How long each reconcile run took.");
	for (i = 0; i < WATCH_NBUCKETS; i++)
		kr_buf_printf(b,
			"kreconcile_reconcile_duration_seconds_bucket"
			"{le=\"%g\"} %llu\n",
			bucket_le[i], m->buckets[i]);
	kr_buf_printf(b,
		"kreconcile_reconcile_duration_seconds_bucket"
		"{le=\"+Inf\"} %llu\n",
		m->buckets[WATCH_NBUCKETS]);
	kr_buf_printf(b, "kreconcile_reconcile_duration_seconds_sum %.3f\n",
		m->seconds_sum);
	kr_buf_printf(b, "kreconcile_reconcile_duration_seconds_count %llu\n",
		m->seconds_count);
	help(b, "kreconcile_commit_info", "gauge",
		"1 for the commit last seen on the branch and the one last "
		"applied per destination.");
	if (w->seen) {
		kr_buf_puts(
			b, "kreconcile_commit_info{kind=\"seen\",branch=\"");
		label(b, w->branch);
		kr_buf_puts(b, "\",commit=\"");
		label(b, w->seen);
		kr_buf_puts(b, "\"} 1\n");
	}
	for (i = 0; i < w->ndests; i++) {
		if (!w->dests[i].applied)
			continue;
		kr_buf_puts(b, "kreconcile_commit_info{kind=\"applied\","
			       "destination=\"");
		label(b, w->dests[i].name ? w->dests[i].name : "");
		kr_buf_puts(b, "\",commit=\"");
		label(b, w->dests[i].applied);
		kr_buf_puts(b, "\"} 1\n");
	}
	help(b, "kreconcile_applied_is_seen", "gauge",
		"1 when a destination runs the newest commit seen.");
	for (i = 0; i < w->ndests; i++) {
		kr_buf_puts(b, "kreconcile_applied_is_seen{destination=\"");
		label(b, w->dests[i].name ? w->dests[i].name : "");
		kr_buf_printf(b, "\"} %d\n",
			w->seen && w->dests[i].applied &&
				strcmp(w->seen, w->dests[i].applied) == 0);
	}
	help(b, "kreconcile_hosts_unreachable", "gauge",
		"Configured hosts that could not be read in the last run.");
	for (i = 0; i < w->ndests; i++) {
		kr_buf_puts(b, "kreconcile_hosts_unreachable{destination=\"");
		label(b, w->dests[i].name ? w->dests[i].name : "");
		kr_buf_printf(b, "\"} %d\n", w->dests[i].hosts_unreachable);
	}
	help(b, "kreconcile_drift_detected_total", "counter",
		"Drift checks that found the hosts differing.");
	kr_buf_printf(
		b, "kreconcile_drift_detected_total %llu\n", m->drift_detected);
	help(b, "kreconcile_drift_repaired_total", "counter",
		"Drift repaired by self-heal.");
	kr_buf_printf(
		b, "kreconcile_drift_repaired_total %llu\n", m->drift_repaired);
	help(b, "kreconcile_git_errors_total", "counter",
		"git polls, fetches and checkouts that failed.");
	kr_buf_printf(b, "kreconcile_git_errors_total %llu\n", m->git_errors);
	help(b, "kreconcile_registry_errors_total", "counter",
		"Image lookups the registry did not answer.");
	kr_buf_printf(b, "kreconcile_registry_errors_total %llu\n",
		m->registry_errors);
	help(b, "kreconcile_webhooks_total", "counter",
		"Webhook requests by result.");
	kr_buf_printf(b,
		"kreconcile_webhooks_total{result=\"accepted\"} "
		"%llu\n",
		m->webhooks_accepted);
	kr_buf_printf(b,
		"kreconcile_webhooks_total{result=\"refused\"} "
		"%llu\n",
		m->webhooks_refused);
	help(b, "kreconcile_last_poll_timestamp_seconds", "gauge",
		"When git was last read successfully.");
	kr_buf_printf(b, "kreconcile_last_poll_timestamp_seconds %lld\n",
		(long long)m->last_poll);
	pthread_mutex_unlock(&w->mu);
}
