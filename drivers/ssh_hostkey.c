/*
 * Host key verification against known_hosts: unknown and changed keys are
 * refused with what to do about it (the fingerprint, the ssh-keyscan or
 * ssh-keygen -R line); --accept-new-host-keys adds unknown keys, never
 * changed ones. libssh skips the marker lines of known_hosts, so they are
 * read here first: a key on an `@revoked` line is refused whatever else
 * the files say (for every host, whatever the line's host patterns: a
 * revoked key is never trusted), and a host that only an `@cert-authority`
 * line names is refused with a clear message (host certificates are not
 * verified); --accept-new-host-keys adds neither.
 */
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* One known_hosts marker line that concerns this connection. */
struct marker_hit {
	char *file;
	unsigned long line;
};

/* OpenSSH's host pattern: `*` and `?` are wildcards, nothing else is
 * special (a `[host]:port` entry is literal text). */
static bool
glob_match(const char *p, const char *s)
{
	for (; *p; p++, s++) {
		if (*p == '*') {
			for (;; s++) {
				if (glob_match(p + 1, s))
					return true;
				if (!*s)
					return false;
			}
		}
		if (!*s || (*p != '?' && *p != *s))
			return false;
	}
	return !*s;
}

/* Does one known_hosts host pattern list (a,b,!c) name entry? Hashed
 * entries (|1|...) never match here. */
static bool
patterns_match(char *patterns, const char *entry)
{
	bool hit = false;
	char *save = NULL, *p;

	for (p = strtok_r(patterns, ",", &save); p;
		p = strtok_r(NULL, ",", &save)) {
		bool neg = *p == '!';

		if (*p == '|')
			continue;
		if (glob_match(neg ? p + 1 : p, entry)) {
			if (neg)
				return false;
			hit = true;
		}
	}
	return hit;
}

/*
 * Scan one known_hosts file's marker lines: the first `@revoked` line
 * whose key is `key` goes to revoked, the first `@cert-authority` line
 * whose patterns name entry to ca. A missing file has no markers. Lines
 * past a sane size are not read (a known_hosts file is small).
 */
static void
scan_markers(const char *file, ssh_key key, const char *entry,
	struct marker_hit *revoked, struct marker_hit *ca)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long lineno = 0;

	if (!file || !(f = fopen(file, "re")))
		return;
	while ((n = getline(&line, &cap, f)) >= 0 && lineno < 1000000) {
		char *save = NULL, *mark, *pats, *type, *b64;
		ssh_key k = NULL;

		lineno++;
		if (n > 65536 || line[0] != '@')
			continue;
		mark = strtok_r(line, " \t\r\n", &save);
		pats = strtok_r(NULL, " \t\r\n", &save);
		type = strtok_r(NULL, " \t\r\n", &save);
		b64 = strtok_r(NULL, " \t\r\n", &save);
		if (!mark || !pats || !type || !b64)
			continue;
		if (strcmp(mark, "@revoked") == 0 && !revoked->file &&
			ssh_pki_import_pubkey_base64(
				b64, ssh_key_type_from_name(type), &k) == 0 &&
			ssh_key_cmp(k, key, SSH_KEY_CMP_PUBLIC) == 0) {
			revoked->file = kr_xstrdup(file);
			revoked->line = lineno;
		} else if (strcmp(mark, "@cert-authority") == 0 && !ca->file &&
			   patterns_match(pats, entry)) {
			ca->file = kr_xstrdup(file);
			ca->line = lineno;
		}
		ssh_key_free(k);
	}
	free(line);
	fclose(f);
}

int
kr_ssh_verify_host_key(
	struct ssh_transport *st, const struct kr_transport_opts *o)
{
	ssh_session s = st->session;
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp = NULL, *kh = NULL, *gkh = NULL, *host = NULL, *entry = NULL;
	struct marker_hit revoked = { 0 }, ca = { 0 };
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

	if (ssh_options_get(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, &gkh) != SSH_OK)
		gkh = NULL;
	scan_markers(kh, key, entry, &revoked, &ca);
	scan_markers(gkh, key, entry, &revoked, &ca);
	if (revoked.file) {
		kr_error_set(KR_EHOSTKEY,
			"host key of '%s' is REVOKED: it offers %s key %s, "
			"which %s:%lu marks @revoked; refusing to connect "
			"(--accept-new-host-keys never accepts a revoked key). "
			"Ask the host's owner for its new key",
			st->host, type ? type : "a", fp ? fp : "?",
			revoked.file, revoked.line);
		err = KR_EHOSTKEY;
		goto out;
	}
	state = ssh_session_is_known_server(s);
	if (ca.file && state != SSH_KNOWN_HOSTS_OK &&
		state != SSH_KNOWN_HOSTS_CHANGED &&
		state != SSH_KNOWN_HOSTS_ERROR) {
		kr_error_set(KR_EHOSTKEY,
			"host key of '%s' is not known: %s:%lu trusts an "
			"@cert-authority for it, but kreconcile does not "
			"verify host certificates; refusing to connect "
			"(--accept-new-host-keys does not add keys for such a "
			"host). Add the host's own key (%s key %s) to %s "
			"after checking it with the host's owner",
			st->host, ca.file, ca.line, type ? type : "a",
			fp ? fp : "?", kh ? kh : "~/.ssh/known_hosts");
		err = KR_EHOSTKEY;
		goto out;
	}
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
	if (gkh)
		ssh_string_free_char(gkh);
	free(revoked.file);
	free(ca.file);
	if (host)
		ssh_string_free_char(host);
	free(entry);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(key);
	return err;
}
