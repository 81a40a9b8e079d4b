/* What the engine's files share (engine.c, engine_apply.c). */
#ifndef KR_RECONCILER_ENGINE_INT_H
#define KR_RECONCILER_ENGINE_INT_H

#include "reconciler/engine.h"

/* One run in progress. */
struct engine {
	const struct kr_engine_opts *o;
	struct kr_engine_result *out;
	struct kr_store *store;
	enum kr_run_kind kind;
	struct kr_plan_identity saved; /* apply: the saved plan's identity */
	bool have_saved;
};

bool kr_engine_cancelled(const struct kr_engine_opts *o);
/* End the run in the store (when one was begun). */
void kr_engine_end(struct engine *e, const char *status, const char *summary);
/* An ERROR event with the message, the run ended failed with it, the
 * result's error set; returns KR_OUTCOME_FAILED. */
enum kr_engine_outcome kr_engine_fail(struct engine *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The run ended as cancelled before anything changed. */
enum kr_engine_outcome kr_engine_cancel(struct engine *e);
/* Read every host into *h (conns: the run's connections, or NULL). */
int kr_engine_observe(
	struct engine *e, struct kr_hosts *h, struct kr_hostconns *conns);
/* Look up the images and diff the desired model against h. */
int kr_engine_diff(
	struct engine *e, struct kr_plan **out, const struct kr_hosts *h);
/* The apply op (engine_apply.c). */
enum kr_engine_outcome kr_engine_apply(struct engine *e);

#endif
