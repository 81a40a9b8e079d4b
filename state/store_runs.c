/*
 * Runs and their apply journal in the state database: a run begins and ends
 * with a result; each action of an apply is journaled before it runs and
 * after, with the tail of its stderr (secret values masked).
 */
#include <pthread.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/error.h"
#include "state/store.h"
#include "state/store_int.h"

static const char *const store_run_kinds[] = {
	[KR_RUN_REFRESH] = "refresh",
	[KR_RUN_PLAN] = "plan",
	[KR_RUN_APPLY] = "apply",
	[KR_RUN_WATCH] = "watch",
};

/*
 * Finish a row (a run or a journal entry): `sql` sets finished_at = ?1 (now),
 * result = ?2 (checked), a free-text column = ?3 (masked, at most `tail`
 * final bytes, 0 = all) WHERE id = ?4. `noun` names the row in the error
 * when there is no row `id`.
 */
static int
store_finish(struct kr_store *s, const char *sql, const char *what,
	const char *noun, int64_t id, const char *result,
	const char *result_column, const char *text, size_t tail)
{
	sqlite3_stmt *st = NULL;
	int rc;

	pthread_mutex_lock(&s->mu);
	if ((rc = kr_store_writable(s)) < 0)
		goto out;
	if ((rc = kr_store_prepare(s, &st, sql, what)) < 0 ||
		(rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL))) !=
			SQLITE_OK ||
		(rc = kr_store_bind_checked(s, st, 2, result, result_column)) <
			0 ||
		(rc = kr_store_bind_masked(s, st, 3, text, tail)) < 0 ||
		(rc = sqlite3_bind_int64(st, 4, id)) != SQLITE_OK ||
		(rc = kr_store_step_done(s, st, what)) < 0) {
		if (rc > 0)
			rc = kr_store_err(s, rc, what);
		goto out;
	}
	if (sqlite3_changes(s->db) != 1) {
		kr_error_set(KR_ENOTFOUND, "state database '%s': no %s %lld",
			s->path, noun, (long long)id);
		rc = KR_ENOTFOUND;
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
kr_store_run_begin(int64_t *run_out, struct kr_store *s, enum kr_run_kind kind,
	int64_t revision_id)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((unsigned)kind >=
		sizeof(store_run_kinds) / sizeof(store_run_kinds[0])) {
		kr_error_set(KR_EINVAL, "unknown run kind %d", (int)kind);
		return KR_EINVAL;
	}
	pthread_mutex_lock(&s->mu);
	if ((rc = kr_store_writable(s)) < 0)
		goto out;
	if ((rc = kr_store_prepare(s, &st,
		     "INSERT INTO runs (kind, started_at, revision_id) VALUES "
		     "(?1, ?2, ?3)",
		     "record a run")) < 0 ||
		(rc = kr_store_bind_checked(
			 s, st, 1, store_run_kinds[kind], "runs.kind")) < 0 ||
		(rc = sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL))) !=
			SQLITE_OK ||
		(rc = kr_store_bind_id(s, st, 3, revision_id)) < 0 ||
		(rc = kr_store_step_done(s, st, "record a run")) < 0) {
		if (rc > 0)
			rc = kr_store_err(s, rc, "record a run");
		goto out;
	}
	*run_out = sqlite3_last_insert_rowid(s->db);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
kr_store_run_end(struct kr_store *s, int64_t run, const char *result,
	const char *summary)
{
	return store_finish(s,
		"UPDATE runs SET finished_at = ?1, result = ?2, summary = ?3"
		" WHERE id = ?4",
		"finish a run", "run", run, result, "runs.result", summary, 0);
}

int
kr_store_journal_begin(int64_t *entry_out, struct kr_store *s, int64_t run,
	const char *host, const char *address, const char *action)
{
	sqlite3_stmt *st = NULL;
	int rc;

	pthread_mutex_lock(&s->mu);
	if ((rc = kr_store_writable(s)) < 0)
		goto out;
	if (!host || !address || !action) {
		kr_error_set(KR_EINVAL, "a journal entry needs a host, an "
					"address and an action");
		rc = KR_EINVAL;
		goto out;
	}
	if ((rc = kr_store_prepare(s, &st,
		     "INSERT INTO journal (run_id, host, address, action, "
		     "started_at)"
		     " VALUES (?1, ?2, ?3, ?4, ?5)",
		     "journal an action")) < 0 ||
		(rc = sqlite3_bind_int64(st, 1, run)) != SQLITE_OK ||
		(rc = kr_store_bind_checked(s, st, 2, host, "journal.host")) <
			0 ||
		(rc = kr_store_bind_checked(
			 s, st, 3, address, "journal.address")) < 0 ||
		(rc = kr_store_bind_checked(
			 s, st, 4, action, "journal.action")) < 0 ||
		(rc = sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL))) !=
			SQLITE_OK ||
		(rc = kr_store_step_done(s, st, "journal an action")) < 0) {
		if (rc > 0)
			rc = kr_store_err(s, rc, "journal an action");
		goto out;
	}
	*entry_out = sqlite3_last_insert_rowid(s->db);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
kr_store_journal_end(struct kr_store *s, int64_t entry, const char *result,
	const char *stderr_text)
{
	return store_finish(s,
		"UPDATE journal SET finished_at = ?1, result = ?2, "
		"stderr_tail = ?3 WHERE id = ?4",
		"journal an action's end", "journal entry", entry, result,
		"journal.result", stderr_text, KR_STORE_STDERR_TAIL);
}

int
kr_store_journal_list(struct kr_store_journal_entry **out, size_t *n,
	struct kr_store *s, int64_t run)
{
	sqlite3_stmt *st = NULL;
	struct kr_store_journal_entry *v = NULL;
	size_t len = 0, alloc = 0;
	int rc;

	pthread_mutex_lock(&s->mu);
	if ((rc = kr_store_prepare(s, &st,
		     "SELECT id, run_id, host, address, action, started_at, "
		     "finished_at,"
		     " result, stderr_tail FROM journal WHERE run_id = ?1 "
		     "ORDER BY id",
		     "read the journal")) < 0)
		goto out;
	if ((rc = sqlite3_bind_int64(st, 1, run)) != SQLITE_OK) {
		rc = kr_store_err(s, rc, "read the journal");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct kr_store_journal_entry *e;

		if (len == alloc) {
			alloc = alloc ? 2 * alloc : 8;
			v = kr_xrealloc(v, alloc * sizeof(*v));
		}
		e = &v[len++];
		e->id = sqlite3_column_int64(st, 0);
		e->run_id = sqlite3_column_int64(st, 1);
		e->host = kr_store_column_strdup(st, 2);
		e->address = kr_store_column_strdup(st, 3);
		e->action = kr_store_column_strdup(st, 4);
		e->started_at = (time_t)sqlite3_column_int64(st, 5);
		e->finished_at = (time_t)sqlite3_column_int64(st, 6);
		e->result = kr_store_column_strdup(st, 7);
		e->stderr_tail = kr_store_column_strdup(st, 8);
	}
	if (rc != SQLITE_DONE) {
		rc = kr_store_err(s, rc, "read the journal");
		goto out;
	}
	*out = v;
	*n = len;
	v = NULL;
	len = 0;
	rc = 0;
out:
	kr_store_journal_free(v, len);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void
kr_store_journal_free(struct kr_store_journal_entry *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++) {
		free(v[i].host);
		free(v[i].address);
		free(v[i].action);
		free(v[i].result);
		free(v[i].stderr_tail);
	}
	free(v);
}
