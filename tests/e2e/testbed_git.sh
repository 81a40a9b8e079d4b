#!/bin/sh
# The sample app repository: reachable by path and over the bed's sshd; the checkout holds
# config/deploy.yml and .kamal/secrets using only the ERB forms kreconcile supports.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git ls-remote "$KR_TESTBED_GIT" refs/heads/main | grep -q . || fail "no main branch at $KR_TESTBED_GIT"
GIT_SSH_COMMAND=$KR_TESTBED_GIT_SSH_COMMAND git clone -q "$KR_TESTBED_GIT_SSH" "$tmp/clone" ||
	fail "clone over ssh failed"
[ "$(git -C "$tmp/clone" rev-parse HEAD)" = "$(git -C "$KR_TESTBED_SAMPLE" rev-parse HEAD)" ] ||
	fail "ssh clone and checkout differ"
ok "sample repository by path and over ssh ($KR_TESTBED_GIT_SSH)"

for f in config/deploy.yml .kamal/secrets; do
	[ -f "$KR_TESTBED_SAMPLE/$f" ] || fail "checkout lacks $f"
done
[ -z "$(git -C "$KR_TESTBED_SAMPLE" status --porcelain)" ] || fail "checkout is not clean"
# Every ERB tag is one of the four supported forms.
bad=$(grep -o '<%.*%>' "$KR_TESTBED_SAMPLE/config/deploy.yml" | grep -vE \
	'^<%= ENV(\["[A-Z0-9_]+"\]( \|\| "[^"]*")?|\.fetch\("[A-Z0-9_]+"(, "[^"]*")?\)) %>$' || true)
[ -z "$bad" ] || fail "unsupported ERB in deploy.yml: $bad"
ok "checkout has config/deploy.yml and .kamal/secrets with supported ERB only"
