#!/bin/sh
# Two beds side by side (issue 9, item 9): bringing a second bed up and down leaves this bed's
# sshd working. /run/sshd is shared by every bed's sshd; one bed's `down` must never remove it
# while another bed runs (it once did: the next connection to the others was reset).
. "$(dirname "$0")/lib.sh"
me=${KR_TESTBED_ID:-0}
# The other bed's id: this one's + 50 (0-49 map to 50-99), so two build trees never pick the same.
other=$(((me % 50) + 50))
[ "$other" != "$me" ] || other=$(((me + 1) % 100))
odir=/var/tmp/kreconcile-testbed-$other
if [ -e "/sys/fs/cgroup/kreconcile-testbed-$other" ] || [ -e "/sys/fs/cgroup/pids/kreconcile-testbed-$other" ]; then
	skip "bed $other (the second bed this test would use) is already running"
fi
trap 'KR_TESTBED_ID=$other KR_TESTBED_DIR=$odir "$KR_TESTBED" down >/dev/null 2>&1 || true' EXIT

[ "$(bed_ssh 1 echo hello)" = hello ] || fail "bed $me, host 1: no answer before the second bed"
KR_TESTBED_ID=$other KR_TESTBED_DIR=$odir "$KR_TESTBED" up 1 >/dev/null 2>&1 ||
	fail "could not bring up bed $other beside bed $me"
ok "bed $other up beside bed $me"
KR_TESTBED_ID=$other KR_TESTBED_DIR=$odir "$KR_TESTBED" down --check >/dev/null 2>&1 ||
	fail "bed $other: down --check failed"
[ -d /run/sshd ] || fail "bed $other's down removed /run/sshd while bed $me runs"
out=$(bed_ssh 1 echo hello 2>&1) || fail "bed $me, host 1: ssh failed after bed $other's down: $out"
[ "$out" = hello ] || fail "bed $me, host 1: unexpected answer after bed $other's down: $out"
ok "bed $other's down left /run/sshd and bed $me's sshd answers"
