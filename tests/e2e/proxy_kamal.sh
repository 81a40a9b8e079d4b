#!/bin/sh
# Round trip with Kamal on the real kamal-proxy: a host laid out by Kamal 2.12's own commands
# (network, `kamal proxy boot`'s run command, env file, the app container, then `kamal-proxy
# deploy` with the flags Kamal derives from the config) plans as "No changes" and is adopted as
# it is (kamal-proxy not restarted); after a kreconcile version change kamal-proxy routes to the
# new container, the old one is stopped, and the image is tagged :latest as Kamal's app boot
# leaves it, so Kamal's next deploy finds the layout it expects.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
. "$(dirname "$0")/apply_lib.sh"
apply_setup

# The sample's web role on host 1 behind kamal-proxy (host sample.test), nothing else.
cat >"$proj/config/deploy.yml" <<'YML'
service: sample
image: sample-app
servers:
  web:
    hosts:
      - <%= ENV["KR_TESTBED_HOST1"] %>
proxy:
  host: sample.test
registry:
  server: <%= ENV["KR_TESTBED_REGISTRY"] %>
  username: <%= ENV.fetch("KR_TESTBED_REGISTRY_USER", "kr") %>
  password:
    - KAMAL_REGISTRY_PASSWORD
ssh:
  user: root
  keys_only: true
  keys:
    - <%= ENV.fetch("KR_TESTBED_SSH_KEY") %>
builder:
  arch: amd64
env:
  clear:
    SAMPLE_MESSAGE: <%= ENV["SAMPLE_MESSAGE"] || "hello" %>
  secret:
    - DATABASE_URL
x-kreconcile:
  known_hosts: <%= ENV["KR_TESTBED_KNOWN_HOSTS"] %>
YML

# ---- the host as `kamal deploy` (v1) leaves it
kamal_login 1
kamal_network 1
bed_ssh 1 'mkdir -p .kamal/proxy/apps-config && { docker container start kamal-proxy || echo "$(cat .kamal/proxy/options 2> /dev/null || echo "--publish 80:80 --publish 443:443 --log-opt max-size=10m") $(cat .kamal/proxy/image 2> /dev/null || echo "basecamp/kamal-proxy"):$(cat .kamal/proxy/image_version 2> /dev/null || echo "v0.9.2") $(cat .kamal/proxy/run_command 2> /dev/null || echo "")" | xargs docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config; }' \
	>/dev/null 2>&1 || fail "Kamal's proxy boot failed"
kamal_env_files 1 web
kamal_app 1 web v1
endpoint=$(bed_ssh 1 "docker container ls --all --filter 'name=^sample-web-v1\$' --quiet")
[ -n "$endpoint" ] || fail "no endpoint for sample-web-v1"
bed_ssh 1 "docker exec kamal-proxy kamal-proxy deploy sample-web --target=\"$endpoint:80\" \
	--host=\"sample.test\" --deploy-timeout=\"30s\" --drain-timeout=\"30s\" --buffer-requests \
	--buffer-responses --log-request-header=\"Cache-Control\" --log-request-header=\"Last-Modified\" \
	--log-request-header=\"User-Agent\"" || fail "Kamal's kamal-proxy deploy failed"
proxy_started=$(bed_docker 1 inspect -f '{{.State.StartedAt}}' kamal-proxy)
[ "$(curl -s --max-time 5 -H 'Host: sample.test' "http://$(bed_host 1)/version")" = "v1 hello" ] ||
	fail "the Kamal-made host does not serve v1 on port 80"

krec plan --app-version v1 --detailed-exitcode || { show_out; fail "plan of the Kamal-made host is not empty"; }
grep -q 'No changes' "$out" || { show_out; fail "plan does not say No changes"; }
krec plan --app-version v1 --json || { show_out; fail "plan --json failed"; }
ok "a host Kamal laid out with kamal-proxy routing to the web container plans as No changes"

e1=$(bed_execs 1)
krec apply --app-version v1 --auto-approve || { show_out; fail "no-op apply failed"; }
[ "$(execs_since 1 "$e1")" -le 2 ] || fail "a no-op apply sent $(execs_since 1 "$e1") execs"
[ "$(bed_docker 1 inspect -f '{{.State.StartedAt}}' kamal-proxy)" = "$proxy_started" ] ||
	fail "kamal-proxy was restarted"
ok "kamal-proxy adopted as it is: not restarted, nothing sent"

# ---- a version change by kreconcile
krec apply --app-version v2 --auto-approve || { show_out; fail "apply of v2 failed"; }
target=$(bed_ssh 1 docker exec kamal-proxy kamal-proxy list | sed 's/\x1b\[[0-9;]*m//g' |
	awk '$1 == "sample-web" { print $2, $4 }')
new=$(bed_ssh 1 "docker container ls --all --filter 'name=^sample-web-v2\$' --quiet")
[ "$target" = "sample.test $new:80" ] || fail "kamal-proxy list shows '$target', want 'sample.test $new:80'"
[ "$(bed_docker 1 inspect -f '{{.State.Status}}' sample-web-v1)" = exited ] || fail "v1 was not stopped"
[ "$(bed_docker 1 inspect -f '{{.State.StartedAt}}' kamal-proxy)" = "$proxy_started" ] ||
	fail "kamal-proxy was restarted by the version change"
[ "$(curl -s --max-time 5 -H 'Host: sample.test' "http://$(bed_host 1)/version")" = "v2 hello" ] ||
	fail "port 80 does not serve v2"
[ "$(bed_docker 1 image inspect -f '{{.Id}}' "$KR_TESTBED_REGISTRY/sample-app:latest")" = \
	"$(bed_docker 1 image inspect -f '{{.Id}}' "$KR_TESTBED_REGISTRY/sample-app:v2")" ] ||
	fail "the image is not tagged :latest"
# what Kamal's next deploy reads: the running version by name, the proxy's version
[ "$(bed_ssh 1 "docker ps --filter label=service=sample --filter label=role=web --filter status=running --latest --format '{{.Names}}'")" = sample-web-v2 ] ||
	fail "Kamal's current_running_version would not find sample-web-v2"
[ "$(bed_ssh 1 "docker inspect kamal-proxy --format '{{.Config.Image}}' | awk -F: '{print \$NF}'")" = v0.9.2 ] ||
	fail "Kamal's proxy version check does not read v0.9.2"
krec plan --app-version v2 --detailed-exitcode || { show_out; fail "plan after the version change is not empty"; }
ok "after kreconcile's version change kamal-proxy lists sample.test -> $new:80; v1 stopped, :latest tagged, plan empty"

# ---- a route-only change (proxy options; the container stays): one kamal-proxy deploy of it
sed -i 's/^  host: sample.test$/  host: sample.test\n  healthcheck:\n    interval: 2\n    path: \/up\n  response_timeout: 45/' \
	"$proj/config/deploy.yml"
status=0
krec plan --app-version v2 --detailed-exitcode || status=$?
[ "$status" = 2 ] || { show_out; fail "plan of a proxy option change: exit $status, want 2"; }
grep -q 'route/sample-web will be updated in-place' "$out" || { show_out; fail "no route update planned"; }
grep -q 'health_check_interval 1s → 2s, response_timeout 30s → 45s' "$out" ||
	{ show_out; fail "the route change does not say why"; }
web2=$(cid 1 sample-web-v2)
krec apply --app-version v2 --auto-approve || { show_out; fail "apply of the route change failed"; }
[ "$(cid 1 sample-web-v2)" = "$web2" ] || fail "the container was replaced for a route change"
[ "$(bed_docker 1 inspect -f '{{.State.Status}}' sample-web-v2)" = running ] || fail "v2 is not running"
bed_docker 1 exec kamal-proxy cat /home/kamal-proxy/.config/kamal-proxy/kamal-proxy.state |
	grep -q '"response_timeout":45000000000' || fail "kamal-proxy does not hold the new response timeout"
krec plan --app-version v2 --detailed-exitcode || { show_out; fail "plan after the route change is not empty"; }
ok "a proxy option change is one route update (kamal-proxy deploy of the running container), then no changes"
