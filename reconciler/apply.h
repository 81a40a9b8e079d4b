/*
 * Apply: carry out the planned changes of a plan, host by host, hosts in
 * parallel. Each host's changes become ONE shell script (one exec) in the
 * plan's dependency order — network, registry login, env files,
 * accessories, image pulls, app containers — every action in its own
 * `set -e` subshell, framed by marker lines so each action's result and
 * output tail reach the journal; the first failed action stops the host.
 * Secret bytes (registry password, env files, accessory files) travel on
 * the exec's stdin, never in the script; the script is safe to log.
 *
 * Every action is idempotent: a network or image already there is kept, a
 * leftover container of the new name is renamed or removed before `docker
 * run`, containers to stop or remove may already be gone. So a run that was
 * killed leaves a state the next plan sees, and the next apply finishes.
 *
 * Also Kamal's deploy lock (.kamal/lock-<service>[-<dest>]) and audit log.
 */
#ifndef KR_RECONCILER_APPLY_H
#define KR_RECONCILER_APPLY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/buf.h"
#include "common/vec.h"
#include "drivers/transport.h"
#include "reconciler/plan.h"
#include "state/desired.h"

struct kr_store;

/* ---- one host's script --------------------------------------------------- */

enum kr_step_result {
	KR_STEP_NOT_RUN = 0, /* the script never reached it */
	KR_STEP_OK,
	KR_STEP_FAILED,
};

/* One journaled action of a host script. */
struct kr_apply_step {
	size_t change; /* index into plan->changes */
	char *address; /* the change's address */
	char *action; /* "create", "replace", "pull", ... */
	enum kr_step_result result;
	int status; /* exit status of the action's subshell */
	char *output; /* its stdout+stderr (may hold a log tail); NULL */
};

struct kr_apply_script {
	char *host;
	struct kr_buf text; /* the script: no secret value in it */
	struct kr_buf input; /* its stdin: SECRET (zeroed on release) */
	char nonce[33];
	struct kr_apply_step *steps;
	size_t nsteps;
	size_t steps_alloc;
};

struct kr_apply_script_opts {
	const char
		*performer; /* audit log "[performer]"; NULL = "kreconcile" */
	time_t now; /* audit log time; 0 = time(NULL) */
	const char *nonce; /* marker nonce [0-9a-z]+; NULL = random */
	const char *
		suffix; /* hex for `_replaced_` and --hostname; NULL = random */
};

/*
 * Build the script for host `ph` of plan `p` (its PLANNED changes; `d` is
 * the desired model the plan was built from). A host with nothing planned
 * gets no steps and an empty script. KR_EINVAL when a change cannot be
 * carried out (e.g. a login without a password).
 */
int kr_apply_script_build(struct kr_apply_script *out,
	const struct kr_desired *d, const struct kr_plan *p,
	const struct kr_plan_host *ph, const struct kr_apply_script_opts *o);
/* Read the script's output into the steps' result, status and output. */
void kr_apply_script_parse(
	struct kr_apply_script *s, const char *text, size_t len);
void kr_apply_script_release(struct kr_apply_script *s);

/* ---- the deploy lock ----------------------------------------------------- */

struct kr_apply_lock_opts {
	const char *service;
	const char *destination; /* NULL = none */
	const char *who; /* "Locked by: <who>" */
	const char *version;
	const char *message;
	time_t now; /* 0 = time(NULL) */
};

/*
 * Take the lock in one exec (one attempt; a caller that waits tries
 * again): `mkdir` of the lock directory, then its base64 `details`
 * (Kamal's format). Held by someone else: KR_ELOCKED and *holder
 * (allocated) is their decoded details. Other failures: KR_EIO/KR_ESSH
 * with a message.
 */
int kr_apply_lock_acquire(char **holder, struct kr_transport *t,
	const struct kr_apply_lock_opts *o);
/* Release it (rm details, rm -r the directory), in one exec; an
 * audit_line (may be NULL) is appended to the audit log first. */
int kr_apply_lock_release(struct kr_transport *t, const char *service,
	const char *destination, const char *audit_line);

/* ".kamal/<service>[-<dest>]-audit.log"; caller frees. */
char *kr_apply_audit_path(const char *service, const char *destination);
/* "[<ISO-8601>] [<performer>] [<dest>] [<role>] <message>", dest/role
 * left out when NULL (Kamal's tags); caller frees. */
char *kr_apply_audit_line(time_t now, const char *performer,
	const char *destination, const char *role, const char *message);

/* ---- running it on every host -------------------------------------------- */

enum kr_apply_host_state {
	KR_APPLY_HOST_NOTHING = 0, /* no planned change on it */
	KR_APPLY_HOST_OK,
	KR_APPLY_HOST_FAILED, /* an action failed or the exec did */
	KR_APPLY_HOST_SKIPPED, /* not observed, or interrupted before it started
				*/
};

struct kr_apply_host {
	const char *name; /* borrowed from the plan */
	enum kr_apply_host_state state;
	char *error; /* why it failed or was skipped; may be multi-line */
	unsigned execs; /* execs sent to it by apply */
	double seconds; /* wall time of its script (connect included) */
	size_t steps_ok;
	size_t steps_failed;
	size_t steps_not_run;
	/* planned changes carried out completely on this host */
	size_t added, changed, destroyed;
};

struct kr_apply_event {
	const char *host;
	const char *address; /* NULL: the event is about the host (then
			      * `result` is its outcome) */
	const char *action;
	const char *what; /* "ok", "failed", "not run", "starting" */
	const char *detail; /* output tail or error; may be NULL */
	const struct kr_apply_host *result; /* host events only */
};

struct kr_apply_opts {
	const struct kr_desired *desired;
	const struct kr_plan *plan;
	struct kr_store *store; /* journal; may be NULL */
	int64_t run; /* the store's run id */
	/* Connect to a plan host (name as the plan has it). Called on the
	 * host's pool thread. */
	int (*connect)(struct kr_transport **out, const char *host, void *arg);
	/* Done with a transport connect gave; NULL = kr_transport_close.
	 * (The CLI hands out the run's one connection per host, opened by
	 * the observe, and keeps it for the second observe and the lock.) */
	void (*disconnect)(struct kr_transport *t, void *arg);
	void *connect_arg;
	unsigned max_parallel; /* 0 = KR_POOL_DEFAULT */
	const char *performer;
	time_t now; /* 0 = time(NULL) */
	/* Set (by a signal handler or thread) to stop before the next host. */
	const volatile sig_atomic_t *interrupted;
	/* Called as steps finish, serialised; may print. */
	void (*progress)(const struct kr_apply_event *ev, void *arg);
	void *progress_arg;
	const char *nonce; /* tests: fixed marker nonce */
	const char *suffix; /* tests: fixed random hex */
};

struct kr_apply_result {
	struct kr_apply_host *hosts; /* one per plan host, plan order */
	size_t nhosts;
	/* of the hosts with planned changes: */
	size_t hosts_ok, hosts_failed, hosts_skipped;
	size_t added, changed, destroyed;
	bool interrupted;
};

/*
 * Carry out every planned change of opts->plan. Journals each step in
 * opts->store (begin before the exec, end after it with its result and
 * output tail), hosts in parallel, one exec per host. Never stops early for
 * a failed host. Returns 0 when it ran (see out for per-host outcomes) or a
 * negative KR_E* when it could not start; `out` is always initialised.
 */
int kr_apply_run(struct kr_apply_result *out, const struct kr_apply_opts *o);
void kr_apply_result_release(struct kr_apply_result *r);

#endif
