#!/bin/bash
# The bash completion kreconcile generates from its command table, run in a
# real bash: registration (complete -p), the words offered for commands,
# options, operands, option values and destinations (COMP_WORDS/COMP_CWORD
# and the function, as bash itself calls it), and agreement with the binary:
# every command and option its help names is offered, and every option
# offered is one the binary accepts.
set -eu
: "${KREC:?the kreconcile binary}"
fails=0
fail() { printf 'FAIL - %s\n' "$*" >&2; fails=$((fails + 1)); }
ok() { printf 'ok - %s\n' "$*"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$KREC" completion bash >"$work/kreconcile.bash"
bash -n "$work/kreconcile.bash" || { fail "bash -n"; exit 1; }
# shellcheck disable=SC1091
. "$work/kreconcile.bash"
reg=$(complete -p kreconcile)
[ "$reg" = "complete -F _kreconcile kreconcile" ] || fail "registered as: $reg"

# comp WORD...: complete the last word of "kreconcile WORD..." and print the
# sorted replies on one line.
comp() {
	COMP_WORDS=(kreconcile "$@")
	COMP_CWORD=$#
	COMP_LINE="kreconcile $*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_kreconcile
	[ "${#COMPREPLY[@]}" -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'
}
# expect WANT WORD...: the replies are exactly WANT (sorted, space-separated)
expect() {
	want=$1
	shift
	got=$(comp "$@")
	if [ "$got" = "$want" ]; then
		ok "kreconcile $* -> ${want:-(nothing)}"
	else
		fail "kreconcile $*: offered '$got', expected '$want'"
	fi
}
# offers WORD... -- LINE...: the replies include every WORD
offers() {
	words=
	while [ "$1" != -- ]; do words="$words $1"; shift; done
	shift
	got=" $(comp "$@") "
	for w in $words; do
		case $got in *" $w "*) ;; *) fail "kreconcile $*: '$w' not offered (offered:$got)" ;; esac
	done
	ok "kreconcile $* offers$words"
}
lacks() {
	w=$1
	shift
	case " $(comp "$@") " in
	*" $w "*) fail "kreconcile $*: '$w' offered" ;;
	*) ok "kreconcile $* does not offer $w" ;;
	esac
}

mkdir -p "$work/app/config" "$work/app/elsewhere" "$work/other dir"
: >"$work/app/config/deploy.yml"
: >"$work/app/config/deploy.staging.yml"
: >"$work/app/config/deploy.production.yml"
: >"$work/app/config/deploy.eu.west.yml"
: >"$work/app/elsewhere/kamal.yml"
: >"$work/app/elsewhere/kamal.qa.yml"
: >"$work/app/plan one.json"
: >"$work/other dir/x"
cd "$work/app"

# commands, from the table, and help
cmds=$("$KREC" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 { print $1 }' | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')
[ -n "$cmds" ] || fail "no commands in kreconcile --help"
expect "$cmds" ""
expect "plan" pl
expect "completion config" co
expect "$(echo "$cmds" | sed 's/ help//; s/help //')" help ""
expect "" help plan ""

# operands
expect "acquire release status" lock ""
expect "acquire release status" lock -m "a message" ""
expect "acquire release status" -d staging lock --message = msg ""
expect "" lock status ""
expect "bash zsh" completion ""
expect "config elsewhere plan one.json" apply ""
expect "config elsewhere plan one.json" apply --lock-wait 5 ""
expect "" apply --lock-wait ""
expect "" plan ""

# option values
expect "eu.west production staging" -d ""
expect "eu.west production staging" plan --destination ""
expect "production" plan --destination = p
expect "production" --destination = p
expect "qa" -c elsewhere/kamal.yml -d ""
expect "qa" --config = elsewhere/kamal.yml plan -d ""
cd "$work"
expect "eu.west production staging" -C app -d ""
expect "qa" -C app -c elsewhere/kamal.yml -d ""
expect "" -d ""
cd "$work/app"
expect "config" -c conf
expect "config" plan -o conf
expect "config" -C conf
expect "" -C pl
expect "false" plan --refresh = ""
expect "--refresh=false" plan --refresh=
offers "--out" "-o" "--json" "--prune" "--detailed-exitcode" "--refresh=false" "--config" "--destination" -- plan -
lacks --auto-approve plan --
lacks --json validate --
lacks --json refresh --
offers --json -- --

# Agreement with the binary. Options in a command's usage and in the global
# help must be offered; every option offered must be accepted (exit not 64),
# checked in an empty directory where every command stops at loading the
# configuration.
empty=$(mktemp -d "$work/empty.XXXXXX")
cd "$empty"
"$KREC" plan --no-such-option >/dev/null 2>&1 && rc=0 || rc=$?
[ "$rc" = 64 ] || fail "an unknown option exits $rc, not 64: the check below would prove nothing"
globals=$("$KREC" --help | sed -n '/^Global options:/,/^$/p' | grep -o -- '--[a-z][a-z-]*' | sort -u)
offers $globals -- --
for cmd in $cmds; do
	[ "$cmd" != help ] || continue
	usage_opts=$("$KREC" help "$cmd" | sed -n '/^usage:/,/^Global options:/p' | grep -o -- '--[a-z][a-z=-]*' | sed 's/=$//' | sort -u)
	[ -z "$usage_opts" ] || offers $usage_opts -- "$cmd" --
	[ "$cmd" != completion ] || continue
	for opt in $(comp "$cmd" -); do
		case $opt in
		--help | -h | --version) continue ;;
		esac
		value=
		# the value: options the script treats as taking one (a path,
		# a directory, a destination or a free value)
		_kreconcile_command "$cmd" || true
		case " -c --config -d --destination -C --chdir --app-version --state $vfile $vdir $vdest $vfree " in
		*" $opt "*)
			case $opt in
			-C | --chdir) value=. ;;
			--lock-wait) value=5 ;;
			--interval | --drift-interval | --image-wait | --backoff-max) value=1s ;;
			--retention | -n | --number) value=5 ;;
			--log-format) value=json ;;
			--notify) value=http://127.0.0.1:9/ ;;
			*) value=x ;;
			esac
			;;
		esac
		operand=
		case $cmd/$opt in
		lock/-m | lock/--message) operand=acquire ;;
		lock/*) operand=status ;;
		esac
		if [ -n "$value" ]; then
			"$KREC" "$cmd" "$opt" "$value" $operand >"$empty/out" 2>&1 && rc=0 || rc=$?
		else
			"$KREC" "$cmd" "$opt" $operand >"$empty/out" 2>&1 && rc=0 || rc=$?
		fi
		if [ "$rc" = 64 ]; then
			fail "kreconcile $cmd $opt $value $operand: usage error: $(head -1 "$empty/out")"
		fi
	done
	ok "every option offered for $cmd is accepted by kreconcile $cmd"
done

if [ "$fails" -gt 0 ]; then
	echo "completion_bash: $fails failure(s)" >&2
	exit 1
fi
