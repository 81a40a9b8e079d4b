#!/bin/sh
# The sample app's config, as the bed renders it, is valid for kreconcile.
. "$(dirname "$0")/lib.sh"
need_krec
cd "$KR_TESTBED_SAMPLE"
out=$("$KREC" validate --app-version v1 2>&1) || fail "validate: $out"
ok "kreconcile validate: $out"
