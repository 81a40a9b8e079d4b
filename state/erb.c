/*
 * ERB as Kamal renders it (see erb.h): scan, parse and run the template
 * here when kreconcile knows all of its Ruby, else hand it to Ruby's ERB;
 * and the map from rendered positions back to the template.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "state/erb.h"
#include "state/erb_int.h"

int
kr_erb_render_opts(struct kr_buf *out, struct kr_erb_map *map,
	struct kr_diags *diags, const char *file, const char *text, size_t len,
	const struct kr_erb_opts *opts)
{
	struct kr_erb_opts o = { 0 };
	struct erb_tpl t = { 0 };
	struct erb_node *prog = NULL;
	char *ruby = NULL;
	size_t before = diags->n;
	int rc;

	if (opts)
		o = *opts;
	t.file = file;
	t.text = text;
	t.len = len;
	t.diags = diags;
	if (o.no_commands)
		o.ruby = "";
	t.never_ruby = o.ruby && !*o.ruby;
	if ((rc = kr_erb_scan(&t, o.trim)) != 0)
		goto out;
	prog = kr_erb_parse(&t);
	if (!t.nunsupported && !t.uses_ruby_const) {
		rc = kr_erb_eval(&t, prog, out, map, &o);
		goto out;
	}
	/* only Ruby renders it: hand the whole template over, once */
	if (!o.ruby)
		ruby = kr_erb_find_ruby();
	else if (*o.ruby)
		ruby = kr_xstrdup(o.ruby);
	if (ruby) {
		struct kr_erb_seg s0 = { 1, 1, 1, 1, true };

		while (diags->n > before) {
			struct kr_diag *d = &diags->v[--diags->n];

			free(d->file);
			free(d->msg);
		}
		rc = kr_erb_run_ruby(out, &t, ruby, &o);
		if (rc == 0 && map) {
			/* Ruby's output maps line for line */
			if (map->n == map->alloc) {
				map->alloc = map->alloc ? map->alloc * 2 : 16;
				map->v = kr_xrealloc(
					map->v, map->alloc * sizeof(*map->v));
			}
			map->v[map->n++] = s0;
		}
		goto out;
	}
	if (!t.nunsupported) /* RUBY_ENGINE & co: an error only when reached */
		rc = kr_erb_eval(&t, prog, out, map, &o);
	else
		rc = KR_ECONFIG;
out:
	kr_erb_node_free(prog);
	free(t.toks.v);
	free(t.lines);
	free(ruby);
	if (rc) {
		kr_error_set(KR_ECONFIG, "'%s' has ERB that cannot be rendered",
			file);
		return KR_ECONFIG;
	}
	return 0;
}

int
kr_erb_render(struct kr_buf *out, struct kr_erb_map *map,
	struct kr_diags *diags, const char *file, const char *text, size_t len,
	kr_erb_getenv_fn getenv_fn, void *getenv_ctx)
{
	struct kr_erb_opts o = { 0 };

	o.getenv_fn = getenv_fn;
	o.getenv_ctx = getenv_ctx;
	o.ruby = "";
	return kr_erb_render_opts(out, map, diags, file, text, len, &o);
}

void
kr_erb_map_position(void *ctx, int *line, int *col)
{
	const struct kr_erb_map *m = ctx;
	const struct kr_erb_seg *s = NULL;
	size_t lo = 0, hi;

	if (!m || !m->n || *line <= 0)
		return;
	/* the last segment starting at or before (line, col) */
	hi = m->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct kr_erb_seg *x = &m->v[mid];

		if (x->out_line < *line ||
			(x->out_line == *line && x->out_col <= *col))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return;
	s = &m->v[lo - 1];
	if (!s->literal) {
		*line = s->src_line;
		*col = s->src_col;
		return;
	}
	if (*line == s->out_line) {
		*col = s->src_col + (*col - s->out_col);
		*line = s->src_line;
	} else {
		*line = s->src_line + (*line - s->out_line);
	}
}

void
kr_erb_map_release(struct kr_erb_map *map)
{
	free(map->v);
	memset(map, 0, sizeof(*map));
}
