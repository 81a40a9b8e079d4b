/*
 * Desired revisions in the state database: the resolved model of each run,
 * recorded once (an identical newest revision is reused).
 */
#include <pthread.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/error.h"
#include "state/store.h"
#include "state/store_int.h"

int
kr_store_revision_add(int64_t *id_out, struct kr_store *s,
	const struct kr_store_revision *rev)
{
	sqlite3_stmt *st = NULL;
	int rc;

	pthread_mutex_lock(&s->mu);
	if ((rc = kr_store_writable(s)) < 0)
		goto out;
	if (!rev->config_sha256 || !rev->model_json) {
		kr_error_set(KR_EINVAL,
			"a revision needs a config hash and a model");
		rc = KR_EINVAL;
		goto out;
	}
	/* The guard runs before the JSON parser, whose messages quote the text.
	 */
	if ((rc = kr_store_guard(s, rev->model_json, "revisions.model_json")) <
			0 ||
		(rc = kr_store_json_check(
			 rev->model_json, "the revision model")) < 0)
		goto out;

	/* The newest revision, when identical, is reused. */
	if ((rc = kr_store_prepare(s, &st,
		     "SELECT id FROM revisions WHERE id = (SELECT max(id) FROM "
		     "revisions)"
		     " AND config_sha256 = ?1 AND app_version IS ?2 AND "
		     "git_commit IS ?3"
		     " AND destination IS ?4 AND model_json = ?5",
		     "look up revisions")) < 0 ||
		(rc = kr_store_bind_checked(s, st, 1, rev->config_sha256,
			 "revisions.config_sha256")) < 0 ||
		(rc = kr_store_bind_checked(s, st, 2, rev->app_version,
			 "revisions.app_version")) < 0 ||
		(rc = kr_store_bind_checked(s, st, 3, rev->git_commit,
			 "revisions.git_commit")) < 0 ||
		(rc = kr_store_bind_checked(s, st, 4, rev->destination,
			 "revisions.destination")) < 0 ||
		(rc = kr_store_bind_checked(s, st, 5, rev->model_json,
			 "revisions.model_json")) < 0)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id_out = sqlite3_column_int64(st, 0);
		rc = 0;
		goto out;
	}
	if (rc != SQLITE_DONE) {
		rc = kr_store_err(s, rc, "look up revisions");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;

	if ((rc = kr_store_prepare(s, &st,
		     "INSERT INTO revisions (created_at, config_sha256, "
		     "app_version,"
		     " git_commit, destination, model_json) VALUES (?1, ?2, "
		     "?3, ?4, ?5, ?6)",
		     "record a revision")) < 0 ||
		(rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL))) !=
			SQLITE_OK ||
		(rc = kr_store_bind_checked(s, st, 2, rev->config_sha256,
			 "revisions.config_sha256")) < 0 ||
		(rc = kr_store_bind_checked(s, st, 3, rev->app_version,
			 "revisions.app_version")) < 0 ||
		(rc = kr_store_bind_checked(s, st, 4, rev->git_commit,
			 "revisions.git_commit")) < 0 ||
		(rc = kr_store_bind_checked(s, st, 5, rev->destination,
			 "revisions.destination")) < 0 ||
		(rc = kr_store_bind_checked(s, st, 6, rev->model_json,
			 "revisions.model_json")) < 0 ||
		(rc = kr_store_step_done(s, st, "record a revision")) < 0) {
		if (rc > 0)
			rc = kr_store_err(s, rc, "record a revision");
		goto out;
	}
	*id_out = sqlite3_last_insert_rowid(s->db);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}
