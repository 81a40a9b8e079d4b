/*
 * What a container runs with, at the root, in roles and in accessories:
 * docker `options` (turned into docker args, restart taken out), `labels`,
 * `logging`, and a `registry` with its credentials (literal or secret).
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "state/config.h"
#include "state/config_int.h"

static bool
valid_restart(const char *s)
{
	const char *p;

	if (strcmp(s, "no") == 0 || strcmp(s, "always") == 0 ||
		strcmp(s, "unless-stopped") == 0 ||
		strcmp(s, "on-failure") == 0)
		return true;
	if (strncmp(s, "on-failure:", 11) != 0 || !s[11])
		return false;
	for (p = s + 11; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/* Ruby 3.1's inspect of a loaded YAML value (what Kamal's to_s of an array
 * or a hash prints). */
static void
ruby_inspect(struct kr_buf *b, const struct kr_yaml_node *n)
{
	size_t i;
	char *s;

	switch (kr_yaml_kind(n)) {
	case KR_YK_NULL:
		kr_buf_puts(b, "nil");
		return;
	case KR_YK_SEQ:
		kr_buf_putc(b, '[');
		for (i = 0; i < n->n; i++) {
			if (i)
				kr_buf_puts(b, ", ");
			ruby_inspect(b, n->v[i]);
		}
		kr_buf_putc(b, ']');
		return;
	case KR_YK_MAP:
		kr_buf_putc(b, '{');
		for (i = 0; i < n->n; i++) {
			if (i)
				kr_buf_puts(b, ", ");
			ruby_inspect(b, n->v[2 * i]);
			kr_buf_puts(b, "=>");
			ruby_inspect(b, n->v[2 * i + 1]);
		}
		kr_buf_putc(b, '}');
		return;
	case KR_YK_STR:
		s = kr_yaml_to_string(n);
		kr_buf_putc(b, '"');
		for (i = 0; s[i]; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c == '"' || c == '\\')
				kr_buf_printf(b, "\\%c", c);
			else if (c == '\n')
				kr_buf_puts(b, "\\n");
			else if (c == '\t')
				kr_buf_puts(b, "\\t");
			else if (c == '#' && s[i + 1] &&
				 strchr("{$@", s[i + 1]))
				kr_buf_puts(b, "\\#");
			else if (c < 0x20 || c == 0x7f)
				kr_buf_printf(b, "\\x%02X", c);
			else
				kr_buf_putc(b, (char)c);
		}
		kr_buf_putc(b, '"');
		free(s);
		return;
	default:
		s = kr_yaml_to_string(n);
		kr_buf_puts(b, s);
		free(s);
		return;
	}
}

/* Ruby's to_s of the loaded value: scalars as kr_yaml_to_string, lists and
 * maps as Ruby 3.1 prints them. Caller frees. */
char *
kr_cfg_ruby_to_s(const struct kr_yaml_node *n)
{
	struct kr_buf b = KR_BUF_INIT;

	if (n->type != KR_YAML_SEQ && n->type != KR_YAML_MAP)
		return kr_yaml_to_string(n);
	ruby_inspect(&b, n);
	return kr_buf_detach(&b, NULL);
}

/*
 * options: {key: value} → "--key" "value" (Kamal's optionize): a list value
 * repeats the option, true gives a bare flag. restart is taken out.
 */
void
kr_cfg_options_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *map,
	const char *key, const char *path, struct kr_strvec *args,
	char **restart, bool check_restart)
{
	const struct kr_yaml_node *n = kr_cfg_get_map(x, map, key, path);
	size_t i, j;

	if (!n)
		return;
	for (i = 0; i < n->n; i++) {
		const struct kr_yaml_node *k = n->v[2 * i],
					  *v = n->v[2 * i + 1];
		char *ks = kr_yaml_to_string(k);

		if (!ks) {
			kr_cfg_err(x, k, "keys of '%s/%s' must be strings",
				path, key);
			continue;
		}
		if (restart && strcmp(ks, "restart") == 0) {
			char *s = NULL;

			if (kr_yaml_kind(v) != KR_YK_STR)
				kr_cfg_err(x, v,
					"'%s/options/restart' should be a "
					"string; "
					"use \"no\" to disable restarts",
					path);
			else if (!valid_restart(s = kr_yaml_to_string(v)))
				kr_cfg_err(x, v,
					"'%s/options/restart' should be no, "
					"always, "
					"unless-stopped, on-failure or "
					"on-failure:N",
					path);
			else if (check_restart) {
				free(*restart);
				*restart = s;
				s = NULL;
			}
			free(s);
			free(ks);
			continue;
		}
		if (v->type == KR_YAML_SEQ) {
			for (j = 0; j < v->n; j++) {
				char *vs = kr_cfg_ruby_to_s(v->v[j]);

				kr_strvec_push_owned(
					args, kr_xasprintf("--%s", ks));
				if (v->v[j]->type == KR_YAML_SEQ ||
					v->v[j]->type == KR_YAML_MAP)
					kr_cfg_warn(x, v->v[j],
						"'%s/%s/%s/%zu' is not a "
						"string: "
						"like Kamal, kreconcile passes "
						"'%s' to docker as Ruby prints "
						"it",
						path, key, ks, j, vs);
				kr_strvec_push_owned(args, vs);
			}
		} else if (v->type == KR_YAML_MAP) {
			/*
			 * Kamal only checks that options is a map: each pair
			 * of a map value becomes one option whose value is
			 * Ruby's [key, value].to_s. Passed on the same way.
			 */
			kr_cfg_warn(x, v,
				"'%s/%s/%s' is a map: like Kamal, kreconcile "
				"passes each entry to docker as Ruby prints it "
				"(--%s '[\"key\", \"value\"]'), which docker "
				"is unlikely to accept; write it as a string "
				"or "
				"a list of strings",
				path, key, ks, ks);
			for (j = 0; j < v->n; j++) {
				struct kr_buf b = KR_BUF_INIT;

				kr_buf_putc(&b, '[');
				ruby_inspect(&b, v->v[2 * j]);
				kr_buf_puts(&b, ", ");
				ruby_inspect(&b, v->v[2 * j + 1]);
				kr_buf_putc(&b, ']');
				kr_strvec_push_owned(
					args, kr_xasprintf("--%s", ks));
				kr_strvec_push_owned(
					args, kr_buf_detach(&b, NULL));
			}
		} else {
			bool b;

			kr_strvec_push_owned(args, kr_xasprintf("--%s", ks));
			if (!(kr_yaml_to_bool(v, &b) && b))
				kr_strvec_push_owned(
					args, kr_yaml_to_string(v));
		}
		free(ks);
	}
}

void
kr_cfg_logging_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *n,
	const char *path, struct kr_config_logging *l)
{
	static const char *const keys[] = { "driver", "options", NULL };
	const struct kr_yaml_node *o;
	size_t i;

	if (n->type != KR_YAML_MAP) {
		kr_cfg_type_error(x, n, path, "a map");
		return;
	}
	kr_cfg_check_keys(x, n, path, "logging", keys, false);
	l->driver = kr_cfg_get_str(x, n, "driver", path);
	if ((o = kr_cfg_get_map(x, n, "options", path))) {
		for (i = 0; i < o->n; i++) {
			char *k = kr_yaml_to_string(o->v[2 * i]);
			char *v = kr_cfg_ruby_to_s(o->v[2 * i + 1]);

			if (k && v &&
				(o->v[2 * i + 1]->type == KR_YAML_SEQ ||
					o->v[2 * i + 1]->type == KR_YAML_MAP))
				kr_cfg_warn(x, o->v[2 * i + 1],
					"'%s/options/%s' is not a string: like "
					"Kamal, kreconcile passes '%s' to "
					"docker as Ruby prints it",
					path, k, v);
			if (!k || !v)
				kr_cfg_err(x, o->v[2 * i],
					"'%s/options' should map names to "
					"strings",
					path);
			else
				kr_kvlist_set(&l->options, k, v);
			free(k);
			free(v);
		}
	}
}

void
kr_cfg_labels_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *map,
	const char *path, struct kr_kvlist *out, bool reserved)
{
	static const char *const res[] = { "service", "role", "destination",
		NULL };
	const struct kr_yaml_node *n = kr_yaml_get(map, "labels");
	size_t i;

	if (!n)
		return;
	kr_cfg_get_str_map(x, map, "labels", path, out);
	if (!reserved || n->type != KR_YAML_MAP)
		return;
	for (i = 0; i < n->n; i++) {
		const struct kr_yaml_node *k = n->v[2 * i];

		if (k->value && kr_cfg_in_list(k->value, res))
			kr_cfg_err(x, k,
				"'%s/labels/%s': destination, role and service "
				"are "
				"reserved labels",
				path, k->value);
	}
}

bool
kr_cfg_local_registry(const char *server)
{
	/* Kamal: server.match?("^localhost[:$]") */
	return server && strncmp(server, "localhost", 9) == 0 &&
	       (server[9] == ':' || server[9] == '$');
}

static void
registry_cred(struct kr_cfg_ctx *x, const struct kr_yaml_node *n,
	const char *key, const char *path, char **literal, char **secret)
{
	const struct kr_yaml_node *v = kr_yaml_get(n, key);
	char *p = kr_cfg_sub(path, key);

	if (!v) {
		free(p);
		return;
	}
	if (v->type == KR_YAML_SEQ && v->n == 1 &&
		kr_yaml_kind(v->v[0]) == KR_YK_STR) {
		*secret = kr_yaml_to_string(v->v[0]);
		kr_cfg_add_secret_ref(x, *secret, p, v->v[0]);
	} else if (kr_yaml_kind(v) == KR_YK_STR) {
		*literal = kr_yaml_to_string(v);
		if (!**literal) {
			free(*literal);
			*literal = NULL;
		}
	} else {
		kr_cfg_err(x, v,
			"'%s' should be a string or a list with one string "
			"(for secret lookup)",
			p);
	}
	free(p);
}

void
kr_cfg_registry_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *n,
	const char *path, struct kr_config_registry *r)
{
	static const char *const keys[] = { "server", "username", "password",
		NULL };
	const char *creds[] = { "username", "password" };
	size_t i;

	if (n->type != KR_YAML_MAP) {
		kr_cfg_type_error(x, n, path, "a map");
		return;
	}
	r->present = true;
	kr_cfg_check_keys(x, n, path, "registry", keys, false);
	r->server = kr_cfg_get_str(x, n, "server", path);
	{
		const struct kr_yaml_node *sv = kr_yaml_get(n, "server");
		enum kr_yaml_kind k = sv ? kr_yaml_kind(sv) : KR_YK_NULL;

		/* Kamal calls server.match? on it: a number or a boolean
		 * passes its type check, then fails (NoMethodError) */
		if (k == KR_YK_INT || k == KR_YK_FLOAT || k == KR_YK_BOOL)
			kr_cfg_err(x, sv,
				"'%s/server' should be a string; quote it "
				"(Kamal "
				"fails on %s here: undefined method `match?')",
				path, kr_yaml_kind_name(k));
	}
	registry_cred(
		x, n, "username", path, &r->username, &r->username_secret);
	registry_cred(
		x, n, "password", path, &r->password, &r->password_secret);
	if (kr_cfg_local_registry(r->server))
		return;
	for (i = 0; i < 2; i++) {
		const struct kr_yaml_node *v = kr_yaml_get(n, creds[i]);
		bool have = i == 0 ? (r->username || r->username_secret) :
				     (r->password || r->password_secret);

		if (!v)
			kr_cfg_err(x, n, "'%s/%s' is required", path, creds[i]);
		else if (!have && kr_yaml_kind(v) != KR_YK_SEQ &&
			 kr_yaml_kind(v) == KR_YK_STR)
			kr_cfg_err(x, v, "'%s/%s' is required", path, creds[i]);
	}
}
