/*
 * The plan: what kr_diff_build (reconciler/diff.h) found, as an ordered list
 * of changes grouped by host in dependency order (network, registry login,
 * env files, accessories, apps), and its two renderings: Terraform-shaped
 * text for people and JSON (with a format_version) for machines and for
 * saved plans. Apply walks plan->changes of one host in order.
 *
 * No secret value is ever stored in a plan: sensitive attributes hold
 * KR_SENSITIVE and change is known from content hashes.
 */
#ifndef KR_RECONCILER_PLAN_H
#define KR_RECONCILER_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/hash.h"
#include "common/vec.h"
#include "state/desired.h"
#include "state/observed.h"

#define KR_PLAN_FORMAT_VERSION "1.0"

enum kr_action {
	KR_ACTION_NOOP = 0,
	KR_ACTION_CREATE,
	KR_ACTION_UPDATE, /* in place: rewrite an env file, start a stopped
			     container */
	KR_ACTION_REPLACE, /* a new container instead of the old one */
	KR_ACTION_DELETE,
	KR_ACTION_RUN, /* a step that leaves no object: registry login */
};

enum kr_change_type {
	KR_CHANGE_NETWORK = 0, /* HOST/network/NAME */
	KR_CHANGE_LOGIN, /* HOST/login/REGISTRY */
	KR_CHANGE_ENV, /* HOST/env/roles/ROLE, HOST/env/accessories/NAME */
	KR_CHANGE_ACCESSORY, /* HOST/accessory/NAME */
	KR_CHANGE_APP, /* HOST/app/ROLE */
	KR_CHANGE_PROXY, /* HOST/proxy/kamal-proxy: the proxy container */
	KR_CHANGE_ROUTE, /* HOST/route/SERVICE-ROLE[-DEST]: a kamal-proxy route
			  */
};

enum kr_change_status {
	KR_STATUS_PLANNED = 0, /* apply carries out `action` */
	KR_STATUS_UNCHANGED, /* matches the configuration; action is NOOP */
	KR_STATUS_KEPT, /* not in the configuration, kept (no prune); NOOP */
	KR_STATUS_WAITING, /* needs an image the registry lacks; NOOP */
};

#define KR_ATTR_SENSITIVE \
	0x1 /* values are KR_SENSITIVE; `changed` says if they differ */
#define KR_ATTR_FORCES 0x2 /* a change of this attribute forces replacement */
#define KR_ATTR_LIST 0x4 /* values are lists (lbefore/lafter) */

/* One attribute of a change: a string, or a list of strings (KR_ATTR_LIST). */
struct kr_attr {
	char *name; /* "image", "env.RAILS_ENV", "labels.service" */
	unsigned flags;
	bool has_before; /* false: absent before (created) */
	bool has_after; /* false: absent after (destroyed) */
	char *before; /* string attributes; NULL when absent */
	char *after;
	struct kr_strvec lbefore; /* list attributes */
	struct kr_strvec lafter;
	bool changed;
};

struct kr_change {
	char *address; /* "HOST/app/web" */
	char *host;
	enum kr_change_type type;
	char *name; /* network, registry, role or accessory name */
	enum kr_action action;
	enum kr_change_status status;
	char *reason; /* in words, never a secret; NULL for unchanged */
	struct kr_attr *attrs;
	size_t nattrs;
	size_t attrs_alloc;

	/* What apply needs. Pointers are borrowed from the desired model given
	 * to kr_diff_build and live as long as it does; NULL for deletions. */
	const struct kr_app *app;
	const struct kr_accessory *accessory;
	const struct kr_env_file *env_file;
	char *path; /* env file path (relative to home), for KR_CHANGE_ENV */
	char *image; /* image reference a create/replace needs, else NULL */
	bool repull; /* the tag moved in the registry: pull it again */
	char *image_digest; /* the registry's digest of image, NULL = unknown */
	char defhash[KR_SHA256_HEX]; /* label value for a new container, else ""
				      */
	/*
	 * Observed containers the action works on (ids). UPDATE of an app or
	 * accessory: start `start_container` when set, then stop every one of
	 * `containers` (extra running containers of the role). REPLACE of an
	 * app: start the new container, and once it is healthy stop
	 * `containers` (kept for rollback, not removed). REPLACE of an
	 * accessory: remove `containers` first (same name), then start the new
	 * one; its directories and files stay. DELETE: stop and remove
	 * `containers`.
	 */
	char *start_container;
	struct kr_strvec containers;
};

struct kr_plan_host {
	char *name;
	bool configured; /* false: observed only, not in the configuration */
	enum kr_obs_status status;
	char *error; /* why it could not be observed, else NULL */
	char fingerprint[KR_SHA256_HEX]; /* observed snapshot it was planned
					    from */
	size_t first; /* its changes are changes[first .. first + count) */
	size_t count;
};

struct kr_plan {
	char config_sha256[KR_SHA256_HEX];
	char *version;
	char revision[KR_SHA256_HEX]; /* sha256 of config_sha256 and version */
	bool prune;
	struct kr_plan_host *hosts;
	size_t nhosts;
	size_t hosts_alloc;
	struct kr_change *changes;
	size_t nchanges;
	size_t changes_alloc;
};

struct kr_plan_summary {
	size_t add; /* create */
	size_t change; /* update, replace (an old app container is kept, not
			  destroyed) */
	size_t destroy; /* delete */
	size_t waiting; /* held for an image */
	size_t kept; /* not in the configuration, kept */
	size_t failed_hosts; /* could not be observed */
};

/* Building (used by the diff; kr_plan_new never fails). */
struct kr_plan *kr_plan_new(const struct kr_desired *d, bool prune);
struct kr_plan_host *kr_plan_add_host(struct kr_plan *p, const char *name);
/* Appends a change to the last host added; the reason is printf-style. */
struct kr_change *kr_plan_add_change(struct kr_plan *p,
	enum kr_change_type type, const char *name, enum kr_action action);
void kr_change_set_reason(struct kr_change *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* String attribute; before/after NULL = absent. Returns it for flags. */
struct kr_attr *kr_change_attr(struct kr_change *c, const char *name,
	const char *before, const char *after);
/* List attribute; a NULL list = absent. */
struct kr_attr *kr_change_attr_list(struct kr_change *c, const char *name,
	const struct kr_strvec *before, const struct kr_strvec *after);
/* Sensitive attribute: values shown as KR_SENSITIVE, `changed` given. */
struct kr_attr *kr_change_attr_sensitive(struct kr_change *c, const char *name,
	bool has_before, bool has_after, bool changed);

void kr_plan_free(struct kr_plan *p);

/* Queries. */
void kr_plan_summarize(struct kr_plan_summary *out, const struct kr_plan *p);
/* True when a change is planned that alters a host: create, update,
 * replace or delete (what --detailed-exitcode reports). */
bool kr_plan_has_changes(const struct kr_plan *p);
const char *kr_action_name(enum kr_action a); /* "create", "no-op", ... */
const char *kr_change_type_name(enum kr_change_type t); /* "app", "env", ... */

/* Text rendering (STYLE.md): appends to out. */
#define KR_PLAN_COLOR 0x1 /* ANSI colors; the CLI decides (tty, NO_COLOR) */
#define KR_PLAN_SHOW_UNCHANGED \
	0x2 /* also list unchanged objects, one line each */
int kr_plan_render_text(
	struct kr_buf *out, const struct kr_plan *p, unsigned flags);

/*
 * JSON rendering. kr_plan_to_json returns a new reference (caller
 * json_decref's it); kr_plan_render_json appends its compact or indented
 * serialisation and a newline. The "identity" member is what a saved plan
 * (-o FILE) is checked against by kr_plan_identity_check.
 */
json_t *kr_plan_to_json(const struct kr_plan *p);
#define KR_PLAN_JSON_INDENT 0x1
int kr_plan_render_json(
	struct kr_buf *out, const struct kr_plan *p, unsigned flags);

/* A saved plan's identity: the revision and every host's fingerprint. */
struct kr_plan_identity {
	char config_sha256[KR_SHA256_HEX];
	char *version;
	char revision[KR_SHA256_HEX];
	bool prune;
	char changes_sha256[KR_SHA256_HEX]; /* addresses, actions, statuses in
					       order */
	struct kr_kvlist hosts; /* name -> observed fingerprint */
};

/* The identity of a plan (out is initialised by this call). */
void kr_plan_identity(struct kr_plan_identity *out, const struct kr_plan *p);
/* Read the identity from a saved plan's JSON text; KR_EPARSE when invalid. */
int kr_plan_identity_read(
	struct kr_plan_identity *out, const char *json, size_t len);
/*
 * 0 when a freshly built plan has the saved plan's identity (same config,
 * version, host fingerprints and changes); KR_EINVAL, with the first
 * difference as the error message ("saved plan is stale: ..."), otherwise.
 */
int kr_plan_identity_check(
	const struct kr_plan_identity *saved, const struct kr_plan *fresh);
void kr_plan_identity_release(struct kr_plan_identity *id);

#endif
