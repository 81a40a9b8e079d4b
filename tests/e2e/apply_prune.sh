#!/bin/sh
# Removed roles and accessories: without --prune apply keeps them (and changes nothing); with
# --prune it removes their containers and env files, never an accessory's data directory.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
. "$(dirname "$0")/apply_lib.sh"
apply_setup

krec apply --app-version v1 --auto-approve || { show_out; fail "v1 apply failed"; }
# the worker role leaves the configuration
sed -i '/^  worker:/,/^    cmd:/d' "$proj/config/deploy.yml"
grep -q worker "$proj/config/deploy.yml" && fail "could not remove the worker role"

e2=$(bed_execs 2)
krec apply --app-version v1 --auto-approve || { show_out; fail "apply without --prune failed"; }
grep -q 'No changes' "$out" || { show_out; fail "apply without --prune wants to change something"; }
grep -q 'use --prune' "$out" || { show_out; fail "the kept role is not reported"; }
[ "$(execs_since 2 "$e2")" = 1 ] || fail "apply without --prune sent more than the observe exec"
[ -n "$(cid 2 sample-worker-v1)" ] || fail "the worker was removed without --prune"
ok "a removed role is kept without --prune (reported, nothing sent)"

db=$(cid 2 sample-db)
krec apply --app-version v1 --auto-approve --prune || { show_out; fail "apply --prune failed"; }
[ -z "$(cid 2 sample-worker-v1)" ] || fail "the worker container is still there"
bed_ssh 2 test -e .kamal/apps/sample/env/roles/worker.env && fail "the worker's env file is still there"
[ "$(cid 2 sample-db)" = "$db" ] || fail "prune touched the db"
[ "$(app_get 1 sample-web-v1 /version)" = "v1 hello" ] || fail "web stopped serving"
ok "--prune removes the worker's container and env file; web and db untouched"

# the accessory leaves the configuration: its container goes, its data stays
bed_ssh 2 'test -d sample-db/data' || fail "no data directory to begin with"
sed -i '/^accessories:/,/^x-kreconcile:/{/^x-kreconcile:/!d}' "$proj/config/deploy.yml"
krec apply --app-version v1 --auto-approve --prune || { show_out; fail "apply --prune of the accessory failed"; }
[ -z "$(cid 2 sample-db)" ] || fail "the db container is still there"
bed_ssh 2 'test -n "$(ls -A sample-db/data)"' || fail "the accessory's data directory was deleted"
krec plan --app-version v1 --detailed-exitcode --prune || { show_out; fail "plan after prune not empty"; }
ok "--prune removes a removed accessory's container and keeps its data directory"
