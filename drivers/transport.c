/*
 * What every transport shares: picking the driver for a host, checking host
 * names before they reach a command line, the exec result, and the atomic
 * upload (temp file + rename through one exec) that ssh and local both use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/quote.h"
#include "drivers/transport.h"

const struct kr_transport_vtable *
kr_transport_for(const char *host)
{
	if (host && (strcmp(host, "localhost") == 0 ||
			    strcmp(host, "127.0.0.1") == 0 ||
			    strcmp(host, "::1") == 0))
		return &kr_transport_local;
	return &kr_transport_ssh;
}

int
kr_transport_check_host(const char *host)
{
	const char *p;

	if (!host || !*host) {
		kr_error_set(KR_EINVAL, "empty host name");
		return KR_EINVAL;
	}
	if (host[0] == '-') {
		kr_error_set(KR_EINVAL,
			"host name '%s' starts with '-' (refused: it would be "
			"read as an option)",
			host);
		return KR_EINVAL;
	}
	/* Names, IPv4, IPv6 (with brackets and zone ids) and nothing else. */
	for (p = host; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || strchr(".-_:[]%", c))
			continue;
		kr_error_set(KR_EINVAL,
			"host name '%s' holds a character no host name has",
			host);
		return KR_EINVAL;
	}
	return 0;
}

int
kr_transport_connect(
	struct kr_transport **out, const struct kr_transport_opts *opts)
{
	int err;

	if ((err = kr_transport_check_host(opts->host)) < 0)
		return err;
	if ((err = kr_transport_for(opts->host)->connect(out, opts)) < 0)
		return err;
	kr_transport_limit(*out, opts->cancel, opts->exec_timeout);
	return 0;
}

void
kr_transport_limit(struct kr_transport *t, const volatile sig_atomic_t *cancel,
	int timeout)
{
	t->cancel = cancel;
	t->timeout = timeout > 0 ? timeout : 0;
}

long long
kr_transport_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
kr_transport_check_limits(const struct kr_transport *t, long long started_ms,
	int longest, int *wait_ms)
{
	long long left;

	*wait_ms = longest;
	if (t->cancel && *t->cancel) {
		kr_error_set(KR_ECANCELED,
			"cancelled while a command ran on "
			"'%s'",
			t->host ? t->host : "?");
		return KR_ECANCELED;
	}
	if (t->cancel && *wait_ms > 200)
		*wait_ms = 200; /* hear a cancel within a fifth of a second */
	if (t->timeout > 0) {
		left = started_ms + (long long)t->timeout * 1000 -
		       kr_transport_now_ms();
		if (left <= 0) {
			kr_error_set(KR_ETIMEOUT,
				"no answer from '%s' within "
				"%d s (the command was given up; is the host "
				"or its docker daemon stuck?)",
				t->host ? t->host : "?", t->timeout);
			return KR_ETIMEOUT;
		}
		if (left < *wait_ms)
			*wait_ms = (int)left;
	}
	return 0;
}

void
kr_transport_close(struct kr_transport *t)
{
	if (t)
		t->vt->close(t);
}

void
kr_exec_result_init(struct kr_exec_result *r, size_t max)
{
	kr_buf_init(&r->out, max);
	kr_buf_init(&r->err, max);
	r->status = -1;
}

void
kr_exec_result_release(struct kr_exec_result *r)
{
	kr_buf_release(&r->out);
	kr_buf_release(&r->err);
	r->status = -1;
}

const char *
kr_exec_result_reason(const struct kr_exec_result *r, char *buf, size_t size)
{
	const struct kr_buf *b = r->err.len ? &r->err : &r->out;
	size_t n = 0;
	const char *p = b->ptr;

	/* Skip blank lines, then take one line. */
	while (*p == '\n' || *p == '\r')
		p++;
	while (p[n] && p[n] != '\n' && p[n] != '\r')
		n++;
	if (n == 0) {
		if (r->status >= 0)
			snprintf(buf, size, "exit status %d", r->status);
		else
			snprintf(buf, size, "killed by a signal");
		return buf;
	}
	if (n >= size)
		n = size - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

/* A name no other upload of the same file will pick. */
static void
temp_suffix(char out[17])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[8];
	size_t i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		unsigned long v = (unsigned long)getpid() ^
				  (unsigned long)time(NULL) ^
				  (unsigned long)(size_t)out;

		for (i = 0; i < sizeof(rnd); i++, v >>= 8)
			rnd[i] = (unsigned char)v;
	}
	for (i = 0; i < sizeof(rnd); i++) {
		out[2 * i] = hex[rnd[i] >> 4];
		out[2 * i + 1] = hex[rnd[i] & 15];
	}
	out[16] = '\0';
}

int
kr_transport_upload_via_exec(struct kr_transport *t, const char *path,
	const void *data, size_t len, int mode)
{
	struct kr_buf cmd = KR_BUF_INIT;
	struct kr_exec_result res;
	char suffix[17], reason[256];
	char *dir = NULL, *tmp = NULL;
	const char *slash, *base;
	int err;

	kr_exec_result_init(&res, 64 * 1024);
	if (!path || !*path || path[strlen(path) - 1] == '/') {
		kr_error_set(KR_EINVAL, "upload needs a file name, got '%s'",
			path ? path : "");
		err = KR_EINVAL;
		goto out;
	}
	if (mode < 0 || mode > 07777) {
		kr_error_set(KR_EINVAL, "bad file mode %o for '%s'",
			(unsigned)mode, path);
		err = KR_EINVAL;
		goto out;
	}
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	if (slash)
		dir = kr_xstrndup(
			path, (size_t)(slash - path) + (slash == path));
	temp_suffix(suffix);
	tmp = kr_xasprintf(
		"%.*s.%s.kr-tmp-%s", (int)(base - path), path, base, suffix);

	if (dir && *dir) {
		if ((err = kr_buf_puts(&cmd, "mkdir -p --")) < 0 ||
			(err = kr_shell_arg(&cmd, dir)) < 0 ||
			(err = kr_buf_puts(&cmd, " && ")) < 0)
			goto out;
	}
	if ((err = kr_buf_puts(&cmd, "umask 077 && cat >")) < 0 ||
		(err = kr_shell_arg(&cmd, tmp)) < 0 ||
		(err = kr_buf_printf(&cmd, " && chmod %o", (unsigned)mode)) <
			0 ||
		(err = kr_shell_arg(&cmd, tmp)) < 0 ||
		(err = kr_buf_puts(&cmd, " && mv -f --")) < 0 ||
		(err = kr_shell_arg(&cmd, tmp)) < 0 ||
		(err = kr_shell_arg(&cmd, path)) < 0 ||
		(err = kr_buf_puts(&cmd, " || { rm -f --")) < 0 ||
		(err = kr_shell_arg(&cmd, tmp)) < 0 ||
		(err = kr_buf_puts(&cmd, "; exit 1; }")) < 0)
		goto out;

	if ((err = t->vt->exec(t, cmd.ptr, data, len, &res)) < 0)
		goto out;
	if (res.status != 0) {
		kr_error_set(KR_EIO, "upload of '%s' to '%s' failed: %s", path,
			t->host ? t->host : "?",
			kr_exec_result_reason(&res, reason, sizeof(reason)));
		err = KR_EIO;
		goto out;
	}
	err = 0;
out:
	kr_exec_result_release(&res);
	kr_buf_release(&cmd);
	free(dir);
	free(tmp);
	return err;
}
