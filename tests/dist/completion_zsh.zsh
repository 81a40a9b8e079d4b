# Driven by completion_zsh.sh: completes lines in a real interactive zsh
# (zsh/zpty), with compinit and the generated _kreconcile in $fpath, and
# checks the words offered. A wrapper around compadd records every match the
# completion system adds (the words that would be listed), to a file.
zmodload zsh/zpty || { print -u2 "FAIL - no zsh/zpty module"; exit 1 }
work=$1
hits=$work/hits
fails=0
: >$hits

zpty kr zsh -f -i
zpty -w kr "PS1='' RPROMPT=''; unsetopt beep; fpath=($work/fpath \$fpath)"
zpty -w kr "autoload -Uz compinit && compinit -u -D"
zpty -w kr "compadd() { if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd \"\$@\"; return; fi; local -a h; builtin compadd -O h \"\$@\"; (( \$#h )) && print -rl -- \$h >>$hits; builtin compadd \"\$@\" }"

n=0
# Wait until the shell has run everything sent so far.
sync_shell() {
	n=$((n + 1))
	zpty -w kr "print KR-DONE-$n >>$hits"
	local i
	for i in {1..400}; do
		grep -qx "KR-DONE-$n" $hits && return 0
		sleep 0.05
	done
	print -u2 "FAIL - zsh did not answer within 20 s"
	exit 1
}
# complete DIR LINE: the sorted words offered for LINE typed in DIR, then TAB
complete_in() {
	zpty -w kr "cd ${(q)1}"
	sync_shell
	: >$hits
	zpty -w -n kr "$2"$'\t'
	zpty -w -n kr $'\C-u'
	sync_shell
	grep -v '^KR-DONE-' $hits | LC_ALL=C sort -u | tr '\n' ' ' | sed 's/ $//'
}
expect() {
	local dir=$1 want=$2 line=$3 got
	got=$(complete_in $dir $line)
	if [[ $got == $want ]]; then
		print -r -- "ok - zsh: $line<TAB> -> ${want:-(nothing)}"
	else
		print -ru2 -- "FAIL - zsh: $line<TAB>: offered '$got', expected '$want'"
		fails=$((fails + 1))
	fi
}
offers() {
	local dir=$1 line=$2 got w
	shift 2
	got=" $(complete_in $dir $line) "
	for w in "$@"; do
		if [[ $w == !* ]]; then
			[[ $got != *" ${w#!} "* ]] && continue
			print -ru2 -- "FAIL - zsh: $line<TAB> offers ${w#!}"
		else
			[[ $got == *" $w "* ]] && continue
			print -ru2 -- "FAIL - zsh: $line<TAB> does not offer $w (offered:$got)"
		fi
		fails=$((fails + 1))
		return
	done
	print -r -- "ok - zsh: $line<TAB> offers $*"
}

app=$work/app
sync_shell
expect $app "plan" "kreconcile pl"
expect $app "apply completion config help history lock plan refresh status validate watch" "kreconcile "
expect $app "acquire release status" "kreconcile lock "
expect $app "acquire release status" "kreconcile lock -m msg "
expect $app "bash zsh" "kreconcile completion "
expect $app "eu.west production staging" "kreconcile -d "
expect $app "production" "kreconcile plan --destination=p"
expect $app "qa" "kreconcile -c elsewhere/kamal.yml -d "
expect $work "eu.west production staging" "kreconcile -C app -d "
expect $work "qa" "kreconcile -C app -c elsewhere/kamal.yml status -d "
expect $app "false" "kreconcile plan --refresh="
expect $app "" "kreconcile apply --lock-wait "
expect $app "config" "kreconcile plan -o conf"
expect $app "config" "kreconcile apply conf"
offers $app "kreconcile plan --" --out --detailed-exitcode --json --prune --config --destination !--auto-approve
offers $app "kreconcile validate --" --skip-secrets --config !--json
offers $app "kreconcile apply --" --auto-approve --lock-wait --message --json

zpty -d kr
if ((fails)); then
	print -u2 "completion_zsh: $fails failure(s)"
	exit 1
fi
