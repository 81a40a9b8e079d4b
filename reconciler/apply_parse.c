/*
 * Reading an apply script's output back (kr_apply_script_parse, apply.h):
 * each step's result and output from the begin and end markers it
 * printed, which carry the script's nonce so no other output can forge
 * them. A step begun and never ended (the exec died) is failed.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "reconciler/apply.h"

/*
 * Does line (len n) start with "<marker> <word> "? Then the rest of the
 * line, NUL-terminated, goes to buf (cut to its size: the numbers that
 * follow are short), so nothing reads past the line; NULL otherwise.
 */
static const char *
marker(const char *ln, size_t n, const char *m, size_t mlen, const char *word,
	char *buf, size_t bufsize)
{
	size_t wl = strlen(word), skip = mlen + 1 + wl + 1, rest;

	if (n < skip || memcmp(ln, m, mlen) != 0 || ln[mlen] != ' ' ||
		memcmp(ln + mlen + 1, word, wl) != 0 ||
		ln[mlen + 1 + wl] != ' ')
		return NULL;
	rest = n - skip < bufsize - 1 ? n - skip : bufsize - 1;
	memcpy(buf, ln + skip, rest);
	buf[rest] = '\0';
	return buf;
}

void
kr_apply_script_parse(struct kr_apply_script *s, const char *text, size_t len)
{
	char m[48];
	size_t mlen, pos = 0, out_start = 0;
	long cur = -1;

	mlen = (size_t)snprintf(m, sizeof(m), "@@KRA-%s", s->nonce);
	while (pos < len) {
		const char *ln = text + pos, *nl = memchr(ln, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - ln) : len - pos;
		size_t next = pos + n + (nl ? 1 : 0);
		const char *rest;
		char *end, num[48];

		if ((rest = marker(
			     ln, n, m, mlen, "begin", num, sizeof(num)))) {
			long i = strtol(rest, &end, 10);

			if (end != rest && i >= 0 && (size_t)i < s->nsteps) {
				cur = i;
				out_start = next;
			}
		} else if ((rest = marker(
				    ln, n, m, mlen, "end", num, sizeof(num))) &&
			   cur >= 0) {
			long i = strtol(rest, &end, 10);
			struct kr_apply_step *st;
			size_t olen;

			if (end != rest && i == cur) {
				st = &s->steps[cur];
				st->status = (int)strtol(end, NULL, 10);
				st->result = st->status == 0 ? KR_STEP_OK :
							       KR_STEP_FAILED;
				olen = pos > out_start ? pos - out_start : 0;
				/* the newline printed before the marker, and
				 * the output's own trailing newlines */
				while (olen &&
					text[out_start + olen - 1] == '\n')
					olen--;
				free(st->output);
				st->output =
					olen ? kr_xstrndup(
						       text + out_start, olen) :
					       NULL;
				cur = -1;
			}
		}
		pos = next;
	}
	/* a step begun but never ended (the exec died): failed */
	if (cur >= 0 && s->steps[cur].result == KR_STEP_NOT_RUN) {
		s->steps[cur].result = KR_STEP_FAILED;
		s->steps[cur].status = -1;
		if (len > out_start)
			s->steps[cur].output =
				kr_xstrndup(text + out_start, len - out_start);
	}
}
