/*
 * The definition hash: one sha256 over everything that defines a container
 * kreconcile starts (Docker Compose's config-hash idea). Apply writes it as
 * the label KR_DEFHASH_LABEL; the diff compares a labelled container by this
 * hash alone. Env files count by their content hash, never by their path,
 * and the hash label itself is never part of the input. The exact field list
 * is in docs/diff.md; changing it changes every hash, so it is versioned by
 * KR_DEFHASH_SCHEME, which is hashed first.
 */
#ifndef KR_RECONCILER_DEFHASH_H
#define KR_RECONCILER_DEFHASH_H

#include "common/hash.h"
#include "state/desired.h"

#define KR_DEFHASH_LABEL "kreconcile.defhash"
#define KR_DEFHASH_SCHEME "kreconcile-defhash-v1"

/* The hash of one app container's definition (pure; never fails). */
void kr_defhash_app(char out[KR_SHA256_HEX], const struct kr_app *app);
/* The hash of one accessory container's definition (pure; never fails). */
void kr_defhash_accessory(char out[KR_SHA256_HEX],
	const struct kr_accessory *acc);

#endif
