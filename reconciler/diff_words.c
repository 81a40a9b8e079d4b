/*
 * The diff's reasons in words: short versions, ages ("exited 2 minutes
 * ago"), drift phrases, and joining phrases into a change's reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconciler/diff_int.h"

void
kr_diff_short_version(char *out, size_t outlen, const char *version)
{
	size_t n, i;
	bool hex = true;

	if (!outlen)
		return;
	if (!version)
		version = "(none)";
	n = strlen(version);
	for (i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", version[i]))
			hex = false;
	if (hex && n > 12)
		n = 7;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, version, n);
	out[n] = '\0';
}

static void
put_age(struct kr_buf *b, time_t now, time_t then)
{
	long long s;

	if (!now || !then || now < then)
		return;
	s = (long long)(now - then);
	if (s < 60)
		kr_buf_printf(b, " %lld second%s ago", s, s == 1 ? "" : "s");
	else if (s < 3600)
		kr_buf_printf(b, " %lld minute%s ago", s / 60,
			s / 60 == 1 ? "" : "s");
	else if (s < 86400)
		kr_buf_printf(b, " %lld hour%s ago", s / 3600,
			s / 3600 == 1 ? "" : "s");
	else
		kr_buf_printf(b, " %lld day%s ago", s / 86400,
			s / 86400 == 1 ? "" : "s");
}

/* "container exited 2 minutes ago (drift)" and friends. */
void
kr_diff_put_drift(struct kr_buf *b, const struct dctx *dc,
	const struct kr_obs_container *oc)
{
	const char *st = oc->state ? oc->state : "unknown";

	if (strcmp(st, "exited") == 0) {
		kr_buf_puts(b, "container exited");
		put_age(b, dc->opts->now, oc->finished);
	} else if (strcmp(st, "created") == 0) {
		kr_buf_puts(b, "container was created but never started");
	} else {
		kr_buf_printf(b, "container is %s", st);
	}
	kr_buf_puts(b, " (drift)");
}

void
kr_diff_join_reason(struct kr_buf *b, const struct kr_strvec *phrases)
{
	size_t i;

	for (i = 0; i < phrases->n; i++) {
		if (b->len)
			kr_buf_puts(b, "; ");
		kr_buf_puts(b, phrases->v[i]);
	}
}

void
kr_diff_set_reason_buf(struct kr_change *c, struct kr_buf *b)
{
	free(c->reason);
	c->reason = b->len ? kr_buf_detach(b, NULL) : NULL;
	kr_buf_release(b);
}

void
kr_diff_put_key_list(struct kr_buf *b, const struct kr_strvec *keys)
{
	size_t i;

	for (i = 0; i < keys->n; i++)
		kr_buf_printf(b, "%s%s", i ? ", " : "", keys->v[i]);
}
