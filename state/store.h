/*
 * The state database (SQLite): desired revisions, hosts, observed snapshots
 * per host (a bounded history), runs and the apply journal. Default path
 * `.kreconcile/state.db` beside the config (kr_store_default_path),
 * `--state PATH` overrides.
 *
 * No secret value is ever written. Before its first write a store must be
 * told the secret values of this run (kr_store_set_secrets, an empty list
 * is a valid answer); every write is refused until then. JSON columns
 * (revision model, snapshot) that contain a secret value are refused with
 * KR_EINVAL — their producers must write "(sensitive)"; free-text columns
 * (errors, summaries, stderr tails) have secret values replaced by
 * "(sensitive)".
 *
 * JSON ownership: every function here takes JSON as `const char *` text,
 * borrowed and copied into the database, and returns JSON as text that
 * the caller owns (free()).
 *
 * A store may be used from several threads; calls are serialised.
 */
#ifndef KR_STATE_STORE_H
#define KR_STATE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/vec.h"
#include "state/observed.h"

/* The schema this build writes; databases with a higher version are refused. */
#define KR_STORE_SCHEMA_VERSION 2
/* Snapshots kept per host; older ones are pruned on insert. */
#define KR_STORE_SNAPSHOTS_KEPT 50
/* Bytes of an action's stderr kept in the journal (the end of it). */
#define KR_STORE_STDERR_TAIL 4096

struct kr_store;

struct kr_store_opts {
	int busy_timeout_ms; /* wait for another writer; 0 = 5000 */
	int snapshots_kept; /* per host; 0 = KR_STORE_SNAPSHOTS_KEPT */
};

enum kr_run_kind {
	KR_RUN_REFRESH,
	KR_RUN_PLAN,
	KR_RUN_APPLY,
	KR_RUN_WATCH,
};

/*
 * Open (creating when missing) the database at path: the parent directory
 * is created with mode 0700 when missing (one level), a new database file
 * gets mode 0600. Migrates an older schema. Errors, each naming the path
 * and what to do; the file is never discarded or recreated:
 *   KR_ELOCKED  another process holds the database past the busy timeout
 *   KR_ESTORE   not a database / corrupt / from a newer kreconcile /
 *               another application's database / cannot be opened
 */
int kr_store_open(struct kr_store **out, const char *path);
int kr_store_open_ext(struct kr_store **out, const char *path,
	const struct kr_store_opts *opts);
/* Close (checkpointing the WAL); accepts NULL. */
void kr_store_close(struct kr_store *s);
/* The path it was opened with. */
const char *kr_store_path(const struct kr_store *s);

/*
 * The secret values of this run (the values of `secrets`; keys are only
 * used to name a refused secret in the error). Copied; replaces an earlier
 * list; NULL or empty means "this run holds no secrets". Required before
 * the first write. Pass the values the model treats as secret (env
 * `secret:` values, the registry password, ssh key_data), not every line
 * of .kamal/secrets: a clear value that also sits in the secrets file
 * (e.g. a registry username) would make every revision be refused.
 */
void kr_store_set_secrets(struct kr_store *s, const struct kr_kvlist *secrets);

/* `.kreconcile/state.db` in the project directory of config_path: the
 * parent of its directory when that is named "config", else its directory.
 * Caller frees. */
char *kr_store_default_path(const char *config_path);

/* ---- runs ---- */

/* Start a run; revision_id 0 = none. */
int kr_store_run_begin(int64_t *run_out, struct kr_store *s,
	enum kr_run_kind kind, int64_t revision_id);
/* Finish it: result e.g. "ok", "changes", "partial", "failed"; summary free
 * text. */
int kr_store_run_end(struct kr_store *s, int64_t run, const char *result,
	const char *summary);

/* What a run was for: trigger ("manual", "commit", "drift", "webhook",
 * "startup", ...), the git commit it deployed, its destination (each may
 * be NULL). */
int kr_store_run_describe(struct kr_store *s, int64_t run, const char *trigger,
	const char *git_commit, const char *destination);
/* The plan the run made (its JSON; secret values masked) and how long
 * the run took. */
int kr_store_run_set_plan(
	struct kr_store *s, int64_t run, const char *plan_json);
int kr_store_run_set_duration(struct kr_store *s, int64_t run, long long ms);

/* One run as history shows it. */
struct kr_store_run_info {
	int64_t id;
	char *kind;
	char *trigger; /* NULL when not recorded */
	char *git_commit;
	char *destination;
	time_t started_at;
	time_t finished_at; /* 0 while running (or killed) */
	long long duration_ms; /* -1 when unknown */
	char *result; /* NULL while running */
	char *summary;
	char *plan_json; /* only from kr_store_run_get */
};
void kr_store_run_info_release(struct kr_store_run_info *r);
/* The newest runs first, at most limit (0 = 20); kind NULL = every kind. */
int kr_store_runs_list(struct kr_store_run_info **out, size_t *n,
	struct kr_store *s, const char *kind, size_t limit);
void kr_store_runs_free(struct kr_store_run_info *v, size_t n);
/* One run, with its plan; KR_ENOTFOUND when there is no run id. */
int kr_store_run_get(
	struct kr_store_run_info *out, struct kr_store *s, int64_t id);

/* Keep the newest `keep` runs of `kind` (NULL = all kinds) and their
 * journal; older ones are deleted (their snapshots stay, unlinked). */
int kr_store_runs_prune(struct kr_store *s, const char *kind, size_t keep);

/* ---- desired revisions ---- */

struct kr_store_revision {
	const char *config_sha256; /* required */
	const char *app_version; /* may be NULL */
	const char *git_commit; /* may be NULL */
	const char *destination; /* may be NULL */
	const char *model_json; /* required: the resolved model, secrets as
				   "(sensitive)" */
};

/*
 * Record a revision; when the newest revision is identical in every field
 * its id is returned and nothing is written. KR_EINVAL when model_json is
 * not a JSON object or holds a secret value.
 */
int kr_store_revision_add(int64_t *id_out, struct kr_store *s,
	const struct kr_store_revision *rev);

/* ---- observed snapshots ---- */

struct kr_store_snapshot {
	int64_t id;
	int64_t run_id; /* 0 when none */
	char *host;
	time_t observed_at;
	enum kr_obs_status status;
	char *error; /* NULL when none */
	char *fingerprint; /* NULL when none */
	char *json; /* the observed host; NULL when none */
};
void kr_store_snapshot_release(struct kr_store_snapshot *snap);

/*
 * Record what was observed on host (run 0 = none; observed_at 0 = now;
 * error, fingerprint, json_text may be NULL). Updates the host's
 * first/last seen and status, and prunes the host's history to the bound.
 */
int kr_store_snapshot_add(struct kr_store *s, int64_t run, const char *host,
	enum kr_obs_status status, const char *error, const char *fingerprint,
	const char *json_text, time_t observed_at);
/* The newest snapshot of host; KR_ENOTFOUND when it has none. */
int kr_store_snapshot_latest(
	struct kr_store_snapshot *out, struct kr_store *s, const char *host);

/* ---- hosts ---- */

struct kr_store_host {
	char *name;
	time_t first_seen;
	time_t last_seen;
	enum kr_obs_status last_status;
};

/* Every host ever observed, by name. *out is an array of *n; free with
 * kr_store_hosts_free. */
int kr_store_hosts(struct kr_store_host **out, size_t *n, struct kr_store *s);
void kr_store_hosts_free(struct kr_store_host *hosts, size_t n);

/* ---- the apply journal ---- */

/* Journal an action before it runs: address e.g. "web/app-web-v2", action e.g.
 * "create". */
int kr_store_journal_begin(int64_t *entry_out, struct kr_store *s, int64_t run,
	const char *host, const char *address, const char *action);
/* ... and after: result e.g. "ok"/"failed"; stderr may be NULL (only its tail
 * is kept). */
int kr_store_journal_end(struct kr_store *s, int64_t entry, const char *result,
	const char *stderr_text);

struct kr_store_journal_entry {
	int64_t id;
	int64_t run_id;
	char *host;
	char *address;
	char *action;
	time_t started_at;
	time_t finished_at; /* 0 while unfinished (e.g. after a crash) */
	char *result; /* NULL while unfinished */
	char *stderr_tail; /* NULL when none */
};

/* The journal of one run, in order. Free with kr_store_journal_free. */
int kr_store_journal_list(struct kr_store_journal_entry **out, size_t *n,
	struct kr_store *s, int64_t run);
void kr_store_journal_free(struct kr_store_journal_entry *v, size_t n);

/* Name of a status as stored ("ok", "unreachable", "no_docker", "failed"). */
const char *kr_store_status_name(enum kr_obs_status st);

#endif
