/*
 * kreconcile history: the runs recorded in the state database, newest
 * first (what each was for, the commit, the outcome, how long it took and
 * what it said), and `history show RUN`: one run with its plan and its
 * journal. Reads the database only.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cmd_common.h"
#include "common/error.h"
#include "reconciler/plan.h"
#include "state/store.h"

#define HISTORY_FORMAT_VERSION "1.0"

static const struct option history_options[] = {
	{ "number", required_argument, NULL, 'n' },
	{ NULL, 0, NULL, 0 },
};

static void
iso(char out[32], time_t t)
{
	struct tm tm;

	if (!t) {
		snprintf(out, 32, "-");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *
jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *
run_json(const struct kr_store_run_info *r)
{
	json_t *o = json_object();
	char when[32];

	json_object_set_new(o, "id", json_integer(r->id));
	json_object_set_new(o, "kind", jstr_or_null(r->kind));
	json_object_set_new(o, "trigger", jstr_or_null(r->trigger));
	json_object_set_new(o, "commit", jstr_or_null(r->git_commit));
	json_object_set_new(o, "destination", jstr_or_null(r->destination));
	iso(when, r->started_at);
	json_object_set_new(o, "started_at", json_string(when));
	iso(when, r->finished_at);
	json_object_set_new(o, "finished_at",
		r->finished_at ? json_string(when) : json_null());
	json_object_set_new(o, "duration_ms",
		r->duration_ms >= 0 ? json_integer(r->duration_ms) :
				      json_null());
	json_object_set_new(o, "outcome", jstr_or_null(r->result));
	json_object_set_new(o, "summary", jstr_or_null(r->summary));
	return o;
}

static char *
state_path(const struct kr_globals *g)
{
	return g->state_path ? kr_xstrdup(g->state_path) :
			       kr_store_default_path(g->config);
}

static int
list(const struct kr_globals *g, struct kr_store *s, size_t limit)
{
	struct kr_store_run_info *v = NULL;
	size_t n = 0, i;
	char when[32], dur[32];

	if (kr_store_runs_list(&v, &n, s, NULL, limit) < 0) {
		kr_cli_error("%s", kr_error_last());
		return KR_EXIT_ERROR;
	}
	if (g->json) {
		json_t *root = json_object(), *runs = json_array();

		json_object_set_new(root, "format_version",
			json_string(HISTORY_FORMAT_VERSION));
		for (i = 0; i < n; i++)
			json_array_append_new(runs, run_json(&v[i]));
		json_object_set_new(root, "runs", runs);
		kr_cli_json_print(root);
		json_decref(root);
	} else {
		printf("%-6s %-20s %-8s %-9s %-10s %-9s %-8s %s\n", "RUN",
			"STARTED", "KIND", "TRIGGER", "COMMIT", "OUTCOME",
			"TIME", "SUMMARY");
		for (i = 0; i < n; i++) {
			iso(when, v[i].started_at);
			if (v[i].duration_ms >= 0)
				snprintf(dur, sizeof(dur), "%.1fs",
					(double)v[i].duration_ms / 1000.0);
			else
				snprintf(dur, sizeof(dur), "-");
			printf("%-6lld %-20s %-8s %-9s %-10.10s %-9s %-8s %s\n",
				(long long)v[i].id, when, v[i].kind,
				v[i].trigger ? v[i].trigger : "-",
				v[i].git_commit ? v[i].git_commit : "-",
				v[i].result ? v[i].result : "running", dur,
				v[i].summary ? v[i].summary : "");
		}
		if (!n)
			printf("no runs recorded yet\n");
	}
	kr_store_runs_free(v, n);
	return KR_EXIT_OK;
}

static int
show(const struct kr_globals *g, struct kr_store *s, const char *arg)
{
	struct kr_store_run_info r;
	struct kr_store_journal_entry *j = NULL;
	size_t n = 0, i;
	char *end, when[32];
	long long id;
	json_t *plan = NULL;
	int rc = KR_EXIT_ERROR;

	errno = 0;
	id = strtoll(arg, &end, 10);
	if (errno || *end || id <= 0)
		return kr_cli_usage(&kr_cmd_history_entry,
			"'history show' takes a run number, not '%s'", arg);
	if (kr_store_run_get(&r, s, id) < 0 ||
		kr_store_journal_list(&j, &n, s, id) < 0) {
		kr_cli_error("%s", kr_error_last());
		kr_store_run_info_release(&r);
		return KR_EXIT_ERROR;
	}
	if (r.plan_json && *r.plan_json)
		plan = json_loads(r.plan_json, 0, NULL);
	if (g->json) {
		json_t *root = json_object(), *o = run_json(&r),
		       *ja = json_array();

		json_object_set_new(root, "format_version",
			json_string(HISTORY_FORMAT_VERSION));
		json_object_set_new(root, "run", o);
		json_object_set_new(
			root, "plan", plan ? json_incref(plan) : json_null());
		for (i = 0; i < n; i++) {
			json_t *e = json_object();

			json_object_set_new(e, "host", json_string(j[i].host));
			json_object_set_new(
				e, "address", json_string(j[i].address));
			json_object_set_new(
				e, "action", json_string(j[i].action));
			json_object_set_new(
				e, "result", jstr_or_null(j[i].result));
			json_object_set_new(
				e, "output", jstr_or_null(j[i].stderr_tail));
			json_array_append_new(ja, e);
		}
		json_object_set_new(root, "journal", ja);
		kr_cli_json_print(root);
		json_decref(root);
		rc = KR_EXIT_OK;
		goto out;
	}
	iso(when, r.started_at);
	printf("run %lld: %s (%s) started %s, %s", (long long)r.id, r.kind,
		r.trigger ? r.trigger : "manual", when,
		r.result ? r.result : "not finished");
	if (r.duration_ms >= 0)
		printf(" in %.1f s", (double)r.duration_ms / 1000.0);
	printf("\n");
	if (r.git_commit)
		printf("commit: %s\n", r.git_commit);
	if (r.destination)
		printf("destination: %s\n", r.destination);
	if (r.summary)
		printf("summary: %s\n", r.summary);
	if (plan) {
		json_t *changes = json_object_get(plan, "changes");
		json_t *c;
		size_t k;

		printf("\nplan (%zu change%s):\n", json_array_size(changes),
			json_array_size(changes) == 1 ? "" : "s");
		json_array_foreach(changes, k, c)
		{
			const char *reason =
				json_string_value(json_object_get(c, "reason"));
			json_t *acts = json_object_get(c, "actions"), *a;
			size_t m;

			printf("  %s:", json_string_value(
						json_object_get(c, "address")));
			json_array_foreach(acts, m, a) printf(
				"%s%s", m ? "," : " ", json_string_value(a));
			if (reason && *reason)
				printf(" (%s)", reason);
			printf("\n");
		}
	}
	printf("\njournal (%zu entr%s):\n", n, n == 1 ? "y" : "ies");
	for (i = 0; i < n; i++) {
		printf("  %s %s: %s\n", j[i].address, j[i].action,
			j[i].result ? j[i].result : "not finished");
		if (j[i].stderr_tail && *j[i].stderr_tail &&
			strcmp(j[i].result ? j[i].result : "", "ok") != 0)
			printf("    %s\n", j[i].stderr_tail);
	}
	rc = KR_EXIT_OK;
out:
	json_decref(plan);
	kr_store_journal_free(j, n);
	kr_store_run_info_release(&r);
	return rc;
}

static int
cmd_history_exec(const struct kr_globals *g, int argc, char **argv)
{
	struct kr_store *s = NULL;
	char *path, *end;
	long limit = 20;
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:", history_options, NULL)) !=
		-1) {
		switch (c) {
		case 'n':
			errno = 0;
			limit = strtol(optarg, &end, 10);
			if (errno || *end || limit < 1 || limit > 100000)
				return kr_cli_usage(&kr_cmd_history_entry,
					"-n takes a number of runs (1 to "
					"100000), not '%s'",
					optarg);
			break;
		default:
			return kr_cli_opt_error(&kr_cmd_history_entry, c, argv);
		}
	}
	if (optind < argc && strcmp(argv[optind], "show") != 0)
		return kr_cli_usage(&kr_cmd_history_entry,
			"unknown history command '%s'", argv[optind]);
	if (optind < argc && optind + 1 >= argc)
		return kr_cli_usage(&kr_cmd_history_entry,
			"'history show' needs a run number");
	if (optind + 2 < argc)
		return kr_cli_usage(&kr_cmd_history_entry,
			"unexpected argument '%s'", argv[optind + 2]);
	path = state_path(g);
	if (kr_store_open(&s, path) < 0) {
		kr_cli_error("%s", kr_error_last());
		free(path);
		return KR_EXIT_ERROR;
	}
	rc = optind < argc ? show(g, s, argv[optind + 1]) :
			     list(g, s, (size_t)limit);
	kr_store_close(s);
	free(path);
	return rc;
}

const struct kr_cmd_entry kr_cmd_history_entry = {
	.name = "history",
	.summary = "show the runs recorded in the state database",
	.usage = "kreconcile history [--json] [-n N] | history show RUN "
		 "[--json]\n"
		 "  -n, --number N          the newest N runs (default 20)\n"
		 "  show RUN                one run: what it was for, its plan "
		 "and its journal",
	.flags = KR_CMD_JSON,
	.complete = "-n|--number=N show",
	.exec = cmd_history_exec,
};
