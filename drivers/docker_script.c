/*
 * The one-exec observe script (see docker.h): POSIX sh that prints, framed
 * by "@@KR-<nonce> " marker lines, docker's version, the networks, `docker
 * inspect` of the service's containers, their images' repo digests, the
 * hash, mode and key names (never values) of env files and accessory
 * files, the accessories' directories, kamal-proxy's saved routes (when
 * it runs) and the deploy lock. Every value
 * from the configuration reaches the script through kr_shell_quote.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/quote.h"
#include "drivers/docker.h"
#include "drivers/docker_int.h"

#define DEFAULT_PROXY "kamal-proxy"
/* Where kamal-proxy (running as its user) saves its state: the
 * kamal-proxy-config volume of Kamal's boot command. */
#define KR_PROXY_STATE_FILE \
	"/home/kamal-proxy/.config/kamal-proxy/kamal-proxy.state"

/* The fixed part of the script: helpers that print one frame per item. */
static const char script_helpers[] =
	"m() { printf '%s %s\\n' \"$M\" \"$*\"; }\n"
	/* kf PATH KIND: mode, hash, mtime; for env files the key names (never
	 * values). */
	"kf() {\n"
	"\tif [ -r \"$1\" ]; then s=$(sha256sum < \"$1\" | cut -c1-64); else "
	"s=; fi\n"
	"\tmd=$(stat -c %a \"$1\" 2>/dev/null) || md=\n"
	"\tmt=$(stat -c %Y \"$1\" 2>/dev/null) || mt=\n"
	"\tm file \"${md:--}\" \"${s:--}\" \"$2\" \"${mt:--}\" \"$1\"\n"
	"\tif [ \"$2\" = env ] && [ -r \"$1\" ]; then\n"
	"\t\tsed -n 's/^\\([A-Za-z_][A-Za-z0-9_]*\\)=.*/\\1/p' \"$1\"\n"
	"\tfi\n"
	"}\n"
	"kd() { md=$(stat -c %a \"$1\" 2>/dev/null) || md=; m dir \"${md:--}\" "
	"\"$1\"; }\n"
	"kw() { if [ -d \"$1\" ]; then kd \"$1\"; elif [ -f \"$1\" ]; then kf "
	"\"$1\" file; fi; }\n"
	"m begin 1\n"
	"if command -v docker >/dev/null 2>&1; then\n"
	"\tv=$(docker version --format '{{.Server.Version}}' 2>&1 </dev/null); "
	"rc=$?\n"
	"else\n"
	"\tv='docker: command not found'; rc=127\n"
	"fi\n"
	"m docker \"$rc\"\n"
	"printf '%s\\n' \"$v\"\n";

static int
put_quoted_list(struct kr_buf *b, const struct kr_strvec *sv)
{
	size_t i;
	int err = 0;

	for (i = 0; sv && i < sv->n && !err; i++)
		err = kr_shell_arg(b, sv->v[i]);
	return err;
}

/* "a/b/" -> "a/b", "./a" -> "a": the form find prints. */
static char *
norm_path(const char *p)
{
	size_t n;

	while (p[0] == '.' && p[1] == '/')
		p += 2;
	n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		n--;
	return kr_xstrndup(p, n);
}

/* NAME='value' (a shell variable set to a quoted value), then rest. */
static int
put_var(struct kr_buf *b, const char *name, const char *value, const char *rest)
{
	int err;

	if ((err = kr_buf_printf(b, "%s=", name)) < 0 ||
		(err = kr_shell_quote(b, value)) < 0)
		return err;
	return kr_buf_puts(b, rest);
}

static int
script_accessory(struct kr_buf *b, const struct kr_docker_accessory *a)
{
	struct kr_strvec inside = { 0 }, outside = { 0 };
	size_t i, rootlen = strlen(a->container);
	int err = 0;

	for (i = 0; a->data_dirs && i < a->data_dirs->n; i++) {
		char *d = norm_path(a->data_dirs->v[i]);

		if (strncmp(d, a->container, rootlen) == 0 && d[rootlen] == '/')
			kr_strvec_push_owned(&inside, d);
		else
			kr_strvec_push_owned(&outside, d);
	}
	/* Walk <container>/ but only list (never descend into) data dirs. */
	err = put_var(
		b, "R", a->container, "\nif [ -e \"$R\" ]; then find \"$R\"");
	if (!err && inside.n) {
		err = kr_buf_puts(b, " \\(");
		for (i = 0; i < inside.n && !err; i++) {
			err = kr_buf_puts(b, i ? " -o -path" : " -path");
			if (!err)
				err = kr_shell_arg(b, inside.v[i]);
		}
		if (!err)
			err = kr_buf_puts(b, " \\) -prune -print -o -print");
	}
	if (!err)
		err = kr_buf_puts(b, " 2>/dev/null | sort | while IFS= read -r "
				     "p; do kw \"$p\"; done; fi\n");
	for (i = 0; i < outside.n && !err; i++)
		err = put_var(b, "D", outside.v[i],
			"; if [ -e \"$D\" ]; then kd \"$D\"; fi\n");
	kr_strvec_release(&inside);
	kr_strvec_release(&outside);
	return err;
}

int
kr_docker_observe_script(struct kr_buf *out,
	const struct kr_docker_scope *scope, const char *nonce)
{
	struct kr_buf names = KR_BUF_INIT;
	char *env_dir = NULL, *lock_dir = NULL, *marker = NULL;
	size_t i;
	int err;

	if (!scope->service || !*scope->service) {
		kr_error_set(KR_EINVAL, "observe needs a service name");
		return KR_EINVAL;
	}
	/* Names matched by container name or service label: " a b c ". */
	kr_buf_printf(&names, " %s ",
		scope->proxy_container ? scope->proxy_container :
					 DEFAULT_PROXY);
	for (i = 0; i < scope->naccessories; i++)
		kr_buf_printf(&names, "%s ", scope->accessories[i].container);
	env_dir = kr_docker_env_dir(scope->service, scope->destination);
	lock_dir = kr_docker_lock_dir(scope->service, scope->destination);
	marker = kr_xasprintf(KR_DOCKER_MARKER "%s", nonce);

	if ((err = put_var(out, "M", marker, "\n")) < 0 ||
		(err = kr_buf_puts(out, script_helpers)) < 0)
		goto out;
	/* Containers: by service label, or by name/label for accessories and
	 * proxy. */
	if ((err = kr_buf_puts(out, "if [ \"$rc\" = 0 ]; then\n"
				    "\tm networks\n"
				    "\tdocker network ls --format '{{.Name}}' "
				    "</dev/null 2>&1\n"
				    "\tids=$(docker ps -a --no-trunc --format "
				    "'{{.ID}}\t{{.Names}}\t{{.Label "
				    "\"service\"}}' </dev/null | KR_SVC=")) <
			0 ||
		(err = kr_shell_quote(out, scope->service)) < 0 ||
		(err = kr_buf_puts(out, " KR_NAMES=")) < 0 ||
		(err = kr_shell_quote(out, names.ptr)) < 0 ||
		(err = kr_buf_puts(out,
			 " awk -F'\t' '$3 == ENVIRON[\"KR_SVC\"] || "
			 "index(ENVIRON[\"KR_NAMES\"], \" \" $2 \" \") ||"
			 " ($3 != \"\" && index(ENVIRON[\"KR_NAMES\"], \" \" "
			 "$3 \" \")) { print $1 }')\n"
			 "\tm containers\n"
			 "\tif [ -n \"$ids\" ]; then\n"
			 "\t\tj=$(docker inspect --type container $ids "
			 "2>/dev/null </dev/null)\n"
			 "\t\tprintf '%s\\n' \"$j\"\n"
			 "\t\timgs=$(printf '%s\\n' \"$j\" | sed -n 's/^ "
			 "*\"Image\": \"\\(sha256:[0-9a-f]*\\)\",*$/\\1/p' | "
			 "sort -u)\n"
			 "\t\tif [ -n \"$imgs\" ]; then\n"
			 "\t\t\tm images\n"
			 "\t\t\tdocker image inspect --format '{{.Id}} {{json "
			 ".RepoDigests}}' $imgs 2>/dev/null </dev/null\n"
			 "\t\tfi\n"
			 "\tfi\n"
			 "fi\n")) < 0)
		goto out;
	/* kamal-proxy's routes: its state file, read inside the running proxy
	 * container (the kamal-proxy-config volume Kamal mounts there). */
	if ((err = put_var(out, "P",
		     scope->proxy_container ? scope->proxy_container :
					      DEFAULT_PROXY,
		     "\nif [ \"$rc\" = 0 ] && [ \"$(docker container inspect "
		     "-f "
		     "'{{.State.Running}}' \"$P\" 2>/dev/null </dev/null)\" = "
		     "true ]; then\n"
		     "\tpst=$(docker exec \"$P\" sh -c 'f=$1; [ ! -e \"$f\" ] "
		     "|| "
		     "cat \"$f\"' sh " KR_PROXY_STATE_FILE
		     " 2>&1 </dev/null); prc=$?\n"
		     "\tm routes \"$prc\"\n\tprintf '%s\\n' \"$pst\"\nfi\n")) <
		0)
		goto out;
	/* Env files: every file under the env directory, then any named. */
	if ((err = put_var(out, "E", env_dir,
		     "\nif [ -d \"$E\" ]; then find \"$E\" "
		     "-type f 2>/dev/null | sort | "
		     "while IFS= read -r f; do kf \"$f\" "
		     "env; done; fi\n")) < 0)
		goto out;
	if (scope->env_files && scope->env_files->n) {
		if ((err = kr_buf_puts(out, "for f in")) < 0 ||
			(err = put_quoted_list(out, scope->env_files)) < 0 ||
			(err = kr_buf_puts(out, "; do if [ -f \"$f\" ]; then "
						"kf \"$f\" env; fi; done\n")) <
				0)
			goto out;
	}
	for (i = 0; i < scope->naccessories; i++)
		if ((err = script_accessory(out, &scope->accessories[i])) < 0)
			goto out;
	if ((err = put_var(out, "L", lock_dir,
		     "\nif [ -d \"$L\" ]; then m lock held; "
		     "cat \"$L/details\" 2>/dev/null; echo;"
		     " else m lock none; fi\n"
		     "m end\n")) < 0)
		goto out;
	err = 0;
out:
	kr_buf_release(&names);
	free(env_dir);
	free(lock_dir);
	free(marker);
	return err;
}
