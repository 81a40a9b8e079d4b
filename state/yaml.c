/*
 * The YAML node tree (see yaml.h): libyaml's events turned into nodes with
 * positions, anchors expanded, merge keys applied as Psych applies them.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <yaml.h>

#include "common/buf.h"
#include "common/error.h"
#include "state/yaml.h"

#define MAX_DEPTH 100
#define MAX_NODES 200000

struct anchor {
	char *name;
	struct kr_yaml_node *node;
};

struct builder {
	yaml_parser_t parser;
	const char *file;
	struct kr_diags *diags;
	kr_yaml_posmap_fn posmap;
	void *posmap_ctx;
	struct anchor *anchors;
	size_t nanchors;
	size_t nodes;		/* created so far, against MAX_NODES */
	bool failed;
};

static void
fix_pos(struct builder *b, int *line, int *col)
{
	if (b->posmap)
		b->posmap(b->posmap_ctx, line, col);
}

static void
fail_at(struct builder *b, const yaml_mark_t *m, const char *msg)
{
	int line = (int)m->line + 1, col = (int)m->column + 1;

	if (b->failed)
		return;
	b->failed = true;
	fix_pos(b, &line, &col);
	kr_diags_add(b->diags, b->file, line, col, "%s", msg);
}

static struct kr_yaml_node *
node_new(enum kr_yaml_type type, const char *file, int line, int col)
{
	struct kr_yaml_node *n = kr_xcalloc(1, sizeof(*n));

	n->type = type;
	n->file = kr_xstrdup(file ? file : "");
	n->line = line;
	n->col = col;
	return n;
}

static void
push(struct kr_yaml_node *n, struct kr_yaml_node *child)
{
	if (n->n + 2 > n->alloc) {
		n->alloc = n->alloc ? n->alloc * 2 : 8;
		n->v = kr_xrealloc(n->v, n->alloc * sizeof(*n->v));
	}
	n->v[n->n++] = child;
}

void
kr_yaml_free(struct kr_yaml_node *n)
{
	size_t i, count;

	if (!n)
		return;
	count = n->type == KR_YAML_MAP ? n->n * 2 : n->n;
	for (i = 0; i < count; i++)
		kr_yaml_free(n->v[i]);
	free(n->v);
	free(n->value);
	free(n->file);
	free(n);
}

static size_t
count_nodes(const struct kr_yaml_node *n)
{
	size_t i, count, total = 1;

	count = n->type == KR_YAML_MAP ? n->n * 2 : n->n;
	for (i = 0; i < count; i++)
		total += count_nodes(n->v[i]);
	return total;
}

struct kr_yaml_node *
kr_yaml_copy(const struct kr_yaml_node *n)
{
	struct kr_yaml_node *c;
	size_t i, count;

	if (!n)
		return NULL;
	c = node_new(n->type, n->file, n->line, n->col);
	c->value = n->value ? kr_xstrdup(n->value) : NULL;
	c->plain = n->plain;
	count = n->type == KR_YAML_MAP ? n->n * 2 : n->n;
	if (count) {
		c->alloc = count;
		c->v = kr_xcalloc(count, sizeof(*c->v));
		for (i = 0; i < count; i++)
			c->v[i] = kr_yaml_copy(n->v[i]);
	}
	c->n = n->n;
	return c;
}

/* The string a key compares as; NULL for collection keys. */
static const char *
key_text(const struct kr_yaml_node *k)
{
	if (k->type == KR_YAML_SCALAR || k->type == KR_YAML_NULL)
		return k->value;
	return NULL;
}

static ssize_t
map_find(const struct kr_yaml_node *map, const char *key)
{
	size_t i;

	for (i = 0; i < map->n; i++) {
		const char *t = key_text(map->v[2 * i]);

		if (t && strcmp(t, key) == 0)
			return (ssize_t)i;
	}
	return -1;
}

/*
 * Ruby's Hash#[]=: an existing key keeps its place (and its key node) and
 * takes the new value; a new key is appended. Takes ownership of both.
 */
static void
map_set(struct kr_yaml_node *map, struct kr_yaml_node *key,
	struct kr_yaml_node *value)
{
	const char *t = key_text(key);
	ssize_t i = t ? map_find(map, t) : -1;

	if (i >= 0) {
		kr_yaml_free(map->v[2 * i + 1]);
		map->v[2 * i + 1] = value;
		kr_yaml_free(key);
		return;
	}
	if (2 * map->n + 2 > map->alloc) {
		map->alloc = map->alloc ? map->alloc * 2 : 8;
		while (map->alloc < 2 * map->n + 2)
			map->alloc *= 2;
		map->v = kr_xrealloc(map->v, map->alloc * sizeof(*map->v));
	}
	map->v[2 * map->n] = key;
	map->v[2 * map->n + 1] = value;
	map->n++;
}

/* hash.merge!(src): copies of src's pairs set into map. */
static void
map_merge_copy(struct kr_yaml_node *map, const struct kr_yaml_node *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		map_set(map, kr_yaml_copy(src->v[2 * i]),
			kr_yaml_copy(src->v[2 * i + 1]));
}

static void
add_anchor(struct builder *b, const unsigned char *name,
	const struct kr_yaml_node *n)
{
	b->anchors = kr_xrealloc(b->anchors,
		(b->nanchors + 1) * sizeof(*b->anchors));
	b->anchors[b->nanchors].name = kr_xstrdup((const char *)name);
	b->anchors[b->nanchors].node = kr_yaml_copy(n);
	b->nanchors++;
	b->nodes += count_nodes(n);
}

static const struct kr_yaml_node *
find_anchor(struct builder *b, const char *name)
{
	size_t i;

	for (i = b->nanchors; i > 0; i--)
		if (strcmp(b->anchors[i - 1].name, name) == 0)
			return b->anchors[i - 1].node;
	return NULL;
}

static bool
is_null_text(const char *s)
{
	return !*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
		strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static bool
next_event(struct builder *b, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&b->parser, ev)) {
		const char *problem = b->parser.problem ? b->parser.problem :
			"unreadable document";
		struct kr_buf msg = KR_BUF_INIT;

		kr_buf_printf(&msg, "invalid yaml: %s", problem);
		if (b->parser.context)
			kr_buf_printf(&msg, " (%s)", b->parser.context);
		fail_at(b, &b->parser.problem_mark, msg.ptr);
		kr_buf_release(&msg);
		return false;
	}
	return true;
}

static struct kr_yaml_node *parse_node(struct builder *b, yaml_event_t *ev,
	int depth);

static void
apply_merge(struct builder *b, struct kr_yaml_node *map,
	struct kr_yaml_node *key, struct kr_yaml_node *value)
{
	size_t i;

	if (value->type == KR_YAML_MAP) {
		map_merge_copy(map, value);
		kr_yaml_free(key);
		kr_yaml_free(value);
		return;
	}
	if (value->type == KR_YAML_SEQ) {
		struct kr_yaml_node *h;

		for (i = 0; i < value->n; i++)
			if (value->v[i]->type != KR_YAML_MAP)
				break;
		if (i == value->n) {
			/* Psych: h = {}; list.reverse_each { h.merge!(m) } */
			h = node_new(KR_YAML_MAP, key->file, key->line, key->col);
			for (i = value->n; i > 0; i--)
				map_merge_copy(h, value->v[i - 1]);
			map_merge_copy(map, h);
			kr_yaml_free(h);
			kr_yaml_free(key);
			kr_yaml_free(value);
			return;
		}
	}
	/* Anything else stays an ordinary "<<" key, as in Psych. */
	map_set(map, key, value);
}

static struct kr_yaml_node *
parse_node(struct builder *b, yaml_event_t *ev, int depth)
{
	struct kr_yaml_node *n = NULL;
	int line = (int)ev->start_mark.line + 1;
	int col = (int)ev->start_mark.column + 1;
	const unsigned char *anchor = NULL;
	yaml_event_t child;

	fix_pos(b, &line, &col);
	if (depth > MAX_DEPTH) {
		fail_at(b, &ev->start_mark, "invalid yaml: nesting is too deep");
		return NULL;
	}
	if (++b->nodes > MAX_NODES) {
		fail_at(b, &ev->start_mark,
			"invalid yaml: too many nodes (alias expansion?)");
		return NULL;
	}

	switch (ev->type) {
	case YAML_SCALAR_EVENT: {
		const char *tag = (const char *)ev->data.scalar.tag;
		bool str_tag = tag && strcmp(tag, YAML_STR_TAG) == 0;

		n = node_new(KR_YAML_SCALAR, b->file, line, col);
		n->value = kr_xstrndup((const char *)ev->data.scalar.value,
			ev->data.scalar.length);
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
			!str_tag;
		if ((n->plain && is_null_text(n->value)) ||
		    (tag && strcmp(tag, YAML_NULL_TAG) == 0))
			n->type = KR_YAML_NULL;
		anchor = ev->data.scalar.anchor;
		break;
	}
	case YAML_SEQUENCE_START_EVENT:
		n = node_new(KR_YAML_SEQ, b->file, line, col);
		anchor = ev->data.sequence_start.anchor;
		for (;;) {
			struct kr_yaml_node *c;

			if (!next_event(b, &child))
				goto fail;
			if (child.type == YAML_SEQUENCE_END_EVENT) {
				yaml_event_delete(&child);
				break;
			}
			c = parse_node(b, &child, depth + 1);
			yaml_event_delete(&child);
			if (!c)
				goto fail;
			push(n, c);
		}
		break;
	case YAML_MAPPING_START_EVENT:
		n = node_new(KR_YAML_MAP, b->file, line, col);
		anchor = ev->data.mapping_start.anchor;
		for (;;) {
			struct kr_yaml_node *k, *v;
			bool merge;

			if (!next_event(b, &child))
				goto fail;
			if (child.type == YAML_MAPPING_END_EVENT) {
				yaml_event_delete(&child);
				break;
			}
			merge = child.type == YAML_SCALAR_EVENT &&
				child.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
				child.data.scalar.length == 2 &&
				memcmp(child.data.scalar.value, "<<", 2) == 0;
			k = parse_node(b, &child, depth + 1);
			yaml_event_delete(&child);
			if (!k)
				goto fail;
			if (!next_event(b, &child)) {
				kr_yaml_free(k);
				goto fail;
			}
			v = parse_node(b, &child, depth + 1);
			yaml_event_delete(&child);
			if (!v) {
				kr_yaml_free(k);
				goto fail;
			}
			if (merge)
				apply_merge(b, n, k, v);
			else
				map_set(n, k, v);
		}
		break;
	case YAML_ALIAS_EVENT: {
		const struct kr_yaml_node *a = find_anchor(b,
			(const char *)ev->data.alias.anchor);

		if (!a) {
			char *m = kr_xasprintf("invalid yaml: unknown alias '*%s'",
				(const char *)ev->data.alias.anchor);

			fail_at(b, &ev->start_mark, m);
			free(m);
			return NULL;
		}
		b->nodes += count_nodes(a);
		if (b->nodes > MAX_NODES) {
			fail_at(b, &ev->start_mark,
				"invalid yaml: too many nodes (alias expansion?)");
			return NULL;
		}
		return kr_yaml_copy(a);
	}
	default:
		fail_at(b, &ev->start_mark, "invalid yaml: unexpected event");
		return NULL;
	}
	if (anchor)
		add_anchor(b, anchor, n);
	return n;
fail:
	kr_yaml_free(n);
	return NULL;
}

static int
read_handler(void *data, unsigned char *buffer, size_t size,
	size_t *size_read)
{
	const char **cur = data;	/* cur[0] = position, cur[1] = end */
	size_t left = (size_t)(cur[1] - cur[0]);

	if (size > left)
		size = left;
	memcpy(buffer, cur[0], size);
	cur[0] += size;
	*size_read = size;
	return 1;
}

int
kr_yaml_parse(struct kr_yaml_node **out, struct kr_diags *diags,
	const char *file, const char *text, size_t len,
	kr_yaml_posmap_fn posmap, void *posmap_ctx)
{
	struct builder b;
	struct kr_yaml_node *root = NULL;
	const char *cur[2] = { text, text + len };
	yaml_event_t ev;
	size_t i;
	int rc = KR_ECONFIG;
	bool done = false;

	memset(&b, 0, sizeof(b));
	b.file = file;
	b.diags = diags;
	b.posmap = posmap;
	b.posmap_ctx = posmap_ctx;
	if (!yaml_parser_initialize(&b.parser)) {
		kr_error_set(KR_ENOMEM, "cannot initialise the yaml parser");
		return KR_ENOMEM;
	}
	/* A custom reader: libyaml's string input needs no NUL, ours too. */
	yaml_parser_set_input(&b.parser, read_handler, cur);

	while (!done) {
		if (!next_event(&b, &ev))
			goto out;
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (root)
				done = true;	/* Psych's load reads the first document */
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			if (root) {
				/* cannot happen: a document has one root */
				yaml_event_delete(&ev);
				goto out;
			}
			root = parse_node(&b, &ev, 0);
			if (!root) {
				yaml_event_delete(&ev);
				goto out;
			}
			break;
		}
		yaml_event_delete(&ev);
	}
	if (!root) {
		root = node_new(KR_YAML_NULL, file, 1, 1);
		root->value = kr_xstrdup("");
	}
	*out = root;
	root = NULL;
	rc = 0;
out:
	if (rc && !b.failed) {
		kr_diags_add(diags, file, 0, 0, "invalid yaml");
	}
	kr_yaml_free(root);
	for (i = 0; i < b.nanchors; i++) {
		free(b.anchors[i].name);
		kr_yaml_free(b.anchors[i].node);
	}
	free(b.anchors);
	yaml_parser_delete(&b.parser);
	if (rc)
		kr_error_set(rc, "'%s' is not valid yaml", file);
	return rc;
}

void
kr_yaml_deep_merge(struct kr_yaml_node **base, struct kr_yaml_node *over)
{
	size_t i;
	struct kr_yaml_node *b = *base;

	if (!over)
		return;
	if (!b || b->type != KR_YAML_MAP || over->type != KR_YAML_MAP) {
		kr_yaml_free(b);
		*base = over;
		return;
	}
	for (i = 0; i < over->n; i++) {
		struct kr_yaml_node *k = over->v[2 * i], *v = over->v[2 * i + 1];
		const char *t = key_text(k);
		ssize_t j = t ? map_find(b, t) : -1;

		if (j >= 0) {
			kr_yaml_deep_merge(&b->v[2 * j + 1], v);
			kr_yaml_free(k);
		} else {
			map_set(b, k, v);
		}
	}
	free(over->v);
	free(over->value);
	free(over->file);
	free(over);
}

struct kr_yaml_node *
kr_yaml_get(const struct kr_yaml_node *map, const char *key)
{
	ssize_t i;

	if (!map || map->type != KR_YAML_MAP)
		return NULL;
	i = map_find(map, key);
	return i < 0 ? NULL : map->v[2 * i + 1];
}

struct kr_yaml_node *
kr_yaml_get_key(const struct kr_yaml_node *map, const char *key)
{
	ssize_t i;

	if (!map || map->type != KR_YAML_MAP)
		return NULL;
	i = map_find(map, key);
	return i < 0 ? NULL : map->v[2 * i];
}

/* Psych's boolean words, checked case-insensitively. */
static int
bool_value(const char *s)
{
	static const char *const yes[] = { "yes", "true", "on" };
	static const char *const no[] = { "no", "false", "off" };
	size_t i;

	for (i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

static bool
all_of(const char *s, const char *set)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr(set, *s))
			return false;
	return true;
}

/*
 * Psych's integer forms: [-+]? then 0b..., 0x..., 0[0-7_,]+ (octal),
 * decimal with _ or , separators, or sexagesimal 1:30. Returns the value
 * through out when it fits a long long.
 */
static bool
parse_int(const char *s, long long *out, bool *fits)
{
	const char *p = s;
	bool neg = false;
	int base = 10;
	unsigned long long v = 0;
	const char *digits;

	*fits = true;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (p[0] == '0' && p[1] == 'b') {
		base = 2, digits = p + 2;
		if (!all_of(digits, "01_,"))
			return false;
	} else if (p[0] == '0' && p[1] == 'x') {
		base = 16, digits = p + 2;
		if (!all_of(digits, "0123456789abcdefABCDEF_,"))
			return false;
	} else if (p[0] == '0' && p[1]) {
		if (strchr(p, ':'))
			goto sexagesimal;
		base = 8, digits = p + 1;
		if (!all_of(digits, "01234567_,"))
			return false;
	} else if (p[0] == '0' && !p[1]) {
		*out = 0;
		return true;
	} else if (p[0] >= '1' && p[0] <= '9') {
		const char *q;

		if (strchr(p, ':'))
			goto sexagesimal;
		/* [1-9]([0-9]|,[0-9]|_[0-9])* */
		for (q = p + 1; *q; q++) {
			if (isdigit((unsigned char)*q))
				continue;
			if ((*q == '_' || *q == ',') && isdigit((unsigned char)q[1])) {
				q++;
				continue;
			}
			return false;
		}
		digits = p;
	} else {
		return false;
	}
	for (; *digits; digits++) {
		int d;

		if (*digits == '_' || *digits == ',')
			continue;
		d = isdigit((unsigned char)*digits) ? *digits - '0' :
			tolower((unsigned char)*digits) - 'a' + 10;
		if (v > (ULLONG_MAX - (unsigned)d) / (unsigned)base) {
			*fits = false;
			return true;
		}
		v = v * (unsigned)base + (unsigned)d;
	}
	goto done;
sexagesimal: {
	/* [0-9][0-9_]*(:[0-5]?[0-9]){1,2} */
	const char *q = p;
	int parts = 0;

	if (!isdigit((unsigned char)*q))
		return false;
	for (; isdigit((unsigned char)*q) || *q == '_'; q++) {
		if (*q == '_')
			continue;
		if (v > ULLONG_MAX / 10 - 10) {
			*fits = false;
			return true;
		}
		v = v * 10 + (unsigned)(*q - '0');
	}
	while (*q == ':') {
		int d;

		q++;
		if (!isdigit((unsigned char)*q))
			return false;
		if (isdigit((unsigned char)q[1])) {
			if (*q > '5')
				return false;
			d = (q[0] - '0') * 10 + (q[1] - '0');
			q += 2;
		} else {
			d = *q++ - '0';
		}
		if (v > ULLONG_MAX / 60 - 60) {
			*fits = false;
			return true;
		}
		v = v * 60 + (unsigned)d;
		parts++;
	}
	if (*q || parts < 1 || parts > 2)
		return false;
}
done:
	if (v > (unsigned long long)LLONG_MAX + (neg ? 1u : 0u)) {
		*fits = false;
		return true;
	}
	if (neg)
		*out = v == (unsigned long long)LLONG_MAX + 1u ? LLONG_MIN :
			-(long long)v;
	else
		*out = (long long)v;
	return true;
}

/* [-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?, .inf, .nan */
static bool
is_float(const char *s)
{
	const char *p = s;

	if (strcasecmp(s, ".inf") == 0 || strcasecmp(s, "+.inf") == 0 ||
	    strcasecmp(s, "-.inf") == 0 || strcasecmp(s, ".nan") == 0)
		return true;
	if (*p == '-' || *p == '+')
		p++;
	if (isdigit((unsigned char)*p)) {
		while (isdigit((unsigned char)*p) || *p == '_' || *p == ',')
			p++;
	}
	if (*p != '.')
		return false;
	p++;
	if (p - s == 1 || (p - s == 2 && (s[0] == '-' || s[0] == '+')))
		if (!isdigit((unsigned char)*p))
			return false;	/* "." and "-." are strings */
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p != '-' && *p != '+')
			return false;
		p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

enum kr_yaml_kind
kr_yaml_kind(const struct kr_yaml_node *n)
{
	long long v;
	bool fits;

	if (!n)
		return KR_YK_NULL;
	switch (n->type) {
	case KR_YAML_NULL:
		return KR_YK_NULL;
	case KR_YAML_SEQ:
		return KR_YK_SEQ;
	case KR_YAML_MAP:
		return KR_YK_MAP;
	case KR_YAML_SCALAR:
		break;
	}
	if (!n->plain)
		return KR_YK_STR;
	if (strlen(n->value) <= 5 && bool_value(n->value) >= 0)
		return KR_YK_BOOL;
	if (parse_int(n->value, &v, &fits))
		return KR_YK_INT;
	if (is_float(n->value))
		return KR_YK_FLOAT;
	return KR_YK_STR;
}

const char *
kr_yaml_kind_name(enum kr_yaml_kind k)
{
	switch (k) {
	case KR_YK_NULL:
		return "null";
	case KR_YK_STR:
		return "a string";
	case KR_YK_INT:
		return "an integer";
	case KR_YK_FLOAT:
		return "a number";
	case KR_YK_BOOL:
		return "a boolean";
	case KR_YK_SEQ:
		return "a list";
	case KR_YK_MAP:
		return "a map";
	}
	return "a value";
}

bool
kr_yaml_to_int(const struct kr_yaml_node *n, long long *out)
{
	bool fits;
	long long v;

	if (kr_yaml_kind(n) != KR_YK_INT)
		return false;
	if (!parse_int(n->value, &v, &fits) || !fits)
		return false;
	*out = v;
	return true;
}

bool
kr_yaml_to_bool(const struct kr_yaml_node *n, bool *out)
{
	if (kr_yaml_kind(n) != KR_YK_BOOL)
		return false;
	*out = bool_value(n->value) == 1;
	return true;
}

char *
kr_yaml_to_string(const struct kr_yaml_node *n)
{
	long long v;
	bool b;

	if (!n)
		return NULL;
	switch (kr_yaml_kind(n)) {
	case KR_YK_NULL:
		return kr_xstrdup("");
	case KR_YK_SEQ:
	case KR_YK_MAP:
		return NULL;
	case KR_YK_BOOL:
		kr_yaml_to_bool(n, &b);
		return kr_xstrdup(b ? "true" : "false");
	case KR_YK_INT:
		if (kr_yaml_to_int(n, &v))
			return kr_xasprintf("%lld", v);
		return kr_xstrdup(n->value);
	case KR_YK_FLOAT:
		return kr_xstrdup(n->value);
	case KR_YK_STR:
		if (n->plain && n->value[0] == ':' && n->value[1])
			return kr_xstrdup(n->value + 1);	/* a Ruby symbol */
		return kr_xstrdup(n->value);
	}
	return NULL;
}
