/*
 * A run's connections: one per host, opened on first use and kept until
 * the run ends, so observe, the deploy lock, the apply script, the second
 * observe and the lock release all go as channels on ONE connection.
 *
 * Every slot is added before any thread runs (kr_conns_add); after that a
 * slot is touched only by the thread working on its host, and the slot
 * array itself is never changed, so no lock is needed.
 *
 * A slot hands out a transport of its own (struct kr_transport: exec and
 * upload go to the host's connection). Its close is a no-op: the
 * connections are closed all at once by kr_conns_release. When an exec finds
 * the connection gone (a KR_ESSH failure), the slot drops it and opens a new
 * one, once per run: at once when the command had not started (it is
 * sent again), else before the next command (the one in flight failed:
 * what it did is unknown). on_reconnect is told either way.
 */
#ifndef KR_DRIVERS_CONNS_H
#define KR_DRIVERS_CONNS_H

#include <stdbool.h>
#include <stddef.h>

#include "drivers/transport.h"

#define KR_CONNS_NONE ((size_t)-1)

struct kr_conns;

/* One host's slot. Read its counters after the threads are done. */
struct kr_conn {
	struct kr_transport base; /* what callers exec on; exec_count
				   * counts every exec of the run */
	struct kr_conns *owner;
	char *host; /* owned */
	struct kr_transport_opts opts; /* host points at .host; the other
					* strings are borrowed */
	struct kr_transport *t; /* the open connection or NULL */
	unsigned connects; /* connections opened (ok) */
	unsigned attempts; /* connection attempts */
	char *error; /* why the last attempt failed; NULL */
	char *lost; /* why a connection was lost; NULL */
};

struct kr_conns {
	struct kr_conn **v;
	size_t n;
	/* How to open a connection; NULL = kr_transport_connect. */
	int (*connect)(struct kr_transport **out,
		const struct kr_transport_opts *opts, void *arg);
	void *connect_arg;
	/* Called on the host's thread when its connection was lost and a
	 * new one is being opened; reason says why (may be NULL). */
	void (*on_reconnect)(const char *host, const char *reason, void *arg);
	void *reconnect_arg;
	/* The limits of every exec on these connections (kr_transport_limit),
	 * changed between a run's steps: a cancel gives up an observe, never
	 * an apply script. */
	const volatile sig_atomic_t *cancel;
	int timeout;
};

void kr_conns_init(struct kr_conns *c);
/*
 * The slot for opts->host (added, with a copy of opts, unless one exists
 * already: then the first options stay). Not thread-safe: call it before
 * the threads start. The strings opts points at other than host must
 * outlive c.
 */
size_t kr_conns_add(struct kr_conns *c, const struct kr_transport_opts *opts);
/* The slot of host, or KR_CONNS_NONE. */
size_t kr_conns_find(const struct kr_conns *c, const char *host);
/*
 * The transport of slot i, connected: opens the connection unless it is
 * open. A host whose first connection could not be opened is not tried
 * again in the run (the same error is returned at once); one whose
 * connection was lost is reconnected once. Returns 0 or the connect's
 * negative KR_E* with kr_error_last() set.
 */
int kr_conns_get(struct kr_transport **out, struct kr_conns *c, size_t i);
/* Connections opened for slot i (0 when none). */
unsigned kr_conns_opened(const struct kr_conns *c, size_t i);
/* Close every connection and free the slots; accepts NULL. */
void kr_conns_release(struct kr_conns *c);

#endif
