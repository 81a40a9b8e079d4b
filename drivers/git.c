/*
 * The git driver (see git.h): fork and exec `git` with an argv, never a
 * shell; read its stdout and stderr with poll() until it exits or its
 * deadline passes, then kill its whole process group.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "drivers/git.h"

#define GIT_OUTPUT_MAX (16u * 1024 * 1024)
#define GIT_ARGS_MAX 32

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
child(const char *dir, const char *const *args, int out, int err)
{
	const char *argv[GIT_ARGS_MAX + 4];
	int null = open("/dev/null", O_RDWR), i = 0, j;

	setpgid(0, 0);
	if (null >= 0)
		dup2(null, 0);
	dup2(out, 1);
	dup2(err, 2);
	argv[i++] = "git";
	if (dir) {
		argv[i++] = "-C";
		argv[i++] = dir;
	}
	for (j = 0; args[j] && j < GIT_ARGS_MAX; j++)
		argv[i++] = args[j];
	argv[i] = NULL;
	/* never ask on a terminal: watch runs unattended */
	setenv("GIT_TERMINAL_PROMPT", "0", 1);
	execvp("git", (char *const *)argv);
	_exit(127);
}

/* Read what is ready on fd into b; 1 at end of file. */
static int
drain(int fd, struct kr_buf *b)
{
	char chunk[8192];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : 1;
	if (n == 0)
		return 1;
	if (b->len + (size_t)n <= GIT_OUTPUT_MAX)
		kr_buf_put(b, chunk, (size_t)n);
	return 0;
}

/* The git command args run, for messages ("checkout-index", not
 * "--work-tree"). */
static const char *
subcommand(const char *const *args)
{
	size_t i;

	for (i = 0; args[i]; i++) {
		if (strcmp(args[i], "--work-tree") == 0 ||
			strcmp(args[i], "-c") == 0) {
			if (!args[++i])
				break;
			continue;
		}
		if (args[i][0] != '-')
			return args[i];
	}
	return args[0] ? args[0] : "?";
}

int
kr_git_run(struct kr_buf *out, const char *dir, const char *const *args,
	int timeout)
{
	const char *what = subcommand(args);
	struct kr_buf errb = KR_BUF_INIT;
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, status = 0, err;
	long long deadline =
		now_ms() +
		(long long)(timeout > 0 ? timeout : KR_GIT_TIMEOUT) * 1000;
	bool open_o = true, open_e = true, timed_out = false;
	pid_t pid;

	kr_buf_reset(out);
	if (pipe(po) < 0 || pipe(pe) < 0) {
		err = KR_EIO;
		kr_error_set(err, "git %s: %s", what, strerror(errno));
		goto out;
	}
	if ((pid = fork()) < 0) {
		err = KR_EIO;
		kr_error_set(
			err, "git %s: cannot start: %s", what, strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(dir, args, po[1], pe[1]);
	setpgid(pid, pid);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	while (open_o || open_e) {
		struct pollfd fds[2] = { { po[0], POLLIN, 0 },
			{ pe[0], POLLIN, 0 } };
		long long left = deadline - now_ms();

		if (left <= 0) {
			timed_out = true;
			kill(-pid, SIGKILL);
			break;
		}
		if (!open_o)
			fds[0].fd = -1;
		if (!open_e)
			fds[1].fd = -1;
		if (poll(fds, 2, left > 1000 ? 1000 : (int)left) < 0 &&
			errno != EINTR)
			break;
		if (open_o && fds[0].revents && drain(po[0], out))
			open_o = false;
		if (open_e && fds[1].revents && drain(pe[0], &errb))
			open_e = false;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out) {
		err = KR_ETIMEOUT;
		kr_error_set(err, "git %s: no answer within %d s", what,
			timeout > 0 ? timeout : KR_GIT_TIMEOUT);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		err = 0;
	} else {
		size_t n = strcspn(errb.ptr, "\n");

		err = KR_EIO;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !n)
			kr_error_set(err,
				"git %s: cannot run git (is it "
				"installed?)",
				what);
		else
			kr_error_set(err, "git %s: %.*s", what, (int)n,
				n ? errb.ptr : "failed");
	}
out:
	if (po[0] >= 0)
		close(po[0]);
	if (po[1] >= 0)
		close(po[1]);
	if (pe[0] >= 0)
		close(pe[0]);
	if (pe[1] >= 0)
		close(pe[1]);
	kr_buf_release(&errb);
	return err;
}

static void
chomp(struct kr_buf *b)
{
	while (b->len &&
		(b->ptr[b->len - 1] == '\n' || b->ptr[b->len - 1] == '\r'))
		kr_buf_truncate(b, b->len - 1);
}

static bool
is_sha(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return (n == 40 || n == 64) && !s[n];
}

int
kr_git_head(char **out, const char *dir)
{
	static const char *const args[] = { "rev-parse", "--verify", "-q",
		"HEAD", NULL };
	struct kr_buf b = KR_BUF_INIT;
	int err = kr_git_run(&b, dir, args, 30);

	chomp(&b);
	if (err == 0 && is_sha(b.ptr)) {
		*out = kr_buf_detach(&b, NULL);
		return 0;
	}
	kr_buf_release(&b);
	kr_error_set(KR_ENOTFOUND,
		"'%s' is in no git repository with a "
		"commit",
		dir);
	return KR_ENOTFOUND;
}

int
kr_git_remote_head(char **out, const char *url, const char *branch)
{
	char *ref = kr_xasprintf("refs/heads/%s", branch);
	const char *args[] = { "ls-remote", "--", url, ref, NULL };
	struct kr_buf b = KR_BUF_INIT;
	size_t n;
	int err = kr_git_run(&b, NULL, args, 60);

	if (err < 0)
		goto out;
	n = strcspn(b.ptr, "\t ");
	if (b.len == 0 || (n != 40 && n != 64)) {
		err = KR_ENOTFOUND;
		kr_error_set(err, "'%s' has no branch '%s'", url, branch);
		goto out;
	}
	*out = kr_xstrndup(b.ptr, n);
out:
	kr_buf_release(&b);
	free(ref);
	return err;
}

int
kr_git_checkout(const char *mirror, const char *worktree, const char *url,
	const char *branch, const char *commit)
{
	struct kr_buf b = KR_BUF_INIT;
	char *spec =
		kr_xasprintf("+refs/heads/%s:refs/heads/%s", branch, branch);
	char *want = kr_xasprintf("%s^{commit}", commit);
	struct stat st;
	int err;

	if (!is_sha(commit)) {
		err = KR_EINVAL;
		kr_error_set(err, "'%s' is not a commit id", commit);
		goto out;
	}
	if (stat(mirror, &st) != 0) {
		const char *init[] = { "init", "-q", "--bare", mirror, NULL };

		if ((err = kr_git_run(&b, NULL, init, 30)) < 0)
			goto out;
	}
	{
		const char *has[] = { "cat-file", "-e", want, NULL };

		if (kr_git_run(&b, mirror, has, 30) != 0) {
			const char *fetch[] = { "fetch", "-q", "--no-tags",
				"--", url, spec, NULL };

			if ((err = kr_git_run(&b, mirror, fetch, 300)) < 0)
				goto out;
		}
	}
	{
		/* the work tree holds exactly the commit's files: the
		 * mirror's index is set to its tree, written out, and
		 * anything else removed */
		const char *rt[] = { "--work-tree", worktree, "read-tree",
			commit, NULL };
		const char *co[] = { "--work-tree", worktree, "checkout-index",
			"-a", "-f", NULL };
		const char *clean[] = { "--work-tree", worktree, "clean", "-q",
			"-d", "-f", "-x", NULL };

		if (mkdir(worktree, 0700) != 0 && errno != EEXIST) {
			err = KR_EIO;
			kr_error_set(err, "cannot create '%s': %s", worktree,
				strerror(errno));
			goto out;
		}
		if ((err = kr_git_run(&b, mirror, rt, 120)) < 0 ||
			(err = kr_git_run(&b, mirror, co, 120)) < 0 ||
			(err = kr_git_run(&b, mirror, clean, 120)) < 0)
			goto out;
	}
	err = 0;
out:
	kr_buf_release(&b);
	free(spec);
	free(want);
	return err;
}

int
kr_git_upstream(char **url, char **branch, const char *dir)
{
	static const char *const up[] = { "rev-parse", "--abbrev-ref",
		"--symbolic-full-name", "@{upstream}", NULL };
	struct kr_buf b = KR_BUF_INIT;
	char *remote = NULL, *key = NULL, *slash;
	int err;

	if ((err = kr_git_run(&b, dir, up, 30)) < 0) {
		kr_error_set(err,
			"the checkout at '%s' has no upstream branch "
			"(give --repo and --branch)",
			dir);
		goto out;
	}
	chomp(&b);
	slash = strchr(b.ptr, '/');
	if (!slash) {
		err = KR_ENOTFOUND;
		kr_error_set(err, "cannot read the upstream '%s'", b.ptr);
		goto out;
	}
	remote = kr_xstrndup(b.ptr, (size_t)(slash - b.ptr));
	*branch = kr_xstrdup(slash + 1);
	key = kr_xasprintf("remote.%s.url", remote);
	{
		const char *get[] = { "config", "--get", key, NULL };

		if ((err = kr_git_run(&b, dir, get, 30)) < 0) {
			free(*branch);
			*branch = NULL;
			goto out;
		}
	}
	chomp(&b);
	*url = kr_buf_detach(&b, NULL);
out:
	kr_buf_release(&b);
	free(remote);
	free(key);
	return err;
}
