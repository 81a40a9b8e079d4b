# lib.sh: sourced by every end-to-end test script (tests/e2e/*.sh).
# Loads the running test bed's environment (tests/testbed/testbed env) and gives helpers:
#   ok MSG / fail MSG / skip WHY      report; skip exits 77 (ctest SKIP_RETURN_CODE)
#   bed_ssh I CMD...                  run CMD on host I over SSH, host key verified
#   bed_docker I ARGS...              docker against host I's engine directly (no SSH)
#   bed_netns I CMD...                run CMD inside host I's network namespace
#   bed_host I                        host I's address
#   bed_execs I                       how many SSH execs host I has served so far
#   bed_reset [I...]                  remove containers, networks, volumes, home files
#   need_krec                         skip unless $KREC (the kreconcile binary) is set
#   wait_for SECONDS CMD...           retry CMD every 0.2 s until it succeeds or time runs out
# ctest sets KREC, KR_SOURCE_DIR and KR_TESTBED (tests/e2e/CMakeLists.txt).
set -eu

: "${KR_SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${KR_TESTBED:=$KR_SOURCE_DIR/tests/testbed/testbed}"
# Debian's docker 20.10 client, like the one on the bed's hosts, comes first.
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export PATH KR_SOURCE_DIR KR_TESTBED
# The bed's addresses are never reached through a proxy.
no_proxy='*' NO_PROXY='*'
export no_proxy NO_PROXY

kr_test=$(basename "$0" .sh)
ok() { printf 'ok - %s\n' "$*"; }
fail() {
	printf 'FAIL - %s: %s\n' "$kr_test" "$*" >&2
	exit 1
}
skip() {
	printf 'SKIP - %s: %s\n' "$kr_test" "$*"
	exit 77
}

if ! kr_env=$("$KR_TESTBED" env 2>&1); then
	fail "no test bed is up ($kr_env); run: $KR_TESTBED up"
fi
eval "$kr_env"
unset kr_env

kr_ssh_opts="-F /dev/null -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=5"
bed_host() { eval "printf '%s\n' \"\$KR_TESTBED_HOST$1\""; }
bed_ssh() {
	kr_i=$1
	shift
	# shellcheck disable=SC2086
	ssh $kr_ssh_opts -i "$KR_TESTBED_SSH_KEY" -o StrictHostKeyChecking=yes \
		-o UserKnownHostsFile="$KR_TESTBED_KNOWN_HOSTS" "root@$(bed_host "$kr_i")" "$@"
}
bed_docker() {
	kr_i=$1
	shift
	DOCKER_HOST=$(eval "printf '%s' \"\$KR_TESTBED_DOCKER_H$kr_i\"") /usr/bin/docker "$@"
}
bed_netns() {
	kr_i=$1
	shift
	nsenter --net="/var/run/netns/$(eval "printf '%s' \"\$KR_TESTBED_NETNS_H$kr_i\"")" "$@"
}
bed_execs() { wc -l <"$KR_TESTBED_DIR/h$1/exec.log" | tr -d ' '; }
bed_reset() { "$KR_TESTBED" reset "$@"; }
need_krec() {
	[ -n "${KREC:-}" ] && [ -x "$KREC" ] || skip "no kreconcile binary (KREC)"
}
wait_for() {
	kr_deadline=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$kr_deadline" ] || return 1
		sleep 0.2
	done
}
