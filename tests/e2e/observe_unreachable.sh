#!/bin/sh
# A host with nothing at its address is reported unreachable with the reason and does not stop
# the others: refresh and status exit 3 when some hosts failed, 1 when all did.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
need_krec
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kr_project "$work/p"
cd "$work/p"

h1=$(bed_host 1)
nobody=${h1%.*}.99 # on the bed's subnet, nothing answers there
b1=$(bed_execs 1)
rc=0
KR_TESTBED_HOST2=$nobody "$KREC" refresh --app-version v1 2>"$work/err" || rc=$?
[ $rc = 3 ] || fail "refresh with one unreachable host exited $rc, not 3: $(cat "$work/err")"
grep -q "^host $nobody: unreachable: ..*$nobody" "$work/err" ||
	fail "no reason given for $nobody: $(cat "$work/err")"
grep -q "^host $h1: observed (1 exec, " "$work/err" || fail "host 1 was not observed"
[ $(($(bed_execs 1) - b1)) = 1 ] || fail "host 1 got $(($(bed_execs 1) - b1)) execs"
ok "refresh: $nobody unreachable ($(grep "^host $nobody" "$work/err" | cut -d: -f3- | cut -c1-80)), $h1 observed, exit 3"

rc=0
KR_TESTBED_HOST2=$nobody "$KREC" status --app-version v1 >"$work/out" || rc=$?
[ $rc = 3 ] || fail "status exited $rc, not 3"
grep -q "^host $nobody: unreachable: .* (observed " "$work/out" || fail "status: $(cat "$work/out")"
grep -q "^host $h1: reachable, docker " "$work/out" || fail "status lost host 1"
ok "status shows why $nobody could not be read"

rc=0
KR_TESTBED_HOST1=${h1%.*}.98 KR_TESTBED_HOST2=$nobody "$KREC" refresh --app-version v1 \
	2>"$work/err" || rc=$?
[ $rc = 1 ] || fail "refresh with every host unreachable exited $rc, not 1"
grep -q "2 of 2 hosts could not be observed" "$work/err" || fail "no summary: $(cat "$work/err")"
ok "every host unreachable: exit 1"
