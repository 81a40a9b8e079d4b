/*
 * Tests of the state database (state/store.c): creation and permissions,
 * migrations from empty and from every earlier schema (one fixture builder
 * per version), WAL, the snapshot history bound, a locked database, a
 * corrupt or foreign file, a newer schema, the journal, and that no secret
 * value reaches the database file or its WAL.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/vec.h"
#include "state/store.h"

/* ---- helpers ---- */

struct tmp {
	char dir[64];
	char path[128];
};

static void
rm_rf(const char *dir)
{
	char *cmd = kr_xasprintf("rm -rf -- '%s'", dir);

	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static int
tmp_setup(void **state)
{
	struct tmp *t = kr_xcalloc(1, sizeof(*t));

	snprintf(t->dir, sizeof(t->dir), "/tmp/kr-store-XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	snprintf(t->path, sizeof(t->path), "%s/.kreconcile/state.db", t->dir);
	*state = t;
	return 0;
}

static int
tmp_teardown(void **state)
{
	struct tmp *t = *state;

	rm_rf(t->dir);
	free(t);
	return 0;
}

static struct kr_store *
open_ok(const char *path, const struct kr_store_opts *opts)
{
	struct kr_store *s = NULL;

	if (kr_store_open_ext(&s, path, opts) != 0)
		fail_msg("open '%s': %s", path, kr_error_last());
	kr_store_set_secrets(s, NULL);
	return s;
}

static sqlite3 *
raw_open(const char *path)
{
	sqlite3 *db = NULL;

	assert_int_equal(
		sqlite3_open_v2(path, &db,
			SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
		SQLITE_OK);
	sqlite3_busy_timeout(db, 2000);
	return db;
}

static void
raw_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("sql: %s", err);
}

static long long
raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static char *
raw_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	char *v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = kr_xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

/* Every schema object with its SQL, whitespace collapsed: equal schemas give
 * equal strings. */
static char *
schema_signature(const char *path)
{
	sqlite3 *db = raw_open(path);
	sqlite3_stmt *st = NULL;
	struct kr_buf b = KR_BUF_INIT;
	const char *p;
	bool space;

	kr_buf_printf(&b, "application_id=%lld\n",
		raw_int(db, "PRAGMA application_id"));
	kr_buf_printf(
		&b, "user_version=%lld\n", raw_int(db, "PRAGMA user_version"));
	assert_int_equal(
		sqlite3_prepare_v2(db,
			"SELECT type, name, tbl_name, sql FROM sqlite_master"
			" WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
			-1, &st, NULL),
		SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		kr_buf_printf(&b, "%s %s %s: ", sqlite3_column_text(st, 0),
			sqlite3_column_text(st, 1), sqlite3_column_text(st, 2));
		space = false;
		for (p = (const char *)sqlite3_column_text(st, 3); p && *p;
			p++) {
			if (*p == ' ' || *p == '\t' || *p == '\n') {
				space = true;
				continue;
			}
			if (space)
				kr_buf_putc(&b, ' ');
			space = false;
			kr_buf_putc(&b, *p);
		}
		kr_buf_putc(&b, '\n');
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return kr_buf_detach(&b, NULL);
}

static char *
read_all(const char *path, size_t *len)
{
	struct kr_buf b = KR_BUF_INIT;
	char chunk[8192];
	FILE *fp = fopen(path, "rb");
	size_t n;

	if (!fp) {
		*len = 0;
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		kr_buf_put(&b, chunk, n);
	fclose(fp);
	return kr_buf_detach(&b, len);
}

static void
write_all(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static bool
bytes_contain(const char *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle), i;

	for (i = 0; hay && m && i + m <= n; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return true;
	return false;
}

static bool
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int
mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (int)(st.st_mode & 07777);
}

/* ---- fixture builders, one per released schema version ---- */

/* A version-1 database from tests/fixtures/store/schema-v1.sql. */
static void
build_v1(const char *path)
{
	size_t len;
	char *sql = read_all(KR_FIXTURES "/store/schema-v1.sql", &len);
	sqlite3 *db;

	assert_non_null(sql);
	db = raw_open(path);
	raw_exec(db, sql);
	sqlite3_close(db);
	free(sql);
}

static void
build_v2(const char *path)
{
	size_t len;
	char *sql = read_all(KR_FIXTURES "/store/schema-v2.sql", &len);
	sqlite3 *db;

	assert_non_null(sql);
	db = raw_open(path);
	raw_exec(db, sql);
	sqlite3_close(db);
	free(sql);
}

/* What every fixture holds, read back through the store's API. */
static void
check_fixture_rows(struct kr_store *s)
{
	struct kr_store_snapshot snap = { 0 };
	struct kr_store_host *hosts = NULL;
	struct kr_store_journal_entry *j = NULL;
	size_t n = 0;

	assert_int_equal(kr_store_snapshot_latest(&snap, s, "198.18.1.10"), 0);
	assert_string_equal(snap.json,
		"{\"name\":\"198.18.1.10\",\"docker_version\":\"20."
		"10.24\",\"containers\":[]}");
	assert_int_equal(snap.status, KR_OBS_OK);
	assert_int_equal(snap.run_id, 1);
	assert_int_equal(snap.observed_at, 1764100011);
	kr_store_snapshot_release(&snap);
	assert_int_equal(kr_store_hosts(&hosts, &n, s), 0);
	assert_int_equal(n, 1);
	assert_string_equal(hosts[0].name, "198.18.1.10");
	kr_store_hosts_free(hosts, n);
	assert_int_equal(kr_store_journal_list(&j, &n, s, 2), 0);
	assert_int_equal(n, 1);
	assert_string_equal(j[0].address, "web/demo-web-v1");
	assert_string_equal(j[0].result, "ok");
	kr_store_journal_free(j, n);
}

static const struct {
	int version;
	void (*build)(const char *path);
} fixtures[] = {
	{ 1, build_v1 },
	{ 2, build_v2 },
};

/* ---- tests ---- */

static void
test_open_creates(void **state)
{
	struct tmp *t = *state;
	struct kr_store *s;
	char *dir = kr_xasprintf("%s/.kreconcile", t->dir);
	char *wal = kr_xasprintf("%s-wal", t->path);
	sqlite3 *db;
	char *mode;
	mode_t old = umask(022);

	s = open_ok(t->path, NULL);
	umask(old);
	assert_string_equal(kr_store_path(s), t->path);
	assert_int_equal(mode_of(dir), 0700);
	assert_int_equal(mode_of(t->path), 0600);

	db = raw_open(t->path);
	assert_int_equal(
		raw_int(db, "PRAGMA user_version"), KR_STORE_SCHEMA_VERSION);
	mode = raw_text(db, "PRAGMA journal_mode");
	assert_string_equal(mode, "wal");
	free(mode);
	sqlite3_close(db);
	/* The WAL inherits the database's mode. */
	assert_true(exists(wal));
	assert_int_equal(mode_of(wal), 0600);
	kr_store_close(s);
	free(wal);
	free(dir);
}

static void
test_open_missing_grandparent(void **state)
{
	struct tmp *t = *state;
	struct kr_store *s = NULL;
	char *path = kr_xasprintf("%s/no/such/state.db", t->dir);

	assert_int_equal(kr_store_open(&s, path), KR_ESTORE);
	assert_null(s);
	assert_non_null(strstr(kr_error_last(), "cannot create the directory"));
	free(path);
}

static void
test_migrate_from_empty_and_reopen(void **state)
{
	struct tmp *t = *state;
	struct kr_store *s;
	char *sig1, *sig2, *bytes1, *bytes2;
	size_t n1, n2;
	int64_t run;

	s = open_ok(t->path, NULL);
	assert_int_equal(kr_store_run_begin(&run, s, KR_RUN_REFRESH, 0), 0);
	assert_int_equal(kr_store_snapshot_add(s, run, "h1", KR_OBS_OK, NULL,
				 "f", "{\"a\":1}", 0),
		0);
	assert_int_equal(kr_store_run_end(s, run, "ok", "1 host"), 0);
	kr_store_close(s);
	sig1 = schema_signature(t->path);
	bytes1 = read_all(t->path, &n1);

	/* Re-opening an up-to-date database writes nothing. */
	s = open_ok(t->path, NULL);
	kr_store_close(s);
	sig2 = schema_signature(t->path);
	bytes2 = read_all(t->path, &n2);
	assert_string_equal(sig1, sig2);
	assert_int_equal(n1, n2);
	assert_memory_equal(bytes1, bytes2, n1);
	free(sig1);
	free(sig2);
	free(bytes1);
	free(bytes2);
}

static void
test_migrate_from_every_version(void **state)
{
	struct tmp *t = *state;
	char *fresh_path = kr_xasprintf("%s/fresh.db", t->dir);
	char *fresh, *path, *sig;
	struct kr_store *s;
	size_t i;

	s = open_ok(fresh_path, NULL);
	kr_store_close(s);
	fresh = schema_signature(fresh_path);

	/* Every released version has a fixture builder; the newest is the
	 * current one. */
	assert_int_equal(
		fixtures[sizeof(fixtures) / sizeof(fixtures[0]) - 1].version,
		KR_STORE_SCHEMA_VERSION);
	for (i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		path = kr_xasprintf("%s/v%d.db", t->dir, fixtures[i].version);
		fixtures[i].build(path);
		s = open_ok(path, NULL);
		check_fixture_rows(s);
		kr_store_close(s);
		sig = schema_signature(path);
		/* Migrated from version N == created from empty. */
		assert_string_equal(sig, fresh);
		free(sig);
		free(path);
	}
	free(fresh);
	free(fresh_path);
}

static void
test_open_zero_byte_file(void **state)
{
	struct tmp *t = *state;
	char *path = kr_xasprintf("%s/empty.db", t->dir);
	struct kr_store *s;

	write_all(path, "", 0);
	s = open_ok(path, NULL);
	kr_store_close(s);
	free(path);
}

static void
test_snapshot_history(void **state)
{
	struct tmp *t = *state;
	struct kr_store_opts o = { .snapshots_kept = 5 };
	struct kr_store *s = open_ok(t->path, &o);
	struct kr_store_snapshot snap = { 0 };
	struct kr_store_host *hosts = NULL;
	size_t n = 0;
	sqlite3 *db;
	char json[64];
	int i;

	for (i = 1; i <= 8; i++) {
		snprintf(json, sizeof(json), "{\"n\":%d}", i);
		assert_int_equal(
			kr_store_snapshot_add(s, 0, "a",
				i == 8 ? KR_OBS_UNREACHABLE : KR_OBS_OK,
				i == 8 ? "connection refused" : NULL, NULL,
				i == 8 ? NULL : json, 1000 + i),
			0);
	}
	for (i = 1; i <= 3; i++) {
		snprintf(json, sizeof(json), "{\"b\":%d}", i);
		assert_int_equal(kr_store_snapshot_add(s, 0, "b", KR_OBS_OK,
					 NULL, "fp", json, 2000 + i),
			0);
	}
	db = raw_open(t->path);
	assert_int_equal(
		raw_int(db, "SELECT count(*) FROM snapshots WHERE host = 'a'"),
		5);
	assert_int_equal(raw_int(db, "SELECT min(observed_at) FROM snapshots "
				     "WHERE host = 'a'"),
		1004);
	assert_int_equal(
		raw_int(db, "SELECT count(*) FROM snapshots WHERE host = 'b'"),
		3);
	sqlite3_close(db);

	assert_int_equal(kr_store_snapshot_latest(&snap, s, "a"), 0);
	assert_int_equal(snap.status, KR_OBS_UNREACHABLE);
	assert_string_equal(snap.error, "connection refused");
	assert_null(snap.json);
	assert_int_equal(snap.observed_at, 1008);
	kr_store_snapshot_release(&snap);
	assert_int_equal(kr_store_snapshot_latest(&snap, s, "b"), 0);
	assert_string_equal(snap.json, "{\"b\":3}");
	assert_string_equal(snap.fingerprint, "fp");
	kr_store_snapshot_release(&snap);
	assert_int_equal(kr_store_snapshot_latest(&snap, s, "c"), KR_ENOTFOUND);

	assert_int_equal(kr_store_hosts(&hosts, &n, s), 0);
	assert_int_equal(n, 2);
	assert_string_equal(hosts[0].name, "a");
	assert_int_equal(hosts[0].first_seen, 1001);
	assert_int_equal(hosts[0].last_seen, 1008);
	assert_int_equal(hosts[0].last_status, KR_OBS_UNREACHABLE);
	assert_string_equal(hosts[1].name, "b");
	assert_int_equal(hosts[1].last_status, KR_OBS_OK);
	kr_store_hosts_free(hosts, n);

	/* Not JSON, or not an object: refused. */
	assert_int_equal(kr_store_snapshot_add(s, 0, "a", KR_OBS_OK, NULL, NULL,
				 "{\"n\":", 0),
		KR_EINVAL);
	assert_int_equal(kr_store_snapshot_add(
				 s, 0, "a", KR_OBS_OK, NULL, NULL, "[1]", 0),
		KR_EINVAL);
	/* A run that does not exist: the foreign key refuses it. */
	assert_int_equal(kr_store_snapshot_add(
				 s, 4242, "a", KR_OBS_OK, NULL, NULL, "{}", 0),
		KR_ESTORE);
	kr_store_close(s);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
test_locked(void **state)
{
	struct tmp *t = *state;
	struct kr_store_opts o = { .busy_timeout_ms = 200 };
	struct kr_store *s = open_ok(t->path, &o), *s2 = NULL;
	struct kr_store_snapshot snap = { 0 };
	char *fresh = kr_xasprintf("%s/fresh.db", t->dir);
	sqlite3 *db = raw_open(t->path);
	double t0, dt;

	/* Another writer holds the database past our busy timeout. */
	raw_exec(db,
		"BEGIN IMMEDIATE; INSERT INTO hosts VALUES ('x', 1, 1, 'ok');");
	t0 = now_s();
	assert_int_equal(kr_store_snapshot_add(
				 s, 0, "h", KR_OBS_OK, NULL, NULL, "{}", 0),
		KR_ELOCKED);
	dt = now_s() - t0;
	assert_true(dt >= 0.15);
	assert_non_null(strstr(kr_error_last(), t->path));
	assert_non_null(strstr(kr_error_last(), "locked by another process"));
	/* Readers are not blocked in WAL mode; nothing of ours was written. */
	assert_int_equal(kr_store_snapshot_latest(&snap, s, "h"), KR_ENOTFOUND);
	raw_exec(db, "ROLLBACK");
	assert_int_equal(kr_store_snapshot_add(
				 s, 0, "h", KR_OBS_OK, NULL, NULL, "{}", 0),
		0);
	sqlite3_close(db);
	kr_store_close(s);

	/* Locked while a new database is being created: open fails, clearly. */
	db = raw_open(fresh);
	raw_exec(db, "BEGIN EXCLUSIVE; CREATE TABLE t (x);");
	assert_int_equal(kr_store_open_ext(&s2, fresh, &o), KR_ELOCKED);
	assert_null(s2);
	assert_non_null(strstr(kr_error_last(), fresh));
	raw_exec(db, "ROLLBACK");
	sqlite3_close(db);
	s2 = open_ok(fresh, &o);
	kr_store_close(s2);
	free(fresh);
}

static void
test_corrupt_garbage(void **state)
{
	struct tmp *t = *state;
	char *path = kr_xasprintf("%s/garbage.db", t->dir);
	char *side;
	unsigned char junk[8192];
	struct kr_store *s = NULL;
	size_t i, n;
	char *after;
	unsigned x = 12345;

	for (i = 0; i < sizeof(junk); i++) {
		x = x * 1103515245u + 12345u;
		junk[i] = (unsigned char)(x >> 16);
	}
	write_all(path, junk, sizeof(junk));
	assert_int_equal(kr_store_open(&s, path), KR_ESTORE);
	assert_null(s);
	assert_non_null(strstr(kr_error_last(), path));
	assert_non_null(strstr(kr_error_last(), "not a SQLite database"));
	assert_non_null(strstr(kr_error_last(), "left untouched"));
	after = read_all(path, &n);
	assert_int_equal(n, sizeof(junk));
	assert_memory_equal(after, junk, n);
	free(after);
	side = kr_xasprintf("%s-wal", path);
	assert_false(exists(side));
	free(side);
	side = kr_xasprintf("%s-journal", path);
	assert_false(exists(side));
	free(side);
	free(path);
}

static void
test_corrupt_pages(void **state)
{
	struct tmp *t = *state;
	struct kr_store *s = open_ok(t->path, NULL);
	char big[6000], *before, *after;
	size_t n, n2, i;
	int k;

	/* Enough rows to spread the tables over many pages. */
	for (k = 0; k < 20; k++) {
		snprintf(big, sizeof(big), "{\"k\":%d,\"pad\":\"", k);
		for (i = strlen(big); i < sizeof(big) - 4; i++)
			big[i] = (char)('a' + (i + (size_t)k) % 26);
		memcpy(big + sizeof(big) - 4, "\"}\0", 3);
		assert_int_equal(kr_store_snapshot_add(s, 0, k % 2 ? "a" : "b",
					 KR_OBS_OK, NULL, NULL, big, 0),
			0);
	}
	kr_store_close(s);
	s = NULL;

	before = read_all(t->path, &n);
	assert_true(n > 5 * 4096);
	/* Scribble over pages 2 to 4 (page 1, the header, stays intact). */
	for (i = 4096; i < 4 * 4096; i++)
		before[i] = (char)(i * 7);
	write_all(t->path, before, n);

	assert_int_equal(kr_store_open(&s, t->path), KR_ESTORE);
	assert_null(s);
	assert_non_null(strstr(kr_error_last(), "corrupt"));
	assert_non_null(strstr(kr_error_last(), t->path));
	after = read_all(t->path, &n2);
	assert_int_equal(n, n2);
	assert_memory_equal(before, after, n);
	free(before);
	free(after);
}

static void
test_newer_version_refused(void **state)
{
	struct tmp *t = *state;
	char *path = kr_xasprintf("%s/newer.db", t->dir);
	struct kr_store *s = NULL;
	char *before, *after;
	size_t n, n2;
	sqlite3 *db;

	build_v1(path);
	db = raw_open(path);
	raw_exec(db, "PRAGMA user_version = 3; CREATE TABLE future (x);");
	sqlite3_close(db);
	before = read_all(path, &n);

	assert_int_equal(kr_store_open(&s, path), KR_ESTORE);
	assert_null(s);
	assert_non_null(strstr(kr_error_last(), "newer kreconcile"));
	assert_non_null(strstr(kr_error_last(), "schema version 3"));
	after = read_all(path, &n2);
	assert_int_equal(n, n2);
	assert_memory_equal(before, after, n);
	free(before);
	free(after);
	free(path);
}

/* A version 1 database gains the history columns; runs are listed newest
 * first with what they were for, one run with its plan, old runs pruned
 * with their journal (snapshots kept). */
static void
test_run_history(void **state)
{
	struct tmp *t = *state;
	char *path = kr_xasprintf("%s/history.db", t->dir);
	struct kr_store *s = NULL;
	struct kr_store_run_info *v = NULL, one;
	struct kr_store_journal_entry *j = NULL;
	size_t n = 0, nj = 0;
	int64_t runs[5], e = 0;
	int i;

	build_v1(path);
	assert_int_equal(kr_store_open(&s, path), 0);
	kr_store_set_secrets(s, NULL);
	for (i = 0; i < 5; i++) {
		assert_int_equal(
			kr_store_run_begin(&runs[i], s,
				i % 2 ? KR_RUN_WATCH : KR_RUN_APPLY, 0),
			0);
		assert_int_equal(
			kr_store_run_describe(s, runs[i],
				i == 4 ? "drift" : "commit", "0123abcd", NULL),
			0);
		assert_int_equal(kr_store_journal_begin(&e, s, runs[i], "h1",
					 "h1/web", "replace"),
			0);
		assert_int_equal(kr_store_journal_end(s, e, "ok", NULL), 0);
		assert_int_equal(kr_store_snapshot_add(s, runs[i], "h1",
					 KR_OBS_OK, NULL, NULL, "{}", 0),
			0);
		assert_int_equal(kr_store_run_set_plan(s, runs[i],
					 "{\"format_version\":\"1.0\"}"),
			0);
		assert_int_equal(
			kr_store_run_set_duration(s, runs[i], 1500), 0);
		assert_int_equal(kr_store_run_end(s, runs[i], "ok", "done"), 0);
	}
	assert_int_equal(kr_store_runs_list(&v, &n, s, NULL, 3), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[0].id, runs[4]);
	assert_string_equal(v[0].trigger, "drift");
	assert_string_equal(v[0].git_commit, "0123abcd");
	assert_null(v[0].destination);
	assert_int_equal(v[0].duration_ms, 1500);
	assert_string_equal(v[0].result, "ok");
	kr_store_runs_free(v, n);
	assert_int_equal(kr_store_runs_list(&v, &n, s, "watch", 0), 0);
	assert_int_equal(n, 2);
	kr_store_runs_free(v, n);

	assert_int_equal(kr_store_run_get(&one, s, runs[2]), 0);
	assert_string_equal(one.plan_json, "{\"format_version\":\"1.0\"}");
	assert_string_equal(one.kind, "apply");
	kr_store_run_info_release(&one);
	assert_int_equal(kr_store_run_get(&one, s, 999), KR_ENOTFOUND);

	/* keep the newest two: three runs and their journal go */
	assert_int_equal(kr_store_runs_prune(s, NULL, 2), 0);
	assert_int_equal(kr_store_runs_list(&v, &n, s, NULL, 0), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[1].id, runs[3]);
	kr_store_runs_free(v, n);
	assert_int_equal(kr_store_journal_list(&j, &nj, s, runs[0]), 0);
	assert_int_equal(nj, 0);
	kr_store_journal_free(j, nj);
	assert_int_equal(kr_store_journal_list(&j, &nj, s, runs[4]), 0);
	assert_int_equal(nj, 1);
	kr_store_journal_free(j, nj);
	kr_store_close(s);
	free(path);
}

static void
test_foreign_database_refused(void **state)
{
	struct tmp *t = *state;
	char *path = kr_xasprintf("%s/other.db", t->dir);
	char *path2 = kr_xasprintf("%s/other2.db", t->dir);
	struct kr_store *s = NULL;
	sqlite3 *db;

	db = raw_open(path);
	raw_exec(db,
		"CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);"
		"INSERT INTO customers VALUES (1, 'alice');");
	sqlite3_close(db);
	assert_int_equal(kr_store_open(&s, path), KR_ESTORE);
	assert_non_null(strstr(kr_error_last(), "did not create"));
	db = raw_open(path);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM customers"), 1);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE "
				     "name = 'runs'"),
		0);
	sqlite3_close(db);

	db = raw_open(path2);
	raw_exec(db, "PRAGMA application_id = 42; CREATE TABLE x (y);");
	sqlite3_close(db);
	assert_int_equal(kr_store_open(&s, path2), KR_ESTORE);
	assert_non_null(strstr(kr_error_last(), "another application"));
	assert_null(s);
	free(path);
	free(path2);
}

static void
test_write_needs_secrets(void **state)
{
	struct tmp *t = *state;
	struct kr_store *s = NULL;
	struct kr_store_revision rev = { .config_sha256 = "c",
		.model_json = "{}" };
	int64_t id;

	assert_int_equal(kr_store_open(&s, t->path), 0);
	assert_int_equal(kr_store_run_begin(&id, s, KR_RUN_PLAN, 0), KR_EINVAL);
	assert_non_null(strstr(kr_error_last(), "kr_store_set_secrets"));
	assert_int_equal(kr_store_revision_add(&id, s, &rev), KR_EINVAL);
	assert_int_equal(kr_store_snapshot_add(
				 s, 0, "h", KR_OBS_OK, NULL, NULL, "{}", 0),
		KR_EINVAL);
	assert_int_equal(
		kr_store_journal_begin(&id, s, 1, "h", "a", "b"), KR_EINVAL);
	kr_store_close(s);
}

#define SECRET_LONG "hunter2-Pr0duction-db-pa55"
#define SECRET_QUOTED "key\"with\\quote-and-ünïcode"
#define SECRET_QUOTED_JSON "key\\\"with\\\\quote-and-ünïcode"
#define SECRET_SHORT "zq9"

static void
scan_file_for_secrets(const char *path)
{
	size_t n;
	char *bytes = read_all(path, &n);

	if (!bytes)
		return;
	assert_false(bytes_contain(bytes, n, SECRET_LONG));
	assert_false(bytes_contain(bytes, n, SECRET_QUOTED));
	assert_false(bytes_contain(bytes, n, SECRET_QUOTED_JSON));
	assert_false(bytes_contain(bytes, n, "\"" SECRET_SHORT "\""));
	free(bytes);
}

static void
test_no_secret_in_database(void **state)
{
	struct tmp *t = *state;
	struct kr_kvlist secrets = { 0 };
	struct kr_store *s = NULL;
	struct kr_store_journal_entry *j = NULL;
	struct kr_store_snapshot snap = { 0 };
	struct kr_store_revision rev = {
		.config_sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b8"
				 "22cd15d6c15b0f00a08",
		.app_version = "v3",
		.git_commit = "0123abc",
		.destination = "production",
	};
	char *wal = kr_xasprintf("%s-wal", t->path);
	char *bytes, *model;
	int64_t run, rid, entry;
	size_t n;

	kr_kvlist_set(&secrets, "DB_PASSWORD", SECRET_LONG);
	kr_kvlist_set(&secrets, "API_KEY", SECRET_QUOTED);
	kr_kvlist_set(&secrets, "PIN", SECRET_SHORT);
	kr_kvlist_set(&secrets, "EMPTY", "");
	/* a secret that equals a port elsewhere in the model */
	kr_kvlist_set(&secrets, "DB_PORT", "5432");
	assert_int_equal(kr_store_open(&s, t->path), 0);
	kr_store_set_secrets(s, &secrets);
	kr_kvlist_release(&secrets);

	/* A model with the secret in clear: refused, naming the key only. */
	rev.model_json = "{\"env\":{\"DB_PASSWORD\":\"" SECRET_LONG "\"}}";
	assert_int_equal(kr_store_revision_add(&rid, s, &rev), KR_EINVAL);
	assert_non_null(strstr(kr_error_last(), "DB_PASSWORD"));
	assert_null(strstr(kr_error_last(), SECRET_LONG));
	/* ... also JSON-escaped, as a serialiser writes it. */
	rev.model_json = "{\"env\":{\"API_KEY\":\"" SECRET_QUOTED_JSON "\"}}";
	assert_int_equal(kr_store_revision_add(&rid, s, &rev), KR_EINVAL);
	assert_non_null(strstr(kr_error_last(), "API_KEY"));
	/* ... and a short secret under its own key. */
	rev.model_json = "{\"env\":{\"PIN\":\"" SECRET_SHORT "\"}}";
	assert_int_equal(kr_store_revision_add(&rid, s, &rev), KR_EINVAL);
	assert_non_null(strstr(kr_error_last(), "PIN"));
	/* A value that equals a secret elsewhere (a port, a destination, a
	 * clear value) is no leak: never refused (issue 10, item 6). */
	rev.model_json = "{\"port\":\"5432\",\"publish\":[\"5432:5432\"],"
			 "\"env\":{\"PGPORT\":\"5432\",\"DB_PORT\":"
			 "\"(sensitive)\"}}";
	assert_int_equal(kr_store_revision_add(&rid, s, &rev), 0);
	/* A short secret inside a longer word is not a match. */
	rev.model_json = "{\"image\":\"app-" SECRET_SHORT
			 "x\",\"env\":{\"DB_PASSWORD\":\"(sensitive)\"}}";
	assert_int_equal(kr_store_revision_add(&rid, s, &rev), 0);
	/* The same revision again is the same row. */
	{
		int64_t again;

		assert_int_equal(kr_store_revision_add(&again, s, &rev), 0);
		assert_int_equal(again, rid);
	}
	/* A plain column equal to a secret (here the commit) is no leak. */
	rev.git_commit = "5432";
	assert_int_equal(kr_store_revision_add(&rid, s, &rev), 0);
	rev.git_commit = "0123abc";

	assert_int_equal(kr_store_run_begin(&run, s, KR_RUN_APPLY, rid), 0);
	/* Observed JSON with a secret: refused. */
	assert_int_equal(
		kr_store_snapshot_add(s, run, "web1", KR_OBS_OK, NULL, "fp",
			"{\"env\":[\"DB_PASSWORD=" SECRET_LONG "\"]}", 0),
		KR_EINVAL);
	/* Free text (an error, a summary, stderr): masked. */
	assert_int_equal(
		kr_store_snapshot_add(s, run, "web1", KR_OBS_FAILED,
			"exec failed: password " SECRET_LONG " rejected", "fp",
			"{\"env\":[\"DB_PASSWORD=(sensitive)\"]}", 0),
		0);
	assert_int_equal(kr_store_journal_begin(&entry, s, run, "web1",
				 "web/app-web-v3", "create"),
		0);
	assert_int_equal(kr_store_journal_end(s, entry, "failed",
				 "docker: Error: env " SECRET_QUOTED
				 " and pin " SECRET_SHORT " leaked\n"),
		0);
	assert_int_equal(kr_store_run_end(s, run, "failed",
				 "apply failed for " SECRET_LONG),
		0);

	assert_int_equal(kr_store_snapshot_latest(&snap, s, "web1"), 0);
	assert_string_equal(
		snap.error, "exec failed: password (sensitive) rejected");
	kr_store_snapshot_release(&snap);
	assert_int_equal(kr_store_journal_list(&j, &n, s, run), 0);
	assert_int_equal(n, 1);
	assert_string_equal(j[0].stderr_tail,
		"docker: Error: env (sensitive) and pin (sensitive) leaked\n");
	kr_store_journal_free(j, n);

	/* Nothing on disk, neither in the database nor in its WAL. */
	assert_true(exists(wal));
	scan_file_for_secrets(t->path);
	scan_file_for_secrets(wal);
	bytes = read_all(wal, &n);
	model = NULL;
	/* The scan can fail: the masked text is there to be found. */
	assert_true(bytes_contain(bytes, n, "password (sensitive) rejected"));
	free(bytes);
	kr_store_close(s);
	scan_file_for_secrets(t->path);
	scan_file_for_secrets(wal);
	free(model);
	free(wal);
}

static void
test_journal(void **state)
{
	struct tmp *t = *state;
	struct kr_store *s = open_ok(t->path, NULL);
	struct kr_store_journal_entry *j = NULL;
	struct kr_buf err = KR_BUF_INIT;
	int64_t run, e1, e2;
	size_t n;
	int i;

	assert_int_equal(kr_store_run_begin(&run, s, KR_RUN_APPLY, 0), 0);
	assert_int_equal(kr_store_journal_begin(
				 &e1, s, run, "h1", "web/app-web-v2", "create"),
		0);
	for (i = 0; i < 1000; i++)
		kr_buf_printf(&err, "line %04d of stderr\n", i);
	assert_int_equal(kr_store_journal_end(s, e1, "failed", err.ptr), 0);
	assert_int_equal(kr_store_journal_begin(
				 &e2, s, run, "h1", "web/app-web-v1", "stop"),
		0);
	assert_int_equal(
		kr_store_journal_end(s, 999999, "ok", NULL), KR_ENOTFOUND);
	assert_int_equal(kr_store_run_end(s, 999999, "ok", NULL), KR_ENOTFOUND);

	assert_int_equal(kr_store_journal_list(&j, &n, s, run), 0);
	assert_int_equal(n, 2);
	assert_int_equal(j[0].id, e1);
	assert_string_equal(j[0].action, "create");
	assert_string_equal(j[0].result, "failed");
	assert_true(strlen(j[0].stderr_tail) <= KR_STORE_STDERR_TAIL);
	assert_true(strlen(j[0].stderr_tail) > KR_STORE_STDERR_TAIL - 32);
	/* The tail is the end of stderr. */
	assert_string_equal(j[0].stderr_tail + strlen(j[0].stderr_tail) - 20,
		"line 0999 of stderr\n");
	assert_true(j[0].finished_at >= j[0].started_at);
	/* An action that never finished (a crash) reads as unfinished. */
	assert_int_equal(j[1].id, e2);
	assert_null(j[1].result);
	assert_int_equal(j[1].finished_at, 0);
	kr_store_journal_free(j, n);
	assert_int_equal(
		kr_store_journal_begin(&e1, s, 4242, "h", "a", "b"), KR_ESTORE);
	kr_store_close(s);
	kr_buf_release(&err);
}

/* No piece of a secret survives at the edge of the kept stderr tail. */
static void
test_mask_edges(void **state)
{
	struct tmp *t = *state;
	struct kr_kvlist secrets = { 0 };
	struct kr_store *s = NULL;
	struct kr_store_journal_entry *j = NULL;
	struct kr_buf err = KR_BUF_INIT;
	const char *sec = SECRET_LONG;
	size_t n, slen = strlen(SECRET_LONG), k;
	int64_t run, e;
	int d;
	char frag[8];

	kr_kvlist_set(&secrets, "DB_PASSWORD", SECRET_LONG);
	kr_kvlist_set(&secrets, "A", "abcdXYZW");
	kr_kvlist_set(&secrets, "B", "XYZWefgh");
	assert_int_equal(kr_store_open(&s, t->path), 0);
	kr_store_set_secrets(s, &secrets);
	kr_kvlist_release(&secrets);
	assert_int_equal(kr_store_run_begin(&run, s, KR_RUN_APPLY, 0), 0);

	/* The secret ends anywhere around the cut (tail from the end). */
	for (d = -40; d <= 40; d++) {
		kr_buf_reset(&err);
		for (k = 0; k < 9000; k++)
			kr_buf_putc(&err, 'x');
		kr_buf_puts(&err, sec);
		/* More occurrences after it: masking shortens the text. */
		for (k = 0; k < 40; k++)
			kr_buf_printf(&err, "%s%s", sec, k % 2 ? "yy" : "y");
		for (k = 0; (int)k < KR_STORE_STDERR_TAIL + d - 40 * 26 - 20;
			k++)
			kr_buf_putc(&err, 'y');
		assert_int_equal(
			kr_store_journal_begin(&e, s, run, "h", "a", "x"), 0);
		assert_int_equal(
			kr_store_journal_end(s, e, "failed", err.ptr), 0);
	}
	/* Two secrets that overlap: one masked run, no leftover piece. */
	assert_int_equal(kr_store_journal_begin(&e, s, run, "h", "a", "x"), 0);
	assert_int_equal(
		kr_store_journal_end(s, e, "failed", "[abcdXYZWefgh]"), 0);

	assert_int_equal(kr_store_journal_list(&j, &n, s, run), 0);
	assert_int_equal(n, 82);
	for (k = 0; k < n - 1; k++) {
		size_t off;

		assert_true(strlen(j[k].stderr_tail) <= KR_STORE_STDERR_TAIL);
		for (off = 0; off + 6 <= slen; off++) {
			memcpy(frag, sec + off, 6);
			frag[6] = '\0';
			if (strstr(j[k].stderr_tail, frag))
				fail_msg("entry %zu keeps '%s' of the secret",
					k, frag);
		}
	}
	assert_string_equal(j[n - 1].stderr_tail, "[(sensitive)]");
	kr_store_journal_free(j, n);
	kr_store_close(s);
	kr_buf_release(&err);
}

struct writer_arg {
	struct kr_store *s;
	const char *path;
	int id;
	int rc;
};

static void *
writer(void *p)
{
	struct writer_arg *a = p;
	struct kr_store *own = NULL;
	struct kr_store *s = a->s;
	char host[32];
	int i;

	if (!s) {
		/* A second process would do this: its own connection. */
		a->rc = kr_store_open(&own, a->path);
		if (a->rc)
			return NULL;
		kr_store_set_secrets(own, NULL);
		s = own;
	}
	snprintf(host, sizeof(host), "host-%d", a->id);
	for (i = 0; i < 20 && !a->rc; i++)
		a->rc = kr_store_snapshot_add(
			s, 0, host, KR_OBS_OK, NULL, NULL, "{\"x\":1}", 0);
	kr_store_close(own);
	return NULL;
}

static void
test_concurrent_writers(void **state)
{
	struct tmp *t = *state;
	struct kr_store *s = open_ok(t->path, NULL);
	struct writer_arg args[6];
	pthread_t th[6];
	sqlite3 *db;
	int i;

	for (i = 0; i < 6; i++) {
		args[i] =
			(struct writer_arg){ i < 3 ? s : NULL, t->path, i, 0 };
		assert_int_equal(
			pthread_create(&th[i], NULL, writer, &args[i]), 0);
	}
	for (i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].rc, 0);
	}
	kr_store_close(s);
	db = raw_open(t->path);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM snapshots"), 120);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM hosts"), 6);
	sqlite3_close(db);
}

static void
test_default_path(void **state)
{
	char *p;

	p = kr_store_default_path("config/deploy.yml");
	assert_string_equal(p, ".kreconcile/state.db");
	free(p);
	p = kr_store_default_path("/srv/app/config/deploy.yml");
	assert_string_equal(p, "/srv/app/.kreconcile/state.db");
	free(p);
	p = kr_store_default_path("deploy.yml");
	assert_string_equal(p, ".kreconcile/state.db");
	free(p);
	p = kr_store_default_path("/srv/other/deploy.yml");
	assert_string_equal(p, "/srv/other/.kreconcile/state.db");
	free(p);
	p = kr_store_default_path(NULL);
	assert_string_equal(p, ".kreconcile/state.db");
	free(p);
}

/* A full filesystem (a tiny tmpfs) is reported as "no space left" with
 * the path, not as SQLite's "disk I/O error" (issue 9, item 8). Needs
 * root to mount the tmpfs; skipped otherwise. */
static void
test_no_space(void **state)
{
	char dir[] = "/tmp/kr-test-nospace-XXXXXX";
	char cmd[256], *path;
	struct kr_store *s = NULL;
	int rc;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
		"mount -t tmpfs -o size=12k tmpfs '%s' "
		"2>/dev/null && dd if=/dev/zero of='%s/fill' bs=1k count=64 "
		"2>/dev/null; true",
		dir, dir);
	if (geteuid() != 0 || system(cmd) != 0) {
		rmdir(dir);
		print_message("skipped: cannot mount a tmpfs (not root)\n");
		skip();
	}
	path = kr_xasprintf("%s/state.db", dir);
	rc = kr_store_open(&s, path);
	if (rc == 0) {
		/* the file was made; a write must then fail */
		kr_store_close(s);
		s = NULL;
	}
	print_message("%s\n", kr_error_last());
	assert_int_equal(rc, KR_ESTORE);
	assert_non_null(strstr(kr_error_last(), "no space left"));
	assert_non_null(strstr(kr_error_last(), path));
	assert_null(strstr(kr_error_last(), "disk I/O error"));
	snprintf(cmd, sizeof(cmd), "umount '%s' && rmdir '%s'", dir, dir);
	assert_int_equal(system(cmd), 0);
	free(path);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, tmp_setup, tmp_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_creates),
		T(test_open_missing_grandparent),
		T(test_migrate_from_empty_and_reopen),
		T(test_migrate_from_every_version),
		T(test_open_zero_byte_file),
		T(test_snapshot_history),
		T(test_locked),
		T(test_corrupt_garbage),
		T(test_corrupt_pages),
		T(test_newer_version_refused),
		T(test_run_history),
		T(test_foreign_database_refused),
		T(test_write_needs_secrets),
		T(test_no_secret_in_database),
		T(test_journal),
		T(test_mask_edges),
		T(test_concurrent_writers),
		cmocka_unit_test(test_default_path),
		cmocka_unit_test(test_no_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
