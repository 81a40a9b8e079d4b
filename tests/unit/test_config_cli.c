/*
 * The validate and config commands through the built binary: exit codes,
 * the exact error lines of a broken config, the summary of a good one, and
 * that no secret value reaches the output. The binary is found next to this
 * test's directory (build/kreconcile for build/tests/test_config_cli).
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/error.h"

#define FIX KR_FIXTURES "/config"

static char binary[PATH_MAX];

struct run {
	int status;
	struct kr_buf out, err;
};

static void
slurp(int fd, struct kr_buf *b)
{
	char chunk[4096];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		kr_buf_put(b, chunk, (size_t)n);
	}
}

/* Run the binary in dir with args (NULL-terminated); env: NAME=VALUE list. */
static void
run(struct run *r, const char *dir, const char *const *env,
	const char *const *args)
{
	int out[2], err[2], st;
	pid_t pid;
	const char *argv[16];
	size_t i, n = 0;

	kr_buf_init(&r->out, 0);
	kr_buf_init(&r->err, 0);
	argv[n++] = binary;
	for (i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(err), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(out[0]);
		close(err[0]);
		if (chdir(dir) != 0)
			_exit(126);
		unsetenv("VERSION");
		for (i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		execv(binary, (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	/* outputs are small: read stdout then stderr */
	slurp(out[0], &r->out);
	slurp(err[0], &r->err);
	close(out[0]);
	close(err[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void
run_release(struct run *r)
{
	kr_buf_release(&r->out);
	kr_buf_release(&r->err);
}

static int
setup(void **state)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return -1;
	self[n] = '\0';
	slash = strrchr(self, '/');
	*slash = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	if (strlen(self) + sizeof("/kreconcile") > sizeof(binary))
		return -1;
	memcpy(binary, self, strlen(self));
	memcpy(binary + strlen(self), "/kreconcile", sizeof("/kreconcile"));
	return 0;
}

static bool
have_binary(void)
{
	if (access(binary, X_OK) == 0)
		return true;
	print_message(
		"skipped: %s is not built (build the kreconcile target)\n",
		binary);
	return false;
}

static void
test_three_errors(void **state)
{
	struct run r;

	if (!have_binary()) {
		skip();
		return;
	}
	run(&r, FIX "/three-errors", NULL,
		(const char *const[]){ "validate", NULL });
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out.ptr, "");
	assert_string_equal(r.err.ptr,
		"config/deploy.yml:11:1: 'traefik' was removed in Kamal 2; use "
		"'proxy'\n"
		"config/deploy.yml:16:7: secret 'MISSING_SECRET' (env/secret) "
		"is not "
		"defined in .kamal/secrets-common or .kamal/secrets\n"
		"config/deploy.yml:17:1: unknown key 'acessories' (did you "
		"mean "
		"'accessories'?)\n");
	run_release(&r);

	/* without secrets, the missing secret is no error */
	run(&r, FIX "/three-errors", NULL,
		(const char *const[]){ "validate", "--skip-secrets", NULL });
	assert_int_equal(r.status, 1);
	assert_null(strstr(r.err.ptr, "MISSING_SECRET"));
	assert_non_null(strstr(r.err.ptr, "acessories"));
	run_release(&r);
}

/* A warning (what Kamal accepts and kreconcile passes on as Kamal does) is
 * printed with its position, and the config is still valid. */
static void
test_warning_printed(void **state)
{
	struct run r;

	(void)state;
	if (!have_binary()) {
		skip();
		return;
	}
	run(&r, FIX "/warnings", NULL,
		(const char *const[]){ "validate", "--skip-secrets", NULL });
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err.ptr, "config/deploy.yml:8:16: warning: "
					  "'servers/web/options/log-opt' is a "
					  "map"));
	assert_non_null(strstr(r.out.ptr, "app: valid"));
	run_release(&r);
}

static void
test_dokuya_validates(void **state)
{
	static const char *const env[] = { "KAMAL_REGISTRY_PASSWORD=reg-secret",
		"XAI_API_KEY=xai-secret", NULL };
	struct run r;

	if (!have_binary()) {
		skip();
		return;
	}
	run(&r, FIX "/dokuya", env, (const char *const[]){ "validate", NULL });
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out.ptr,
		"dokuya: valid; 1 role (web), 2 hosts "
		"(194.195.83.189, 185.194.123.12), 1 accessory (postgres)\n");
	run_release(&r);

	run(&r, FIX "/dokuya", env,
		(const char *const[]){ "--app-version", "v1", "config", NULL });
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out.ptr, "host 194.195.83.189"));
	assert_non_null(strstr(r.out.ptr, "app dokuya-web-v1"));
	assert_non_null(strstr(r.out.ptr, "accessory postgres"));
	assert_non_null(strstr(r.out.ptr, "XAI_API_KEY=(sensitive)"));
	assert_null(strstr(r.out.ptr, "xai-secret"));
	assert_null(strstr(r.out.ptr, "reg-secret"));
	assert_null(strstr(r.out.ptr, "fixture-db-password"));
	run_release(&r);

	run(&r, FIX "/dokuya", env,
		(const char *const[]){
			"--app-version", "v1", "config", "--json", NULL });
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out.ptr, "\"format_version\": \"1\""));
	assert_null(strstr(r.out.ptr, "xai-secret"));
	assert_null(strstr(r.out.ptr, "reg-secret"));
	assert_null(strstr(r.out.ptr, "fixture-db-password"));
	run_release(&r);
}

static void
test_destination_and_usage(void **state)
{
	struct run r;

	if (!have_binary()) {
		skip();
		return;
	}
	run(&r, FIX "/multi", NULL,
		(const char *const[]){ "-d", "staging", "validate", NULL });
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out.ptr,
		"shop -d staging: valid; 2 roles (jobs, "
		"web), 2 hosts (10.9.0.2, 10.9.0.1), 1 accessory (redis)\n");
	run_release(&r);

	run(&r, FIX "/multi", NULL,
		(const char *const[]){ "validate", "--bogus", NULL });
	assert_int_equal(r.status, 64);
	run_release(&r);

	/* no version anywhere (a copy outside any git repository) */
	{
		char dir[] = "/tmp/kr-cli-XXXXXX";
		char *cmd;

		assert_non_null(mkdtemp(dir));
		cmd = kr_xasprintf("mkdir -p %s/config && cp %s/minimal/config/"
				   "deploy.yml %s/config/",
			dir, FIX, dir);
		assert_int_equal(system(cmd), 0);
		free(cmd);
		run(&r, dir, NULL, (const char *const[]){ "config", NULL });
		assert_int_equal(r.status, 1);
		assert_non_null(strstr(r.err.ptr, "--app-version"));
		run_release(&r);
		/* validate needs no version */
		run(&r, dir, NULL, (const char *const[]){ "validate", NULL });
		assert_int_equal(r.status, 0);
		run_release(&r);
		cmd = kr_xasprintf("rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
		free(cmd);
	}

	run(&r, FIX "/minimal", NULL,
		(const char *const[]){ "-c", "nope.yml", "validate", NULL });
	assert_int_equal(r.status, 1);
	assert_non_null(
		strstr(r.err.ptr, "nope.yml: configuration file not found"));
	run_release(&r);

	/* a file that cannot be read says why, not a stale errno */
	run(&r, FIX "/minimal", NULL,
		(const char *const[]){ "-c", "config", "validate", NULL });
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(
		r.err.ptr, "config: is a directory, not a regular file"));
	run_release(&r);
}

/* In dir: config/deploy.yml (the minimal fixture's text, or a link to
 * target) and, if secrets_kind is set, .kamal/secrets as "dir" or "fifo". */
static void
make_project(const char *dir, const char *link_target, const char *secrets_kind)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		"rm -rf '%s/config' '%s/.kamal' && "
		"mkdir -p '%s/config' '%s/.kamal'",
		dir, dir, dir, dir);
	assert_int_equal(system(cmd), 0);
	if (link_target)
		snprintf(cmd, sizeof(cmd), "ln -s '%s' '%s/config/deploy.yml'",
			link_target, dir);
	else
		snprintf(cmd, sizeof(cmd),
			"cp '%s/minimal/config/deploy.yml' "
			"'%s/config/'",
			FIX, dir);
	assert_int_equal(system(cmd), 0);
	if (secrets_kind && strcmp(secrets_kind, "dir") == 0)
		snprintf(cmd, sizeof(cmd), "mkdir '%s/.kamal/secrets'", dir);
	else if (secrets_kind)
		snprintf(cmd, sizeof(cmd), "mkfifo '%s/.kamal/secrets'", dir);
	else
		snprintf(cmd, sizeof(cmd), "true");
	assert_int_equal(system(cmd), 0);
}

/* validate in dir fails at once, saying what is wrong with which file. */
static void
refused(const char *dir, const char *want)
{
	struct run r;

	run(&r, dir, NULL, (const char *const[]){ "validate", NULL });
	print_message("%s", r.err.ptr);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err.ptr, want));
	run_release(&r);
}

/* Every input read is bounded, and FIFOs and devices are refused without
 * waiting on them or reading them (issue 9, item 7). */
static void
test_unusual_inputs(void **state)
{
	char dir[] = "/tmp/kr-test-inputs-XXXXXX";
	char big[PATH_MAX], cmd[PATH_MAX + 64];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	make_project(dir, "/dev/zero", NULL);
	refused(dir, "config/deploy.yml: is a character device, not a "
		     "regular file");

	snprintf(big, sizeof(big), "%s/fifo.yml", dir);
	assert_int_equal(mkfifo(big, 0600), 0);
	make_project(dir, big, NULL);
	refused(dir, "config/deploy.yml: is a FIFO");

	snprintf(big, sizeof(big), "%s/big.yml", dir);
	f = fopen(big, "w");
	assert_non_null(f);
	assert_int_equal(ftruncate(fileno(f), (off_t)9 << 20), 0);
	fclose(f);
	make_project(dir, big, NULL);
	refused(dir, "config/deploy.yml: is larger than 8388608 bytes");

	make_project(dir, NULL, "fifo");
	refused(dir, ".kamal/secrets: is a FIFO");
	make_project(dir, NULL, "dir");
	refused(dir, ".kamal/secrets: is a directory");

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_errors),
		cmocka_unit_test(test_warning_printed),
		cmocka_unit_test(test_dokuya_validates),
		cmocka_unit_test(test_destination_and_usage),
		cmocka_unit_test(test_unusual_inputs),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
