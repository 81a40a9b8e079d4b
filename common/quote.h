/*
 * The one shell-quoting function. Every value that reaches a remote shell
 * goes through kr_shell_quote: it yields a single POSIX sh word that the
 * shell turns back into exactly the input bytes, whatever they are.
 */
#ifndef KR_COMMON_QUOTE_H
#define KR_COMMON_QUOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

/* Append s as one single-quoted sh word ('it'\''s'). */
int kr_shell_quote(struct kr_buf *out, const char *s);
/* Append " " then the quoted word: the usual way to build a command line. */
int kr_shell_arg(struct kr_buf *out, const char *s);

/*
 * Kamal's way of putting a clear env value on the command line
 * (Kamal::Utils.escape_shell_value, Kamal 2.12): each run of ASCII bytes
 * becomes a double-quoted word of Ruby's String#dump with every backtick
 * escaped and every `$` escaped unless it starts `${...}` (a `}` later in
 * the same run); runs of bytes >= 0x80 are appended as they are. The remote
 * shell thus expands `${VAR}` and nothing else: no command substitution, no
 * `$VAR`, no backticks. Appends the text only (no leading space).
 */
int kr_shell_kamal_value(struct kr_buf *out, const char *s);

/*
 * What a container gets from kr_shell_kamal_value(s) after the shell has
 * read it (the double quotes removed, \\ \" \$ \` unescaped): the literal
 * "\n" for a newline, "\#{" for "#{", and each `${...}` left as it is
 * between the bytes KR_KAMAL_EXP_OPEN and KR_KAMAL_EXP_CLOSE (the host
 * expands it; no other control byte can appear in this text).
 */
#define KR_KAMAL_EXP_OPEN '\001'
#define KR_KAMAL_EXP_CLOSE '\002'
int kr_kamal_value_template(struct kr_buf *out, const char *s);
/* The template for people: the marks dropped ("${HOME}/x"). */
int kr_kamal_template_text(struct kr_buf *out, const char *tmpl);
/* Does a container's value match the template (a `${...}` matches any text)? */
bool kr_kamal_template_match(const char *tmpl, const char *value);
/*
 * Kamal passes a blank value (ActiveSupport's blank?: empty, or only
 * whitespace, Unicode spaces included) as a bare `--env KEY`: the container
 * gets no KEY=... from the configuration.
 */
bool kr_kamal_blank(const char *s);

/* Ruby's String#dump of n ASCII bytes, without the surrounding quotes. */
int kr_ruby_dump_ascii(struct kr_buf *out, const char *s, size_t n);

#endif
