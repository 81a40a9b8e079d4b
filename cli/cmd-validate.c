/*
 * kreconcile validate: load deploy.yml (and the destination file), the
 * secrets, and resolve the per-host model; print a one-line summary, or every
 * problem as FILE:LINE:COLUMN: message, sorted. --skip-secrets checks
 * everything but the secrets (for pull-request checks without them).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/run.h"
#include "common/buf.h"
#include "common/error.h"

static void
list(struct kr_buf *b, const char *what, const char *plural,
	const struct kr_strvec *v)
{
	size_t i;

	kr_buf_printf(b, "%zu %s", v->n, v->n == 1 ? what : plural);
	if (!v->n)
		return;
	kr_buf_puts(b, " (");
	for (i = 0; i < v->n; i++)
		kr_buf_printf(b, "%s%s", i ? ", " : "", v->v[i]);
	kr_buf_putc(b, ')');
}

static int
cmd_validate_exec(const struct kr_globals *g, int argc, char **argv)
{
	struct kr_diags diags = { 0 };
	struct kr_loaded l;
	struct kr_strvec roles = { 0 }, hosts = { 0 }, accs = { 0 };
	struct kr_buf line = KR_BUF_INIT;
	unsigned flags = KR_LOAD_ANY_VERSION;
	const struct kr_desired *d;
	int i, rc;
	size_t j;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--skip-secrets") == 0)
			flags |= KR_LOAD_SKIP_SECRETS;
		else
			return kr_cli_usage(&kr_cmd_validate_entry,
				"unknown option '%s'", argv[i]);
	}
	rc = kr_cli_load_report(&l, &diags, g, flags);
	if (rc) {
		kr_diags_release(&diags);
		kr_loaded_release(&l);
		return KR_EXIT_ERROR;
	}
	d = l.desired;
	for (j = 0; j < l.config->nroles; j++)
		kr_strvec_push(&roles, l.config->roles[j].name);
	for (j = 0; j < d->nhosts; j++)
		kr_strvec_push(&hosts, d->hosts[j].name);
	for (j = 0; j < l.config->naccessories; j++)
		kr_strvec_push(&accs, l.config->accessories[j].name);
	kr_buf_printf(&line, "%s%s%s: valid; ", d->service,
		d->destination ? " -d " : "",
		d->destination ? d->destination : "");
	list(&line, "role", "roles", &roles);
	kr_buf_puts(&line, ", ");
	list(&line, "host", "hosts", &hosts);
	kr_buf_puts(&line, ", ");
	list(&line, "accessory", "accessories", &accs);
	if (flags & KR_LOAD_SKIP_SECRETS)
		kr_buf_puts(&line, "; secrets not checked");
	puts(line.ptr);
	kr_buf_release(&line);
	kr_strvec_release(&roles);
	kr_strvec_release(&hosts);
	kr_strvec_release(&accs);
	kr_diags_release(&diags);
	kr_loaded_release(&l);
	return KR_EXIT_OK;
}

const struct kr_cmd_entry kr_cmd_validate_entry = {
	.name = "validate",
	.summary = "check deploy.yml and the secrets, print a summary or every "
		   "error",
	.usage = "kreconcile validate [--skip-secrets]\n"
		 "  --skip-secrets   check everything but the secrets files "
		 "(names\n"
		 "                   referenced but not defined are then no "
		 "error)",
	.complete = "--skip-secrets",
	.exec = cmd_validate_exec,
};
