#!/bin/sh
# An accessory with `proxy` (Kamal's accessory boot): on a host where nothing else is proxied,
# kreconcile boots kamal-proxy, runs the accessory and routes its service name to it; the host's
# port 80 answers for the accessory's host; the next plan is empty; a new image replaces the
# accessory and moves its route.
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
    proxy: false
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
accessories:
  site:
    image: <%= ENV["KR_TESTBED_REGISTRY"] %>/sample-app:<%= ENV["SITE_VERSION"] || "v1" %>
    host: <%= ENV["KR_TESTBED_HOST2"] %>
    proxy:
      host: site.test
x-kreconcile:
  known_hosts: <%= ENV["KR_TESTBED_KNOWN_HOSTS"] %>
YML

get_site() { curl -s --max-time 5 -H 'Host: site.test' "http://$(bed_host 2)/version"; }
route() {
	bed_docker 2 exec kamal-proxy kamal-proxy list | sed 's/\x1b\[[0-9;]*m//g' |
		awk '$1 == "sample-site" { print $2, $4 }'
}
short_id() { bed_docker 2 inspect -f '{{.Id}}' "$1" | cut -c1-12; }

krec apply --app-version v1 --auto-approve || { show_out; fail "apply failed"; }
bed_docker 1 inspect kamal-proxy >/dev/null 2>&1 && fail "host 1 (nothing proxied) got a kamal-proxy"
[ "$(route)" = "site.test $(short_id sample-site):80" ] || fail "kamal-proxy routes sample-site as '$(route)'"
[ "$(get_site)" = "v1 " ] || fail "port 80 of host 2 answers '$(get_site)' for site.test"
krec plan --app-version v1 --detailed-exitcode || { show_out; fail "plan after the apply is not empty"; }
ok "the accessory runs behind a kamal-proxy booted for it, routed as sample-site (site.test), plan empty"

SITE_VERSION=v2
export SITE_VERSION
krec apply --app-version v1 --auto-approve || { show_out; fail "apply of the accessory's new image failed"; }
[ "$(route)" = "site.test $(short_id sample-site):80" ] || fail "the route did not move: '$(route)'"
[ "$(get_site)" = "v2 " ] || fail "port 80 of host 2 answers '$(get_site)' after the new image"
krec plan --app-version v1 --detailed-exitcode || { show_out; fail "plan after the new image is not empty"; }
ok "a new image of the accessory: replaced, its route moved to the new container"
