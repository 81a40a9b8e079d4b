/*
 * What the files of one host's apply script share (not a public API; see
 * apply.h for that): the builder's context, the frame of a step (a framed
 * `set -e` subshell between begin and end markers), the small command
 * writers every step uses, and the step builders of each kind of change.
 * apply_script.c drives them (prelude, step order, pulls); apply_step.c
 * holds the frame and the writers; apply_step_setup.c the network, login,
 * env file and accessory steps; apply_step_app.c the app step with its
 * health gate; apply_parse.c reads the markers back.
 */
#ifndef KR_RECONCILER_APPLY_INT_H
#define KR_RECONCILER_APPLY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "common/buf.h"
#include "common/vec.h"
#include "reconciler/apply.h"

/* One script being built. */
struct kr_apply_sctx {
	struct kr_apply_script *s;
	const struct kr_desired *d;
	const struct kr_apply_script_opts *o;
	char *audit_path;
	char suffix[33];
	time_t now;
};

/* A new step (not yet framed) for change `change` of the plan. */
struct kr_apply_step *kr_apply_step_add(struct kr_apply_script *s,
	size_t change, const char *address, const char *action);
/* Open the last added step's framed `set -e` subshell (its begin marker). */
void kr_apply_step_open(struct kr_apply_sctx *x, const char *comment);
/* Close it: stdin is /dev/null unless the step reads its bytes from it. */
void kr_apply_step_close(struct kr_apply_sctx *x, bool uses_stdin);
/* Append an audit line for the step (after its commands succeeded). */
void kr_apply_step_audit(struct kr_apply_sctx *x, const char *role,
	const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Secret bytes for kr_put / kr_in: appended to stdin, never to the text. */
void kr_apply_step_input(struct kr_apply_sctx *x, const char *data, size_t len);
/* cmd and a newline, appended to the script's text. */
void kr_apply_step_line(struct kr_apply_sctx *x, const struct kr_buf *cmd);
/* Write content (stdin bytes) to path with mode, its directory made. */
void kr_apply_step_write_file(struct kr_apply_sctx *x, const char *path,
	const char *content, size_t len, const char *mode);
/* Where an env step keeps the file it overwrites, for this run only.
 * Caller frees. */
char *kr_apply_step_prev_path(const struct kr_apply_sctx *x, const char *path);
/* Stop (timeout seconds, 0 = docker's default) those of ids that still
 * exist. */
void kr_apply_step_stop(
	struct kr_apply_sctx *x, const struct kr_strvec *ids, int timeout);
/* docker rm of ids (none: nothing). */
void kr_apply_step_rm(struct kr_apply_sctx *x, const struct kr_strvec *ids);
/* docker start of id. */
void kr_apply_step_start(struct kr_apply_sctx *x, const char *id);
/* docker pull of ref. */
/* Pull ref unless the host has it (with that registry digest, when known). */
void kr_apply_step_pull(
	struct kr_apply_sctx *x, const char *ref, const char *digest);
/* The definition-hash label "KEY=HASH", or NULL without a hash. Caller
 * frees. */
char *kr_apply_step_hash_label(const char *defhash);

/* The step of each kind of change (c is change ci of the plan): 0, or a
 * negative KR_E* with the message set. */
int kr_apply_step_network(
	struct kr_apply_sctx *x, const struct kr_change *c, size_t ci);
int kr_apply_step_login(
	struct kr_apply_sctx *x, const struct kr_change *c, size_t ci);
int kr_apply_step_env(
	struct kr_apply_sctx *x, const struct kr_change *c, size_t ci);
int kr_apply_step_accessory(
	struct kr_apply_sctx *x, const struct kr_change *c, size_t ci);
int kr_apply_step_app(
	struct kr_apply_sctx *x, const struct kr_change *c, size_t ci);
/* apply_step_proxy.c */
int kr_apply_step_proxy(
	struct kr_apply_sctx *x, const struct kr_change *c, size_t ci);
int kr_apply_step_route(
	struct kr_apply_sctx *x, const struct kr_change *c, size_t ci);
/* Inside an accessory step, after its container runs: its route. */
void kr_apply_step_acc_proxy(
	struct kr_apply_sctx *x, const struct kr_accessory *acc);

/* apply_mask.c: every secret value of d (registry password, env files'
 * secrets), longest first, copied into out (release with
 * kr_apply_mask_release, which zeroes them); then *text with each masked
 * as KR_SENSITIVE (values under 4 bytes only as whole words). */
struct kr_desired;
void kr_apply_mask_collect(struct kr_strvec *out, const struct kr_desired *d);
void kr_apply_mask(const struct kr_strvec *secrets, char **text);
void kr_apply_mask_release(struct kr_strvec *secrets);

#endif
