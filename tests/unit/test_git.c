/*
 * Unit tests of the git driver (drivers/git.c) against real repositories
 * made in a temporary directory with the git CLI: HEAD of a checkout, the
 * head of a remote branch, a private mirror and a work tree at one commit
 * (files of later commits removed), the upstream of a checkout, errors and
 * the deadline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/error.h"
#include "drivers/git.h"

static char dir[] = "/tmp/kr-test-git-XXXXXX";

/* Run a shell command in which every '@' stands for the test directory. */
static void
sh(const char *tmpl)
{
	struct kr_buf cmd = KR_BUF_INIT;
	const char *p;

	for (p = tmpl; *p; p++)
		if (*p == '@')
			kr_buf_puts(&cmd, dir);
		else
			kr_buf_putc(&cmd, *p);
	assert_int_equal(system(cmd.ptr), 0);
	kr_buf_release(&cmd);
}

static char *
path(const char *rel)
{
	return kr_xasprintf("%s/%s", dir, rel);
}

static int
setup(void **state)
{
	(void)state;
	if (system("git --version >/dev/null 2>&1") != 0)
		return -1;
	if (!mkdtemp(dir))
		return -1;
	setenv("GIT_AUTHOR_NAME", "t", 1);
	setenv("GIT_AUTHOR_EMAIL", "t@t", 1);
	setenv("GIT_COMMITTER_NAME", "t", 1);
	setenv("GIT_COMMITTER_EMAIL", "t@t", 1);
	sh("git init -q --bare -b main @/origin.git");
	sh("git clone -q @/origin.git @/work 2>/dev/null");
	sh("cd @/work && git checkout -q -b main && mkdir -p config && "
	   "echo one > config/deploy.yml && echo gone > old.txt && "
	   "git add -A && git commit -q -m one && git push -q origin main "
	   "2>/dev/null");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	sh("rm -rf '@'");
	return 0;
}

static char *
rev(const char *repo, const char *what)
{
	struct kr_buf b = KR_BUF_INIT;
	const char *args[] = { "rev-parse", what, NULL };
	char *p = path(repo);

	assert_int_equal(kr_git_run(&b, p, args, 10), 0);
	free(p);
	kr_buf_truncate(&b, strcspn(b.ptr, "\n"));
	return kr_buf_detach(&b, NULL);
}

static void
test_head(void **state)
{
	char *head = NULL, *want = rev("work", "HEAD"),
	     *w = path("work/config");
	char *none = path("nowhere");

	(void)state;
	assert_int_equal(kr_git_head(&head, w), 0);
	assert_string_equal(head, want);
	assert_int_equal(strlen(head), 40);
	free(head);
	mkdir(none, 0700);
	assert_int_equal(kr_git_head(&head, none), KR_ENOTFOUND);
	assert_non_null(strstr(kr_error_last(), none));
	free(want);
	free(w);
	free(none);
}

static void
test_remote_head_and_checkout(void **state)
{
	char *url = path("origin.git"), *mirror = path("mirror.git");
	char *tree = path("tree"), *first = NULL, *second = NULL, *text;
	char *file;
	struct stat st;
	FILE *f;
	char line[64] = "";

	(void)state;
	assert_int_equal(kr_git_remote_head(&first, url, "main"), 0);
	assert_int_equal(kr_git_checkout(mirror, tree, url, "main", first), 0);
	file = path("tree/config/deploy.yml");
	f = fopen(file, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_string_equal(line, "one\n");

	/* a new commit: deploy.yml changed, old.txt deleted */
	sh("cd @/work && echo two > config/deploy.yml && git rm -q old.txt && "
	   "git commit -q -am two && git push -q origin main 2>/dev/null");
	assert_int_equal(kr_git_remote_head(&second, url, "main"), 0);
	assert_string_not_equal(first, second);
	assert_int_equal(kr_git_checkout(mirror, tree, url, "main", second), 0);
	f = fopen(file, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_string_equal(line, "two\n");
	text = path("tree/old.txt");
	assert_int_not_equal(stat(text, &st), 0);
	free(text);
	/* back to the first commit: from the mirror, no fetch needed */
	assert_int_equal(kr_git_checkout(mirror, tree, url, "main", first), 0);
	text = path("tree/old.txt");
	assert_int_equal(stat(text, &st), 0);
	free(text);

	/* errors name what is wrong */
	assert_int_equal(kr_git_remote_head(&text, url, "nope"), KR_ENOTFOUND);
	assert_non_null(strstr(kr_error_last(), "'nope'"));
	assert_int_equal(kr_git_checkout(mirror, tree, url, "main",
				 "not-a-sha; rm -rf /"),
		KR_EINVAL);
	free(first);
	free(second);
	free(file);
	free(url);
	free(mirror);
	free(tree);
}

static void
test_upstream(void **state)
{
	char *w = path("work"), *url = NULL, *branch = NULL;
	char *origin = path("origin.git"), *lone = path("lone");

	(void)state;
	sh("cd @/work && git branch -q -u origin/main 2>/dev/null || "
	   "git -C @/work branch -q --set-upstream-to=origin/main");
	assert_int_equal(kr_git_upstream(&url, &branch, w), 0);
	assert_string_equal(url, origin);
	assert_string_equal(branch, "main");
	free(url);
	free(branch);
	sh("git init -q @/lone");
	assert_true(kr_git_upstream(&url, &branch, lone) < 0);
	assert_non_null(strstr(kr_error_last(), "--repo"));
	free(w);
	free(origin);
	free(lone);
}

static void
test_run_errors_and_deadline(void **state)
{
	struct kr_buf b = KR_BUF_INIT;
	const char *bad[] = { "no-such-subcommand", NULL };
	const char *slow[] = { "-c", "alias.slow=!sleep 30", "slow", NULL };

	(void)state;
	assert_int_equal(kr_git_run(&b, NULL, bad, 10), KR_EIO);
	assert_non_null(strstr(kr_error_last(), "git no-such-subcommand:"));
	assert_int_equal(kr_git_run(&b, NULL, slow, 1), KR_ETIMEOUT);
	assert_non_null(strstr(kr_error_last(), "within 1 s"));
	kr_buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_remote_head_and_checkout),
		cmocka_unit_test(test_upstream),
		cmocka_unit_test(test_run_errors_and_deadline),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
