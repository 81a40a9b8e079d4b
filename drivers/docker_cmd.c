/*
 * Docker command lines for apply (see docker_cmd.h): Kamal's `docker run`
 * for apps and accessories, login, network, pull, stop, start, rm, rename.
 * Every value is one kr_shell_quote'd word; the only unquoted text is our
 * own: option names and the "$PWD" prefix of home-relative paths, and
 * clear env values, which take Kamal's own escaping (kr_shell_kamal_value).
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/quote.h"
#include "drivers/docker_cmd.h"

int
kr_docker_cmd_words(struct kr_strvec *out, const char *cmd)
{
	struct kr_strvec words = { 0 };
	struct kr_buf w = KR_BUF_INIT;
	const char *p = cmd ? cmd : "";
	bool in_word = false;
	int err = 0;

	for (;;) {
		char c = *p;

		if (c == '\0' || c == ' ' || c == '\t' || c == '\n') {
			if (in_word) {
				kr_strvec_push(&words, w.ptr);
				kr_buf_reset(&w);
				in_word = false;
			}
			if (c == '\0')
				break;
			p++;
			continue;
		}
		in_word = true;
		if (c == '\'') {
			const char *end = strchr(p + 1, '\'');

			if (!end) {
				kr_error_set(KR_EINVAL,
					"cmd '%s': unterminated "
					"single quote",
					cmd);
				err = KR_EINVAL;
				goto out;
			}
			kr_buf_put(&w, p + 1, (size_t)(end - p - 1));
			p = end + 1;
		} else if (c == '"') {
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1] &&
					strchr("$`\"\\\n", p[1])) {
					if (p[1] != '\n')
						kr_buf_putc(&w, p[1]);
					p += 2;
					continue;
				}
				kr_buf_putc(&w, *p++);
			}
			if (*p != '"') {
				kr_error_set(KR_EINVAL,
					"cmd '%s': unterminated "
					"double quote",
					cmd);
				err = KR_EINVAL;
				goto out;
			}
			p++;
		} else if (c == '\\') {
			if (p[1] == '\n') {
				p += 2;
				in_word = w.len > 0;
				continue;
			}
			if (p[1])
				kr_buf_putc(&w, p[1]);
			p += p[1] ? 2 : 1;
		} else {
			kr_buf_putc(&w, c);
			p++;
		}
	}
	for (size_t i = 0; i < words.n; i++)
		kr_strvec_push(out, words.v[i]);
out:
	kr_strvec_release(&words);
	kr_buf_release(&w);
	return err;
}

int
kr_docker_cmd_home_path(struct kr_buf *out, const char *path)
{
	int err;

	if (strncmp(path, "$PWD/", 5) == 0)
		path += 5;
	else if (path[0] == '/')
		return kr_shell_quote(out, path);
	if ((err = kr_buf_puts(out, "\"$PWD\"/")) < 0)
		return err;
	return kr_shell_quote(out, path);
}

/* " --opt 'value'" */
static int
opt(struct kr_buf *out, const char *name, const char *value)
{
	int err;

	if ((err = kr_buf_printf(out, " %s", name)) < 0)
		return err;
	return kr_shell_arg(out, value ? value : "");
}

/* " --opt 'key=value'" */
static int
opt_kv(struct kr_buf *out, const char *name, const char *key, const char *value)
{
	char *s = kr_xasprintf("%s=%s", key, value ? value : "");
	int err = opt(out, name, s);

	kr_free_secret(s);
	return err;
}

static int
opt_kvlist(struct kr_buf *out, const char *name, const struct kr_kvlist *kv)
{
	size_t i;
	int err;

	for (i = 0; i < kv->n; i++)
		if ((err = opt_kv(out, name, kv->v[i].key, kv->v[i].value)) < 0)
			return err;
	return 0;
}

/*
 * Clear env as Kamal passes it: " --env 'KEY='\"value\"" with the value
 * in Kamal's escaping (kr_shell_kamal_value: the host's shell expands
 * ${VAR} in it), a blank value as a bare " --env 'KEY'".
 */
static int
env_args(struct kr_buf *out, const struct kr_kvlist *env)
{
	size_t i;
	int err;

	for (i = 0; i < env->n; i++) {
		const char *v = env->v[i].value;
		char *k = kr_xasprintf(
			"%s%s", env->v[i].key, kr_kamal_blank(v) ? "" : "=");

		if ((err = kr_buf_puts(out, " --env ")) == 0 &&
			(err = kr_shell_quote(out, k)) == 0 &&
			!kr_kamal_blank(v))
			err = kr_shell_kamal_value(out, v);
		free(k);
		if (err < 0)
			return err;
	}
	return 0;
}

static int
logging(struct kr_buf *out, const struct kr_logging *l)
{
	int err;

	if (l->driver && (err = opt(out, "--log-driver", l->driver)) < 0)
		return err;
	return opt_kvlist(out, "--log-opt", &l->options);
}

static int
words(struct kr_buf *out, const struct kr_strvec *sv)
{
	size_t i;
	int err;

	for (i = 0; i < sv->n; i++)
		if ((err = kr_shell_arg(out, sv->v[i])) < 0)
			return err;
	return 0;
}

/* A volume "src:dst[:opts]": src relative to home (or "$PWD/...") gets
 * the "$PWD" prefix as Kamal's remote shell gives it; else quoted whole. */
static int
volume(struct kr_buf *out, const char *v)
{
	int err;

	if ((err = kr_buf_puts(out, " --volume ")) < 0)
		return err;
	if (strncmp(v, "$PWD/", 5) == 0)
		return kr_docker_cmd_home_path(out, v);
	return kr_shell_quote(out, v);
}

static int
cmd_words(struct kr_buf *out, const char *cmd)
{
	struct kr_strvec w = { 0 };
	int err;

	if (!cmd)
		return 0;
	if ((err = kr_docker_cmd_words(&w, cmd)) == 0)
		err = words(out, &w);
	kr_strvec_release(&w);
	return err;
}

int
kr_docker_cmd_app_run(struct kr_buf *out, const struct kr_app *a,
	const char *name, const char *extra_label, const char *hostname)
{
	size_t i;
	int err;

	if ((err = kr_buf_puts(out, "docker run --detach")) < 0 ||
		(err = opt(out, "--restart",
			 a->restart ? a->restart : "unless-stopped")) < 0 ||
		(err = opt(out, "--name", name)) < 0 ||
		(err = opt(out, "--network",
			 a->network ? a->network : "kamal")) < 0)
		return err;
	if (hostname && (err = opt(out, "--hostname", hostname)) < 0)
		return err;
	if ((err = env_args(out, &a->env)) < 0)
		return err;
	if (a->env_file.path) {
		if ((err = kr_buf_puts(out, " --env-file ")) < 0 ||
			(err = kr_docker_cmd_home_path(out, a->env_file.path)) <
				0)
			return err;
	}
	if ((err = logging(out, &a->logging)) < 0)
		return err;
	for (i = 0; i < a->volumes.n; i++)
		if ((err = volume(out, a->volumes.v[i])) < 0)
			return err;
	if ((err = opt_kvlist(out, "--label", &a->labels)) < 0)
		return err;
	if (extra_label && *extra_label &&
		(err = opt(out, "--label", extra_label)) < 0)
		return err;
	if ((err = words(out, &a->args)) < 0 ||
		(err = kr_shell_arg(out, a->image)) < 0)
		return err;
	return cmd_words(out, a->cmd);
}

/* A directory "host:container[:opts]" of an accessory. */
static int
acc_directory(struct kr_buf *out, const char *d)
{
	const char *colon = strchr(d, ':');
	char *host;
	int err;

	if (!colon || colon == d)
		return volume(out, d);
	host = kr_xstrndup(d, (size_t)(colon - d));
	if ((err = kr_buf_puts(out, " --volume ")) == 0 &&
		(err = kr_docker_cmd_home_path(out, host)) == 0)
		err = kr_shell_quote(out, colon);
	free(host);
	return err;
}

/* docker run --name NAME --detach, or docker create --name NAME. */
static int
accessory_cmd(struct kr_buf *out, const struct kr_accessory *acc,
	const char *create_name, const char *extra_label)
{
	size_t i;
	int err;

	if ((err = kr_buf_puts(
		     out, create_name ? "docker create" : "docker run")) < 0 ||
		(err = opt(out, "--name",
			 create_name ? create_name : acc->container)) < 0 ||
		(!create_name && (err = kr_buf_puts(out, " --detach")) < 0) ||
		(err = opt(out, "--restart",
			 acc->restart ? acc->restart : "unless-stopped")) < 0 ||
		(err = opt(out, "--network",
			 acc->network ? acc->network : "kamal")) < 0 ||
		(err = logging(out, &acc->logging)) < 0)
		return err;
	for (i = 0; i < acc->ports.n; i++)
		if ((err = opt(out, "--publish", acc->ports.v[i])) < 0)
			return err;
	if ((err = env_args(out, &acc->env)) < 0)
		return err;
	if (acc->env_file.path) {
		if ((err = kr_buf_puts(out, " --env-file ")) < 0 ||
			(err = kr_docker_cmd_home_path(
				 out, acc->env_file.path)) < 0)
			return err;
	}
	for (i = 0; i < acc->volumes.n; i++)
		if ((err = volume(out, acc->volumes.v[i])) < 0)
			return err;
	for (i = 0; i < acc->nfiles; i++) {
		const struct kr_acc_file *f = &acc->files[i];
		char *rest = kr_xasprintf(":%s%s%s", f->remote,
			f->options ? ":" : "", f->options ? f->options : "");

		if ((err = kr_buf_puts(out, " --volume ")) == 0 &&
			(err = kr_docker_cmd_home_path(out, f->host_path)) == 0)
			err = kr_shell_quote(out, rest);
		free(rest);
		if (err < 0)
			return err;
	}
	for (i = 0; i < acc->directories.n; i++)
		if ((err = acc_directory(out, acc->directories.v[i])) < 0)
			return err;
	if ((err = opt_kvlist(out, "--label", &acc->labels)) < 0)
		return err;
	if (extra_label && *extra_label &&
		(err = opt(out, "--label", extra_label)) < 0)
		return err;
	if ((err = words(out, &acc->args)) < 0 ||
		(err = kr_shell_arg(out, acc->image)) < 0)
		return err;
	return cmd_words(out, acc->cmd);
}

int
kr_docker_cmd_accessory_run(struct kr_buf *out, const struct kr_accessory *acc,
	const char *extra_label)
{
	return accessory_cmd(out, acc, NULL, extra_label);
}

int
kr_docker_cmd_accessory_create(struct kr_buf *out,
	const struct kr_accessory *acc, const char *name,
	const char *extra_label)
{
	return accessory_cmd(out, acc, name, extra_label);
}

int
kr_docker_cmd_login(
	struct kr_buf *out, const char *server, const char *username)
{
	int err;

	if ((err = kr_buf_puts(out, "docker login")) < 0)
		return err;
	if (server && *server && (err = kr_shell_arg(out, server)) < 0)
		return err;
	if ((err = opt(out, "-u", username)) < 0)
		return err;
	return kr_buf_puts(out, " --password-stdin");
}

int
kr_docker_cmd_network_create(struct kr_buf *out, const char *name)
{
	int err;

	if ((err = kr_buf_puts(out, "docker network inspect")) < 0 ||
		(err = kr_shell_arg(out, name)) < 0 ||
		(err = kr_buf_puts(out, " >/dev/null 2>&1 || docker network "
					"create")) < 0)
		return err;
	return kr_shell_arg(out, name);
}

int
kr_docker_cmd_pull(struct kr_buf *out, const char *ref)
{
	int err;

	if ((err = kr_buf_puts(out, "docker image inspect")) < 0 ||
		(err = kr_shell_arg(out, ref)) < 0 ||
		(err = kr_buf_puts(out, " >/dev/null 2>&1 || docker pull "
					"--quiet")) < 0)
		return err;
	return kr_shell_arg(out, ref);
}

int
kr_docker_cmd_pull_digest(
	struct kr_buf *out, const char *ref, const char *digest)
{
	const char *slash = strrchr(ref, '/');
	const char *colon = strrchr(slash ? slash : ref, ':');
	char *pinned = kr_xasprintf("%.*s@%s",
		(int)(colon ? (size_t)(colon - ref) : strlen(ref)), ref,
		digest);
	int err;

	/* the tag's own image must carry the digest: an untagged copy with
	 * it (left by an earlier pull) does not count */
	if ((err = kr_buf_puts(out,
		     "docker image inspect --format "
		     "'{{range .RepoDigests}}{{println .}}{{end}}'")) == 0 &&
		(err = kr_shell_arg(out, ref)) == 0 &&
		(err = kr_buf_puts(out, " 2>/dev/null | grep -qxF")) == 0 &&
		(err = kr_shell_arg(out, pinned)) == 0 &&
		(err = kr_buf_puts(out, " || docker pull --quiet")) == 0)
		err = kr_shell_arg(out, ref);
	free(pinned);
	return err;
}

int
kr_docker_cmd_stop(struct kr_buf *out, const struct kr_strvec *ids, int timeout)
{
	int err;

	if ((err = kr_buf_puts(out, "docker stop")) < 0)
		return err;
	if (timeout > 0 && (err = kr_buf_printf(out, " -t %d", timeout)) < 0)
		return err;
	return words(out, ids);
}

int
kr_docker_cmd_start(struct kr_buf *out, const char *id)
{
	int err;

	if ((err = kr_buf_puts(out, "docker start")) < 0)
		return err;
	return kr_shell_arg(out, id);
}

int
kr_docker_cmd_rm(struct kr_buf *out, const struct kr_strvec *ids)
{
	int err;

	if ((err = kr_buf_puts(out, "for kr_c in")) < 0 ||
		(err = words(out, ids)) < 0)
		return err;
	return kr_buf_puts(out,
		"; do if docker container inspect \"$kr_c\" "
		">/dev/null 2>&1; then docker rm -f \"$kr_c\"; fi; done");
}

int
kr_docker_cmd_rename(struct kr_buf *out, const char *from, const char *to)
{
	int err;

	if ((err = kr_buf_puts(out, "docker rename")) < 0 ||
		(err = kr_shell_arg(out, from)) < 0)
		return err;
	return kr_shell_arg(out, to);
}
