#!/bin/sh
# Hosts are independent machines: a container (and a published port) on host 1 does not exist
# on host 2; each host has its own home directory; hosts reach each other and the registry.
. "$(dirname "$0")/lib.sh"
[ "$KR_TESTBED_NHOSTS" -ge 2 ] || skip "needs 2 hosts with docker"
name=iso-$$
trap 'bed_reset 1 2' EXIT

bed_ssh 1 "printf '%s' '$KR_TESTBED_REGISTRY_PASSWORD' |
	docker login -u '$KR_TESTBED_REGISTRY_USER' --password-stdin $KR_TESTBED_REGISTRY >/dev/null 2>&1 &&
	docker network create kamal >/dev/null && docker pull -q $KR_TESTBED_REGISTRY/sample-app:v1 >/dev/null &&
	docker run -d --name $name --network kamal -p 8081:80 $KR_TESTBED_REGISTRY/sample-app:v1 >/dev/null" ||
	fail "could not start a container on host 1"
bed_docker 1 ps --format '{{.Names}}' | grep -qx "$name" || fail "host 1 does not list its container"
bed_docker 2 ps -a --format '{{.Names}}' | grep -q "$name" && fail "host 2 lists host 1's container"
bed_ssh 2 "docker ps -a --format '{{.Names}}'" | grep -q "$name" && fail "host 2 (over ssh) lists it"
# (every host holds the kamal-proxy image the bed loads, as a host Kamal boots its proxy on)
bed_docker 2 images --format '{{.Repository}}:{{.Tag}}' | grep -vx 'basecamp/kamal-proxy:v0.9.2' |
	grep -q . && fail "host 2 holds images it never pulled"
ok "a container on host 1 is invisible on host 2"

wait_for 10 curl -sf "http://$KR_TESTBED_HOST1:8081/up" || fail "host 1's published port does not answer"
curl -s --max-time 2 "http://$KR_TESTBED_HOST2:8081/up" && fail "host 2 answers on host 1's published port"
ok "a port published on host 1 is not open on host 2"

h1=$(bed_ssh 1 pwd) h2=$(bed_ssh 2 pwd)
[ "$h1" != "$h2" ] || fail "hosts share the home directory $h1"
[ "$(bed_ssh 1 'echo $HOME')" = "$h1" ] || fail "HOME is not the login directory on host 1"
bed_ssh 1 'echo one >marker' && [ "$(bed_ssh 2 'cat marker 2>/dev/null || echo none')" = none ] ||
	fail "a file in host 1's home appears on host 2"
ok "each host has its own home ($h1, $h2)"

bed_netns 1 bash -c "exec 3<>/dev/tcp/$KR_TESTBED_HOST2/22" || fail "host 1 cannot reach host 2"
bed_netns 2 bash -c "exec 3<>/dev/tcp/${KR_TESTBED_REGISTRY%:*}/${KR_TESTBED_REGISTRY#*:}" ||
	fail "host 2 cannot reach the registry"
ok "hosts reach each other and the registry"

bed_ssh 2 "printf '%s' '$KR_TESTBED_REGISTRY_PASSWORD' |
	docker login -u '$KR_TESTBED_REGISTRY_USER' --password-stdin $KR_TESTBED_REGISTRY >/dev/null 2>&1 &&
	docker network create kamal >/dev/null && docker run -d --name $name --network kamal \
	-p 8082:80 $KR_TESTBED_REGISTRY/sample-app:v2 >/dev/null 2>&1" || fail "could not start a container on host 2"
wait_for 10 curl -sf "http://$KR_TESTBED_HOST2:8082/up" || fail "host 2's published port does not answer"
# (busybox wget: no -T, it crashes with a timeout set)
[ "$(bed_docker 1 exec "$name" wget -q -O- "http://$KR_TESTBED_HOST2:8082/version")" = "v2 " ] ||
	fail "a container on host 1 cannot reach a port published on host 2"
ok "a container on host 1 reaches a port published on host 2"
