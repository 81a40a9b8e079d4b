/*
 * What the files of the diff engine share and nothing else sees: the
 * per-build and per-host contexts, the env file comparison, and the helpers
 * one part of the diff calls in another. diff.c drives a host through
 * diff_env.c, diff_accessory.c and diff_app.c, which read the snapshot
 * through diff_observed.c, compare fields with diff_fields.c (mounts and
 * ports in diff_mounts.c), share change handling in diff_change.c and put
 * reasons into words with diff_words.c. Not a public header: the API is
 * diff.h.
 */
#ifndef KR_RECONCILER_DIFF_INT_H
#define KR_RECONCILER_DIFF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "common/buf.h"
#include "common/vec.h"
#include "reconciler/diff.h"
#include "reconciler/plan_int.h" /* str_eq, kr_plan_move_changes */

struct dctx {
	const struct kr_desired *d;
	const struct kr_diff_opts *opts;
	bool prune;
	const char *dest; /* "" when none */
	char *env_dir; /* ".kamal/apps/<svc>[-<dest>]/env/" */
};

struct hctx {
	const struct dctx *dc;
	const char *name;
	const struct kr_host *h; /* NULL: host not in the config */
	const struct kr_observed_host *oh;
	struct kr_plan *env; /* scratch plans, one per stage */
	struct kr_plan *acc;
	struct kr_plan *app;
	struct kr_strvec pulls; /* images planned changes pull */
};

/* An env file on the host compared with the desired one. */
struct env_cmp {
	const struct kr_obs_file *of; /* NULL: not on the host */
	bool content_differs;
	bool mode_differs;
	char *reason; /* NULL when equal */
};

/* ------------------------------------------ small accessors (inline) */

static inline const char *
cname(const struct kr_obs_container *oc)
{
	const char *n = oc->name ? oc->name : "";

	return n[0] == '/' ? n + 1 : n;
}

static inline const char *
label(const struct kr_obs_container *oc, const char *key)
{
	return kr_kvlist_get(&oc->labels, key);
}

/* How changes name an observed container: its id, else its name. */
static inline const char *
cid(const struct kr_obs_container *oc)
{
	return oc->id ? oc->id : cname(oc);
}

static inline bool
is_running(const struct kr_obs_container *oc)
{
	return oc->state && strcmp(oc->state, "running") == 0;
}

/* Running, or about to run again (restart loop, paused): must be stopped. */
static inline bool
is_live(const struct kr_obs_container *oc)
{
	return is_running(oc) ||
	       (oc->state && (strcmp(oc->state, "restarting") == 0 ||
				     strcmp(oc->state, "paused") == 0));
}

/* ------------------------------------------ diff_words.c: reasons */

/* "container exited 2 minutes ago (drift)" and friends. */
void kr_diff_put_drift(struct kr_buf *b, const struct dctx *dc,
	const struct kr_obs_container *oc);
/* Phrases joined by "; " after what b holds. */
void kr_diff_join_reason(struct kr_buf *b, const struct kr_strvec *phrases);
/* c->reason = b's text (NULL when empty); releases b. */
void kr_diff_set_reason_buf(struct kr_change *c, struct kr_buf *b);
/* "a, b, c" */
void kr_diff_put_key_list(struct kr_buf *b, const struct kr_strvec *keys);

/* ------------------------------------- diff_observed.c: the snapshot */

bool kr_diff_is_app(const struct dctx *dc, const struct kr_obs_container *oc);
bool kr_diff_is_accessory(
	const struct dctx *dc, const struct kr_obs_container *oc);
bool kr_diff_newer(
	const struct kr_obs_container *a, const struct kr_obs_container *b);
const struct kr_obs_file *kr_diff_find_file(
	const struct kr_observed_host *oh, const char *path);
const char *kr_diff_mode_digits(const char *m);
bool kr_diff_ends_with(const char *s, const char *suffix);
/* qsort comparison of two char * */
int kr_diff_str_cmp(const void *a, const void *b);

/* ------------------------------------ diff_mounts.c: mounts and ports */

void kr_diff_mounts_before(struct kr_strvec *before,
	const struct kr_strvec *specs, bool home,
	const struct kr_obs_container *oc, bool *used);
void kr_diff_mounts_extra(struct kr_strvec *before,
	const struct kr_obs_container *oc, const bool *used);
void kr_diff_ports_set(struct kr_strvec *out, const struct kr_strvec *in);

/* ---------------------- diff_options.c: docker run options vs inspect */

/* An attribute per known option set or seen; "options changed: a, b". */
void kr_diff_options_attrs(struct kr_change *c, const struct kr_strvec *args,
	const struct kr_obs_container *oc, struct kr_strvec *phrases);
/* The values of --publish in args, appended to out. */
void kr_diff_options_publish(
	struct kr_strvec *out, const struct kr_strvec *args);

/* ------------------------------- diff_fields.c: field-by-field attrs */

void kr_diff_app_attrs(struct kr_change *c, const struct kr_app *a,
	const struct kr_obs_container *oc, const char *defhash,
	struct kr_strvec *phrases);
void kr_diff_acc_attrs(struct kr_change *c, const struct kr_accessory *acc,
	const struct kr_obs_container *oc, const struct kr_observed_host *oh,
	const char *defhash, struct kr_strvec *phrases);

/* ---------------------------------------------- diff_env.c: env files */

struct kr_change *kr_diff_plan_env(struct hctx *hc, const char *kind,
	const char *name, const struct kr_env_file *ef, struct env_cmp *ec);
void kr_diff_env_cmp_release(struct env_cmp *e);
void kr_diff_plan_removed_env(struct hctx *hc);
/* Kamal-made containers: their env file written after they were created. */
void kr_diff_env_age(struct kr_strvec *phrases, const struct env_cmp *ec,
	const struct kr_env_file *ef, const struct kr_obs_container *oc);

/* ------------------- diff_change.c: what app and accessory plans share */

void kr_diff_need_image(struct hctx *hc, struct kr_change *c, const char *ref);
/* The registry's digest for ref differs from the running image's. */
bool kr_diff_digest_changed(const struct hctx *hc, struct kr_change *c,
	const struct kr_obs_container *oc, const char *ref,
	struct kr_strvec *phrases);
void kr_diff_keep_defhash(struct kr_change *c);
void kr_diff_mark_removal(
	const struct hctx *hc, struct kr_change *c, const char *why);
char *kr_diff_removal_words(const struct hctx *hc, const char *what,
	const char *name, bool configured_elsewhere);
/* "definition changed (kreconcile.defhash 1a2b3c4 → 5d6e7f8)" */
void kr_diff_put_defhash_changed(
	struct kr_buf *why, const char *hash, const char *defhash);
/*
 * A container that is not running and matches its definition: says so in
 * why; an exited or created one is started in place (UPDATE, returns true),
 * any other is replaced (REPLACE, returns false).
 */
bool kr_diff_plan_start(struct kr_change *c, struct kr_buf *why,
	const struct dctx *dc, const struct kr_obs_container *oc);
/*
 * The end of planning an app or accessory: status from the action, the
 * defhash kept when only starting or stopping, the reason from why
 * (released), and the image a replacement needs.
 */
void kr_diff_finish_change(struct hctx *hc, struct kr_change *c,
	struct kr_buf *why, const char *image);

/* ------------------------------- diff_app.c, diff_accessory.c */

struct kr_change *kr_diff_plan_app(
	struct hctx *hc, const struct kr_app *a, const struct env_cmp *ec);
void kr_diff_plan_removed_apps(struct hctx *hc);
struct kr_change *kr_diff_plan_accessory(struct hctx *hc,
	const struct kr_accessory *acc, const struct env_cmp *ec);
void kr_diff_plan_removed_accessories(struct hctx *hc);

/* ------------------------------------------- diff_proxy.c: kamal-proxy */

/* The proxy container a host with a proxied role needs, appended to p. */
void kr_diff_plan_proxy(struct kr_plan *p, struct hctx *hc);
/* Route changes (after the apps are planned in hc->app): proxy.*
 * attributes on replaced proxied apps, route changes for the others,
 * removals of routes of roles no longer proxied here. */
void kr_diff_plan_routes(struct hctx *hc);
void kr_diff_plan_removed_routes(struct hctx *hc);

#endif
