/*
 * The local transport: commands run on this machine through /bin/sh -c in
 * the user's home directory, with stdin, stdout and stderr on pipes served
 * by one poll loop. Used for localhost hosts and by the unit tests.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "drivers/transport.h"

struct local_transport {
	struct kr_transport base;
	char *host;
	size_t output_max;
};

#define LOCAL_OUTPUT_MAX ((size_t)64 * 1024 * 1024)

static int
local_connect(struct kr_transport **out, const struct kr_transport_opts *opts)
{
	struct local_transport *lt;
	int err;

	if ((err = kr_transport_check_host(opts->host)) < 0)
		return err;
	lt = kr_xcalloc(1, sizeof(*lt));
	lt->base.vt = &kr_transport_local;
	lt->host = kr_xstrdup(opts->host);
	lt->base.host = lt->host;
	lt->output_max = opts->output_max ? opts->output_max : LOCAL_OUTPUT_MAX;
	*out = &lt->base;
	return 0;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Append what is readable on fd to b, keeping at most b->max bytes. */
static int
drain(int *fd, struct kr_buf *b, int *overflow)
{
	char chunk[16384];
	ssize_t n = read(*fd, chunk, sizeof(chunk));

	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		return -errno;
	}
	if (n == 0) {
		close_fd(fd);
		return 0;
	}
	if (b->max && b->len + (size_t)n > b->max) {
		/* Keep what fits, then only drain. */
		kr_buf_put(b, chunk, b->max - b->len);
		*overflow = 1;
		return 0;
	}
	if (kr_buf_put(b, chunk, (size_t)n) < 0)
		*overflow = 1;
	return 0;
}

static void
child(const char *cmd, int in[2], int outp[2], int errp[2])
{
	const char *home = getenv("HOME");
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(in[0], 0) < 0 || dup2(outp[1], 1) < 0 || dup2(errp[1], 2) < 0)
		_exit(126);
	if (home && *home && chdir(home) != 0) {
		/* Like sshd: carry on in the current directory. */
	}
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

static int
local_exec(struct kr_transport *t, const char *cmd, const void *stdin_data,
	size_t stdin_len, struct kr_exec_result *res)
{
	struct local_transport *lt = (struct local_transport *)t;
	int in[2] = { -1, -1 }, outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	const unsigned char *src = stdin_data;
	size_t sent = 0;
	int overflow = 0, err = 0, wstatus = 0, wait_ms;
	long long started = kr_transport_now_ms();
	pid_t pid = -1;
	sigset_t pipe_set, old_set;

	if (t->cancel && *t->cancel) /* never start a command once cancelled */
		return kr_transport_check_limits(t, started, 0, &wait_ms);
	if (!res->out.max)
		res->out.max = lt->output_max;
	if (!res->err.max)
		res->err.max = lt->output_max;
	kr_buf_reset(&res->out);
	kr_buf_reset(&res->err);
	res->status = -1;

	/* A child that stops reading its stdin must not kill us with SIGPIPE.
	 */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0 ||
		pipe2(errp, O_CLOEXEC) < 0) {
		kr_error_set(KR_EIO,
			"cannot make pipes for a local command: %s",
			strerror(errno));
		err = KR_EIO;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		kr_error_set(KR_EIO, "cannot start a local command: %s",
			strerror(errno));
		err = KR_EIO;
		goto out;
	}
	if (pid == 0)
		child(cmd, in, outp, errp);
	t->exec_count++;
	close_fd(&in[0]);
	close_fd(&outp[1]);
	close_fd(&errp[1]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	if (!stdin_data || stdin_len == 0)
		close_fd(&in[1]);

	while (outp[0] >= 0 || errp[0] >= 0) {
		struct pollfd pfd[3];
		int n = 0, io = -1, o = -1, e = -1;

		if (in[1] >= 0) {
			pfd[n].fd = in[1];
			pfd[n].events = POLLOUT;
			io = n++;
		}
		if (outp[0] >= 0) {
			pfd[n].fd = outp[0];
			pfd[n].events = POLLIN;
			o = n++;
		}
		if (errp[0] >= 0) {
			pfd[n].fd = errp[0];
			pfd[n].events = POLLIN;
			e = n++;
		}
		if ((err = kr_transport_check_limits(
			     t, started, 60000, &wait_ms)) < 0)
			goto out;
		if (poll(pfd, (nfds_t)n, wait_ms) < 0) {
			if (errno == EINTR)
				continue;
			kr_error_set(KR_EIO, "poll on a local command: %s",
				strerror(errno));
			err = KR_EIO;
			goto out;
		}
		if (io >= 0 && pfd[io].revents) {
			ssize_t w = write(in[1], src + sent, stdin_len - sent);

			if (w > 0)
				sent += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR)
				close_fd(
					&in[1]); /* EPIPE: it stopped reading */
			if (sent == stdin_len)
				close_fd(&in[1]);
		}
		if (o >= 0 && pfd[o].revents &&
			drain(&outp[0], &res->out, &overflow) < 0)
			close_fd(&outp[0]);
		if (e >= 0 && pfd[e].revents &&
			drain(&errp[0], &res->err, &overflow) < 0)
			close_fd(&errp[0]);
	}
	close_fd(&in[1]);
	while (waitpid(pid, &wstatus, 0) < 0) {
		if (errno != EINTR) {
			kr_error_set(KR_EIO, "waiting for a local command: %s",
				strerror(errno));
			err = KR_EIO;
			pid = -1;
			goto out;
		}
	}
	pid = -1;
	res->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
	if (overflow) {
		kr_error_set(KR_EINVAL,
			"output of a command on '%s' is larger than %zu bytes",
			lt->host,
			res->out.max > res->err.max ? res->out.max :
						      res->err.max);
		err = KR_EINVAL;
	}
out:
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&outp[0]);
	close_fd(&outp[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	{
		/* Swallow a SIGPIPE raised while it was blocked. */
		sigset_t pending;
		struct timespec zero = { 0, 0 };

		sigpending(&pending);
		if (sigismember(&pending, SIGPIPE))
			sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old_set, NULL);
	return err;
}

static int
local_upload(struct kr_transport *t, const char *path, const void *data,
	size_t len, int mode)
{
	return kr_transport_upload_via_exec(t, path, data, len, mode);
}

static void
local_close(struct kr_transport *t)
{
	struct local_transport *lt = (struct local_transport *)t;

	if (!lt)
		return;
	free(lt->host);
	free(lt);
}

const struct kr_transport_vtable kr_transport_local = {
	.name = "local",
	.connect = local_connect,
	.exec = local_exec,
	.upload = local_upload,
	.close = local_close,
};
