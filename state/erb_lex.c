/*
 * Scanning an ERB template into one token stream (see erb_int.h): text
 * between tags, <%= ... %> as TK_OUT code TK_OUTEND, <% ... %> as code
 * between separators, comments dropped, and the trim mode "-" rules of
 * Ruby's ERB (<%- at a line start drops the indentation before it, -%>
 * drops the newline after it).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "state/erb_int.h"

void
kr_erb_toks_push(struct erb_toks *v, const struct erb_token *tok)
{
	if (v->n == v->alloc) {
		v->alloc = v->alloc ? v->alloc * 2 : 64;
		v->v = kr_xrealloc(v->v, v->alloc * sizeof(*v->v));
	}
	v->v[v->n++] = *tok;
}

static void
push(struct erb_toks *v, enum erb_tok kind, const char *s, size_t n, size_t off)
{
	struct erb_token t = { kind, s, n, off, 0, false };

	kr_erb_toks_push(v, &t);
}

static void
push_text(struct erb_toks *v, const char *s, size_t n, size_t off, bool exact)
{
	struct erb_token t = { TK_TEXT, s, n, off, 0, exact };

	if (n)
		kr_erb_toks_push(v, &t);
}

void
kr_erb_linecol(const struct erb_tpl *t, size_t off, int *line, int *col)
{
	size_t lo = 0, hi = t->nlines, i;
	int c = 1;

	while (lo + 1 < hi) {
		size_t mid = (lo + hi) / 2;

		if (t->lines[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	for (i = t->lines[lo]; i < off && i < t->len; i++)
		if (((unsigned char)t->text[i] & 0xC0) != 0x80)
			c++;
	*line = (int)lo + 1;
	*col = c;
}

/*
 * s[i] is the '{' of a "#{": the index of its '}', skipping nested braces
 * and quoted strings (which may hold the outer quote), or to.
 */
size_t
kr_erb_interp_close(const char *s, size_t i, size_t to)
{
	int depth = 0;

	for (; i < to; i++) {
		char c = s[i];

		if (c == '"' || c == '\'' || c == '`') {
			for (i++; i < to && s[i] != c; i++)
				if (s[i] == '\\' && i + 1 < to)
					i++;
			continue;
		}
		if (c == '{')
			depth++;
		else if (c == '}' && --depth == 0)
			return i;
	}
	return to;
}

/* The matching close of a %x( / %q( ... delimiter, nesting counted. */
static size_t
pct_close(const char *s, size_t i, size_t to, char open)
{
	char close = open == '(' ? ')' :
		     open == '[' ? ']' :
		     open == '{' ? '}' :
		     open == '<' ? '>' :
				   open;
	int depth = 1;

	for (; i < to; i++) {
		if (s[i] == '\\' && i + 1 < to) {
			i++;
			continue;
		}
		if (s[i] == close && --depth == 0)
			return i;
		if (s[i] == open && open != close)
			depth++;
	}
	return to;
}

static bool
continues(const struct erb_toks *out)
{
	const struct erb_token *p;

	if (!out->n)
		return false;
	p = &out->v[out->n - 1];
	if (p->kind != TK_OP)
		return p->kind == TK_IDENT &&
		       ((p->n == 3 && memcmp(p->s, "and", 3) == 0) ||
			       (p->n == 2 && memcmp(p->s, "or", 2) == 0));
	return strchr("|&,([{=.?:!", p->s[p->n - 1]) != NULL;
}

/* Ruby code from..to into tokens. */
void
kr_erb_lex_code(struct erb_tpl *t, struct erb_toks *out, size_t from, size_t to)
{
	static const char *const ops[] = { "||=", "&&=", "||", "&&",
		"==", "!=", "=>", "::", "=~", "(", ")", "[", "]", "{", "}", "|",
		",", ".", "?", ":", "=", "!", ";", "+", "<", ">", "-", "*", "/",
		"%", "&", NULL };
	const char *s = t->text;
	size_t i = from;

	while (i < to) {
		char c = s[i];
		size_t j, k;

		if (c == ' ' || c == '\t' || c == '\r') {
			i++;
			continue;
		}
		if (c == '\\' && i + 1 < to && s[i + 1] == '\n') {
			i += 2;
			continue;
		}
		if (c == '#') {
			while (i < to && s[i] != '\n')
				i++;
			continue;
		}
		if (c == '\n') {
			/* a line ending in an operator, or a next line
			 * starting with .method, continues the expression */
			for (j = i + 1; j < to && isspace((unsigned char)s[j]);)
				j++;
			if (!continues(out) && !(j < to && s[j] == '.'))
				push(out, TK_SEP, s + i, 1, i);
			i++;
			continue;
		}
		if (c == '"' || c == '\'' || c == '`') {
			struct erb_token tk = { c == '`' ? TK_XSTR : TK_STR,
				NULL, 0, i, c, false };

			for (j = i + 1; j < to && s[j] != c; j++) {
				if (s[j] == '\\' && j + 1 < to)
					j++;
				else if (c != '\'' && s[j] == '#' &&
					 j + 1 < to && s[j + 1] == '{')
					j = kr_erb_interp_close(s, j + 1, to);
			}
			tk.s = s + i + 1;
			tk.n = (j < to ? j : to) - (i + 1);
			kr_erb_toks_push(out, &tk);
			i = j < to ? j + 1 : to;
			continue;
		}
		if (c == '%' && i + 2 < to &&
			((strchr("xqQ", s[i + 1]) &&
				 !isalnum((unsigned char)s[i + 2]) &&
				 !isspace((unsigned char)s[i + 2])) ||
				s[i + 1] == '(')) {
			char kind = s[i + 1] == '(' ? 'Q' : s[i + 1];
			size_t open = s[i + 1] == '(' ? i + 1 : i + 2;
			struct erb_token tk = { kind == 'x' ? TK_XSTR : TK_STR,
				NULL, 0, i, kind == 'q' ? '\'' : '"', false };

			k = pct_close(s, open + 1, to, s[open]);
			tk.s = s + open + 1;
			tk.n = k - (open + 1);
			kr_erb_toks_push(out, &tk);
			i = k < to ? k + 1 : to;
			continue;
		}
		if (isdigit((unsigned char)c)) {
			for (j = i; j < to && (isdigit((unsigned char)s[j]) ||
						      s[j] == '_');)
				j++;
			push(out, TK_INT, s + i, j - i, i);
			i = j;
			continue;
		}
		if (isalpha((unsigned char)c) || c == '_' || c == '@' ||
			c == '$') {
			for (j = i + 1;
				j < to &&
				(isalnum((unsigned char)s[j]) || s[j] == '_');)
				j++;
			/* empty? strip! — but not the ! of != */
			if (j < to && (s[j] == '?' || s[j] == '!') &&
				!(j + 1 < to && s[j + 1] == '=') &&
				(j + 1 >= to || s[j + 1] != ':'))
				j++;
			push(out,
				isupper((unsigned char)c) ? TK_CONST : TK_IDENT,
				s + i, j - i, i);
			i = j;
			continue;
		}
		for (k = 0; ops[k]; k++) {
			size_t n = strlen(ops[k]);

			if (i + n <= to && memcmp(s + i, ops[k], n) == 0)
				break;
		}
		if (ops[k]) {
			size_t n = strlen(ops[k]);

			if (n == 1 && c == ';')
				push(out, TK_SEP, s + i, 1, i);
			else
				push(out, TK_OP, s + i, n, i);
			i += n;
			continue;
		}
		/* anything else: an operator token the parser will refuse */
		push(out, TK_OP, s + i, 1, i);
		i++;
	}
}

/* True when only blanks precede pos on its line (within the text). */
static size_t
line_indent_start(const char *s, size_t from, size_t pos)
{
	size_t b = pos;

	while (b > from && (s[b - 1] == ' ' || s[b - 1] == '\t'))
		b--;
	if (b == 0 || s[b - 1] == '\n')
		return b;
	return pos;
}

int
kr_erb_scan(struct erb_tpl *t, bool trim)
{
	const char *s = t->text;
	size_t n = t->len, p = 0, i, text_from = 0;

	/* line starts */
	t->nlines = 1;
	for (i = 0; i < n; i++)
		if (s[i] == '\n')
			t->nlines++;
	t->lines = kr_xcalloc(t->nlines, sizeof(*t->lines));
	t->nlines = 1;
	for (i = 0; i < n; i++)
		if (s[i] == '\n')
			t->lines[t->nlines++] = i + 1;

	while (p < n) {
		size_t tag = n, close, cend, in, in_end;
		char kind;

		for (i = p; i + 1 < n; i++)
			if (s[i] == '<' && s[i + 1] == '%') {
				tag = i;
				break;
			}
		if (tag == n) {
			push_text(&t->toks, s + p, n - p, p, true);
			break;
		}
		if (tag + 2 < n && s[tag + 2] == '%') {
			push_text(&t->toks, s + p, tag - p, p, true);
			push_text(&t->toks, "<%", 2, tag, false);
			p = tag + 3;
			continue;
		}
		kind = tag + 2 < n ? s[tag + 2] : 0;
		if (trim && kind == '-') {
			/* <%- at a line start: its indentation is dropped */
			size_t b = line_indent_start(s, text_from, tag);

			push_text(
				&t->toks, s + p, (b < p ? p : b) - p, p, true);
		} else {
			push_text(&t->toks, s + p, tag - p, p, true);
		}
		in = tag + 2;
		if (kind == '=' || kind == '#' || (trim && kind == '-'))
			in++;
		close = n;
		for (i = in; i + 1 < n; i++)
			if (s[i] == '%' && s[i + 1] == '>') {
				close = i;
				break;
			}
		if (close == n) {
			int line, col;
			char *shown = kr_erb_shown(t, tag, n);

			kr_erb_linecol(t, tag, &line, &col);
			kr_diags_add(t->diags, t->file, line, col,
				"unterminated ERB tag '%s'", shown);
			free(shown);
			return KR_ECONFIG;
		}
		in_end = close;
		cend = close + 2;
		if (trim && close > in && s[close - 1] == '-') {
			in_end = close - 1;
			if (cend < n && s[cend] == '\n')
				cend++;
		}
		if (kind == '=') {
			push(&t->toks, TK_OUT, s + tag, 3, tag);
			kr_erb_lex_code(t, &t->toks, in, in_end);
			push(&t->toks, TK_OUTEND, s + close, 2, close);
		} else if (kind != '#') {
			push(&t->toks, TK_SEP, s + tag, 2, tag);
			kr_erb_lex_code(t, &t->toks, in, in_end);
			push(&t->toks, TK_SEP, s + close, 2, close);
		}
		p = text_from = cend;
	}
	push(&t->toks, TK_EOF, s + n, 0, n);
	return 0;
}
