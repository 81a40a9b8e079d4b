/*
 * Internal to state/store*.c: the store handle and the helpers its files
 * share (SQLite plumbing, the secret guard, migrations). Not for use outside
 * state/store*.c.
 */
#ifndef KR_STATE_STORE_INT_H
#define KR_STATE_STORE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "state/store.h"

/* "KRCN": PRAGMA application_id of every kreconcile state database. */
#define STORE_APPLICATION_ID 0x4b52434e

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

/* store_sql.c */
int kr_store_err(const struct kr_store *s, int rc, const char *what);
int kr_store_exec(struct kr_store *s, const char *sql, const char *what);
int kr_store_prepare(struct kr_store *s, sqlite3_stmt **st, const char *sql,
	const char *what);
int kr_store_step_done(struct kr_store *s, sqlite3_stmt *st, const char *what);
int kr_store_query_int(struct kr_store *s, const char *sql, sqlite3_int64 *out,
	const char *what);
int kr_store_begin(struct kr_store *s, const char *what);
int kr_store_commit(struct kr_store *s, const char *what);
void kr_store_rollback(struct kr_store *s);
char *kr_store_column_strdup(sqlite3_stmt *st, int col);

/* store_guard.c */
void kr_store_secrets_clear(struct kr_store *s);
int kr_store_writable(const struct kr_store *s);
int kr_store_guard(
	const struct kr_store *s, const char *text, const char *column);
int kr_store_bind_checked(const struct kr_store *s, sqlite3_stmt *st, int idx,
	const char *text, const char *column);
int kr_store_bind_masked(const struct kr_store *s, sqlite3_stmt *st, int idx,
	const char *text, size_t tail);
int kr_store_bind_id(
	const struct kr_store *s, sqlite3_stmt *st, int idx, int64_t id);
int kr_store_json_check(const char *text, const char *column);

/* store_schema.c */
int kr_store_migrate(struct kr_store *s, sqlite3_int64 from);

#endif
