/*
 * Host key verification against known_hosts: unknown and changed keys are
 * refused with what to do about it (the fingerprint, the ssh-keyscan or
 * ssh-keygen -R line); --accept-new-host-keys adds unknown keys, never
 * changed ones.
 */
#include <pthread.h>
#include <stdlib.h>

#include "common/error.h"
#include "drivers/ssh_int.h"

/* accept-new appends to a known_hosts file other threads may also write. */
static pthread_mutex_t known_hosts_lock = PTHREAD_MUTEX_INITIALIZER;

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

int
kr_ssh_verify_host_key(
	struct ssh_transport *st, const struct kr_transport_opts *o)
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
		err = kr_ssh_fail(s, st->host, KR_EHOSTKEY,
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
				err = kr_ssh_fail(s, st->host, KR_EHOSTKEY,
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
		err = kr_ssh_fail(s, st->host, KR_EHOSTKEY,
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
