/*
 * The history of runs: what each run was for (trigger, commit,
 * destination), the plan it made and how long it took; listing runs, one
 * run (its journal: kr_store_journal_list), and pruning old runs by a
 * retention count.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/error.h"
#include "state/store.h"
#include "state/store_int.h"

int
kr_store_run_describe(struct kr_store *s, int64_t run, const char *trigger,
	const char *git_commit, const char *destination)
{
	sqlite3_stmt *st = NULL;
	int rc;

	pthread_mutex_lock(&s->mu);
	if ((rc = kr_store_writable(s)) < 0)
		goto out;
	if ((rc = kr_store_prepare(s, &st,
		     "UPDATE runs SET trigger = ?1, "
		     "git_commit = ?2, destination = ?3 WHERE id = ?4",
		     "describe a run")) < 0 ||
		(rc = kr_store_bind_checked(
			 s, st, 1, trigger, "runs.trigger")) < 0 ||
		(rc = kr_store_bind_checked(
			 s, st, 2, git_commit, "runs.git_commit")) < 0 ||
		(rc = kr_store_bind_checked(
			 s, st, 3, destination, "runs.destination")) < 0 ||
		(rc = sqlite3_bind_int64(st, 4, run)) != SQLITE_OK ||
		(rc = kr_store_step_done(s, st, "describe a run")) < 0) {
		if (rc > 0)
			rc = kr_store_err(s, rc, "describe a run");
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* UPDATE runs SET <column> = text (masked) or n WHERE id = run. */
static int
run_set(struct kr_store *s, int64_t run, const char *sql, const char *text,
	long long n)
{
	sqlite3_stmt *st = NULL;
	int rc;

	pthread_mutex_lock(&s->mu);
	if ((rc = kr_store_writable(s)) < 0)
		goto out;
	if ((rc = kr_store_prepare(s, &st, sql, "record a run")) < 0 ||
		(rc = text ? kr_store_bind_masked(s, st, 1, text, 0) :
			     sqlite3_bind_int64(st, 1, n)) < 0 ||
		rc > 0 || (rc = sqlite3_bind_int64(st, 2, run)) != SQLITE_OK ||
		(rc = kr_store_step_done(s, st, "record a run")) < 0) {
		if (rc > 0)
			rc = kr_store_err(s, rc, "record a run");
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
kr_store_run_set_plan(struct kr_store *s, int64_t run, const char *plan_json)
{
	return run_set(s, run, "UPDATE runs SET plan_json = ?1 WHERE id = ?2",
		plan_json ? plan_json : "", 0);
}

int
kr_store_run_set_duration(struct kr_store *s, int64_t run, long long ms)
{
	return run_set(s, run, "UPDATE runs SET duration_ms = ?1 WHERE id = ?2",
		NULL, ms);
}

void
kr_store_run_info_release(struct kr_store_run_info *r)
{
	if (!r)
		return;
	free(r->kind);
	free(r->trigger);
	free(r->git_commit);
	free(r->destination);
	free(r->result);
	free(r->summary);
	free(r->plan_json);
	memset(r, 0, sizeof(*r));
}

void
kr_store_runs_free(struct kr_store_run_info *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		kr_store_run_info_release(&v[i]);
	free(v);
}

#define RUN_COLUMNS                                                \
	"id, kind, trigger, git_commit, destination, started_at, " \
	"finished_at, duration_ms, result, summary"

static void
run_from_row(struct kr_store_run_info *r, sqlite3_stmt *st)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	r->kind = kr_store_column_strdup(st, 1);
	r->trigger = kr_store_column_strdup(st, 2);
	r->git_commit = kr_store_column_strdup(st, 3);
	r->destination = kr_store_column_strdup(st, 4);
	r->started_at = (time_t)sqlite3_column_int64(st, 5);
	r->finished_at = (time_t)sqlite3_column_int64(st, 6);
	r->duration_ms = sqlite3_column_type(st, 7) == SQLITE_NULL ?
				 -1 :
				 sqlite3_column_int64(st, 7);
	r->result = kr_store_column_strdup(st, 8);
	r->summary = kr_store_column_strdup(st, 9);
}

int
kr_store_runs_list(struct kr_store_run_info **out, size_t *n,
	struct kr_store *s, const char *kind, size_t limit)
{
	sqlite3_stmt *st = NULL;
	struct kr_store_run_info *v = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&s->mu);
	if ((rc = kr_store_prepare(s, &st,
		     "SELECT " RUN_COLUMNS " FROM runs "
		     "WHERE ?1 IS NULL OR kind = ?1 ORDER BY id DESC LIMIT ?2",
		     "list runs")) < 0)
		goto out;
	if (kind)
		sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)(limit ? limit : 20));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = kr_xrealloc(v, (len + 1) * sizeof(*v));
		run_from_row(&v[len++], st);
	}
	if (rc != SQLITE_DONE) {
		rc = kr_store_err(s, rc, "list runs");
		kr_store_runs_free(v, len);
		goto out;
	}
	rc = 0;
	*out = v;
	*n = len;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
kr_store_run_get(struct kr_store_run_info *out, struct kr_store *s, int64_t id)
{
	sqlite3_stmt *st = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->mu);
	if ((rc = kr_store_prepare(s, &st,
		     "SELECT " RUN_COLUMNS ", plan_json "
		     "FROM runs WHERE id = ?1",
		     "read a run")) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		run_from_row(out, st);
		out->plan_json = kr_store_column_strdup(st, 10);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		kr_error_set(KR_ENOTFOUND, "state database '%s': no run %lld",
			s->path, (long long)id);
		rc = KR_ENOTFOUND;
	} else {
		rc = kr_store_err(s, rc, "read a run");
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
kr_store_runs_prune(struct kr_store *s, const char *kind, size_t keep)
{
	static const char *const sql[] = {
		"CREATE TEMP TABLE IF NOT EXISTS prune_runs (id INTEGER);"
		"DELETE FROM prune_runs;",
		NULL, /* the INSERT, bound below */
		"DELETE FROM journal WHERE run_id IN (SELECT id FROM "
		"prune_runs);",
		"UPDATE snapshots SET run_id = NULL WHERE run_id IN (SELECT id "
		"FROM prune_runs);",
		"DELETE FROM runs WHERE id IN (SELECT id FROM prune_runs);",
	};
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc;

	pthread_mutex_lock(&s->mu);
	if ((rc = kr_store_writable(s)) < 0)
		goto out;
	if ((rc = kr_store_begin(s, "prune runs")) < 0)
		goto out;
	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		if (sql[i]) {
			if ((rc = kr_store_exec(s, sql[i], "prune runs")) < 0)
				break;
			continue;
		}
		if ((rc = kr_store_prepare(s, &st,
			     "INSERT INTO prune_runs "
			     "SELECT id FROM runs WHERE (?1 IS NULL OR kind = "
			     "?1) ORDER BY id DESC LIMIT -1 OFFSET ?2",
			     "prune runs")) < 0)
			break;
		if (kind)
			sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)keep);
		rc = kr_store_step_done(s, st, "prune runs");
		sqlite3_finalize(st);
		st = NULL;
		if (rc < 0)
			break;
	}
	if (rc < 0)
		kr_store_rollback(s);
	else
		rc = kr_store_commit(s, "prune runs");
out:
	pthread_mutex_unlock(&s->mu);
	return rc;
}
