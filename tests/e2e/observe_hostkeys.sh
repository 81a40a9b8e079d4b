#!/bin/sh
# Host keys are verified against x-kreconcile.known_hosts: an unknown key is refused with its
# fingerprint and the way to trust it (--accept-new-host-keys adds it, as OpenSSH's accept-new);
# a changed key is refused loudly, even with --accept-new-host-keys. A refused host gets no exec.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
need_krec
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kr_project "$work/p"
cd "$work/p"
h1=$(bed_host 1)
h2=$(bed_host 2)
export KR_TESTBED_KNOWN_HOSTS="$work/known_hosts"

# unknown: host 1's key is not in the file
grep -v "^$h1 " "$KR_TESTBED_DIR/ssh/known_hosts" >"$KR_TESTBED_KNOWN_HOSTS"
b1=$(bed_execs 1)
rc=0
"$KREC" refresh --app-version v1 2>"$work/err" || rc=$?
[ $rc = 3 ] || fail "unknown host key: exit $rc, not 3: $(cat "$work/err")"
grep "^host $h1: unreachable: " "$work/err" | grep -q "SHA256:" ||
	fail "no fingerprint for the unknown key: $(cat "$work/err")"
grep "^host $h1: " "$work/err" | grep -q -- "--accept-new-host-keys" ||
	fail "no way to trust the key is given: $(grep "^host $h1" "$work/err")"
grep -q "^host $h2: observed" "$work/err" || fail "host 2 was not observed"
[ "$(bed_execs 1)" = "$b1" ] || fail "a command ran on a host whose key was refused"
ok "unknown key refused: $(grep "^host $h1" "$work/err" | cut -c1-160)"

"$KREC" refresh --app-version v1 --accept-new-host-keys 2>"$work/err" ||
	fail "--accept-new-host-keys did not accept: $(cat "$work/err")"
grep -q "^$h1 ssh-ed25519 " "$KR_TESTBED_KNOWN_HOSTS" || fail "the key was not recorded"
"$KREC" refresh --app-version v1 2>"$work/err" || fail "the recorded key is not trusted"
ok "--accept-new-host-keys records the key, later runs trust it"

# changed: host 1 is listed with another key
ssh-keygen -q -t ed25519 -N '' -f "$work/other" >/dev/null
{
	grep -v "^$h1 " "$KR_TESTBED_DIR/ssh/known_hosts"
	printf '%s %s\n' "$h1" "$(cut -d' ' -f1-2 "$work/other.pub")"
} >"$KR_TESTBED_KNOWN_HOSTS"
cp "$KR_TESTBED_KNOWN_HOSTS" "$work/kh.before"
b1=$(bed_execs 1)
for flag in "" --accept-new-host-keys; do
	rc=0
	"$KREC" refresh --app-version v1 $flag 2>"$work/err" || rc=$?
	[ $rc = 3 ] || fail "changed host key ($flag): exit $rc, not 3"
	grep "^host $h1: unreachable: " "$work/err" | grep -qi "changed" ||
		fail "changed key not called out ($flag): $(cat "$work/err")"
done
cmp -s "$work/kh.before" "$KR_TESTBED_KNOWN_HOSTS" || fail "known_hosts was modified"
[ "$(bed_execs 1)" = "$b1" ] || fail "a command ran on a host whose key changed"
ok "changed key refused, also with --accept-new-host-keys: $(grep "^host $h1" "$work/err" | cut -c1-160)"
