#!/bin/sh
# Secret values in a failed container's logs never reach the terminal or the journal (issue 9,
# item 6): with `cmd: env` the new web container prints its environment (DATABASE_URL holds the
# database password) and exits, so apply prints its last log lines; every secret value in them
# reads (sensitive).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
. "$(dirname "$0")/apply_lib.sh"
apply_setup
printf 'deploy_timeout: 8\nreadiness_delay: 2\n' >>"$proj/config/deploy.yml"
krec apply --app-version v1 --auto-approve || { show_out; fail "v1 apply failed"; }

sed -i 's/^      - <%= ENV\["KR_TESTBED_HOST1"\] %>$/&\n    cmd: env/' "$proj/config/deploy.yml"
grep -q '^    cmd: env$' "$proj/config/deploy.yml" || fail "could not set cmd: env"
status=0
krec apply --app-version v1 --auto-approve || status=$?
[ "$status" -ne 0 ] || { show_out; fail "apply of a container that exits succeeded"; }
grep -q 'SAMPLE_MESSAGE=hello' "$out" || { show_out; fail "the container's env (its logs) is not shown"; }
grep -q 'DATABASE_URL=(sensitive)' "$out" || { show_out; fail "DATABASE_URL is not shown masked"; }
secret_values | while read -r v; do
	! grep -qF -- "$v" "$out" || { show_out; fail "a secret value (${#v} bytes) was printed"; }
done
sqlite3 "$proj/.kreconcile/state.db" "select stderr_tail from journal" >"$proj/.journal"
grep -q 'DATABASE_URL=(sensitive)' "$proj/.journal" || fail "the journal lacks the masked log line"
secret_values | while read -r v; do
	! grep -qF -- "$v" "$proj/.journal" || fail "a secret value (${#v} bytes) is in the journal"
done
[ "$(app_get 1 sample-web-v1 /version)" = "v1 hello" ] || fail "the old web container stopped serving"
ok "a failed container's log lines are printed and journaled with every secret value masked"
