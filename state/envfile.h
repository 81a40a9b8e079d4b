/*
 * Env file bytes exactly as Kamal writes them: one KEY=value line per secret
 * key, the value escaped like Ruby's String#dump without its quotes and with
 * \" and \# turned back into " and #. A file with no keys is "\n".
 */
#ifndef KR_STATE_ENVFILE_H
#define KR_STATE_ENVFILE_H

#include "common/buf.h"
#include "common/vec.h"

/* Append the escaped form of value (no surrounding quotes). */
int kr_envfile_escape(struct kr_buf *out, const char *value);
/* Render the whole file; the result holds secrets. */
int kr_envfile_render(struct kr_buf *out, const struct kr_kvlist *secrets);

#endif
