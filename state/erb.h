/*
 * ERB as Kamal renders deploy.yml: ERB.new(text, trim_mode: "-").result in
 * Kamal's process. kreconcile runs the Ruby that real configurations use
 * itself, keeping FILE:LINE:COL for every problem:
 *
 *   ENV["X"]  ENV['X']  ENV.fetch("X")  ENV.fetch("X", "d")  ENV.fetch("X") {
 * ... } a || b || "d"   a && b   !a   a == b   a != b   c ? a : b
 *   "..#{expr}.."  '...'  `cmd`  %x(cmd)  (run by /bin/sh in the app root)
 *   .strip .chomp .to_s .empty? .nil? .present? .blank? .downcase .upcase
 *   File.read("f")  File.exist?("f")  ENV.key?("X")
 *   require "dotenv"  Dotenv.load(...)  Dotenv.overload(...)  require
 * "dotenv/load" x = expr  x ||= expr  ENV["X"] = expr  ENV["X"] ||= expr
 *   if/elsif/else/unless/end (across tags)  begin/rescue [Class]/end
 *   raise "..."  stmt if cond  stmt unless cond
 *   <%# comment %>  <%- -%> (trim mode "-")  <%% (a literal "<%")
 *
 * A template using anything else is handed, whole, to Ruby's own ERB when
 * `ruby` is installed (kr_erb_render_opts); its output is used as is, never
 * rendered again. Without Ruby, each construct it would need is reported
 * with its position and a hint that installing Ruby renders it.
 *
 * Rendering records where each piece of output came from, so positions in
 * the rendered text (YAML marks) map back to the source:
 * kr_erb_map_position. Output that Ruby rendered maps line for line.
 */
#ifndef KR_STATE_ERB_H
#define KR_STATE_ERB_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/diag.h"

struct kr_erb_seg {
	int out_line, out_col; /* where the piece starts in the output */
	int src_line, src_col; /* where it starts in the source */
	bool literal; /* copied text (positions map 1:1) or a substitution */
};

struct kr_erb_map {
	struct kr_erb_seg *v;
	size_t n;
	size_t alloc;
};

/* Looks up an environment variable; NULL when unset. */
typedef const char *(*kr_erb_getenv_fn)(void *ctx, const char *name);

struct kr_erb_opts {
	kr_erb_getenv_fn getenv_fn; /* NULL: the process environment */
	void *getenv_ctx;
	/*
	 * Where File.read, Dotenv.load, backticks and Ruby run: the directory
	 * Kamal runs in (the app root). NULL: the current directory.
	 */
	const char *dir;
	bool trim; /* trim_mode "-" (deploy.yml); false: plain ERB */
	/*
	 * The Ruby to hand other templates to: NULL finds `ruby` on PATH,
	 * "" never uses Ruby.
	 */
	const char *ruby;
	int timeout; /* seconds per command or Ruby run; 0: 60 */
	/*
	 * Run and read nothing: backticks, File.read/exist? and Dotenv.load
	 * are errors, Ruby is never used (fuzzing, untrusted text).
	 */
	bool no_commands;
	/*
	 * ENV["X"] = ..., Dotenv.load and Ruby's changes to ENV are kept for
	 * the rest of the template; with getenv_fn NULL they are also made in
	 * the process environment, as they are in Kamal's process (the secrets
	 * files see them). Otherwise they stay local to the render.
	 */
};

/*
 * Render text into out (appended) and map (may be NULL). Problems go to
 * diags with their positions; then the result is KR_ECONFIG.
 */
int kr_erb_render_opts(struct kr_buf *out, struct kr_erb_map *map,
	struct kr_diags *diags, const char *file, const char *text, size_t len,
	const struct kr_erb_opts *opts);

/*
 * Render text into out (appended) and map. getenv_fn NULL means the process
 * environment. Plain ERB (no trim mode), never through Ruby: what
 * kreconcile cannot render itself is an error in diags (KR_ECONFIG).
 */
int kr_erb_render(struct kr_buf *out, struct kr_erb_map *map,
	struct kr_diags *diags, const char *file, const char *text, size_t len,
	kr_erb_getenv_fn getenv_fn, void *getenv_ctx);

/* Map an output position (1-based line, column) to the source; the
 * signature matches kr_yaml_posmap_fn, ctx is the struct kr_erb_map. */
void kr_erb_map_position(void *map, int *line, int *col);
void kr_erb_map_release(struct kr_erb_map *map);

#endif
