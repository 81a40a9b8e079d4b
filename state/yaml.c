/*
 * The YAML node tree (see yaml.h) from libyaml's events: nodes with
 * positions, anchors expanded (with a node budget), merge keys applied as
 * Psych applies them, libyaml's errors turned into diagnostics. The node
 * operations live in yaml_tree.c, the typing of scalars in yaml_scalar.c.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <yaml.h>

#include "common/buf.h"
#include "common/error.h"
#include "state/yaml.h"
#include "state/yaml_int.h"

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
	size_t nodes; /* created so far, against MAX_NODES */
	bool failed;
	const char *text; /* the input, for reader errors' positions */
	size_t len;
};

static struct kr_yaml_node *parse_node(
	struct builder *b, yaml_event_t *ev, int depth);

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

static void
add_anchor(struct builder *b, const unsigned char *name,
	const struct kr_yaml_node *n)
{
	b->anchors = kr_xrealloc(
		b->anchors, (b->nanchors + 1) * sizeof(*b->anchors));
	b->anchors[b->nanchors].name = kr_xstrdup((const char *)name);
	b->anchors[b->nanchors].node = kr_yaml_copy(n);
	b->nanchors++;
	b->nodes += kr_yaml_count_nodes(n);
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

		yaml_mark_t mark = b->parser.problem_mark;

		kr_buf_printf(&msg, "invalid yaml: %s", problem);
		if (b->parser.context)
			kr_buf_printf(&msg, " (%s)", b->parser.context);
		/* a reader error (bad UTF-8) has only a byte offset */
		if (b->parser.error == YAML_READER_ERROR &&
			b->parser.problem_offset < b->len) {
			size_t i, off = b->parser.problem_offset;

			mark.line = 0;
			mark.column = 0;
			for (i = 0; i < off; i++) {
				if (b->text[i] == '\n') {
					mark.line++;
					mark.column = 0;
				} else if (((unsigned char)b->text[i] & 0xc0) !=
					   0x80) {
					mark.column++;
				}
			}
			kr_buf_printf(&msg,
				": byte 0x%02x (the file must be "
				"UTF-8; Latin-1 or another encoding?)",
				(unsigned char)b->text[off]);
		}
		fail_at(b, &mark, msg.ptr);
		kr_buf_release(&msg);
		return false;
	}
	return true;
}

static void
apply_merge(struct builder *b, struct kr_yaml_node *map,
	struct kr_yaml_node *key, struct kr_yaml_node *value)
{
	size_t i;

	if (value->type == KR_YAML_MAP) {
		kr_yaml_map_merge_copy(map, value);
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
			h = kr_yaml_node_new(
				KR_YAML_MAP, key->file, key->line, key->col);
			for (i = value->n; i > 0; i--)
				kr_yaml_map_merge_copy(h, value->v[i - 1]);
			kr_yaml_map_merge_copy(map, h);
			kr_yaml_free(h);
			kr_yaml_free(key);
			kr_yaml_free(value);
			return;
		}
	}
	/* Anything else stays an ordinary "<<" key, as in Psych. */
	kr_yaml_map_set(map, key, value);
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
		fail_at(b, &ev->start_mark,
			"invalid yaml: nesting is too deep");
		return NULL;
	}
	if (++b->nodes > MAX_NODES) {
		fail_at(b, &ev->start_mark,
			b->nanchors ? "invalid yaml: more than 200000 nodes "
				      "once aliases "
				      "are expanded" :
				      "invalid yaml: more than 200000 nodes "
				      "(far more than "
				      "any deploy.yml holds)");
		return NULL;
	}

	switch (ev->type) {
	case YAML_SCALAR_EVENT: {
		const char *tag = (const char *)ev->data.scalar.tag;
		bool str_tag = tag && strcmp(tag, YAML_STR_TAG) == 0;

		n = kr_yaml_node_new(KR_YAML_SCALAR, b->file, line, col);
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
		n = kr_yaml_node_new(KR_YAML_SEQ, b->file, line, col);
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
			kr_yaml_push(n, c);
		}
		break;
	case YAML_MAPPING_START_EVENT:
		n = kr_yaml_node_new(KR_YAML_MAP, b->file, line, col);
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
				child.data.scalar.style ==
					YAML_PLAIN_SCALAR_STYLE &&
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
				kr_yaml_map_set(n, k, v);
		}
		break;
	case YAML_ALIAS_EVENT: {
		const struct kr_yaml_node *a =
			find_anchor(b, (const char *)ev->data.alias.anchor);

		if (!a) {
			char *m = kr_xasprintf(
				"invalid yaml: unknown alias '*%s'",
				(const char *)ev->data.alias.anchor);

			fail_at(b, &ev->start_mark, m);
			free(m);
			return NULL;
		}
		b->nodes += kr_yaml_count_nodes(a);
		if (b->nodes > MAX_NODES) {
			fail_at(b, &ev->start_mark,
				"invalid yaml: more than 200000 nodes once "
				"aliases are expanded");
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
read_handler(void *data, unsigned char *buffer, size_t size, size_t *size_read)
{
	const char **cur = data; /* cur[0] = position, cur[1] = end */
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
	b.text = text;
	b.len = len;
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
				done = true; /* Psych's load reads the first
						document */
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
		root = kr_yaml_node_new(KR_YAML_NULL, file, 1, 1);
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
