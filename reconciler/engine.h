/*
 * The engine: one run of the sequence load → observe → diff → lock → apply
 * → observe again, as a library call. `kreconcile plan|apply|refresh|status`
 * and `kreconcile watch` all call kr_engine_run; it never prints (events go
 * to the caller's callback), keeps no process-global state, and stops
 * early when the caller's cancel flag is set: before the deploy lock is
 * taken, at once (nothing has changed); after, once the actions in flight
 * are done (the lock is released and the journal says what did not run).
 *
 * Every run is recorded in the state database (runs, journal, snapshots);
 * the result hands the caller everything it may want to show.
 */
#ifndef KR_RECONCILER_ENGINE_H
#define KR_RECONCILER_ENGINE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/diag.h"
#include "reconciler/apply.h"
#include "reconciler/events.h"
#include "reconciler/hosts.h"
#include "reconciler/load.h"
#include "reconciler/plan.h"
#include "state/store.h"

enum kr_engine_op {
	KR_OP_REFRESH, /* read every host into the store */
	KR_OP_STATUS, /* the hosts as last read (or read now with refresh) */
	KR_OP_PLAN, /* read, look up images, diff */
	KR_OP_APPLY, /* plan, then carry it out under the deploy lock */
};

enum kr_engine_outcome {
	KR_OUTCOME_OK, /* done: nothing to do, or applied and the hosts match */
	KR_OUTCOME_CHANGES, /* plan: changes pending */
	KR_OUTCOME_PARTIAL, /* some hosts failed (or were not read), others did
			       their part */
	KR_OUTCOME_FAILED, /* nothing worked, or the run could not start */
	KR_OUTCOME_WAITING, /* apply: changes wait for an image the registry
			       lacks */
	KR_OUTCOME_CANCELLED, /* cancelled before anything changed, or not
				 confirmed */
};

/* Seconds one apply script (one host's actions) may take unless told
 * otherwise: sized for image pulls and health gates. */
#define KR_APPLY_TIMEOUT 1800

struct kr_engine_opts {
	enum kr_engine_op op;
	struct kr_source src;
	unsigned load_flags; /* KR_LOAD_* */
	enum kr_run_kind run_kind; /* what the store records; default from op */
	/* why this run, for the history: "manual" (NULL), "commit", "drift",
	 * "webhook", "startup" */
	const char *trigger;
	const char *commit; /* the git commit the config comes from; NULL */
	bool refresh; /* read the hosts (false: last snapshots) */
	bool include_removed; /* plan/status: hosts the store knows, no longer
				 configured */
	bool accept_new_host_keys;
	bool prune; /* also remove what is no longer configured */
	bool no_digest_check; /* a re-pushed tag (another digest) is no change
			       */
	/* apply */
	const char *saved_plan; /* a plan's JSON from `plan -o` (refused when
				   stale); may be NULL */
	size_t saved_plan_len;
	long lock_wait; /* seconds to wait for the deploy lock */
	const char *message; /* the lock's message; NULL = "kreconcile apply" */
	const char *performer; /* the lock's and the audit log's "who" */
	/* Asked once a plan with changes is ready (after KR_EVENT_PLAN);
	 * false: the run ends cancelled. NULL: approved. */
	/* Whether a held deploy lock (its holder's details) was left by a
	 * run that is gone (a watcher killed on this machine): then it is
	 * released and taken. NULL: a held lock is never taken over. */
	bool (*lock_stale)(const char *holder, void *arg);
	void *lock_stale_arg;
	bool (*confirm)(const struct kr_plan *plan, void *arg);
	void *confirm_arg;
	/* timeouts in seconds; 0 = x-kreconcile.timeouts, else the defaults */
	int observe_timeout;
	int apply_timeout;
	/* the run's cancel flag (Ctrl-C, SIGTERM, a watcher stopping) */
	const volatile sig_atomic_t *cancel;
	struct kr_events events;
};

struct kr_engine_result {
	enum kr_engine_outcome outcome;
	int64_t run; /* the store's run id (0: none was begun) */
	struct kr_loaded
		loaded; /* what was loaded; desired NULL when loading failed */
	struct kr_diags diags; /* loading's problems (also sent as events) */
	struct kr_hosts hosts; /* the first read */
	struct kr_hosts
		after; /* apply: the read after it (n = 0 when not done) */
	struct kr_plan *plan; /* plan, apply: what was planned (and applied) */
	struct kr_plan
		*plan2; /* apply: the plan from the second read; NULL unknown */
	struct kr_apply_result
		applied; /* apply: per host (nhosts 0 when nothing ran) */
	bool apply_ran; /* apply: the hosts' scripts were started */
	bool replanned; /* apply: the hosts changed while waiting for the lock
			 */
	unsigned lock_execs; /* apply: execs sent for the deploy lock */
	unsigned *
		connections; /* apply: connections opened per configured host */
	char *error; /* why it failed or was cancelled; NULL */
	char *store_path; /* the state database's path, once opened */
	size_t registry_errors; /* images the registry could not be asked about
				 */
	long long duration_ms; /* how long the run took */
};

/*
 * Run o->op. Always fills out (release it with kr_engine_result_release),
 * and returns its outcome. Events go to o->events as the run goes; the
 * run's record (runs and journal in the store) says the same.
 */
enum kr_engine_outcome kr_engine_run(
	struct kr_engine_result *out, const struct kr_engine_opts *o);
void kr_engine_result_release(struct kr_engine_result *r);

/* The outcome of a read of the hosts: OK all read, PARTIAL some failed,
 * FAILED all failed. */
enum kr_engine_outcome kr_engine_hosts_outcome(const struct kr_hosts *h);

/* Nothing left to do, and nothing held back for an image not pushed yet. */
bool kr_engine_plan_done(const struct kr_plan *p);

/*
 * Open the state database (src->state_path, else .kreconcile/state.db
 * beside the config) and register the run's secret values (kr_store
 * refuses and masks them). Returns 0 or a negative KR_E* with
 * kr_error_last() set.
 */
int kr_engine_store_open(struct kr_store **out, const struct kr_source *src,
	const struct kr_loaded *l);

/*
 * Record the desired revision (config hash, version, destination, the
 * resolved model as JSON with every secret "(sensitive)"); *id_out its id.
 */
int kr_engine_revision_add(
	int64_t *id_out, struct kr_store *s, const struct kr_loaded *l);

/* "HOST/lock/<service>[-<dest>]": the deploy lock's address in the
 * journal (d->lock_host must be set). Caller frees. */
char *kr_engine_lock_address(const struct kr_desired *d);

#endif
