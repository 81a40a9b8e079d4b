/*
 * Unit tests of the local transport (drivers/local.c) and the shared upload
 * (drivers/transport.c): exec with stdin, stderr, exit status, the output
 * cap, and the atomic upload with its mode, in a temporary HOME.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "drivers/transport.h"

static char home[] = "/tmp/kr-test-local-XXXXXX";

static int
setup(void **state)
{
	struct kr_transport_opts opts = { .host = "localhost" };
	struct kr_transport *t = NULL;

	if (!mkdtemp(home))
		return -1;
	setenv("HOME", home, 1);
	if (kr_transport_connect(&t, &opts) < 0)
		return -1;
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	char *cmd = kr_xasprintf("rm -rf '%s'", home);
	int rc;

	kr_transport_close(*state);
	rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

static void
test_picks_local(void **state)
{
	assert_ptr_equal(kr_transport_for("localhost"), &kr_transport_local);
	assert_ptr_equal(kr_transport_for("127.0.0.1"), &kr_transport_local);
	assert_ptr_equal(kr_transport_for("198.18.0.11"), &kr_transport_ssh);
	assert_ptr_equal(
		kr_transport_for("web1.example.com"), &kr_transport_ssh);
}

static void
test_exec_stdin_stdout(void **state)
{
	struct kr_transport *t = *state;
	struct kr_exec_result r;
	unsigned before = t->exec_count;

	kr_exec_result_init(&r, 0);
	assert_int_equal(t->vt->exec(t, "tr a-z A-Z", "hello\n", 6, &r), 0);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out.ptr, "HELLO\n");
	assert_int_equal(r.err.len, 0);
	assert_int_equal(t->exec_count, before + 1);
	kr_exec_result_release(&r);
}

static void
test_exec_runs_in_home(void **state)
{
	struct kr_transport *t = *state;
	struct kr_exec_result r;
	char *want = kr_xasprintf("%s\n", home);

	kr_exec_result_init(&r, 0);
	assert_int_equal(t->vt->exec(t, "pwd", NULL, 0, &r), 0);
	assert_string_equal(r.out.ptr, want);
	free(want);
	kr_exec_result_release(&r);
}

static void
test_exec_stderr_and_status(void **state)
{
	struct kr_transport *t = *state;
	struct kr_exec_result r;

	kr_exec_result_init(&r, 0);
	assert_int_equal(
		t->vt->exec(t, "echo out; echo oops >&2; exit 7", NULL, 0, &r),
		0);
	assert_int_equal(r.status, 7);
	assert_string_equal(r.out.ptr, "out\n");
	assert_string_equal(r.err.ptr, "oops\n");
	kr_exec_result_release(&r);

	kr_exec_result_init(&r, 0);
	assert_int_equal(t->vt->exec(t, "kill -9 $$", NULL, 0, &r), 0);
	assert_int_equal(r.status, -1);
	kr_exec_result_release(&r);
}

static void
test_exec_large_stdin_and_output(void **state)
{
	struct kr_transport *t = *state;
	struct kr_exec_result r;
	size_t n = 3 * 1024 * 1024, i;
	char *data = kr_xmalloc(n);

	/* Both directions at once, past any pipe buffer: no deadlock. */
	for (i = 0; i < n; i++)
		data[i] = (char)('a' + i % 26);
	kr_exec_result_init(&r, 0);
	assert_int_equal(
		t->vt->exec(t, "cat; cat /dev/null >&2", data, n, &r), 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.out.len, n);
	assert_memory_equal(r.out.ptr, data, n);
	kr_exec_result_release(&r);
	free(data);
}

static void
test_exec_output_cap(void **state)
{
	struct kr_transport *t = *state;
	struct kr_exec_result r;

	kr_exec_result_init(&r, 1000);
	assert_int_equal(
		t->vt->exec(t, "head -c 100000 /dev/zero", NULL, 0, &r),
		KR_EINVAL);
	assert_int_equal(r.out.len, 1000);
	assert_non_null(strstr(kr_error_last(), "larger than 1000 bytes"));
	kr_exec_result_release(&r);

	/* Output just at the cap is fine. */
	kr_exec_result_init(&r, 1000);
	assert_int_equal(
		t->vt->exec(t, "head -c 1000 /dev/zero", NULL, 0, &r), 0);
	assert_int_equal(r.out.len, 1000);
	kr_exec_result_release(&r);
}

static void
test_exec_stdin_not_read(void **state)
{
	struct kr_transport *t = *state;
	struct kr_exec_result r;
	size_t n = 1024 * 1024;
	char *data = kr_xcalloc(1, n);

	/* The command exits without reading: no SIGPIPE, a clean result. */
	kr_exec_result_init(&r, 0);
	assert_int_equal(t->vt->exec(t, "exit 3", data, n, &r), 0);
	assert_int_equal(r.status, 3);
	kr_exec_result_release(&r);
	free(data);
}

static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void
test_upload_atomic_mode(void **state)
{
	struct kr_transport *t = *state;
	const char *secret = "SECRET=it's \"quoted\" $(touch /tmp/kr-pwned)\n";
	const char *rel = ".kamal/apps/my app/env/roles/web.env";
	char *abs = kr_xasprintf("%s/%s", home, rel);
	char *dir = kr_xasprintf("%s/.kamal/apps/my app/env/roles", home);
	char buf[256];
	struct stat sb;
	FILE *f;
	size_t n;

	assert_int_equal(
		t->vt->upload(t, rel, secret, strlen(secret), 0600), 0);
	assert_int_equal(stat(abs, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	f = fopen(abs, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_string_equal(buf, secret);
	/* No temp file left beside it. */
	assert_int_equal(count_entries(dir), 1);

	/* Replace: new content and mode, still one file. */
	assert_int_equal(t->vt->upload(t, rel, "A=1\n", 4, 0640), 0);
	assert_int_equal(stat(abs, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0640);
	assert_int_equal(sb.st_size, 4);
	assert_int_equal(count_entries(dir), 1);
	assert_int_not_equal(access("/tmp/kr-pwned", F_OK), 0);

	free(abs);
	free(dir);
}

static void
test_upload_failure_keeps_old_file(void **state)
{
	struct kr_transport *t = *state;
	char *abs = kr_xasprintf("%s/keep.env", home);
	char *blocker = kr_xasprintf("%s/blocked", home);
	struct stat sb;
	FILE *f;

	assert_int_equal(t->vt->upload(t, "keep.env", "OLD=1\n", 6, 0600), 0);
	/* A parent that is a file: mkdir fails, the upload reports it. */
	f = fopen(blocker, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(
		t->vt->upload(t, "blocked/x.env", "A=1\n", 4, 0600), KR_EIO);
	assert_non_null(strstr(kr_error_last(), "upload of 'blocked/x.env'"));
	assert_int_equal(stat(abs, &sb), 0);
	assert_int_equal(sb.st_size, 6);
	free(abs);
	free(blocker);
}

static void
test_hostile_host_names(void **state)
{
	struct kr_transport_opts opts = {
		.host = "-oProxyCommand=touch /tmp/x"
	};
	struct kr_transport *t = NULL;

	assert_int_equal(kr_transport_connect(&t, &opts), KR_EINVAL);
	assert_null(t);
	assert_non_null(strstr(kr_error_last(), "starts with '-'"));
	opts.host = "host;reboot";
	assert_int_equal(kr_transport_connect(&t, &opts), KR_EINVAL);
	opts.host = "";
	assert_int_equal(kr_transport_connect(&t, &opts), KR_EINVAL);
	assert_int_equal(kr_transport_check_host("198.18.0.11"), 0);
	assert_int_equal(kr_transport_check_host("[fe80::1%eth0]"), 0);
	assert_int_equal(kr_transport_check_host("web-1.example.com"), 0);
}

/* Wall-clock milliseconds. */
static long long
ms_now(void)
{
	return kr_transport_now_ms();
}

static void
test_exec_timeout(void **state)
{
	struct kr_transport *t = *state;
	struct kr_exec_result r;
	long long t0;

	kr_exec_result_init(&r, 0);
	kr_transport_limit(t, NULL, 1);
	t0 = ms_now();
	assert_int_equal(t->vt->exec(t, "sleep 30", NULL, 0, &r), KR_ETIMEOUT);
	assert_true(ms_now() - t0 < 10000);
	assert_non_null(strstr(kr_error_last(), "within 1 s"));
	assert_non_null(strstr(kr_error_last(), "'localhost'"));
	/* a quick command under the same deadline is not affected */
	assert_int_equal(t->vt->exec(t, "echo ok", NULL, 0, &r), 0);
	assert_string_equal(r.out.ptr, "ok\n");
	kr_transport_limit(t, NULL, 0);
	kr_exec_result_release(&r);
}

static volatile sig_atomic_t cancel_flag;

static void *
cancel_soon(void *arg)
{
	(void)arg;
	usleep(300 * 1000);
	cancel_flag = 1;
	return NULL;
}

static void
test_exec_cancel(void **state)
{
	struct kr_transport *t = *state;
	struct kr_exec_result r;
	pthread_t tid;
	long long t0;

	kr_exec_result_init(&r, 0);
	cancel_flag = 0;
	kr_transport_limit(t, &cancel_flag, 0);
	assert_int_equal(pthread_create(&tid, NULL, cancel_soon, NULL), 0);
	t0 = ms_now();
	assert_int_equal(t->vt->exec(t, "sleep 30", NULL, 0, &r), KR_ECANCELED);
	assert_true(ms_now() - t0 < 5000);
	pthread_join(tid, NULL);
	/* once cancelled, the next exec is given up at once too */
	assert_int_equal(t->vt->exec(t, "echo no", NULL, 0, &r), KR_ECANCELED);
	kr_transport_limit(t, NULL, 0);
	assert_int_equal(t->vt->exec(t, "echo yes", NULL, 0, &r), 0);
	kr_exec_result_release(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_picks_local),
		cmocka_unit_test(test_exec_stdin_stdout),
		cmocka_unit_test(test_exec_runs_in_home),
		cmocka_unit_test(test_exec_stderr_and_status),
		cmocka_unit_test(test_exec_large_stdin_and_output),
		cmocka_unit_test(test_exec_output_cap),
		cmocka_unit_test(test_exec_stdin_not_read),
		cmocka_unit_test(test_upload_atomic_mode),
		cmocka_unit_test(test_upload_failure_keeps_old_file),
		cmocka_unit_test(test_hostile_host_names),
		cmocka_unit_test(test_exec_timeout),
		cmocka_unit_test(test_exec_cancel),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
