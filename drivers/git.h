/*
 * The git driver: every call kreconcile makes to the `git` CLI, run without
 * a shell (argv only), with a deadline and a cap on what it prints. The
 * version Kamal deploys by default (the config's repository HEAD) and, for
 * watch, the remote's head (ls-remote), a private mirror (fetch) and a
 * private checkout of one commit.
 */
#ifndef KR_DRIVERS_GIT_H
#define KR_DRIVERS_GIT_H

#include "common/buf.h"

#define KR_GIT_TIMEOUT 120 /* seconds, default deadline of one call */

/*
 * Run `git -C dir ARGS...` (args NULL-terminated; dir NULL = the current
 * directory); stdout into *out (reset first; capped at 16 MiB), stderr's
 * first line into the error message. 0 on exit status 0; KR_ETIMEOUT when
 * it ran past timeout seconds (its process group is killed); KR_EIO
 * otherwise, with "git ARGS[0]: REASON" set.
 */
int kr_git_run(struct kr_buf *out, const char *dir, const char *const *args,
	int timeout);

/* The full SHA of HEAD in the repository holding dir; KR_ENOTFOUND when
 * dir is in no repository or it has no commit. Caller frees *out. */
int kr_git_head(char **out, const char *dir);

/*
 * The commit `branch` points at in the repository `url` (one `git
 * ls-remote`); KR_ENOTFOUND when it has no such branch. Caller frees.
 */
int kr_git_remote_head(char **out, const char *url, const char *branch);

/*
 * Make `mirror` (a bare repository, created when missing) hold `commit` of
 * `url`'s `branch` (fetched only when it lacks it), then check that commit
 * out into `worktree` (made or moved there; any other content replaced).
 */
int kr_git_checkout(const char *mirror, const char *worktree, const char *url,
	const char *branch, const char *commit);

/* The upstream of the checkout at dir ("origin"'s URL and the branch it
 * tracks). Caller frees both. */
int kr_git_upstream(char **url, char **branch, const char *dir);

#endif
