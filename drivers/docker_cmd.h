/*
 * Docker command lines for apply: `docker run` of an app or accessory
 * container exactly as Kamal 2 starts it (name, labels, env, flags;
 * shared/KAMAL.md) plus the definition hash label, `docker login` with the
 * password on stdin, network create, pull, stop, rm, rename. Pure string
 * builders: every value goes through kr_shell_quote, so a command line
 * never runs anything a value holds. Each function appends one command to
 * `out` (no trailing newline); secret values never appear in it (the env
 * file and the password travel on stdin).
 */
#ifndef KR_DRIVERS_DOCKER_CMD_H
#define KR_DRIVERS_DOCKER_CMD_H

#include "common/buf.h"
#include "common/vec.h"
#include "state/desired.h"

/*
 * Split a `cmd:` string into words the way the remote shell splits Kamal's
 * unquoted `cmd` (blanks separate words; '...', "..." and backslash quote)
 * but without any expansion: `$`, backticks, globs and operators stay
 * literal bytes of their word. KR_EINVAL for an unterminated quote.
 */
int kr_docker_cmd_words(struct kr_strvec *out, const char *cmd);

/*
 * Append one path as a shell word: a path relative to the SSH user's home
 * (or Kamal's "$PWD/..." form) becomes "$PWD"/'rest', an absolute one is
 * quoted as is.
 */
int kr_docker_cmd_home_path(struct kr_buf *out, const char *path);

/*
 * docker run for app `a` named `name`, with one more --label
 * extra_label ("key=value", e.g. the definition hash apply records; NULL
 * or "" = none) after the configured labels, and --hostname when hostname
 * is non-NULL. Kamal's
 * order: --detach --restart --name --network [--hostname] --env (KAMAL_*
 * and clear env) --env-file [--log-driver] --log-opt --volume --label
 * options image cmd.
 */
int kr_docker_cmd_app_run(struct kr_buf *out, const struct kr_app *a,
	const char *name, const char *extra_label, const char *hostname);

/*
 * docker run for accessory `acc` (extra_label as above): --name --detach
 * --restart --network logging --publish --env --env-file --volume
 * (volumes, then files and directories under "$PWD"/<service>-<acc>/)
 * --label options image cmd.
 */
int kr_docker_cmd_accessory_run(struct kr_buf *out,
	const struct kr_accessory *acc, const char *extra_label);
/* The same container created, not started, as `name` (docker create). */
int kr_docker_cmd_accessory_create(struct kr_buf *out,
	const struct kr_accessory *acc, const char *name,
	const char *extra_label);

/* docker login [SERVER] -u USER --password-stdin (server NULL = Docker Hub). */
int kr_docker_cmd_login(
	struct kr_buf *out, const char *server, const char *username);

/* Create the network unless it exists (idempotent). */
int kr_docker_cmd_network_create(struct kr_buf *out, const char *name);

/* Pull ref unless the host has it (idempotent, quiet). */
int kr_docker_cmd_pull(struct kr_buf *out, const char *ref);
/*
 * Pull ref unless the image the host has under ref carries the repo digest
 * REPO@DIGEST the registry gives (REPO = ref without its tag), so a tag
 * pushed again is pulled again.
 */
int kr_docker_cmd_pull_digest(
	struct kr_buf *out, const char *ref, const char *digest);

/* docker stop [-t SECONDS] IDS... (timeout <= 0: docker's default). */
int kr_docker_cmd_stop(
	struct kr_buf *out, const struct kr_strvec *ids, int timeout);

/* docker start ID */
int kr_docker_cmd_start(struct kr_buf *out, const char *id);

/* Remove each container that still exists (idempotent): docker rm -f. */
int kr_docker_cmd_rm(struct kr_buf *out, const struct kr_strvec *ids);

/* kamal-proxy (drivers/docker_proxy_cmd.c). The minimum version Kamal 2.12
 * boots and accepts (Proxy::Run::MINIMUM_VERSION). */
#define KR_PROXY_MIN_VERSION "v0.9.2"
/*
 * docker exec PROXY kamal-proxy deploy ROUTE --target=TARGET_WORD:PORT and
 * every flag Kamal's deploy_options derives from p, in its order.
 * target_word is a shell word the caller writes (e.g. "$kr_tgt"), never a
 * configuration value. proxy NULL = "kamal-proxy".
 */
int kr_docker_cmd_proxy_deploy(struct kr_buf *out, const char *proxy,
	const char *route, const char *target_word,
	const struct kr_app_proxy *p, int deploy_timeout, int drain_timeout);
/* docker exec PROXY kamal-proxy remove ROUTE */
int kr_docker_cmd_proxy_remove(
	struct kr_buf *out, const char *proxy, const char *route);
/* Kamal's proxy boot: from p's proxy.run when p->run, else from the boot
 * config files (or their defaults). p may be NULL. */
int kr_docker_cmd_proxy_boot(struct kr_buf *out, const struct kr_app_proxy *p);
/* The image a boot runs: proxy.run's [registry/]repository:version, else
 * basecamp/kamal-proxy at the minimum version. Caller frees. */
char *kr_docker_proxy_image(const struct kr_app_proxy *p);
/* docker tag SRC DST */
int kr_docker_cmd_tag(struct kr_buf *out, const char *src, const char *dst);

/* docker rename FROM TO */
int kr_docker_cmd_rename(struct kr_buf *out, const char *from, const char *to);

#endif
