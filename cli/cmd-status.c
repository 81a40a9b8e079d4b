/*
 * kreconcile status: what each host runs, as last read by refresh (or plan),
 * printed from the status document (reconciler/status.h): reachable or why
 * not, docker version, the app version running per role, accessories and
 * their state, the env files, the deploy lock's holder and when the host
 * was observed. It reads the state database only and never contacts a
 * host, so it is instant and safe to run anywhere; `--refresh` reads the
 * hosts first (as `kreconcile refresh` does). `--json` has a format_version.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cmd_common.h"
#include "cli/run.h"
#include "reconciler/status.h"
#include "common/error.h"

enum { OPT_REFRESH = KR_CLI_OPT_ACCEPT_NEW + 1 };

static const struct option status_options[] = {
	KR_CLI_OPTION_ACCEPT_NEW,
	{ "refresh", no_argument, NULL, OPT_REFRESH },
	{ NULL, 0, NULL, 0 },
};

static const char *
jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* "3 min ago" for an observation time. */
static void
format_age(char *out, size_t size, time_t t, time_t now)
{
	long long s = (long long)(now - t);

	if (!t)
		snprintf(out, size, "never");
	else if (s < 60)
		snprintf(out, size, "%llds ago", s < 0 ? 0 : s);
	else if (s < 3600)
		snprintf(out, size, "%lld min ago", s / 60);
	else if (s < 86400)
		snprintf(out, size, "%lld h ago", s / 3600);
	else
		snprintf(out, size, "%lld days ago", s / 86400);
}

static void
print_host_text(const json_t *hj, const struct kr_observed_host *h, time_t now,
	bool color)
{
	const char *bold = color ? "\033[1m" : "",
		   *red = color ? "\033[31m" : "",
		   *yellow = color ? "\033[33m" : "",
		   *reset = color ? "\033[0m" : "";
	json_t *v;
	size_t i, j;
	char when[32], age[32];

	kr_obs_time_format(when, h->observed_at);
	format_age(age, sizeof(age), h->observed_at, now);
	printf("%shost %s%s", bold, h->name, reset);
	if (!json_is_true(json_object_get(hj, "configured")))
		printf(" (not in the configuration)");
	switch (h->status) {
	case KR_OBS_OK:
		printf(": reachable, docker %s",
			h->docker_version ? h->docker_version : "?");
		break;
	case KR_OBS_UNREACHABLE:
		printf(": %sunreachable%s: %s", red, reset, jstr(hj, "error"));
		break;
	case KR_OBS_NO_DOCKER:
		printf(": reachable, %sno docker%s: %s", red, reset,
			jstr(hj, "error"));
		break;
	default:
		printf(": %snot observed%s: %s", red, reset, jstr(hj, "error"));
		break;
	}
	if (h->observed_at)
		printf(" (observed %s, %s)", when, age);
	putchar('\n');
	if (h->status != KR_OBS_OK)
		return;

	json_array_foreach(json_object_get(hj, "roles"), i, v)
	{
		json_t *running = json_object_get(v, "running_versions");
		json_t *cs = json_object_get(v, "containers");
		const char *want = jstr(v, "configured_version");
		json_t *c;
		bool first = true;

		printf("  app %s: ", jstr(v, "role"));
		if (json_array_size(running) == 0)
			printf("%snot running%s", yellow, reset);
		json_array_foreach(running, j, c)
			printf("%s%s running (%s)", j ? ", " : "",
				jstr(c, "version"), jstr(c, "container"));
		json_array_foreach(cs, j, c)
		{
			if (strcmp(jstr(c, "state"), "running") == 0)
				continue;
			printf("%s%s %s", first ? "; " : ", ",
				jstr(c, "version"), jstr(c, "state"));
			first = false;
		}
		if (!json_is_true(json_object_get(v, "configured")))
			printf(" %s(role not configured on this host)%s",
				yellow, reset);
		else if (*want &&
			 (json_array_size(running) != 1 ||
				 strcmp(jstr(json_array_get(running, 0),
						"version"),
					 want) != 0))
			printf(" %s(configured: %s)%s", yellow, want, reset);
		putchar('\n');
	}
	json_array_foreach(json_object_get(hj, "accessories"), i, v)
	{
		printf("  accessory %s: ", jstr(v, "name"));
		if (!json_is_true(json_object_get(v, "present")))
			printf("%sabsent%s", yellow, reset);
		else
			printf("%s (%s, %s)", jstr(v, "state"),
				jstr(v, "container"), jstr(v, "image"));
		if (!json_is_true(json_object_get(v, "configured")))
			printf(" %s(not configured on this host)%s", yellow,
				reset);
		else if (json_is_true(json_object_get(v, "present")) &&
			 strcmp(jstr(v, "image"),
				 jstr(v, "configured_image")) != 0)
			printf(" %s(configured: %s)%s", yellow,
				jstr(v, "configured_image"), reset);
		putchar('\n');
	}
	json_array_foreach(json_object_get(hj, "env_files"), i, v)
	{
		const char *st = jstr(v, "state");

		printf("  env file %s (%s): %s%s%s\n", jstr(v, "path"),
			jstr(v, "for"), strcmp(st, "present") ? yellow : "",
			strcmp(st, "differs") == 0 ?
				"differs from the configuration" :
				st,
			strcmp(st, "present") ? reset : "");
	}
	v = json_object_get(hj, "lock");
	if (json_is_true(json_object_get(v, "held"))) {
		const char *det = jstr(v, "details");
		size_t n = strcspn(det, "\n");

		printf("  %sdeploy lock held%s: %.*s\n", yellow, reset, (int)n,
			det);
	} else if (json_is_true(json_object_get(v, "lock_host"))) {
		printf("  deploy lock: free\n");
	}
}

static int
cmd_status_exec(const struct kr_globals *g, int argc, char **argv)
{
	struct kr_engine_opts o = { .op = KR_OP_STATUS,
		.include_removed = true,
		.load_flags = KR_LOAD_ANY_VERSION };
	struct kr_engine_result r;
	struct kr_cli_printer pr = { .g = g };
	struct kr_cli_signals sigs;
	json_t *out = NULL, *hj;
	int c, rc, err;
	time_t now = time(NULL);
	size_t i;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", status_options, NULL)) != -1) {
		switch (c) {
		case KR_CLI_OPT_ACCEPT_NEW:
			o.accept_new_host_keys = true;
			break;
		case OPT_REFRESH:
			o.refresh = true;
			break;
		default:
			return kr_cli_opt_error(&kr_cmd_status_entry, c, argv);
		}
	}
	if ((err = kr_cli_opt_no_more(&kr_cmd_status_entry, argc, argv)))
		return err;

	kr_cli_source(&o.src, g);
	kr_cli_printer_events(&o.events, &pr);
	kr_cli_signals_start(&sigs, &pr);
	o.cancel = &sigs.cancel;
	kr_engine_run(&r, &o);
	kr_cli_signals_stop(&sigs);
	rc = kr_cli_outcome_exit(r.outcome);
	if (!r.loaded.desired || !r.hosts.hosts)
		goto out;
	out = kr_status_to_json(r.loaded.desired, &r.hosts);
	if (g->json) {
		kr_cli_json_print(out);
	} else {
		json_array_foreach(json_object_get(out, "hosts"), i, hj)
			print_host_text(hj, &r.hosts.hosts[i], now, g->color);
	}
	/* only configured hosts count: a removed one was not read */
	{
		size_t failed = 0, n = r.loaded.desired->nhosts;

		for (i = 0; i < r.hosts.n && i < n; i++)
			if (r.hosts.hosts[i].status != KR_OBS_OK)
				failed++;
		rc = !failed	? KR_EXIT_OK :
		     failed < n ? KR_EXIT_PARTIAL :
				  KR_EXIT_ERROR;
	}
out:
	json_decref(out);
	kr_engine_result_release(&r);
	return rc;
}

const struct kr_cmd_entry kr_cmd_status_entry = {
	.name = "status",
	.summary = "show what each host runs, as last read",
	.usage = "kreconcile status [--json] [--refresh] "
		 "[--accept-new-host-keys]\n"
		 "  reads the state database (the last refresh); contacts no "
		 "host unless --refresh\n"
		 "  --refresh               read every host first, as "
		 "'kreconcile refresh' does\n"
		 "  --accept-new-host-keys  with --refresh: trust the key of a "
		 "host not yet in known_hosts\n"
		 "  exit 0 every host was observed, 3 some were not, 1 none "
		 "was or an error",
	.flags = KR_CMD_JSON,
	.complete = "--refresh --accept-new-host-keys",
	.exec = cmd_status_exec,
};
