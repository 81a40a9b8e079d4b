/*
 * The processes an ERB template starts: backtick commands (/bin/sh -c, as
 * Ruby runs them) and, for templates kreconcile does not render itself,
 * Ruby's own ERB. Each runs in the app root with our environment and stdin
 * (a password prompt still works), in its own process group that is killed
 * on timeout, with its output capped. The template reaches Ruby on a pipe
 * (fd 3), never in argv; Ruby reports its error and its changes to ENV on
 * fd 4, so that Dotenv.load and ENV[...] = in the template reach the rest of
 * the run as they would in Kamal's process.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/vec.h"
#include "state/erb_int.h"

extern char **environ;

#define RUBY_MAX_OUTPUT (16u << 20)

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Move fd to want in the child, even when the pipe landed on want. */
static void
child_fd(int fd, int want)
{
	if (fd == want) {
		fcntl(fd, F_SETFD, 0);
		return;
	}
	dup2(fd, want);
}

int
kr_erb_run_child(
	const struct kr_erb_child *c, struct kr_buf *why, int *status_out)
{
	int outp[2] = { -1, -1 }, inp[2] = { -1, -1 }, sidep[2] = { -1, -1 };
	int status = 0, rc = KR_EIO, tty = -1, too_big = 0, timed_out = 0;
	size_t written = 0;
	long long deadline;
	sigset_t all, old;
	struct sigaction dfl;
	char **envp = environ;
	size_t nenv = 0;
	pid_t pid;

	if (c->extra_env) {
		while (environ && environ[nenv])
			nenv++;
		envp = kr_xcalloc(nenv + 2, sizeof(*envp));
		memcpy(envp, environ, nenv * sizeof(*envp));
		envp[nenv] = (char *)c->extra_env;
	}
	if (pipe(outp) < 0 || (c->input && pipe(inp) < 0) ||
		(c->side && pipe(sidep) < 0)) {
		kr_buf_printf(why, "cannot create a pipe: %s", strerror(errno));
		goto out;
	}
	/* every pipe end above 4, so the child's dup2 onto 3/4 is safe */
	{
		int *fds[] = { &outp[0], &outp[1], &inp[0], &inp[1], &sidep[0],
			&sidep[1] };
		size_t i;

		for (i = 0; i < 6; i++)
			if (*fds[i] >= 0 && *fds[i] <= 4) {
				int nfd = fcntl(*fds[i], F_DUPFD_CLOEXEC, 5);

				close(*fds[i]);
				*fds[i] = nfd;
			} else if (*fds[i] >= 0) {
				fcntl(*fds[i], F_SETFD, FD_CLOEXEC);
			}
	}
	if (isatty(0) && tcgetpgrp(0) == getpgrp())
		tty = 0;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		if (tty >= 0)
			tcsetpgrp(tty, getpid());
		sigaction(SIGPIPE, &dfl, NULL);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (c->dir && *c->dir && chdir(c->dir) < 0)
			_exit(126);
		child_fd(outp[1], 1);
		if (inp[0] >= 0)
			child_fd(inp[0], 3);
		if (sidep[1] >= 0)
			child_fd(sidep[1], 4);
		execve(c->argv[0], (char *const *)c->argv, envp);
		_exit(127);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		kr_buf_printf(why, "cannot start %s: %s", c->argv[0],
			strerror(errno));
		goto out;
	}
	setpgid(pid, pid);
	if (tty >= 0)
		tcsetpgrp(tty, pid);
	close_fd(&outp[1]);
	close_fd(&inp[0]);
	close_fd(&sidep[1]);
	if (inp[1] >= 0)
		fcntl(inp[1], F_SETFL, O_NONBLOCK);
	if (inp[1] >= 0 && c->input_len == 0)
		close_fd(&inp[1]);

	deadline = now_ms() + (long long)c->timeout * 1000;
	while (outp[0] >= 0 || sidep[0] >= 0 || inp[1] >= 0) {
		struct pollfd pf[3];
		int np = 0, left = (int)(deadline - now_ms()), r, i;

		if (left <= 0) {
			timed_out = 1;
			break;
		}
		if (outp[0] >= 0)
			pf[np++] = (struct pollfd){ .fd = outp[0],
				.events = POLLIN };
		if (sidep[0] >= 0)
			pf[np++] = (struct pollfd){ .fd = sidep[0],
				.events = POLLIN };
		if (inp[1] >= 0)
			pf[np++] = (struct pollfd){ .fd = inp[1],
				.events = POLLOUT };
		r = poll(pf, (nfds_t)np, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		for (i = 0; i < np; i++) {
			char chunk[8192];
			ssize_t n;

			if (!pf[i].revents)
				continue;
			if (pf[i].fd == inp[1]) {
				n = write(inp[1], c->input + written,
					c->input_len - written);
				if (n > 0)
					written += (size_t)n;
				if ((n < 0 && errno != EAGAIN &&
					    errno != EINTR) ||
					written == c->input_len)
					close_fd(&inp[1]);
				continue;
			}
			n = read(pf[i].fd, chunk, sizeof(chunk));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				if (pf[i].fd == outp[0])
					close_fd(&outp[0]);
				else
					close_fd(&sidep[0]);
				continue;
			}
			if (kr_buf_put(pf[i].fd == outp[0] ? c->out : c->side,
				    chunk, (size_t)n) < 0) {
				too_big = 1;
				break;
			}
			memset(chunk, 0, sizeof(chunk));
		}
		if (too_big)
			break;
	}
	while (!timed_out && !too_big) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			break;
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
		if (timed_out) {
			kr_buf_printf(why,
				"timed out after %d s (process group "
				"killed)",
				c->timeout);
			rc = KR_ETIMEOUT;
		} else {
			kr_buf_printf(why,
				"wrote more than %zu bytes (process "
				"group killed)",
				c->out->max);
			rc = KR_EINVAL;
		}
		goto out;
	}
	if (WIFEXITED(status)) {
		*status_out = WEXITSTATUS(status);
		rc = WEXITSTATUS(status) == 0 ? 0 : KR_ERROR;
		if (rc)
			kr_buf_printf(why, "exited with status %d",
				WEXITSTATUS(status));
	} else {
		kr_buf_printf(why, "killed by signal %d", WTERMSIG(status));
		rc = KR_ERROR;
	}
out:
	close_fd(&outp[0]);
	close_fd(&outp[1]);
	close_fd(&inp[0]);
	close_fd(&inp[1]);
	close_fd(&sidep[0]);
	close_fd(&sidep[1]);
	if (envp != environ)
		free(envp);
	if (tty >= 0) {
		sigemptyset(&all);
		sigaddset(&all, SIGTTOU);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		tcsetpgrp(tty, getpgrp());
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	return rc;
}

char *
kr_erb_find_ruby(void)
{
	const char *path = getenv("PATH"), *p;

	if (!path)
		return NULL;
	for (p = path;;) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		char *cand = kr_xasprintf("%.*s/ruby", (int)n, n ? p : ".");
		struct stat st;

		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) &&
			access(cand, X_OK) == 0)
			return cand;
		free(cand);
		if (!colon)
			return NULL;
		p = colon + 1;
	}
}

/*
 * Kamal's render, in Ruby: ERB.new(text, trim_mode: "-").result with dotenv
 * and ActiveSupport's blank?/present? loaded when installed, as they are in
 * Kamal's process. fd 4 gets "E<message>" on an exception, else the ENV
 * changes as "S<key>\0<value>\0" and "U<key>\0".
 */
static const char ruby_script[] =
	"require 'erb'\n"
	"begin; require 'dotenv'; rescue LoadError; end\n"
	"begin; require 'active_support/core_ext/object/blank'; "
	"rescue LoadError, StandardError; end\n"
	"side = IO.new(4, 'wb')\n"
	"text = IO.new(3, 'rb').read.force_encoding(Encoding::UTF_8)\n"
	"before = ENV.to_h\n"
	"begin\n"
	"  out = ERB.new(text, trim_mode: '-').result\n"
	"rescue Exception => e\n"
	"  line = (e.backtrace || []).map { |l| l[/\\A\\(erb\\):(\\d+)/, 1] "
	"}.compact.first\n"
	"  side.write(\"E#{line}\\t#{e.class}: #{e.message}\".b); side.close\n"
	"  exit 1\n"
	"end\n"
	"$stdout.binmode; $stdout.write(out); $stdout.flush\n"
	"after = ENV.to_h\n"
	"after.each { |k, v| side.write(\"S#{k}\\0#{v}\\0\".b) if before[k] != "
	"v }\n"
	"before.each_key { |k| side.write(\"U#{k}\\0\".b) unless after.key?(k) "
	"}\n"
	"side.close\n";

static void
apply_env(const struct kr_buf *side, const struct kr_erb_opts *o)
{
	const char *p = side->ptr, *end = side->ptr + side->len;

	while (p < end) {
		char kind = *p++;
		const char *k = p, *v;

		while (p < end && *p)
			p++;
		if (p >= end)
			return;
		p++;
		if (kind == 'U') {
			if (!o->getenv_fn)
				unsetenv(k);
			continue;
		}
		v = p;
		while (p < end && *p)
			p++;
		if (p >= end)
			return;
		p++;
		if (kind == 'S' && !o->getenv_fn)
			setenv(k, v, 1);
	}
}

int
kr_erb_run_ruby(struct kr_buf *out, const struct erb_tpl *t, const char *ruby,
	const struct kr_erb_opts *o)
{
	struct kr_diags *diags = t->diags;
	const char *file = t->file, *text = t->text;
	size_t len = t->len;
	const char *argv[] = { ruby, "-e", ruby_script, NULL };
	struct kr_buf res = KR_BUF_INIT, side = KR_BUF_INIT, why = KR_BUF_INIT;
	struct kr_erb_child c = { 0 };
	int status = 0, rc;

	res.max = RUBY_MAX_OUTPUT;
	side.max = RUBY_MAX_OUTPUT;
	c.argv = argv;
	c.dir = o->dir;
	c.input = text;
	c.input_len = len;
	c.out = &res;
	c.side = &side;
	c.timeout = o->timeout > 0 ? o->timeout : 60;
	rc = kr_erb_run_child(&c, &why, &status);
	if (rc == 0) {
		kr_buf_put(out, res.ptr, res.len);
		apply_env(&side, o);
	} else if (side.len && side.ptr[0] == 'E') {
		size_t n = 1, i;
		int line = 0, col = 0, l, cl;
		char *shown = NULL;

		kr_buf_putc(&side, '\0');
		line = atoi(side.ptr + 1);
		while (n < side.len && side.ptr[n] != '\t')
			n++;
		i = ++n;
		while (n < side.len && side.ptr[n] != '\n' && side.ptr[n])
			n++;
		/* the construct that needed Ruby, on the line Ruby names */
		for (l = 0; line && l < (int)t->nunsupported && l < 16; l++) {
			kr_erb_linecol(t, t->unsup_off[l], &cl, &col);
			if (cl == line) {
				shown = kr_erb_shown(
					t, t->unsup_off[l], t->unsup_end[l]);
				break;
			}
			col = 0;
		}
		if (shown)
			kr_diags_add(diags, file, line, col,
				"ERB '%s' (rendered "
				"by %s): %.*s",
				shown, ruby, (int)(n - i), side.ptr + i);
		else
			kr_diags_add(diags, file, line, 0,
				"ERB (rendered by "
				"%s): %.*s",
				ruby, (int)(n - i), side.ptr + i);
		free(shown);
		rc = KR_ECONFIG;
	} else {
		kr_diags_add(
			diags, file, 0, 0, "Ruby's ERB (%s) %s", ruby, why.ptr);
		rc = KR_ECONFIG;
	}
	if (side.len)
		memset(side.ptr, 0, side.len);
	kr_buf_release(&res);
	kr_buf_release(&side);
	kr_buf_release(&why);
	return rc;
}
