#!/bin/sh
# Secrets by construction (issue 9 item 5, issue 10 item 6): a config whose secrets equal a port
# (5432), a role name (web), a clear env value (SAMPLE_MESSAGE's), `production` and a host's
# address plans and deploys (the state database's guard once refused it); a secret dropped from env.secret, which the
# retained `_replaced_` container still carries, is never stored; a byte scan of state.db and
# its -wal (kept from checkpointing by an open reader) and of every output finds no unique
# secret value.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
. "$(dirname "$0")/apply_lib.sh"
apply_setup
token="tok-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
cat >>"$proj/.kamal/secrets" <<EOS
DB_PORT_SECRET=5432
ROLE_SECRET=web
TWIN_SECRET=hello
STAGE_SECRET=production
DB_HOST_SECRET=$KR_TESTBED_HOST2
SECRET_TOKEN=$token
EOS
sed -i 's/^    - DATABASE_URL$/&\n    - DB_PORT_SECRET\n    - ROLE_SECRET\n    - TWIN_SECRET\n    - STAGE_SECRET\n    - DB_HOST_SECRET\n    - SECRET_TOKEN/' \
	"$proj/config/deploy.yml"
grep -q '^    - SECRET_TOKEN$' "$proj/config/deploy.yml" || fail "could not add the secrets"
{ secret_values; echo "$token"; } >"$proj/.unique"

krec plan --app-version v1 || [ $? = 2 ] || { show_out; fail "plan refused the config"; }
krec apply --app-version v1 --auto-approve || { show_out; fail "apply refused the config"; }
cat "$out" >"$proj/.all"
[ "$(bed_docker 1 inspect -f '{{range .Config.Env}}{{println .}}{{end}}' sample-web-v1 |
	grep -c '^DB_PORT_SECRET=5432$\|^ROLE_SECRET=web$\|^TWIN_SECRET=hello$\|^STAGE_SECRET=production$\|^DB_HOST_SECRET=198\.')" = 5 ] ||
	fail "the web container lacks the secrets"
bed_docker 1 inspect sample-web-v1 | grep -qF "$token" || fail "setup: the token is not in the container"
ok "secrets equal to a port, a role name, a clear value, 'production' and a host address deploy"

# SECRET_TOKEN leaves env.secret (it stays in .kamal/secrets): the web container is replaced
# (same version: the old one is kept as sample-web-v1_replaced_*), which still carries it.
sed -i '/^    - SECRET_TOKEN$/d' "$proj/config/deploy.yml"
krec apply --app-version v1 --auto-approve || { show_out; fail "apply without SECRET_TOKEN failed"; }
cat "$out" >>"$proj/.all"
kept=$(names 1 | grep '_replaced_' | head -1)
[ -n "$kept" ] || fail "no _replaced_ container kept: $(names 1)"
bed_docker 1 inspect "$kept" | grep -qF "$token" || fail "setup: $kept does not carry the token"

db=$proj/.kreconcile/state.db
[ -s "$db" ] || fail "no state database"
mkfifo "$proj/.fifo"
sqlite3 "$db" <"$proj/.fifo" >/dev/null 2>&1 &
holder=$!
exec 3>"$proj/.fifo"
trap 'exec 3>&-; kill $holder 2>/dev/null || true; bed_reset 1 2; rm -rf "$proj"' EXIT
echo 'BEGIN; SELECT count(*) FROM snapshots;' >&3
sleep 0.5
{
	(cd "$proj" && "$KREC" refresh --app-version v1)
	(cd "$proj" && "$KREC" status --json --app-version v1)
	(cd "$proj" && "$KREC" plan --json --app-version v1) || [ $? = 2 ]
} >>"$proj/.all" 2>&1 || fail "refresh/status/plan failed: $(tail -n 5 "$proj/.all")"
grep -q "$kept" "$proj/.all" || fail "status does not show $kept"
[ -s "$db-wal" ] || fail "no WAL to scan"
while read -r v; do
	for f in "$db" "$db-wal" "$proj/.all"; do
		if grep -qaF -- "$v" "$f"; then
			fail "a secret value (${#v} bytes) is in $(basename "$f")"
		fi
	done
done <"$proj/.unique"
# the kept container's env is stored by name, its value masked
sqlite3 "$db" "select json from snapshots" | grep -qE '"SECRET_TOKEN": ?"\(sensitive\)"' ||
	fail "the snapshot does not list SECRET_TOKEN by name"
ok "no unique secret value in state.db, its -wal or any output; SECRET_TOKEN of $kept stored by name only"
