/*
 * Running a parsed template (erb_parse.c) as Ruby would: values are nil,
 * booleans, strings or integers; exceptions (raise, KeyError of ENV.fetch,
 * Errno::ENOENT of File.read) unwind to a matching rescue or end the render
 * with the position of the code that raised; writes to ENV are seen by the
 * rest of the template and, in the process environment, by what Kamal runs
 * afterwards (the secrets files).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/vec.h"
#include "state/erb_int.h"
#include "state/secrets.h"

enum { V_NIL, V_FALSE, V_TRUE, V_STR, V_INT };

struct val {
	int t;
	char *s; /* V_STR, V_INT: owned */
	size_t n;
};

enum exc {
	EX_NONE,
	EX_RUNTIME, /* raise "..." */
	EX_KEY, /* ENV.fetch */
	EX_ENOENT, /* File.read */
	EX_TYPE, /* NoMethodError, TypeError */
	EX_FATAL, /* our own limits (timeouts, Ruby needed): not rescuable */
};

struct ev {
	struct erb_tpl *t;
	const struct kr_erb_opts *o;
	struct kr_buf *out;
	struct kr_erb_map *map;
	int dline, dcol; /* output position */
	struct kr_kvlist vars;
	struct kr_kvlist env_set; /* ENV writes, when not the process's */
	struct kr_strvec env_unset;
	enum exc exc;
	char *exc_msg;
	size_t exc_off;
};

static struct val eval(struct ev *e, const struct erb_node *n);
static void set_var(struct ev *e, const char *name, const struct val *v);

static struct val
str_val(char *s, size_t n)
{
	struct val v = { V_STR, s, n };

	return v;
}

static struct val
nil_val(void)
{
	struct val v = { V_NIL, NULL, 0 };

	return v;
}

static struct val
bool_val(bool b)
{
	struct val v = { b ? V_TRUE : V_FALSE, NULL, 0 };

	return v;
}

static void
val_free(struct val *v)
{
	free(v->s);
	v->s = NULL;
}

static bool
truthy(const struct val *v)
{
	return v->t != V_NIL && v->t != V_FALSE;
}

static const char *
class_name(const struct val *v)
{
	static const char *const names[] = { "NilClass", "FalseClass",
		"TrueClass", "String", "Integer" };

	return names[v->t];
}

/* value.to_s, as a new string */
static char *
to_s(const struct val *v, size_t *len)
{
	switch (v->t) {
	case V_STR:
	case V_INT:
		*len = v->n;
		return kr_xstrndup(v->s, v->n);
	case V_TRUE:
		*len = 4;
		return kr_xstrdup("true");
	case V_FALSE:
		*len = 5;
		return kr_xstrdup("false");
	default:
		*len = 0;
		return kr_xstrdup("");
	}
}

static void throw_exc(struct ev *e, enum exc kind, size_t off, const char *fmt,
	...) __attribute__((format(printf, 4, 5)));

static void
throw_exc(struct ev *e, enum exc kind, size_t off, const char *fmt, ...)
{
	struct kr_buf b = KR_BUF_INIT;
	va_list ap;

	if (e->exc)
		return;
	va_start(ap, fmt);
	kr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	e->exc = kind;
	e->exc_msg = kr_buf_detach(&b, NULL);
	e->exc_off = off;
}

static void
clear_exc(struct ev *e)
{
	free(e->exc_msg);
	e->exc_msg = NULL;
	e->exc = EX_NONE;
}

/* The environment as the template sees it. */
static const char *
env_get(struct ev *e, const char *name)
{
	const char *v;

	if (kr_strvec_contains(&e->env_unset, name))
		return NULL;
	if ((v = kr_kvlist_get(&e->env_set, name)))
		return v;
	if (e->o->getenv_fn)
		return e->o->getenv_fn(e->o->getenv_ctx, name);
	return getenv(name);
}

static void
env_put(struct ev *e, const char *name, const char *value)
{
	if (!e->o->getenv_fn) {
		/* Kamal's process: the rest of the run sees it */
		if (value)
			setenv(name, value, 1);
		else
			unsetenv(name);
		return;
	}
	if (value) {
		size_t i;

		for (i = 0; i < e->env_unset.n; i++)
			if (strcmp(e->env_unset.v[i], name) == 0) {
				free(e->env_unset.v[i]);
				e->env_unset.v[i] =
					e->env_unset.v[--e->env_unset.n];
				break;
			}
		kr_kvlist_set(&e->env_set, name, value);
	} else {
		kr_kvlist_del(&e->env_set, name);
		if (!kr_strvec_contains(&e->env_unset, name))
			kr_strvec_push(&e->env_unset, name);
	}
}

/* A path the template names, relative to the app root. */
static char *
local_path(struct ev *e, const char *p)
{
	if (p[0] == '/' || !e->o->dir || !*e->o->dir)
		return kr_xstrdup(p);
	return kr_xasprintf("%s/%s", e->o->dir, p);
}

static bool
need_str(struct ev *e, const struct val *v, size_t off, const char *what)
{
	if (v->t == V_STR)
		return true;
	throw_exc(e, EX_TYPE, off,
		"TypeError: no implicit conversion of %s into "
		"String (%s)",
		v->t == V_NIL ? "nil" : class_name(v), what);
	return false;
}

static struct val
concat_parts(struct ev *e, const struct erb_node *part)
{
	struct kr_buf b = KR_BUF_INIT;

	for (; part; part = part->next) {
		struct val v;
		char *s;
		size_t n;

		if (part->kind == N_LIT) {
			kr_buf_put(&b, part->s, part->slen);
			continue;
		}
		v = eval(e, part);
		if (e->exc) {
			kr_buf_release(&b);
			return nil_val();
		}
		s = to_s(&v, &n);
		kr_buf_put(&b, s, n);
		free(s);
		val_free(&v);
	}
	{
		size_t n;
		char *s = kr_buf_detach(&b, &n);

		return str_val(s, n);
	}
}

static struct val
backticks(struct ev *e, const struct erb_node *n)
{
	struct val cmd = concat_parts(e, n->a);
	struct kr_buf out = KR_BUF_INIT, why = KR_BUF_INIT;
	/* the command goes through the environment, not argv (it may hold
	 * values from ENV), and is unset before it runs */
	const char *argv[] = { "/bin/sh", "-c",
		"eval \"unset KR_ERB_COMMAND\n$KR_ERB_COMMAND\"", NULL };
	char *cmdvar;
	struct kr_erb_child c = { 0 };
	int status = 0, rc;

	if (e->exc)
		return nil_val();
	if (e->o->no_commands) {
		throw_exc(e, EX_FATAL, n->off, "commands are not run here");
		val_free(&cmd);
		return nil_val();
	}
	if (memchr(cmd.s, '\0', cmd.n)) {
		val_free(&cmd);
		throw_exc(e, EX_TYPE, n->off,
			"ArgumentError: string contains null "
			"byte");
		return nil_val();
	}
	cmdvar = kr_xasprintf("KR_ERB_COMMAND=%s", cmd.s);
	c.extra_env = cmdvar;
	out.max = 1 << 20;
	c.argv = argv;
	c.dir = e->o->dir;
	c.out = &out;
	c.timeout = e->o->timeout > 0 ? e->o->timeout : 60;
	rc = kr_erb_run_child(&c, &why, &status);
	free(cmdvar);
	/* Ruby's backticks return the output whatever the exit status */
	if (rc != 0 && rc != KR_ERROR) {
		throw_exc(
			e, EX_FATAL, n->off, "command `%s` %s", cmd.s, why.ptr);
		kr_buf_release(&out);
		kr_buf_release(&why);
		val_free(&cmd);
		return nil_val();
	}
	kr_buf_release(&why);
	val_free(&cmd);
	{
		size_t len;
		char *s = kr_buf_detach(&out, &len);

		return str_val(s, len);
	}
}

static struct val
file_read(struct ev *e, const struct erb_node *n, bool exist)
{
	struct val p = eval(e, n->a);
	struct kr_buf b = KR_BUF_INIT;
	char *path, chunk[8192];
	size_t got;
	FILE *f;

	if (e->exc ||
		!need_str(e, &p, n->off, exist ? "File.exist?" : "File.read")) {
		val_free(&p);
		return nil_val();
	}
	if (e->o->no_commands) {
		throw_exc(e, EX_FATAL, n->off, "files are not read here");
		val_free(&p);
		return nil_val();
	}
	path = local_path(e, p.s);
	f = fopen(path, "rb");
	free(path);
	if (exist) {
		if (f)
			fclose(f);
		val_free(&p);
		return bool_val(f != NULL);
	}
	if (!f) {
		throw_exc(e, EX_ENOENT, n->off,
			"Errno::ENOENT: %s @ rb_sysopen - %s", strerror(errno),
			p.s);
		val_free(&p);
		return nil_val();
	}
	b.max = 16u << 20;
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (kr_buf_put(&b, chunk, got) < 0)
			break;
	fclose(f);
	if (got > 0) {
		throw_exc(
			e, EX_FATAL, n->off, "'%s' is larger than 16 MiB", p.s);
		kr_buf_release(&b);
		val_free(&p);
		return nil_val();
	}
	val_free(&p);
	{
		size_t len;
		char *s = kr_buf_detach(&b, &len);

		return str_val(s, len);
	}
}

/* Dotenv.load(files...) / Dotenv.overload: dotenv 3's rules. */
static struct val
dotenv_load(struct ev *e, const struct erb_node *n, bool overwrite)
{
	struct kr_strvec files = { 0 };
	const struct erb_node *a;
	size_t i, j;

	for (a = n; a; a = a->next) {
		struct val v = eval(e, a);

		if (e->exc || !need_str(e, &v, a->off, "Dotenv.load")) {
			val_free(&v);
			kr_strvec_release(&files);
			return nil_val();
		}
		kr_strvec_push(&files, v.s);
		val_free(&v);
	}
	if (!files.n)
		kr_strvec_push(&files, ".env");
	if (e->o->no_commands) {
		throw_exc(
			e, EX_FATAL, n ? n->off : 0, "files are not read here");
		kr_strvec_release(&files);
		return nil_val();
	}
	for (i = 0; i < files.n; i++) {
		/* overload reads the files in reverse: the first one wins */
		const char *name = files.v[overwrite ? files.n - 1 - i : i];
		struct kr_secrets_opts so = { .command_timeout = e->o->timeout,
			.run_commands = !e->o->no_commands };
		struct kr_kvlist kv = { 0 };
		struct kr_diags d = { 0 };
		char *path = local_path(e, name);
		FILE *f = fopen(path, "rb");
		struct kr_buf b = KR_BUF_INIT;
		char chunk[8192];
		size_t got;

		if (!f) {
			free(path); /* missing files are ignored */
			continue;
		}
		while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
			kr_buf_put(&b, chunk, got);
		fclose(f);
		if (kr_secrets_parse(&kv, &d, name, b.ptr, b.len, &so) != 0) {
			int line = d.n ? d.v[0].line : 0;

			throw_exc(e, EX_RUNTIME, n ? n->off : 0,
				"Dotenv::FormatError: %s:%d: %s", name, line,
				d.n ? d.v[0].msg : "cannot be parsed");
		}
		for (j = 0; !e->exc && j < kv.n; j++)
			if (overwrite || !env_get(e, kv.v[j].key))
				env_put(e, kv.v[j].key, kv.v[j].value);
		kr_kvlist_release(&kv);
		kr_diags_release(&d);
		kr_buf_release(&b);
		free(path);
		if (e->exc)
			break;
	}
	kr_strvec_release(&files);
	return e->exc ? nil_val() : bool_val(true);
}

static bool
blank(const struct val *v)
{
	size_t i;

	if (!truthy(v))
		return true;
	if (v->t != V_STR)
		return false;
	for (i = 0; i < v->n; i++)
		if (!strchr(" \t\n\v\f\r", v->s[i]))
			return false;
	return true;
}

static struct val
call(struct ev *e, const struct erb_node *n)
{
	struct val v = eval(e, n->a);
	const char *m = n->s;
	size_t a = 0, z;

	if (e->exc)
		return nil_val();
	if (strcmp(m, "to_s") == 0) {
		size_t len;
		char *s = to_s(&v, &len);

		val_free(&v);
		return str_val(s, len);
	}
	if (strcmp(m, "nil?") == 0) {
		bool r = v.t == V_NIL;

		val_free(&v);
		return bool_val(r);
	}
	if (strcmp(m, "blank?") == 0 || strcmp(m, "present?") == 0) {
		bool r = blank(&v) == (m[0] == 'b');

		val_free(&v);
		return bool_val(r);
	}
	if (strcmp(m, "presence") == 0) {
		if (blank(&v)) {
			val_free(&v);
			return nil_val();
		}
		return v;
	}
	if (v.t != V_STR) {
		throw_exc(e, EX_TYPE, n->off,
			"NoMethodError: undefined method `%s' "
			"for %s:%s",
			m, v.t == V_NIL ? "nil" : "value", class_name(&v));
		val_free(&v);
		return nil_val();
	}
	if (strcmp(m, "empty?") == 0) {
		bool r = v.n == 0;

		val_free(&v);
		return bool_val(r);
	}
	z = v.n;
	if (strcmp(m, "strip") == 0 || strcmp(m, "lstrip") == 0)
		while (a < z && strchr(" \t\n\v\f\r", v.s[a]) && v.s[a])
			a++;
	if (strcmp(m, "strip") == 0 || strcmp(m, "rstrip") == 0)
		while (z > a && (v.s[z - 1] == '\0' ||
					strchr(" \t\n\v\f\r", v.s[z - 1])))
			z--;
	if (strcmp(m, "chomp") == 0) {
		if (z > 0 && v.s[z - 1] == '\n')
			z--;
		if (z > 0 && v.s[z - 1] == '\r')
			z--;
	}
	if (strcmp(m, "downcase") == 0 || strcmp(m, "upcase") == 0) {
		size_t i;

		for (i = 0; i < v.n; i++)
			if (m[0] == 'd' && v.s[i] >= 'A' && v.s[i] <= 'Z')
				v.s[i] = (char)(v.s[i] + 32);
			else if (m[0] == 'u' && v.s[i] >= 'a' && v.s[i] <= 'z')
				v.s[i] = (char)(v.s[i] - 32);
	}
	{
		char *s = kr_xstrndup(v.s + a, z - a);

		val_free(&v);
		return str_val(s, z - a);
	}
}

static bool
equal(const struct val *a, const struct val *b)
{
	if (a->t != b->t)
		return false;
	if (a->t == V_STR || a->t == V_INT)
		return a->n == b->n && memcmp(a->s, b->s, a->n) == 0;
	return true;
}

static struct val
env_fetch(struct ev *e, const struct erb_node *n)
{
	struct val k = eval(e, n->a);
	const char *v;

	if (e->exc || !need_str(e, &k, n->off, "ENV.fetch")) {
		val_free(&k);
		return nil_val();
	}
	if ((v = env_get(e, k.s))) {
		char *s = kr_xstrdup(v);

		val_free(&k);
		return str_val(s, strlen(s));
	}
	if (n->c) {
		struct val r;

		if (n->s)
			set_var(e, n->s, &k);
		val_free(&k);
		r = eval(e, n->c);
		return r;
	}
	if (n->b) {
		val_free(&k);
		return eval(e, n->b);
	}
	throw_exc(e, EX_KEY, n->off,
		"environment variable '%s' is not set "
		"(ENV.fetch without a default; Kamal fails with KeyError: key "
		"not found: \"%s\")",
		k.s, k.s);
	val_free(&k);
	return nil_val();
}

static struct val
eval(struct ev *e, const struct erb_node *n)
{
	struct val a, b;

	switch (n->kind) {
	case N_STR:
		return concat_parts(e, n->a);
	case N_XSTR:
		return backticks(e, n);
	case N_NIL:
		return nil_val();
	case N_TRUE:
		return bool_val(true);
	case N_FALSE:
		return bool_val(false);
	case N_INT: {
		struct val v = { V_INT, kr_xstrdup(n->s), n->slen };

		return v;
	}
	case N_ENV_INDEX: {
		const char *v;

		a = eval(e, n->a);
		if (e->exc || !need_str(e, &a, n->off, "ENV[]")) {
			val_free(&a);
			return nil_val();
		}
		v = env_get(e, a.s);
		val_free(&a);
		return v ? str_val(kr_xstrdup(v), strlen(v)) : nil_val();
	}
	case N_ENV_FETCH:
		return env_fetch(e, n);
	case N_ENV_KEY: {
		bool r;

		a = eval(e, n->a);
		if (e->exc || !need_str(e, &a, n->off, "ENV.key?")) {
			val_free(&a);
			return nil_val();
		}
		r = env_get(e, a.s) != NULL;
		val_free(&a);
		return bool_val(r);
	}
	case N_VAR: {
		const char *v = kr_kvlist_get(&e->vars, n->s);
		size_t i;

		for (i = 0; i < e->vars.n; i++)
			if (strcmp(e->vars.v[i].key, n->s) == 0)
				break;
		if (i == e->vars.n || !v)
			return nil_val();
		/* stored as a type letter and the text */
		switch (v[0]) {
		case 's':
			return str_val(kr_xstrdup(v + 1), strlen(v + 1));
		case 'i': {
			struct val r = { V_INT, kr_xstrdup(v + 1),
				strlen(v + 1) };

			return r;
		}
		case 't':
			return bool_val(true);
		case 'f':
			return bool_val(false);
		default:
			return nil_val();
		}
	}
	case N_CONST:
		throw_exc(e, EX_FATAL, n->off,
			"%s is only known to Ruby: install "
			"Ruby (`ruby` on PATH) to render this template as "
			"Kamal "
			"does",
			n->s);
		return nil_val();
	case N_FILE_READ:
	case N_FILE_EXIST:
		return file_read(e, n, n->kind == N_FILE_EXIST);
	case N_CALL:
		return call(e, n);
	case N_OR:
	case N_AND:
		a = eval(e, n->a);
		if (e->exc || truthy(&a) == (n->kind == N_OR))
			return a;
		val_free(&a);
		return eval(e, n->b);
	case N_NOT: {
		bool r;

		a = eval(e, n->a);
		r = !truthy(&a);
		val_free(&a);
		return e->exc ? nil_val() : bool_val(r);
	}
	case N_EQ:
	case N_NE: {
		bool r;

		a = eval(e, n->a);
		if (e->exc)
			return nil_val();
		b = eval(e, n->b);
		r = equal(&a, &b) == (n->kind == N_EQ);
		val_free(&a);
		val_free(&b);
		return e->exc ? nil_val() : bool_val(r);
	}
	case N_TERNARY: {
		bool r;

		a = eval(e, n->a);
		r = truthy(&a);
		val_free(&a);
		if (e->exc)
			return nil_val();
		return eval(e, r ? n->b : n->c);
	}
	case N_DOTENV:
		return dotenv_load(e, n->a, n->flag);
	default:
		return nil_val();
	}
}

static void
put(struct ev *e, const char *s, size_t n)
{
	size_t i;

	kr_buf_put(e->out, s, n);
	for (i = 0; i < n; i++) {
		if (s[i] == '\n') {
			e->dline++;
			e->dcol = 1;
		} else if (((unsigned char)s[i] & 0xC0) != 0x80) {
			e->dcol++;
		}
	}
}

static void
seg(struct ev *e, size_t off, bool literal)
{
	struct kr_erb_map *m = e->map;
	int line, col;

	if (!m)
		return;
	kr_erb_linecol(e->t, off, &line, &col);
	if (m->n == m->alloc) {
		m->alloc = m->alloc ? m->alloc * 2 : 16;
		m->v = kr_xrealloc(m->v, m->alloc * sizeof(*m->v));
	}
	m->v[m->n].out_line = e->dline;
	m->v[m->n].out_col = e->dcol;
	m->v[m->n].src_line = line;
	m->v[m->n].src_col = col;
	m->v[m->n].literal = literal;
	m->n++;
}

static bool
rescues(const char *classes, enum exc x)
{
	static const struct {
		const char *name;
		unsigned mask;
	} map[] = {
		{ "StandardError", 1u << EX_RUNTIME | 1u << EX_KEY |
					   1u << EX_ENOENT | 1u << EX_TYPE },
		{ "Exception", 1u << EX_RUNTIME | 1u << EX_KEY |
				       1u << EX_ENOENT | 1u << EX_TYPE },
		{ "RuntimeError", 1u << EX_RUNTIME },
		{ "KeyError", 1u << EX_KEY },
		{ "SystemCallError", 1u << EX_ENOENT },
		{ "Errno", 1u << EX_ENOENT },
	};
	size_t i;

	if (x == EX_FATAL)
		return false;
	if (!classes || !*classes)
		return x != EX_FATAL; /* bare rescue: StandardError */
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		const char *p = strstr(classes, map[i].name);

		if (p && (p == classes || p[-1] == ',') &&
			p[strlen(map[i].name)] == ',' &&
			(map[i].mask & (1u << x)))
			return true;
	}
	return false;
}

/* Variables hold a type letter and the text (see N_VAR). */
static void
set_var(struct ev *e, const char *name, const struct val *v)
{
	char *s;

	switch (v->t) {
	case V_STR:
		s = kr_xasprintf("s%.*s", (int)v->n, v->s);
		break;
	case V_INT:
		s = kr_xasprintf("i%s", v->s);
		break;
	case V_TRUE:
		s = kr_xstrdup("t");
		break;
	case V_FALSE:
		s = kr_xstrdup("f");
		break;
	default:
		s = kr_xstrdup("n");
		break;
	}
	kr_kvlist_set(&e->vars, name, s);
	free(s);
}

static void
exec_list(struct ev *e, const struct erb_node *n)
{
	for (; n && !e->exc; n = n->next) {
		struct val v, w;

		switch (n->kind) {
		case N_TEXT:
			seg(e, n->off, n->flag);
			put(e, n->s, n->slen);
			break;
		case N_EMIT: {
			char *s;
			size_t len;

			v = eval(e, n->a);
			if (e->exc)
				break;
			s = to_s(&v, &len);
			seg(e, n->off, false);
			put(e, s, len);
			free(s);
			val_free(&v);
			break;
		}
		case N_EXPR:
			v = eval(e, n->a);
			val_free(&v);
			break;
		case N_ASSIGN: {
			const char *cur = kr_kvlist_get(&e->vars, n->s);

			if (n->flag && cur && cur[0] != 'n' && cur[0] != 'f')
				break;
			v = eval(e, n->a);
			if (!e->exc)
				set_var(e, n->s, &v);
			val_free(&v);
			break;
		}
		case N_ENV_SET:
			v = eval(e, n->a);
			if (e->exc || !need_str(e, &v, n->off, "ENV[]=")) {
				val_free(&v);
				break;
			}
			if (n->flag && env_get(e, v.s)) {
				val_free(&v);
				break;
			}
			w = eval(e, n->b);
			if (!e->exc && w.t != V_NIL &&
				need_str(e, &w, n->off, "ENV[]="))
				env_put(e, v.s, w.s);
			else if (!e->exc && w.t == V_NIL)
				env_put(e, v.s, NULL);
			val_free(&v);
			val_free(&w);
			break;
		case N_IF: {
			bool r;

			v = eval(e, n->a);
			r = truthy(&v);
			val_free(&v);
			if (e->exc)
				break;
			if (r)
				exec_list(e, n->b);
			else if (n->c && n->c->kind == N_IF && !n->c->next)
				exec_list(e, n->c);
			else
				exec_list(e, n->c);
			break;
		}
		case N_BEGIN:
			exec_list(e, n->a);
			if (e->exc && n->flag && rescues(n->s, e->exc)) {
				clear_exc(e);
				exec_list(e, n->b);
			}
			break;
		case N_REQUIRE:
			/* the parser lets only dotenv through; Kamal has it */
			if (n->a->a && n->a->a->s &&
				strcmp(n->a->a->s, "dotenv/load") == 0) {
				v = dotenv_load(e, NULL, false);
				val_free(&v);
			}
			break;
		case N_RAISE: {
			char *msg = NULL;
			size_t len;

			if (n->a) {
				v = eval(e, n->a);
				if (e->exc)
					break;
				msg = to_s(&v, &len);
				val_free(&v);
			}
			throw_exc(e, EX_RUNTIME, n->off, "RuntimeError: %s",
				msg ? msg : "unhandled exception");
			free(msg);
			break;
		}
		default:
			break;
		}
	}
}

int
kr_erb_eval(struct erb_tpl *t, struct erb_node *prog, struct kr_buf *out,
	struct kr_erb_map *map, const struct kr_erb_opts *o)
{
	struct ev e = { 0 };
	int rc = 0;

	e.t = t;
	e.o = o;
	e.out = out;
	e.map = map;
	e.dline = e.dcol = 1;
	exec_list(&e, prog);
	if (e.exc) {
		int line, col;
		char *shown;
		size_t end = e.exc_off;

		while (end + 1 < t->len &&
			!(t->text[end] == '%' && t->text[end + 1] == '>'))
			end++;
		while (end > e.exc_off &&
			(t->text[end - 1] == ' ' || t->text[end - 1] == '-' ||
				t->text[end - 1] == '\n' ||
				t->text[end - 1] == '\t' ||
				t->text[end - 1] == '\r'))
			end--;
		kr_erb_linecol(t, e.exc_off, &line, &col);
		shown = kr_erb_shown(t, e.exc_off, end);
		kr_diags_add(t->diags, t->file, line, col, "ERB '%s': %s",
			shown, e.exc_msg);
		free(shown);
		rc = KR_ECONFIG;
	}
	clear_exc(&e);
	kr_kvlist_release(&e.vars);
	kr_kvlist_release(&e.env_set);
	kr_strvec_release(&e.env_unset);
	return rc;
}
