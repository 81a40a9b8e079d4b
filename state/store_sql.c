/*
 * SQLite plumbing for the state database: the one place SQLite's errors
 * become kreconcile errors (kr_store_err), and the small helpers every
 * query goes through (exec, prepare, step, transactions). Every statement
 * is finalized by its caller's out:.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/error.h"
#include "state/store.h"
#include "state/store_int.h"

/*
 * The one place SQLite's errors become kreconcile errors. `rc` is the code
 * the failing call returned; `what` says what we were doing. Call it right
 * after the failure, before anything else touches the connection.
 */
int
kr_store_err(const struct kr_store *s, int rc, const char *what)
{
	const char *msg = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
	int sys = s->db ? sqlite3_system_errno(s->db) : 0;

	/* SQLite says "disk I/O error" (or "full") for a full filesystem */
	if (((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_FULL) &&
		(sys == ENOSPC || sys == EDQUOT)) {
		kr_error_set(KR_ESTORE,
			"state database '%s': no space left on its filesystem "
			"(%s, while trying to %s): free some space there, or "
			"give a file elsewhere with --state",
			s->path, strerror(sys), what);
		return KR_ESTORE;
	}
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		kr_error_set(KR_ELOCKED,
			"state database '%s' is locked by another process "
			"(waited %d ms to %s): let the other kreconcile "
			"finish, or give another file with --state",
			s->path, s->busy_ms, what);
		return KR_ELOCKED;
	case SQLITE_NOTADB:
		kr_error_set(KR_ESTORE,
			"'%s' is not a SQLite database (%s): it was left "
			"untouched; move it aside or give another file with "
			"--state",
			s->path, msg);
		return KR_ESTORE;
	case SQLITE_CORRUPT:
		kr_error_set(KR_ESTORE,
			"state database '%s' is corrupt (%s while trying to "
			"%s): it was left untouched; move it aside (kreconcile "
			"refresh rebuilds the observed state) or restore a "
			"backup",
			s->path, msg, what);
		return KR_ESTORE;
	case SQLITE_CANTOPEN:
		kr_error_set(KR_ESTORE, "cannot open state database '%s': %s",
			s->path, msg);
		return KR_ESTORE;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		kr_error_set(KR_ESTORE,
			"state database '%s' cannot be written (%s): check the "
			"file's permissions",
			s->path, msg);
		return KR_ESTORE;
	case SQLITE_FULL:
		kr_error_set(KR_ESTORE,
			"state database '%s': no space left on its filesystem "
			"(%s, while trying to %s): free some space there, or "
			"give a file elsewhere with --state",
			s->path, msg, what);
		return KR_ESTORE;
	default:
		kr_error_set(KR_ESTORE, "state database '%s': cannot %s: %s",
			s->path, what, msg);
		return KR_ESTORE;
	}
}

int
kr_store_exec(struct kr_store *s, const char *sql, const char *what)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : kr_store_err(s, rc, what);
}

int
kr_store_prepare(struct kr_store *s, sqlite3_stmt **st, const char *sql,
	const char *what)
{
	int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);

	if (rc != SQLITE_OK) {
		*st = NULL;
		return kr_store_err(s, rc, what);
	}
	return 0;
}

int
kr_store_step_done(struct kr_store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	return rc == SQLITE_DONE ? 0 : kr_store_err(s, rc, what);
}

/* Read one integer from a one-row query (e.g. a PRAGMA). */
int
kr_store_query_int(struct kr_store *s, const char *sql, sqlite3_int64 *out,
	const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = kr_store_prepare(s, &st, sql, what)) < 0)
		goto out;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = kr_store_err(s, rc, what);
		goto out;
	}
	*out = sqlite3_column_int64(st, 0);
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

int
kr_store_begin(struct kr_store *s, const char *what)
{
	return kr_store_exec(s, "BEGIN IMMEDIATE", what);
}

int
kr_store_commit(struct kr_store *s, const char *what)
{
	return kr_store_exec(s, "COMMIT", what);
}

void
kr_store_rollback(struct kr_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

char *
kr_store_column_strdup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? kr_xstrdup((const char *)t) : NULL;
}
