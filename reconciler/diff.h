/*
 * The diff engine: desired model x observed hosts -> plan. A pure function
 * (shared/DESIGN.md, invariant 1): no I/O, no clock, no randomness. What it
 * needs from the outside world comes in through kr_diff_opts: the time
 * "now" (for "exited 2 minutes ago") and which image references the
 * registry has, resolved by the caller beforehand. What is compared, field
 * by field, is documented in docs/diff.md.
 */
#ifndef KR_RECONCILER_DIFF_H
#define KR_RECONCILER_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "reconciler/plan.h"
#include "state/desired.h"
#include "state/observed.h"

enum kr_image_avail {
	KR_IMAGE_UNKNOWN = 0, /* not resolved: assumed available */
	KR_IMAGE_PRESENT,
	KR_IMAGE_MISSING, /* the registry does not have the tag (yet) */
};

/* One image reference as the caller resolved it against its registry. */
struct kr_image_lookup {
	const char *ref; /* "ghcr.io/acme/app:3f4e5d6" */
	enum kr_image_avail avail;
	const char *digest; /* the registry's "sha256:..." for ref; NULL =
			       unknown */
};

struct kr_diff_opts {
	time_t now; /* for ages in reasons; 0 = leave ages out */
	bool prune; /* --prune; desired->prune turns it on too */
	const struct kr_image_lookup *images; /* may be NULL: all available */
	size_t nimages;
	/* --no-digest-check: a tag the registry now gives another digest
	 * than the running container's image is not a change */
	bool no_digest_check;
};

/*
 * Build the plan for `d` against `hosts` (one entry per observed host, in
 * any order; a desired host without an entry is reported as not observed,
 * an observed host not in `d` is planned as removed). Changes are grouped
 * by host (desired hosts in order, then observed-only ones) and ordered
 * network -> login -> env files -> accessories -> apps within a host.
 * opts may be NULL. *out is set on success; returns 0 or KR_EINVAL for an
 * inconsistent model (e.g. no service name).
 */
int kr_diff_build(struct kr_plan **out, const struct kr_desired *d,
	const struct kr_observed_host *hosts, size_t nhosts,
	const struct kr_diff_opts *opts);

/*
 * The distinct image references `d` runs (apps, then accessories, in
 * order), appended to out: what the caller resolves against the registry
 * to fill kr_diff_opts.images before building the plan.
 */
void kr_diff_images(struct kr_strvec *out, const struct kr_desired *d);

/* "1a2b3c4" for a long hex version (git SHA), else the version itself.
 * Writes at most outlen-1 bytes. */
void kr_diff_short_version(char *out, size_t outlen, const char *version);

#endif
