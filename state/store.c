/*
 * The state database on SQLite (see store.h): schema migrations, the
 * secret guard every written text goes through, and the rows of runs,
 * revisions, hosts, snapshots and the journal. sqlite3_errmsg is translated
 * in exactly one place, store_err(); jansson's errors in store_json_check().
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

#include <jansson.h>
#include <sqlite3.h>

#include "common/buf.h"
#include "common/error.h"
#include "state/desired.h"
#include "state/store.h"

/* "KRCN": PRAGMA application_id of every kreconcile state database. */
#define STORE_APPLICATION_ID 0x4b52434e
/* Secret values shorter than this are matched only as whole JSON strings or
 * whole fields. */
#define STORE_SECRET_SHORT 4

/*
 * The migrations, oldest first. Step N turns a version N-1 database into
 * version N and runs in its own transaction together with
 * `PRAGMA user_version = N`. Never edit a released step: add a new one
 * (and a fixture builder for the old version in tests/unit/test_store.c).
 */
struct store_migration {
	int version;
	const char *sql;
};

static const struct store_migration store_migrations[] = {
	{ 1, "PRAGMA application_id = 1263682382;\n" /* STORE_APPLICATION_ID */
	     "CREATE TABLE revisions (\n"
	     "	id INTEGER PRIMARY KEY,\n"
	     "	created_at INTEGER NOT NULL,\n"
	     "	config_sha256 TEXT NOT NULL,\n"
	     "	app_version TEXT,\n"
	     "	git_commit TEXT,\n"
	     "	destination TEXT,\n"
	     "	model_json TEXT NOT NULL\n"
	     ");\n"
	     "CREATE TABLE hosts (\n"
	     "	name TEXT PRIMARY KEY,\n"
	     "	first_seen INTEGER NOT NULL,\n"
	     "	last_seen INTEGER NOT NULL,\n"
	     "	last_status TEXT NOT NULL\n"
	     ");\n"
	     "CREATE TABLE runs (\n"
	     "	id INTEGER PRIMARY KEY,\n"
	     "	kind TEXT NOT NULL CHECK (kind IN ('refresh', 'plan', 'apply', "
	     "'watch')),\n"
	     "	started_at INTEGER NOT NULL,\n"
	     "	finished_at INTEGER,\n"
	     "	revision_id INTEGER REFERENCES revisions(id),\n"
	     "	result TEXT,\n"
	     "	summary TEXT\n"
	     ");\n"
	     "CREATE TABLE snapshots (\n"
	     "	id INTEGER PRIMARY KEY,\n"
	     "	host TEXT NOT NULL REFERENCES hosts(name),\n"
	     "	run_id INTEGER REFERENCES runs(id),\n"
	     "	observed_at INTEGER NOT NULL,\n"
	     "	status TEXT NOT NULL,\n"
	     "	error TEXT,\n"
	     "	fingerprint TEXT,\n"
	     "	json TEXT\n"
	     ");\n"
	     "CREATE INDEX snapshots_by_host ON snapshots(host, id);\n"
	     "CREATE TABLE journal (\n"
	     "	id INTEGER PRIMARY KEY,\n"
	     "	run_id INTEGER NOT NULL REFERENCES runs(id),\n"
	     "	host TEXT NOT NULL,\n"
	     "	address TEXT NOT NULL,\n"
	     "	action TEXT NOT NULL,\n"
	     "	started_at INTEGER NOT NULL,\n"
	     "	finished_at INTEGER,\n"
	     "	result TEXT,\n"
	     "	stderr_tail TEXT\n"
	     ");\n"
	     "CREATE INDEX journal_by_run ON journal(run_id, id);\n" },
};

#define STORE_NMIGRATIONS \
	(sizeof(store_migrations) / sizeof(store_migrations[0]))

_Static_assert(sizeof(store_migrations) / sizeof(store_migrations[0]) ==
		       KR_STORE_SCHEMA_VERSION,
	"one migration step per schema version");

/* One secret: its key (for messages) and the forms its value takes in text. */
struct store_secret {
	char *key;
	char *forms[3]; /* raw, JSON-escaped, JSON-escaped ASCII-only */
	size_t nforms;
	size_t rawlen;
};

struct kr_store {
	sqlite3 *db;
	char *path;
	pthread_mutex_t mu;
	int busy_ms;
	int keep;
	bool secrets_set;
	struct store_secret *sec;
	size_t nsec;
};

static const char *const store_status_names[] = {
	[KR_OBS_OK] = "ok",
	[KR_OBS_UNREACHABLE] = "unreachable",
	[KR_OBS_NO_DOCKER] = "no_docker",
	[KR_OBS_FAILED] = "failed",
};

static const char *const store_run_kinds[] = {
	[KR_RUN_REFRESH] = "refresh",
	[KR_RUN_PLAN] = "plan",
	[KR_RUN_APPLY] = "apply",
	[KR_RUN_WATCH] = "watch",
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

/* ---- errors ---- */

/*
 * The one place SQLite's errors become kreconcile errors. `rc` is the code
 * the failing call returned; `what` says what we were doing. Call it right
 * after the failure, before anything else touches the connection.
 */
static int
store_err(const struct kr_store *s, int rc, const char *what)
{
	const char *msg = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);

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
			"state database '%s': the disk is full (%s)", s->path,
			msg);
		return KR_ESTORE;
	default:
		kr_error_set(KR_ESTORE, "state database '%s': cannot %s: %s",
			s->path, what, msg);
		return KR_ESTORE;
	}
}

/* ---- small SQLite helpers; every statement is finalized by its caller's out:
 * ---- */

static int
store_exec(struct kr_store *s, const char *sql, const char *what)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : store_err(s, rc, what);
}

static int
store_prepare(struct kr_store *s, sqlite3_stmt **st, const char *sql,
	const char *what)
{
	int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);

	if (rc != SQLITE_OK) {
		*st = NULL;
		return store_err(s, rc, what);
	}
	return 0;
}

static int
store_step_done(struct kr_store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	return rc == SQLITE_DONE ? 0 : store_err(s, rc, what);
}

/* Read one integer from a one-row query (e.g. a PRAGMA). */
static int
store_query_int(struct kr_store *s, const char *sql, sqlite3_int64 *out,
	const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = store_prepare(s, &st, sql, what)) < 0)
		goto out;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = store_err(s, rc, what);
		goto out;
	}
	*out = sqlite3_column_int64(st, 0);
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

static int
store_begin(struct kr_store *s, const char *what)
{
	return store_exec(s, "BEGIN IMMEDIATE", what);
}

static int
store_commit(struct kr_store *s, const char *what)
{
	return store_exec(s, "COMMIT", what);
}

static void
store_rollback(struct kr_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static char *
column_strdup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? kr_xstrdup((const char *)t) : NULL;
}

/* ---- the secret guard ---- */

static void
store_secrets_clear(struct kr_store *s)
{
	size_t i, j;

	for (i = 0; i < s->nsec; i++) {
		free(s->sec[i].key);
		for (j = 0; j < s->sec[i].nforms; j++)
			kr_free_secret(s->sec[i].forms[j]);
	}
	free(s->sec);
	s->sec = NULL;
	s->nsec = 0;
}

/* The value as it appears inside a JSON string (without the quotes), or NULL.
 */
static char *
json_escaped(const char *v, size_t flags)
{
	json_t *j = json_string(v); /* NULL when v is not UTF-8 */
	char *dump, *inner = NULL;
	size_t n;

	if (!j)
		return NULL;
	dump = json_dumps(j, JSON_ENCODE_ANY | flags);
	json_decref(j);
	if (dump && (n = strlen(dump)) >= 2)
		inner = kr_xstrndup(dump + 1, n - 2);
	if (dump) {
		memset(dump, 0, strlen(dump));
		free(dump);
	}
	return inner;
}

static void
secret_add_form(struct store_secret *sec, char *form)
{
	size_t i;

	if (!form)
		return;
	for (i = 0; i < sec->nforms; i++) {
		if (strcmp(sec->forms[i], form) == 0) {
			kr_free_secret(form);
			return;
		}
	}
	sec->forms[sec->nforms++] = form;
}

void
kr_store_set_secrets(struct kr_store *s, const struct kr_kvlist *secrets)
{
	size_t i;

	pthread_mutex_lock(&s->mu);
	store_secrets_clear(s);
	if (secrets && secrets->n)
		s->sec = kr_xcalloc(secrets->n, sizeof(*s->sec));
	for (i = 0; secrets && i < secrets->n; i++) {
		const char *v = secrets->v[i].value;
		struct store_secret *sec;

		if (!v || !*v)
			continue;
		sec = &s->sec[s->nsec++];
		sec->key =
			kr_xstrdup(secrets->v[i].key ? secrets->v[i].key : "?");
		sec->rawlen = strlen(v);
		secret_add_form(sec, kr_xstrdup(v));
		secret_add_form(sec, json_escaped(v, 0));
		secret_add_form(sec, json_escaped(v, JSON_ENSURE_ASCII));
	}
	s->secrets_set = true;
	pthread_mutex_unlock(&s->mu);
}

/* A write is allowed only once the secrets of the run are known. */
static int
store_writable(const struct kr_store *s)
{
	if (s->secrets_set)
		return 0;
	kr_error_set(KR_EINVAL,
		"state database '%s': refusing to write before the run's "
		"secret values are registered (kr_store_set_secrets)",
		s->path);
	return KR_EINVAL;
}

static bool
contains_quoted(const char *text, const char *form)
{
	const char *p = text;
	size_t n = strlen(form);

	while ((p = strstr(p, form))) {
		if (p > text && p[-1] == '"' && p[n] == '"')
			return true;
		p++;
	}
	return false;
}

/* Refuse text holding a secret value; `column` names where it was going. */
static int
store_guard(const struct kr_store *s, const char *text, const char *column)
{
	size_t i, j;

	if (!text)
		return 0;
	for (i = 0; i < s->nsec; i++) {
		const struct store_secret *sec = &s->sec[i];
		bool found = false;

		if (sec->rawlen < STORE_SECRET_SHORT) {
			found = strcmp(text, sec->forms[0]) == 0;
			for (j = 0; j < sec->nforms && !found; j++)
				found = contains_quoted(text, sec->forms[j]);
		} else {
			for (j = 0; j < sec->nforms && !found; j++)
				found = strstr(text, sec->forms[j]) != NULL;
		}
		if (found) {
			kr_error_set(KR_EINVAL,
				"refusing to write the value of secret '%s' "
				"into the state database (%s): it must be "
				"written as %s",
				sec->key, column, KR_SENSITIVE);
			return KR_EINVAL;
		}
	}
	return 0;
}

/*
 * Free text with every occurrence of every form of every secret value
 * replaced by KR_SENSITIVE (overlapping occurrences become one); caller
 * frees. With `tail`, only the end of a long text is looked at: enough
 * that the last `tail` bytes of the result are masked as if all were.
 */
static char *
store_mask(const struct kr_store *s, const char *text, size_t tail)
{
	struct kr_buf b = KR_BUF_INIT;
	size_t n = strlen(text), maxlen = 0, w0 = 0, w1 = 0, i, j, k;
	unsigned char *cov;
	const char *q;

	for (i = 0; i < s->nsec; i++)
		for (j = 0; j < s->sec[i].nforms; j++)
			if (strlen(s->sec[i].forms[j]) > maxlen)
				maxlen = strlen(s->sec[i].forms[j]);
	/*
	 * Occurrences are found from w0; output starts at w1 = w0 + maxlen,
	 * so no occurrence that began before w0 can leave a fragment behind.
	 */
	if (tail && n > tail + 2 * maxlen) {
		w1 = n - tail - maxlen;
		w0 = w1 - maxlen;
	}
	cov = kr_xcalloc(n - w0 + 1, 1);
	for (i = 0; i < s->nsec; i++)
		for (j = 0; j < s->sec[i].nforms; j++) {
			size_t len = strlen(s->sec[i].forms[j]);

			for (q = text + w0; (q = strstr(q, s->sec[i].forms[j]));
				q++)
				for (k = 0; k < len; k++)
					cov[(size_t)(q - text) - w0 + k] = 1;
		}
	for (i = w1; i < n;) {
		if (cov[i - w0]) {
			kr_buf_puts(&b, KR_SENSITIVE);
			while (i < n && cov[i - w0])
				i++;
		} else {
			kr_buf_putc(&b, text[i++]);
		}
	}
	free(cov);
	return kr_buf_detach(&b, NULL);
}

/* Bind text that must hold no secret (names, hashes, JSON); NULL binds NULL. */
static int
store_bind_checked(const struct kr_store *s, sqlite3_stmt *st, int idx,
	const char *text, const char *column)
{
	int rc;

	if ((rc = store_guard(s, text, column)) < 0)
		return rc;
	if (!text)
		return sqlite3_bind_null(st, idx) == SQLITE_OK ?
			       0 :
			       store_err(s, SQLITE_ERROR, "bind");
	rc = sqlite3_bind_text(st, idx, text, -1, SQLITE_TRANSIENT);
	return rc == SQLITE_OK ? 0 : store_err(s, rc, "bind a value");
}

/* Bind free text with secret values masked, keeping at most `tail` final bytes
 * (0 = all). */
static int
store_bind_masked(const struct kr_store *s, sqlite3_stmt *st, int idx,
	const char *text, size_t tail)
{
	char *masked;
	const char *start;
	size_t n;
	int rc;

	if (!text)
		return sqlite3_bind_null(st, idx) == SQLITE_OK ?
			       0 :
			       store_err(s, SQLITE_ERROR, "bind");
	masked = store_mask(s, text, tail);
	start = masked;
	n = strlen(masked);
	if (tail && n > tail) {
		start = masked + n - tail;
		/* Do not start inside a UTF-8 sequence. */
		while (((unsigned char)*start & 0xc0) == 0x80)
			start++;
	}
	rc = sqlite3_bind_text(st, idx, start, -1, SQLITE_TRANSIENT);
	free(masked);
	return rc == SQLITE_OK ? 0 : store_err(s, rc, "bind a value");
}

static int
store_bind_id(const struct kr_store *s, sqlite3_stmt *st, int idx, int64_t id)
{
	int rc = id > 0 ? sqlite3_bind_int64(st, idx, id) :
			  sqlite3_bind_null(st, idx);

	return rc == SQLITE_OK ? 0 : store_err(s, rc, "bind a value");
}

/* The one place jansson's errors become store errors: the text must be a JSON
 * object. */
static int
store_json_check(const char *text, const char *column)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	int rc = 0;

	if (!j) {
		kr_error_set(KR_EINVAL,
			"%s is not valid JSON (line %d, column %d: %s)", column,
			jerr.line, jerr.column, jerr.text);
		rc = KR_EINVAL;
	} else if (!json_is_object(j)) {
		kr_error_set(KR_EINVAL, "%s is not a JSON object", column);
		rc = KR_EINVAL;
	}
	json_decref(j);
	return rc;
}

/* ---- open, migrate, close ---- */

static int
store_migrate(struct kr_store *s, sqlite3_int64 from)
{
	sqlite3_int64 now;
	size_t i;
	int rc = 0;
	char pragma[64];

	for (i = 0; i < STORE_NMIGRATIONS; i++) {
		const struct store_migration *m = &store_migrations[i];

		if (m->version <= from)
			continue;
		if ((rc = store_begin(s, "migrate the schema")) < 0)
			return rc;
		/* Another process may have migrated while we waited for the
		 * lock. */
		if ((rc = store_query_int(s, "PRAGMA user_version", &now,
			     "read the schema version")) < 0)
			goto fail;
		if (now >= m->version) {
			store_rollback(s);
			from = now;
			continue;
		}
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d;",
			m->version);
		if ((rc = store_exec(s, m->sql, "migrate the schema")) < 0 ||
			(rc = store_exec(s, pragma, "migrate the schema")) <
				0 ||
			(rc = store_commit(s, "migrate the schema")) < 0)
			goto fail;
		from = m->version;
	}
	return 0;
fail:
	store_rollback(s);
	return rc;
}

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
		rc = store_err(s, rc, "open it");
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, s->busy_ms);

	/* The first read: a file that is not a database fails here, unchanged.
	 */
	if ((rc = store_query_int(s, "PRAGMA application_id", &appid,
		     "read the database header")) < 0 ||
		(rc = store_query_int(s, "PRAGMA user_version", &version,
			 "read the schema version")) < 0 ||
		(rc = store_query_int(s, "SELECT count(*) FROM sqlite_master",
			 &nobjects, "read the schema")) < 0)
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
		if ((rc = store_prepare(s, &st, "PRAGMA quick_check(1)",
			     "check the database")) < 0)
			goto out;
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW) {
			rc = store_err(s, rc, "check the database");
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

	if ((rc = store_prepare(s, &st, "PRAGMA journal_mode = WAL",
		     "switch to WAL mode")) < 0)
		goto out;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = store_err(s, rc, "switch to WAL mode");
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
	if ((rc = store_exec(s,
		     "PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON; "
		     "PRAGMA synchronous = NORMAL;",
		     "set up the connection")) < 0)
		goto out;
	if ((rc = store_migrate(s, version)) < 0)
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
	store_secrets_clear(s);
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

/* ---- runs ---- */

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
	if ((rc = store_writable(s)) < 0)
		goto out;
	if ((rc = store_prepare(s, &st,
		     "INSERT INTO runs (kind, started_at, revision_id) VALUES "
		     "(?1, ?2, ?3)",
		     "record a run")) < 0 ||
		(rc = store_bind_checked(
			 s, st, 1, store_run_kinds[kind], "runs.kind")) < 0 ||
		(rc = sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL))) !=
			SQLITE_OK ||
		(rc = store_bind_id(s, st, 3, revision_id)) < 0 ||
		(rc = store_step_done(s, st, "record a run")) < 0) {
		if (rc > 0)
			rc = store_err(s, rc, "record a run");
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
	sqlite3_stmt *st = NULL;
	int rc;

	pthread_mutex_lock(&s->mu);
	if ((rc = store_writable(s)) < 0)
		goto out;
	if ((rc = store_prepare(s, &st,
		     "UPDATE runs SET finished_at = ?1, result = ?2, summary = "
		     "?3 WHERE id = ?4",
		     "finish a run")) < 0 ||
		(rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL))) !=
			SQLITE_OK ||
		(rc = store_bind_checked(s, st, 2, result, "runs.result")) <
			0 ||
		(rc = store_bind_masked(s, st, 3, summary, 0)) < 0 ||
		(rc = sqlite3_bind_int64(st, 4, run)) != SQLITE_OK ||
		(rc = store_step_done(s, st, "finish a run")) < 0) {
		if (rc > 0)
			rc = store_err(s, rc, "finish a run");
		goto out;
	}
	if (sqlite3_changes(s->db) != 1) {
		kr_error_set(KR_ENOTFOUND, "state database '%s': no run %lld",
			s->path, (long long)run);
		rc = KR_ENOTFOUND;
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* ---- revisions ---- */

int
kr_store_revision_add(int64_t *id_out, struct kr_store *s,
	const struct kr_store_revision *rev)
{
	sqlite3_stmt *st = NULL;
	int rc;

	pthread_mutex_lock(&s->mu);
	if ((rc = store_writable(s)) < 0)
		goto out;
	if (!rev->config_sha256 || !rev->model_json) {
		kr_error_set(KR_EINVAL,
			"a revision needs a config hash and a model");
		rc = KR_EINVAL;
		goto out;
	}
	/* The guard runs before the JSON parser, whose messages quote the text.
	 */
	if ((rc = store_guard(s, rev->model_json, "revisions.model_json")) <
			0 ||
		(rc = store_json_check(rev->model_json, "the revision model")) <
			0)
		goto out;

	/* The newest revision, when identical, is reused. */
	if ((rc = store_prepare(s, &st,
		     "SELECT id FROM revisions WHERE id = (SELECT max(id) FROM "
		     "revisions)"
		     " AND config_sha256 = ?1 AND app_version IS ?2 AND "
		     "git_commit IS ?3"
		     " AND destination IS ?4 AND model_json = ?5",
		     "look up revisions")) < 0 ||
		(rc = store_bind_checked(s, st, 1, rev->config_sha256,
			 "revisions.config_sha256")) < 0 ||
		(rc = store_bind_checked(s, st, 2, rev->app_version,
			 "revisions.app_version")) < 0 ||
		(rc = store_bind_checked(s, st, 3, rev->git_commit,
			 "revisions.git_commit")) < 0 ||
		(rc = store_bind_checked(s, st, 4, rev->destination,
			 "revisions.destination")) < 0 ||
		(rc = store_bind_checked(s, st, 5, rev->model_json,
			 "revisions.model_json")) < 0)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id_out = sqlite3_column_int64(st, 0);
		rc = 0;
		goto out;
	}
	if (rc != SQLITE_DONE) {
		rc = store_err(s, rc, "look up revisions");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;

	if ((rc = store_prepare(s, &st,
		     "INSERT INTO revisions (created_at, config_sha256, "
		     "app_version,"
		     " git_commit, destination, model_json) VALUES (?1, ?2, "
		     "?3, ?4, ?5, ?6)",
		     "record a revision")) < 0 ||
		(rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL))) !=
			SQLITE_OK ||
		(rc = store_bind_checked(s, st, 2, rev->config_sha256,
			 "revisions.config_sha256")) < 0 ||
		(rc = store_bind_checked(s, st, 3, rev->app_version,
			 "revisions.app_version")) < 0 ||
		(rc = store_bind_checked(s, st, 4, rev->git_commit,
			 "revisions.git_commit")) < 0 ||
		(rc = store_bind_checked(s, st, 5, rev->destination,
			 "revisions.destination")) < 0 ||
		(rc = store_bind_checked(s, st, 6, rev->model_json,
			 "revisions.model_json")) < 0 ||
		(rc = store_step_done(s, st, "record a revision")) < 0) {
		if (rc > 0)
			rc = store_err(s, rc, "record a revision");
		goto out;
	}
	*id_out = sqlite3_last_insert_rowid(s->db);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* ---- snapshots and hosts ---- */

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
	if ((rc = store_writable(s)) < 0)
		goto out;
	if (!host || !*host) {
		kr_error_set(KR_EINVAL, "a snapshot needs a host name");
		rc = KR_EINVAL;
		goto out;
	}
	if (json_text &&
		((rc = store_guard(s, json_text, "snapshots.json")) < 0 ||
			(rc = store_json_check(
				 json_text, "the observed host")) < 0))
		goto out;
	if ((rc = store_begin(s, "record a snapshot")) < 0)
		goto out;

	if ((rc = store_prepare(s, &st,
		     "INSERT INTO hosts (name, first_seen, last_seen, "
		     "last_status)"
		     " VALUES (?1, ?2, ?2, ?3) ON CONFLICT (name) DO UPDATE SET"
		     " last_seen = max(last_seen, excluded.last_seen),"
		     " last_status = excluded.last_status",
		     "record a host")) < 0 ||
		(rc = store_bind_checked(s, st, 1, host, "hosts.name")) < 0 ||
		(rc = sqlite3_bind_int64(st, 2, at)) != SQLITE_OK ||
		(rc = store_bind_checked(
			 s, st, 3, stname, "hosts.last_status")) < 0 ||
		(rc = store_step_done(s, st, "record a host")) < 0)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;

	if ((rc = store_prepare(s, &st,
		     "INSERT INTO snapshots (host, run_id, observed_at, "
		     "status, error,"
		     " fingerprint, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
		     "record a snapshot")) < 0 ||
		(rc = store_bind_checked(s, st, 1, host, "snapshots.host")) <
			0 ||
		(rc = store_bind_id(s, st, 2, run)) < 0 ||
		(rc = sqlite3_bind_int64(st, 3, at)) != SQLITE_OK ||
		(rc = store_bind_checked(
			 s, st, 4, stname, "snapshots.status")) < 0 ||
		(rc = store_bind_masked(s, st, 5, error, 0)) < 0 ||
		(rc = store_bind_checked(
			 s, st, 6, fingerprint, "snapshots.fingerprint")) < 0 ||
		(rc = store_bind_checked(
			 s, st, 7, json_text, "snapshots.json")) < 0 ||
		(rc = store_step_done(s, st, "record a snapshot")) < 0)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;

	if ((rc = store_prepare(s, &st,
		     "DELETE FROM snapshots WHERE host = ?1 AND id NOT IN"
		     " (SELECT id FROM snapshots WHERE host = ?1 ORDER BY id "
		     "DESC LIMIT ?2)",
		     "prune old snapshots")) < 0 ||
		(rc = store_bind_checked(s, st, 1, host, "snapshots.host")) <
			0 ||
		(rc = sqlite3_bind_int(st, 2, s->keep)) != SQLITE_OK ||
		(rc = store_step_done(s, st, "prune old snapshots")) < 0)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = store_commit(s, "record a snapshot")) < 0)
		goto fail;
	goto out;
fail:
	if (rc > 0)
		rc = store_err(s, rc, "record a snapshot");
	store_rollback(s);
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
	if ((rc = store_prepare(s, &st,
		     "SELECT id, run_id, observed_at, status, error, "
		     "fingerprint, json"
		     " FROM snapshots WHERE host = ?1 ORDER BY id DESC LIMIT 1",
		     "read snapshots")) < 0)
		goto out;
	if ((rc = sqlite3_bind_text(st, 1, host, -1, SQLITE_TRANSIENT)) !=
		SQLITE_OK) {
		rc = store_err(s, rc, "read snapshots");
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
		rc = store_err(s, rc, "read snapshots");
		goto out;
	}
	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	out->run_id = sqlite3_column_int64(st, 1);
	out->host = kr_xstrdup(host);
	out->observed_at = (time_t)sqlite3_column_int64(st, 2);
	out->status =
		store_status_parse((const char *)sqlite3_column_text(st, 3));
	out->error = column_strdup(st, 4);
	out->fingerprint = column_strdup(st, 5);
	out->json = column_strdup(st, 6);
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
	if ((rc = store_prepare(s, &st,
		     "SELECT name, first_seen, last_seen, last_status FROM "
		     "hosts ORDER BY name",
		     "read hosts")) < 0)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == alloc) {
			alloc = alloc ? 2 * alloc : 8;
			v = kr_xrealloc(v, alloc * sizeof(*v));
		}
		v[len].name = column_strdup(st, 0);
		v[len].first_seen = (time_t)sqlite3_column_int64(st, 1);
		v[len].last_seen = (time_t)sqlite3_column_int64(st, 2);
		v[len].last_status = store_status_parse(
			(const char *)sqlite3_column_text(st, 3));
		len++;
	}
	if (rc != SQLITE_DONE) {
		rc = store_err(s, rc, "read hosts");
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

/* ---- the journal ---- */

int
kr_store_journal_begin(int64_t *entry_out, struct kr_store *s, int64_t run,
	const char *host, const char *address, const char *action)
{
	sqlite3_stmt *st = NULL;
	int rc;

	pthread_mutex_lock(&s->mu);
	if ((rc = store_writable(s)) < 0)
		goto out;
	if (!host || !address || !action) {
		kr_error_set(KR_EINVAL, "a journal entry needs a host, an "
					"address and an action");
		rc = KR_EINVAL;
		goto out;
	}
	if ((rc = store_prepare(s, &st,
		     "INSERT INTO journal (run_id, host, address, action, "
		     "started_at)"
		     " VALUES (?1, ?2, ?3, ?4, ?5)",
		     "journal an action")) < 0 ||
		(rc = sqlite3_bind_int64(st, 1, run)) != SQLITE_OK ||
		(rc = store_bind_checked(s, st, 2, host, "journal.host")) < 0 ||
		(rc = store_bind_checked(
			 s, st, 3, address, "journal.address")) < 0 ||
		(rc = store_bind_checked(s, st, 4, action, "journal.action")) <
			0 ||
		(rc = sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL))) !=
			SQLITE_OK ||
		(rc = store_step_done(s, st, "journal an action")) < 0) {
		if (rc > 0)
			rc = store_err(s, rc, "journal an action");
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
	sqlite3_stmt *st = NULL;
	int rc;

	pthread_mutex_lock(&s->mu);
	if ((rc = store_writable(s)) < 0)
		goto out;
	if ((rc = store_prepare(s, &st,
		     "UPDATE journal SET finished_at = ?1, result = ?2, "
		     "stderr_tail = ?3"
		     " WHERE id = ?4",
		     "journal an action's end")) < 0 ||
		(rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL))) !=
			SQLITE_OK ||
		(rc = store_bind_checked(s, st, 2, result, "journal.result")) <
			0 ||
		(rc = store_bind_masked(
			 s, st, 3, stderr_text, KR_STORE_STDERR_TAIL)) < 0 ||
		(rc = sqlite3_bind_int64(st, 4, entry)) != SQLITE_OK ||
		(rc = store_step_done(s, st, "journal an action's end")) < 0) {
		if (rc > 0)
			rc = store_err(s, rc, "journal an action's end");
		goto out;
	}
	if (sqlite3_changes(s->db) != 1) {
		kr_error_set(KR_ENOTFOUND,
			"state database '%s': no journal entry %lld", s->path,
			(long long)entry);
		rc = KR_ENOTFOUND;
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
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
	if ((rc = store_prepare(s, &st,
		     "SELECT id, run_id, host, address, action, started_at, "
		     "finished_at,"
		     " result, stderr_tail FROM journal WHERE run_id = ?1 "
		     "ORDER BY id",
		     "read the journal")) < 0)
		goto out;
	if ((rc = sqlite3_bind_int64(st, 1, run)) != SQLITE_OK) {
		rc = store_err(s, rc, "read the journal");
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
		e->host = column_strdup(st, 2);
		e->address = column_strdup(st, 3);
		e->action = column_strdup(st, 4);
		e->started_at = (time_t)sqlite3_column_int64(st, 5);
		e->finished_at = (time_t)sqlite3_column_int64(st, 6);
		e->result = column_strdup(st, 7);
		e->stderr_tail = column_strdup(st, 8);
	}
	if (rc != SQLITE_DONE) {
		rc = store_err(s, rc, "read the journal");
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
