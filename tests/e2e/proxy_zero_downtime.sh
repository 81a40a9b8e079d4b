#!/bin/sh
# Zero downtime through the real kamal-proxy (v0.9.2) on 2 web hosts: HTTP load against each
# host's port 80 (Host header from proxy.host) while kreconcile applies (a) a version change,
# (b) an env-only change and (c) a version that never becomes healthy. Pass: no failed request
# and no non-2xx answer in (a) and (b), answers moving from old to new and never back; in (c)
# every answer from the old version. First: kamal-proxy booted as Kamal does on hosts without
# one, a plan of "No changes" once routed, and at most 5 SSH execs per host for a version change.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
. "$(dirname "$0")/apply_lib.sh"
command -v curl >/dev/null || skip "needs curl"
apply_setup
loaddir=$proj/.load
mkdir -p "$loaddir"
trap 'touch "$loaddir/stop" 2>/dev/null; wait; [ -n "${KR_KEEP:-}" ] || { bed_reset 1 2; rm -rf "$proj"; }' EXIT

# The sample's web role on hosts 1 and 2 behind kamal-proxy (host sample.test); no worker or db.
cat >"$proj/config/deploy.yml" <<'YML'
service: sample
image: sample-app
servers:
  web:
    hosts:
      - <%= ENV["KR_TESTBED_HOST1"] %>
      - <%= ENV["KR_TESTBED_HOST2"] %>
proxy:
  host: sample.test
  healthcheck:
    path: /up
    interval: 1
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
deploy_timeout: 10
drain_timeout: 5
x-kreconcile:
  known_hosts: <%= ENV["KR_TESTBED_KNOWN_HOSTS"] %>
YML

# load I NAME: GET /version from host I's port 80 until $loaddir/stop exists (at most 3000
# requests); one line per request in $loaddir/NAME.I: "<curl exit> <http code> <body>".
load() {
	kr_n=0
	while [ ! -e "$loaddir/stop" ] && [ $kr_n -lt 3000 ]; do
		kr_r=$(curl -s --max-time 5 -H 'Host: sample.test' -w ' %{http_code}' \
			"http://$(bed_host "$1")/version" 2>/dev/null) && kr_rc=0 || kr_rc=$?
		# the body's newline and the code: one line
		printf '%s %s %s\n' "$kr_rc" "${kr_r##* }" "$(printf '%s' "${kr_r% *}" | tr -d '\n')" \
			>>"$loaddir/$2.$1"
		kr_n=$((kr_n + 1))
	done
}

# during NAME ARGS...: run the apply ARGS under load on both hosts; its status in $st.
during() {
	kr_name=$1
	shift
	rm -f "$loaddir/stop"
	load 1 "$kr_name" &
	kr_l1=$!
	load 2 "$kr_name" &
	kr_l2=$!
	sleep 1
	st=0
	krec apply --auto-approve "$@" || st=$?
	sleep 1
	touch "$loaddir/stop"
	wait $kr_l1 $kr_l2
}

# count NAME I: "<requests> <failed> <non-2xx> <old> <new>" for OLD/NEW bodies in $old/$new.
count() {
	awk -v old="$old" -v new="$new" '
		{ n++; body = $0; sub(/^[^ ]* [^ ]* /, "", body) }
		$1 != 0 { failed++; next }
		$2 !~ /^2/ { bad++; next }
		body == old { o++; if (seen_new) back++ ; next }
		body == new { nw++; seen_new = 1; next }
		{ other++ }
		END { printf "%d %d %d %d %d %d %d\n", n, failed, bad, o, nw, other, back }' "$loaddir/$1.$2"
}

# check NAME MODE: MODE "switch" (no failure, old then new, ends new) or "stay" (all old).
check() {
	kr_cname=$1 kr_mode=$2
	for kr_i in 1 2; do
		set -- $(count "$kr_cname" "$kr_i") "$kr_cname" "$kr_mode"
		printf '  %s, host %s: %s requests, %s failed, %s non-2xx, %s "%s", %s "%s"\n' \
			"$8" "$kr_i" "$1" "$2" "$3" "$4" "$old" "$5" "$new"
		[ "$1" -gt 20 ] || fail "$8: only $1 requests on host $kr_i"
		[ "$2" = 0 ] || fail "$8: $2 requests failed on host $kr_i"
		[ "$3" = 0 ] || fail "$8: $3 non-2xx answers on host $kr_i"
		[ "$6" = 0 ] || fail "$8: $6 answers neither old nor new on host $kr_i"
		case $9 in
		switch)
			[ "$4" -gt 0 ] && [ "$5" -gt 0 ] || fail "$8: answers did not move from old to new on host $kr_i"
			[ "$7" = 0 ] || fail "$8: $7 old answers after a new one on host $kr_i"
			[ "$(tail -n 1 "$loaddir/$8.$kr_i" | cut -d' ' -f3-)" = "$new" ] ||
				fail "$8: the last answer on host $kr_i is not the new version"
			;;
		stay) [ "$5" = 0 ] && [ "$4" = "$1" ] || fail "$8: not every answer came from the old version on host $kr_i" ;;
		esac
	done
}

route_target() {
	bed_docker "$1" exec kamal-proxy kamal-proxy list | sed 's/\x1b\[[0-9;]*m//g' |
		awk '$1 == "sample-web" { print $4 }'
}
short_id() { bed_docker "$1" inspect -f '{{.Id}}' "$2" | cut -c1-12; }

# ---- boot: no kamal-proxy on either host; apply boots it as Kamal does and deploys v1 behind it
krec apply --app-version v1 --auto-approve || { show_out; fail "first apply failed"; }
for i in 1 2; do
	[ "$(bed_docker "$i" inspect -f '{{.Config.Image}}' kamal-proxy)" = basecamp/kamal-proxy:v0.9.2 ] ||
		fail "host $i: no kamal-proxy booted"
	[ "$(route_target "$i")" = "$(short_id "$i" sample-web-v1):80" ] ||
		fail "host $i: kamal-proxy routes sample-web to '$(route_target "$i")'"
	bed_ssh "$i" test -d .kamal/proxy/apps-config || fail "host $i: no .kamal/proxy/apps-config"
done
[ "$(curl -s --max-time 5 -H 'Host: sample.test' "http://$(bed_host 1)/version")" = "v1 hello" ] ||
	fail "port 80 of host 1 does not answer v1"
[ "$(bed_docker 1 image inspect -f '{{.Id}}' "$KR_TESTBED_REGISTRY/sample-app:latest")" = \
	"$(bed_docker 1 image inspect -f '{{.Id}}' "$KR_TESTBED_REGISTRY/sample-app:v1")" ] ||
	fail "the image is not tagged :latest after the boot"
krec plan --app-version v1 --detailed-exitcode || { show_out; fail "plan after the first apply is not empty"; }
ok "kamal-proxy booted on both hosts, sample-web routed to the v1 containers, image tagged latest; plan: no changes"

# ---- (a) a version change under load
old="v1 hello" new="v2 hello"
e1=$(bed_execs 1) e2=$(bed_execs 2)
during a --app-version v2
[ "$st" = 0 ] || { show_out; fail "(a) apply of v2 failed (exit $st)"; }
x1=$(execs_since 1 "$e1") x2=$(execs_since 2 "$e2")
check a switch
[ "$x1" -le 5 ] && [ "$x2" -le 5 ] || fail "(a) $x1 SSH execs on host 1, $x2 on host 2 (want at most 5)"
for i in 1 2; do
	[ "$(route_target "$i")" = "$(short_id "$i" sample-web-v2):80" ] || fail "(a) host $i: route not on v2"
	[ "$(bed_docker "$i" inspect -f '{{.State.Status}}' sample-web-v1)" = exited ] ||
		fail "(a) host $i: v1 was not stopped"
done
ok "(a) version change v1 -> v2 under load: 0 failed, 0 non-2xx, answers moved to v2 ($x1 and $x2 SSH execs)"

# ---- (b) an env-only change under load (same version, a new container)
old="v2 hello" new="v2 bye"
SAMPLE_MESSAGE=bye
export SAMPLE_MESSAGE
during b --app-version v2
unset SAMPLE_MESSAGE
[ "$st" = 0 ] || { show_out; fail "(b) env-only apply failed (exit $st)"; }
check b switch
ok "(b) env-only change under load: 0 failed, 0 non-2xx, answers moved to the new env"

# ---- (c) a version that never becomes healthy, under load: all answers stay old
old="v2 bye" new="never"
SAMPLE_MESSAGE=bye
export SAMPLE_MESSAGE
during c --app-version broken
[ "$st" != 0 ] || { show_out; fail "(c) apply of a never-healthy version exited 0"; }
grep -q 'kamal-proxy did not switch' "$out" || { show_out; fail "(c) no word from kamal-proxy"; }
grep -q 'failed to become healthy' "$out" || { show_out; fail "(c) kamal-proxy's reason is not shown"; }
check c stay
for i in 1 2; do
	[ -z "$(cid "$i" sample-web-broken)" ] || fail "(c) host $i: the broken container was left behind"
	[ "$(route_target "$i")" = "$(short_id "$i" sample-web-v2):80" ] || fail "(c) host $i: the route moved"
done
unset SAMPLE_MESSAGE
ok "(c) never-healthy version under load: exit $st, every answer from the old version, new containers removed"
