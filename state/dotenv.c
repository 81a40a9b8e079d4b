/*
 * dotenv's LINE regexp, followed by hand (the dotenv gem's Dotenv::Parser,
 * dotenv 3.x), and the text helpers the secrets parser shares (character
 * classes, UTF-8 validity, line/column of an offset). Matches are searched at
 * line starts; a match is
 *
 *   \s* (export\s+)? KEY ( (\s*=\s*? | :\s+?) VALUE? )? \s* (#.*)? $
 *
 * KEY = [A-Za-z0-9_.]+, VALUE = \s*'..' | \s*".." (a quote preceded by a
 * backslash does not end it) | [^#\n]+. Text that never matches is skipped
 * silently, as dotenv does (reported as warnings when asked). Because every
 * piece of the regexp is greedy or fails fast, the backtracking search
 * reduces to: the longest key; `=` after optional blanks, or `:` and one
 * blank; a quoted value when a quote follows the blanks and some closing
 * quote lets the rest of the line be blanks and a comment (the first
 * unescaped quote is tried first, then escaped ones from last to first);
 * else the unquoted text up to `#` or newline.
 */
#include <stddef.h>
#include <string.h>

#include "state/secrets_int.h"

int
kr_dotenv_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
		c == '\r';
}

int
kr_dotenv_is_key(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '_' || c == '.';
}

/*
 * Offset of the first byte that is not valid UTF-8, or n. Ruby refuses to
 * run a regexp over such a string, so Kamal fails on it too.
 */
size_t
kr_dotenv_utf8_invalid_at(const unsigned char *s, size_t n)
{
	size_t i = 0, len, k;
	unsigned int cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			len = 2;
			cp = s[i] & 0x1f;
		} else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			len = 3;
			cp = s[i] & 0x0f;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			len = 4;
			cp = s[i] & 0x07;
		} else {
			return i;
		}
		if (n - i < len)
			return i;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += len;
	}
	return n;
}

void
kr_dotenv_linecol(struct kr_secrets_parser *p, size_t pos, int *line, int *col)
{
	size_t i;

	if (pos < p->cur_pos) {
		p->cur_pos = 0;
		p->cur_line = 1;
		p->cur_bol = 0;
	}
	for (; p->cur_pos < pos && p->cur_pos < p->len; p->cur_pos++) {
		if (p->s[p->cur_pos] == '\n') {
			p->cur_line++;
			p->cur_bol = p->cur_pos + 1;
		}
	}
	/* Columns count characters, as libyaml's do, not bytes. */
	*line = (int)p->cur_line;
	*col = 1;
	for (i = p->cur_bol; i < pos && i < p->len; i++)
		if (((unsigned char)p->s[i] & 0xc0) != 0x80)
			(*col)++;
}

static size_t
skip_space(const struct kr_secrets_parser *p, size_t i)
{
	while (i < p->len && kr_dotenv_is_space(p->s[i]))
		i++;
	return i;
}

/* \s* (#.*)? ($|\z) from q: the end of the match, or (size_t)-1. */
static size_t
match_tail(const struct kr_secrets_parser *p, size_t q)
{
	size_t k = skip_space(p, q), e;

	for (e = k;; e--) {
		if (e < p->len && p->s[e] == '#') {
			while (e < p->len && p->s[e] != '\n')
				e++;
			return e;
		}
		if (e == p->len || p->s[e] == '\n')
			return e;
		if (e == q)
			return (size_t)-1;
	}
}

/*
 * A quoted VALUE whose opening quote is at w: try the closing quotes in
 * the regexp engine's order. Returns 1 and sets *vend and *end on success.
 */
static int
match_quoted(const struct kr_secrets_parser *p, size_t w, size_t *vend,
	size_t *end)
{
	char q = p->s[w];
	size_t i, hard = (size_t)-1, t;

	for (i = w + 1; i < p->len; i++) {
		if (p->s[i] == q && (i == w + 1 || p->s[i - 1] != '\\')) {
			hard = i;
			break;
		}
	}
	if (hard != (size_t)-1 && (t = match_tail(p, hard + 1)) != (size_t)-1) {
		*vend = hard + 1;
		*end = t;
		return 1;
	}
	/* Escaped quotes, last first. */
	for (i = hard != (size_t)-1 ? hard : p->len; i > w + 1; i--) {
		size_t c = i - 1;

		if (c > w + 1 && p->s[c] == q && p->s[c - 1] == '\\' &&
		    (t = match_tail(p, c + 1)) != (size_t)-1) {
			*vend = c + 1;
			*end = t;
			return 1;
		}
	}
	return 0;
}

/* Everything after KEY, which starts at k0. */
static int
match_after_key(const struct kr_secrets_parser *p, size_t k0,
	struct kr_dotenv_match *m)
{
	size_t k = k0, i, v, w, e, vend, end;

	while (k < p->len && kr_dotenv_is_key(p->s[k]))
		k++;
	m->key = k0;
	m->key_len = k - k0;
	m->has_value = 0;

	i = skip_space(p, k);
	if (i < p->len && p->s[i] == '=')
		v = i + 1;
	else if (k + 1 < p->len && p->s[k] == ':' &&
		 kr_dotenv_is_space(p->s[k + 1]))
		v = k + 2;
	else
		goto no_separator;

	w = skip_space(p, v);
	if (w < p->len && (p->s[w] == '\'' || p->s[w] == '"') &&
	    match_quoted(p, w, &vend, &end)) {
		m->has_value = 1;
		m->val = v;
		m->val_len = vend - v;
		m->end = end;
		return 1;
	}
	if (v < p->len && p->s[v] != '#' && p->s[v] != '\n') {
		for (e = v; e < p->len && p->s[e] != '#' && p->s[e] != '\n'; e++)
			;
		m->has_value = 1;
		m->val = v;
		m->val_len = e - v;
		m->end = match_tail(p, e);
		return 1;
	}
	m->end = match_tail(p, v);	/* always matches here */
	return 1;

no_separator:
	if ((m->end = match_tail(p, k)) == (size_t)-1)
		return 0;
	return 1;
}

/* dotenv's LINE regexp at a line start. */
int
kr_dotenv_match_line(const struct kr_secrets_parser *p, size_t pos,
	struct kr_dotenv_match *m)
{
	size_t b = skip_space(p, pos), q;

	memset(m, 0, sizeof(*m));
	m->start = b;
	if (p->len - b > 6 && memcmp(p->s + b, "export", 6) == 0 &&
	    kr_dotenv_is_space(p->s[b + 6])) {
		q = skip_space(p, b + 6);
		if (q < p->len && kr_dotenv_is_key(p->s[q]) &&
			match_after_key(p, q, m)) {
			m->export = 1;
			return 1;
		}
	}
	if (b < p->len && kr_dotenv_is_key(p->s[b]))
		return match_after_key(p, b, m);
	return 0;
}
