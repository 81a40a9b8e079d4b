#!/bin/sh
# The kamal-proxy image Kamal 2.12 boots (basecamp/kamal-proxy:v0.9.2, built from its sources by
# the bed) is on every bed host under that name; started with Kamal's default boot options it runs
# as user kamal-proxy, `kamal-proxy list` answers, and a target deployed through it serves the
# host's port 80.
. "$(dirname "$0")/lib.sh"
img=basecamp/kamal-proxy:v0.9.2
reg=$KR_TESTBED_REGISTRY
trap 'bed_reset 1' EXIT

for i in $(seq 1 "$KR_TESTBED_NHOSTS"); do
	bed_docker "$i" image inspect "$img" >/dev/null 2>&1 || fail "host $i has no $img"
done
[ "$(bed_docker 1 image inspect -f '{{.Config.User}}' "$img")" = kamal-proxy:kamal-proxy ] ||
	fail "$img does not run as kamal-proxy:kamal-proxy"
ok "$img is on all $KR_TESTBED_NHOSTS docker hosts, user kamal-proxy"

# Kamal's boot command without proxy/run (boot_config defaults), over SSH.
bed_ssh 1 "docker network create kamal >/dev/null &&
	mkdir -p .kamal/proxy/apps-config &&
	echo \"\$(cat .kamal/proxy/options 2> /dev/null || echo \"--publish 80:80 --publish 443:443 --log-opt max-size=10m\") \$(cat .kamal/proxy/image 2> /dev/null || echo \"basecamp/kamal-proxy\"):\$(cat .kamal/proxy/image_version 2> /dev/null || echo \"v0.9.2\") \$(cat .kamal/proxy/run_command 2> /dev/null || echo \"\")\" |
	xargs docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume \$PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config >/dev/null" ||
	fail "Kamal's proxy boot command failed on host 1"
listed() { bed_ssh 1 docker exec kamal-proxy kamal-proxy list | grep -q 'Service'; }
wait_for 15 listed || fail "kamal-proxy list does not answer: $(bed_ssh 1 docker exec kamal-proxy kamal-proxy list 2>&1)"
[ "$(bed_docker 1 exec kamal-proxy id -un)" = kamal-proxy ] || fail "kamal-proxy does not run as kamal-proxy"
ok "kamal-proxy booted with Kamal's command; kamal-proxy list answers"

bed_ssh 1 "printf '%s' '$KR_TESTBED_REGISTRY_PASSWORD' |
	docker login -u $KR_TESTBED_REGISTRY_USER --password-stdin $reg >/dev/null 2>&1 &&
	docker run -d --name app --network kamal $reg/sample-app:v1 >/dev/null &&
	docker exec kamal-proxy kamal-proxy deploy sample-web --target=\$(docker ps -q --filter name=^app\$):80 --host=sample.test --deploy-timeout=20s" ||
	fail "kamal-proxy deploy of the sample app failed"
bed_docker 1 exec kamal-proxy kamal-proxy list | grep -q 'sample-web.*sample.test' ||
	fail "the route is not listed: $(bed_docker 1 exec kamal-proxy kamal-proxy list)"
body=$(curl -s --max-time 3 -H 'Host: sample.test' "http://$(bed_host 1)/version") || true
[ "$body" = "v1 " ] || fail "GET http://$(bed_host 1)/version with Host sample.test says '$body'"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 -H 'Host: other.test' "http://$(bed_host 1)/version") || true
[ "$code" = 404 ] || fail "a request for another host got $code, not 404"
bed_docker 1 exec kamal-proxy cat /home/kamal-proxy/.config/kamal-proxy/kamal-proxy.state |
	grep -q '"name":"sample-web"' || fail "kamal-proxy's state file does not hold the route"
ok "a target deployed through kamal-proxy answers on port 80 of host 1 for its host only"
