/*
 * kreconcile config: print the resolved per-host desired state, as text or
 * (--json) as JSON with a format_version. Secret values never appear: env
 * file keys and the registry password show as "(sensitive)", contents only
 * by their sha256.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/run.h"
#include "common/error.h"

static void
print_kv(const char *label, const struct kr_kvlist *kv)
{
	size_t i;

	if (!kv->n)
		return;
	printf("    %s:\n", label);
	for (i = 0; i < kv->n; i++)
		printf("      %s=%s\n", kv->v[i].key,
			kv->v[i].value ? kv->v[i].value : "");
}

static void
print_sv(const char *label, const struct kr_strvec *sv)
{
	size_t i;

	if (!sv->n)
		return;
	printf("    %s:", label);
	for (i = 0; i < sv->n; i++)
		printf(" %s", sv->v[i]);
	putchar('\n');
}

static void
print_env_file(const struct kr_env_file *ef)
{
	size_t i;

	printf("    env file: %s", ef->path);
	if (ef->content)
		printf(" (sha256 %s)", ef->sha256);
	putchar('\n');
	for (i = 0; i < ef->secrets.n; i++)
		printf("      %s=%s\n", ef->secrets.v[i].key,
			ef->secrets.v[i].value ? KR_SENSITIVE : "(not loaded)");
}

static void
print_logging(const struct kr_logging *l)
{
	size_t i;

	printf("    logging:");
	if (l->driver)
		printf(" --log-driver %s", l->driver);
	for (i = 0; i < l->options.n; i++)
		printf(" --log-opt %s=%s", l->options.v[i].key,
			l->options.v[i].value ? l->options.v[i].value : "");
	putchar('\n');
}

static void
print_app(const struct kr_app *a)
{
	printf("  app %s (role %s)\n", a->name, a->role);
	printf("    image: %s\n", a->image);
	print_kv("labels", &a->labels);
	print_kv("env", &a->env);
	print_env_file(&a->env_file);
	print_sv("volumes", &a->volumes);
	print_sv("options", &a->args);
	if (a->cmd)
		printf("    cmd: %s\n", a->cmd);
	print_logging(&a->logging);
	printf("    network: %s, restart: %s", a->network, a->restart);
	if (a->stop_timeout)
		printf(", stop timeout: %ds", a->stop_timeout);
	putchar('\n');
	if (a->proxy) {
		const struct kr_app_proxy *p = &a->proxy_config;
		size_t i;

		printf("    proxy: app port %d", p->app_port);
		for (i = 0; i < p->hosts.n; i++)
			printf("%s%s", i ? ", " : ", hosts ", p->hosts.v[i]);
		if (p->ssl)
			printf(", ssl");
		if (p->healthcheck_path)
			printf(", health check %s", p->healthcheck_path);
		putchar('\n');
	} else {
		printf("    proxy: no\n");
	}
}

static void
print_accessory(const struct kr_accessory *acc)
{
	size_t i;

	printf("  accessory %s (container %s)\n", acc->name, acc->container);
	printf("    image: %s\n", acc->image ? acc->image : "");
	print_sv("ports", &acc->ports);
	if (acc->cmd)
		printf("    cmd: %s\n", acc->cmd);
	print_kv("labels", &acc->labels);
	print_kv("env", &acc->env);
	print_env_file(&acc->env_file);
	print_sv("directories", &acc->directories);
	for (i = 0; i < acc->nfiles; i++)
		printf("    file: %s -> %s (mode %s, sha256 %s)\n",
			acc->files[i].local, acc->files[i].host_path,
			acc->files[i].mode ? acc->files[i].mode : "default",
			acc->files[i].sha256);
	print_sv("volumes", &acc->volumes);
	print_sv("options", &acc->args);
	print_logging(&acc->logging);
	printf("    network: %s, restart: %s\n", acc->network, acc->restart);
}

static void
print_text(const struct kr_desired *d)
{
	size_t i, j;

	printf("service: %s\n", d->service);
	if (d->destination)
		printf("destination: %s\n", d->destination);
	printf("version: %s (%s)\n", d->version, d->version_source);
	printf("image: %s\n", d->image);
	printf("registry: %s",
		d->registry.server ? d->registry.server : "Docker Hub");
	if (d->registry.username)
		printf(", username %s", d->registry.username);
	if (d->registry.password)
		printf(", password %s", KR_SENSITIVE);
	printf("\nprimary role: %s (lock on %s)\n", d->primary_role,
		d->lock_host ? d->lock_host : "-");
	printf("retain containers: %d, readiness delay: %ds, deploy timeout: "
	       "%ds, "
	       "drain timeout: %ds\n",
		d->retain_containers, d->readiness_delay, d->deploy_timeout,
		d->drain_timeout);
	printf("prune: %s\n", d->prune ? "yes" : "no");
	for (i = 0; i < d->nhosts; i++) {
		const struct kr_host *h = &d->hosts[i];

		printf("\nhost %s (ssh %s@%s:%d)\n", h->name, h->user, h->name,
			h->port);
		if (h->roles.n) {
			printf("  roles:");
			for (j = 0; j < h->roles.n; j++)
				printf(" %s", h->roles.v[j]);
			putchar('\n');
		}
		if (h->tags.n) {
			printf("  tags:");
			for (j = 0; j < h->tags.n; j++)
				printf(" %s", h->tags.v[j]);
			putchar('\n');
		}
		for (j = 0; j < h->napps; j++)
			print_app(&h->apps[j]);
		for (j = 0; j < h->naccessories; j++)
			print_accessory(&h->accessories[j]);
	}
}

static int
cmd_config_exec(const struct kr_globals *g, int argc, char **argv)
{
	struct kr_diags diags = { 0 };
	struct kr_loaded l;
	unsigned flags = 0;
	int i, rc = KR_EXIT_OK;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--skip-secrets") == 0)
			flags |= KR_LOAD_SKIP_SECRETS;
		else
			return kr_cli_usage(&kr_cmd_config_entry,
				"unknown option '%s'", argv[i]);
	}
	if (kr_cli_load_report(&l, &diags, g, flags) != 0) {
		rc = KR_EXIT_ERROR;
		goto out;
	}
	if (g->json) {
		json_t *j = kr_desired_to_json(l.desired); /* new reference */

		if (json_dumpf(j, stdout,
			    JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) {
			kr_cli_error("cannot write json");
			rc = KR_EXIT_ERROR;
		}
		putchar('\n');
		json_decref(j);
	} else {
		print_text(l.desired);
	}
out:
	kr_diags_release(&diags);
	kr_loaded_release(&l);
	return rc;
}

const struct kr_cmd_entry kr_cmd_config_entry = {
	.name = "config",
	.summary = "print the resolved per-host desired state",
	.usage = "kreconcile config [--json] [--skip-secrets]\n"
		 "  --json           the model as JSON (with format_version)\n"
		 "  --skip-secrets   do not read the secrets files",
	.flags = KR_CMD_JSON,
	.complete = "--skip-secrets",
	.exec = cmd_config_exec,
};
