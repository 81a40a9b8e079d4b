/*
 * The state database on SQLite (see store.h): opening it (creating the file
 * and its directory, refusing files that are not kreconcile state databases
 * or are damaged or newer, WAL mode, migrations), closing it, and its
 * default path. The rows live in store_runs.c, store_revisions.c and
 * store_snapshots.c; SQLite plumbing in store_sql.c; the secret guard in
 * store_guard.c; the schema in store_schema.c.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/error.h"
#include "state/store.h"
#include "state/store_int.h"

/* Create the parent directory (mode 0700) and the file (mode 0600) when
 * missing. */
static int
store_prepare_path(const char *path)
{
	char *copy = kr_xstrdup(path);
	const char *dir = dirname(copy);
	struct stat stbuf;
	int fd, rc = 0;

	if (stat(dir, &stbuf) != 0) {
		if (errno != ENOENT || mkdir(dir, 0700) != 0) {
			kr_error_set(KR_ESTORE,
				"cannot create the directory '%s' for the "
				"state database: %s",
				dir, strerror(errno));
			rc = KR_ESTORE;
			goto out;
		}
	} else if (!S_ISDIR(stbuf.st_mode)) {
		kr_error_set(KR_ESTORE,
			"'%s' is not a directory (state database '%s')", dir,
			path);
		rc = KR_ESTORE;
		goto out;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		close(fd);
	} else if (errno != EEXIST) {
		kr_error_set(KR_ESTORE, "cannot create state database '%s': %s",
			path, strerror(errno));
		rc = KR_ESTORE;
	}
out:
	free(copy);
	return rc;
}

int
kr_store_open_ext(struct kr_store **out, const char *path,
	const struct kr_store_opts *opts)
{
	struct kr_store *s = NULL;
	sqlite3_stmt *st = NULL;
	sqlite3_int64 version = 0, appid = 0, nobjects = 0;
	const char *mode;
	int rc;

	if (!path || !*path) {
		kr_error_set(KR_EINVAL, "empty state database path");
		return KR_EINVAL;
	}
	s = kr_xcalloc(1, sizeof(*s));
	s->path = kr_xstrdup(path);
	s->busy_ms = opts && opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms :
							 5000;
	s->keep = opts && opts->snapshots_kept > 0 ? opts->snapshots_kept :
						     KR_STORE_SNAPSHOTS_KEPT;
	pthread_mutex_init(&s->mu, NULL);

	if ((rc = store_prepare_path(path)) < 0)
		goto out;
	rc = sqlite3_open_v2(path, &s->db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = kr_store_err(s, rc, "open it");
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, s->busy_ms);

	/* The first read: a file that is not a database fails here, unchanged.
	 */
	if ((rc = kr_store_query_int(s, "PRAGMA application_id", &appid,
		     "read the database header")) < 0 ||
		(rc = kr_store_query_int(s, "PRAGMA user_version", &version,
			 "read the schema version")) < 0 ||
		(rc = kr_store_query_int(s,
			 "SELECT count(*) FROM sqlite_master", &nobjects,
			 "read the schema")) < 0)
		goto out;
	if (appid != 0 && appid != STORE_APPLICATION_ID) {
		kr_error_set(KR_ESTORE,
			"'%s' is another application's SQLite database "
			"(application id %lld), not a kreconcile state "
			"database: it was left untouched; give another file "
			"with --state",
			path, (long long)appid);
		rc = KR_ESTORE;
		goto out;
	}
	if (appid == 0 && (version != 0 || nobjects != 0)) {
		kr_error_set(KR_ESTORE,
			"'%s' is a SQLite database that kreconcile did not "
			"create: it was left untouched; give another file with "
			"--state",
			path);
		rc = KR_ESTORE;
		goto out;
	}
	if (version > KR_STORE_SCHEMA_VERSION) {
		kr_error_set(KR_ESTORE,
			"state database '%s' was written by a newer kreconcile "
			"(schema version %lld, this one knows %d): upgrade "
			"kreconcile; the file was left untouched",
			path, (long long)version, KR_STORE_SCHEMA_VERSION);
		rc = KR_ESTORE;
		goto out;
	}
	if (nobjects != 0) {
		/* An existing database: a damaged one is refused before we
		 * write. */
		if ((rc = kr_store_prepare(s, &st, "PRAGMA quick_check(1)",
			     "check the database")) < 0)
			goto out;
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW) {
			rc = kr_store_err(s, rc, "check the database");
			goto out;
		}
		if (strcmp((const char *)sqlite3_column_text(st, 0), "ok") !=
			0) {
			kr_error_set(KR_ESTORE,
				"state database '%s' is corrupt (integrity "
				"check: %s): it was left untouched; move it "
				"aside (kreconcile refresh rebuilds the "
				"observed state) or restore a backup",
				path, sqlite3_column_text(st, 0));
			rc = KR_ESTORE;
			goto out;
		}
		sqlite3_finalize(st);
		st = NULL;
	}

	if ((rc = kr_store_prepare(s, &st, "PRAGMA journal_mode = WAL",
		     "switch to WAL mode")) < 0)
		goto out;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = kr_store_err(s, rc, "switch to WAL mode");
		goto out;
	}
	mode = (const char *)sqlite3_column_text(st, 0);
	if (!mode || strcmp(mode, "wal") != 0) {
		kr_error_set(KR_ESTORE,
			"state database '%s' cannot use WAL mode (journal mode "
			"is '%s'): put it on a local file system",
			path, mode ? mode : "?");
		rc = KR_ESTORE;
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = kr_store_exec(s,
		     "PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON; "
		     "PRAGMA synchronous = NORMAL;",
		     "set up the connection")) < 0)
		goto out;
	if ((rc = kr_store_migrate(s, version)) < 0)
		goto out;
	*out = s;
	s = NULL;
	rc = 0;
out:
	sqlite3_finalize(st);
	kr_store_close(s);
	return rc;
}

int
kr_store_open(struct kr_store **out, const char *path)
{
	return kr_store_open_ext(out, path, NULL);
}

void
kr_store_close(struct kr_store *s)
{
	if (!s)
		return;
	/* Every statement is finalized where it was made, so this closes. */
	if (s->db) {
		int rc = sqlite3_close(s->db);

		assert(rc == SQLITE_OK);
		(void)rc;
	}
	kr_store_secrets_clear(s);
	pthread_mutex_destroy(&s->mu);
	free(s->path);
	free(s);
}

const char *
kr_store_path(const struct kr_store *s)
{
	return s->path;
}

char *
kr_store_default_path(const char *config_path)
{
	char *copy =
		kr_xstrdup(config_path && *config_path ? config_path :
							 "config/deploy.yml");
	char *dir = kr_xstrdup(dirname(copy));
	char *base, *parent, *res;

	free(copy);
	copy = kr_xstrdup(dir);
	base = basename(copy);
	if (strcmp(base, "config") == 0) {
		char *c2 = kr_xstrdup(dir);

		parent = kr_xstrdup(dirname(c2));
		free(c2);
	} else {
		parent = kr_xstrdup(dir);
	}
	if (strcmp(parent, ".") == 0)
		res = kr_xstrdup(".kreconcile/state.db");
	else
		res = kr_xasprintf("%s/.kreconcile/state.db", parent);
	free(parent);
	free(copy);
	free(dir);
	return res;
}
