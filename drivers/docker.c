/*
 * The Docker observe driver (see docker.h): the one-exec observe script,
 * the parser of its framed output (jansson for `docker inspect`; jansson's
 * errors are translated in parse_inspect() only), secret masking, and
 * observing many hosts at once through the pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/error.h"
#include "common/quote.h"
#include "drivers/docker.h"
#include "drivers/pool.h"
#include "state/desired.h"

#define DEFAULT_PROXY "kamal-proxy"

char *
kr_docker_env_dir(const char *service, const char *destination)
{
	if (destination && *destination)
		return kr_xasprintf(
			".kamal/apps/%s-%s/env", service, destination);
	return kr_xasprintf(".kamal/apps/%s/env", service);
}

char *
kr_docker_lock_dir(const char *service, const char *destination)
{
	if (destination && *destination)
		return kr_xasprintf(".kamal/lock-%s-%s", service, destination);
	return kr_xasprintf(".kamal/lock-%s", service);
}

static void
add_secret_keys(struct kr_strvec *keys, const struct kr_env_file *f)
{
	size_t i;

	for (i = 0; i < f->secrets.n; i++)
		if (!kr_strvec_contains(keys, f->secrets.v[i].key))
			kr_strvec_push(keys, f->secrets.v[i].key);
}

void
kr_docker_scope_from_desired(struct kr_docker_scope_buf *out,
	const struct kr_desired *d, const struct kr_host *h)
{
	size_t i, j, k, n = 0, max = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < d->nhosts; i++)
		max += d->hosts[i].naccessories;
	out->accessories = kr_xcalloc(max ? max : 1, sizeof(*out->accessories));
	out->data_dirs = kr_xcalloc(max ? max : 1, sizeof(*out->data_dirs));
	for (i = 0; i < d->nhosts; i++) {
		const struct kr_host *dh = &d->hosts[i];

		for (j = 0; j < dh->napps; j++)
			add_secret_keys(
				&out->sensitive_keys, &dh->apps[j].env_file);
		for (j = 0; j < dh->naccessories; j++) {
			const struct kr_accessory *a = &dh->accessories[j];

			add_secret_keys(&out->sensitive_keys, &a->env_file);
			for (k = 0; k < n; k++)
				if (strcmp(out->accessories[k].name, a->name) ==
					0)
					break;
			if (k < n)
				continue;
			for (k = 0; k < a->directories.n; k++) {
				const char *dir = a->directories.v[k];
				const char *colon = strchr(dir, ':');

				kr_strvec_push_owned(&out->data_dirs[n],
					colon ? kr_xstrndup(dir,
							(size_t)(colon - dir)) :
						kr_xstrdup(dir));
			}
			out->accessories[n].name = a->name;
			out->accessories[n].container = a->container;
			out->accessories[n].data_dirs = &out->data_dirs[n];
			n++;
		}
	}
	for (i = 0; h && i < h->napps; i++)
		if (h->apps[i].env_file.path)
			kr_strvec_push(
				&out->env_files, h->apps[i].env_file.path);
	for (i = 0; h && i < h->naccessories; i++)
		if (h->accessories[i].env_file.path)
			kr_strvec_push(&out->env_files,
				h->accessories[i].env_file.path);
	out->scope.service = d->service;
	out->scope.destination = d->destination;
	out->scope.accessories = out->accessories;
	out->scope.naccessories = n;
	out->scope.env_files = &out->env_files;
	out->scope.sensitive_keys = &out->sensitive_keys;
}

void
kr_docker_scope_buf_release(struct kr_docker_scope_buf *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->scope.naccessories; i++)
		kr_strvec_release(&b->data_dirs[i]);
	free(b->data_dirs);
	free(b->accessories);
	kr_strvec_release(&b->env_files);
	kr_strvec_release(&b->sensitive_keys);
	memset(b, 0, sizeof(*b));
}

/* The fixed part of the script: helpers that print one frame per item. */
static const char script_helpers[] =
	"m() { printf '%s %s\\n' \"$M\" \"$*\"; }\n"
	/* kf PATH KIND: hash, mode; for env files the key names (never values).
	 */
	"kf() {\n"
	"\tif [ -r \"$1\" ]; then s=$(sha256sum < \"$1\" | cut -c1-64); else "
	"s=; fi\n"
	"\tmd=$(stat -c %a \"$1\" 2>/dev/null) || md=\n"
	"\tm file \"${md:--}\" \"${s:--}\" \"$2\" \"$1\"\n"
	"\tif [ \"$2\" = env ] && [ -r \"$1\" ]; then\n"
	"\t\tsed -n 's/^\\([A-Za-z_][A-Za-z0-9_]*\\)=.*/\\1/p' \"$1\"\n"
	"\tfi\n"
	"}\n"
	"kd() { md=$(stat -c %a \"$1\" 2>/dev/null) || md=; m dir \"${md:--}\" "
	"\"$1\"; }\n"
	"kw() { if [ -d \"$1\" ]; then kd \"$1\"; elif [ -f \"$1\" ]; then kf "
	"\"$1\" file; fi; }\n"
	"m begin 1\n"
	"if command -v docker >/dev/null 2>&1; then\n"
	"\tv=$(docker version --format '{{.Server.Version}}' 2>&1 </dev/null); "
	"rc=$?\n"
	"else\n"
	"\tv='docker: command not found'; rc=127\n"
	"fi\n"
	"m docker \"$rc\"\n"
	"printf '%s\\n' \"$v\"\n";

static int
put_quoted_list(struct kr_buf *b, const struct kr_strvec *sv)
{
	size_t i;
	int err = 0;

	for (i = 0; sv && i < sv->n && !err; i++)
		err = kr_shell_arg(b, sv->v[i]);
	return err;
}

/* "a/b/" -> "a/b", "./a" -> "a": the form find prints. */
static char *
norm_path(const char *p)
{
	size_t n;

	while (p[0] == '.' && p[1] == '/')
		p += 2;
	n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		n--;
	return kr_xstrndup(p, n);
}

static int
script_accessory(struct kr_buf *b, const struct kr_docker_accessory *a)
{
	struct kr_strvec inside = { 0 }, outside = { 0 };
	size_t i, rootlen = strlen(a->container);
	int err = 0;

	for (i = 0; a->data_dirs && i < a->data_dirs->n; i++) {
		char *d = norm_path(a->data_dirs->v[i]);

		if (strncmp(d, a->container, rootlen) == 0 && d[rootlen] == '/')
			kr_strvec_push_owned(&inside, d);
		else
			kr_strvec_push_owned(&outside, d);
	}
	/* Walk <container>/ but only list (never descend into) data dirs. */
	err = kr_buf_puts(b, "R=");
	if (!err)
		err = kr_shell_quote(b, a->container);
	if (!err)
		err = kr_buf_puts(b, "\nif [ -e \"$R\" ]; then find \"$R\"");
	if (!err && inside.n) {
		err = kr_buf_puts(b, " \\(");
		for (i = 0; i < inside.n && !err; i++) {
			err = kr_buf_puts(b, i ? " -o -path" : " -path");
			if (!err)
				err = kr_shell_arg(b, inside.v[i]);
		}
		if (!err)
			err = kr_buf_puts(b, " \\) -prune -print -o -print");
	}
	if (!err)
		err = kr_buf_puts(b, " 2>/dev/null | sort | while IFS= read -r "
				     "p; do kw \"$p\"; done; fi\n");
	for (i = 0; i < outside.n && !err; i++) {
		err = kr_buf_puts(b, "D=");
		if (!err)
			err = kr_shell_quote(b, outside.v[i]);
		if (!err)
			err = kr_buf_puts(
				b, "; if [ -e \"$D\" ]; then kd \"$D\"; fi\n");
	}
	kr_strvec_release(&inside);
	kr_strvec_release(&outside);
	return err;
}

int
kr_docker_observe_script(struct kr_buf *out,
	const struct kr_docker_scope *scope, const char *nonce)
{
	struct kr_buf names = KR_BUF_INIT;
	char *env_dir = NULL, *lock_dir = NULL, *marker = NULL;
	size_t i;
	int err;

	if (!scope->service || !*scope->service) {
		kr_error_set(KR_EINVAL, "observe needs a service name");
		return KR_EINVAL;
	}
	/* Names matched by container name or service label: " a b c ". */
	kr_buf_printf(&names, " %s ",
		scope->proxy_container ? scope->proxy_container :
					 DEFAULT_PROXY);
	for (i = 0; i < scope->naccessories; i++)
		kr_buf_printf(&names, "%s ", scope->accessories[i].container);
	env_dir = kr_docker_env_dir(scope->service, scope->destination);
	lock_dir = kr_docker_lock_dir(scope->service, scope->destination);
	marker = kr_xasprintf("@@KR-%s", nonce);

	if ((err = kr_buf_puts(out, "M=")) < 0 ||
		(err = kr_shell_quote(out, marker)) < 0 ||
		(err = kr_buf_puts(out, "\n")) < 0 ||
		(err = kr_buf_puts(out, script_helpers)) < 0)
		goto out;
	/* Containers: by service label, or by name/label for accessories and
	 * proxy. */
	if ((err = kr_buf_puts(out, "if [ \"$rc\" = 0 ]; then\n"
				    "\tm networks\n"
				    "\tdocker network ls --format '{{.Name}}' "
				    "</dev/null 2>&1\n"
				    "\tids=$(docker ps -a --no-trunc --format "
				    "'{{.ID}}\t{{.Names}}\t{{.Label "
				    "\"service\"}}' </dev/null | KR_SVC=")) <
			0 ||
		(err = kr_shell_quote(out, scope->service)) < 0 ||
		(err = kr_buf_puts(out, " KR_NAMES=")) < 0 ||
		(err = kr_shell_quote(out, names.ptr)) < 0 ||
		(err = kr_buf_puts(out,
			 " awk -F'\t' '$3 == ENVIRON[\"KR_SVC\"] || "
			 "index(ENVIRON[\"KR_NAMES\"], \" \" $2 \" \") ||"
			 " ($3 != \"\" && index(ENVIRON[\"KR_NAMES\"], \" \" "
			 "$3 \" \")) { print $1 }')\n"
			 "\tm containers\n"
			 "\tif [ -n \"$ids\" ]; then\n"
			 "\t\tj=$(docker inspect --type container $ids "
			 "2>/dev/null </dev/null)\n"
			 "\t\tprintf '%s\\n' \"$j\"\n"
			 "\t\timgs=$(printf '%s\\n' \"$j\" | sed -n 's/^ "
			 "*\"Image\": \"\\(sha256:[0-9a-f]*\\)\",*$/\\1/p' | "
			 "sort -u)\n"
			 "\t\tif [ -n \"$imgs\" ]; then\n"
			 "\t\t\tm images\n"
			 "\t\t\tdocker image inspect --format '{{.Id}} {{json "
			 ".RepoDigests}}' $imgs 2>/dev/null </dev/null\n"
			 "\t\tfi\n"
			 "\tfi\n"
			 "fi\n")) < 0)
		goto out;
	/* Env files: every file under the env directory, then any named. */
	if ((err = kr_buf_puts(out, "E=")) < 0 ||
		(err = kr_shell_quote(out, env_dir)) < 0 ||
		(err = kr_buf_puts(out, "\nif [ -d \"$E\" ]; then find \"$E\" "
					"-type f 2>/dev/null | sort | "
					"while IFS= read -r f; do kf \"$f\" "
					"env; done; fi\n")) < 0)
		goto out;
	if (scope->env_files && scope->env_files->n) {
		if ((err = kr_buf_puts(out, "for f in")) < 0 ||
			(err = put_quoted_list(out, scope->env_files)) < 0 ||
			(err = kr_buf_puts(out, "; do if [ -f \"$f\" ]; then "
						"kf \"$f\" env; fi; done\n")) <
				0)
			goto out;
	}
	for (i = 0; i < scope->naccessories; i++)
		if ((err = script_accessory(out, &scope->accessories[i])) < 0)
			goto out;
	if ((err = kr_buf_puts(out, "L=")) < 0 ||
		(err = kr_shell_quote(out, lock_dir)) < 0 ||
		(err = kr_buf_puts(out, "\nif [ -d \"$L\" ]; then m lock held; "
					"cat \"$L/details\" 2>/dev/null; echo;"
					" else m lock none; fi\n"
					"m end\n")) < 0)
		goto out;
	err = 0;
out:
	kr_buf_release(&names);
	free(env_dir);
	free(lock_dir);
	free(marker);
	return err;
}

/* One frame of the output: the marker line's words and the body after it. */
struct frame {
	const char *args; /* after the marker and a space, up to the newline */
	size_t args_len;
	const char *body;
	size_t body_len;
};

struct frames {
	struct frame *v;
	size_t n;
};

static void
split_frames(struct frames *fr, const char *nonce, const char *text, size_t len)
{
	char *marker = kr_xasprintf("@@KR-%s ", nonce);
	size_t mlen = strlen(marker), alloc = 0, pos = 0;
	struct frame *cur = NULL;

	fr->v = NULL;
	fr->n = 0;
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - line) : len - pos;
		size_t next = pos + llen + (nl ? 1 : 0);

		if (llen >= mlen && memcmp(line, marker, mlen) == 0) {
			if (cur && cur->body_len > 0 &&
				cur->body[cur->body_len - 1] == '\n')
				cur->body_len--;
			if (fr->n == alloc) {
				alloc = alloc ? alloc * 2 : 32;
				fr->v = kr_xrealloc(
					fr->v, alloc * sizeof(*fr->v));
			}
			cur = &fr->v[fr->n++];
			cur->args = line + mlen;
			cur->args_len = llen - mlen;
			cur->body = text + next;
			cur->body_len = 0;
		} else if (cur) {
			cur->body_len = (size_t)(text + next - cur->body);
		}
		pos = next;
	}
	if (cur && cur->body_len > 0 && cur->body[cur->body_len - 1] == '\n')
		cur->body_len--;
	free(marker);
}

/* Does the frame's first word equal w? */
static int
frame_is(const struct frame *f, const char *w)
{
	size_t n = strlen(w);

	return f->args_len >= n && memcmp(f->args, w, n) == 0 &&
	       (f->args_len == n || f->args[n] == ' ');
}

/* Split "a b c rest of line" into up to `max` words, the last taking the rest.
 */
static size_t
frame_words(char **words, size_t max, const struct frame *f)
{
	char *s = kr_xstrndup(f->args, f->args_len), *p = s;
	size_t n = 0;

	while (n < max && p) {
		char *sp = n + 1 < max ? strchr(p, ' ') : NULL;

		if (sp)
			*sp = '\0';
		words[n++] = kr_xstrdup(p);
		p = sp ? sp + 1 : NULL;
	}
	free(s);
	return n;
}

static void
free_words(char **w, size_t n)
{
	while (n--)
		free(w[n]);
}

/* First line of s, at most 400 bytes. */
static char *
first_line(const char *s, size_t len)
{
	size_t n = 0;

	while (len && (*s == '\n' || *s == '\r' || *s == ' ')) {
		s++;
		len--;
	}
	while (n < len && n < 400 && s[n] != '\n' && s[n] != '\r')
		n++;
	return kr_xstrndup(s, n);
}

static struct kr_obs_file *
add_file(struct kr_observed_host *h, const char *path)
{
	struct kr_obs_file *f;
	size_t i;

	for (i = 0; i < h->nfiles; i++)
		if (strcmp(h->files[i].path, path) == 0) {
			kr_obs_file_release(&h->files[i]);
			h->files[i].path = kr_xstrdup(path);
			return &h->files[i];
		}
	h->files = kr_xrealloc(h->files, (h->nfiles + 1) * sizeof(*h->files));
	f = &h->files[h->nfiles++];
	memset(f, 0, sizeof(*f));
	f->path = kr_xstrdup(path);
	return f;
}

static int
is_hex64(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

static void
parse_file_frame(struct kr_observed_host *h, const struct frame *fr)
{
	char *w[5];
	size_t n = frame_words(w, 5, fr);
	struct kr_obs_file *f;
	const char *p, *end;

	/* file MODE SHA KIND PATH */
	if (n == 5) {
		f = add_file(h, w[4]);
		f->mode = strcmp(w[1], "-") ? kr_xstrdup(w[1]) : NULL;
		if (is_hex64(w[2]))
			memcpy(f->sha256, w[2], KR_SHA256_HEX);
		f->is_env = strcmp(w[3], "env") == 0;
		for (p = fr->body, end = fr->body + fr->body_len;
			f->is_env && p < end;) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);

			if (l)
				kr_strvec_push_owned(
					&f->keys, kr_xstrndup(p, l));
			p += l + 1;
		}
	}
	free_words(w, n);
}

static void
parse_dir_frame(struct kr_observed_host *h, const struct frame *fr)
{
	char *w[3];
	size_t n = frame_words(w, 3, fr);
	struct kr_obs_file *f;

	/* dir MODE PATH */
	if (n == 3) {
		f = add_file(h, w[2]);
		f->mode = strcmp(w[1], "-") ? kr_xstrdup(w[1]) : NULL;
		f->is_dir = true;
	}
	free_words(w, n);
}

static void
push_lines(struct kr_strvec *sv, const char *s, size_t len)
{
	const char *end = s + len;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t l = nl ? (size_t)(nl - s) : (size_t)(end - s);

		if (l) {
			char *line = kr_xstrndup(s, l);

			if (!kr_strvec_contains(sv, line))
				kr_strvec_push_owned(sv, line);
			else
				free(line);
		}
		s += l + 1;
	}
}

/* Base64 (Ruby's encode64: lines of 60) to text; NULL when it is not base64. */
static char *
base64_text(const char *s, size_t len)
{
	char *clean = kr_xmalloc(len + 1), *out;
	size_t n = 0, i, pad = 0;
	int got;

	for (i = 0; i < len; i++)
		if (s[i] != '\n' && s[i] != '\r' && s[i] != ' ')
			clean[n++] = s[i];
	clean[n] = '\0';
	if (n == 0 || n % 4) {
		free(clean);
		return NULL;
	}
	if (clean[n - 1] == '=')
		pad++;
	if (clean[n - 2] == '=')
		pad++;
	out = kr_xmalloc(n / 4 * 3 + 1);
	got = EVP_DecodeBlock(
		(unsigned char *)out, (unsigned char *)clean, (int)n);
	free(clean);
	if (got < 0 || (size_t)got < pad) {
		free(out);
		return NULL;
	}
	out[(size_t)got - pad] = '\0';
	return out;
}

/* Plain accessors over docker inspect's JSON; NULL when absent. */
static const char *
jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static char *
jdup(const json_t *o, const char *key)
{
	const char *s = jstr(o, key);

	return s ? kr_xstrdup(s) : NULL;
}

static void
jtime(time_t *out, const json_t *o, const char *key)
{
	if (kr_obs_time_parse(out, jstr(o, key)) < 0)
		*out = 0;
}

static void
parse_ports(struct kr_strvec *ports, const json_t *bindings)
{
	const char *cport;
	json_t *list, *b;
	size_t i;

	json_object_foreach((json_t *)bindings, cport, list)
	{
		json_array_foreach(list, i, b)
		{
			const char *ip = jstr(b, "HostIp"),
				   *hp = jstr(b, "HostPort");

			if (ip && *ip)
				kr_strvec_push_owned(
					ports, kr_xasprintf("%s:%s:%s", ip,
						       hp ? hp : "", cport));
			else
				kr_strvec_push_owned(
					ports, kr_xasprintf("%s:%s",
						       hp ? hp : "", cport));
		}
	}
}

/* Keys masked in one container's env (see docker.h). */
static void
masked_keys(struct kr_strvec *out, const struct kr_observed_host *h,
	const struct kr_obs_container *c, const struct kr_docker_scope *scope)
{
	const char *svc = kr_kvlist_get(&c->labels, "service");
	const char *role = kr_kvlist_get(&c->labels, "role");
	const char *dest = kr_kvlist_get(&c->labels, "destination");
	char *dir = NULL, *path = NULL;
	const struct kr_obs_file *f = NULL;
	size_t i, j;

	if (svc && role && strcmp(svc, scope->service) == 0) {
		dir = kr_docker_env_dir(scope->service, dest);
		path = kr_xasprintf("%s/roles/%s.env", dir, role);
	} else {
		for (i = 0; i < scope->naccessories; i++) {
			const struct kr_docker_accessory *a =
				&scope->accessories[i];

			if ((c->name && strcmp(c->name, a->container) == 0) ||
				(svc && strcmp(svc, a->container) == 0)) {
				dir = kr_docker_env_dir(
					scope->service, scope->destination);
				path = kr_xasprintf(
					"%s/accessories/%s.env", dir, a->name);
				break;
			}
		}
	}
	if (path && (f = kr_observed_file(h, path)) && f->is_env) {
		for (j = 0; j < f->keys.n; j++)
			kr_strvec_push(out, f->keys.v[j]);
	} else if (path) {
		/* Its env file is not on the host: mask what any env file
		 * holds. */
		for (i = 0; i < h->nfiles; i++)
			for (j = 0;
				h->files[i].is_env && j < h->files[i].keys.n;
				j++)
				if (!kr_strvec_contains(
					    out, h->files[i].keys.v[j]))
					kr_strvec_push(
						out, h->files[i].keys.v[j]);
	}
	for (j = 0; scope->sensitive_keys && j < scope->sensitive_keys->n; j++)
		if (!kr_strvec_contains(out, scope->sensitive_keys->v[j]))
			kr_strvec_push(out, scope->sensitive_keys->v[j]);
	free(dir);
	free(path);
}

static void
parse_container(struct kr_obs_container *c, const json_t *o)
{
	const json_t *cfg = json_object_get(o, "Config");
	const json_t *hc = json_object_get(o, "HostConfig");
	const json_t *st = json_object_get(o, "State");
	const json_t *nets = json_object_get(
		json_object_get(o, "NetworkSettings"), "Networks");
	const json_t *v, *lc;
	const char *k, *name;
	size_t i;

	c->id = jdup(o, "Id");
	name = jstr(o, "Name");
	c->name = name ? kr_xstrdup(name[0] == '/' ? name + 1 : name) : NULL;
	c->image = jdup(cfg, "Image");
	c->image_id = jdup(o, "Image");
	json_object_foreach((json_t *)json_object_get(cfg, "Labels"), k,
		v) if (json_is_string(v))
		kr_kvlist_append(&c->labels, k, json_string_value(v));
	json_array_foreach(json_object_get(cfg, "Env"), i, v)
	{
		const char *kv = json_string_value(v), *eq;

		if (!kv)
			continue;
		eq = strchr(kv, '=');
		if (eq) {
			char *key = kr_xstrndup(kv, (size_t)(eq - kv));

			kr_kvlist_append(&c->env, key, eq + 1);
			free(key);
		} else {
			kr_kvlist_append(&c->env, kv, "");
		}
	}
	if (json_array_size(json_object_get(cfg, "Cmd"))) {
		struct kr_buf b = KR_BUF_INIT;

		json_array_foreach(json_object_get(cfg, "Cmd"), i,
			v) if (json_is_string(v)) kr_buf_printf(&b, "%s%s",
			i ? " " : "", json_string_value(v));
		c->cmd = kr_buf_detach(&b, NULL);
	}
	if (json_array_size(json_object_get(o, "Mounts"))) {
		const json_t *mounts = json_object_get(o, "Mounts");

		c->mounts =
			kr_xcalloc(json_array_size(mounts), sizeof(*c->mounts));
		json_array_foreach(mounts, i, v)
		{
			struct kr_obs_mount *m = &c->mounts[c->nmounts++];

			m->type = jdup(v, "Type");
			m->source = jdup(v, "Source");
			m->destination = jdup(v, "Destination");
			m->mode = jdup(v, "Mode");
			m->rw = json_is_true(json_object_get(v, "RW"));
		}
	}
	if (json_is_object(json_object_get(hc, "PortBindings")))
		parse_ports(&c->ports, json_object_get(hc, "PortBindings"));
	json_object_foreach((json_t *)nets, k, v)
		kr_strvec_push(&c->networks, k);
	c->restart = jdup(json_object_get(hc, "RestartPolicy"), "Name");
	lc = json_object_get(hc, "LogConfig");
	c->log_driver = jdup(lc, "Type");
	json_object_foreach((json_t *)json_object_get(lc, "Config"), k,
		v) if (json_is_string(v))
		kr_kvlist_append(&c->log_opts, k, json_string_value(v));
	c->state = jdup(st, "Status");
	c->health = jdup(json_object_get(st, "Health"), "Status");
	v = json_object_get(st, "ExitCode");
	c->exit_code = json_is_integer(v) ? (int)json_integer_value(v) : 0;
	jtime(&c->created, o, "Created");
	jtime(&c->started, st, "StartedAt");
	jtime(&c->finished, st, "FinishedAt");
}

/* The one place jansson's errors about host output are translated. */
static int
parse_inspect(json_t **out, const char *host, const char *what, const char *s,
	size_t len)
{
	json_error_t e;
	json_t *j = json_loadb(s, len, 0, &e);

	if (!j) {
		kr_error_set(KR_EPARSE, "cannot parse %s from '%s': %d:%d: %s",
			what, host, e.line, e.column, e.text);
		return KR_EPARSE;
	}
	*out = j;
	return 0;
}

static int
parse_containers(struct kr_observed_host *h, const char *host,
	const struct kr_docker_scope *scope, const struct frame *cf,
	const struct frame *imf)
{
	json_t *arr = NULL, *v;
	size_t i, j;
	int err;

	if (!cf || cf->body_len == 0)
		return 0;
	if ((err = parse_inspect(&arr, host, "docker inspect output", cf->body,
		     cf->body_len)) < 0)
		return err;
	if (!json_is_array(arr)) {
		json_decref(arr);
		kr_error_set(KR_EPARSE,
			"docker inspect output from '%s' is not a list", host);
		return KR_EPARSE;
	}
	h->containers =
		kr_xcalloc(json_array_size(arr) + 1, sizeof(*h->containers));
	json_array_foreach(arr, i, v)
	{
		struct kr_obs_container *c = &h->containers[h->ncontainers];
		struct kr_strvec mask = { 0 };

		if (!json_is_object(v))
			continue;
		h->ncontainers++;
		parse_container(c, v);
		masked_keys(&mask, h, c, scope);
		for (j = 0; j < c->env.n; j++)
			if (kr_strvec_contains(&mask, c->env.v[j].key)) {
				kr_free_secret(c->env.v[j].value);
				c->env.v[j].value = kr_xstrdup(KR_SENSITIVE);
			}
		kr_strvec_release(&mask);
	}
	json_decref(arr);

	/* Repo digests: lines "<image id> <json list>". */
	if (imf) {
		const char *p = imf->body, *end = imf->body + imf->body_len;

		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
			const char *sp = memchr(p, ' ', l);
			json_t *list = NULL;

			if (sp && parse_inspect(&list, host, "image digests",
					  sp + 1,
					  (size_t)(p + l - sp - 1)) == 0) {
				char *id = kr_xstrndup(p, (size_t)(sp - p));
				json_t *d;
				size_t k;

				for (i = 0; i < h->ncontainers; i++) {
					struct kr_obs_container *c =
						&h->containers[i];

					if (!c->image_id ||
						strcmp(c->image_id, id))
						continue;
					json_array_foreach(list, k,
						d) if (json_is_string(d))
						kr_strvec_push(&c->repo_digests,
							json_string_value(d));
				}
				free(id);
				json_decref(list);
			}
			p += l + 1;
		}
	}
	return 0;
}

int
kr_docker_parse(struct kr_observed_host *out, const char *host,
	const struct kr_docker_scope *scope, const char *nonce,
	const char *text, size_t len)
{
	struct kr_observed_host h;
	struct frames fr;
	const struct frame *docker = NULL, *cont = NULL, *images = NULL;
	size_t i;
	int err = 0, docker_rc = -1;
	char *why = NULL;

	memset(&h, 0, sizeof(h));
	h.name = kr_xstrdup(host);
	split_frames(&fr, nonce, text, len);
	if (fr.n == 0 || !frame_is(&fr.v[0], "begin")) {
		why = first_line(text, len);
		kr_error_set(KR_EPARSE,
			"observe output from '%s' is not ours%s%s", host,
			*why ? ": " : "", why);
		err = KR_EPARSE;
		goto fail;
	}
	if (!frame_is(&fr.v[fr.n - 1], "end")) {
		kr_error_set(KR_EPARSE,
			"observe output from '%s' ended early (no end mark)",
			host);
		err = KR_EPARSE;
		goto fail;
	}
	for (i = 0; i < fr.n; i++) {
		const struct frame *f = &fr.v[i];

		if (frame_is(f, "docker")) {
			docker = f;
			docker_rc = atoi(f->args + 6);
		} else if (frame_is(f, "networks")) {
			push_lines(&h.networks, f->body, f->body_len);
		} else if (frame_is(f, "containers")) {
			cont = f;
		} else if (frame_is(f, "images")) {
			images = f;
		} else if (frame_is(f, "file")) {
			parse_file_frame(&h, f);
		} else if (frame_is(f, "dir")) {
			parse_dir_frame(&h, f);
		} else if (frame_is(f, "lock")) {
			h.lock.held = f->args_len > 5 &&
				      strncmp(f->args + 5, "held", 4) == 0;
			if (h.lock.held && f->body_len) {
				h.lock.details =
					base64_text(f->body, f->body_len);
				/* Not base64 (made by hand?): keep it as it is.
				 */
				if (!h.lock.details)
					h.lock.details = kr_xstrndup(
						f->body, f->body_len);
			}
		}
	}
	if (!docker) {
		kr_error_set(KR_EPARSE,
			"observe output from '%s' has no docker section", host);
		err = KR_EPARSE;
		goto fail;
	}
	if (docker_rc != 0) {
		why = first_line(docker->body, docker->body_len);
		h.status = KR_OBS_NO_DOCKER;
		h.error = kr_xasprintf("docker is not usable on '%s': %s", host,
			*why ? why : "docker version failed");
		kr_error_set(KR_EDOCKER, "%s", h.error);
		err = KR_EDOCKER;
	} else {
		h.docker_version = first_line(docker->body, docker->body_len);
		if ((err = parse_containers(&h, host, scope, cont, images)) < 0)
			goto fail;
		h.status = KR_OBS_OK;
	}
	kr_observed_host_sort(&h);
	kr_observed_host_fingerprint(&h, h.fingerprint);
	*out = h;
	free(fr.v);
	free(why);
	return err;
fail : {
	char *msg = kr_xstrdup(kr_error_last());

	kr_observed_host_set_failure(&h, host, KR_OBS_FAILED, msg);
	h.observed_at = 0;
	kr_error_set(err, "%s", msg);
	free(msg);
}
	*out = h;
	free(fr.v);
	free(why);
	return err;
}

static void
make_nonce(char out[17])
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	unsigned char rnd[16];
	size_t i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		unsigned long v = (unsigned long)time(NULL) ^
				  (unsigned long)getpid() ^
				  (unsigned long)(size_t)out;

		for (i = 0; i < sizeof(rnd);
			i++, v = v * 6364136223846793005UL + 1)
			rnd[i] = (unsigned char)(v >> 33);
	}
	for (i = 0; i < 16; i++)
		out[i] = digits[rnd[i] % 36];
	out[16] = '\0';
}

int
kr_docker_observe(struct kr_observed_host *out, struct kr_transport *t,
	const struct kr_docker_scope *scope)
{
	struct kr_buf script = KR_BUF_INIT, cmd = KR_BUF_INIT;
	struct kr_exec_result res;
	char nonce[17];
	const char *host = t->host ? t->host : "?";
	int err;

	memset(out, 0, sizeof(*out));
	kr_exec_result_init(&res, 0);
	make_nonce(nonce);
	if ((err = kr_docker_observe_script(&script, scope, nonce)) < 0 ||
		(err = kr_buf_puts(&cmd, "/bin/sh -c")) < 0 ||
		(err = kr_shell_arg(&cmd, script.ptr)) < 0)
		goto fail;
	if ((err = t->vt->exec(t, cmd.ptr, NULL, 0, &res)) < 0)
		goto fail;
	if (res.status != 0 && res.out.len == 0) {
		char reason[256];

		kr_error_set(KR_EIO, "observe script failed on '%s': %s", host,
			kr_exec_result_reason(&res, reason, sizeof(reason)));
		err = KR_EIO;
		goto fail;
	}
	err = kr_docker_parse(
		out, host, scope, nonce, res.out.ptr, res.out.len);
	out->observed_at = time(NULL);
	goto done;
fail : {
	char *msg = kr_xstrdup(kr_error_last());

	kr_observed_host_set_failure(out, host, KR_OBS_FAILED, msg);
	kr_error_set(err, "%s", msg);
	free(msg);
}
done:
	kr_exec_result_release(&res);
	kr_buf_release(&script);
	kr_buf_release(&cmd);
	return err;
}

struct observe_all {
	struct kr_observe_job *jobs;
	void (*progress)(const struct kr_observe_job *job, void *arg);
	void *arg;
};

static int
observe_one(size_t i, void *data)
{
	struct observe_all *all = data;
	struct kr_observe_job *job = &all->jobs[i];
	struct kr_transport *t = NULL;
	int err;

	job->execs = 0;
	if ((err = kr_transport_connect(&t, &job->opts)) < 0) {
		char *msg = kr_xstrdup(kr_error_last());

		kr_observed_host_set_failure(
			&job->result, job->opts.host, KR_OBS_UNREACHABLE, msg);
		kr_error_set(err, "%s", msg);
		free(msg);
		return err;
	}
	err = kr_docker_observe(&job->result, t, job->scope);
	job->execs = t->exec_count;
	kr_transport_close(t);
	return err;
}

static void
observe_progress(size_t i, const struct kr_pool_result *r, void *data)
{
	struct observe_all *all = data;

	if (all->progress)
		all->progress(&all->jobs[i], all->arg);
}

size_t
kr_docker_observe_all(struct kr_observe_job *jobs, size_t n,
	unsigned max_parallel,
	void (*progress)(const struct kr_observe_job *job, void *arg),
	void *arg)
{
	struct observe_all all = { jobs, progress, arg };
	struct kr_pool_result *r = kr_xcalloc(n ? n : 1, sizeof(*r));
	size_t failed;

	failed = kr_pool_run(
		r, n, max_parallel, observe_one, observe_progress, &all);
	kr_pool_results_release(r, n);
	free(r);
	return failed;
}
