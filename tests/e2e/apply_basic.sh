#!/bin/sh
# kreconcile apply on the sample app (web on host 1; worker and the Postgres accessory on host 2):
# first apply from empty, a no-op apply that sends no command changing a host, a version change
# that replaces only the app containers in at most 5 SSH execs per host, a changed secret that
# recreates only the containers reading it (same version), an accessory env change that replaces
# only Postgres and keeps its data, and a container stopped by hand that plan shows and apply
# repairs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
. "$(dirname "$0")/apply_lib.sh"
apply_setup

# ---- first apply from empty
e1=$(bed_execs 1) e2=$(bed_execs 2)
krec apply --app-version v1 --auto-approve || { show_out; fail "first apply failed"; }
x1=$(execs_since 1 "$e1") x2=$(execs_since 2 "$e2")
grep -q 'Apply complete: 8 added, 0 changed, 0 destroyed.' "$out" || { show_out; fail "summary"; }
grep -q 'Hosts match the configuration.' "$out" || { show_out; fail "hosts do not match"; }
[ "$(names 1)" = sample-web-v1 ] || fail "host 1 runs: $(names 1)"
[ "$(names 2 | tr '\n' ' ')" = "sample-db sample-worker-v1 " ] || fail "host 2 runs: $(names 2)"
[ "$(app_get 1 sample-web-v1 /version)" = "v1 hello" ] || fail "web /version: $(app_get 1 sample-web-v1 /version)"
[ "$(bed_ssh 1 stat -c %a .kamal/apps/sample/env/roles/web.env)" = 600 ] || fail "env file mode"
bed_ssh 1 test -d .kamal/lock-sample && fail "the deploy lock was left behind"
bed_ssh 1 test -e .kamal/kreconcile-prev && fail "apply left its working directory on host 1"
# the snapshot apply stored last (what status shows) was read after the lock was released
krec status || { show_out; fail "status after apply failed"; }
grep -q 'deploy lock: free' "$out" || { show_out; fail "status after apply does not show the lock free"; }
bed_ssh 1 cat .kamal/sample-audit.log | grep -q '\[web\] Booted app version v1' ||
	fail "no audit line on host 1"
# secrets never in argv: the commands the hosts ran hold none of them
secret_values | while read -r v; do
	new_execs 1 "$e1" | grep -qF -- "$v" && fail "a secret value reached a command line on host 1"
	new_execs 2 "$e2" | grep -qF -- "$v" && fail "a secret value reached a command line on host 2"
	true
done
grep -qF "$kr_db_password" "$out" && fail "a secret value was printed"
ok "first apply from empty: 8 added, hosts match ($x1 SSH execs on host 1, the lock host; $x2 on host 2)"

# ---- plan again: nothing; apply again: nothing, and only the observe exec reaches each host
krec plan --app-version v1 --detailed-exitcode || { show_out; fail "plan after apply is not empty (exit $?)"; }
grep -q 'No changes' "$out" || { show_out; fail "plan does not say No changes"; }
e1=$(bed_execs 1) e2=$(bed_execs 2)
krec apply --app-version v1 --auto-approve || { show_out; fail "second apply failed"; }
grep -q 'No changes' "$out" || { show_out; fail "second apply changed something"; }
[ "$(execs_since 1 "$e1")" = 1 ] && [ "$(execs_since 2 "$e2")" = 1 ] ||
	fail "a no-op apply sent $(execs_since 1 "$e1") and $(execs_since 2 "$e2") execs (want 1 observe each)"
for i in 1 2; do
	eval "e=\$e$i"
	if new_execs $i "$e" | grep -qE 'docker (run|rm|stop|start|rename|network create|login|pull)|mkdir|@@KRA|@@KRL'; then
		fail "a no-op apply sent a command that changes host $i"
	fi
done
ok "apply twice: the second plans no change and sends only one read-only exec per host"

# ---- a new version: only the app containers replaced, Postgres untouched
db=$(cid 2 sample-db)
e1=$(bed_execs 1) e2=$(bed_execs 2)
krec apply --app-version v2 --auto-approve || { show_out; fail "v2 apply failed"; }
x1=$(execs_since 1 "$e1") x2=$(execs_since 2 "$e2")
grep -q 'Apply complete: 0 added, 2 changed, 0 destroyed.' "$out" || { show_out; fail "v2 summary"; }
[ "$(cid 2 sample-db)" = "$db" ] || fail "Postgres was replaced by a version change"
[ "$(app_get 1 sample-web-v2 /version)" = "v2 hello" ] || fail "web does not serve v2"
[ "$(bed_docker 1 inspect -f '{{.State.Status}}' sample-web-v1)" = exited ] || fail "v1 not stopped"
[ "$x1" -le 5 ] && [ "$x2" -le 5 ] || fail "version change took $x1 / $x2 SSH execs (target <= 5)"
ok "version change v1 -> v2: apps replaced, Postgres untouched, $x1 SSH execs on host 1 (lock host), $x2 on host 2"

# ---- one secret changed: only the containers reading it, same version
web=$(cid 1 sample-web-v2) worker=$(cid 2 sample-worker-v2)
sed -i 's|^DATABASE_URL=.*|DATABASE_URL=postgres://sample:${POSTGRES_PASSWORD}@${KR_TESTBED_HOST2}:5432/other|' \
	"$proj/.kamal/secrets"
krec apply --app-version v2 --auto-approve || { show_out; fail "secret change apply failed"; }
[ "$(cid 2 sample-db)" = "$db" ] || fail "Postgres was replaced by a secret it does not read"
nweb=$(cid 1 sample-web-v2)
[ -n "$nweb" ] && [ "$nweb" != "$web" ] || fail "web was not recreated"
[ "$(cid 2 sample-worker-v2)" != "$worker" ] || fail "worker was not recreated"
bed_docker 1 inspect -f '{{range .Config.Env}}{{println .}}{{end}}' sample-web-v2 |
	grep -qx "DATABASE_URL=postgres://sample:$kr_db_password@$KR_TESTBED_HOST2:5432/other" ||
	fail "web does not see the new DATABASE_URL"
grep -q 'Hosts match the configuration.' "$out" || { show_out; fail "hosts do not match after the secret change"; }
ok "a changed secret recreated web and worker with the same version (sample-web-v2), Postgres untouched"

# ---- the accessory's env changed: only Postgres replaced, its data kept
wait_for 30 psql_db 'select 1' || fail "postgres does not answer"
psql_db "create table kept (note text); insert into kept values ('survives')" || fail "insert failed"
web=$(cid 1 sample-web-v2) worker=$(cid 2 sample-worker-v2)
sed -i 's|^        POSTGRES_DB: sample_production|&\n        TZ: UTC|' "$proj/config/deploy.yml"
grep -q 'TZ: UTC' "$proj/config/deploy.yml" || fail "could not edit the accessory env"
krec apply --app-version v2 --auto-approve || { show_out; fail "accessory change apply failed"; }
grep -q 'Apply complete: 0 added, 1 changed, 0 destroyed.' "$out" || { show_out; fail "accessory summary"; }
[ "$(cid 2 sample-db)" != "$db" ] || fail "Postgres was not replaced"
[ "$(cid 1 sample-web-v2)" = "$web" ] && [ "$(cid 2 sample-worker-v2)" = "$worker" ] ||
	fail "app containers were touched by an accessory change"
wait_for 30 psql_db 'select 1' || fail "replaced postgres does not answer"
[ "$(psql_db 'select note from kept')" = survives ] || fail "the row did not survive the replace"
ok "accessory env change: only Postgres replaced, the row written before is still there"

# ---- drift: a container stopped by hand
bed_docker 1 stop sample-web-v2 >/dev/null
krec plan --app-version v2 --detailed-exitcode && fail "plan did not see the stopped container"
[ $? -eq 2 ] || { show_out; fail "plan exit status for drift is not 2"; }
grep -q 'drift' "$out" || { show_out; fail "plan does not call it drift"; }
krec apply --app-version v2 --auto-approve || { show_out; fail "drift repair failed"; }
[ "$(bed_docker 1 inspect -f '{{.State.Status}}' sample-web-v2)" = running ] || fail "web not running again"
krec plan --app-version v2 --detailed-exitcode || { show_out; fail "plan not empty after the repair"; }
ok "a container stopped by hand: plan shows the drift, apply starts it again"
