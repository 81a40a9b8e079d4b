/*
 * The secret guard of the state database: the run's secret values in the
 * forms they take in text (raw, JSON-escaped), refusing text that holds
 * one under its own key name (never a value that merely equals a port, a
 * name or a clear value), masking free text, and the binds every written value
 * goes through. jansson's errors become store errors here
 * (kr_store_json_check).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "common/buf.h"
#include "common/error.h"
#include "state/desired.h"
#include "state/store.h"
#include "state/store_int.h"

void
kr_store_secrets_clear(struct kr_store *s)
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
	kr_store_secrets_clear(s);
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
int
kr_store_writable(const struct kr_store *s)
{
	if (s->secrets_set)
		return 0;
	kr_error_set(KR_EINVAL,
		"state database '%s': refusing to write before the run's "
		"secret values are registered (kr_store_set_secrets)",
		s->path);
	return KR_EINVAL;
}

/* Does text hold form as a whole JSON string right after `"key":`, or as
 * `key=form` ending a JSON string (Docker's Config.Env form)? */
static bool
holds_pair(const char *text, const char *key, const char *form)
{
	size_t kn = strlen(key), fn = strlen(form);
	const char *p = text;

	while ((p = strstr(p, key))) {
		const char *q = p + kn;

		if (p > text && p[-1] == '"' && q[0] == '"' && q[1] == ':') {
			q += 2;
			while (*q == ' ' || *q == '\n' || *q == '\t')
				q++;
			if (*q == '"' && strncmp(q + 1, form, fn) == 0 &&
				q[1 + fn] == '"')
				return true;
		} else if (p > text && p[-1] == '"' && q[0] == '=' &&
			   strncmp(q + 1, form, fn) == 0 && q[1 + fn] == '"') {
			return true;
		}
		p++;
	}
	return false;
}

/*
 * Refuse JSON text that holds a secret's value under the secret's own key
 * name (an env map or Config.Env entry): the one shape in which a value
 * could slip into a model or snapshot. Values are kept out by
 * construction (the desired model writes KR_SENSITIVE, observe masks every
 * env value that is not clear env of the container's role or accessory),
 * so this is a last check, and it never refuses a valid configuration
 * whose secret happens to equal a port, a name, an address or a clear
 * value elsewhere. `column` names where the text was going.
 */
int
kr_store_guard(const struct kr_store *s, const char *text, const char *column)
{
	size_t i, j;

	if (!text)
		return 0;
	for (i = 0; i < s->nsec; i++) {
		const struct store_secret *sec = &s->sec[i];

		for (j = 0; j < sec->nforms; j++) {
			if (!holds_pair(text, sec->key, sec->forms[j]))
				continue;
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
int
kr_store_bind_checked(const struct kr_store *s, sqlite3_stmt *st, int idx,
	const char *text, const char *column)
{
	int rc;

	if ((rc = kr_store_guard(s, text, column)) < 0)
		return rc;
	if (!text)
		return sqlite3_bind_null(st, idx) == SQLITE_OK ?
			       0 :
			       kr_store_err(s, SQLITE_ERROR, "bind");
	rc = sqlite3_bind_text(st, idx, text, -1, SQLITE_TRANSIENT);
	return rc == SQLITE_OK ? 0 : kr_store_err(s, rc, "bind a value");
}

/* Bind free text with secret values masked, keeping at most `tail` final bytes
 * (0 = all). */
int
kr_store_bind_masked(const struct kr_store *s, sqlite3_stmt *st, int idx,
	const char *text, size_t tail)
{
	char *masked;
	const char *start;
	size_t n;
	int rc;

	if (!text)
		return sqlite3_bind_null(st, idx) == SQLITE_OK ?
			       0 :
			       kr_store_err(s, SQLITE_ERROR, "bind");
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
	return rc == SQLITE_OK ? 0 : kr_store_err(s, rc, "bind a value");
}

int
kr_store_bind_id(
	const struct kr_store *s, sqlite3_stmt *st, int idx, int64_t id)
{
	int rc = id > 0 ? sqlite3_bind_int64(st, idx, id) :
			  sqlite3_bind_null(st, idx);

	return rc == SQLITE_OK ? 0 : kr_store_err(s, rc, "bind a value");
}

/* The one place jansson's errors become store errors: the text must be a JSON
 * object. */
int
kr_store_json_check(const char *text, const char *column)
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
