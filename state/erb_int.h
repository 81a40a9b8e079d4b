/*
 * Internal to state/erb*.c: the template is scanned into one token stream
 * (text pieces, output tags and the code of every tag, as ERB compiles a
 * template into one Ruby program), parsed into a small tree of the Ruby
 * kreconcile understands (erb_parse.c), and run (erb_eval.c). Processes
 * (backticks, Ruby's own ERB) are started by erb_run.c.
 */
#ifndef KR_STATE_ERB_INT_H
#define KR_STATE_ERB_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/diag.h"
#include "common/vec.h"
#include "state/erb.h"

enum erb_tok {
	TK_EOF,
	TK_SEP, /* newline, ';' or a tag boundary */
	TK_TEXT, /* template text to output */
	TK_OUT, /* start of <%= */
	TK_OUTEND, /* its %> */
	TK_IDENT, /* local, method or keyword */
	TK_CONST,
	TK_STR, /* "..." '...' %q() %Q() */
	TK_XSTR, /* `...` %x() */
	TK_INT,
	TK_OP, /* punctuation, in s */
};

struct erb_token {
	enum erb_tok kind;
	const char *s; /* slice of the template (TK_TEXT: output text) */
	size_t n;
	size_t off; /* source offset, for positions */
	char quote; /* TK_STR/TK_XSTR: '"', '\'' or '`' (escapes) */
	bool exact; /* TK_TEXT: copied 1:1 from the source */
};

struct erb_toks {
	struct erb_token *v;
	size_t n, alloc;
};

enum erb_node_kind {
	/* expressions */
	N_STR, /* parts in a (list through next) */
	N_LIT, /* a string part: s, slen */
	N_XSTR, /* backticks: parts in a */
	N_NIL,
	N_TRUE,
	N_FALSE,
	N_INT, /* s: the digits */
	N_ENV_INDEX, /* ENV[a] */
	N_ENV_FETCH, /* ENV.fetch(a [, b]) [{ |s| c }] */
	N_ENV_KEY, /* ENV.key?(a) */
	N_VAR, /* local variable s */
	N_CONST, /* RUBY_ENGINE and friends: s */
	N_FILE_READ, /* File.read(a) */
	N_FILE_EXIST, /* File.exist?(a) */
	N_CALL, /* a.s with no arguments (strip, to_s, empty? ...) */
	N_OR,
	N_AND,
	N_NOT,
	N_EQ,
	N_NE,
	N_TERNARY, /* a ? b : c */
	N_DOTENV, /* Dotenv.load/overload(args in a); flag: overwrite */
	/* statements */
	N_TEXT, /* s, slen; flag: exact */
	N_EMIT, /* <%= a %> */
	N_EXPR,
	N_ASSIGN, /* s = a (flag: ||=) */
	N_ENV_SET, /* ENV[a] = b (flag: ||=) */
	N_IF, /* if a then b else c (lists) */
	N_BEGIN, /* begin a rescue(classes in s) b end */
	N_REQUIRE, /* a: the feature string */
	N_RAISE, /* a: message or NULL */
};

struct erb_node {
	enum erb_node_kind kind;
	size_t off, end; /* source span */
	struct erb_node *a, *b, *c;
	struct erb_node *next; /* lists: statements, string parts, args */
	char *s;
	size_t slen;
	int flag;
};

/* One template being rendered. */
struct erb_tpl {
	const char *file;
	const char *text;
	size_t len;
	struct kr_diags *diags;
	struct erb_toks toks;
	size_t *lines; /* offsets of line starts */
	size_t nlines;
	bool uses_ruby_const; /* RUBY_ENGINE & co, only Ruby knows them */
	bool never_ruby; /* opts->ruby is "": no hint to install it */
	size_t nunsupported; /* parse problems: what only Ruby renders */
	size_t unsup_off[16], unsup_end[16]; /* the first of them */
};

/* erb_lex.c */
int kr_erb_scan(struct erb_tpl *t, bool trim);
void kr_erb_lex_code(
	struct erb_tpl *t, struct erb_toks *out, size_t from, size_t to);
void kr_erb_linecol(const struct erb_tpl *t, size_t off, int *line, int *col);
size_t kr_erb_interp_close(const char *s, size_t i, size_t to);
void kr_erb_toks_push(struct erb_toks *v, const struct erb_token *tok);

/* erb_parse.c: the program, or NULL with t->nunsupported problems noted */
struct erb_node *kr_erb_parse(struct erb_tpl *t);
void kr_erb_node_free(struct erb_node *n);
/* The tag (or code) around off, as written, for messages; caller frees. */
char *kr_erb_shown(const struct erb_tpl *t, size_t off, size_t end);

/* erb_eval.c */
int kr_erb_eval(struct erb_tpl *t, struct erb_node *prog, struct kr_buf *out,
	struct kr_erb_map *map, const struct kr_erb_opts *o);

/* erb_run.c */
struct kr_erb_child {
	const char *const *argv;
	const char *dir; /* NULL: ours */
	const char *input; /* written to the child's fd 3 */
	size_t input_len;
	struct kr_buf *out; /* its stdout (capped by out->max) */
	struct kr_buf *side; /* its fd 4, or NULL */
	int timeout; /* seconds */
	const char *extra_env; /* "NAME=value" added to environ, or NULL */
};
/* 0 when it ran and exited 0; else KR_E* with a reason in why
 * (*status set to the exit status when it exited). */
int kr_erb_run_child(
	const struct kr_erb_child *c, struct kr_buf *why, int *status);
/* The `ruby` that PATH finds, or NULL; caller frees. */
char *kr_erb_find_ruby(void);
int kr_erb_run_ruby(struct kr_buf *out, const struct erb_tpl *t,
	const char *ruby, const struct kr_erb_opts *o);

#endif
