/*
 * The ssh session's options: ~/.ssh/config first, then what deploy.yml
 * says (user, port, known_hosts, timeout, proxy), and Kamal's `proxy:`
 * bastion as an OpenSSH ProxyCommand.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/quote.h"
#include "drivers/ssh_int.h"

/* " <flag> '<arg>'" onto cmd; takes arg (freed here). */
static int
put_option(struct kr_buf *cmd, const char *flag, char *arg)
{
	int err = kr_buf_puts(cmd, flag);

	if (!err)
		err = kr_shell_arg(cmd, arg);
	free(arg);
	return err;
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
	if (o->ssh_config &&
		(err = put_option(&cmd, " -F",
			 *o->ssh_config ? kr_ssh_expand_home(o->ssh_config) :
					  kr_xstrdup("/dev/null"))) < 0)
		goto out;
	if (o->known_hosts) {
		char *kh = kr_ssh_expand_home(o->known_hosts);

		err = put_option(
			&cmd, " -o", kr_xasprintf("UserKnownHostsFile=%s", kh));
		free(kh);
		if (err < 0)
			goto out;
	}
	for (i = 0; o->keys && i < o->keys->n; i++)
		if ((err = put_option(&cmd, " -i",
			     kr_ssh_expand_home(o->keys->v[i]))) < 0)
			goto out;
	if (o->keys_only &&
		(err = kr_buf_puts(&cmd, " -o IdentitiesOnly=yes")) < 0)
		goto out;
	if (port && (err = kr_buf_printf(&cmd, " -p %s", port)) < 0)
		goto out;
	if (at && (err = put_option(&cmd, " -l", kr_xstrdup(spec))) < 0)
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

int
kr_ssh_set_options(struct ssh_transport *st, const struct kr_transport_opts *o)
{
	ssh_session s = st->session;
	long timeout = o->connect_timeout > 0 ? o->connect_timeout : 10;
	int verbosity = log_verbosity(o->log_level), one = 1, err = 0;
	char *user = NULL, *path = NULL, *proxy = NULL;

	if (ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity) < 0 ||
		ssh_options_set(s, SSH_OPTIONS_HOST, o->host) < 0)
		return kr_ssh_fail(
			s, o->host, KR_EINVAL, "bad ssh options for");

	/* ~/.ssh/config first; what deploy.yml says wins over it. */
	if (o->ssh_config && !*o->ssh_config) {
		bool no = false;

		ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no);
	} else {
		path = o->ssh_config ? kr_ssh_expand_home(o->ssh_config) : NULL;
		if (ssh_options_parse_config(s, path) < 0) {
			err = kr_ssh_fail(s, o->host, KR_ECONFIG,
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
		path = kr_ssh_expand_home(o->known_hosts);
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
	err = kr_ssh_fail(s, o->host, KR_EINVAL, "bad ssh options for");
out:
	if (user)
		ssh_string_free_char(user);
	free(path);
	free(proxy);
	return err;
}
