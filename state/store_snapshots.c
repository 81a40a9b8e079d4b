/*
 * Observed snapshots and hosts in the state database: what was seen on each
 * host, a bounded history per host, and every host ever observed.
 */
#include <pthread.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/error.h"
#include "state/store.h"
#include "state/store_int.h"

static const char *const store_status_names[] = {
	[KR_OBS_OK] = "ok",
	[KR_OBS_UNREACHABLE] = "unreachable",
	[KR_OBS_NO_DOCKER] = "no_docker",
	[KR_OBS_FAILED] = "failed",
};

const char *
kr_store_status_name(enum kr_obs_status st)
{
	if ((unsigned)st <
		sizeof(store_status_names) / sizeof(store_status_names[0]))
		return store_status_names[st];
	return "failed";
}

static enum kr_obs_status
store_status_parse(const char *s)
{
	size_t i;

	for (i = 0; s && i < sizeof(store_status_names) /
					 sizeof(store_status_names[0]);
		i++)
		if (strcmp(s, store_status_names[i]) == 0)
			return (enum kr_obs_status)i;
	return KR_OBS_FAILED;
}

int
kr_store_snapshot_add(struct kr_store *s, int64_t run, const char *host,
	enum kr_obs_status status, const char *error, const char *fingerprint,
	const char *json_text, time_t observed_at)
{
	sqlite3_stmt *st = NULL;
	sqlite3_int64 at = observed_at ? (sqlite3_int64)observed_at :
					 (sqlite3_int64)time(NULL);
	const char *stname = kr_store_status_name(status);
	int rc;

	pthread_mutex_lock(&s->mu);
	if ((rc = kr_store_writable(s)) < 0)
		goto out;
	if (!host || !*host) {
		kr_error_set(KR_EINVAL, "a snapshot needs a host name");
		rc = KR_EINVAL;
		goto out;
	}
	if (json_text &&
		((rc = kr_store_guard(s, json_text, "snapshots.json")) < 0 ||
			(rc = kr_store_json_check(
				 json_text, "the observed host")) < 0))
		goto out;
	if ((rc = kr_store_begin(s, "record a snapshot")) < 0)
		goto out;

	if ((rc = kr_store_prepare(s, &st,
		     "INSERT INTO hosts (name, first_seen, last_seen, "
		     "last_status)"
		     " VALUES (?1, ?2, ?2, ?3) ON CONFLICT (name) DO UPDATE SET"
		     " last_seen = max(last_seen, excluded.last_seen),"
		     " last_status = excluded.last_status",
		     "record a host")) < 0 ||
		(rc = kr_store_bind_checked(s, st, 1, host, "hosts.name")) <
			0 ||
		(rc = sqlite3_bind_int64(st, 2, at)) != SQLITE_OK ||
		(rc = kr_store_bind_checked(
			 s, st, 3, stname, "hosts.last_status")) < 0 ||
		(rc = kr_store_step_done(s, st, "record a host")) < 0)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;

	if ((rc = kr_store_prepare(s, &st,
		     "INSERT INTO snapshots (host, run_id, observed_at, "
		     "status, error,"
		     " fingerprint, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
		     "record a snapshot")) < 0 ||
		(rc = kr_store_bind_checked(s, st, 1, host, "snapshots.host")) <
			0 ||
		(rc = kr_store_bind_id(s, st, 2, run)) < 0 ||
		(rc = sqlite3_bind_int64(st, 3, at)) != SQLITE_OK ||
		(rc = kr_store_bind_checked(
			 s, st, 4, stname, "snapshots.status")) < 0 ||
		(rc = kr_store_bind_masked(s, st, 5, error, 0)) < 0 ||
		(rc = kr_store_bind_checked(
			 s, st, 6, fingerprint, "snapshots.fingerprint")) < 0 ||
		(rc = kr_store_bind_checked(
			 s, st, 7, json_text, "snapshots.json")) < 0 ||
		(rc = kr_store_step_done(s, st, "record a snapshot")) < 0)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;

	if ((rc = kr_store_prepare(s, &st,
		     "DELETE FROM snapshots WHERE host = ?1 AND id NOT IN"
		     " (SELECT id FROM snapshots WHERE host = ?1 ORDER BY id "
		     "DESC LIMIT ?2)",
		     "prune old snapshots")) < 0 ||
		(rc = kr_store_bind_checked(s, st, 1, host, "snapshots.host")) <
			0 ||
		(rc = sqlite3_bind_int(st, 2, s->keep)) != SQLITE_OK ||
		(rc = kr_store_step_done(s, st, "prune old snapshots")) < 0)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = kr_store_commit(s, "record a snapshot")) < 0)
		goto fail;
	goto out;
fail:
	if (rc > 0)
		rc = kr_store_err(s, rc, "record a snapshot");
	kr_store_rollback(s);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void
kr_store_snapshot_release(struct kr_store_snapshot *snap)
{
	if (!snap)
		return;
	free(snap->host);
	free(snap->error);
	free(snap->fingerprint);
	free(snap->json);
	memset(snap, 0, sizeof(*snap));
}

int
kr_store_snapshot_latest(
	struct kr_store_snapshot *out, struct kr_store *s, const char *host)
{
	sqlite3_stmt *st = NULL;
	int rc;

	pthread_mutex_lock(&s->mu);
	if ((rc = kr_store_prepare(s, &st,
		     "SELECT id, run_id, observed_at, status, error, "
		     "fingerprint, json"
		     " FROM snapshots WHERE host = ?1 ORDER BY id DESC LIMIT 1",
		     "read snapshots")) < 0)
		goto out;
	if ((rc = sqlite3_bind_text(st, 1, host, -1, SQLITE_TRANSIENT)) !=
		SQLITE_OK) {
		rc = kr_store_err(s, rc, "read snapshots");
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		kr_error_set(KR_ENOTFOUND,
			"no observed state of host '%s' yet: run kreconcile "
			"refresh",
			host);
		rc = KR_ENOTFOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rc = kr_store_err(s, rc, "read snapshots");
		goto out;
	}
	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	out->run_id = sqlite3_column_int64(st, 1);
	out->host = kr_xstrdup(host);
	out->observed_at = (time_t)sqlite3_column_int64(st, 2);
	out->status =
		store_status_parse((const char *)sqlite3_column_text(st, 3));
	out->error = kr_store_column_strdup(st, 4);
	out->fingerprint = kr_store_column_strdup(st, 5);
	out->json = kr_store_column_strdup(st, 6);
	rc = 0;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
kr_store_hosts(struct kr_store_host **out, size_t *n, struct kr_store *s)
{
	sqlite3_stmt *st = NULL;
	struct kr_store_host *v = NULL;
	size_t len = 0, alloc = 0;
	int rc;

	pthread_mutex_lock(&s->mu);
	if ((rc = kr_store_prepare(s, &st,
		     "SELECT name, first_seen, last_seen, last_status FROM "
		     "hosts ORDER BY name",
		     "read hosts")) < 0)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == alloc) {
			alloc = alloc ? 2 * alloc : 8;
			v = kr_xrealloc(v, alloc * sizeof(*v));
		}
		v[len].name = kr_store_column_strdup(st, 0);
		v[len].first_seen = (time_t)sqlite3_column_int64(st, 1);
		v[len].last_seen = (time_t)sqlite3_column_int64(st, 2);
		v[len].last_status = store_status_parse(
			(const char *)sqlite3_column_text(st, 3));
		len++;
	}
	if (rc != SQLITE_DONE) {
		rc = kr_store_err(s, rc, "read hosts");
		goto out;
	}
	*out = v;
	*n = len;
	v = NULL;
	len = 0;
	rc = 0;
out:
	kr_store_hosts_free(v, len);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void
kr_store_hosts_free(struct kr_store_host *hosts, size_t n)
{
	size_t i;

	for (i = 0; hosts && i < n; i++)
		free(hosts[i].name);
	free(hosts);
}
