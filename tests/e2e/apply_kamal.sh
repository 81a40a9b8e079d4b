#!/bin/sh
# Taking over hosts deployed by Kamal 2 (made by hand exactly as Kamal names, labels and runs
# them): apply with the matching config changes nothing and sends only the observe exec; a new
# version replaces only the app containers (Kamal's old ones stopped and kept), leaves Kamal's
# Postgres running as it was, keeps Kamal's lock and audit log conventions, and plans clean after.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
. "$(dirname "$0")/apply_lib.sh"
apply_setup
for i in 1 2; do
	kamal_network $i
	kamal_login $i
done
kamal_env_files 1 web
kamal_env_files 2 worker db
kamal_app 1 web v1
kamal_app 2 worker v1
kamal_db 2
db=$(cid 2 sample-db) web=$(cid 1 sample-web-v1)

e1=$(bed_execs 1) e2=$(bed_execs 2)
krec apply --app-version v1 --auto-approve || { show_out; fail "apply on Kamal-made hosts failed"; }
grep -q 'No changes' "$out" || { show_out; fail "apply on Kamal-made hosts wants changes"; }
[ "$(execs_since 1 "$e1")" = 1 ] && [ "$(execs_since 2 "$e2")" = 1 ] || fail "apply sent more than observe"
ok "Kamal-made hosts with the matching config: apply changes nothing (1 exec per host)"

krec apply --app-version v2 --auto-approve || { show_out; fail "v2 over Kamal-made v1 failed"; }
grep -q 'Hosts match the configuration.' "$out" || { show_out; fail "hosts do not match after v2"; }
[ "$(cid 2 sample-db)" = "$db" ] || fail "Kamal's Postgres was replaced by a version change"
[ "$(cid 1 sample-web-v1)" = "$web" ] || fail "Kamal's v1 container was removed (should be kept, stopped)"
[ "$(bed_docker 1 inspect -f '{{.State.Status}}' sample-web-v1)" = exited ] || fail "Kamal's v1 still running"
[ "$(app_get 1 sample-web-v2 /version)" = "v2 hello" ] || fail "v2 does not serve"
[ -n "$(bed_docker 1 inspect -f '{{index .Config.Labels "kreconcile.defhash"}}' sample-web-v2)" ] ||
	fail "the new container carries no definition hash"
# the same env file bytes Kamal wrote are still there (nothing to rewrite)
[ "$(bed_ssh 1 cat .kamal/apps/sample/env/roles/web.env)" = "DATABASE_URL=$kr_database_url" ] ||
	fail "the env file changed"
krec plan --app-version v2 --detailed-exitcode || { show_out; fail "plan after taking over is not empty"; }
ok "v2 over Kamal's v1: apps replaced (Kamal's v1 stopped and kept), Kamal's Postgres untouched, plan clean"
