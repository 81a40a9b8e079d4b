#!/bin/sh
# proxy/run in the config (Kamal's Proxy::Run): kreconcile boots kamal-proxy with Kamal's run
# command built from it (ports, log size, options) instead of the boot config files, and the role
# answers on the configured port; the next plan is empty.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
. "$(dirname "$0")/apply_lib.sh"
apply_setup

cat >"$proj/config/deploy.yml" <<'YML'
service: sample
image: sample-app
servers:
  web:
    hosts:
      - <%= ENV["KR_TESTBED_HOST1"] %>
proxy:
  host: sample.test
  run:
    http_port: 8080
    https_port: 8443
    log_max_size: 20m
    options:
      label:
        - kreconcile.test=proxy-run
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
  secret:
    - DATABASE_URL
x-kreconcile:
  known_hosts: <%= ENV["KR_TESTBED_KNOWN_HOSTS"] %>
YML

krec apply --app-version v1 --auto-approve || { show_out; fail "apply failed"; }
ports=$(bed_docker 1 inspect -f '{{range $p, $b := .HostConfig.PortBindings}}{{$p}}={{(index $b 0).HostPort}} {{end}}' kamal-proxy)
[ "$ports" = "443/tcp=8443 80/tcp=8080 " ] || fail "kamal-proxy publishes '$ports'"
[ "$(bed_docker 1 inspect -f '{{index .HostConfig.LogConfig.Config "max-size"}}' kamal-proxy)" = 20m ] ||
	fail "kamal-proxy's log max-size is not 20m"
[ "$(bed_docker 1 inspect -f '{{index .Config.Labels "kreconcile.test"}}' kamal-proxy)" = proxy-run ] ||
	fail "proxy/run's options did not reach docker run"
[ "$(bed_docker 1 inspect -f '{{.Config.Image}}' kamal-proxy)" = basecamp/kamal-proxy:v0.9.2 ] ||
	fail "kamal-proxy's image is $(bed_docker 1 inspect -f '{{.Config.Image}}' kamal-proxy)"
[ "$(curl -s --max-time 5 -H 'Host: sample.test' "http://$(bed_host 1):8080/version")" = "v1 " ] ||
	fail "port 8080 of host 1 does not answer v1"
krec plan --app-version v1 --detailed-exitcode || { show_out; fail "plan after the apply is not empty"; }
ok "kamal-proxy booted from proxy/run (ports 8080/8443, log max-size 20m, options); web answers on 8080; plan empty"
