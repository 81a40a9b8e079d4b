/*
 * libFuzzer target for the apply script's marker parser
 * (kr_apply_script_parse, reconciler/apply_parse.c), which reads what a
 * host printed back into step results, and for the masking of secret
 * values in those outputs (kr_apply_mask, reconciler/apply_mask.c). The
 * script has four steps and the nonce "n0nce". Checks: every step's result
 * is one of the three, an ok step exited 0, no step's output holds the
 * begin marker line of a step, and after masking no secret value of 4 bytes or
 * more is left in an output.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "reconciler/apply.h"
#include "reconciler/apply_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const secrets[] = { "postgres://u:pa55word@h/db", "pa55word",
	"n0nce", "web", NULL };

/* Does out hold a line that begins a step (a valid index)? */
static bool
holds_begin(const char *out, size_t nsteps)
{
	const char *ln = out;

	while (ln && *ln) {
		if (strncmp(ln, "@@KRA-n0nce begin ", 18) == 0) {
			/* the number on this line only, as the parser reads */
			size_t n = strcspn(ln + 18, "\n");
			char num[48], *end;
			long i;

			n = n < sizeof(num) - 1 ? n : sizeof(num) - 1;
			memcpy(num, ln + 18, n);
			num[n] = '\0';
			i = strtol(num, &end, 10);
			if (end != num && i >= 0 && (size_t)i < nsteps)
				return true;
		}
		ln = strchr(ln, '\n');
		if (ln)
			ln++;
	}
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kr_apply_script s;
	struct kr_strvec sec = { 0 };
	size_t i, k;

	memset(&s, 0, sizeof(s));
	memcpy(s.nonce, "n0nce", 6);
	for (i = 0; i < 4; i++)
		kr_apply_step_add(&s, i, "h/app/web", "replace");
	for (i = 0; secrets[i]; i++)
		kr_strvec_push(&sec, secrets[i]); /* longest first */
	kr_apply_script_parse(&s, (const char *)data, size);
	for (i = 0; i < s.nsteps; i++) {
		struct kr_apply_step *st = &s.steps[i];

		if (st->result != KR_STEP_NOT_RUN && st->result != KR_STEP_OK &&
			st->result != KR_STEP_FAILED)
			abort();
		if (st->result == KR_STEP_OK && st->status != 0)
			abort();
		if (st->result == KR_STEP_NOT_RUN && st->output)
			abort();
		if (holds_begin(st->output, s.nsteps))
			abort();
		kr_apply_mask(&sec, &st->output);
		for (k = 0; st->output && secrets[k]; k++)
			if (strlen(secrets[k]) >= 4 &&
				strstr(st->output, secrets[k]))
				abort();
	}
	kr_strvec_release(&sec);
	kr_apply_script_release(&s);
	return 0;
}
