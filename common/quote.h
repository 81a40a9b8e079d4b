/*
 * The one shell-quoting function. Every value that reaches a remote shell
 * goes through kr_shell_quote: it yields a single POSIX sh word that the
 * shell turns back into exactly the input bytes, whatever they are.
 */
#ifndef KR_COMMON_QUOTE_H
#define KR_COMMON_QUOTE_H

#include "common/buf.h"

/* Append s as one single-quoted sh word ('it'\''s'). */
int kr_shell_quote(struct kr_buf *out, const char *s);
/* Append " " then the quoted word: the usual way to build a command line. */
int kr_shell_arg(struct kr_buf *out, const char *s);

#endif
