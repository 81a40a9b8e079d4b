/*
 * The default $(command) runner of secrets files (kr_secrets_run_command):
 * /bin/sh in its own process group (the terminal handed over while it runs,
 * for password prompts), the command passed through the environment rather
 * than argv, stdout and stderr read with a deadline, the whole group killed
 * on timeout, and every buffer that held output wiped.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "state/secrets_int.h"

extern char **environ;

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
kr_secrets_run_command(struct kr_buf *out, struct kr_buf *why,
	const char *command, int timeout, void *arg)
{
	static const char script[] =
		"eval \"unset KR_SECRETS_COMMAND\n$KR_SECRETS_COMMAND\"";
	struct kr_buf errb = KR_BUF_INIT;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	char **envp = NULL, *cmdvar = NULL;
	size_t nenv = 0, i;
	long long deadline;
	pid_t pid = -1;
	int status = 0, err = KR_ERROR, open_fds, timed_out = 0, too_big = 0;
	int tty = -1;
	sigset_t all, old;
	struct sigaction dfl;

	(void)arg;
	errb.max = MAX_STDERR;
	if (timeout <= 0)
		timeout = DEFAULT_TIMEOUT;

	/* Everything the child needs is built before fork. */
	while (environ && environ[nenv])
		nenv++;
	envp = kr_xcalloc(nenv + 2, sizeof(*envp));
	for (i = 0; i < nenv; i++)
		envp[i] = environ[i];
	cmdvar = kr_xasprintf("KR_SECRETS_COMMAND=%s", command);
	envp[nenv] = cmdvar;

	if (pipe(outp) < 0 || pipe(errp) < 0) {
		kr_buf_printf(why, "cannot create a pipe: %s", strerror(errno));
		goto out;
	}
	fcntl(outp[0], F_SETFD, FD_CLOEXEC);
	fcntl(errp[0], F_SETFD, FD_CLOEXEC);

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	/*
	 * The command gets its own process group, so that a timeout can kill
	 * everything it started. When we own the terminal, the new group is
	 * made the foreground one while it runs, so that a password prompt
	 * (op, bw, lpass...) can still read from it, as under Kamal.
	 */
	if (isatty(0) && tcgetpgrp(0) == getpgrp())
		tty = 0;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		if (tty >= 0)
			tcsetpgrp(tty, getpid());
		sigaction(SIGPIPE, &dfl, NULL);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		dup2(outp[1], 1);
		dup2(errp[1], 2);
		close(outp[0]);
		close(errp[0]);
		close(outp[1]);
		close(errp[1]);
		execle("/bin/sh", "sh", "-c", script, (char *)NULL, envp);
		_exit(127);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		kr_buf_printf(why, "cannot start /bin/sh: %s", strerror(errno));
		goto out;
	}
	setpgid(pid, pid);
	if (tty >= 0)
		tcsetpgrp(tty, pid);
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;

	deadline = now_ms() + (long long)timeout * 1000;
	open_fds = 2;
	while (open_fds > 0) {
		struct pollfd pf[2];
		int np = 0, left = (int)(deadline - now_ms()), r;

		if (left <= 0) {
			timed_out = 1;
			break;
		}
		if (outp[0] >= 0)
			pf[np++] = (struct pollfd){ .fd = outp[0], .events = POLLIN };
		if (errp[0] >= 0)
			pf[np++] = (struct pollfd){ .fd = errp[0], .events = POLLIN };
		r = poll(pf, (nfds_t)np, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		for (i = 0; i < (size_t)np; i++) {
			char chunk[4096];
			ssize_t n;
			int *fd;
			struct kr_buf *dst;

			if (!pf[i].revents)
				continue;
			fd = pf[i].fd == outp[0] ? &outp[0] : &errp[0];
			dst = fd == &outp[0] ? out : &errb;
			n = read(*fd, chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(*fd);
				*fd = -1;
				open_fds--;
				continue;
			}
			if (kr_buf_put(dst, chunk, (size_t)n) < 0 && dst == out) {
				too_big = 1;
				open_fds = 0;
			}
			kr_secrets_wipe(chunk, sizeof(chunk));
		}
	}
	/* Wait for the exit, still bounded by the deadline. */
	while (!timed_out && !too_big) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			kr_buf_printf(why, "cannot wait for /bin/sh: %s",
				strerror(errno));
			goto out;
		}
		if (now_ms() >= deadline) {
			timed_out = 1;
			break;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 5 * 1000000 }, NULL);
	}
	if (timed_out || too_big) {
		kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		pid = -1;
		if (timed_out) {
			kr_buf_printf(why, "timed out after %d s (process group killed)",
				timeout);
			err = KR_ETIMEOUT;
		} else {
			kr_buf_printf(why, "output is larger than %u bytes",
				MAX_OUTPUT);
		}
		goto out;
	}
	pid = -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		err = 0;
		goto out;
	}
	if (WIFSIGNALED(status))
		kr_buf_printf(why, "killed by signal %d", WTERMSIG(status));
	else
		kr_buf_printf(why, "exited with status %d", WEXITSTATUS(status));
	{
		size_t e = 0;

		while (e < errb.len && errb.ptr[e] != '\n')
			e++;
		if (e > 0) {
			kr_buf_puts(why, ": ");
			kr_buf_put(why, errb.ptr, e);
		}
	}
out:
	if (outp[0] >= 0)
		close(outp[0]);
	if (outp[1] >= 0)
		close(outp[1]);
	if (errp[0] >= 0)
		close(errp[0]);
	if (errp[1] >= 0)
		close(errp[1]);
	if (pid > 0) {
		kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (tty >= 0) {
		/* Take the terminal back; SIGTTOU would stop us otherwise. */
		sigemptyset(&all);
		sigaddset(&all, SIGTTOU);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		tcsetpgrp(tty, getpgrp());
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	kr_secrets_buf_wipe_release(&errb);
	if (cmdvar)
		kr_free_secret(cmdvar);
	free(envp);
	if (err < 0 && out->len) {
		kr_secrets_wipe(out->ptr, out->len);
		kr_buf_reset(out);
	}
	return err;
}
