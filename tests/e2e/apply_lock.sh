#!/bin/sh
# Kamal's deploy lock: held by someone else, apply stops with the holder's details and changes
# nothing; --lock-wait waits for it. A saved plan is refused once a host moved; apply without a
# terminal and without --auto-approve refuses to act. Along the way (v1 -> v2 -> v3 with
# retain_containers: 1): one stopped old container kept per role, older ones removed; and
# apply --json's result.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
. "$(dirname "$0")/apply_lib.sh"
apply_setup
printf 'retain_containers: 1\n' >>"$proj/config/deploy.yml"

krec apply --app-version v1 --auto-approve || { show_out; fail "v1 apply failed"; }
web=$(cid 1 sample-web-v1)

# ---- a lock taken as Kamal takes it (mkdir, base64 details) on the primary role's first host
details=$(printf 'Locked by: Alice at 2026-01-01T00:00:00Z\nVersion: v9\nMessage: hotfix in progress' | base64)
bed_ssh 1 "mkdir -p .kamal && mkdir .kamal/lock-sample && echo '$details' > .kamal/lock-sample/details"
status=0
krec apply --app-version v2 --auto-approve || status=$?
[ "$status" -ne 0 ] || { show_out; fail "apply went ahead under someone else's lock"; }
grep -q 'Locked by: Alice' "$out" && grep -q 'hotfix in progress' "$out" ||
	{ show_out; fail "the holder's details were not shown"; }
[ "$(cid 1 sample-web-v1)" = "$web" ] && [ -z "$(cid 1 sample-web-v2)" ] || fail "something changed under the lock"
bed_ssh 1 test -f .kamal/lock-sample/details || fail "someone else's lock was removed"
if command -v sqlite3 >/dev/null 2>&1; then
	sqlite3 "$proj/.kreconcile/state.db" "select stderr_tail from journal where action = 'acquire' and result = 'held'" |
		grep -q 'Locked by: Alice' || fail "the journal does not record the held lock and its holder"
fi
ok "a lock held by someone else: exit $status, holder's details shown (and journaled), nothing changed"

# ---- --lock-wait: the holder releases it after 2 s
(sleep 2 && bed_ssh 1 'rm .kamal/lock-sample/details && rm -r .kamal/lock-sample') &
krec apply --app-version v2 --auto-approve --lock-wait 20 || { show_out; fail "apply --lock-wait failed"; }
wait
[ "$(app_get 1 sample-web-v2 /version)" = "v2 hello" ] || fail "v2 not deployed after waiting"
bed_ssh 1 test -d .kamal/lock-sample && fail "our lock was left behind"
if command -v sqlite3 >/dev/null 2>&1; then
	[ "$(sqlite3 "$proj/.kreconcile/state.db" "select result from journal where action in ('acquire', 'release') order by id desc limit 2" | tr '\n' ' ')" = "ok ok " ] ||
		fail "the journal does not record taking and releasing the lock"
fi
ok "--lock-wait waits for the holder, then applies and releases the lock (both journaled)"

# ---- a saved plan goes stale when a host moves
krec plan --app-version v3 -o "$proj/v3.plan" || [ $? -eq 2 ] || { show_out; fail "plan -o failed"; }
bed_docker 2 stop sample-db >/dev/null
status=0
krec apply "$proj/v3.plan" --app-version v3 --auto-approve || status=$?
[ "$status" -ne 0 ] || { show_out; fail "a stale plan was applied"; }
grep -q 'stale' "$out" || { show_out; fail "the refusal does not say the plan is stale"; }
[ -z "$(cid 1 sample-web-v3)" ] || fail "the stale plan changed host 1"
ok "a saved plan is refused once a host moved since it was made"

krec plan --app-version v3 -o "$proj/v3.plan" || [ $? -eq 2 ] || { show_out; fail "plan -o failed"; }
# no --app-version: the saved plan's version is the default
krec apply "$proj/v3.plan" --auto-approve || { show_out; fail "a fresh saved plan failed"; }
[ "$(app_get 1 sample-web-v3 /version)" = "v3 hello" ] || fail "the saved plan did not deploy v3"
[ "$(bed_docker 2 inspect -f '{{.State.Status}}' sample-db)" = running ] || fail "the saved plan did not start db"
ok "a fresh saved plan applies, with its own version (v3 deployed, db started again)"

# ---- no terminal, no --auto-approve: refuse
status=0
(cd "$proj" && "$KREC" apply --app-version v2 </dev/null) >"$out" 2>&1 || status=$?
[ "$status" -ne 0 ] || { show_out; fail "applied without confirmation"; }
grep -q 'auto-approve' "$out" || { show_out; fail "the refusal does not name --auto-approve"; }
[ "$(bed_docker 1 inspect -f '{{.State.Status}}' sample-web-v3)" = running ] || fail "v3 was touched"
ok "without a terminal and without --auto-approve apply refuses (exit $status) and changes nothing"

# ---- retention: v3 running, v2 kept stopped, v1 removed
[ "$(names 1 | tr '\n' ' ')" = "sample-web-v2 sample-web-v3 " ] || fail "host 1 keeps: $(names 1)"
[ "$(bed_docker 1 inspect -f '{{.State.Status}}' sample-web-v2)" = exited ] || fail "v2 not stopped"
ok "retain_containers: 1 keeps the last stopped version and removes older ones"

# ---- --json: one object; nothing to apply, hosts match
(cd "$proj" && "$KREC" --json apply --app-version v3 --auto-approve) >"$out" 2>/dev/null ||
	{ show_out; fail "apply --json failed"; }
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["format_version"] and d["applied"] is False and d["hosts_match"] is True, d
assert d["plan"]["format_version"]' "$out" || { show_out; fail "apply --json output"; }
ok "apply --json prints one object (plan, applied, hosts_match)"
