#!/bin/sh
# Both hosts pull from the bed's registry with the right password (over SSH, as Kamal does) and
# are refused without credentials or with a wrong password.
. "$(dirname "$0")/lib.sh"
[ "$KR_TESTBED_NHOSTS" -ge 2 ] || skip "needs 2 hosts with docker"
reg=$KR_TESTBED_REGISTRY
trap 'bed_reset 1 2' EXIT
for i in 1 2; do
	bed_ssh "$i" "docker pull -q $reg/sample-app:v2" >/dev/null 2>&1 &&
		fail "host $i pulled without logging in"
	bed_ssh "$i" "echo wrong-password | docker login -u $KR_TESTBED_REGISTRY_USER --password-stdin $reg" \
		>/dev/null 2>&1 && fail "host $i logged in with a wrong password"
	bed_ssh "$i" "docker pull -q $reg/sample-app:v2" >/dev/null 2>&1 &&
		fail "host $i pulled after a failed login"
	bed_ssh "$i" "printf '%s' '$KR_TESTBED_REGISTRY_PASSWORD' |
		docker login -u $KR_TESTBED_REGISTRY_USER --password-stdin $reg" 2>/dev/null |
		grep -q 'Login Succeeded' || fail "host $i: login with the right password failed"
	bed_ssh "$i" "docker pull -q $reg/sample-app:v2" >/dev/null ||
		fail "host $i could not pull after logging in"
	bed_docker "$i" image inspect "$reg/sample-app:v2" >/dev/null || fail "host $i has no image"
	bed_ssh "$i" "docker logout $reg >/dev/null && docker rmi -f $reg/sample-app:v2 >/dev/null" || true
	bed_ssh "$i" "docker pull -q $reg/sample-app:v2" >/dev/null 2>&1 &&
		fail "host $i pulled after logging out"
	ok "host $i pulls only with the right password"
done
curl -s -o /dev/null -w '%{http_code}' "http://$reg/v2/" | grep -qx 401 || fail "registry answers without auth"
ok "registry refuses anonymous requests"
