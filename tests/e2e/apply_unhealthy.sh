#!/bin/sh
# An app version that never becomes healthy (sample-app:broken): apply removes the new container,
# leaves the old version running and serving, says why with the container's last log lines,
# releases the lock and exits non-zero; the next apply of a good version converges.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
. "$(dirname "$0")/apply_lib.sh"
apply_setup
# a short deploy timeout keeps the test quick (Kamal's default is 30 s)
printf 'deploy_timeout: 8\nreadiness_delay: 2\n' >>"$proj/config/deploy.yml"

krec apply --app-version v1 --auto-approve || { show_out; fail "v1 apply failed"; }
web=$(cid 1 sample-web-v1)

status=0
krec apply --app-version broken --auto-approve || status=$?
[ "$status" -ne 0 ] || { show_out; fail "apply of an unhealthy version exited 0"; }
[ "$status" -eq 1 ] || { show_out; fail "both hosts failed: exit status should be 1, not $status"; }
grep -q 'not healthy' "$out" || { show_out; fail "no word on the unhealthy container"; }
grep -q 'sample-app broken (web) listening' "$out" || { show_out; fail "no log lines of the new container"; }
grep -q 'Hosts do not match the configuration yet' "$out" || { show_out; fail "claims the hosts match"; }
[ "$(cid 1 sample-web-v1)" = "$web" ] || fail "the old container is not the one running"
[ "$(bed_docker 1 inspect -f '{{.State.Status}}' sample-web-v1)" = running ] || fail "v1 is not running"
[ "$(app_get 1 sample-web-v1 /version)" = "v1 hello" ] || fail "v1 does not serve /version"
[ -z "$(cid 1 sample-web-broken)" ] || fail "the unhealthy container was left behind"
[ -z "$(cid 2 sample-worker-broken)" ] || fail "the unhealthy worker was left behind"
bed_ssh 1 test -d .kamal/lock-sample && fail "the deploy lock was left behind"
ok "unhealthy version: exit $status, new containers removed, v1 still running and serving /version"

# the journal says which action failed (and why), host by host
db=$proj/.kreconcile/state.db
if command -v sqlite3 >/dev/null 2>&1; then
	[ "$(sqlite3 "$db" "select count(*) from journal where result = 'failed' and address like '%/app/%'")" = 2 ] ||
		fail "the journal does not hold the two failed app actions"
	sqlite3 "$db" "select stderr_tail from journal where result = 'failed'" | grep -q 'not healthy' ||
		fail "the journal does not say why"
	ok "the journal records each failed action with its output"
fi

krec apply --app-version v2 --auto-approve || { show_out; fail "v2 after the failure did not apply"; }
[ "$(app_get 1 sample-web-v2 /version)" = "v2 hello" ] || fail "v2 does not serve"
ok "the next apply with a good version converges"

# a version the registry does not have: waiting, nothing sent, and no success
e1=$(bed_execs 1)
status=0
krec apply --app-version v404 --auto-approve || status=$?
[ "$status" -eq 1 ] || { show_out; fail "apply of an unpushed version: exit $status, want 1"; }
grep -q 'registry does not have' "$out" || { show_out; fail "no word on the missing image"; }
[ "$(execs_since 1 "$e1")" = 1 ] || fail "apply of an unpushed version sent more than the observe exec"
[ "$(app_get 1 sample-web-v2 /version)" = "v2 hello" ] || fail "v2 stopped serving"
ok "a version the registry does not have: waiting, nothing sent to the hosts, exit 1"
