/*
 * Unit tests of the ssh transport (drivers/ssh.c) against a real OpenSSH
 * server this test starts on 127.0.0.1 at a random high port, with a fresh
 * host key and user key in a temporary directory, and stops by PID. The
 * server's VERBOSE log counts connections and exec requests independently
 * of kreconcile. Skipped, with the reason, when sshd is not installed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "drivers/transport.h"

#define SSHD "/usr/sbin/sshd"

static char dir[] = "/tmp/kr-test-ssh-XXXXXX";
static pid_t sshd_pid = -1;
static int port;
static char *user;
static const char *skip_reason;

static char *
path(const char *name)
{
	return kr_xasprintf("%s/%s", dir, name);
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
run(const char *fmt, ...)
{
	va_list ap;
	char cmd[4096];
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static char *
read_file(const char *name)
{
	char *p = path(name), *buf;
	FILE *f = fopen(p, "r");
	size_t n = 0, alloc = 4096;

	free(p);
	buf = kr_xmalloc(alloc);
	if (f) {
		size_t r;

		while ((r = fread(buf + n, 1, alloc - n - 1, f)) > 0) {
			n += r;
			if (alloc - n < 2)
				buf = kr_xrealloc(buf, alloc *= 2);
		}
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

static int
count_in_log(const char *needle)
{
	char *log = read_file("sshd.log");
	const char *p = log;
	int n = 0;

	while ((p = strstr(p, needle))) {
		n++;
		p += strlen(needle);
	}
	free(log);
	return n;
}

static int
port_open(int p)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)p);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static int
start_sshd(void)
{
	char *cfg = path("sshd_config"), *log = path("sshd.log");
	int attempt;

	for (attempt = 0; attempt < 10; attempt++) {
		FILE *f;
		int i;

		port = 20000 + (int)((unsigned)rand() % 40000);
		if (port_open(port))
			continue;
		f = fopen(cfg, "w");
		if (!f)
			return -1;
		fprintf(f,
			"Port %d\nListenAddress 127.0.0.1\nHostKey "
			"%s/host_key\n"
			"PidFile %s/sshd.pid\nAuthorizedKeysFile "
			"%s/authorized_keys\n"
			"StrictModes no\nUsePAM no\nPasswordAuthentication no\n"
			"KbdInteractiveAuthentication no\nPubkeyAuthentication "
			"yes\n"
			"PermitRootLogin prohibit-password\nLogLevel VERBOSE\n"
			"MaxSessions 50\n",
			port, dir, dir, dir);
		fclose(f);
		sshd_pid = fork();
		if (sshd_pid == 0) {
			int fd;

			f = freopen(log, "a", stderr);
			(void)f;
			fd = open("/dev/null", 0);
			dup2(fd, 0);
			execl(SSHD, SSHD, "-f", cfg, "-D", "-e", (char *)NULL);
			_exit(127);
		}
		for (i = 0; i < 100; i++) {
			int st;

			if (port_open(port))
				goto up;
			if (waitpid(sshd_pid, &st, WNOHANG) == sshd_pid) {
				sshd_pid = -1;
				break;
			}
			usleep(50000);
		}
		if (sshd_pid > 0) {
			kill(sshd_pid, SIGTERM);
			waitpid(sshd_pid, NULL, 0);
			sshd_pid = -1;
		}
	}
	free(cfg);
	free(log);
	return -1;
up:
	free(cfg);
	free(log);
	return 0;
}

static int
setup(void **state)
{
	struct passwd *pw = getpwuid(getuid());
	struct stat sb;

	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	if (access(SSHD, X_OK) != 0) {
		skip_reason = SSHD " is not installed (package openssh-server)";
		return 0;
	}
	if (access("/usr/bin/ssh-keygen", X_OK) != 0) {
		skip_reason =
			"ssh-keygen is not installed (package openssh-client)";
		return 0;
	}
	/* sshd refuses to start without its privilege separation directory. */
	if (stat("/run/sshd", &sb) != 0 && mkdir("/run/sshd", 0755) != 0) {
		skip_reason = "/run/sshd is missing and cannot be made";
		return 0;
	}
	if (!pw || !mkdtemp(dir))
		return -1;
	user = kr_xstrdup(pw->pw_name);
	if (run("ssh-keygen -q -t ed25519 -N '' -C host -f %s/host_key", dir) ||
		run("ssh-keygen -q -t ed25519 -N '' -C other-host -f "
		    "%s/other_host_key",
			dir) ||
		run("ssh-keygen -q -t ed25519 -N '' -C user -f %s/id_user",
			dir) ||
		run("ssh-keygen -q -t ed25519 -N '' -C stranger -f "
		    "%s/id_stranger",
			dir) ||
		run("cp %s/id_user.pub %s/authorized_keys", dir, dir))
		return -1;
	if (start_sshd() < 0) {
		skip_reason = "sshd did not start (see its log in the test "
			      "directory)";
		return 0;
	}
	/* known_hosts as a user would write it: [127.0.0.1]:PORT KEY. */
	if (run("printf '[127.0.0.1]:%d ' > %s/known_hosts && "
		"cut -d' ' -f1,2 %s/host_key.pub >> %s/known_hosts",
		    port, dir, dir, dir) ||
		run("printf '[127.0.0.1]:%d ' > %s/changed_known_hosts && "
		    "cut -d' ' -f1,2 %s/other_host_key.pub >> "
		    "%s/changed_known_hosts",
			port, dir, dir, dir))
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	if (sshd_pid > 0) {
		kill(sshd_pid, SIGTERM);
		waitpid(sshd_pid, NULL, 0);
		sshd_pid = -1;
	}
	if (dir[sizeof(dir) - 7] != 'X' && getenv("KR_KEEP_TEST_DIR") == NULL)
		run("rm -rf '%s'", dir);
	free(user);
	return 0;
}

struct conn {
	struct kr_strvec keys;
	char *known_hosts;
	struct kr_transport_opts opts;
};

/* Options that reach the test server with the right key. */
static void
conn_init(struct conn *c, const char *known_hosts, const char *key)
{
	memset(c, 0, sizeof(*c));
	kr_strvec_push_owned(&c->keys, path(key));
	c->known_hosts = path(known_hosts);
	c->opts.host = "127.0.0.1";
	c->opts.port = port;
	c->opts.user = user;
	c->opts.keys = &c->keys;
	c->opts.keys_only = true;
	c->opts.known_hosts = c->known_hosts;
	c->opts.ssh_config = "";
	c->opts.connect_timeout = 10;
}

static void
conn_release(struct conn *c)
{
	kr_strvec_release(&c->keys);
	free(c->known_hosts);
}

#define SKIP_IF_NO_SSHD()                                            \
	do {                                                         \
		if (skip_reason) {                                   \
			print_message("skipped: %s\n", skip_reason); \
			skip();                                      \
		}                                                    \
	} while (0)

static void
test_right_key_execs(void **state)
{
	struct conn c;
	struct kr_transport *t = NULL;
	struct kr_exec_result r;

	SKIP_IF_NO_SSHD();
	conn_init(&c, "known_hosts", "id_user");
	assert_int_equal(kr_transport_ssh.connect(&t, &c.opts), 0);
	assert_non_null(t);
	kr_exec_result_init(&r, 0);
	assert_int_equal(t->vt->exec(t, "tr a-z A-Z; echo warn >&2; exit 5",
				 "secret input\n", 13, &r),
		0);
	assert_int_equal(r.status, 5);
	assert_string_equal(r.out.ptr, "SECRET INPUT\n");
	assert_string_equal(r.err.ptr, "warn\n");
	kr_exec_result_release(&r);
	kr_transport_close(t);
	conn_release(&c);
}

static void
test_key_data_execs(void **state)
{
	struct conn c;
	struct kr_strvec data = { 0 };
	struct kr_transport *t = NULL;
	struct kr_exec_result r;

	SKIP_IF_NO_SSHD();
	conn_init(&c, "known_hosts", "id_stranger");
	kr_strvec_push_owned(&data, read_file("id_user"));
	c.opts.key_data = &data;
	assert_int_equal(kr_transport_ssh.connect(&t, &c.opts), 0);
	kr_exec_result_init(&r, 0);
	assert_int_equal(t->vt->exec(t, "echo ok", NULL, 0, &r), 0);
	assert_string_equal(r.out.ptr, "ok\n");
	kr_exec_result_release(&r);
	kr_transport_close(t);
	kr_strvec_release(&data);
	conn_release(&c);
}

static void
test_wrong_key_refused(void **state)
{
	struct conn c;
	struct kr_transport *t = NULL;

	SKIP_IF_NO_SSHD();
	conn_init(&c, "known_hosts", "id_stranger");
	assert_int_equal(kr_transport_ssh.connect(&t, &c.opts), KR_ESSH);
	assert_null(t);
	assert_non_null(strstr(kr_error_last(), "permission denied"));
	assert_non_null(strstr(kr_error_last(), "id_stranger"));
	conn_release(&c);
}

/* The SHA256 fingerprint ssh-keygen reports for a public key file. */
static char *
fingerprint(const char *pub)
{
	char *out, *sp;

	if (run("ssh-keygen -l -E sha256 -f %s/%s | cut -d' ' -f2 > %s/fp", dir,
		    pub, dir))
		return NULL;
	out = read_file("fp");
	if ((sp = strchr(out, '\n')))
		*sp = '\0';
	return out;
}

static void
test_unknown_host_key_refused(void **state)
{
	struct conn c;
	struct kr_transport *t = NULL;
	char *fp, *scan;

	SKIP_IF_NO_SSHD();
	assert_int_equal(run(": > %s/empty_known_hosts", dir), 0);
	conn_init(&c, "empty_known_hosts", "id_user");
	assert_int_equal(kr_transport_ssh.connect(&t, &c.opts), KR_EHOSTKEY);
	assert_null(t);
	fp = fingerprint("host_key.pub");
	assert_non_null(fp);
	assert_true(strncmp(fp, "SHA256:", 7) == 0);
	print_message("%s\n", kr_error_last());
	assert_non_null(strstr(kr_error_last(), "not known"));
	assert_non_null(strstr(kr_error_last(), fp));
	scan = kr_xasprintf("ssh-keyscan -p %d -t ed25519 127.0.0.1 >> %s",
		port, c.known_hosts);
	assert_non_null(strstr(kr_error_last(), scan));
	assert_non_null(strstr(kr_error_last(), "--accept-new-host-keys"));
	/* Refusing added nothing. */
	free(scan);
	scan = read_file("empty_known_hosts");
	assert_string_equal(scan, "");
	free(scan);
	free(fp);
	conn_release(&c);
}

static void
test_changed_host_key_refused(void **state)
{
	struct conn c;
	struct kr_transport *t = NULL;
	char *fp, *before, *after;

	SKIP_IF_NO_SSHD();
	conn_init(&c, "changed_known_hosts", "id_user");
	before = read_file("changed_known_hosts");
	assert_int_equal(kr_transport_ssh.connect(&t, &c.opts), KR_EHOSTKEY);
	assert_null(t);
	print_message("%s\n", kr_error_last());
	assert_non_null(strstr(kr_error_last(), "HAS CHANGED"));
	fp = fingerprint("host_key.pub");
	assert_non_null(strstr(kr_error_last(), fp));

	/* accept-new never accepts a changed key. */
	c.opts.accept_new_host_keys = true;
	assert_int_equal(kr_transport_ssh.connect(&t, &c.opts), KR_EHOSTKEY);
	assert_null(t);
	assert_non_null(strstr(kr_error_last(), "HAS CHANGED"));
	after = read_file("changed_known_hosts");
	assert_string_equal(before, after);
	free(before);
	free(after);
	free(fp);
	conn_release(&c);
}

static void
test_accept_new_adds_key(void **state)
{
	struct conn c;
	struct kr_transport *t = NULL;
	char *kh, *key;

	SKIP_IF_NO_SSHD();
	/* The file does not exist yet, like a first run. */
	conn_init(&c, "new_known_hosts", "id_user");
	c.opts.accept_new_host_keys = true;
	assert_int_equal(kr_transport_ssh.connect(&t, &c.opts), 0);
	kr_transport_close(t);
	t = NULL;
	kh = read_file("new_known_hosts");
	key = read_file("host_key.pub");
	*strrchr(key, ' ') = '\0'; /* drop the comment */
	assert_non_null(strstr(kh, key));

	/* Now known: it connects without accept-new. */
	c.opts.accept_new_host_keys = false;
	assert_int_equal(kr_transport_ssh.connect(&t, &c.opts), 0);
	kr_transport_close(t);
	free(kh);
	free(key);
	conn_release(&c);
}

/* Write known_hosts file `name`: "MARKER PATTERNS KEY" with the key of
 * pub (patterns NULL: this server's entry), then, if own_line, this
 * server's plain line. */
static void
write_kh(const char *name, const char *marker, const char *patterns,
	const char *pub, bool own_line)
{
	char *mkey = read_file(pub), *key = read_file("host_key.pub");
	char *kh = path(name);
	FILE *f;

	*strrchr(mkey, ' ') = '\0'; /* drop the comment */
	*strrchr(key, ' ') = '\0';
	f = fopen(kh, "w");
	assert_non_null(f);
	if (patterns)
		fprintf(f, "%s %s %s\n", marker, patterns, mkey);
	else
		fprintf(f, "%s [127.0.0.1]:%d %s\n", marker, port, mkey);
	if (own_line)
		fprintf(f, "[127.0.0.1]:%d %s\n", port, key);
	free(mkey);
	fclose(f);
	free(kh);
	free(key);
}

static void
test_revoked_host_key_refused(void **state)
{
	struct conn c;
	struct kr_transport *t = NULL;
	char *before, *after, *fp;

	SKIP_IF_NO_SSHD();
	fp = fingerprint("host_key.pub");
	/* revoked for every host, though another line trusts it */
	write_kh("revoked_known_hosts", "@revoked", "*", "host_key.pub", true);
	conn_init(&c, "revoked_known_hosts", "id_user");
	assert_int_equal(kr_transport_ssh.connect(&t, &c.opts), KR_EHOSTKEY);
	assert_null(t);
	print_message("%s\n", kr_error_last());
	assert_non_null(strstr(kr_error_last(), "REVOKED"));
	assert_non_null(strstr(kr_error_last(), "revoked_known_hosts:1"));
	assert_non_null(strstr(kr_error_last(), fp));
	conn_release(&c);

	/* only the revoked line: accept-new never appends the key */
	write_kh("revoked_only_known_hosts", "@revoked", NULL, "host_key.pub",
		false);
	conn_init(&c, "revoked_only_known_hosts", "id_user");
	c.opts.accept_new_host_keys = true;
	before = read_file("revoked_only_known_hosts");
	assert_int_equal(kr_transport_ssh.connect(&t, &c.opts), KR_EHOSTKEY);
	assert_null(t);
	assert_non_null(strstr(kr_error_last(), "REVOKED"));
	after = read_file("revoked_only_known_hosts");
	assert_string_equal(before, after);
	free(before);
	free(after);
	free(fp);
	conn_release(&c);
}

static void
test_cert_authority_refused(void **state)
{
	struct conn c;
	struct kr_transport *t = NULL;
	char *before, *after;

	SKIP_IF_NO_SSHD();
	/* a CA trusted for 127.0.0.1 (another key: a CA's) */
	write_kh("ca_known_hosts", "@cert-authority", NULL,
		"other_host_key.pub", false);
	conn_init(&c, "ca_known_hosts", "id_user");
	c.opts.accept_new_host_keys = true;
	before = read_file("ca_known_hosts");
	assert_int_equal(kr_transport_ssh.connect(&t, &c.opts), KR_EHOSTKEY);
	assert_null(t);
	print_message("%s\n", kr_error_last());
	assert_non_null(strstr(kr_error_last(), "@cert-authority"));
	assert_non_null(strstr(kr_error_last(), "ca_known_hosts:1"));
	after = read_file("ca_known_hosts");
	assert_string_equal(before, after);
	free(before);
	free(after);
	conn_release(&c);

	/* the host's own key beside the CA line: it connects */
	write_kh("ca_and_key_known_hosts", "@cert-authority", "*",
		"other_host_key.pub", true);
	conn_init(&c, "ca_and_key_known_hosts", "id_user");
	assert_int_equal(kr_transport_ssh.connect(&t, &c.opts), 0);
	kr_transport_close(t);
	conn_release(&c);
}

static void
test_one_connection_many_execs(void **state)
{
	struct conn c;
	struct kr_transport *t = NULL;
	struct kr_exec_result r;
	int conns, cmds, i;

	SKIP_IF_NO_SSHD();
	conn_init(&c, "known_hosts", "id_user");
	conns = count_in_log("Accepted publickey");
	cmds = count_in_log("Starting session: command");
	assert_int_equal(kr_transport_ssh.connect(&t, &c.opts), 0);
	for (i = 0; i < 5; i++) {
		char want[16];

		kr_exec_result_init(&r, 0);
		assert_int_equal(
			t->vt->exec(t, "echo $((40 + 2))", NULL, 0, &r), 0);
		snprintf(want, sizeof(want), "%d\n", 42);
		assert_string_equal(r.out.ptr, want);
		kr_exec_result_release(&r);
	}
	assert_int_equal(t->exec_count, 5);
	kr_transport_close(t);
	usleep(200000); /* let sshd write its log */
	assert_int_equal(count_in_log("Accepted publickey") - conns, 1);
	assert_int_equal(count_in_log("Starting session: command") - cmds, 5);
	conn_release(&c);
}

static void
test_large_output_and_cap(void **state)
{
	struct conn c;
	struct kr_transport *t = NULL;
	struct kr_exec_result r;

	SKIP_IF_NO_SSHD();
	conn_init(&c, "known_hosts", "id_user");
	assert_int_equal(kr_transport_ssh.connect(&t, &c.opts), 0);
	/* Past libssh's channel window many times over. */
	kr_exec_result_init(&r, 0);
	assert_int_equal(t->vt->exec(t,
				 "head -c 8000000 /dev/zero; "
				 "head -c 300000 /dev/zero >&2",
				 NULL, 0, &r),
		0);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.out.len, 8000000);
	assert_int_equal(r.err.len, 300000);
	kr_exec_result_release(&r);

	kr_exec_result_init(&r, 4096);
	assert_int_equal(
		t->vt->exec(t, "head -c 100000 /dev/zero", NULL, 0, &r),
		KR_EINVAL);
	assert_int_equal(r.out.len, 4096);
	kr_exec_result_release(&r);

	/* The connection is still good after a capped command. */
	kr_exec_result_init(&r, 0);
	assert_int_equal(t->vt->exec(t, "echo still", NULL, 0, &r), 0);
	assert_string_equal(r.out.ptr, "still\n");
	kr_exec_result_release(&r);
	kr_transport_close(t);
	conn_release(&c);
}

static void
test_dash_host_rejected(void **state)
{
	struct conn c;
	struct kr_transport *t = NULL;
	int cmds;

	SKIP_IF_NO_SSHD();
	conn_init(&c, "known_hosts", "id_user");
	cmds = count_in_log("Connection from");
	c.opts.host = "-oProxyCommand=touch /tmp/kr-pwned";
	assert_int_equal(kr_transport_ssh.connect(&t, &c.opts), KR_EINVAL);
	assert_null(t);
	assert_non_null(strstr(kr_error_last(), "starts with '-'"));
	c.opts.host = "127.0.0.1";
	c.opts.proxy = "-oops@bastion";
	assert_int_equal(kr_transport_ssh.connect(&t, &c.opts), KR_EINVAL);
	c.opts.proxy = "root@-bastion";
	assert_int_equal(kr_transport_ssh.connect(&t, &c.opts), KR_EINVAL);
	assert_int_equal(count_in_log("Connection from"), cmds);
	assert_int_not_equal(access("/tmp/kr-pwned", F_OK), 0);
	conn_release(&c);
}

static void
test_upload_atomic_0600(void **state)
{
	struct conn c;
	struct kr_transport *t = NULL;
	const char *data = "DB_PASSWORD=s3cr'et \"x\" $(id)\n";
	char *target = kr_xasprintf(
		"%s/remote home/.kamal/apps/app/env/roles/web.env", dir);
	char *parent =
		kr_xasprintf("%s/remote home/.kamal/apps/app/env/roles", dir);
	char *got;
	struct stat sb;
	DIR *d;
	struct dirent *e;
	int n = 0;
	unsigned before;

	SKIP_IF_NO_SSHD();
	conn_init(&c, "known_hosts", "id_user");
	assert_int_equal(kr_transport_ssh.connect(&t, &c.opts), 0);
	before = t->exec_count;
	assert_int_equal(t->vt->upload(t, target, data, strlen(data), 0600), 0);
	/* One exec in the same connection. */
	assert_int_equal(t->exec_count, before + 1);
	assert_int_equal(stat(target, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	got = read_file("remote home/.kamal/apps/app/env/roles/web.env");
	assert_string_equal(got, data);
	free(got);
	d = opendir(parent);
	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' || strstr(e->d_name, "kr-tmp"))
			n++;
	closedir(d);
	assert_int_equal(n, 1);
	kr_transport_close(t);
	free(target);
	free(parent);
	conn_release(&c);
}

static void
test_proxy_jump(void **state)
{
	struct conn c;
	struct kr_transport *t = NULL;
	struct kr_exec_result r;
	char *proxy;
	int conns;

	SKIP_IF_NO_SSHD();
	if (access("/usr/bin/ssh", X_OK) != 0) {
		print_message("skipped: /usr/bin/ssh (openssh-client) is not "
			      "installed\n");
		skip();
	}
	/* The server is its own bastion: ssh -W through it, then libssh. */
	conn_init(&c, "known_hosts", "id_user");
	proxy = kr_xasprintf("%s@127.0.0.1:%d", user, port);
	c.opts.proxy = proxy;
	conns = count_in_log("Accepted publickey");
	assert_int_equal(kr_transport_ssh.connect(&t, &c.opts), 0);
	kr_exec_result_init(&r, 0);
	assert_int_equal(t->vt->exec(t, "echo via bastion", NULL, 0, &r), 0);
	assert_string_equal(r.out.ptr, "via bastion\n");
	kr_exec_result_release(&r);
	kr_transport_close(t);
	usleep(200000);
	assert_int_equal(count_in_log("Accepted publickey") - conns, 2);

	/* The bastion's host key is verified too. */
	free(c.known_hosts);
	c.known_hosts = path("empty_known_hosts");
	c.opts.known_hosts = c.known_hosts;
	assert_int_equal(run(": > %s/empty_known_hosts", dir), 0);
	t = NULL;
	assert_int_equal(kr_transport_ssh.connect(&t, &c.opts), KR_ESSH);
	assert_null(t);
	print_message("%s\n", kr_error_last());
	free(proxy);
	conn_release(&c);
}

static void
test_connect_timeout(void **state)
{
	struct conn c;
	struct kr_transport *t = NULL;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct timespec a, b;
	int fd, silent_port;

	SKIP_IF_NO_SSHD();
	/* A port that accepts TCP but never says a word (no SSH banner). */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	silent_port = ntohs(sa.sin_port);

	conn_init(&c, "known_hosts", "id_user");
	c.opts.port = silent_port;
	c.opts.connect_timeout = 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(kr_transport_ssh.connect(&t, &c.opts), KR_ESSH);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_null(t);
	print_message("%s\n", kr_error_last());
	assert_true(b.tv_sec - a.tv_sec < 5);
	close(fd);
	conn_release(&c);
}

static void
test_connection_lost_mid_exec(void **state)
{
	struct conn c;
	struct kr_transport *t = NULL;
	struct kr_exec_result r;
	int rc;

	SKIP_IF_NO_SSHD();
	conn_init(&c, "known_hosts", "id_user");
	assert_int_equal(kr_transport_ssh.connect(&t, &c.opts), 0);
	/* The shell kills its own sshd session process: the connection drops.
	 */
	kr_exec_result_init(&r, 0);
	rc = t->vt->exec(t, "echo before; kill -9 $PPID; sleep 5", NULL, 0, &r);
	print_message("rc %d: %s\n", rc, kr_error_last());
	assert_true(rc == KR_ESSH || r.status != 0);
	kr_exec_result_release(&r);
	/* The next exec on the dead connection fails cleanly, no hang. */
	kr_exec_result_init(&r, 0);
	assert_int_equal(t->vt->exec(t, "echo after", NULL, 0, &r), KR_ESSH);
	kr_exec_result_release(&r);
	kr_transport_close(t);
	conn_release(&c);
}

static void
test_keys_only_without_keys(void **state)
{
	struct conn c;
	struct kr_transport *t = NULL;

	SKIP_IF_NO_SSHD();
	conn_init(&c, "known_hosts", "id_user");
	c.opts.keys = NULL;
	assert_int_equal(kr_transport_ssh.connect(&t, &c.opts), KR_ESSH);
	assert_non_null(strstr(kr_error_last(), "tried: no keys"));
	conn_release(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_right_key_execs),
		cmocka_unit_test(test_key_data_execs),
		cmocka_unit_test(test_wrong_key_refused),
		cmocka_unit_test(test_unknown_host_key_refused),
		cmocka_unit_test(test_changed_host_key_refused),
		cmocka_unit_test(test_accept_new_adds_key),
		cmocka_unit_test(test_revoked_host_key_refused),
		cmocka_unit_test(test_cert_authority_refused),
		cmocka_unit_test(test_one_connection_many_execs),
		cmocka_unit_test(test_large_output_and_cap),
		cmocka_unit_test(test_dash_host_rejected),
		cmocka_unit_test(test_upload_atomic_0600),
		cmocka_unit_test(test_proxy_jump),
		cmocka_unit_test(test_connect_timeout),
		cmocka_unit_test(test_connection_lost_mid_exec),
		cmocka_unit_test(test_keys_only_without_keys),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
