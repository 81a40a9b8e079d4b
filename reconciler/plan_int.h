/*
 * What the files of the plan share and nothing else sees (the API is
 * plan.h): the name of a change status as JSON and the identity hash know
 * it, the identity's JSON form, and moving changes between plans for the
 * diff's per-host scratch plans.
 */
#ifndef KR_RECONCILER_PLAN_INT_H
#define KR_RECONCILER_PLAN_INT_H

#include <stdbool.h>
#include <string.h>

#include <jansson.h>

#include "reconciler/plan.h"

/* Strings equal, or both NULL (the diff uses it too). */
static inline bool
str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* "planned", "unchanged", "kept", "waiting" */
const char *kr_plan_status_name(enum kr_change_status s);

/* The identity as the plan's JSON holds it; returns a new reference. */
json_t *kr_plan_identity_json(const struct kr_plan_identity *id);

/*
 * Move every change of src to the end of dst, counted for dst's last host
 * (the diff works a host out in scratch plans of one host each); frees src.
 */
void kr_plan_move_changes(struct kr_plan *dst, struct kr_plan *src);

#endif
