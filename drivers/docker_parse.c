/*
 * The observe script's output parsed (see docker.h): split into frames at
 * the marker lines, then the docker, networks, file, dir and lock frames
 * read here; the containers and images frames go to docker_inspect.c.
 * Pure: no I/O, no clock.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/error.h"
#include "drivers/docker.h"
#include "drivers/docker_int.h"

struct frames {
	struct frame *v;
	size_t n;
};

static void
split_frames(struct frames *fr, const char *nonce, const char *text, size_t len)
{
	char *marker = kr_xasprintf(KR_DOCKER_MARKER "%s ", nonce);
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

/* The number in f's arguments from offset `skip`, read within them only
 * (the frame is not NUL-terminated there); 0 without one. */
static int
args_int(const struct frame *f, size_t skip)
{
	char buf[24];
	size_t n;

	if (f->args_len <= skip)
		return 0;
	n = f->args_len - skip;
	if (n > sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	memcpy(buf, f->args + skip, n);
	buf[n] = '\0';
	return atoi(buf);
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
	char *w[6];
	size_t n = frame_words(w, 6, fr);
	struct kr_obs_file *f;
	const char *p, *end;

	/* file MODE SHA KIND MTIME PATH */
	if (n == 6) {
		f = add_file(h, w[5]);
		f->mtime = strspn(w[4], "0123456789") == strlen(w[4]) ?
				   (time_t)strtoll(w[4], NULL, 10) :
				   0;
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

int
kr_docker_parse(struct kr_observed_host *out, const char *host,
	const struct kr_docker_scope *scope, const char *nonce,
	const char *text, size_t len)
{
	struct kr_observed_host h;
	struct frames fr;
	const struct frame *docker = NULL, *cont = NULL, *images = NULL;
	const struct frame *routes = NULL;
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
			docker_rc = args_int(f, 6);
		} else if (frame_is(f, "networks")) {
			push_lines(&h.networks, f->body, f->body_len);
		} else if (frame_is(f, "containers")) {
			cont = f;
		} else if (frame_is(f, "images")) {
			images = f;
		} else if (frame_is(f, "routes")) {
			routes = f;
		} else if (frame_is(f, "file")) {
			parse_file_frame(&h, f);
		} else if (frame_is(f, "dir")) {
			parse_dir_frame(&h, f);
		} else if (frame_is(f, "lock")) {
			h.lock.held = f->args_len > 5 &&
				      strncmp(f->args + 5, "held", 4) == 0;
			if (h.lock.held && f->body_len) {
				/* a second lock frame replaces the first */
				free(h.lock.details);
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
		if ((err = kr_docker_parse_containers(
			     &h, host, scope, cont, images)) < 0)
			goto fail;
		kr_docker_proxy_container(&h.proxy, &h,
			scope->proxy_container ? scope->proxy_container :
						 "kamal-proxy");
		/* a frame "routes 0" holds the state file; anything else
		 * (the exec failed, a state that does not parse) leaves the
		 * routes unknown: the plan then says so */
		if (routes && routes->args_len == 8 &&
			memcmp(routes->args, "routes 0", 8) == 0)
			(void)kr_docker_parse_proxy_state(
				&h.proxy, host, routes->body, routes->body_len);
		h.status = KR_OBS_OK;
	}
	kr_observed_host_sort(&h);
	kr_observed_host_fingerprint(&h, h.fingerprint);
	*out = h;
	free(fr.v);
	free(why);
	return err;
fail:
	kr_docker_fail_host(&h, host, KR_OBS_FAILED, err);
	h.observed_at = 0;
	*out = h;
	free(fr.v);
	free(why);
	return err;
}
