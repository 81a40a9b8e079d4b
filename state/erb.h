/*
 * The ERB subset kreconcile renders before parsing deploy.yml (Kamal runs
 * full ERB through Ruby; we cannot). Accepted, with any spacing:
 *
 *   <%= ENV["X"] %>  <%= ENV['X'] %>           value, or "" when unset
 *   <%= ENV.fetch("X") %>                      value, error naming X when unset
 *   <%= ENV.fetch("X", "default") %>           value, or the default
 *   <%= ENV["X"] || "default" %>               value, or the default when unset
 *   <%% ... (ERB's escape for a literal "<%")
 *
 * Anything else (<% code %>, <%# comment %>, <%- -%>, other expressions) is
 * an error naming the file, line and the expression. Rendering records where
 * each piece of output came from, so positions in the rendered text (YAML
 * marks) map back to the source: kr_erb_map_position.
 */
#ifndef KR_STATE_ERB_H
#define KR_STATE_ERB_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/diag.h"

struct kr_erb_seg {
	int out_line, out_col;	/* where the piece starts in the output */
	int src_line, src_col;	/* where it starts in the source */
	bool literal;		/* copied text (positions map 1:1) or a substitution */
};

struct kr_erb_map {
	struct kr_erb_seg *v;
	size_t n;
	size_t alloc;
};

/* Looks up an environment variable; NULL when unset. */
typedef const char *(*kr_erb_getenv_fn)(void *ctx, const char *name);

/*
 * Render text into out (appended) and map. getenv_fn NULL means the process
 * environment. Every unsupported tag and every ENV.fetch of an unset
 * variable is added to diags; then the result is KR_ECONFIG (out still
 * holds a rendering with those tags left empty).
 */
int kr_erb_render(struct kr_buf *out, struct kr_erb_map *map,
	struct kr_diags *diags, const char *file, const char *text, size_t len,
	kr_erb_getenv_fn getenv_fn, void *getenv_ctx);

/* Map an output position (1-based line, column) to the source; the
 * signature matches kr_yaml_posmap_fn, ctx is the struct kr_erb_map. */
void kr_erb_map_position(void *map, int *line, int *col);
void kr_erb_map_release(struct kr_erb_map *map);

#endif
