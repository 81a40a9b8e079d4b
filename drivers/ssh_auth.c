/*
 * ssh authentication: key data from the configuration, then key files,
 * then (unless keys_only) the agent and default keys; a refusal says what
 * was tried, never a key's text.
 */
#include <stdlib.h>

#include "common/error.h"
#include "drivers/ssh_int.h"

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

int
kr_ssh_authenticate(struct ssh_transport *st, const struct kr_transport_opts *o)
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
		char *path = kr_ssh_expand_home(o->keys->v[i]);

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
	err = kr_ssh_fail(s, st->host, KR_ESSH, "authentication failed on");
	goto out;
ok:
	err = 0;
out:
	if (user)
		ssh_string_free_char(user);
	kr_buf_release(&tried);
	return err;
}
