/*
 * The ssh transport on libssh 0.10: one session per host, opened once and
 * reused for every exec (a channel each). Options come from the transport
 * options over ~/.ssh/config; host keys are always verified against
 * known_hosts (unknown and changed keys refused, with what to do about it);
 * authentication by key data, key files, then agent and default keys.
 * libssh's errors are turned into ours in one place, ssh_fail().
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "common/error.h"
#include "common/quote.h"
#include "drivers/transport.h"

#define SSH_OUTPUT_MAX ((size_t)64 * 1024 * 1024)
#define SSH_KEEPALIVE_MS 15000

struct ssh_transport {
	struct kr_transport base;
	ssh_session session;
	char *host; /* as given, for messages */
	size_t output_max;
};

/* accept-new appends to a known_hosts file other threads may also write. */
static pthread_mutex_t known_hosts_lock = PTHREAD_MUTEX_INITIALIZER;

/* The one place a libssh error becomes a kreconcile error. */
static int
ssh_fail(ssh_session s, const char *host, int code, const char *what)
{
	const char *why = s ? ssh_get_error(s) : "";

	if (!why || !*why)
		why = "unknown libssh error";
	kr_error_set(code, "%s '%s': %s", what, host, why);
	return code;
}

/* "~/x" -> "$HOME/x"; caller frees. */
static char *
expand_home(const char *path)
{
	const char *home = getenv("HOME");

	if (path[0] == '~' && (path[1] == '/' || path[1] == '\0') && home)
		return kr_xasprintf("%s%s", home, path + 1);
	return kr_xstrdup(path);
}

/*
 * A ProxyCommand for `proxy: [user@]host[:port]` (Kamal's bastion), run by
 * OpenSSH's ssh -W, which verifies the bastion's host key the same way.
 */
static int
proxy_jump_command(char **out, const struct kr_transport_opts *o)
{
	struct kr_buf cmd = KR_BUF_INIT;
	char *spec = kr_xstrdup(o->proxy), *host, *at, *port = NULL, *p;
	size_t i;
	int err;

	at = strrchr(spec, '@');
	host = at ? at + 1 : spec;
	if (at)
		*at = '\0';
	if (host[0] == '[') {
		p = strchr(host, ']');
		if (p) {
			*p = '\0';
			if (p[1] == ':')
				port = p + 2;
			host++;
		}
	} else if ((p = strchr(host, ':')) && !strchr(p + 1, ':')) {
		*p = '\0';
		port = p + 1;
	}
	if ((err = kr_transport_check_host(host)) < 0)
		goto out;
	if (port && (!*port || strspn(port, "0123456789") != strlen(port))) {
		kr_error_set(KR_EINVAL, "proxy '%s' has a bad port", o->proxy);
		err = KR_EINVAL;
		goto out;
	}
	if (at && (!*spec || spec[0] == '-')) {
		kr_error_set(
			KR_EINVAL, "proxy '%s' has a bad user name", o->proxy);
		err = KR_EINVAL;
		goto out;
	}
	if ((err = kr_buf_printf(&cmd,
		     "ssh -o BatchMode=yes -o StrictHostKeyChecking=%s",
		     o->accept_new_host_keys ? "accept-new" : "yes")) < 0)
		goto out;
	if (o->ssh_config) {
		char *cfg = *o->ssh_config ? expand_home(o->ssh_config) :
					     kr_xstrdup("/dev/null");

		err = kr_buf_puts(&cmd, " -F");
		if (!err)
			err = kr_shell_arg(&cmd, cfg);
		free(cfg);
		if (err < 0)
			goto out;
	}
	if (o->known_hosts) {
		char *kh = expand_home(o->known_hosts);
		char *opt = kr_xasprintf("UserKnownHostsFile=%s", kh);

		err = kr_buf_puts(&cmd, " -o");
		if (!err)
			err = kr_shell_arg(&cmd, opt);
		free(opt);
		free(kh);
		if (err < 0)
			goto out;
	}
	for (i = 0; o->keys && i < o->keys->n; i++) {
		char *k = expand_home(o->keys->v[i]);

		err = kr_buf_puts(&cmd, " -i");
		if (!err)
			err = kr_shell_arg(&cmd, k);
		free(k);
		if (err < 0)
			goto out;
	}
	if (o->keys_only &&
		(err = kr_buf_puts(&cmd, " -o IdentitiesOnly=yes")) < 0)
		goto out;
	if (port && (err = kr_buf_printf(&cmd, " -p %s", port)) < 0)
		goto out;
	if (at && ((err = kr_buf_puts(&cmd, " -l")) < 0 ||
			  (err = kr_shell_arg(&cmd, spec)) < 0))
		goto out;
	if ((err = kr_buf_puts(&cmd, " -W '[%h]:%p' --")) < 0 ||
		(err = kr_shell_arg(&cmd, host)) < 0)
		goto out;
	*out = kr_buf_detach(&cmd, NULL);
	err = 0;
out:
	kr_buf_release(&cmd);
	free(spec);
	return err;
}

static int
log_verbosity(const char *level)
{
	if (!level)
		return SSH_LOG_NOLOG;
	if (strcmp(level, "debug") == 0)
		return SSH_LOG_PROTOCOL;
	if (strcmp(level, "info") == 0)
		return SSH_LOG_WARNING;
	return SSH_LOG_NOLOG;
}

static int
set_options(struct ssh_transport *st, const struct kr_transport_opts *o)
{
	ssh_session s = st->session;
	long timeout = o->connect_timeout > 0 ? o->connect_timeout : 10;
	int verbosity = log_verbosity(o->log_level), one = 1, err = 0;
	char *user = NULL, *path = NULL, *proxy = NULL;

	if (ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity) < 0 ||
		ssh_options_set(s, SSH_OPTIONS_HOST, o->host) < 0)
		return ssh_fail(s, o->host, KR_EINVAL, "bad ssh options for");

	/* ~/.ssh/config first; what deploy.yml says wins over it. */
	if (o->ssh_config && !*o->ssh_config) {
		bool no = false;

		ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no);
	} else {
		path = o->ssh_config ? expand_home(o->ssh_config) : NULL;
		if (ssh_options_parse_config(s, path) < 0) {
			err = ssh_fail(s, o->host, KR_ECONFIG,
				"cannot read the ssh config for");
			goto out;
		}
		free(path);
		path = NULL;
	}
	if (o->user) {
		if (ssh_options_set(s, SSH_OPTIONS_USER, o->user) < 0)
			goto bad;
	} else if (ssh_options_get(s, SSH_OPTIONS_USER, &user) != SSH_OK) {
		if (ssh_options_set(s, SSH_OPTIONS_USER, "root") < 0)
			goto bad;
	}
	if (o->port > 0) {
		unsigned int port = (unsigned int)o->port;

		if (ssh_options_set(s, SSH_OPTIONS_PORT, &port) < 0)
			goto bad;
	}
	if (o->known_hosts) {
		path = expand_home(o->known_hosts);
		if (ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, path) < 0)
			goto bad;
	}
	if (ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout) < 0 ||
		ssh_options_set(s, SSH_OPTIONS_NODELAY, &one) < 0)
		goto bad;
	if (o->proxy_command) {
		if (ssh_options_set(
			    s, SSH_OPTIONS_PROXYCOMMAND, o->proxy_command) < 0)
			goto bad;
	} else if (o->proxy) {
		if ((err = proxy_jump_command(&proxy, o)) < 0)
			goto out;
		if (ssh_options_set(s, SSH_OPTIONS_PROXYCOMMAND, proxy) < 0)
			goto bad;
	}
	err = 0;
	goto out;
bad:
	err = ssh_fail(s, o->host, KR_EINVAL, "bad ssh options for");
out:
	if (user)
		ssh_string_free_char(user);
	free(path);
	free(proxy);
	return err;
}

/* The name ssh-keyscan -t takes for a key type. */
static const char *
keyscan_type(enum ssh_keytypes_e t)
{
	switch (t) {
	case SSH_KEYTYPE_ED25519:
		return "ed25519";
	case SSH_KEYTYPE_RSA:
		return "rsa";
	case SSH_KEYTYPE_ECDSA_P256:
	case SSH_KEYTYPE_ECDSA_P384:
	case SSH_KEYTYPE_ECDSA_P521:
		return "ecdsa";
	default:
		return NULL;
	}
}

static int
verify_host_key(struct ssh_transport *st, const struct kr_transport_opts *o)
{
	ssh_session s = st->session;
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp = NULL, *kh = NULL, *host = NULL, *entry = NULL;
	const char *type, *scan;
	unsigned int port = 22;
	enum ssh_known_hosts_e state;
	int err;

	if (ssh_get_server_publickey(s, &key) < 0 ||
		ssh_get_publickey_hash(
			key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) < 0) {
		err = ssh_fail(s, st->host, KR_EHOSTKEY,
			"cannot read the host key of");
		goto out;
	}
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	type = ssh_key_type_to_char(ssh_key_type(key));
	scan = keyscan_type(ssh_key_type(key));
	if (ssh_options_get(s, SSH_OPTIONS_KNOWNHOSTS, &kh) != SSH_OK)
		kh = NULL;
	if (ssh_options_get(s, SSH_OPTIONS_HOST, &host) != SSH_OK)
		host = NULL;
	ssh_options_get_port(s, &port);
	entry = port == 22 ?
			kr_xstrdup(host ? host : st->host) :
			kr_xasprintf("[%s]:%u", host ? host : st->host, port);

	state = ssh_session_is_known_server(s);
	switch (state) {
	case SSH_KNOWN_HOSTS_OK:
		err = 0;
		break;
	case SSH_KNOWN_HOSTS_CHANGED:
	case SSH_KNOWN_HOSTS_OTHER:
		kr_error_set(KR_EHOSTKEY,
			"host key of '%s' HAS CHANGED: it now offers %s key "
			"%s, which does not "
			"match %s; someone may be intercepting the connection, "
			"or the host was "
			"reinstalled; refusing to connect "
			"(--accept-new-host-keys never accepts "
			"a changed key). If the change is expected, remove the "
			"old key with "
			"`ssh-keygen -R '%s' -f %s` and trust the new one",
			st->host, type ? type : "a", fp ? fp : "?",
			kh ? kh : "known_hosts", entry,
			kh ? kh : "~/.ssh/known_hosts");
		err = KR_EHOSTKEY;
		break;
	case SSH_KNOWN_HOSTS_UNKNOWN:
	case SSH_KNOWN_HOSTS_NOT_FOUND:
		if (o->accept_new_host_keys) {
			pthread_mutex_lock(&known_hosts_lock);
			err = ssh_session_update_known_hosts(s);
			pthread_mutex_unlock(&known_hosts_lock);
			if (err < 0)
				err = ssh_fail(s, st->host, KR_EHOSTKEY,
					"cannot add to known_hosts the host "
					"key of");
			else
				err = 0;
			break;
		}
		if (port == 22)
			kr_error_set(KR_EHOSTKEY,
				"host key of '%s' is not known: it offers %s "
				"key %s; "
				"check that fingerprint with the host's owner, "
				"then trust it with "
				"`ssh-keyscan -t %s %s >> %s`, or run with "
				"--accept-new-host-keys",
				st->host, type ? type : "a", fp ? fp : "?",
				scan ? scan : "TYPE", host ? host : st->host,
				kh ? kh : "~/.ssh/known_hosts");
		else
			kr_error_set(KR_EHOSTKEY,
				"host key of '%s' (port %u) is not known: it "
				"offers %s key %s; "
				"check that fingerprint with the host's owner, "
				"then trust it with "
				"`ssh-keyscan -p %u -t %s %s >> %s`, or run "
				"with --accept-new-host-keys",
				st->host, port, type ? type : "a",
				fp ? fp : "?", port, scan ? scan : "TYPE",
				host ? host : st->host,
				kh ? kh : "~/.ssh/known_hosts");
		err = KR_EHOSTKEY;
		break;
	case SSH_KNOWN_HOSTS_ERROR:
	default:
		err = ssh_fail(s, st->host, KR_EHOSTKEY,
			"cannot check known_hosts for the host key of");
		break;
	}
out:
	if (fp)
		ssh_string_free_char(fp);
	if (kh)
		ssh_string_free_char(kh);
	if (host)
		ssh_string_free_char(host);
	free(entry);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(key);
	return err;
}

/* 1 authenticated, 0 refused (tried noted), <0 error. */
static int
try_key(ssh_session s, ssh_key key)
{
	int rc = ssh_userauth_publickey(s, NULL, key);

	if (rc == SSH_AUTH_SUCCESS)
		return 1;
	if (rc == SSH_AUTH_ERROR)
		return -1;
	return 0;
}

static int
authenticate(struct ssh_transport *st, const struct kr_transport_opts *o)
{
	ssh_session s = st->session;
	struct kr_buf tried = KR_BUF_INIT;
	char *user = NULL;
	size_t i;
	int rc, err;

	for (i = 0; o->key_data && i < o->key_data->n; i++) {
		ssh_key key = NULL;

		if (ssh_pki_import_privkey_base64(o->key_data->v[i], NULL, NULL,
			    NULL, &key) != SSH_OK) {
			/* Never show the text: it is a secret. */
			kr_error_set(KR_EINVAL,
				"ssh key_data entry %zu for '%s' is not a "
				"private key libssh can read",
				i + 1, st->host);
			err = KR_EINVAL;
			goto out;
		}
		rc = try_key(s, key);
		ssh_key_free(key);
		kr_buf_printf(
			&tried, "%skey_data %zu", tried.len ? ", " : "", i + 1);
		if (rc < 0)
			goto fail;
		if (rc > 0)
			goto ok;
	}
	for (i = 0; o->keys && i < o->keys->n; i++) {
		ssh_key key = NULL;
		char *path = expand_home(o->keys->v[i]);

		if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) !=
			SSH_OK) {
			kr_buf_printf(&tried, "%s%s (unreadable)",
				tried.len ? ", " : "", path);
			free(path);
			continue;
		}
		rc = try_key(s, key);
		ssh_key_free(key);
		kr_buf_printf(&tried, "%s%s", tried.len ? ", " : "", path);
		free(path);
		if (rc < 0)
			goto fail;
		if (rc > 0)
			goto ok;
	}
	if (!o->keys_only) {
		rc = ssh_userauth_publickey_auto(s, NULL, NULL);
		kr_buf_printf(&tried, "%sagent and default keys",
			tried.len ? ", " : "");
		if (rc == SSH_AUTH_ERROR)
			goto fail;
		if (rc == SSH_AUTH_SUCCESS)
			goto ok;
	}
	if (ssh_options_get(s, SSH_OPTIONS_USER, &user) != SSH_OK)
		user = NULL;
	kr_error_set(KR_ESSH,
		"permission denied on '%s' for user '%s' (tried: %s)", st->host,
		user ? user : "?", tried.len ? tried.ptr : "no keys");
	err = KR_ESSH;
	goto out;
fail:
	err = ssh_fail(s, st->host, KR_ESSH, "authentication failed on");
	goto out;
ok:
	err = 0;
out:
	if (user)
		ssh_string_free_char(user);
	kr_buf_release(&tried);
	return err;
}

/* TCP keepalive, so a host that vanished is noticed; no-op through a proxy. */
static void
set_keepalive(ssh_session s)
{
	socket_t fd = ssh_get_fd(s);
	int on = 1, idle = 30, intvl = 10, cnt = 3;

	if (fd < 0 ||
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) < 0)
		return;
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

static void ssh_close_transport(struct kr_transport *t);

static int
ssh_connect_transport(
	struct kr_transport **out, const struct kr_transport_opts *o)
{
	struct ssh_transport *st;
	int err;

	if ((err = kr_transport_check_host(o->host)) < 0)
		return err;
	st = kr_xcalloc(1, sizeof(*st));
	st->base.vt = &kr_transport_ssh;
	st->host = kr_xstrdup(o->host);
	st->base.host = st->host;
	st->output_max = o->output_max ? o->output_max : SSH_OUTPUT_MAX;
	if (!(st->session = ssh_new())) {
		kr_error_set(KR_ENOMEM, "cannot make an ssh session for '%s'",
			o->host);
		err = KR_ENOMEM;
		goto out;
	}
	if ((err = set_options(st, o)) < 0)
		goto out;
	if (ssh_connect(st->session) != SSH_OK) {
		char *what =
			o->proxy || o->proxy_command ?
				kr_xasprintf("cannot connect (through proxy "
					     "'%s', whose host key is "
					     "verified too) to",
					o->proxy_command ? o->proxy_command :
							   o->proxy) :
				kr_xstrdup("cannot connect to");

		err = ssh_fail(st->session, st->host, KR_ESSH, what);
		free(what);
		goto out;
	}
	set_keepalive(st->session);
	if ((err = verify_host_key(st, o)) < 0)
		goto out;
	if ((err = authenticate(st, o)) < 0)
		goto out;
	*out = &st->base;
	return 0;
out:
	ssh_close_transport(&st->base);
	return err;
}

struct exec_ctx {
	struct kr_exec_result *res;
	int overflow;
	int eof;
	int closed;
	int got_status;
};

static int
on_data(ssh_session session, ssh_channel channel, void *data, uint32_t len,
	int is_stderr, void *userdata)
{
	struct exec_ctx *x = userdata;
	struct kr_buf *b = is_stderr ? &x->res->err : &x->res->out;

	if (b->max && b->len + len > b->max) {
		kr_buf_put(b, data, b->max - b->len);
		x->overflow = 1;
	} else if (kr_buf_put(b, data, len) < 0) {
		x->overflow = 1;
	}
	return (int)len;
}

static void
on_eof(ssh_session session, ssh_channel channel, void *userdata)
{
	((struct exec_ctx *)userdata)->eof = 1;
}

static void
on_close(ssh_session session, ssh_channel channel, void *userdata)
{
	((struct exec_ctx *)userdata)->closed = 1;
}

static void
on_exit_status(
	ssh_session session, ssh_channel channel, int status, void *userdata)
{
	struct exec_ctx *x = userdata;

	x->res->status = status;
	x->got_status = 1;
}

static void
on_exit_signal(ssh_session session, ssh_channel channel, const char *signal,
	int core, const char *errmsg, const char *lang, void *userdata)
{
	struct exec_ctx *x = userdata;

	x->res->status = -1;
	x->got_status = 1;
}

static int
ssh_exec(struct kr_transport *t, const char *cmd, const void *stdin_data,
	size_t stdin_len, struct kr_exec_result *res)
{
	struct ssh_transport *st = (struct ssh_transport *)t;
	ssh_session s = st->session;
	ssh_channel ch = NULL;
	ssh_event ev = NULL;
	struct ssh_channel_callbacks_struct cb;
	struct exec_ctx x = { .res = res };
	const char *p = stdin_data;
	size_t left = stdin_len;
	int err, rc;

	if (!res->out.max)
		res->out.max = st->output_max;
	if (!res->err.max)
		res->err.max = st->output_max;
	kr_buf_reset(&res->out);
	kr_buf_reset(&res->err);
	res->status = -1;

	memset(&cb, 0, sizeof(cb));
	cb.userdata = &x;
	cb.channel_data_function = on_data;
	cb.channel_eof_function = on_eof;
	cb.channel_close_function = on_close;
	cb.channel_exit_status_function = on_exit_status;
	cb.channel_exit_signal_function = on_exit_signal;
	ssh_callbacks_init(&cb);

	if (!(ch = ssh_channel_new(s)) ||
		ssh_channel_open_session(ch) != SSH_OK) {
		err = ssh_fail(
			s, st->host, KR_ESSH, "cannot open a channel to");
		goto out;
	}
	ssh_set_channel_callbacks(ch, &cb);
	if (ssh_channel_request_exec(ch, cmd) != SSH_OK) {
		err = ssh_fail(s, st->host, KR_ESSH, "cannot run a command on");
		goto out;
	}
	t->exec_count++;
	while (left > 0 && !x.closed && !x.eof) {
		uint32_t n = left > 32768 ? 32768 : (uint32_t)left;

		rc = ssh_channel_write(ch, p, n);
		if (rc == SSH_ERROR) {
			if (x.closed || ssh_channel_is_closed(ch))
				break; /* it exited without reading all of stdin
					*/
			err = ssh_fail(
				s, st->host, KR_ESSH, "cannot send input to");
			goto out;
		}
		p += rc;
		left -= (size_t)rc;
	}
	if (!x.closed && ssh_channel_is_open(ch))
		ssh_channel_send_eof(ch);

	if (!(ev = ssh_event_new()) || ssh_event_add_session(ev, s) != SSH_OK) {
		kr_error_set(
			KR_ESSH, "cannot wait for a command on '%s'", st->host);
		err = KR_ESSH;
		goto out;
	}
	while (!x.closed && !ssh_channel_is_closed(ch)) {
		rc = ssh_event_dopoll(ev, SSH_KEEPALIVE_MS);
		if (rc == SSH_ERROR) {
			err = ssh_fail(s, st->host, KR_ESSH,
				"connection lost while running a command on");
			goto out;
		}
		if (rc ==
			SSH_AGAIN) /* quiet for a while: keep the path alive */
			ssh_send_ignore(s, "kreconcile keepalive");
	}
	if (!x.got_status)
		res->status = ssh_channel_get_exit_status(ch);
	if (x.overflow) {
		kr_error_set(KR_EINVAL,
			"output of a command on '%s' is larger than %zu bytes",
			st->host,
			res->out.max > res->err.max ? res->out.max :
						      res->err.max);
		err = KR_EINVAL;
		goto out;
	}
	err = 0;
out:
	if (ev) {
		ssh_event_remove_session(ev, s);
		ssh_event_free(ev);
	}
	if (ch) {
		ssh_remove_channel_callbacks(ch, &cb);
		if (ssh_channel_is_open(ch))
			ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	return err;
}

static int
ssh_upload(struct kr_transport *t, const char *path, const void *data,
	size_t len, int mode)
{
	return kr_transport_upload_via_exec(t, path, data, len, mode);
}

static void
ssh_close_transport(struct kr_transport *t)
{
	struct ssh_transport *st = (struct ssh_transport *)t;

	if (!st)
		return;
	if (st->session) {
		if (ssh_is_connected(st->session))
			ssh_disconnect(st->session);
		ssh_free(st->session);
	}
	free(st->host);
	free(st);
}

const struct kr_transport_vtable kr_transport_ssh = {
	.name = "ssh",
	.connect = ssh_connect_transport,
	.exec = ssh_exec,
	.upload = ssh_upload,
	.close = ssh_close_transport,
};
