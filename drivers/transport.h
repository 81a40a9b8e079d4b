/*
 * The transport interface: how commands reach a host. One connection per
 * host per run, reused for every exec (git's transport.c vtable idea).
 * Implementations: ssh (libssh), local (fork/exec /bin/sh -c).
 */
#ifndef KR_DRIVERS_TRANSPORT_H
#define KR_DRIVERS_TRANSPORT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/vec.h"

/* How to reach one host. Strings are borrowed for the connection's life. */
struct kr_transport_opts {
	const char *host;
	const char *user; /* default "root" */
	int port; /* default 22 */
	const struct kr_strvec *keys; /* identity files; may be NULL */
	const struct kr_strvec
		*key_data; /* private keys as PEM text (secrets); may be NULL */
	bool keys_only;
	const char *known_hosts; /* NULL = ~/.ssh/known_hosts */
	bool accept_new_host_keys;
	const char *proxy; /* bastion "user@host[:port]" or NULL */
	const char *proxy_command; /* or NULL */
	const char *log_level;
	const char *ssh_config; /* ~/.ssh/config unless set; "" = none */
	int connect_timeout; /* seconds, default 10 */
	size_t output_max; /* cap for stdout and stderr each, default 64 MiB */
	int exec_timeout; /* seconds one exec may take; 0 = no deadline */
	const volatile sig_atomic_t
		*cancel; /* non-zero: give up the exec in flight */
};

struct kr_exec_result {
	struct kr_buf out;
	struct kr_buf err;
	int status; /* exit status; -1 when killed by a signal */
};

struct kr_transport;

struct kr_transport_vtable {
	const char *name;
	int (*connect)(struct kr_transport **out,
		const struct kr_transport_opts *opts);
	/* Run cmd through the remote /bin/sh; stdin_data may be NULL. */
	int (*exec)(struct kr_transport *t, const char *cmd,
		const void *stdin_data, size_t stdin_len,
		struct kr_exec_result *res);
	/* Write data to path (relative to home) atomically with mode. */
	int (*upload)(struct kr_transport *t, const char *path,
		const void *data, size_t len, int mode);
	void (*close)(struct kr_transport *t);
};

struct kr_transport {
	const struct kr_transport_vtable *vt;
	unsigned exec_count; /* execs sent on this connection */
	const char *host; /* for messages; owned by the driver */
	/*
	 * The limits of every exec from here on (kr_transport_limit): when
	 * *cancel becomes non-zero the exec in flight is given up
	 * (KR_ECANCELED) and none is started; past timeout seconds it is
	 * given up too (KR_ETIMEOUT, "no answer from HOST within N s"). A
	 * given-up exec's channel is closed; what it started on the host
	 * may go on.
	 */
	const volatile sig_atomic_t *cancel;
	int timeout;
};

extern const struct kr_transport_vtable kr_transport_ssh;
extern const struct kr_transport_vtable kr_transport_local;

/* Pick the vtable for a host: local for localhost/127.0.0.1, else ssh. */
const struct kr_transport_vtable *kr_transport_for(const char *host);

void kr_exec_result_init(struct kr_exec_result *r, size_t max);
void kr_exec_result_release(struct kr_exec_result *r);

/*
 * Connect with the vtable kr_transport_for(opts->host) picks. Hostnames
 * that start with '-' or hold characters no host name has are refused.
 */
int kr_transport_connect(
	struct kr_transport **out, const struct kr_transport_opts *opts);
/* Close and free; accepts NULL. */
void kr_transport_close(struct kr_transport *t);
/* Set the limits of the execs to come (cancel may be NULL, timeout 0 =
 * none). */
void kr_transport_limit(struct kr_transport *t,
	const volatile sig_atomic_t *cancel, int timeout);
/*
 * For an exec's wait loop: KR_ECANCELED or KR_ETIMEOUT with the message
 * set once a limit of t is reached (started_ms: when the exec began, on
 * kr_transport_now_ms's clock); 0 otherwise. *wait_ms is how long to wait
 * before asking again (at most `longest`).
 */
int kr_transport_check_limits(const struct kr_transport *t,
	long long started_ms, int longest, int *wait_ms);
long long kr_transport_now_ms(void);
/* KR_EINVAL with a message unless host is a usable host name or address. */
int kr_transport_check_host(const char *host);
/*
 * The upload both drivers share: one exec whose stdin is the data,
 * `mkdir -p DIR && umask 077 && cat > TMP && chmod MODE TMP && mv -f TMP PATH`
 * (every path quoted), so the file appears whole with its mode or not at all.
 */
int kr_transport_upload_via_exec(struct kr_transport *t, const char *path,
	const void *data, size_t len, int mode);
/* The first line of a command's stderr (or stdout), for messages; static. */
const char *kr_exec_result_reason(
	const struct kr_exec_result *r, char *buf, size_t size);

#endif
