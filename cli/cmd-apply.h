/*
 * What kreconcile apply's files share (cli/cmd-apply.c runs the apply;
 * cli/cmd-apply-signal.c handles Ctrl-C, SIGTERM and the confirmation;
 * cli/cmd-apply-report.c prints its progress and its outcome).
 */
#ifndef KR_CLI_CMD_APPLY_H
#define KR_CLI_CMD_APPLY_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/hosts.h"
#include "reconciler/apply.h"
#include "reconciler/plan.h"

/* ---- cmd-apply-signal.c ---- */

/* Set once Ctrl-C or SIGTERM came after kr_cli_apply_signals_arm: the
 * hosts running finish their script, no other host starts. */
extern volatile sig_atomic_t kr_cli_apply_interrupted;

struct kr_cli_apply_signals {
	pthread_t tid;
	sigset_t old_mask;
	bool thread; /* the thread runs */
};

/*
 * Block SIGINT and SIGTERM in this thread (and so in every thread it
 * starts after) and start the one thread that waits for them. Until
 * kr_cli_apply_signals_arm, a signal exits at once ("interrupted before
 * anything was changed"); after it, it sets kr_cli_apply_interrupted.
 */
void kr_cli_apply_signals_start(struct kr_cli_apply_signals *out);
/* From here a signal lets the step in flight finish (the lock is about to
 * be taken). */
void kr_cli_apply_signals_arm(void);
/* Stop the thread and restore the signal mask kr_cli_apply_signals_start
 * found. */
void kr_cli_apply_signals_stop(struct kr_cli_apply_signals *s);

/* Ask on the terminal (the question on out); true only for "yes". */
bool kr_cli_apply_confirm(FILE *out);

/* ---- cmd-apply-report.c ---- */

/* kr_apply_opts.progress_arg for kr_cli_apply_progress. */
struct kr_cli_apply_progress {
	const struct kr_globals *g;
};

/* On stderr: a line per action's outcome (its "ok" not with -q) and per
 * host done ("applied" not with -q, "failed" always). */
void kr_cli_apply_progress(const struct kr_apply_event *ev, void *arg);

/* Nothing left to do, and nothing held back for an image not pushed yet. */
bool kr_cli_apply_plan_done(const struct kr_plan *p);
/* The changes waiting for an image the registry does not have yet. */
size_t kr_cli_apply_plan_waiting(const struct kr_plan *p);

/*
 * --json: one object on stdout, {format_version, plan, applied, result}
 * (res NULL: nothing applied; plan2 NULL: the hosts were not read again).
 */
void kr_cli_apply_print_json(const struct kr_plan *plan,
	const struct kr_apply_result *res, const struct kr_plan *plan2,
	bool hosts_ok);

/* The text outcome on stdout: "Apply complete: ..." and whether the hosts
 * match now (plan2: the plan from the hosts read again, or NULL). */
void kr_cli_apply_print_result(const struct kr_apply_result *res,
	const struct kr_plan *plan2, bool after_failed);

/* -v: each configured host's SSH execs and connections in the run. */
void kr_cli_apply_print_execs(const struct kr_globals *g,
	const struct kr_desired *d, const struct kr_cli_hosts *before,
	const struct kr_cli_hosts *after, const struct kr_apply_result *r,
	unsigned lock_execs, const struct kr_cli_conns *cc);

#endif
