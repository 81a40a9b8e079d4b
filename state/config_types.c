/*
 * The typed getters of the deploy.yml walk: each reads one node as a string,
 * integer, boolean, list or map, reports a wrong type at the node's position
 * and returns "unset" (NULL, -1, KR_TRI_UNSET), so the walk goes on. Also
 * the diagnostics helper (kr_cfg_err) and the key-path helper (kr_cfg_sub).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "state/config.h"
#include "state/config_int.h"

static void
add_at(struct kr_diags *d, struct kr_cfg_ctx *x, const struct kr_yaml_node *n,
	const char *prefix, const char *fmt, va_list ap)
{
	struct kr_buf b = KR_BUF_INIT;

	kr_buf_vprintf(&b, fmt, ap);
	kr_diags_add(d, n ? n->file : x->c->file, n ? n->line : 0,
		n ? n->col : 0, "%s%s", prefix, b.ptr);
	kr_buf_release(&b);
}

void
kr_cfg_err(struct kr_cfg_ctx *x, const struct kr_yaml_node *n, const char *fmt,
	...)
{
	va_list ap;

	va_start(ap, fmt);
	add_at(x->d, x, n, "", fmt, ap);
	va_end(ap);
}

/* Something Kamal accepts and kreconcile passes on as Kamal does. */
void
kr_cfg_warn(struct kr_cfg_ctx *x, const struct kr_yaml_node *n, const char *fmt,
	...)
{
	va_list ap;

	if (!x->warnings)
		return;
	va_start(ap, fmt);
	add_at(x->warnings, x, n, "warning: ", fmt, ap);
	va_end(ap);
}

bool
kr_cfg_name_ok(const char *name)
{
	const char *p;

	if (!name || !*name || *name == '-')
		return false;
	for (p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '_' ||
			    *p == '.' || *p == '-'))
			return false;
	return true;
}

char *
kr_cfg_escaped(const char *name)
{
	struct kr_buf b = KR_BUF_INIT;
	const unsigned char *p;

	for (p = (const unsigned char *)name; *p; p++) {
		if (*p == '\n')
			kr_buf_puts(&b, "\\n");
		else if (*p == '\t')
			kr_buf_puts(&b, "\\t");
		else if (*p < 0x20 || *p >= 0x7f)
			kr_buf_printf(&b, "\\x%02x", *p);
		else
			kr_buf_putc(&b, (char)*p);
	}
	return kr_buf_detach(&b, NULL);
}

bool
kr_cfg_check_name(struct kr_cfg_ctx *x, const struct kr_yaml_node *n,
	const char *what, const char *name)
{
	char *e;

	if (kr_cfg_name_ok(name))
		return true;
	e = kr_cfg_escaped(name);
	kr_cfg_err(x, n,
		"invalid %s '%s': use only letters, digits, '_', '.' "
		"and '-', and no '-' first",
		what, e);
	free(e);
	return false;
}

void
kr_cfg_set_pos(struct kr_config_pos *p, const struct kr_yaml_node *n)
{
	p->file = kr_xstrdup(n->file);
	p->line = n->line;
	p->col = n->col;
}

char *
kr_cfg_sub(const char *path, const char *key)
{
	return *path ? kr_xasprintf("%s/%s", path, key) : kr_xstrdup(key);
}

bool
kr_cfg_stringish(const struct kr_yaml_node *n)
{
	enum kr_yaml_kind k = kr_yaml_kind(n);

	return k == KR_YK_STR || k == KR_YK_INT || k == KR_YK_FLOAT ||
	       k == KR_YK_BOOL;
}

void
kr_cfg_type_error(struct kr_cfg_ctx *x, const struct kr_yaml_node *n,
	const char *path, const char *expected)
{
	kr_cfg_err(x, n, "'%s' should be %s, not %s", path, expected,
		kr_yaml_kind_name(kr_yaml_kind(n)));
}

char *
kr_cfg_str_node(
	struct kr_cfg_ctx *x, const struct kr_yaml_node *n, const char *path)
{
	if (!kr_cfg_stringish(n)) {
		kr_cfg_type_error(x, n, path, "a string");
		return NULL;
	}
	return kr_yaml_to_string(n);
}

char *
kr_cfg_get_str(struct kr_cfg_ctx *x, const struct kr_yaml_node *map,
	const char *key, const char *path)
{
	const struct kr_yaml_node *n = kr_yaml_get(map, key);
	char *p, *s;

	if (!n)
		return NULL;
	p = kr_cfg_sub(path, key);
	s = kr_cfg_str_node(x, n, p);
	free(p);
	return s;
}

long long
kr_cfg_get_int(struct kr_cfg_ctx *x, const struct kr_yaml_node *map,
	const char *key, const char *path)
{
	const struct kr_yaml_node *n = kr_yaml_get(map, key);
	long long v;
	char *p;

	if (!n)
		return -1;
	if (kr_yaml_to_int(n, &v) && v >= 0)
		return v;
	p = kr_cfg_sub(path, key);
	if (kr_yaml_kind(n) == KR_YK_INT)
		kr_cfg_err(x, n,
			"'%s' should be a non-negative integer that fits", p);
	else
		kr_cfg_type_error(x, n, p, "an integer");
	free(p);
	return -1;
}

enum kr_tri
kr_cfg_get_bool(struct kr_cfg_ctx *x, const struct kr_yaml_node *map,
	const char *key, const char *path)
{
	const struct kr_yaml_node *n = kr_yaml_get(map, key);
	bool b;
	char *p;

	if (!n)
		return KR_TRI_UNSET;
	if (kr_yaml_to_bool(n, &b))
		return b ? KR_TRI_TRUE : KR_TRI_FALSE;
	p = kr_cfg_sub(path, key);
	kr_cfg_type_error(x, n, p, "a boolean");
	free(p);
	return KR_TRI_UNSET;
}

/* A list of strings; returns the node when it was a list. */
const struct kr_yaml_node *
kr_cfg_str_list_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *n,
	const char *path, struct kr_strvec *out)
{
	size_t i;

	if (n->type != KR_YAML_SEQ) {
		kr_cfg_type_error(x, n, path, "a list");
		return NULL;
	}
	for (i = 0; i < n->n; i++) {
		char *p = kr_xasprintf("%s/%zu", path, i);
		char *s = kr_cfg_str_node(x, n->v[i], p);

		if (s)
			kr_strvec_push_owned(out, s);
		free(p);
	}
	return n;
}

const struct kr_yaml_node *
kr_cfg_get_str_list(struct kr_cfg_ctx *x, const struct kr_yaml_node *map,
	const char *key, const char *path, struct kr_strvec *out)
{
	const struct kr_yaml_node *n = kr_yaml_get(map, key);
	const struct kr_yaml_node *r;
	char *p;

	if (!n)
		return NULL;
	p = kr_cfg_sub(path, key);
	r = kr_cfg_str_list_node(x, n, p, out);
	free(p);
	return r;
}

/* A map whose values are strings (labels, env clear, build args). */
void
kr_cfg_str_map_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *n,
	const char *path, struct kr_kvlist *out)
{
	size_t i;

	if (n->type != KR_YAML_MAP) {
		kr_cfg_type_error(x, n, path, "a map");
		return;
	}
	for (i = 0; i < n->n; i++) {
		const struct kr_yaml_node *k = n->v[2 * i],
					  *v = n->v[2 * i + 1];
		char *ks = kr_yaml_to_string(k), *p, *vs;

		if (!ks) {
			kr_cfg_err(x, k, "keys of '%s' must be strings", path);
			continue;
		}
		p = kr_cfg_sub(path, ks);
		vs = kr_cfg_str_node(x, v, p);
		if (vs)
			kr_kvlist_set(out, ks, vs);
		free(vs);
		free(p);
		free(ks);
	}
}

void
kr_cfg_get_str_map(struct kr_cfg_ctx *x, const struct kr_yaml_node *map,
	const char *key, const char *path, struct kr_kvlist *out)
{
	const struct kr_yaml_node *n = kr_yaml_get(map, key);
	char *p;

	if (!n)
		return;
	p = kr_cfg_sub(path, key);
	kr_cfg_str_map_node(x, n, p, out);
	free(p);
}

/* A map value, or NULL (reporting when present but of another type). */
const struct kr_yaml_node *
kr_cfg_get_map(struct kr_cfg_ctx *x, const struct kr_yaml_node *map,
	const char *key, const char *path)
{
	const struct kr_yaml_node *n = kr_yaml_get(map, key);
	char *p;

	if (!n)
		return NULL;
	if (n->type == KR_YAML_MAP)
		return n;
	p = kr_cfg_sub(path, key);
	kr_cfg_type_error(x, n, p, "a map");
	free(p);
	return NULL;
}
