#!/bin/sh
# A host without docker (the bed's bare host: sshd, no engine, no docker on PATH) is reported as
# such, in one exec, by refresh and status: not a crash, not a parse error; the others go on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
need_krec
[ -n "${KR_TESTBED_BARE_HOSTS:-}" ] || skip "the bed has no host without docker (up N --bare 1)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kr_project "$work/p"
cd "$work/p"
h1=$(bed_host 1)
bare=$(bed_host $((KR_TESTBED_NHOSTS + 1)))
[ "$bare" = "${KR_TESTBED_BARE_HOSTS%% *}" ] || fail "bare host numbering: $bare"
bb=$(bed_execs $((KR_TESTBED_NHOSTS + 1)))
rc=0
KR_TESTBED_HOST2=$bare "$KREC" refresh --app-version v1 2>"$work/err" || rc=$?
[ $rc = 3 ] || fail "refresh exited $rc, not 3: $(cat "$work/err")"
grep -q "^host $bare: no docker: .*docker.*not found" "$work/err" ||
	fail "not reported as a host without docker: $(cat "$work/err")"
grep -q "^host $h1: observed (1 exec" "$work/err" || fail "host 1 not observed"
[ $(($(bed_execs $((KR_TESTBED_NHOSTS + 1))) - bb)) = 1 ] || fail "the bare host got more than one exec"
ok "refresh: $(grep "^host $bare" "$work/err")"
rc=0
KR_TESTBED_HOST2=$bare "$KREC" status --app-version v1 >"$work/out" || rc=$?
[ $rc = 3 ] || fail "status exited $rc"
grep -q "^host $bare: reachable, no docker: .*not found (observed " "$work/out" ||
	fail "status: $(cat "$work/out")"
ok "status: $(grep "^host $bare" "$work/out" | sed 's/ (observed.*//')"
