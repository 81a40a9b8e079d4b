/*
 * What app and accessory changes share: holding a change for an image the
 * registry lacks (or noting the pull), keeping the defhash of a container
 * that is only started, and marking a removal (delete with prune, else
 * kept) with its words.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "reconciler/defhash.h"
#include "reconciler/diff_int.h"

static const struct kr_image_lookup *
image_lookup(const struct dctx *dc, const char *ref)
{
	size_t i;

	for (i = 0; dc->opts->images && i < dc->opts->nimages; i++)
		if (dc->opts->images[i].ref &&
			strcmp(dc->opts->images[i].ref, ref) == 0)
			return &dc->opts->images[i];
	return NULL;
}

/* A container on the host was started from `ref`: no pull needed. */
static bool
image_on_host(const struct hctx *hc, const char *ref)
{
	size_t i;

	for (i = 0; i < hc->oh->ncontainers; i++)
		if (str_eq(hc->oh->containers[i].image, ref))
			return true;
	return false;
}

/*
 * A re-pushed tag: the registry's digest for ref (kr_diff_opts.images) is
 * not among the repo digests of the image the container runs (when that
 * image has any for ref's repository: an image built on the host has
 * none, and is not judged). Pushes the phrase and marks the change for a
 * fresh pull.
 */
bool
kr_diff_digest_changed(const struct hctx *hc, struct kr_change *c,
	const struct kr_obs_container *oc, const char *ref,
	struct kr_strvec *phrases)
{
	const struct kr_image_lookup *il;
	const char *slash, *colon, *old = NULL;
	size_t i, rlen;
	char s1[20], s2[20];

	if (!oc || !ref || hc->dc->opts->no_digest_check ||
		!str_eq(oc->image, ref) || !(il = image_lookup(hc->dc, ref)) ||
		!il->digest)
		return false;
	/* the repository: ref without its tag */
	slash = strrchr(ref, '/');
	colon = strrchr(slash ? slash : ref, ':');
	rlen = colon ? (size_t)(colon - ref) : strlen(ref);
	for (i = 0; i < oc->repo_digests.n; i++) {
		const char *d = oc->repo_digests.v[i];

		if (strncmp(d, ref, rlen) != 0 || d[rlen] != '@')
			continue;
		if (strcmp(d + rlen + 1, il->digest) == 0)
			return false;
		old = d + rlen + 1;
	}
	if (!old)
		return false;
	snprintf(s1, sizeof(s1), "%s", old);
	snprintf(s2, sizeof(s2), "%s", il->digest);
	kr_strvec_push_owned(
		phrases, kr_xasprintf("image digest changed "
				      "(%s… → %s…: the tag was pushed again)",
				 s1, s2));
	c->repull = true;
	return true;
}

/* A create or replace needs `ref`: hold it or note the pull. */
void
kr_diff_need_image(struct hctx *hc, struct kr_change *c, const char *ref)
{
	const struct kr_image_lookup *il;

	if (!ref)
		return;
	free(c->image);
	c->image = kr_xstrdup(ref);
	il = image_lookup(hc->dc, ref);
	free(c->image_digest);
	c->image_digest = il && il->digest ? kr_xstrdup(il->digest) : NULL;
	if (image_on_host(hc, ref) && !c->repull)
		return;
	il = image_lookup(hc->dc, ref);
	if (il && il->avail == KR_IMAGE_MISSING) {
		c->status = KR_STATUS_WAITING;
		if (c->reason) {
			char *r = kr_xasprintf("%s; the registry does not have "
					       "the image yet",
				c->reason);

			free(c->reason);
			c->reason = r;
		} else {
			kr_change_set_reason(c, "the registry does not have "
						"the image yet");
		}
		return;
	}
	if (!kr_strvec_contains(&hc->pulls, ref))
		kr_strvec_push(&hc->pulls, ref);
}

/* Starting or stopping containers does not relabel them. */
void
kr_diff_keep_defhash(struct kr_change *c)
{
	size_t i;

	for (i = 0; i < c->nattrs; i++) {
		struct kr_attr *a = &c->attrs[i];

		if (strcmp(a->name, "defhash") != 0)
			continue;
		free(a->after);
		a->after = a->before ? kr_xstrdup(a->before) : NULL;
		a->has_after = a->has_before;
		a->changed = false;
	}
}

/* A removal: DELETE with prune, else KEPT. */
void
kr_diff_mark_removal(
	const struct hctx *hc, struct kr_change *c, const char *why)
{
	if (hc->dc->prune) {
		c->action = KR_ACTION_DELETE;
		c->status = KR_STATUS_PLANNED;
	} else {
		c->action = KR_ACTION_NOOP;
		c->status = KR_STATUS_KEPT;
	}
	kr_change_set_reason(c, "%s", why);
}

char *
kr_diff_removal_words(const struct hctx *hc, const char *what, const char *name,
	bool configured_elsewhere)
{
	if (!hc->h)
		return kr_xasprintf(
			"host '%s' is not in the configuration", hc->name);
	if (configured_elsewhere)
		return kr_xasprintf(
			"%s '%s' is not configured for this host", what, name);
	return kr_xasprintf("%s '%s' is not in the configuration", what, name);
}

void
kr_diff_put_defhash_changed(
	struct kr_buf *why, const char *hash, const char *defhash)
{
	char s1[64], s2[64];

	kr_diff_short_version(s1, sizeof(s1), hash);
	kr_diff_short_version(s2, sizeof(s2), defhash);
	kr_buf_printf(why, "definition changed (%s %s → %s)", KR_DEFHASH_LABEL,
		s1, s2);
}

bool
kr_diff_plan_start(struct kr_change *c, struct kr_buf *why,
	const struct dctx *dc, const struct kr_obs_container *oc)
{
	const char *st = oc->state ? oc->state : "";

	kr_diff_put_drift(why, dc, oc);
	if (strcmp(st, "exited") == 0 || strcmp(st, "created") == 0) {
		c->action = KR_ACTION_UPDATE;
		c->start_container = kr_xstrdup(cid(oc));
		return true;
	}
	c->action = KR_ACTION_REPLACE;
	return false;
}

void
kr_diff_finish_change(struct hctx *hc, struct kr_change *c, struct kr_buf *why,
	const char *image)
{
	if (c->action != KR_ACTION_NOOP)
		c->status = KR_STATUS_PLANNED;
	if (c->action == KR_ACTION_UPDATE)
		kr_diff_keep_defhash(c);
	kr_diff_set_reason_buf(c, why);
	if (c->action == KR_ACTION_REPLACE)
		kr_diff_need_image(hc, c, image);
}
