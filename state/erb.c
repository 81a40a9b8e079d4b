/*
 * The ERB subset (see erb.h): a scanner for <% ... %> tags and a tiny
 * recursive-descent parser for the ENV lookups people write in deploy.yml.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "state/erb.h"

/* Position tracking in characters (UTF-8 continuation bytes do not count). */
struct pos {
	int line, col;
};

static void
advance(struct pos *p, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n') {
			p->line++;
			p->col = 1;
		} else if ((c & 0xC0) != 0x80) {
			p->col++;
		}
	}
}

static void
add_seg(struct kr_erb_map *m, const struct pos *out, const struct pos *src,
	bool literal)
{
	if (!m)
		return;
	if (m->n == m->alloc) {
		m->alloc = m->alloc ? m->alloc * 2 : 16;
		m->v = kr_xrealloc(m->v, m->alloc * sizeof(*m->v));
	}
	m->v[m->n].out_line = out->line;
	m->v[m->n].out_col = out->col;
	m->v[m->n].src_line = src->line;
	m->v[m->n].src_col = src->col;
	m->v[m->n].literal = literal;
	m->n++;
}

/* The parser over one tag's inside. */
struct expr {
	const char *p, *end;
};

static void
skip_ws(struct expr *e)
{
	while (e->p < e->end && isspace((unsigned char)*e->p))
		e->p++;
}

static bool
eat(struct expr *e, const char *word)
{
	size_t n = strlen(word);

	skip_ws(e);
	if ((size_t)(e->end - e->p) >= n && memcmp(e->p, word, n) == 0) {
		e->p += n;
		return true;
	}
	return false;
}

/* A Ruby string literal, "..." or '...', with the common escapes. */
static char *
string_lit(struct expr *e)
{
	struct kr_buf b = KR_BUF_INIT;
	char q;

	skip_ws(e);
	if (e->p >= e->end || (*e->p != '"' && *e->p != '\''))
		return NULL;
	q = *e->p++;
	while (e->p < e->end && *e->p != q) {
		char c = *e->p++;

		if (c == '\\' && e->p < e->end) {
			char n = *e->p++;

			if (q == '\'') {
				if (n != '\'' && n != '\\')
					kr_buf_putc(&b, '\\');
				kr_buf_putc(&b, n);
				continue;
			}
			switch (n) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case '"':
			case '\\':
				c = n;
				break;
			default:
				/* \e, \u..., #{} and friends are Ruby, not ours */
				kr_buf_release(&b);
				return NULL;
			}
		} else if (c == '#' && q == '"' && e->p < e->end && *e->p == '{') {
			kr_buf_release(&b);	/* interpolation */
			return NULL;
		}
		kr_buf_putc(&b, c);
	}
	if (e->p >= e->end) {
		kr_buf_release(&b);
		return NULL;
	}
	e->p++;
	return kr_buf_detach(&b, NULL);
}

enum lookup {
	LOOKUP_INDEX,	/* ENV["X"] */
	LOOKUP_FETCH,	/* ENV.fetch("X") */
	LOOKUP_FETCH_DEFAULT,
};

/*
 * Parse the whole expression; on success set *name, *def (NULL when none),
 * *kind. False means "unsupported".
 */
static bool
parse_expr(const char *s, size_t n, char **name, char **def,
	enum lookup *kind)
{
	struct expr e = { s, s + n };
	char *nm = NULL, *d = NULL;

	if (!eat(&e, "ENV"))
		goto bad;
	if (eat(&e, "[")) {
		if (!(nm = string_lit(&e)) || !eat(&e, "]"))
			goto bad;
		*kind = LOOKUP_INDEX;
	} else if (eat(&e, ".fetch") && eat(&e, "(")) {
		if (!(nm = string_lit(&e)))
			goto bad;
		*kind = LOOKUP_FETCH;
		if (eat(&e, ",")) {
			if (!(d = string_lit(&e)))
				goto bad;
			*kind = LOOKUP_FETCH_DEFAULT;
		}
		if (!eat(&e, ")"))
			goto bad;
	} else {
		goto bad;
	}
	if (eat(&e, "||")) {
		if (d || !(d = string_lit(&e)))
			goto bad;
	}
	skip_ws(&e);
	if (e.p != e.end)
		goto bad;
	*name = nm;
	*def = d;
	return true;
bad:
	free(nm);
	free(d);
	return false;
}

static const char *
env_default(void *ctx, const char *name)
{
	return getenv(name);
}

/* The tag as the user wrote it, on one line and not too long. */
static char *
shown(const char *s, size_t n)
{
	struct kr_buf b = KR_BUF_INIT;
	size_t i;

	for (i = 0; i < n && b.len < 80; i++)
		kr_buf_putc(&b, s[i] == '\n' || s[i] == '\r' || s[i] == '\t' ?
			' ' : s[i]);
	if (i < n)
		kr_buf_puts(&b, "...");
	return kr_buf_detach(&b, NULL);
}

int
kr_erb_render(struct kr_buf *out, struct kr_erb_map *map,
	struct kr_diags *diags, const char *file, const char *text, size_t len,
	kr_erb_getenv_fn getenv_fn, void *getenv_ctx)
{
	struct pos src = { 1, 1 }, dst = { 1, 1 };
	const char *p = text, *end = text + len;
	bool bad = false;

	if (!getenv_fn)
		getenv_fn = env_default;
	while (p < end) {
		const char *tag = NULL, *q, *close;
		size_t lit;

		for (q = p; q + 1 < end; q++) {
			if (q[0] == '<' && q[1] == '%') {
				tag = q;
				break;
			}
		}
		lit = (size_t)((tag ? tag : end) - p);
		if (lit) {
			add_seg(map, &dst, &src, true);
			kr_buf_put(out, p, lit);
			advance(&src, p, lit);
			advance(&dst, p, lit);
			p += lit;
		}
		if (!tag)
			break;
		/* <%% is ERB's escape for a literal <% */
		if (tag + 2 < end && tag[2] == '%') {
			add_seg(map, &dst, &src, true);
			kr_buf_put(out, "<%", 2);
			advance(&dst, "<%", 2);
			advance(&src, tag, 3);
			p = tag + 3;
			continue;
		}
		close = NULL;
		for (q = tag + 2; q + 1 < end; q++) {
			if (q[0] == '%' && q[1] == '>') {
				close = q;
				break;
			}
		}
		if (!close) {
			char *s = shown(tag, (size_t)(end - tag));

			kr_diags_add(diags, file, src.line, src.col,
				"unterminated ERB tag '%s'", s);
			free(s);
			bad = true;
			break;
		}
		{
			const char *in = tag + 2, *in_end = close;
			char *name = NULL, *def = NULL;
			enum lookup kind;
			const char *val = NULL;
			bool ok = false;

			if (*in == '=' && in_end > in && in_end[-1] != '-') {
				in++;
				ok = parse_expr(in, (size_t)(in_end - in), &name,
					&def, &kind);
			}
			add_seg(map, &dst, &src, false);
			if (!ok) {
				char *s = shown(tag, (size_t)(close + 2 - tag));

				kr_diags_add(diags, file, src.line, src.col,
					"unsupported ERB '%s': only ENV lookups are rendered "
					"(ENV[\"X\"], ENV.fetch(\"X\"[, \"default\"]), "
					"ENV[\"X\"] || \"default\")", s);
				free(s);
				bad = true;
			} else {
				val = getenv_fn(getenv_ctx, name);
				if (!val && kind == LOOKUP_FETCH) {
					kr_diags_add(diags, file, src.line, src.col,
						"environment variable '%s' is not set "
						"(ENV.fetch without a default)", name);
					bad = true;
				}
				if (!val)
					val = def ? def : "";
				kr_buf_puts(out, val);
				advance(&dst, val, strlen(val));
			}
			free(name);
			free(def);
		}
		advance(&src, tag, (size_t)(close + 2 - tag));
		p = close + 2;
	}
	if (bad) {
		kr_error_set(KR_ECONFIG, "'%s' has ERB that cannot be rendered", file);
		return KR_ECONFIG;
	}
	return 0;
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
