/*
 * A plan's identity (see plan.h): what a saved plan (-o FILE) records of
 * the plan it was made from (config, version, prune, every host's
 * fingerprint, a hash of its changes), how it is written into and read back
 * from the plan's JSON, and the check of a fresh plan against it.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "reconciler/plan_int.h"

json_t *
kr_plan_identity_json(const struct kr_plan_identity *id)
{
	json_t *o = json_object(), *hosts = json_object();
	size_t i;

	json_object_set_new(o, "config_sha256", json_string(id->config_sha256));
	json_object_set_new(o, "version",
		id->version ? json_string(id->version) : json_null());
	json_object_set_new(o, "revision", json_string(id->revision));
	json_object_set_new(o, "prune", json_boolean(id->prune));
	json_object_set_new(o, "changes_sha256",
		json_string(id->changes_sha256));
	for (i = 0; i < id->hosts.n; i++)
		json_object_set_new(hosts, id->hosts.v[i].key,
			json_string(id->hosts.v[i].value));
	json_object_set_new(o, "hosts", hosts);
	return o;
}

void
kr_plan_identity(struct kr_plan_identity *out, const struct kr_plan *p)
{
	struct kr_sha256 h;
	size_t i;

	memset(out, 0, sizeof(*out));
	memcpy(out->config_sha256, p->config_sha256, KR_SHA256_HEX);
	out->version = p->version ? kr_xstrdup(p->version) : NULL;
	memcpy(out->revision, p->revision, KR_SHA256_HEX);
	out->prune = p->prune;
	kr_sha256_init(&h);
	kr_sha256_field(&h, "kreconcile-changes-v1");
	for (i = 0; i < p->nchanges; i++) {
		kr_sha256_field(&h, p->changes[i].address);
		kr_sha256_field(&h, kr_action_name(p->changes[i].action));
		kr_sha256_field(&h, kr_plan_status_name(p->changes[i].status));
	}
	kr_sha256_final(&h, out->changes_sha256);
	for (i = 0; i < p->nhosts; i++)
		kr_kvlist_set(&out->hosts, p->hosts[i].name,
			p->hosts[i].fingerprint);
}

void
kr_plan_identity_release(struct kr_plan_identity *id)
{
	free(id->version);
	kr_kvlist_release(&id->hosts);
	memset(id, 0, sizeof(*id));
}

static int
copy_hex(char dst[KR_SHA256_HEX], json_t *v)
{
	const char *s = json_string_value(v);

	if (!s || strlen(s) >= KR_SHA256_HEX)
		return -1;
	strcpy(dst, s);
	return 0;
}

int
kr_plan_identity_read(struct kr_plan_identity *out, const char *json,
	size_t len)
{
	struct kr_plan_identity id;
	json_error_t jerr;
	json_t *root, *o, *hosts, *v, *fmt;
	const char *key;
	int rc = KR_EPARSE;

	memset(&id, 0, sizeof(id));
	root = json_loadb(json, len, 0, &jerr);
	if (!root) {
		kr_error_set(KR_EPARSE, "saved plan: line %d: %s", jerr.line,
			jerr.text);
		return KR_EPARSE;
	}
	fmt = json_object_get(root, "format_version");
	if (!json_is_string(fmt) ||
	    strncmp(json_string_value(fmt), "1.", 2) != 0) {
		kr_error_set(KR_EPARSE, "saved plan: unsupported format_version");
		goto out;
	}
	o = json_object_get(root, "identity");
	hosts = json_object_get(o, "hosts");
	if (!json_is_object(o) || !json_is_object(hosts) ||
	    copy_hex(id.config_sha256, json_object_get(o, "config_sha256")) ||
	    copy_hex(id.revision, json_object_get(o, "revision")) ||
	    copy_hex(id.changes_sha256, json_object_get(o, "changes_sha256"))) {
		kr_error_set(KR_EPARSE, "saved plan: missing or invalid 'identity'");
		goto out;
	}
	v = json_object_get(o, "version");
	if (json_is_string(v))
		id.version = kr_xstrdup(json_string_value(v));
	id.prune = json_is_true(json_object_get(o, "prune"));
	json_object_foreach(hosts, key, v) {
		if (!json_is_string(v)) {
			kr_error_set(KR_EPARSE, "saved plan: host '%s' has no "
				"fingerprint", key);
			goto out;
		}
		kr_kvlist_append(&id.hosts, key, json_string_value(v));
	}
	*out = id;
	memset(&id, 0, sizeof(id));
	rc = 0;
out:
	kr_plan_identity_release(&id);
	json_decref(root);
	return rc;
}

int
kr_plan_identity_check(const struct kr_plan_identity *saved,
	const struct kr_plan *fresh)
{
	struct kr_plan_identity now;
	size_t i;
	int rc = KR_EINVAL;

	kr_plan_identity(&now, fresh);
	if (strcmp(saved->config_sha256, now.config_sha256) != 0) {
		kr_error_set(KR_EINVAL, "saved plan is stale: the configuration "
			"changed since it was made");
		goto out;
	}
	if (!str_eq(saved->version, now.version)) {
		kr_error_set(KR_EINVAL, "saved plan is stale: version '%s' is "
			"now '%s'", saved->version ? saved->version : "",
			now.version ? now.version : "");
		goto out;
	}
	if (saved->prune != now.prune) {
		kr_error_set(KR_EINVAL, "saved plan is stale: it was made %s "
			"prune", saved->prune ? "with" : "without");
		goto out;
	}
	for (i = 0; i < now.hosts.n; i++) {
		const char *fp = kr_kvlist_get(&saved->hosts,
			now.hosts.v[i].key);

		if (!fp) {
			kr_error_set(KR_EINVAL, "saved plan is stale: host '%s' "
				"is not in it", now.hosts.v[i].key);
			goto out;
		}
		if (strcmp(fp, now.hosts.v[i].value) != 0) {
			kr_error_set(KR_EINVAL, "saved plan is stale: host '%s' "
				"changed since it was observed",
				now.hosts.v[i].key);
			goto out;
		}
	}
	for (i = 0; i < saved->hosts.n; i++) {
		if (!kr_kvlist_get(&now.hosts, saved->hosts.v[i].key)) {
			kr_error_set(KR_EINVAL, "saved plan is stale: host '%s' "
				"is no longer planned", saved->hosts.v[i].key);
			goto out;
		}
	}
	if (strcmp(saved->changes_sha256, now.changes_sha256) != 0) {
		kr_error_set(KR_EINVAL, "saved plan is stale: the changes it "
			"lists differ from a fresh plan (an image may have been "
			"pushed since)");
		goto out;
	}
	rc = 0;
out:
	kr_plan_identity_release(&now);
	return rc;
}
