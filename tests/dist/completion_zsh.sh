#!/bin/sh
# The zsh completion kreconcile generates from its command table: zsh -n,
# then real completion in an interactive zsh driven through zsh/zpty
# (completion_zsh.zsh): commands, options, operands, destinations.
set -eu
: "${KREC:?the kreconcile binary}"
if ! command -v zsh >/dev/null 2>&1; then
	echo "SKIP - completion_zsh: zsh is not installed (.ci/install-deps installs it)"
	exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/fpath" "$work/app/config" "$work/app/elsewhere"
"$KREC" completion zsh >"$work/fpath/_kreconcile"
zsh -n "$work/fpath/_kreconcile" || { echo "FAIL - zsh -n _kreconcile" >&2; exit 1; }
echo "ok - zsh -n _kreconcile"
for f in deploy deploy.staging deploy.production deploy.eu.west; do
	: >"$work/app/config/$f.yml"
done
: >"$work/app/elsewhere/kamal.yml"
: >"$work/app/elsewhere/kamal.qa.yml"
exec zsh -f "$(dirname "$0")/completion_zsh.zsh" "$work"
