/*
 * What the command files share to run the engine (reconciler/engine.h):
 * the source from the global options, the printer of the engine's events
 * on stderr (and apply's plan on stdout), Ctrl-C and SIGTERM turned into
 * the run's cancel flag, the confirmation question, loading with the
 * problems printed, and the exit code of an outcome.
 */
#ifndef KR_CLI_RUN_H
#define KR_CLI_RUN_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

#include "cli/cli.h"
#include "common/diag.h"
#include "reconciler/engine.h"

/* The engine's source from -c, -d, --app-version and --state. */
void kr_cli_source(struct kr_source *out, const struct kr_globals *g);

/* Prints the engine's events for one command. */
struct kr_cli_printer {
	const struct kr_globals *g;
	bool print_plan; /* KR_EVENT_PLAN: the plan as text on stdout */
	volatile sig_atomic_t locking; /* the deploy lock is being taken */
};

/* out: a sink printing on stderr through p (which must outlive it). */
void kr_cli_printer_events(struct kr_events *out, struct kr_cli_printer *p);

/*
 * Ctrl-C and SIGTERM for one run: blocked in every thread and waited for by
 * one thread of its own (so no exec in flight is cut), which sets `cancel`
 * (the engine's flag) and, once the lock is being taken (p->locking), says
 * "terminated: finishing the actions in flight, then releasing the lock".
 */
struct kr_cli_signals {
	volatile sig_atomic_t cancel;
	volatile sig_atomic_t signal; /* the first signal caught, or 0 */
	struct kr_cli_printer *printer;
	pthread_t tid;
	sigset_t old_mask;
	bool thread;
};
void kr_cli_signals_start(struct kr_cli_signals *s, struct kr_cli_printer *p);
void kr_cli_signals_stop(struct kr_cli_signals *s);
/* "interrupted" (SIGINT) or "terminated" */
const char *kr_cli_signal_word(const struct kr_cli_signals *s);

/* kr_engine_opts.confirm: ask on the terminal, true only for "yes"; with
 * stdin not a terminal, refuses with a message. arg: the kr_cli_signals
 * (a signal ends the question). */
bool kr_cli_confirm(const struct kr_plan *plan, void *arg);

/* kr_load, printing its problems (or kr_error_last()) on stderr. */
int kr_cli_load_report(struct kr_loaded *out, struct kr_diags *diags,
	const struct kr_globals *g, unsigned flags);
/* Sort and print each diagnostic as "FILE:LINE:COL: message" on stderr. */
void kr_cli_print_diags(struct kr_diags *d);

/* The exit code of an engine outcome (shared/DESIGN.md). */
int kr_cli_outcome_exit(enum kr_engine_outcome oc);

#endif
