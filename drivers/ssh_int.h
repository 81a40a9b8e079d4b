/*
 * What the files of the ssh transport share and nothing else sees (the
 * API is kr_transport_ssh in transport.h): the transport's struct, the one
 * place libssh errors are translated, and the steps of connecting and
 * running a command.
 */
#ifndef KR_DRIVERS_SSH_INT_H
#define KR_DRIVERS_SSH_INT_H

#include <stddef.h>

#include <libssh/libssh.h>

#include "drivers/transport.h"

struct ssh_transport {
	struct kr_transport base;
	ssh_session session;
	char *host; /* as given, for messages */
	size_t output_max;
};

/* The one place a libssh error becomes a kreconcile error: sets
 * "<what> '<host>': <libssh's reason>" with code and returns code. */
int kr_ssh_fail(ssh_session s, const char *host, int code, const char *what);
/* "~/x" -> "$HOME/x"; caller frees. */
char *kr_ssh_expand_home(const char *path);

/* ssh_options.c: ~/.ssh/config, then the transport options. */
int kr_ssh_set_options(
	struct ssh_transport *st, const struct kr_transport_opts *o);
/* ssh_hostkey.c: the server's key against known_hosts. */
int kr_ssh_verify_host_key(
	struct ssh_transport *st, const struct kr_transport_opts *o);
/* ssh_auth.c: key data, key files, then agent and default keys. */
int kr_ssh_authenticate(
	struct ssh_transport *st, const struct kr_transport_opts *o);
/* ssh_exec.c: the transport's exec. */
int kr_ssh_exec(struct kr_transport *t, const char *cmd, const void *stdin_data,
	size_t stdin_len, struct kr_exec_result *res);

#endif
