/*
 * One command on an ssh session: a channel, stdin sent in chunks, stdout
 * and stderr gathered up to their caps through channel callbacks, the exit
 * status, and a keepalive while the command is quiet.
 */
#include <stdlib.h>
#include <string.h>

#include <libssh/callbacks.h>

#include "common/error.h"
#include "drivers/ssh_int.h"

#define SSH_KEEPALIVE_MS 15000

struct exec_ctx {
	struct kr_exec_result *res;
	int overflow;
	int eof;
	int closed;
	int got_status;
};

static int
on_data(ssh_session session, ssh_channel channel, void *data, uint32_t len,
	int is_stderr, void *userdata)
{
	struct exec_ctx *x = userdata;
	struct kr_buf *b = is_stderr ? &x->res->err : &x->res->out;

	if (b->max && b->len + len > b->max) {
		kr_buf_put(b, data, b->max - b->len);
		x->overflow = 1;
	} else if (kr_buf_put(b, data, len) < 0) {
		x->overflow = 1;
	}
	return (int)len;
}

static void
on_eof(ssh_session session, ssh_channel channel, void *userdata)
{
	((struct exec_ctx *)userdata)->eof = 1;
}

static void
on_close(ssh_session session, ssh_channel channel, void *userdata)
{
	((struct exec_ctx *)userdata)->closed = 1;
}

static void
on_exit_status(
	ssh_session session, ssh_channel channel, int status, void *userdata)
{
	struct exec_ctx *x = userdata;

	x->res->status = status;
	x->got_status = 1;
}

static void
on_exit_signal(ssh_session session, ssh_channel channel, const char *signal,
	int core, const char *errmsg, const char *lang, void *userdata)
{
	struct exec_ctx *x = userdata;

	x->res->status = -1;
	x->got_status = 1;
}

int
kr_ssh_exec(struct kr_transport *t, const char *cmd, const void *stdin_data,
	size_t stdin_len, struct kr_exec_result *res)
{
	struct ssh_transport *st = (struct ssh_transport *)t;
	ssh_session s = st->session;
	ssh_channel ch = NULL;
	ssh_event ev = NULL;
	struct ssh_channel_callbacks_struct cb;
	struct exec_ctx x = { .res = res };
	const char *p = stdin_data;
	size_t left = stdin_len;
	long long started = kr_transport_now_ms();
	int err, rc, wait_ms, quiet_ms = 0;

	if (t->cancel && *t->cancel) /* never start a command once cancelled */
		return kr_transport_check_limits(t, started, 0, &wait_ms);
	if (!res->out.max)
		res->out.max = st->output_max;
	if (!res->err.max)
		res->err.max = st->output_max;
	kr_buf_reset(&res->out);
	kr_buf_reset(&res->err);
	res->status = -1;

	memset(&cb, 0, sizeof(cb));
	cb.userdata = &x;
	cb.channel_data_function = on_data;
	cb.channel_eof_function = on_eof;
	cb.channel_close_function = on_close;
	cb.channel_exit_status_function = on_exit_status;
	cb.channel_exit_signal_function = on_exit_signal;
	ssh_callbacks_init(&cb);

	if (!(ch = ssh_channel_new(s)) ||
		ssh_channel_open_session(ch) != SSH_OK) {
		err = kr_ssh_fail(
			s, st->host, KR_ESSH, "cannot open a channel to");
		goto out;
	}
	ssh_set_channel_callbacks(ch, &cb);
	if (ssh_channel_request_exec(ch, cmd) != SSH_OK) {
		err = kr_ssh_fail(
			s, st->host, KR_ESSH, "cannot run a command on");
		goto out;
	}
	t->exec_count++;
	while (left > 0 && !x.closed && !x.eof) {
		uint32_t n = left > 32768 ? 32768 : (uint32_t)left;

		rc = ssh_channel_write(ch, p, n);
		if (rc == SSH_ERROR) {
			if (x.closed || ssh_channel_is_closed(ch))
				break; /* it exited without reading all of stdin
					*/
			err = kr_ssh_fail(
				s, st->host, KR_ESSH, "cannot send input to");
			goto out;
		}
		p += rc;
		left -= (size_t)rc;
	}
	if (!x.closed && ssh_channel_is_open(ch))
		ssh_channel_send_eof(ch);

	if (!(ev = ssh_event_new()) || ssh_event_add_session(ev, s) != SSH_OK) {
		kr_error_set(
			KR_ESSH, "cannot wait for a command on '%s'", st->host);
		err = KR_ESSH;
		goto out;
	}
	while (!x.closed && !ssh_channel_is_closed(ch)) {
		if ((err = kr_transport_check_limits(
			     t, started, SSH_KEEPALIVE_MS, &wait_ms)) < 0)
			goto out;
		rc = ssh_event_dopoll(ev, wait_ms);
		if (rc == SSH_ERROR) {
			err = kr_ssh_fail(s, st->host, KR_ESSH,
				"connection lost while running a command on");
			goto out;
		}
		if (rc != SSH_AGAIN) {
			quiet_ms = 0;
			continue;
		}
		/* quiet for a while: keep the path alive */
		quiet_ms += wait_ms;
		if (quiet_ms >= SSH_KEEPALIVE_MS) {
			ssh_send_ignore(s, "kreconcile keepalive");
			quiet_ms = 0;
		}
	}
	if (!x.got_status)
		res->status = ssh_channel_get_exit_status(ch);
	if (x.overflow) {
		kr_error_set(KR_EINVAL,
			"output of a command on '%s' is larger than %zu bytes",
			st->host,
			res->out.max > res->err.max ? res->out.max :
						      res->err.max);
		err = KR_EINVAL;
		goto out;
	}
	err = 0;
out:
	if (ev) {
		ssh_event_remove_session(ev, s);
		ssh_event_free(ev);
	}
	if (ch) {
		ssh_remove_channel_callbacks(ch, &cb);
		if (ssh_channel_is_open(ch))
			ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	return err;
}
