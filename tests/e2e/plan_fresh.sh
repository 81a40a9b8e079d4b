#!/bin/sh
# On fresh hosts (nothing of the service) plan shows everything to create, in dependency order,
# and exits 2 with --detailed-exitcode (0 without it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
need_krec
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bed_reset 1 2
kr_project "$work/p"
cd "$work/p"
h1=$(bed_host 1)
h2=$(bed_host 2)
rc=0
"$KREC" plan --app-version v1 --detailed-exitcode >"$work/out" 2>"$work/err" || rc=$?
[ $rc = 2 ] || fail "plan of fresh hosts exited $rc, not 2: $(cat "$work/err")"
grep '^  # .* will be ' "$work/out" >"$work/headers"
cat >"$work/expected" <<END
  # $h1/network/kamal will be created
  # $h1/login/$KR_TESTBED_REGISTRY will be run
  # $h1/env/roles/web will be created
  # $h1/app/web will be created
  # $h2/network/kamal will be created
  # $h2/login/$KR_TESTBED_REGISTRY will be run
  # $h2/env/accessories/db will be created
  # $h2/env/roles/worker will be created
  # $h2/accessory/db will be created
  # $h2/app/worker will be created
END
diff -u "$work/expected" "$work/headers" >&2 || fail "fresh plan differs"
tail -n 1 "$work/out" | grep -qx "Plan: 8 to add, 0 to change, 0 to destroy." || fail "$(tail -n 1 "$work/out")"
grep -q "password = (sensitive)" "$work/out" || fail "login password not shown as (sensitive)"
"$KREC" -q plan --app-version v1 >/dev/null 2>"$work/err" || fail "without --detailed-exitcode: exit $?"
[ -s "$work/err" ] && fail "-q still printed: $(cat "$work/err")"
ok "fresh hosts: 8 to add in dependency order, exit 2"
