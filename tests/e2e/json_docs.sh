#!/bin/sh
# docs/json.md describes the real JSON output: plan, status, apply, config and lock --json on the
# bed's sample app (fresh hosts, applied, a pending replace, the deploy lock held, a host without
# docker), a saved plan, and config --json of the all-keys and dokuya fixtures, each checked against
# the field tables by tests/e2e/json_docs.py (no undocumented field, no documented one missing, every
# type and value as documented), plus the values a script relies on and no secret anywhere.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
. "$(dirname "$0")/apply_lib.sh"
apply_setup
j=$proj/.json
mkdir -p "$j"
check=$KR_SOURCE_DIR/tests/e2e/json_docs.py
doc=$KR_SOURCE_DIR/docs/json.md

# run NAME ARGS...: kreconcile --json ARGS in the project, stdout to $j/NAME.json
run() {
	name=$1
	shift
	rc=0
	(cd "$proj" && "$KREC" --json "$@") >"$j/$name.json" 2>"$j/$name.err" || rc=$?
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$j/$name.json" 2>/dev/null ||
		fail "kreconcile --json $*: not one JSON object (exit $rc): $(head -c 300 "$j/$name.json") $(cat "$j/$name.err")"
}
# val NAME EXPR: a value of $j/NAME.json (python expression on `d`)
val() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(eval(sys.argv[2])))' "$j/$1.json" "$2"; }
expect() {
	got=$(val "$1" "$2")
	[ "$got" = "$3" ] || fail "$1.json: $2 is $got, not $3"
}

run plan-fresh plan --app-version v1
expect plan-fresh 'd["summary"]["add"]' 8
expect plan-fresh 'd["summary"]["changes_pending"]' true
expect plan-fresh '[c["before"] for c in d["changes"] if c["type"] == "app"]' '[null, null]'
run config config --app-version v1
run apply apply --auto-approve --app-version v1
[ $rc = 0 ] || fail "apply exited $rc: $(cat "$j/apply.err")"
expect apply 'd["applied"]' true
expect apply 'd["hosts_match"]' true
expect apply 'sorted(h["state"] for h in d["result"]["hosts"])' '["ok", "ok"]'
run apply-again apply --auto-approve --app-version v1
expect apply-again 'd["applied"]' false
expect apply-again '"result" in d' false
run status status
expect status '[h["from_store"] for h in d["hosts"]]' '[true, true]'
expect status '[r["running_versions"][0]["version"] for h in d["hosts"] for r in h["roles"]]' '["v1", "v1"]'
run plan-v2 plan --app-version v2
expect plan-v2 '[c["actions"] for c in d["changes"] if c["type"] == "app"]' '[["create", "delete"], ["create", "delete"]]'
expect plan-v2 '[c["before"]["image"].rsplit(":", 1)[1] for c in d["changes"] if c["type"] == "app"]' '["v1", "v1"]'
(cd "$proj" && "$KREC" plan --app-version v2 -o "$j/saved.json") >/dev/null 2>&1 || fail "plan -o"
run lock-acquire lock acquire -m "json docs"
expect lock-acquire 'd["acquired"]' true
run status-locked status --refresh
expect status-locked '[h["lock"]["held"] for h in d["hosts"] if h["lock"]["lock_host"]]' '[true]'
expect status-locked '"json docs" in [h for h in d["hosts"] if h["lock"]["lock_host"]][0]["lock"]["details"]' true
expect status-locked '[h["from_store"] for h in d["hosts"]]' '[false, false]'
run lock-status lock status
expect lock-status 'd["holder"]["message"]' '"json docs"'
run lock-release lock release
expect lock-release 'd["released"]' true

# A host without docker in the web role: observed "no_docker", with the reason.
set -- $KR_TESTBED_BARE_HOSTS
pairs=
if [ $# -ge 1 ]; then
	bare=$1
	sed -i "s|^\(      - <%= ENV\[\"KR_TESTBED_HOST1\"\] %>\)\$|\1\n      - $bare|" "$proj/config/deploy.yml"
	grep -q -- "- $bare\$" "$proj/config/deploy.yml" || fail "could not add $bare to the web role"
	run plan-nodocker plan --app-version v1
	expect plan-nodocker "[h['status'] for h in d['hosts'] if h['name'] == '$bare']" '["no_docker"]'
	expect plan-nodocker "[h['error'] is not None for h in d['hosts'] if h['name'] == '$bare']" '[true]'
	run status-nodocker status --refresh
	expect status-nodocker "[(h['status'], h['reachable']) for h in d['hosts'] if h['name'] == '$bare']" '[["no_docker", true]]'
	pairs="plan $j/plan-nodocker.json status $j/status-nodocker.json"
else
	ok "no host without docker on this bed: the no_docker case is not checked"
fi
for f in all-keys dokuya; do
	"$KREC" -C "$KR_SOURCE_DIR/tests/fixtures/config/$f" --json config >"$j/config-$f.json" ||
		fail "config --json of the $f fixture"
done

# The history of these runs, and one apply with its plan and journal.
run history history
run history-show history show "$(python3 -c 'import json,sys; print([r["id"] for r in json.load(open(sys.argv[1]))["runs"] if r["kind"] == "apply"][-1])' "$j/history.json")"
expect history-show 'd["plan"]["format_version"]' '"1.0"'

# No secret in any output.
secret_values >"$proj/.secrets-list"
[ -s "$proj/.secrets-list" ] && ! grep -q '^$' "$proj/.secrets-list" || fail "no secret values to look for"
leaks=$(grep -lF -f "$proj/.secrets-list" "$j"/*.json || true)
[ -z "$leaks" ] || fail "a secret value is in: $leaks"
ok "no secret value in $(ls "$j"/*.json | wc -l) JSON outputs"

# shellcheck disable=SC2086
python3 "$check" "$doc" \
	plan "$j/plan-fresh.json" plan "$j/plan-v2.json" plan "$j/saved.json" \
	apply "$j/apply.json" apply "$j/apply-again.json" \
	status "$j/status.json" status "$j/status-locked.json" \
	config "$j/config.json" config "$j/config-all-keys.json" config "$j/config-dokuya.json" \
	lock "$j/lock-acquire.json" lock "$j/lock-status.json" lock "$j/lock-release.json" \
	history "$j/history.json" history_show "$j/history-show.json" \
	$pairs || fail "the output differs from docs/json.md (above)"
python3 "$check" "$doc" --selftest status "$j/status.json" >/dev/null ||
	fail "the checker itself misses a mutation: $(python3 "$check" "$doc" --selftest status "$j/status.json")"
ok "plan, status, apply, config, lock and history --json match docs/json.md"
