/*
 * Reading .kamal/secrets with the rules Kamal 2 applies (see secrets.h): the
 * dotenv gem's parser (Dotenv::Parser, dotenv 3.x; the line matcher in
 * dotenv.c, values in secrets_value.c) with Kamal's own command substitution
 * (secrets_subst.c; the default runner in secrets_command.c), one file at a
 * time. This file holds the parse of one file (line ends, BOM, NUL and UTF-8
 * checks, assignments, limits) and loading Kamal's files in order.
 *
 * Where kreconcile differs from Kamal: a command that exits non-zero, times
 * out or writes a NUL byte is an error (Kamal's backticks ignore the exit
 * status); a file holding a NUL byte is an error; text that is not UTF-8
 * is an error here as it is in Kamal (Ruby raises), with a position;
 * `kamal secrets ...` commands run through /bin/sh (Kamal calls itself
 * in-process with --inline), and the output of `kamal secrets fetch` is then
 * shell-escaped the way --inline does, so `$(kamal secrets extract KEY
 * $SECRETS)` works.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file.h"
#include "state/secrets_int.h"

void
kr_secrets_wipe(void *p, size_t n)
{
	volatile unsigned char *q = p;

	while (n--)
		*q++ = 0;
}

void
kr_secrets_buf_wipe_release(struct kr_buf *b)
{
	kr_secrets_wipe(b->ptr, b->len);
	kr_buf_release(b);
}

/* Lines between matches that are neither blank nor comments. */
static void
warn_skipped(struct kr_secrets_parser *p, size_t from, size_t to)
{
	size_t i = from;
	int line, col;

	while (i < to) {
		size_t eol = i, b;

		while (eol < to && p->s[eol] != '\n')
			eol++;
		b = i;
		while (b < eol && kr_dotenv_is_space(p->s[b]))
			b++;
		if (b < eol && p->s[b] != '#' && p->warnings) {
			kr_dotenv_linecol(p, b, &line, &col);
			kr_diags_add(p->warnings, p->file, line, col,
				"line ignored: not KEY=value (dotenv skips "
				"it)");
		}
		i = eol + 1;
	}
}

/* One matched line: an `export KEY` check or an assignment. */
static int
assign(struct kr_secrets_parser *p, const struct kr_dotenv_match *m)
{
	struct kr_buf v = KR_BUF_INIT;
	char *key = kr_xstrndup(p->s + m->key, m->key_len);
	size_t nd = p->diags->n, at = m->has_value ? m->val : m->key;
	int err = 0, line, col;

	if (m->export && !m->has_value) {
		if (!kr_kvlist_get(&p->hash, key)) {
			kr_dotenv_linecol(p, m->start, &line, &col);
			kr_diags_add(p->diags, p->file, line, col,
				"'export %s' names a variable not set earlier "
				"in the file",
				key);
			err = KR_ECONFIG;
		}
		goto out;
	}
	v.max = MAX_VALUE;
	err = kr_secrets_parse_value(p, &v, m->has_value ? p->s + m->val : "",
		m->has_value ? m->val_len : 0, key, at);
	if (err < 0 && p->diags->n == nd) {
		/* A failed command has said why; anything else is size. */
		kr_dotenv_linecol(p, at, &line, &col);
		kr_diags_add(p->diags, p->file, line, col,
			"value of '%s' is longer than %u bytes", key,
			MAX_VALUE);
	}
	if (err == 0 && kr_dotenv_utf8_invalid_at(
				(const unsigned char *)v.ptr, v.len) < v.len) {
		kr_dotenv_linecol(p, at, &line, &col);
		kr_diags_add(p->diags, p->file, line, col,
			"value of '%s' is not valid UTF-8 (from a command or "
			"the environment)",
			key);
		err = KR_ECONFIG;
	}
	if (err == 0 && (p->total += v.len) > MAX_TOTAL) {
		kr_dotenv_linecol(p, m->key, &line, &col);
		kr_diags_add(p->diags, p->file, line, col,
			"values up to '%s' exceed %u bytes in all", key,
			MAX_TOTAL);
		err = KR_ECONFIG;
	}
	if (err == 0)
		kr_kvlist_set(&p->hash, key, v.ptr);
out:
	kr_secrets_buf_wipe_release(&v);
	free(key);
	return err < 0 ? KR_ECONFIG : 0;
}

/* Dotenv::Parser#call: scan for LINE matches at line starts. */
static int
parse_text(struct kr_secrets_parser *p)
{
	struct kr_dotenv_match m;
	size_t pos = 0, last = 0;
	int err = 0;

	while (pos < p->len) {
		if ((pos > 0 && p->s[pos - 1] != '\n') ||
			!kr_dotenv_match_line(p, pos, &m)) {
			while (pos < p->len && p->s[pos] != '\n')
				pos++;
			pos++;
			continue;
		}
		warn_skipped(p, last, m.start);
		if (assign(p, &m) < 0)
			err = KR_ECONFIG;
		pos = last = m.end;
	}
	warn_skipped(p, last, p->len);
	return err;
}

static int
parse_file(struct kr_kvlist *out, struct kr_diags *diags, const char *file,
	const char *text, size_t len, const struct kr_secrets_opts *opts,
	const struct kr_kvlist *earlier)
{
	struct kr_secrets_parser p;
	struct kr_buf norm = KR_BUF_INIT;
	const char *nul;
	size_t i, ndiags = diags->n;
	int err;

	memset(&p, 0, sizeof(p));
	p.file = file;
	p.diags = diags;
	p.timeout = opts && opts->command_timeout > 0 ? opts->command_timeout :
							DEFAULT_TIMEOUT;
	p.run_commands = opts ? opts->run_commands : 1;
	p.run = opts && opts->run ? opts->run : kr_secrets_run_command;
	p.run_arg = opts ? opts->run_arg : NULL;
	p.warnings = opts ? opts->warnings : NULL;
	p.earlier = earlier;
	p.cur_line = 1;

	/* File.open(..., "rb:bom|utf-8") drops a byte order mark. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
	}
	/* gsub(/\r\n?/, "\n") */
	for (i = 0; i < len; i++) {
		if (text[i] == '\r') {
			kr_buf_putc(&norm, '\n');
			if (i + 1 < len && text[i + 1] == '\n')
				i++;
		} else {
			kr_buf_putc(&norm, text[i]);
		}
	}
	p.s = norm.ptr;
	p.len = norm.len;
	if ((nul = memchr(p.s, '\0', p.len)) != NULL) {
		int line, col;

		kr_dotenv_linecol(&p, (size_t)(nul - p.s), &line, &col);
		kr_diags_add(diags, file, line, col,
			"file holds a NUL byte; secrets files are text");
		err = KR_ECONFIG;
		goto out;
	}
	if ((i = kr_dotenv_utf8_invalid_at((const unsigned char *)p.s, p.len)) <
		p.len) {
		int line, col;

		kr_dotenv_linecol(&p, i, &line, &col);
		kr_diags_add(diags, file, line, col,
			"file is not valid UTF-8 (Kamal cannot read it "
			"either)");
		err = KR_ECONFIG;
		goto out;
	}
	err = parse_text(&p);
	if (err == 0 && diags->n != ndiags)
		err = KR_ECONFIG;
	if (err == 0)
		kr_kvlist_copy(out, &p.hash);
	else
		kr_error_set(KR_ECONFIG, "%s: secrets file has errors", file);
out:
	kr_kvlist_release(&p.hash);
	kr_secrets_buf_wipe_release(&norm);
	return err;
}

int
kr_secrets_parse(struct kr_kvlist *out, struct kr_diags *diags,
	const char *file, const char *text, size_t len,
	const struct kr_secrets_opts *opts)
{
	return parse_file(out, diags, file, text, len, opts, out);
}

void
kr_secrets_filenames(struct kr_strvec *out, const char *secrets_path,
	const char *destination)
{
	if (!secrets_path || !*secrets_path)
		secrets_path = ".kamal/secrets";
	kr_strvec_push_owned(out, kr_xasprintf("%s-common", secrets_path));
	if (destination && *destination)
		kr_strvec_push_owned(
			out, kr_xasprintf("%s.%s", secrets_path, destination));
	else
		kr_strvec_push(out, secrets_path);
}

/* Read a whole regular file; 1 when it does not exist. A directory, FIFO
 * or device is an error (a FIFO is never waited on). */
static int
read_file(struct kr_buf *out, struct kr_diags *diags, const char *path)
{
	struct stat st;
	char chunk[4096];
	ssize_t n;
	int fd, err = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 1;
		kr_diags_add(
			diags, path, 0, 0, "cannot open: %s", strerror(errno));
		return KR_EIO;
	}
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		kr_diags_add(diags, path, 0, 0,
			"is %s, not a regular file "
			"(the secrets file must be a file)",
			kr_file_kind(st.st_mode));
		close(fd);
		return KR_EINVAL;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			kr_diags_add(diags, path, 0, 0, "cannot read: %s",
				strerror(errno));
			err = KR_EIO;
			break;
		}
		if (n == 0)
			break;
		if (kr_buf_put(out, chunk, (size_t)n) < 0) {
			kr_diags_add(diags, path, 0, 0,
				"file is larger than %u bytes", MAX_FILE);
			err = KR_EIO;
			break;
		}
	}
	kr_secrets_wipe(chunk, sizeof(chunk));
	close(fd);
	return err;
}

int
kr_secrets_load_path(struct kr_kvlist *out, struct kr_diags *diags,
	const char *secrets_path, const char *destination,
	const struct kr_secrets_opts *opts)
{
	struct kr_strvec files = { 0 };
	struct kr_kvlist all = { 0 };
	size_t i;
	int err = 0, r;

	kr_secrets_filenames(&files, secrets_path, destination);
	for (i = 0; i < files.n; i++) {
		struct kr_buf text = KR_BUF_INIT;
		struct kr_kvlist one = { 0 };

		text.max = MAX_FILE;
		r = read_file(&text, diags, files.v[i]);
		if (r == 0)
			r = parse_file(&one, diags, files.v[i], text.ptr,
				text.len, opts, &all);
		if (r < 0)
			err = KR_ECONFIG;
		else
			kr_kvlist_copy(&all, &one);
		kr_kvlist_release(&one);
		kr_secrets_buf_wipe_release(&text);
	}
	if (err == 0)
		kr_kvlist_copy(out, &all);
	else
		kr_error_set(KR_ECONFIG, "secrets files have errors");
	kr_kvlist_release(&all);
	kr_strvec_release(&files);
	return err;
}

int
kr_secrets_load(struct kr_kvlist *out, struct kr_diags *diags, const char *dir,
	const char *destination, const struct kr_secrets_opts *opts)
{
	char *path = kr_xasprintf("%s/secrets", dir && *dir ? dir : ".kamal");
	int err;

	err = kr_secrets_load_path(out, diags, path, destination, opts);
	free(path);
	return err;
}
