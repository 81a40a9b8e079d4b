#!/bin/sh
# A host started with --bare answers SSH but has no docker: not on its PATH, no engine.
. "$(dirname "$0")/lib.sh"
[ -n "$KR_TESTBED_BARE_HOSTS" ] || skip "no bare host (testbed up N --bare M)"
i=$KR_TESTBED_NHOSTS
for ip in $KR_TESTBED_BARE_HOSTS; do
	i=$((i + 1))
	[ "$(bed_ssh "$i" echo hello)" = hello ] || fail "bare host $i ($ip) does not answer"
	bed_ssh "$i" 'command -v docker' >/dev/null && fail "bare host $i has docker on its PATH"
	bed_ssh "$i" 'docker ps' >/dev/null 2>&1 && fail "docker ps works on bare host $i"
	bed_docker "$i" version >/dev/null 2>&1 && fail "bare host $i has an engine"
	ok "bare host $i ($ip): ssh yes, docker no"
done
