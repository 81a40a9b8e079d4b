/*
 * A YAML document as a tree of nodes with their source positions, built
 * from libyaml's event parser. Anchors and aliases are expanded (an alias is
 * a deep copy of its anchor, with a node budget against "billion laughs"),
 * `<<` merge keys are applied, duplicate keys keep the last value, as Ruby's
 * Psych does. Scalars keep their text; kr_yaml_kind() classifies a plain
 * scalar with YAML 1.1's rules (Psych: yes/no/on/off are booleans, 1_000 is
 * an integer). Every node knows its file, line and column (1-based).
 */
#ifndef KR_STATE_YAML_H
#define KR_STATE_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "common/diag.h"

enum kr_yaml_type {
	KR_YAML_NULL,
	KR_YAML_SCALAR,
	KR_YAML_SEQ,
	KR_YAML_MAP,
};

/* What a scalar means once YAML 1.1's implicit typing is applied. */
enum kr_yaml_kind {
	KR_YK_NULL,
	KR_YK_STR,
	KR_YK_INT,
	KR_YK_FLOAT,
	KR_YK_BOOL,
	KR_YK_SEQ,
	KR_YK_MAP,
};

struct kr_yaml_node {
	enum kr_yaml_type type;
	char *file;
	int line;		/* 1-based */
	int col;		/* 1-based, in characters */
	char *value;		/* scalar text ("" for null); NULL for collections */
	bool plain;		/* unquoted, untagged scalar: implicit typing applies */
	/* SEQ: n items in v[0..n). MAP: n pairs, key v[2i], value v[2i+1]. */
	struct kr_yaml_node **v;
	size_t n;
	size_t alloc;
};

/* Translates a position in the parsed text back to the source (ERB). */
typedef void (*kr_yaml_posmap_fn)(void *ctx, int *line, int *col);

/*
 * Parse the first document of text. `file` names it in positions and
 * diagnostics. On a syntax error, adds "FILE:LINE:COL: message" to diags
 * and returns KR_ECONFIG. An empty document yields a KR_YAML_NULL node.
 * posmap, when given, rewrites every position (libyaml's marks included).
 */
int kr_yaml_parse(struct kr_yaml_node **out, struct kr_diags *diags,
	const char *file, const char *text, size_t len,
	kr_yaml_posmap_fn posmap, void *posmap_ctx);

/* Deep copy. */
struct kr_yaml_node *kr_yaml_copy(const struct kr_yaml_node *n);
void kr_yaml_free(struct kr_yaml_node *n);

/*
 * Merge `over` into `*base` the way ActiveSupport's deep_merge does: when
 * both are maps, keys merge recursively; otherwise `over` replaces. Takes
 * ownership of `over`.
 */
void kr_yaml_deep_merge(struct kr_yaml_node **base, struct kr_yaml_node *over);

/* Map lookup: the value node for key, or NULL (also when n is no map). */
struct kr_yaml_node *kr_yaml_get(const struct kr_yaml_node *map,
	const char *key);
/* The key node itself (for positions), or NULL. */
struct kr_yaml_node *kr_yaml_get_key(const struct kr_yaml_node *map,
	const char *key);

enum kr_yaml_kind kr_yaml_kind(const struct kr_yaml_node *n);
/* "a string", "an integer", "a list", ... for messages. */
const char *kr_yaml_kind_name(enum kr_yaml_kind k);
/*
 * The value as Ruby's to_s would print the loaded object: integers in
 * decimal, booleans as true/false, null as "", a :symbol without its colon,
 * anything else as written. NULL for collections. Caller frees.
 */
char *kr_yaml_to_string(const struct kr_yaml_node *n);
/* Integer value; false when the node is no integer or out of range. */
bool kr_yaml_to_int(const struct kr_yaml_node *n, long long *out);
/* Boolean value; false when the node is no boolean. */
bool kr_yaml_to_bool(const struct kr_yaml_node *n, bool *out);

#endif
