/*
 * kreconcile completion bash|zsh: print a completion script for that shell,
 * built from the command table (each entry's name, summary, .complete words
 * and the option lines of its usage text) and the global options. At
 * completion time the script lists the destinations found beside the
 * configuration (config/deploy.<dest>.yml, following -c and -C on the
 * line). The build generates both scripts for the package (CMakeLists.txt).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/vec.h"

/* One option and its aliases, or one operand, of a .complete string. */
struct cword {
	struct kr_strvec names; /* "-o", "--out"; an operand's words */
	char *value; /* "FILE", "SECONDS", or a literal ("false") */
	bool literal; /* value is a word, given after '=' */
	bool operand;
	char *help; /* the option's line in the usage text */
};

struct cspec {
	const struct kr_cmd_entry *cmd; /* NULL: the global options */
	struct cword *w;
	size_t n;
};

/* The global options (main.c's parse_globals) in .complete's grammar;
 * DEST completes the destinations. --json is added for commands that have
 * machine output. */
static const struct {
	const char *spec, *help;
} globals[] = {
	{ "-c|--config=FILE",
		"deploy configuration (default config/deploy.yml)" },
	{ "-d|--destination=DEST", "merge config/deploy.NAME.yml" },
	{ "-C|--chdir=DIR", "run as if started in DIR" },
	{ "--app-version=VERSION", "version of the app to deploy" },
	{ "--state=FILE", "state database" },
	{ "--no-color", "no color even on a terminal" },
	{ "-v|--verbose", "more detail" },
	{ "-q|--quiet", "less detail" },
	{ "-h|--help", "help for the command" },
	{ "--version", "print kreconcile's version" },
};
static const char json_help[] = "machine-readable output (JSON)";

static bool
is_meta(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isupper((unsigned char)*s))
			return false;
	return true;
}

/* The description of an option in usage: the text after the option's
 * column on the line that names it ("  -o, --out FILE   save ..."). */
static char *
usage_help(const char *usage, const struct kr_strvec *names)
{
	const char *line = usage, *start, *end, *gap, *p;
	struct kr_buf b = KR_BUF_INIT;
	size_t i, len, col;

	for (; *line; line = *end ? end + 1 : end) {
		start = line;
		end = line + strcspn(line, "\n");
		while (*line == ' ')
			line++;
		if (*line != '-')
			continue;
		gap = strstr(line, "  ");
		if (!gap || gap > end)
			continue;
		for (p = line; p < gap; p += len) {
			p += strspn(p, ", =");
			len = strcspn(p, ", =");
			if (p >= gap)
				break;
			if (p + len > gap)
				len = (size_t)(gap - p);
			for (i = 0; i < names->n; i++)
				if (strlen(names->v[i]) == len &&
					strncmp(p, names->v[i], len) == 0)
					goto found;
		}
	}
	return NULL;
found:
	/* the description, with its continuation lines (indented as far) */
	gap += strspn(gap, " ");
	col = (size_t)(gap - start);
	kr_buf_put(&b, gap, (size_t)(end - gap));
	while (*end) {
		line = end + 1;
		end = line + strcspn(line, "\n");
		len = strspn(line, " ");
		if (len < col || line[len] == '-' || line + len == end)
			break;
		kr_buf_putc(&b, ' ');
		kr_buf_put(&b, line + len, (size_t)(end - line - len));
	}
	return kr_buf_detach(&b, NULL);
}

static void
cword_parse(struct cword *w, const char *tok, size_t len, const char *help,
	const char *usage)
{
	const char *eq = memchr(tok, '=', len), *p, *bar;
	size_t nlen = eq ? (size_t)(eq - tok) : len;

	memset(w, 0, sizeof(*w));
	w->operand = tok[0] != '-';
	for (p = tok; p < tok + nlen; p = bar + 1) {
		bar = memchr(p, '|', (size_t)(tok + nlen - p));
		if (!bar)
			bar = tok + nlen;
		kr_strvec_push_owned(
			&w->names, kr_xstrndup(p, (size_t)(bar - p)));
	}
	if (eq) {
		w->value = kr_xstrndup(eq + 1, len - nlen - 1);
		w->literal = !is_meta(w->value);
	} else if (w->operand && w->names.n == 1 && is_meta(w->names.v[0])) {
		/* a path or free operand: "FILE" */
		w->value = w->names.v[0];
		w->names.v[0] = NULL;
		w->names.n = 0;
	}
	if (help)
		w->help = kr_xstrdup(help);
	else if (!w->operand && usage)
		w->help = usage_help(usage, &w->names);
}

static void
cspec_add(
	struct cspec *s, const char *spec, const char *help, const char *usage)
{
	size_t len;

	while (*spec) {
		spec += strspn(spec, " ");
		len = strcspn(spec, " ");
		if (!len)
			break;
		s->w = kr_xrealloc(s->w, (s->n + 1) * sizeof(*s->w));
		cword_parse(&s->w[s->n++], spec, len, help, usage);
		spec += len;
	}
}

static void
cspec_release(struct cspec *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		kr_strvec_release(&s->w[i].names);
		free(s->w[i].value);
		free(s->w[i].help);
	}
	free(s->w);
	memset(s, 0, sizeof(*s));
}

static void
globals_spec(struct cspec *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < sizeof(globals) / sizeof(globals[0]); i++)
		cspec_add(s, globals[i].spec, globals[i].help, NULL);
}

static void
command_spec(struct cspec *s, const struct kr_cmd_entry *cmd)
{
	memset(s, 0, sizeof(*s));
	s->cmd = cmd;
	if (cmd->flags & KR_CMD_JSON)
		cspec_add(s, "--json", json_help, NULL);
	if (cmd->complete)
		cspec_add(s, cmd->complete, NULL, cmd->usage);
}

/* The options of s whose value is of this kind ("FILE", "DIR", "DEST", or
 * NULL for every other value), space-separated and space-framed. */
static void
bash_names(struct kr_buf *b, const struct cspec *s, const char *kind)
{
	size_t i, j;

	kr_buf_putc(b, '\'');
	for (i = 0; i < s->n; i++) {
		const struct cword *w = &s->w[i];

		if (w->operand || !w->value || w->literal)
			continue;
		if (kind ? strcmp(w->value, kind) != 0 :
			   (!strcmp(w->value, "FILE") ||
				   !strcmp(w->value, "DIR") ||
				   !strcmp(w->value, "DEST")))
			continue;
		for (j = 0; j < w->names.n; j++)
			kr_buf_printf(b, " %s", w->names.v[j]);
	}
	kr_buf_puts(b, " '");
}

/* The words offered where an option may stand. */
static void
bash_opts(struct kr_buf *b, const struct cspec *s)
{
	size_t i, j;

	for (i = 0; i < s->n; i++) {
		const struct cword *w = &s->w[i];

		if (w->operand)
			continue;
		for (j = 0; j < w->names.n; j++) {
			kr_buf_printf(b, " %s", w->names.v[j]);
			if (w->literal)
				kr_buf_printf(b, "=%s", w->value);
		}
	}
}

static void
bash_data(struct kr_buf *b, const struct cspec *s, const char *indent)
{
	size_t i, j;

	kr_buf_printf(b, "%sopts='", indent);
	bash_opts(b, s);
	kr_buf_puts(b, " '\n");
	kr_buf_printf(b, "%svfile=", indent);
	bash_names(b, s, "FILE");
	kr_buf_printf(b, "\n%svdir=", indent);
	bash_names(b, s, "DIR");
	kr_buf_printf(b, "\n%svdest=", indent);
	bash_names(b, s, "DEST");
	kr_buf_printf(b, "\n%svfree=", indent);
	bash_names(b, s, NULL);
	kr_buf_printf(b, "\n%sops=(", indent);
	for (i = 0; i < s->n; i++) {
		const struct cword *w = &s->w[i];

		if (!w->operand)
			continue;
		kr_buf_puts(b, " '");
		if (w->value)
			kr_buf_printf(b, ":%s", w->value);
		for (j = 0; j < w->names.n; j++)
			kr_buf_printf(b, "%s%s", j ? " " : "", w->names.v[j]);
		kr_buf_putc(b, '\'');
	}
	kr_buf_puts(b, " )\n");
}

static const char bash_head[] =
	"# bash completion for kreconcile(1), generated from its command "
	"table\n"
	"# by `kreconcile completion bash` (kreconcile " KR_VERSION ").\n"
	"# Source it, or install it as "
	"/usr/share/bash-completion/completions/kreconcile.\n"
	"\n"
	"# The destinations beside the configuration $1 (relative to $2):\n"
	"# <config without extension>.<destination>.yml.\n"
	"_kreconcile_destinations()\n"
	"{\n"
	"\tlocal cfg=$1 dir=$2 stem f\n"
	"\tcase $cfg in '~'/*) cfg=$HOME/${cfg#'~/'} ;; esac\n"
	"\tcase $dir in '~' | '~'/*) dir=$HOME${dir#'~'} ;; esac\n"
	"\tcase $cfg in /*) ;; *) [ -z \"$dir\" ] || cfg=$dir/$cfg ;; esac\n"
	"\tstem=$cfg\n"
	"\tcase ${cfg##*/} in ?*.*) stem=${cfg%.*} ;; esac\n"
	"\tfor f in \"$stem\".*.yml; do\n"
	"\t\t[ -f \"$f\" ] || continue\n"
	"\t\tf=${f#\"$stem\".}\n"
	"\t\tf=${f%.yml}\n"
	"\t\tcase $f in '' | */*) continue ;; esac\n"
	"\t\tprintf '%s\\n' \"$f\"\n"
	"\tdone\n"
	"}\n"
	"\n"
	"# What command $1 takes: opts (option words), vfile, vdir, vdest, "
	"vfree\n"
	"# (options taking a path, a directory, a destination, another value)\n"
	"# and ops (its operands in order: words, or :FILE for a path).\n"
	"_kreconcile_command()\n"
	"{\n"
	"\tcase $1 in\n";

static const char bash_main[] =
	"\t*)\n"
	"\t\topts=' ' vfile=' ' vdir=' ' vdest=' ' vfree=' ' ops=()\n"
	"\t\treturn 1\n"
	"\t\t;;\n"
	"\tesac\n"
	"}\n"
	"\n"
	"_kreconcile()\n"
	"{\n"
	"\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev= eq= i w cmd= nops=0\n"
	"\tlocal cfg=config/deploy.yml dir= gopts gfile gdir gdest gfree\n"
	"\tlocal opts vfile vdir vdest vfree op\n"
	"\tlocal -a ops=()\n"
	"\tCOMPREPLY=()\n";

static const char bash_tail[] =
	"\topts=\"$gopts --json\" vfile=' ' vdir=' ' vdest=' ' vfree=' '\n"
	"\t# bash splits --opt=value at '=': undo that around the cursor\n"
	"\t[ \"$COMP_CWORD\" -lt 1 ] || prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	"\tif [ \"$cur\" = = ]; then\n"
	"\t\tcur= eq=1\n"
	"\telif [ \"$prev\" = = ] && [ \"$COMP_CWORD\" -ge 2 ]; then\n"
	"\t\tprev=${COMP_WORDS[COMP_CWORD-2]} eq=1\n"
	"\tfi\n"
	"\t# the command, its operands so far, and -c / -C for the "
	"destinations\n"
	"\ti=1\n"
	"\twhile [ \"$i\" -lt \"$COMP_CWORD\" ]; do\n"
	"\t\tw=${COMP_WORDS[i]}\n"
	"\t\tcase \"$gfile$gdir$gdest$gfree$vfile$vdir$vdest$vfree\" in\n"
	"\t\t*\" $w \"*)\n"
	"\t\t\ti=$((i + 1))\n"
	"\t\t\t[ \"${COMP_WORDS[i]}\" != = ] || i=$((i + 1))\n"
	"\t\t\t[ \"$i\" -lt \"$COMP_CWORD\" ] || break\n"
	"\t\t\tcase $w in\n"
	"\t\t\t-c | --config) cfg=${COMP_WORDS[i]} ;;\n"
	"\t\t\t-C | --chdir) dir=${COMP_WORDS[i]} ;;\n"
	"\t\t\tesac\n"
	"\t\t\t;;\n"
	"\t\t=) i=$((i + 1)) ;;\n"
	"\t\t-*) ;;\n"
	"\t\t*)\n"
	"\t\t\tif [ -z \"$cmd\" ]; then\n"
	"\t\t\t\tcmd=$w\n"
	"\t\t\t\t_kreconcile_command \"$cmd\"\n"
	"\t\t\t\topts=\"$gopts$opts\"\n"
	"\t\t\telse\n"
	"\t\t\t\tnops=$((nops + 1))\n"
	"\t\t\tfi\n"
	"\t\t\t;;\n"
	"\t\tesac\n"
	"\t\ti=$((i + 1))\n"
	"\tdone\n"
	"\t# the value of the option before the cursor\n"
	"\tcase \"$gfile$vfile\" in *\" $prev \"*)\n"
	"\t\tcompopt -o filenames 2>/dev/null\n"
	"\t\tmapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n"
	"\t\treturn 0 ;;\n"
	"\tesac\n"
	"\tcase \"$gdir$vdir\" in *\" $prev \"*)\n"
	"\t\tcompopt -o filenames 2>/dev/null\n"
	"\t\tmapfile -t COMPREPLY < <(compgen -d -- \"$cur\")\n"
	"\t\treturn 0 ;;\n"
	"\tesac\n"
	"\tcase \"$gdest$vdest\" in *\" $prev \"*)\n"
	"\t\tmapfile -t COMPREPLY < <(compgen -W \\\n"
	"\t\t\t\"$(_kreconcile_destinations \"$cfg\" \"$dir\")\" -- \"$cur\")\n"
	"\t\treturn 0 ;;\n"
	"\tesac\n"
	"\tcase \"$gfree$vfree\" in *\" $prev \"*) return 0 ;; esac\n"
	"\tif [ -n \"$eq\" ]; then\n"
	"\t\t# --opt=word: the literal words of opts\n"
	"\t\tfor w in $opts; do\n"
	"\t\t\tcase $w in \"$prev\"=*) COMPREPLY+=(\"${w#*=}\") ;; esac\n"
	"\t\tdone\n"
	"\t\tmapfile -t COMPREPLY < <(compgen -W \"${COMPREPLY[*]}\" -- "
	"\"$cur\")\n"
	"\t\treturn 0\n"
	"\tfi\n"
	"\tcase $cur in -*)\n"
	"\t\tmapfile -t COMPREPLY < <(compgen -W \"$opts\" -- \"$cur\")\n"
	"\t\treturn 0 ;;\n"
	"\tesac\n"
	"\tif [ -z \"$cmd\" ]; then\n"
	"\t\tmapfile -t COMPREPLY < <(compgen -W \"$commands help\" -- "
	"\"$cur\")\n"
	"\t\treturn 0\n"
	"\tfi\n"
	"\tif [ \"$cmd\" = help ]; then\n"
	"\t\t[ \"$nops\" -gt 0 ] ||\n"
	"\t\t\tmapfile -t COMPREPLY < <(compgen -W \"$commands\" -- "
	"\"$cur\")\n"
	"\t\treturn 0\n"
	"\tfi\n"
	"\top=${ops[nops]-}\n"
	"\tcase $op in\n"
	"\t'') ;;\n"
	"\t:FILE)\n"
	"\t\tcompopt -o filenames 2>/dev/null\n"
	"\t\tmapfile -t COMPREPLY < <(compgen -f -- \"$cur\") ;;\n"
	"\t:*) ;;\n"
	"\t*) mapfile -t COMPREPLY < <(compgen -W \"$op\" -- \"$cur\") ;;\n"
	"\tesac\n"
	"\treturn 0\n"
	"}\n"
	"\n"
	"complete -F _kreconcile kreconcile\n";

static void
print_bash(struct kr_buf *b)
{
	struct cspec s;
	size_t i;

	kr_buf_puts(b, bash_head);
	for (i = 0; kr_cmd_table[i]; i++) {
		command_spec(&s, kr_cmd_table[i]);
		kr_buf_printf(b, "\t%s)\n", kr_cmd_table[i]->name);
		bash_data(b, &s, "\t\t");
		kr_buf_puts(b, "\t\t;;\n");
		cspec_release(&s);
	}
	kr_buf_puts(b, bash_main);
	globals_spec(&s);
	kr_buf_puts(b, "\tgopts='");
	bash_opts(b, &s);
	kr_buf_puts(b, "'\n\tgfile=");
	bash_names(b, &s, "FILE");
	kr_buf_puts(b, "\n\tgdir=");
	bash_names(b, &s, "DIR");
	kr_buf_puts(b, "\n\tgdest=");
	bash_names(b, &s, "DEST");
	kr_buf_puts(b, "\n\tgfree=");
	bash_names(b, &s, NULL);
	kr_buf_puts(b, "\n\tlocal commands='");
	for (i = 0; kr_cmd_table[i]; i++)
		kr_buf_printf(b, "%s%s", i ? " " : "", kr_cmd_table[i]->name);
	kr_buf_puts(b, "'\n");
	cspec_release(&s);
	kr_buf_puts(b, bash_tail);
}

/* s, single-quoted for zsh. */
static void
zsh_quoted(struct kr_buf *b, const char *s)
{
	kr_buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			kr_buf_puts(b, "'\\''");
		else
			kr_buf_putc(b, *s);
	}
	kr_buf_putc(b, '\'');
}

/* An _arguments description: [ ] would end it early, so they become ( ). */
static void
zsh_help(struct kr_buf *t, const char *help)
{
	kr_buf_putc(t, '[');
	for (; help && *help; help++)
		kr_buf_putc(t, *help == '[' ? '(' : *help == ']' ? ')' : *help);
	kr_buf_putc(t, ']');
}

static void
zsh_action(struct kr_buf *t, const char *value)
{
	if (!strcmp(value, "FILE"))
		kr_buf_puts(t, "file:_files");
	else if (!strcmp(value, "DIR"))
		kr_buf_puts(t, "directory:_files -/");
	else if (!strcmp(value, "DEST"))
		kr_buf_puts(t, "destination:_kreconcile_destinations");
	else
		kr_buf_printf(t, "%s: ", value);
}

/* _arguments specs, one a line, each single-quoted and ended by eol. */
static void
zsh_specs(struct kr_buf *b, const struct cspec *s, const char *indent,
	const char *eol)
{
	struct kr_buf t = KR_BUF_INIT;
	size_t i, j, nop = 0;

	for (i = 0; i < s->n; i++) {
		const struct cword *w = &s->w[i];

		if (w->operand) {
			kr_buf_reset(&t);
			kr_buf_printf(&t, "%zu:", ++nop);
			if (w->value) {
				zsh_action(&t, w->value);
			} else {
				kr_buf_puts(&t, "argument:(");
				for (j = 0; j < w->names.n; j++)
					kr_buf_printf(&t, "%s%s", j ? " " : "",
						w->names.v[j]);
				kr_buf_putc(&t, ')');
			}
			kr_buf_printf(b, "%s", indent);
			zsh_quoted(b, t.ptr);
			kr_buf_puts(b, eol);
			continue;
		}
		for (j = 0; j < w->names.n; j++) {
			const char *n = w->names.v[j];

			kr_buf_reset(&t);
			kr_buf_puts(&t, n);
			if (w->literal)
				kr_buf_puts(&t, "=-");
			else if (w->value)
				kr_buf_puts(&t, n[1] == '-' ? "=" : "+");
			zsh_help(&t, w->help);
			if (w->literal) {
				kr_buf_printf(&t, ":value:(%s)", w->value);
			} else if (w->value) {
				kr_buf_putc(&t, ':');
				zsh_action(&t, w->value);
			}
			kr_buf_printf(b, "%s", indent);
			zsh_quoted(b, t.ptr);
			kr_buf_puts(b, eol);
		}
	}
	kr_buf_release(&t);
}

static const char zsh_head[] =
	"#compdef kreconcile\n"
	"# zsh completion for kreconcile(1), generated from its command table\n"
	"# by `kreconcile completion zsh` (kreconcile " KR_VERSION ").\n"
	"# Install it as _kreconcile in a directory of $fpath, or source it\n"
	"# after compinit.\n"
	"\n"
	"# The destinations beside the configuration named on the line (-c, "
	"-C):\n"
	"# <config without extension>.<destination>.yml.\n"
	"_kreconcile_destinations()\n"
	"{\n"
	"\tlocal cfg=config/deploy.yml dir= stem f expl\n"
	"\tlocal -i i\n"
	"\tlocal -a dests\n"
	"\tfor ((i = 2; i < _kreconcile_cur; i++)); do\n"
	"\t\tcase ${_kreconcile_line[i]} in\n"
	"\t\t(-c | --config) cfg=${_kreconcile_line[i+1]} ;;\n"
	"\t\t(--config=*) cfg=${_kreconcile_line[i]#--config=} ;;\n"
	"\t\t(-c?*) cfg=${_kreconcile_line[i]#-c} ;;\n"
	"\t\t(-C | --chdir) dir=${_kreconcile_line[i+1]} ;;\n"
	"\t\t(--chdir=*) dir=${_kreconcile_line[i]#--chdir=} ;;\n"
	"\t\t(-C?*) dir=${_kreconcile_line[i]#-C} ;;\n"
	"\t\tesac\n"
	"\tdone\n"
	"\tcfg=${cfg/#\\~/$HOME} dir=${dir/#\\~/$HOME}\n"
	"\t[[ $cfg == /* || -z $dir ]] || cfg=$dir/$cfg\n"
	"\tstem=$cfg\n"
	"\t[[ ${cfg:t} != ?*.* ]] || stem=${cfg%.*}\n"
	"\tfor f in \"$stem\".*.yml(N-.); do\n"
	"\t\tf=${${f#\"$stem\".}%.yml}\n"
	"\t\t[[ -z $f || $f == */* ]] || dests+=(\"$f\")\n"
	"\tdone\n"
	"\t_wanted destinations expl destination compadd -a dests\n"
	"}\n"
	"\n"
	"_kreconcile_commands()\n"
	"{\n"
	"\tlocal -a cmds\n"
	"\tcmds=(\n";

static const char zsh_main[] =
	"\t)\n"
	"\t_describe -t commands 'kreconcile command' cmds\n"
	"}\n"
	"\n"
	"_kreconcile()\n"
	"{\n"
	"\tlocal curcontext=$curcontext state state_descr line ret=1\n"
	"\tlocal -a _kreconcile_line globals\n"
	"\tlocal -i _kreconcile_cur=$CURRENT\n"
	"\ttypeset -A opt_args\n"
	"\t_kreconcile_line=(\"${words[@]}\")\n"
	"\tglobals=(\n";

static const char zsh_tail[] =
	"\tcase $state in\n"
	"\t(args)\n"
	"\t\tcurcontext=${curcontext%:*:*}:kreconcile-$words[1]:\n"
	"\t\tcase $words[1] in\n";

static void
print_zsh(struct kr_buf *b)
{
	struct cspec s;
	size_t i;

	kr_buf_puts(b, zsh_head);
	for (i = 0; kr_cmd_table[i]; i++) {
		struct kr_buf t = KR_BUF_INIT;

		kr_buf_printf(&t, "%s:%s", kr_cmd_table[i]->name,
			kr_cmd_table[i]->summary);
		kr_buf_puts(b, "\t\t");
		zsh_quoted(b, t.ptr);
		kr_buf_putc(b, '\n');
		kr_buf_release(&t);
	}
	kr_buf_puts(b, "\t\t'help:show help for a command'\n");
	kr_buf_puts(b, zsh_main);
	globals_spec(&s);
	zsh_specs(b, &s, "\t\t", "\n");
	cspec_release(&s);
	kr_buf_printf(b,
		"\t)\n\t_arguments -C $globals '--json[%s]' \\\n"
		"\t\t'1: :_kreconcile_commands' '*:: :->args' && "
		"ret=0\n",
		json_help);
	kr_buf_puts(b, zsh_tail);
	for (i = 0; kr_cmd_table[i]; i++) {
		command_spec(&s, kr_cmd_table[i]);
		kr_buf_printf(b, "\t\t(%s)\n\t\t\t_arguments $globals \\\n",
			kr_cmd_table[i]->name);
		zsh_specs(b, &s, "\t\t\t\t", " \\\n");
		cspec_release(&s);
		kr_buf_puts(b, "\t\t\t\t&& ret=0\n\t\t\t;;\n");
	}
	kr_buf_puts(b,
		"\t\t(help)\n\t\t\t_arguments '1: :_kreconcile_commands' "
		"&& ret=0\n\t\t\t;;\n"
		"\t\tesac\n\t\t;;\n\tesac\n\treturn ret\n}\n\n"
		"if [[ $funcstack[1] == _kreconcile ]]; then\n"
		"\t_kreconcile \"$@\"\n"
		"else\n"
		"\tcompdef _kreconcile kreconcile\n"
		"fi\n");
}

static int
cmd_completion_exec(const struct kr_globals *g, int argc, char **argv)
{
	struct kr_buf b = KR_BUF_INIT;

	if (argc < 2)
		return kr_cli_usage(&kr_cmd_completion_entry,
			"completion needs a shell: bash or zsh");
	if (argc > 2)
		return kr_cli_usage(&kr_cmd_completion_entry,
			"unexpected argument '%s'", argv[2]);
	if (strcmp(argv[1], "bash") == 0)
		print_bash(&b);
	else if (strcmp(argv[1], "zsh") == 0)
		print_zsh(&b);
	else
		return kr_cli_usage(&kr_cmd_completion_entry,
			"unknown shell '%s' (bash or zsh)", argv[1]);
	if (fwrite(b.ptr, 1, b.len, stdout) != b.len || fflush(stdout) != 0) {
		kr_cli_error("cannot write the completion script: %s",
			strerror(errno));
		kr_buf_release(&b);
		return KR_EXIT_ERROR;
	}
	kr_buf_release(&b);
	return KR_EXIT_OK;
}

const struct kr_cmd_entry kr_cmd_completion_entry = {
	.name = "completion",
	.summary = "print a bash or zsh completion script",
	.usage = "kreconcile completion bash|zsh\n"
		 "  bash  for "
		 "/usr/share/bash-completion/completions/kreconcile,\n"
		 "        or: source <(kreconcile completion bash)\n"
		 "  zsh   for _kreconcile in a directory of $fpath",
	.complete = "bash|zsh",
	.exec = cmd_completion_exec,
};
