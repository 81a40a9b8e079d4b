/*
 * Benchmark of the pure diff and plan (issue 9, "scale"): N synthetic hosts
 * with C containers each (C-1 app roles and one accessory, every one with
 * its env file), built in memory with the unit tests' fixtures
 * (tests/unit/diff_fixture.h), then kr_diff_build and the text and JSON
 * renderings, timed, for three cases: nothing to do (containers carry
 * the definition hash), a version change of every app, and Kamal-made
 * containers compared field by field. Prints a Markdown table: the median
 * of RUNS runs in ms, and memory in MiB: resident once both models are
 * built (before the diff), and the process's peak so far.
 *
 *   bench_diff [HOSTS [CONTAINERS [RUNS]]]      defaults 1000 10 5
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <jansson.h>

#include "diff_fixture.h"
#include "reconciler/diff.h"
#include "reconciler/plan.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Resident memory now, in MiB (from /proc/self/statm). */
static double
rss_mib(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return (double)resident * 4096.0 / (1024.0 * 1024.0);
}

static double
peak_mib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_maxrss / 1024.0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

enum scenario { NOOP, VERSION, KAMAL };

/* Desired at `want`, observed at `have`; hash labels unless Kamal-made. */
static void
build(struct kr_desired **dout, struct kr_observed_host **oout, size_t nh,
	size_t nc, enum scenario sc)
{
	static const char *const secrets[] = { "DATABASE_URL",
		"postgres://app:pw@db/app", "SECRET_KEY_BASE",
		"0123456789abcdef", NULL };
	struct kr_desired *have = fx_desired(FX_V1);
	struct kr_desired *want = fx_desired(sc == VERSION ? FX_V2 : FX_V1);
	struct kr_observed_host *obs = fx_observed(nh);
	char name[64], role[32];
	size_t i, j;

	for (i = 0; i < nh; i++) {
		struct kr_host *hw, *hh;

		snprintf(name, sizeof(name), "10.%zu.%zu.%zu", i >> 16,
			(i >> 8) & 255, i & 255);
		hw = fx_host(want, name);
		hh = fx_host(have, name);
		fx_obs_init(&obs[i], name);
		for (j = 0; j + 1 < nc; j++) {
			struct kr_app *a;

			snprintf(role, sizeof(role), j ? "role%zu" : "web", j);
			fx_app(want, hw, role, secrets);
			a = fx_app(have, hh, role, secrets);
			fx_obs_app(&obs[i], a, sc != KAMAL, FX_NOW - 3600);
			fx_obs_env(&obs[i], &a->env_file);
		}
		if (nc) {
			struct kr_accessory *acc;

			fx_accessory(
				want, hw, "db", "postgres:16", secrets + 2);
			acc = fx_accessory(
				have, hh, "db", "postgres:16", secrets + 2);
			fx_obs_accessory(
				&obs[i], acc, sc != KAMAL, FX_NOW - 7200);
			fx_obs_env(&obs[i], &acc->env_file);
		}
	}
	fx_desired_free(have);
	*dout = want;
	*oout = obs;
}

int
main(int argc, char **argv)
{
	static const char *const names[] = { "no changes (hash labels)",
		"version change, every app", "Kamal-made, field by field" };
	size_t nh = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
	size_t nc = argc > 2 ? strtoul(argv[2], NULL, 10) : 10;
	int runs = argc > 3 ? atoi(argv[3]) : 5, sc, r;

	if (runs < 1)
		runs = 1;
	printf("%zu hosts x %zu containers, median of %d runs\n\n", nh, nc,
		runs);
	printf("| case | changes | diff ms | + text ms | + JSON ms | RSS with "
	       "models MiB | peak RSS MiB |\n| --- | ---: | ---: | ---: | ---: "
	       "| ---: "
	       "| ---: |\n");
	for (sc = NOOP; sc <= KAMAL; sc++) {
		double *td = calloc((size_t)runs, sizeof(double));
		double *tt = calloc((size_t)runs, sizeof(double));
		double *tj = calloc((size_t)runs, sizeof(double));
		double models = 0;
		size_t changes = 0;

		for (r = 0; r < runs; r++) {
			struct kr_desired *d;
			struct kr_observed_host *obs;
			struct kr_plan *p = NULL;
			struct kr_plan_summary sum;
			struct kr_buf text = KR_BUF_INIT, js = KR_BUF_INIT;
			struct kr_diff_opts o = { .now = FX_NOW };
			double t0, t1, t2, t3;

			build(&d, &obs, nh, nc, (enum scenario)sc);
			models = rss_mib();
			t0 = now_ms();
			if (kr_diff_build(&p, d, obs, nh, &o) != 0) {
				fprintf(stderr, "diff failed: %s\n",
					kr_error_last());
				return 1;
			}
			t1 = now_ms();
			kr_plan_render_text(&text, p, 0);
			t2 = now_ms();
			kr_plan_render_json(&js, p, 0);
			t3 = now_ms();
			kr_plan_summarize(&sum, p);
			changes = sum.add + sum.change + sum.destroy;
			td[r] = t1 - t0;
			tt[r] = t2 - t1;
			tj[r] = t3 - t2;
			kr_buf_release(&text);
			kr_buf_release(&js);
			kr_plan_free(p);
			fx_observed_free(obs, nh);
			fx_desired_free(d);
		}
		qsort(td, (size_t)runs, sizeof(double), cmp_double);
		qsort(tt, (size_t)runs, sizeof(double), cmp_double);
		qsort(tj, (size_t)runs, sizeof(double), cmp_double);
		printf("| %s | %zu | %.1f | %.1f | %.1f | %.0f | %.0f |\n",
			names[sc], changes, td[runs / 2], tt[runs / 2],
			tj[runs / 2], models, peak_mib());
		free(td);
		free(tt);
		free(tj);
	}
	return 0;
}
