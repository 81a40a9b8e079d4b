/*
 * The version to deploy: --app-version, else $VERSION, else the git HEAD of
 * the repository holding the configuration (kr_desired_version).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "state/desired.h"

/* Run git rev-parse HEAD in dir; the SHA or NULL. */
static char *
git_head(const char *dir)
{
	int fds[2];
	pid_t pid;
	char buf[128];
	size_t len = 0;
	ssize_t n;
	int status;

	if (pipe(fds) < 0)
		return NULL;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(fds[1], 1);
		if (null >= 0) {
			dup2(null, 2);
			dup2(null, 0);
		}
		close(fds[0]);
		close(fds[1]);
		execlp("git", "git", "-C", dir, "rev-parse", "--verify", "-q",
			"HEAD", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while (len < sizeof(buf) - 1 &&
	       (n = read(fds[0], buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		len += (size_t)n;
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return NULL;	/* status was never set */
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return NULL;
	buf[len] = '\0';
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	if (len < 40)
		return NULL;
	return kr_xstrdup(buf);
}

int
kr_desired_version(char **out, char **source, const char *app_version,
	const char *config_file)
{
	const char *env = getenv("VERSION");
	char *dir, *slash, *head;

	if (app_version && *app_version) {
		*out = kr_xstrdup(app_version);
		*source = kr_xstrdup("--app-version");
		return 0;
	}
	if (env && *env) {
		*out = kr_xstrdup(env);
		*source = kr_xstrdup("$VERSION");
		return 0;
	}
	dir = kr_xstrdup(config_file ? config_file : "");
	slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir ? 1 : 0] = '\0';
	else {
		free(dir);
		dir = kr_xstrdup(".");
	}
	head = git_head(dir);
	if (!head) {
		kr_error_set(KR_ENOTFOUND, "no version to deploy: give --app-version "
			"or set VERSION, or keep the configuration in a git repository "
			"with a commit ('%s' is not in one)", dir);
		free(dir);
		return KR_ENOTFOUND;
	}
	free(dir);
	*out = head;
	*source = kr_xstrdup("git HEAD");
	return 0;
}
