#!/bin/sh
# The test images: sample-app v1..v3 answer GET /up (200) and GET /version ("<version> <message>")
# and become healthy; the broken variant never does; the worker command serves its role; a
# container stops at once; caddy serves its page.
. "$(dirname "$0")/lib.sh"
reg=$KR_TESTBED_REGISTRY
trap 'bed_reset 1' EXIT
bed_ssh 1 "printf '%s' '$KR_TESTBED_REGISTRY_PASSWORD' |
	docker login -u $KR_TESTBED_REGISTRY_USER --password-stdin $reg >/dev/null 2>&1 &&
	docker network create kamal >/dev/null &&
	for v in v1 v2 v3 broken; do
		docker run -d --name app-\$v --network kamal -e SAMPLE_MESSAGE=\"msg \$v\" $reg/sample-app:\$v || exit 1
	done >/dev/null &&
	docker run -d --name worker --network kamal $reg/sample-app:v1 /app/start worker >/dev/null &&
	docker run -d --name caddy --network kamal $reg/caddy:latest >/dev/null" ||
	fail "could not start the containers"

ip() { bed_docker 1 inspect -f '{{.NetworkSettings.Networks.kamal.IPAddress}}' "$1"; }
get() { bed_netns 1 curl -s --max-time 2 "http://$(ip "$1")$2"; }
code() { bed_netns 1 curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$(ip "$1")$2"; }
health() { bed_docker 1 inspect -f '{{.State.Health.Status}}' "$1"; }
healthy() { [ "$(health "$1")" = healthy ]; }
unhealthy() { [ "$(health "$1")" = unhealthy ]; }
serves() { get "$1" "$2" | grep -q "$3"; }

for v in v1 v2 v3; do
	wait_for 15 healthy "app-$v" || fail "app-$v not healthy: $(health "app-$v")"
	[ "$(code "app-$v" /up)" = 200 ] || fail "app-$v: GET /up is not 200"
	[ "$(get "app-$v" /version)" = "$v msg $v" ] || fail "app-$v: GET /version says '$(get "app-$v" /version)'"
	ok "sample-app:$v answers /up and /version ($v msg $v), healthy"
done
wait_for 10 unhealthy app-broken ||
	fail "app-broken is not unhealthy: $(health app-broken)"
[ "$(code app-broken /up)" != 200 ] || fail "app-broken answers /up"
ok "sample-app:broken is unhealthy and does not answer /up"

wait_for 10 serves worker /role worker ||
	fail "the worker command does not serve its role"
ok "/app/start worker runs the worker role"

t0=$(date +%s)
bed_docker 1 stop app-v1 >/dev/null
[ $(($(date +%s) - t0)) -le 3 ] || fail "docker stop took $(($(date +%s) - t0)) s: SIGTERM ignored"
ok "sample-app stops on SIGTERM"

wait_for 10 serves caddy / 'caddy on the kreconcile test bed' ||
	fail "caddy does not serve its page"
bed_docker 1 exec caddy caddy version >/dev/null || fail "caddy version fails"
ok "caddy:latest serves its page"
