#!/bin/sh
# An accessory replace never leaves no accessory (issue 9, item 2): a successor docker refuses
# (options: {memory: lots}) or one that cannot start (an entrypoint that does not exist) fails the
# host with the reason and leaves the old Postgres running with its data; a good replace swaps
# to the new container and keeps the data; no temporary container is left behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
. "$(dirname "$0")/apply_lib.sh"
apply_setup

krec apply --app-version v1 --auto-approve || { show_out; fail "v1 apply failed"; }
wait_for 60 psql_db 'select 1' || fail "postgres does not answer after the first apply"
psql_db 'create table t (v text); insert into t values ($$kept$$)' || fail "cannot write a row"
db=$(cid 2 sample-db)

# set_db_lines LINE...: the db accessory gets these lines (indented 4) after its port line.
set_db_lines() {
	cp "$KR_TESTBED_SAMPLE/config/deploy.yml" "$proj/config/deploy.yml"
	printf '%s\n' "$@" >"$proj/.lines"
	sed -i "/^    port: \"127.0.0.1:5432:5432\"/r $proj/.lines" "$proj/config/deploy.yml"
}

# still_up WHAT: the old db container runs, answers and keeps the row; nothing temporary is left.
still_up() {
	[ "$(cid 2 sample-db)" = "$db" ] || fail "$1: sample-db is no longer the old container"
	[ "$(bed_docker 2 inspect -f '{{.State.Running}}' sample-db)" = true ] ||
		fail "$1: the old sample-db is not running"
	wait_for 60 psql_db 'select 1' || fail "$1: postgres does not answer"
	[ "$(psql_db 'select v from t')" = kept ] || fail "$1: the row is gone"
	[ "$(names 2 | grep -c '_kr_')" = 0 ] || fail "$1: temporary containers left: $(names 2)"
}

set_db_lines "    options:" "      memory: lots"
rc=0
krec apply --app-version v1 --auto-approve || rc=$?
[ "$rc" != 0 ] || { show_out; fail "apply with memory: lots succeeded"; }
grep -q 'invalid argument "lots"' "$out" || { show_out; fail "the reason (docker's refusal) is not shown"; }
grep -q "$(bed_host 2)" "$out" || { show_out; fail "the failed host is not named"; }
still_up "memory: lots"
ok "a successor docker refuses: apply fails (exit $rc) with docker's reason, the old Postgres runs on"

set_db_lines "    options:" "      entrypoint: /no/such/binary"
rc=0
krec apply --app-version v1 --auto-approve || rc=$?
[ "$rc" != 0 ] || { show_out; fail "apply with an entrypoint that cannot start succeeded"; }
grep -q 'the old one runs again' "$out" || { show_out; fail "the rollback is not reported"; }
still_up "entrypoint that cannot start"
ok "a successor that cannot start: apply fails (exit $rc), the old Postgres runs again with its data"

set_db_lines "    options:" "      memory: 512m"
krec apply --app-version v1 --auto-approve || { show_out; fail "a good replace failed"; }
new=$(cid 2 sample-db)
[ -n "$new" ] && [ "$new" != "$db" ] || fail "the good replace did not make a new container"
[ "$(bed_docker 2 inspect -f '{{.HostConfig.Memory}}' sample-db)" = 536870912 ] ||
	fail "the new container does not have the new option"
db=$new
still_up "good replace"
[ "$(names 2 | grep -c '^sample-db')" = 1 ] || fail "more than one db container: $(names 2)"
krec plan --app-version v1 --detailed-exitcode || { show_out; fail "plan after the good replace is not empty"; }
ok "a good replace swaps to the new container, keeps the row and plans no changes after"
