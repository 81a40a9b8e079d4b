/*
 * Reaching the hosts: host entries as SSHKit reads them (user@host:port,
 * [v6]:port, one-pair maps of host to tags), host lists, and the `ssh`
 * section.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "state/config.h"
#include "state/config_int.h"

bool
kr_cfg_parse_port(const char *s, int *out)
{
	long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
		if (v > 65535)
			return false;
	}
	*out = (int)v;
	return v > 0;
}

/*
 * SSHKit's reading of a host string: "host", "user@host", "host:port",
 * "user@host:port", "[v6]:port", a bare IPv6 address.
 */
bool
kr_cfg_parse_host_entry(struct kr_config_host *h, const char *entry)
{
	const char *at = strchr(entry, '@'), *rest = entry;
	const char *colon;

	h->entry = kr_xstrdup(entry);
	if (at) {
		if (at == entry)
			return false;
		h->user = kr_xstrndup(entry, (size_t)(at - entry));
		rest = at + 1;
	}
	if (rest[0] == '[') {
		const char *close = strchr(rest, ']');

		if (!close || close == rest + 1)
			return false;
		h->host = kr_xstrndup(rest + 1, (size_t)(close - rest - 1));
		if (close[1] == ':')
			return kr_cfg_parse_port(close + 2, &h->port);
		return close[1] == '\0';
	}
	colon = strchr(rest, ':');
	if (colon && strchr(colon + 1, ':') && !at) {
		h->host = kr_xstrdup(rest); /* a bare IPv6 address */
		return true;
	}
	if (colon) {
		if (colon == rest)
			return false;
		h->host = kr_xstrndup(rest, (size_t)(colon - rest));
		return kr_cfg_parse_port(colon + 1, &h->port);
	}
	if (!*rest || strchr(rest, ' ') || strchr(rest, '@'))
		return false;
	h->host = kr_xstrdup(rest);
	return true;
}

/* Kamal's validate_servers!: strings, or one-pair maps host → tag(s). */
void
kr_cfg_host_list(struct kr_cfg_ctx *x, const struct kr_yaml_node *n,
	const char *path, struct kr_config_host **out, size_t *nout)
{
	size_t i;

	if (n->type != KR_YAML_SEQ) {
		kr_cfg_type_error(x, n, path, "a list");
		return;
	}
	*out = kr_xcalloc(n->n ? n->n : 1, sizeof(**out));
	for (i = 0; i < n->n; i++) {
		const struct kr_yaml_node *item = n->v[i], *hn = item;
		struct kr_config_host *h = &(*out)[*nout];
		char *p = kr_xasprintf("%s/%zu", path, i), *s;

		if (strncmp(path, "servers", 7) == 0 &&
			(kr_yaml_kind(item) == KR_YK_INT ||
				kr_yaml_kind(item) == KR_YK_FLOAT ||
				kr_yaml_kind(item) == KR_YK_BOOL)) {
			/* Kamal's type check passes it, then its host list
			 * keeps only strings and maps: dropped, as there */
			char *v = kr_yaml_to_string(item);

			kr_cfg_warn(x, item,
				"'%s' is %s, not a host name: Kamal ignores it "
				"(quote it if '%s' is a host)",
				p, kr_yaml_kind_name(kr_yaml_kind(item)), v);
			free(v);
			free(p);
			continue;
		}
		if (item->type == KR_YAML_MAP) {
			const struct kr_yaml_node *tags;

			if (item->n != 1) {
				kr_cfg_err(x, item,
					"'%s' should name one host (multiple "
					"hosts found)",
					p);
				free(p);
				continue;
			}
			hn = item->v[0];
			tags = item->v[1];
			if (tags->type == KR_YAML_SEQ)
				kr_cfg_str_list_node(x, tags, p, &h->tags);
			else if (kr_cfg_stringish(tags))
				kr_strvec_push_owned(
					&h->tags, kr_yaml_to_string(tags));
			else
				kr_cfg_type_error(
					x, tags, p, "a tag or a list of tags");
		}
		s = kr_cfg_str_node(x, hn, p);
		free(p);
		if (!s) {
			kr_strvec_release(&h->tags);
			continue;
		}
		kr_cfg_set_pos(&h->pos, hn);
		if (!kr_cfg_parse_host_entry(h, s)) {
			kr_cfg_err(x, hn,
				"invalid host '%s' (expected host, user@host "
				"or "
				"host:port)",
				s);
			kr_cfg_host_release(h);
			memset(h, 0, sizeof(*h));
			free(s);
			continue;
		}
		free(s);
		(*nout)++;
	}
}

void
kr_cfg_ssh_node(struct kr_cfg_ctx *x, const struct kr_yaml_node *n)
{
	static const char *const keys[] = { "user", "port", "proxy",
		"proxy_command", "log_level", "keys_only", "keys", "key_data",
		"config", "forward_agent", NULL };
	struct kr_config_ssh *s = &x->c->ssh;
	const struct kr_yaml_node *v;

	s->keys_only = s->forward_agent = KR_TRI_UNSET;
	if (n->type != KR_YAML_MAP) {
		kr_cfg_type_error(x, n, "ssh", "a map");
		return;
	}
	kr_cfg_check_keys(x, n, "ssh", "ssh", keys, false);
	s->user = kr_cfg_get_str(x, n, "user", "ssh");
	if (s->user)
		kr_cfg_check_name(
			x, kr_yaml_get(n, "user"), "ssh user", s->user);
	s->port = kr_cfg_get_str(x, n, "port", "ssh");
	if (s->port) {
		int port;

		if (!kr_cfg_parse_port(s->port, &port))
			kr_cfg_err(x, kr_yaml_get(n, "port"),
				"'ssh/port' should be a port "
				"number, not '%s'",
				s->port);
	}
	s->proxy = kr_cfg_get_str(x, n, "proxy", "ssh");
	s->proxy_command = kr_cfg_get_str(x, n, "proxy_command", "ssh");
	s->log_level = kr_cfg_get_str(x, n, "log_level", "ssh");
	s->keys_only = kr_cfg_get_bool(x, n, "keys_only", "ssh");
	kr_cfg_get_str_list(x, n, "keys", "ssh", &s->keys);
	kr_cfg_get_str_list(x, n, "key_data", "ssh", &s->key_data);
	if ((v = kr_yaml_get(n, "config"))) {
		if (v->type == KR_YAML_SEQ)
			kr_cfg_str_list_node(
				x, v, "ssh/config", &s->config_list);
		else if (kr_yaml_kind(v) == KR_YK_STR ||
			 kr_yaml_kind(v) == KR_YK_BOOL)
			s->config = kr_yaml_to_string(v);
		else
			kr_cfg_type_error(x, v, "ssh/config",
				"a boolean, a string or a list");
	}
	s->forward_agent = kr_cfg_get_bool(x, n, "forward_agent", "ssh");
}
