/*
 * The Ruby of ERB templates that kreconcile runs itself (the list is in
 * erb.h): a recursive-descent parser over the token stream of erb_lex.c,
 * with Ruby's precedence for the operators it knows. What it does not know
 * is noted (the tag, its position) and skipped to the next tag, so that one
 * pass finds every construct that would need Ruby.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "state/erb_int.h"

struct ps {
	struct erb_tpl *t;
	struct erb_toks *toks;
	size_t i;
	bool failed; /* this statement: unsupported */
	size_t fail_off;
	struct kr_strvec *vars; /* locals assigned so far */
};

static struct erb_node *expr(struct ps *p);

static bool
in_list(const char *s, const char *const *list)
{
	size_t i;

	for (i = 0; list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}
static struct erb_node *stmts(struct ps *p, bool in_out);

static struct erb_token *
peek(struct ps *p)
{
	return &p->toks->v[p->i];
}

/* Step back over t, which next() returned (EOF is never consumed). */
static void
unget(struct ps *p, const struct erb_token *t)
{
	if (t->kind != TK_EOF && p->i > 0)
		p->i--;
}

static struct erb_token *
next(struct ps *p)
{
	struct erb_token *t = &p->toks->v[p->i];

	if (t->kind != TK_EOF)
		p->i++;
	return t;
}

static bool
is(const struct erb_token *t, enum erb_tok kind, const char *s)
{
	return t->kind == kind &&
	       (!s || (t->n == strlen(s) && memcmp(t->s, s, t->n) == 0));
}

static bool
accept(struct ps *p, enum erb_tok kind, const char *s)
{
	if (is(peek(p), kind, s)) {
		next(p);
		return true;
	}
	return false;
}

static void *
fail(struct ps *p)
{
	if (!p->failed) {
		p->failed = true;
		p->fail_off = peek(p)->off;
	}
	return NULL;
}

static struct erb_node *
node(enum erb_node_kind kind, size_t off)
{
	struct erb_node *n = kr_xcalloc(1, sizeof(*n));

	n->kind = kind;
	n->off = off;
	return n;
}

void
kr_erb_node_free(struct erb_node *n)
{
	while (n) {
		struct erb_node *nx = n->next;

		kr_erb_node_free(n->a);
		kr_erb_node_free(n->b);
		kr_erb_node_free(n->c);
		free(n->s);
		free(n);
		n = nx;
	}
}

static bool
expect(struct ps *p, enum erb_tok kind, const char *s)
{
	if (accept(p, kind, s))
		return true;
	fail(p);
	return false;
}

/* A sub-expression inside "#{...}". */
static struct erb_node *
interp(struct ps *p, size_t from, size_t to)
{
	struct erb_toks sub = { 0 };
	struct ps q = { p->t, &sub, 0, false, 0, p->vars };
	struct erb_node *e;

	kr_erb_lex_code(p->t, &sub, from, to);
	{
		struct erb_token eof = { TK_EOF, p->t->text + to, 0, to, 0,
			false };

		kr_erb_toks_push(&sub, &eof);
	}
	e = expr(&q);
	if (!q.failed && peek(&q)->kind != TK_EOF)
		fail(&q);
	if (q.failed) {
		kr_erb_node_free(e);
		e = NULL;
		if (!p->failed) {
			p->failed = true;
			p->fail_off = q.fail_off;
		}
	}
	free(sub.v);
	return e;
}

/* A string literal's parts: text (escapes applied) and "#{}" pieces. */
static struct erb_node *
string_node(struct ps *p, const struct erb_token *tk)
{
	struct erb_node *n =
		node(tk->kind == TK_XSTR ? N_XSTR : N_STR, tk->off);
	struct erb_node **tail = &n->a;
	struct kr_buf b = KR_BUF_INIT;
	const char *s = tk->s, *end = tk->s + tk->n;
	bool dq = tk->quote != '\'';

	while (s < end) {
		char c = *s++;

		if (c == '\\' && s < end) {
			char e = *s++;

			if (!dq) {
				if (e != '\'' && e != '\\')
					kr_buf_putc(&b, '\\');
				kr_buf_putc(&b, e);
				continue;
			}
			switch (e) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case 's':
				c = ' ';
				break;
			case '0':
				c = '\0';
				break;
			case 'e':
				c = 27;
				break;
			case 'u':
			case 'x':
			case 'c':
			case 'C':
			case 'M':
				kr_buf_release(&b);
				kr_erb_node_free(n);
				return fail(p);
			default:
				c = e;
				break;
			}
			kr_buf_putc(&b, c);
			continue;
		}
		if (dq && c == '#' && s < end && *s == '{') {
			const char *q = s + kr_erb_interp_close(
						    s, 0, (size_t)(end - s));
			struct erb_node *part;

			if (q >= end) {
				kr_buf_release(&b);
				kr_erb_node_free(n);
				return fail(p);
			}
			if (b.len) {
				part = node(N_LIT, tk->off);
				part->slen = b.len;
				part->s = kr_buf_detach(&b, NULL);
				*tail = part;
				tail = &part->next;
			}
			part = interp(p, (size_t)(s + 1 - p->t->text),
				(size_t)(q - p->t->text));
			if (!part) {
				kr_buf_release(&b);
				kr_erb_node_free(n);
				return NULL;
			}
			*tail = part;
			tail = &part->next;
			s = q + 1;
			continue;
		}
		kr_buf_putc(&b, c);
	}
	if (b.len || !n->a) {
		struct erb_node *part = node(N_LIT, tk->off);

		part->slen = b.len;
		part->s = kr_buf_detach(&b, NULL);
		*tail = part;
	} else {
		kr_buf_release(&b);
	}
	return n;
}

static bool
known_var(struct ps *p, const struct erb_token *tk)
{
	size_t i;

	for (i = 0; i < p->vars->n; i++)
		if (strlen(p->vars->v[i]) == tk->n &&
			memcmp(p->vars->v[i], tk->s, tk->n) == 0)
			return true;
	return false;
}

static struct erb_node *
call_args(struct ps *p, int min, int max)
{
	struct erb_node *first = NULL, **tail = &first;
	int n = 0;

	if (!expect(p, TK_OP, "("))
		return NULL;
	if (!accept(p, TK_OP, ")")) {
		do {
			struct erb_node *a = expr(p);

			if (!a)
				break;
			*tail = a;
			tail = &a->next;
			n++;
		} while (accept(p, TK_OP, ","));
		expect(p, TK_OP, ")");
	}
	if (!p->failed && (n < min || n > max))
		fail(p);
	if (p->failed) {
		kr_erb_node_free(first);
		return NULL;
	}
	return first;
}

static const char *const methods0[] = { "strip", "chomp", "to_s", "empty?",
	"nil?", "present?", "blank?", "downcase", "upcase", "lstrip", "rstrip",
	"presence", NULL };

static struct erb_node *
primary(struct ps *p)
{
	struct erb_token *tk = next(p);
	struct erb_node *n = NULL;

	switch (tk->kind) {
	case TK_STR:
	case TK_XSTR:
		return string_node(p, tk);
	case TK_INT:
		n = node(N_INT, tk->off);
		n->s = kr_xstrndup(tk->s, tk->n);
		n->slen = tk->n;
		return n;
	case TK_OP:
		if (is(tk, TK_OP, "(")) {
			n = expr(p);
			if (!expect(p, TK_OP, ")")) {
				kr_erb_node_free(n);
				return NULL;
			}
			return n;
		}
		break;
	case TK_IDENT:
		if (is(tk, TK_IDENT, "nil"))
			return node(N_NIL, tk->off);
		if (is(tk, TK_IDENT, "true"))
			return node(N_TRUE, tk->off);
		if (is(tk, TK_IDENT, "false"))
			return node(N_FALSE, tk->off);
		if (known_var(p, tk)) {
			n = node(N_VAR, tk->off);
			n->s = kr_xstrndup(tk->s, tk->n);
			return n;
		}
		break;
	case TK_CONST:
		if (is(tk, TK_CONST, "ENV")) {
			if (accept(p, TK_OP, "[")) {
				n = node(N_ENV_INDEX, tk->off);
				if (!(n->a = expr(p)) || !expect(p, TK_OP, "]"))
					goto bad;
				return n;
			}
			if (!expect(p, TK_OP, "."))
				return NULL;
			if (accept(p, TK_IDENT, "fetch")) {
				n = node(N_ENV_FETCH, tk->off);
				if (!(n->a = call_args(p, 1, 2)))
					goto bad;
				n->b = n->a->next;
				n->a->next = NULL;
				if (accept(p, TK_OP, "{")) {
					if (n->b)
						goto bad;
					if (accept(p, TK_OP, "|")) {
						struct erb_token *v = next(p);

						if (v->kind != TK_IDENT ||
							!expect(p, TK_OP, "|"))
							goto bad;
						n->s = kr_xstrndup(v->s, v->n);
						kr_strvec_push(p->vars, n->s);
					}
					if (!(n->c = expr(p)) ||
						!expect(p, TK_OP, "}"))
						goto bad;
				}
				return n;
			}
			if (accept(p, TK_IDENT, "key?") ||
				accept(p, TK_IDENT, "include?") ||
				accept(p, TK_IDENT, "has_key?")) {
				n = node(N_ENV_KEY, tk->off);
				if (!(n->a = call_args(p, 1, 1)))
					goto bad;
				return n;
			}
			return fail(p);
		}
		if (is(tk, TK_CONST, "File")) {
			bool rd;

			if (!expect(p, TK_OP, "."))
				return NULL;
			if (accept(p, TK_IDENT, "read"))
				rd = true;
			else if (accept(p, TK_IDENT, "exist?"))
				rd = false;
			else
				return fail(p);
			n = node(rd ? N_FILE_READ : N_FILE_EXIST, tk->off);
			if (!(n->a = call_args(p, 1, 1)))
				goto bad;
			return n;
		}
		if (is(tk, TK_CONST, "Dotenv")) {
			if (!expect(p, TK_OP, "."))
				return NULL;
			n = node(N_DOTENV, tk->off);
			if (accept(p, TK_IDENT, "overload") ||
				accept(p, TK_IDENT, "overwrite"))
				n->flag = 1;
			else if (!accept(p, TK_IDENT, "load"))
				goto bad;
			if (is(peek(p), TK_OP, "(")) {
				if (!(n->a = call_args(p, 0, 16)) && p->failed)
					goto bad;
			} else if (peek(p)->kind == TK_STR) {
				struct erb_node **tail = &n->a;

				do {
					if (!(*tail = expr(p)))
						goto bad;
					tail = &(*tail)->next;
				} while (accept(p, TK_OP, ","));
			}
			return n;
		}
		if (is(tk, TK_CONST, "RUBY_ENGINE") ||
			is(tk, TK_CONST, "RUBY_ENGINE_VERSION") ||
			is(tk, TK_CONST, "RUBY_VERSION") ||
			is(tk, TK_CONST, "RUBY_PLATFORM")) {
			p->t->uses_ruby_const = true;
			n = node(N_CONST, tk->off);
			n->s = kr_xstrndup(tk->s, tk->n);
			return n;
		}
		break;
	default:
		break;
	}
	unget(p, tk);
	return fail(p);
bad:
	kr_erb_node_free(n);
	return fail(p);
}

static struct erb_node *
postfix(struct ps *p)
{
	struct erb_node *n = primary(p);

	while (n && is(peek(p), TK_OP, ".")) {
		struct erb_token *m;
		struct erb_node *c;

		next(p);
		m = next(p);
		if (m->kind != TK_IDENT) {
			kr_erb_node_free(n);
			unget(p, m);
			return fail(p);
		}
		{
			char *name = kr_xstrndup(m->s, m->n);
			bool ok = in_list(name, methods0);

			if (!ok || is(peek(p), TK_OP, "(")) {
				free(name);
				kr_erb_node_free(n);
				unget(p, m);
				return fail(p);
			}
			c = node(N_CALL, n->off);
			c->s = name;
			c->a = n;
			n = c;
		}
	}
	return n;
}

static struct erb_node *
unary(struct ps *p)
{
	size_t off = peek(p)->off;

	if (accept(p, TK_OP, "!") || accept(p, TK_IDENT, "not")) {
		struct erb_node *n = node(N_NOT, off);

		if (!(n->a = unary(p))) {
			kr_erb_node_free(n);
			return NULL;
		}
		return n;
	}
	return postfix(p);
}

/* Left-associative operators op1 (kind1) and op2 (kind2, may be NULL). */
static struct erb_node *
binary(struct ps *p, struct erb_node *(*sub)(struct ps *), const char *op1,
	enum erb_node_kind kind1, const char *op2, enum erb_node_kind kind2)
{
	struct erb_node *l = sub(p);

	while (l &&
		(is(peek(p), TK_OP, op1) || (op2 && is(peek(p), TK_OP, op2)))) {
		struct erb_node *n =
			node(is(peek(p), TK_OP, op1) ? kind1 : kind2, l->off);

		next(p);
		n->a = l;
		if (!(n->b = sub(p))) {
			kr_erb_node_free(n);
			return NULL;
		}
		l = n;
	}
	return l;
}

static struct erb_node *
equality(struct ps *p)
{
	return binary(p, unary, "==", N_EQ, "!=", N_NE);
}

static struct erb_node *
and_expr(struct ps *p)
{
	return binary(p, equality, "&&", N_AND, NULL, N_AND);
}

static struct erb_node *
or_expr(struct ps *p)
{
	return binary(p, and_expr, "||", N_OR, NULL, N_OR);
}

static struct erb_node *
expr(struct ps *p)
{
	struct erb_node *c = or_expr(p), *n;

	if (!c || !is(peek(p), TK_OP, "?"))
		return c;
	next(p);
	n = node(N_TERNARY, c->off);
	n->a = c;
	if (!(n->b = expr(p)) || !expect(p, TK_OP, ":") || !(n->c = expr(p))) {
		kr_erb_node_free(n);
		return NULL;
	}
	return n;
}

static bool
at_block_end(struct ps *p)
{
	struct erb_token *t = peek(p);

	return t->kind == TK_EOF || is(t, TK_IDENT, "end") ||
	       is(t, TK_IDENT, "else") || is(t, TK_IDENT, "elsif") ||
	       is(t, TK_IDENT, "rescue") || is(t, TK_IDENT, "ensure");
}

static struct erb_node *
if_rest(struct ps *p, size_t off, bool negate)
{
	struct erb_node *n = node(N_IF, off), *cond;

	if (!(cond = expr(p)))
		goto bad;
	if (negate) {
		n->a = node(N_NOT, cond->off);
		n->a->a = cond;
	} else {
		n->a = cond;
	}
	accept(p, TK_IDENT, "then");
	n->b = stmts(p, false);
	if (p->failed)
		goto bad;
	if (!negate && is(peek(p), TK_IDENT, "elsif")) {
		size_t o = next(p)->off;

		if (!(n->c = if_rest(p, o, false)))
			goto bad;
		return n;
	}
	if (accept(p, TK_IDENT, "else")) {
		n->c = stmts(p, false);
		if (p->failed)
			goto bad;
	}
	if (!expect(p, TK_IDENT, "end"))
		goto bad;
	return n;
bad:
	kr_erb_node_free(n);
	return fail(p);
}

static const char *const rescuable[] = { "LoadError", "StandardError",
	"RuntimeError", "KeyError", "Exception", "ScriptError", "IOError",
	"SystemCallError", "Errno", NULL };

static struct erb_node *
begin_rest(struct ps *p, size_t off)
{
	struct erb_node *n = node(N_BEGIN, off);
	struct kr_buf classes = KR_BUF_INIT;

	n->a = stmts(p, false);
	if (p->failed)
		goto bad;
	if (accept(p, TK_IDENT, "rescue")) {
		n->flag = 1;
		while (peek(p)->kind == TK_CONST) {
			struct erb_token *c = next(p);
			char *name = kr_xstrndup(c->s, c->n);

			if (!in_list(name, rescuable)) {
				free(name);
				goto bad;
			}
			if (strcmp(name, "Errno") == 0 &&
				(!expect(p, TK_OP, "::") ||
					peek(p)->kind != TK_CONST)) {
				free(name);
				goto bad;
			}
			if (strcmp(name, "Errno") == 0)
				next(p);
			kr_buf_printf(&classes, "%s,", name);
			free(name);
			if (!accept(p, TK_OP, ","))
				break;
		}
		n->s = kr_buf_detach(&classes, NULL);
		n->b = stmts(p, false);
		if (p->failed)
			goto bad;
	}
	if (!expect(p, TK_IDENT, "end"))
		goto bad;
	return n;
bad:
	kr_buf_release(&classes);
	kr_erb_node_free(n);
	return fail(p);
}

static void
note_var(struct ps *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->vars->n; i++)
		if (strcmp(p->vars->v[i], name) == 0)
			return;
	kr_strvec_push(p->vars, name);
}

static struct erb_node *
simple(struct ps *p)
{
	struct erb_token *tk = peek(p);
	struct erb_node *n = NULL;

	if (is(tk, TK_IDENT, "require")) {
		next(p);
		n = node(N_REQUIRE, tk->off);
		if (accept(p, TK_OP, "(")) {
			n->a = expr(p);
			expect(p, TK_OP, ")");
		} else {
			n->a = expr(p);
		}
		/* Kamal's process has dotenv; other features need Ruby */
		if (!n->a || n->a->kind != N_STR || p->failed || !n->a->a ||
			n->a->a->kind != N_LIT || n->a->a->next ||
			(strcmp(n->a->a->s, "dotenv") != 0 &&
				strcmp(n->a->a->s, "dotenv/load") != 0)) {
			kr_erb_node_free(n);
			return fail(p);
		}
		return n;
	}
	if (is(tk, TK_IDENT, "raise") || is(tk, TK_IDENT, "fail")) {
		struct erb_token *nx;

		next(p);
		n = node(N_RAISE, tk->off);
		nx = peek(p);
		if (nx->kind != TK_SEP && nx->kind != TK_EOF &&
			!is(nx, TK_IDENT, "if") &&
			!is(nx, TK_IDENT, "unless") && !(n->a = expr(p))) {
			kr_erb_node_free(n);
			return NULL;
		}
		return n;
	}
	if (tk->kind == TK_IDENT && !is(tk, TK_IDENT, "nil") &&
		!is(tk, TK_IDENT, "true") && !is(tk, TK_IDENT, "false") &&
		(is(&p->toks->v[p->i + 1], TK_OP, "=") ||
			is(&p->toks->v[p->i + 1], TK_OP, "||="))) {
		next(p);
		n = node(N_ASSIGN, tk->off);
		n->s = kr_xstrndup(tk->s, tk->n);
		n->flag = is(next(p), TK_OP, "||=");
		if (!(n->a = expr(p))) {
			kr_erb_node_free(n);
			return NULL;
		}
		note_var(p, n->s);
		return n;
	}
	n = expr(p);
	if (n && n->kind == N_ENV_INDEX &&
		(is(peek(p), TK_OP, "=") || is(peek(p), TK_OP, "||="))) {
		struct erb_node *set = node(N_ENV_SET, n->off);

		set->flag = is(next(p), TK_OP, "||=");
		set->a = n->a;
		n->a = NULL;
		kr_erb_node_free(n);
		if (!(set->b = expr(p))) {
			kr_erb_node_free(set);
			return NULL;
		}
		return set;
	}
	if (n) {
		struct erb_node *s = node(N_EXPR, n->off);

		s->a = n;
		return s;
	}
	return NULL;
}

static struct erb_node *
stmt(struct ps *p)
{
	struct erb_token *tk = peek(p);
	struct erb_node *n;

	if (is(tk, TK_IDENT, "if") || is(tk, TK_IDENT, "unless")) {
		next(p);
		return if_rest(p, tk->off, tk->s[0] == 'u');
	}
	if (is(tk, TK_IDENT, "begin")) {
		next(p);
		return begin_rest(p, tk->off);
	}
	n = simple(p);
	while (n && (is(peek(p), TK_IDENT, "if") ||
			    is(peek(p), TK_IDENT, "unless"))) {
		bool neg = peek(p)->s[0] == 'u';
		struct erb_node *w = node(N_IF, n->off), *cond;

		next(p);
		if (!(cond = expr(p))) {
			kr_erb_node_free(n);
			kr_erb_node_free(w);
			return NULL;
		}
		if (neg) {
			w->a = node(N_NOT, cond->off);
			w->a->a = cond;
		} else {
			w->a = cond;
		}
		w->b = n;
		n = w;
	}
	return n;
}

/* Note the unsupported construct and skip to the end of its tag. */
static void
recover(struct ps *p)
{
	int line, col;
	size_t i, tag = 0, end = p->t->len;
	char *shown;

	/* the tag around the failure: from its <% to its %> */
	for (i = p->fail_off < p->t->len ? p->fail_off : p->t->len; i > 0; i--)
		if (i < p->t->len && p->t->text[i - 1] == '<' &&
			p->t->text[i] == '%') {
			tag = i - 1;
			break;
		}
	for (i = p->fail_off; i + 1 < p->t->len; i++)
		if (p->t->text[i] == '%' && p->t->text[i + 1] == '>') {
			end = i + 2;
			break;
		}
	kr_erb_linecol(p->t, tag, &line, &col);
	shown = kr_erb_shown(p->t, tag, end);
	kr_diags_add(p->t->diags, p->t->file, line, col,
		"ERB '%s' needs Ruby: kreconcile renders ENV lookups, ||, "
		"ENV.fetch, backticks, Dotenv.load, local variables, "
		"if/unless, File.read and raise itself; %s",
		shown,
		p->t->never_ruby ? "this file is not handed to Ruby" :
				   "install Ruby (`ruby` on PATH) to render "
				   "this template as Kamal does");
	free(shown);
	if (p->t->nunsupported < 16) {
		p->t->unsup_off[p->t->nunsupported] = tag;
		p->t->unsup_end[p->t->nunsupported] = end;
	}
	p->t->nunsupported++;
	/* skip past the failing tag's close */
	while (peek(p)->kind != TK_EOF && peek(p)->off < end)
		next(p);
	p->failed = false;
}

static struct erb_node *
stmts(struct ps *p, bool in_out)
{
	struct erb_node *first = NULL, **tail = &first;

	for (;;) {
		struct erb_token *tk = peek(p);
		struct erb_node *n = NULL;

		if (p->failed)
			break;
		if (tk->kind == TK_SEP) {
			next(p);
			continue;
		}
		if (at_block_end(p) || (in_out && tk->kind == TK_OUTEND))
			break;
		if (tk->kind == TK_TEXT) {
			next(p);
			n = node(N_TEXT, tk->off);
			n->s = kr_xstrndup(tk->s, tk->n);
			n->slen = tk->n;
			n->flag = tk->exact;
		} else if (tk->kind == TK_OUT) {
			next(p);
			n = node(N_EMIT, tk->off);
			if (!(n->a = expr(p)) || n->a->kind == N_DOTENV ||
				!expect(p, TK_OUTEND, NULL)) {
				kr_erb_node_free(n);
				n = NULL;
				fail(p);
			}
		} else {
			n = stmt(p);
			if (n && !p->failed && peek(p)->kind != TK_SEP &&
				!at_block_end(p) && peek(p)->kind != TK_EOF) {
				kr_erb_node_free(n);
				n = NULL;
				fail(p);
			}
		}
		if (!n) {
			fail(p);
			break;
		}
		*tail = n;
		tail = &n->next;
	}
	return first;
}

struct erb_node *
kr_erb_parse(struct erb_tpl *t)
{
	struct kr_strvec vars = { 0 };
	struct ps p = { t, &t->toks, 0, false, 0, &vars };
	struct erb_node *prog = NULL, **tail = &prog;

	for (;;) {
		struct erb_node *part = stmts(&p, false);

		*tail = part;
		while (*tail)
			tail = &(*tail)->next;
		if (p.failed) {
			recover(&p);
			continue;
		}
		if (peek(&p)->kind == TK_EOF)
			break;
		/* a stray end/else/rescue: after an unsupported tag it
		 * closes that tag's block, which was already reported */
		if (t->nunsupported) {
			next(&p);
			continue;
		}
		fail(&p);
		recover(&p);
	}
	kr_strvec_release(&vars);
	if (t->nunsupported) {
		kr_erb_node_free(prog);
		return NULL;
	}
	return prog;
}

char *
kr_erb_shown(const struct erb_tpl *t, size_t off, size_t end)
{
	struct kr_buf b = KR_BUF_INIT;
	size_t i;

	for (i = off; i < end && b.len < 80; i++)
		kr_buf_putc(&b, t->text[i] == '\n' || t->text[i] == '\r' ||
						t->text[i] == '\t' ?
					' ' :
					t->text[i]);
	if (i < end)
		kr_buf_puts(&b, "...");
	return kr_buf_detach(&b, NULL);
}
