/*
 * The ssh transport on libssh 0.10: one session per host, opened once and
 * reused for every exec (a channel each, ssh_exec.c). Options come from the
 * transport options over ~/.ssh/config (ssh_options.c); host keys are
 * always verified against known_hosts (ssh_hostkey.c); authentication by
 * key data, key files, then agent and default keys (ssh_auth.c). libssh's
 * errors are turned into ours in one place, kr_ssh_fail().
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/error.h"
#include "drivers/ssh_int.h"

#define SSH_OUTPUT_MAX ((size_t)64 * 1024 * 1024)

/* The one place a libssh error becomes a kreconcile error. */
int
kr_ssh_fail(ssh_session s, const char *host, int code, const char *what)
{
	const char *why = s ? ssh_get_error(s) : "";

	if (!why || !*why)
		why = "unknown libssh error";
	kr_error_set(code, "%s '%s': %s", what, host, why);
	return code;
}

/* "~/x" -> "$HOME/x"; caller frees. */
char *
kr_ssh_expand_home(const char *path)
{
	const char *home = getenv("HOME");

	if (path[0] == '~' && (path[1] == '/' || path[1] == '\0') && home)
		return kr_xasprintf("%s%s", home, path + 1);
	return kr_xstrdup(path);
}

/* TCP keepalive, so a host that vanished is noticed; no-op through a proxy. */
static void
set_keepalive(ssh_session s)
{
	socket_t fd = ssh_get_fd(s);
	int on = 1, idle = 30, intvl = 10, cnt = 3;

	if (fd < 0 ||
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) < 0)
		return;
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

static void ssh_close_transport(struct kr_transport *t);

static int
ssh_connect_transport(
	struct kr_transport **out, const struct kr_transport_opts *o)
{
	struct ssh_transport *st;
	int err;

	if ((err = kr_transport_check_host(o->host)) < 0)
		return err;
	st = kr_xcalloc(1, sizeof(*st));
	st->base.vt = &kr_transport_ssh;
	st->host = kr_xstrdup(o->host);
	st->base.host = st->host;
	st->output_max = o->output_max ? o->output_max : SSH_OUTPUT_MAX;
	if (!(st->session = ssh_new())) {
		kr_error_set(KR_ENOMEM, "cannot make an ssh session for '%s'",
			o->host);
		err = KR_ENOMEM;
		goto out;
	}
	if ((err = kr_ssh_set_options(st, o)) < 0)
		goto out;
	if (ssh_connect(st->session) != SSH_OK) {
		char *what =
			o->proxy || o->proxy_command ?
				kr_xasprintf("cannot connect (through proxy "
					     "'%s', whose host key is "
					     "verified too) to",
					o->proxy_command ? o->proxy_command :
							   o->proxy) :
				kr_xstrdup("cannot connect to");

		err = kr_ssh_fail(st->session, st->host, KR_ESSH, what);
		free(what);
		goto out;
	}
	set_keepalive(st->session);
	if ((err = kr_ssh_verify_host_key(st, o)) < 0)
		goto out;
	if ((err = kr_ssh_authenticate(st, o)) < 0)
		goto out;
	*out = &st->base;
	return 0;
out:
	ssh_close_transport(&st->base);
	return err;
}

static int
ssh_upload(struct kr_transport *t, const char *path, const void *data,
	size_t len, int mode)
{
	return kr_transport_upload_via_exec(t, path, data, len, mode);
}

static void
ssh_close_transport(struct kr_transport *t)
{
	struct ssh_transport *st = (struct ssh_transport *)t;

	if (!st)
		return;
	if (st->session) {
		if (ssh_is_connected(st->session))
			ssh_disconnect(st->session);
		ssh_free(st->session);
	}
	free(st->host);
	free(st);
}

const struct kr_transport_vtable kr_transport_ssh = {
	.name = "ssh",
	.connect = ssh_connect_transport,
	.exec = kr_ssh_exec,
	.upload = ssh_upload,
	.close = ssh_close_transport,
};
