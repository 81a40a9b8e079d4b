/*
 * The state database's schema: the migrations, oldest first, and applying
 * the ones a database has not had yet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/error.h"
#include "state/store.h"
#include "state/store_int.h"

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
	/* 2: what a run was for (watch's history) and the plan it made */
	{ 2, "ALTER TABLE runs ADD COLUMN trigger TEXT;\n"
	     "ALTER TABLE runs ADD COLUMN git_commit TEXT;\n"
	     "ALTER TABLE runs ADD COLUMN destination TEXT;\n"
	     "ALTER TABLE runs ADD COLUMN plan_json TEXT;\n"
	     "ALTER TABLE runs ADD COLUMN duration_ms INTEGER;\n" },
};

#define STORE_NMIGRATIONS \
	(sizeof(store_migrations) / sizeof(store_migrations[0]))

_Static_assert(sizeof(store_migrations) / sizeof(store_migrations[0]) ==
		       KR_STORE_SCHEMA_VERSION,
	"one migration step per schema version");

int
kr_store_migrate(struct kr_store *s, sqlite3_int64 from)
{
	sqlite3_int64 now;
	size_t i;
	int rc = 0;
	char pragma[64];

	for (i = 0; i < STORE_NMIGRATIONS; i++) {
		const struct store_migration *m = &store_migrations[i];

		if (m->version <= from)
			continue;
		if ((rc = kr_store_begin(s, "migrate the schema")) < 0)
			return rc;
		/* Another process may have migrated while we waited for the
		 * lock. */
		if ((rc = kr_store_query_int(s, "PRAGMA user_version", &now,
			     "read the schema version")) < 0)
			goto fail;
		if (now >= m->version) {
			kr_store_rollback(s);
			from = now;
			continue;
		}
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d;",
			m->version);
		if ((rc = kr_store_exec(s, m->sql, "migrate the schema")) < 0 ||
			(rc = kr_store_exec(s, pragma, "migrate the schema")) <
				0 ||
			(rc = kr_store_commit(s, "migrate the schema")) < 0)
			goto fail;
		from = m->version;
	}
	return 0;
fail:
	kr_store_rollback(s);
	return rc;
}
