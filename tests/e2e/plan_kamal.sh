#!/bin/sh
# A host deployed by hand exactly as Kamal 2 deploys it (names, labels, env files byte for byte,
# the accessory with its directory) plans as "No changes" with the matching configuration
# (exit 0 with --detailed-exitcode), in one SSH exec per host. A new version plans as a change
# (exit 2) and is saved atomically with -o; a version the registry lacks waits; --refresh=false
# plans from the store without contacting a host; a role taken out of the config is kept unless
# --prune (or x-kreconcile.prune); a registry error is exit 1; an unreachable host gives exit 3.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
need_krec
work=$(mktemp -d)
trap 'bed_reset 1 2; rm -rf "$work"' EXIT
kr_project "$work/p"
cd "$work/p"
h1=$(bed_host 1)
h2=$(bed_host 2)
for i in 1 2; do
	kamal_network $i
	kamal_login $i
done
kamal_env_files 1 web
kamal_env_files 2 worker db
kamal_app 1 web v1
kamal_app 2 worker v1
kamal_db 2

b1=$(bed_execs 1) b2=$(bed_execs 2)
rc=0
"$KREC" plan --app-version v1 --detailed-exitcode >"$work/out" 2>"$work/err" || rc=$?
[ $rc = 0 ] || fail "plan of a Kamal-made host exited $rc: $(cat "$work/out" "$work/err")"
[ "$(cat "$work/out")" = "No changes. Hosts match the configuration." ] ||
	fail "plan of a Kamal-made host: $(cat "$work/out")"
[ $(($(bed_execs 1) - b1)) = 1 ] && [ $(($(bed_execs 2) - b2)) = 1 ] ||
	fail "plan sent $(($(bed_execs 1) - b1)) and $(($(bed_execs 2) - b2)) execs"
grep -q "registry: looking up 2 images" "$work/err" ||
	fail "the running images' digests were not checked: $(cat "$work/err")"
ok "Kamal-made hosts plan as no changes (exit 0, 1 exec per host, digests checked)"
rc=0
"$KREC" plan --app-version v1 --detailed-exitcode --no-digest-check >"$work/out" 2>"$work/err" ||
	rc=$?
[ $rc = 0 ] || fail "plan --no-digest-check exited $rc: $(cat "$work/out" "$work/err")"
grep -q "registry" "$work/err" && fail "images every host runs were looked up: $(cat "$work/err")"
ok "--no-digest-check: no registry lookup for images every host runs"

rc=0
"$KREC" plan --app-version v2 --detailed-exitcode -o "$work/saved.json" >"$work/out" 2>"$work/err" ||
	rc=$?
[ $rc = 2 ] || fail "a new version exited $rc, not 2: $(cat "$work/err")"
grep -q "^  # $h1/app/web will be replaced$" "$work/out" || fail "no replacement of web: $(cat "$work/out")"
grep -q "^  # $h2/app/worker will be replaced$" "$work/out" || fail "no replacement of worker"
grep -q "^  # (version v1 → v2)$" "$work/out" || fail "no reason"
grep -q "accessory" "$work/out" && fail "the accessory was planned for a version change"
tail -n 1 "$work/out" | grep -qx "Plan: 0 to add, 2 to change, 0 to destroy." || fail "summary: $(tail -n 1 "$work/out")"
grep -q '"format_version"' "$work/saved.json" || fail "saved plan has no format_version"
grep -q "\"$h1/app/web\"" "$work/saved.json" || fail "saved plan lacks the change"
ls "$work" | grep -q 'saved.json.tmp' && fail "a temporary file was left"
"$KREC" plan --app-version v2 --json >"$work/json" 2>/dev/null || true
grep -q '"format_version"' "$work/json" || fail "plan --json has no format_version"
ok "new version: 2 replacements, exit 2, saved with -o"

b1=$(bed_execs 1)
rc=0
"$KREC" plan --app-version v2 --refresh=false --detailed-exitcode >"$work/out2" 2>"$work/err" || rc=$?
[ $rc = 2 ] || fail "--refresh=false exited $rc"
[ "$(bed_execs 1)" = "$b1" ] || fail "--refresh=false contacted host 1"
cmp -s "$work/out" "$work/out2" || fail "--refresh=false planned otherwise: $(diff "$work/out" "$work/out2")"
ok "--refresh=false plans the same from the store without an exec"

rc=0
"$KREC" plan --app-version no-such-tag --detailed-exitcode >"$work/out" 2>"$work/err" || rc=$?
[ $rc = 0 ] || fail "a missing image exited $rc: $(cat "$work/out" "$work/err")"
grep -q "^  # $h1/app/web is waiting for image $KR_TESTBED_REGISTRY/sample-app:no-such-tag$" \
	"$work/out" || fail "not waiting: $(cat "$work/out")"
ok "a tag the registry lacks: waiting for image, nothing planned"

# the worker role taken out of the configuration: kept, unless pruned
awk '/^  worker:/ { skip = 1; next } skip && /^    / { next } { skip = 0; print }' \
	config/deploy.yml >config/deploy.noworker.yml
grep -q worker config/deploy.noworker.yml && fail "setup: worker still configured"
rc=0
"$KREC" -c config/deploy.noworker.yml plan --app-version v1 --detailed-exitcode >"$work/out" \
	2>"$work/err" || rc=$?
[ $rc = 0 ] || fail "a removed role without --prune exited $rc: $(cat "$work/out" "$work/err")"
grep -q "^  # $h2/app/worker is not in the configuration, kept (use --prune)$" "$work/out" ||
	fail "removed role not reported as kept: $(cat "$work/out")"
rc=0
"$KREC" -c config/deploy.noworker.yml plan --app-version v1 --detailed-exitcode --prune \
	>"$work/out" 2>"$work/err" || rc=$?
[ $rc = 2 ] || fail "--prune exited $rc"
grep -q "^  # $h2/app/worker will be destroyed$" "$work/out" || fail "--prune: $(cat "$work/out")"
sed '/^x-kreconcile:/d' config/deploy.noworker.yml | sed '/^  known_hosts:/d' >"$work/base"
{ cat "$work/base"; printf 'x-kreconcile:\n  prune: true\n  known_hosts: %s\n' \
	"$KR_TESTBED_KNOWN_HOSTS"; } >config/deploy.prune.yml
rc=0
"$KREC" -c config/deploy.prune.yml plan --app-version v1 --detailed-exitcode >"$work/out2" \
	2>"$work/err" || rc=$?
[ $rc = 2 ] || fail "x-kreconcile.prune exited $rc: $(cat "$work/err")"
cmp -s "$work/out" "$work/out2" || fail "x-kreconcile.prune differs from --prune"
ok "removed role: kept without prune (exit 0), destroyed with --prune or x-kreconcile.prune (exit 2)"

sed "s|^  server: .*|  server: ${h1%.*}.1:5999|" config/deploy.yml >config/deploy.badreg.yml
rc=0
"$KREC" -c config/deploy.badreg.yml plan --app-version v2 --detailed-exitcode >"$work/out" \
	2>"$work/err" || rc=$?
[ $rc = 1 ] || fail "a registry that does not answer gave exit $rc"
grep -q "image '${h1%.*}.1:5999/sample-app:v2': .*5999" "$work/err" || fail "unclear: $(cat "$work/err")"
ok "registry error: exit 1, $(grep "^kreconcile: image" "$work/err" | cut -c1-120)"

rc=0
KR_TESTBED_HOST2=${h1%.*}.99 "$KREC" plan --app-version v1 --detailed-exitcode >"$work/out" \
	2>"$work/err" || rc=$?
[ $rc = 3 ] || fail "an unreachable host gave exit $rc, not 3"
grep -q "^Host ${h1%.*}.99: not observed (unreachable): " "$work/out" || fail "$(cat "$work/out")"
ok "an unreachable host: exit 3, reported in the plan"
