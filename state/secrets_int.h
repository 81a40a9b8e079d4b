/*
 * Internal to state/secrets*.c and state/dotenv.c: the parser state and the
 * helpers those files share. Not for use elsewhere.
 */
#ifndef KR_STATE_SECRETS_INT_H
#define KR_STATE_SECRETS_INT_H

#include <stddef.h>

#include "common/buf.h"
#include "common/diag.h"
#include "common/vec.h"
#include "state/secrets.h"

#define MAX_FILE	(1u << 20)	/* one secrets file */
#define MAX_VALUE	(1u << 20)	/* one value after substitutions */
#define MAX_TOTAL	(16u << 20)	/* all values of one file */
#define MAX_OUTPUT	(1u << 20)	/* stdout of one command */
#define MAX_STDERR	(64u << 10)
#define MAX_WHY		200		/* stderr shown in a message */
#define DEFAULT_TIMEOUT	30

struct kr_secrets_parser {
	const char *file;
	const char *s;		/* text with line ends normalized to \n */
	size_t len;
	struct kr_kvlist hash;	/* this file's keys so far */
	const struct kr_kvlist *earlier;	/* for redaction only */
	struct kr_diags *diags;
	struct kr_diags *warnings;
	int timeout;
	int run_commands;
	int (*run)(struct kr_buf *, struct kr_buf *, const char *, int, void *);
	void *run_arg;
	size_t total;
	/* line/column cursor */
	size_t cur_pos, cur_line, cur_bol;
};

struct kr_dotenv_match {
	size_t start;		/* first character of the key or `export` */
	size_t key, key_len;
	int export;
	int has_value;
	size_t val, val_len;	/* the raw VALUE group */
	size_t end;
};

/* dotenv.c */
int kr_dotenv_is_space(char c);
int kr_dotenv_is_key(char c);
size_t kr_dotenv_utf8_invalid_at(const unsigned char *s, size_t n);
void kr_dotenv_linecol(struct kr_secrets_parser *p, size_t pos, int *line,
	int *col);
int kr_dotenv_match_line(const struct kr_secrets_parser *p, size_t pos,
	struct kr_dotenv_match *m);

/* secrets_value.c */
int kr_secrets_subst_variables(struct kr_secrets_parser *p, struct kr_buf *out,
	const char *v, size_t n, struct kr_strvec *used);
int kr_secrets_parse_value(struct kr_secrets_parser *p, struct kr_buf *out,
	const char *raw, size_t n, const char *key, size_t pos);

/* secrets_subst.c */
int kr_secrets_subst_commands(struct kr_secrets_parser *p, struct kr_buf *out,
	const char *v, size_t n, const char *key, size_t pos);

/* secrets.c */
void kr_secrets_wipe(void *p, size_t n);
void kr_secrets_buf_wipe_release(struct kr_buf *b);

#endif
