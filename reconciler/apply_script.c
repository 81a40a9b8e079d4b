/*
 * One host's apply script (see apply.h): the planned changes of the host
 * as POSIX sh, one framed `set -e` subshell per action, secrets read from
 * stdin with `dd bs=1 count=N` (never over-reads, so the next action finds
 * its own bytes). This file holds the script's prelude and puts the steps
 * in order (app images pulled after the accessories, before the apps);
 * the steps themselves are built in apply_step*.c (apply_int.h), and the
 * markers they print are read back in apply_parse.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "reconciler/apply_int.h"

static void
random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[32];
	size_t i;

	if (nbytes > sizeof(rnd))
		nbytes = sizeof(rnd);
	if (getrandom(rnd, nbytes, 0) != (ssize_t)nbytes) {
		unsigned long v = (unsigned long)getpid() ^
				  (unsigned long)time(NULL) ^
				  (unsigned long)(size_t)out;

		for (i = 0; i < nbytes; i++, v = v * 6364136223846793005UL + 1)
			rnd[i] = (unsigned char)(v >> 33);
	}
	for (i = 0; i < nbytes; i++) {
		out[2 * i] = hex[rnd[i] >> 4];
		out[2 * i + 1] = hex[rnd[i] & 15];
	}
	out[2 * nbytes] = '\0';
}

/* The script's fixed prelude: helpers every action may use. */
static const char prelude[] =
	"kr_stop=0\n"
	/* exactly $1 bytes of stdin: dd reads one byte per read(2) */
	"kr_in() { dd bs=1 count=\"$1\" 2>/dev/null; }\n"
	/* kr_put PATH BYTES MODE: stdin bytes to PATH, whole or not at all */
	"kr_put() {\n"
	"\tkr_t=\"$1.kr-tmp-$kr_sfx\"\n"
	"\tif ( umask 077 && kr_in \"$2\" >\"$kr_t\" ) &&\n"
	"\t    [ \"$(wc -c <\"$kr_t\")\" -eq \"$2\" ] &&\n"
	"\t    chmod \"$3\" \"$kr_t\" && mv -f \"$kr_t\" \"$1\"; then\n"
	"\t\treturn 0\n"
	"\tfi\n"
	"\trm -f \"$kr_t\"\n"
	"\techo \"cannot write $1\"\n"
	"\treturn 1\n"
	"}\n"
	/* Kamal's health status: health when the image has a check, else state
	 */
	"kr_status() {\n"
	"\tdocker inspect --format '{{if "
	".State.Health}}{{.State.Health.Status}}"
	"{{else}}{{.State.Status}}{{end}}' \"$1\" 2>/dev/null || echo missing\n"
	"}\n"
	/* kr_wait ID TIMEOUT DELAY: healthy, or running still after DELAY */
	"kr_wait() {\n"
	"\tkr_end=$(( $(date +%s) + $2 ))\n"
	"\twhile :; do\n"
	"\t\tkr_st=$(kr_status \"$1\")\n"
	"\t\tif [ \"$kr_st\" = running ] && [ \"$3\" -gt 0 ]; then\n"
	"\t\t\tsleep \"$3\"\n"
	"\t\t\tkr_st=$(kr_status \"$1\")\n"
	"\t\tfi\n"
	"\t\tcase $kr_st in healthy|running) return 0 ;; esac\n"
	"\t\tif [ \"$(date +%s)\" -ge \"$kr_end\" ]; then\n"
	"\t\t\techo \"container not ready after $2 seconds ($kr_st)\"\n"
	"\t\t\treturn 1\n"
	"\t\tfi\n"
	"\t\tsleep 1\n"
	"\tdone\n"
	"}\n"
	/* kr_stopc TIMEOUT ID...: stop those that still exist */
	"kr_stopc() {\n"
	"\tkr_to=$1\n"
	"\tshift\n"
	"\tfor kr_c in \"$@\"; do\n"
	"\t\tif docker container inspect \"$kr_c\" >/dev/null 2>&1; then\n"
	"\t\t\tif [ \"$kr_to\" -gt 0 ]; then docker stop -t \"$kr_to\" "
	"\"$kr_c\" >/dev/null; else docker stop \"$kr_c\" >/dev/null; fi\n"
	"\t\tfi\n"
	"\tdone\n"
	"}\n";

/*
 * Size the stdin buffer for every secret byte up front, so it never grows
 * by realloc (which would leave copies of secrets in freed memory).
 */
static void
reserve_input(struct kr_apply_script *s, const struct kr_desired *d,
	const struct kr_plan *p, const struct kr_plan_host *ph)
{
	size_t i, j, total = 0;
	char *zeros;

	for (i = ph->first; i < ph->first + ph->count && i < p->nchanges; i++) {
		const struct kr_change *c = &p->changes[i];

		if (c->status != KR_STATUS_PLANNED)
			continue;
		if (c->type == KR_CHANGE_LOGIN && d->registry.password)
			total += strlen(d->registry.password);
		if (c->type == KR_CHANGE_ENV && c->env_file &&
			c->env_file->content)
			total += strlen(c->env_file->content);
		if (c->type == KR_CHANGE_APP && c->app &&
			c->app->proxy_config.tls_cert_pem &&
			c->app->proxy_config.tls_key_pem)
			total += strlen(c->app->proxy_config.tls_cert_pem) +
				 strlen(c->app->proxy_config.tls_key_pem);
		if (c->type == KR_CHANGE_ACCESSORY && c->accessory)
			for (j = 0; j < c->accessory->nfiles; j++)
				if (c->accessory->files[j].content)
					total += strlen(
						c->accessory->files[j].content);
	}
	if (!total)
		return;
	zeros = kr_xcalloc(1, total);
	kr_buf_put(&s->input, zeros, total);
	kr_buf_truncate(&s->input, 0);
	free(zeros);
}

int
kr_apply_script_build(struct kr_apply_script *out, const struct kr_desired *d,
	const struct kr_plan *p, const struct kr_plan_host *ph,
	const struct kr_apply_script_opts *o)
{
	struct kr_apply_sctx x = { .s = out, .d = d, .o = o };
	struct kr_strvec pulled = { 0 };
	size_t i;
	int err = 0;

	memset(out, 0, sizeof(*out));
	kr_buf_init(&out->text, 0);
	kr_buf_init(&out->input, 0);
	out->host = kr_xstrdup(ph->name);
	reserve_input(out, d, p, ph);
	if (o && o->nonce)
		snprintf(out->nonce, sizeof(out->nonce), "%s", o->nonce);
	else
		random_hex(out->nonce, 16);
	if (o && o->suffix)
		snprintf(x.suffix, sizeof(x.suffix), "%s", o->suffix);
	else
		random_hex(x.suffix, 8);
	x.now = o && o->now ? o->now : time(NULL);
	x.audit_path = kr_apply_audit_path(d->service, d->destination);

	kr_buf_printf(&out->text, "# kreconcile apply on %s\n", ph->name);
	kr_buf_printf(&out->text, "kr_m='@@KRA-%s'\nkr_sfx='%s'\n", out->nonce,
		x.suffix);
	kr_buf_puts(&out->text, prelude);
	kr_buf_puts(&out->text, "mkdir -p .kamal\n");

	for (i = ph->first; i < ph->first + ph->count && i < p->nchanges; i++) {
		const struct kr_change *c = &p->changes[i];

		if (c->status != KR_STATUS_PLANNED ||
			c->action == KR_ACTION_NOOP)
			continue;
		/* app images are pulled after the accessories, before apps */
		if (c->type == KR_CHANGE_APP && !pulled.n) {
			size_t j;

			for (j = i; j < ph->first + ph->count; j++) {
				const struct kr_change *a = &p->changes[j];

				if (a->type != KR_CHANGE_APP ||
					a->status != KR_STATUS_PLANNED ||
					(a->action != KR_ACTION_CREATE &&
						a->action !=
							KR_ACTION_REPLACE) ||
					!a->image ||
					kr_strvec_contains(&pulled, a->image))
					continue;
				kr_strvec_push(&pulled, a->image);
				kr_apply_step_add(out, j, a->address, "pull");
				kr_apply_step_open(&x, a->address);
				kr_apply_step_pull(
					&x, a->image, a->image_digest);
				kr_apply_step_close(&x, false);
			}
			kr_strvec_push(&pulled, ""); /* done */
		}
		switch (c->type) {
		case KR_CHANGE_NETWORK:
			err = kr_apply_step_network(&x, c, i);
			break;
		case KR_CHANGE_LOGIN:
			err = kr_apply_step_login(&x, c, i);
			break;
		case KR_CHANGE_ENV:
			err = kr_apply_step_env(&x, c, i);
			break;
		case KR_CHANGE_ACCESSORY:
			err = kr_apply_step_accessory(&x, c, i);
			break;
		case KR_CHANGE_APP:
			err = kr_apply_step_app(&x, c, i);
			break;
		case KR_CHANGE_PROXY:
			err = kr_apply_step_proxy(&x, c, i);
			break;
		case KR_CHANGE_ROUTE:
			err = kr_apply_step_route(&x, c, i);
			break;
		}
		if (err < 0)
			break;
	}
	/*
	 * The previous env files kept for a failed health gate are of no use
	 * once the script ends (restored or superseded): nothing of this run
	 * stays on the host (DESIGN.md: records live in SQLite, not there).
	 */
	if (!err && out->nsteps)
		kr_buf_puts(&out->text,
			"\nrm -f .kamal/kreconcile-prev/\"$kr_sfx\"-* "
			"2>/dev/null\nrmdir .kamal/kreconcile-prev "
			"2>/dev/null\n"
			"exit 0\n");
	if (err < 0 || !out->nsteps)
		kr_buf_reset(&out->text); /* nothing to run: no script */
	kr_strvec_release(&pulled);
	free(x.audit_path);
	return err;
}

void
kr_apply_script_release(struct kr_apply_script *s)
{
	size_t i;

	if (!s)
		return;
	free(s->host);
	kr_buf_release(&s->text);
	if (s->input.alloc)
		memset(s->input.ptr, 0, s->input.alloc);
	kr_buf_release(&s->input);
	for (i = 0; i < s->nsteps; i++) {
		free(s->steps[i].address);
		free(s->steps[i].action);
		free(s->steps[i].output);
	}
	free(s->steps);
	memset(s, 0, sizeof(*s));
}
