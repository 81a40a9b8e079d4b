/*
 * A run's connections, one per host (see conns.h): slots opened on first
 * use, each handing out a transport whose exec goes to the host's one
 * connection and which reconnects once when that connection was lost.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "drivers/conns.h"

static int conn_exec(struct kr_transport *bt, const char *cmd,
	const void *stdin_data, size_t stdin_len, struct kr_exec_result *res);

static int
conn_upload(struct kr_transport *bt, const char *path, const void *data,
	size_t len, int mode)
{
	return kr_transport_upload_via_exec(bt, path, data, len, mode);
}

/* The slot owns the connection: kr_conns_release closes it. */
static void
conn_close(struct kr_transport *bt)
{
	(void)bt;
}

static const struct kr_transport_vtable conn_vtable = {
	.name = "conns",
	.connect = NULL,
	.exec = conn_exec,
	.upload = conn_upload,
	.close = conn_close,
};

void
kr_conns_init(struct kr_conns *c)
{
	memset(c, 0, sizeof(*c));
}

size_t
kr_conns_find(const struct kr_conns *c, const char *host)
{
	size_t i;

	for (i = 0; host && i < c->n; i++)
		if (strcmp(c->v[i]->host, host) == 0)
			return i;
	return KR_CONNS_NONE;
}

size_t
kr_conns_add(struct kr_conns *c, const struct kr_transport_opts *opts)
{
	struct kr_conn *k;
	size_t i = kr_conns_find(c, opts->host);

	if (i != KR_CONNS_NONE)
		return i;
	k = kr_xcalloc(1, sizeof(*k));
	k->owner = c;
	k->host = kr_xstrdup(opts->host ? opts->host : "");
	k->opts = *opts;
	k->opts.host = k->host;
	k->base.vt = &conn_vtable;
	k->base.host = k->host;
	c->v = kr_xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
	c->v[c->n] = k;
	return c->n++;
}

/* Whether slot k may open a connection now, and if not, why (set). */
static int
may_connect(struct kr_conn *k)
{
	if (k->attempts == 0)
		return 0;
	/* a first connection that failed is not tried again in the run */
	if (k->connects == 0) {
		kr_error_set(
			KR_ESSH, "%s", k->error ? k->error : "cannot connect");
		return KR_ESSH;
	}
	/* one reconnect after a lost connection */
	if (k->connects == 1 && k->attempts == 1)
		return 0;
	if (k->error && k->connects < k->attempts)
		kr_error_set(KR_ESSH, "%s", k->error);
	else
		kr_error_set(KR_ESSH,
			"the connection to '%s' was lost again "
			"(it was reconnected once already): %s",
			k->host, k->lost ? k->lost : "no reason given");
	return KR_ESSH;
}

static int
conn_open(struct kr_conn *k)
{
	struct kr_conns *c = k->owner;
	int err;

	if (k->t)
		return 0;
	if ((err = may_connect(k)) < 0)
		return err;
	if (k->connects && c->on_reconnect)
		c->on_reconnect(k->host, k->lost, c->reconnect_arg);
	k->attempts++;
	err = c->connect ? c->connect(&k->t, &k->opts, c->connect_arg) :
			   kr_transport_connect(&k->t, &k->opts);
	if (err < 0) {
		k->t = NULL;
		free(k->error);
		k->error = kr_xstrdup(kr_error_last());
		kr_error_set(err, "%s", k->error);
		return err;
	}
	k->connects++;
	return 0;
}

int
kr_conns_get(struct kr_transport **out, struct kr_conns *c, size_t i)
{
	int err;

	*out = NULL;
	if (i >= c->n) {
		kr_error_set(KR_EINVAL, "no connection slot %zu", i);
		return KR_EINVAL;
	}
	if ((err = conn_open(c->v[i])) < 0)
		return err;
	*out = &c->v[i]->base;
	return 0;
}

static int
conn_exec(struct kr_transport *bt, const char *cmd, const void *stdin_data,
	size_t stdin_len, struct kr_exec_result *res)
{
	struct kr_conn *k = (struct kr_conn *)bt;
	unsigned before;
	bool started;
	int err;

	for (;;) {
		if ((err = conn_open(k)) < 0)
			return err;
		before = k->t->exec_count;
		kr_transport_limit(k->t, k->owner->cancel, k->owner->timeout);
		err = k->t->vt->exec(k->t, cmd, stdin_data, stdin_len, res);
		started = k->t->exec_count != before;
		bt->exec_count += k->t->exec_count - before;
		if (err != KR_ESSH)
			return err;
		/* the connection is gone or unusable: drop it */
		free(k->lost);
		k->lost = kr_xstrdup(kr_error_last());
		kr_transport_close(k->t);
		k->t = NULL;
		/* a command that started may have done something: its
		 * failure stands, the next command reconnects */
		if (started || k->attempts > 1) {
			kr_error_set(err, "%s", k->lost);
			return err;
		}
		/* it never started: send it again on a new connection */
	}
}

unsigned
kr_conns_opened(const struct kr_conns *c, size_t i)
{
	return i < c->n ? c->v[i]->connects : 0;
}

static void
close_all(struct kr_conns *c)
{
	size_t i;

	for (i = 0; c && i < c->n; i++) {
		kr_transport_close(c->v[i]->t);
		c->v[i]->t = NULL;
	}
}

void
kr_conns_release(struct kr_conns *c)
{
	size_t i;

	if (!c)
		return;
	close_all(c);
	for (i = 0; i < c->n; i++) {
		free(c->v[i]->host);
		free(c->v[i]->error);
		free(c->v[i]->lost);
		free(c->v[i]);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}
