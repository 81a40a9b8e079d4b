#!/bin/sh
# Each host answers SSH only with the bed's user key, and a client accepts it only when its
# known_hosts holds that host's key: wrong user key, wrong or missing host key all fail.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ssh-keygen -q -t ed25519 -N '' -C stranger -f "$tmp/stranger"
: >"$tmp/empty_known_hosts"

# try KEY KNOWN_HOSTS IP: ssh with host key checking on, output and errors in $tmp/out.
try() {
	# shellcheck disable=SC2086
	ssh $kr_ssh_opts -i "$1" -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$2" \
		"root@$3" echo hello >"$tmp/out" 2>&1
}

set -- $KR_TESTBED_HOSTS $KR_TESTBED_BARE_HOSTS
total=$#
for i in $(seq 1 "$total"); do
	ip=$(bed_host "$i")
	[ "$(bed_ssh "$i" echo hello)" = hello ] || fail "host $i: no answer with the right key"
	execs=$(bed_execs "$i")

	try "$tmp/stranger" "$KR_TESTBED_KNOWN_HOSTS" "$ip" && fail "host $i accepted a stranger's key"
	grep -q 'Permission denied' "$tmp/out" || fail "host $i, stranger's key: $(cat "$tmp/out")"

	try "$KR_TESTBED_SSH_KEY" "$tmp/empty_known_hosts" "$ip" && fail "host $i: unknown host key accepted"
	grep -q 'Host key verification failed' "$tmp/out" || fail "host $i, unknown host key: $(cat "$tmp/out")"

	# known_hosts naming this address with another key (the next host's, or a fresh one).
	j=$((i % total + 1))
	if [ "$j" != "$i" ]; then
		other=$(awk -v ip="$(bed_host "$j")" '$1 == ip {print $2, $3}' "$KR_TESTBED_KNOWN_HOSTS")
	else
		ssh-keygen -q -t ed25519 -N '' -f "$tmp/fakehost"
		other=$(cut -d' ' -f1,2 "$tmp/fakehost.pub")
	fi
	echo "$ip $other" >"$tmp/wrong_known_hosts"
	try "$KR_TESTBED_SSH_KEY" "$tmp/wrong_known_hosts" "$ip" && fail "host $i: wrong host key accepted"
	grep -q 'REMOTE HOST IDENTIFICATION HAS CHANGED' "$tmp/out" ||
		fail "host $i, wrong host key: $(cat "$tmp/out")"

	[ "$(bed_execs "$i")" = "$execs" ] || fail "host $i ran a command for a refused client"
	ok "host $i ($ip): right key and host key only"
done
