#!/bin/sh
# Hostile values — quotes, $(...), backticks, ;, &, |, newlines — in a clear env value and in
# secrets reach the container as Kamal gives them (a newline in a clear value as the literal \n,
# secrets as Kamal's env file gives them) and run nothing
# anywhere: no file that a $(touch ...) or `touch ...` names appears, on this machine or a host.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
. "$(dirname "$0")/apply_lib.sh"
apply_setup
command -v python3 >/dev/null || skip "needs python3 to read docker inspect's JSON"
p=/tmp/kr-pwned-$$
rm -f "$p"-*

# a clear value with every kind of shell syntax and a newline (a YAML double-quoted string)
cat >"$proj/msg.yml" <<YAML
        SAMPLE_MESSAGE: "it's \"q\" \$(touch $p-a) \`touch $p-b\` ; touch $p-c & | > <\\\\ end\\nline2"
YAML
sed -i '/^    SAMPLE_MESSAGE:/{
r '"$proj/msg.yml"'
d
}' "$proj/config/deploy.yml"
sed -i 's/^        SAMPLE_MESSAGE:/    SAMPLE_MESSAGE:/' "$proj/config/deploy.yml"
# one more secret: shell syntax in single quotes (literal in a secrets file)
sed -i 's/^    - DATABASE_URL$/&\n    - HOSTILE_SECRET/' "$proj/config/deploy.yml"
cat >>"$proj/.kamal/secrets" <<SECRETS
HOSTILE_SECRET='"dq" \`touch $p-d\` \$(touch $p-e) ; touch $p-f & | > < \\ end'
SECRETS
krec config --app-version v1 || { show_out; fail "the hostile config does not load"; }

krec apply --app-version v1 --auto-approve || { show_out; fail "apply with hostile values failed"; }
grep -q 'Hosts match the configuration.' "$out" || { show_out; fail "hosts do not match"; }

export HOSTILE_P="$p"
bed_docker 1 inspect sample-web-v1 | python3 -c '
import json, os, sys
p = os.environ["HOSTILE_P"]
env = dict(e.split("=", 1) for e in json.load(sys.stdin)[0]["Config"]["Env"])
want = {
    # a clear value as Kamal 2.12 passes it (escape_shell_value): the newline arrives as \n
    "SAMPLE_MESSAGE": "it'"'"'s \"q\" $(touch %s-a) `touch %s-b` ; touch %s-c & | > <\\ end\\nline2" % (p, p, p),
    # Kamal writes env files with Ruby String#dump escapes and docker --env-file does not
    # unescape them: a backslash in a secret reaches the container doubled, as with Kamal
    "HOSTILE_SECRET": "\"dq\" `touch %s-d` $(touch %s-e) ; touch %s-f & | > < \\\\ end" % (p, p, p),
}
bad = [k for k in want if env.get(k) != want[k]]
for k in bad:
    print("%s: got %r, want %r" % (k, env.get(k), want[k]), file=sys.stderr)
sys.exit(1 if bad else 0)
' || fail "hostile values did not reach the container intact"
ok "quotes, \$(...), backticks, operators and a newline reach the container's env intact"

v=$(app_get 1 sample-web-v1 /version)
case $v in "v1 it's \"q\" \$(touch $p-a)"*) ;; *) fail "GET /version says: $v" ;; esac
ok "GET /version shows the clear value as written"

for s in a b c d e f; do
	[ ! -e "$p-$s" ] || fail "a hostile value ran a command on this machine ($p-$s exists)"
	bed_ssh 1 test ! -e "$p-$s" || fail "a hostile value ran a command on host 1"
	bed_ssh 2 test ! -e "$p-$s" || fail "a hostile value ran a command on host 2"
done
bed_docker 1 exec sample-web-v1 sh -c "ls $p-* 2>/dev/null" && fail "a hostile value ran in the container"
ok "no hostile value ran anything (here, on the hosts, in the container)"

krec plan --app-version v1 --detailed-exitcode || { show_out; fail "plan after the hostile apply is not empty"; }
ok "plan after the apply: no changes"
