#!/bin/sh
# No secret value of the sample (env secrets, the registry password) reaches the state database
# (the file, its -wal and -shm, a dump), the output of refresh, status and plan, a saved plan, or
# the commands the hosts ran (the bed keeps each exec byte for byte).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
need_krec
work=$(mktemp -d)
trap 'bed_reset 1 2; rm -rf "$work"' EXIT
kr_project "$work/p"
cd "$work/p"
secret_values >"$work/secrets"
[ "$(wc -l <"$work/secrets")" = 3 ] || fail "secret values"
for i in 1 2; do
	kamal_network $i
	kamal_login $i
done
kamal_env_files 1 web
kamal_env_files 2 worker db
kamal_app 1 web v1
kamal_app 2 worker v1
kamal_db 2
# the running containers hold the secrets in their env, as docker inspect shows them
bed_docker 2 inspect sample-db | grep -qF "$kr_db_password" || fail "setup: no secret in the container"
s1=$(wc -l <"$KR_TESTBED_DIR/h1/exec.log")
s2=$(wc -l <"$KR_TESTBED_DIR/h2/exec.log")

"$KREC" -v refresh --app-version v1 >"$work/out" 2>&1 || fail "refresh failed: $(cat "$work/out")"
db=.kreconcile/state.db
[ -s $db ] || fail "no state database"
# A reader that holds a read transaction open keeps what kreconcile writes next in the WAL (a
# checkpoint cannot move it past the reader), so the WAL can be scanned too.
mkfifo "$work/fifo"
sqlite3 $db <"$work/fifo" >/dev/null 2>&1 &
holder=$!
exec 3>"$work/fifo"
trap 'exec 3>&-; kill $holder 2>/dev/null || true; bed_reset 1 2; rm -rf "$work"' EXIT
echo 'BEGIN; SELECT count(*) FROM snapshots;' >&3
{
	"$KREC" status --app-version v1
	"$KREC" status --json --app-version v1
	"$KREC" -v plan --app-version v1
	"$KREC" plan --json --app-version v2 -o "$work/plan.json" || [ $? = 2 ]
	"$KREC" plan --app-version v2 --refresh=false
	"$KREC" -v refresh --app-version v2
} >>"$work/out" 2>&1 || fail "a command failed: $(tail -n 5 "$work/out")"
grep -q "sample-db" "$work/out" || fail "the commands printed nothing useful"
[ -s $db-wal ] || fail "no WAL to scan"
found=
for f in $db $db-wal $db-shm "$work/out" "$work/plan.json"; do
	[ -e "$f" ] || continue
	grep -aqF -f "$work/secrets" "$f" && found="$found $f"
done
sqlite3 $db .dump >"$work/dump" && grep -aqF -f "$work/secrets" "$work/dump" && found="$found dump"
for i in 1 2; do
	eval "s=\$s$i"
	tail -n +$((s + 1)) "$KR_TESTBED_DIR/h$i/exec.log" | while read -r t pid _; do
		cat "$KR_TESTBED_DIR/h$i/exec.d/$t.$pid"
	done >"$work/cmds$i"
	[ -s "$work/cmds$i" ] || fail "no command recorded on host $i"
	grep -aqF -f "$work/secrets" "$work/cmds$i" && found="$found commands-of-host-$i"
done
exec 3>&-
wait $holder || true
[ -z "$found" ] || fail "a secret value was found in:$found"
n=$(sqlite3 $db 'select count(*) from snapshots' 2>/dev/null || echo '?')
ok "no secret in the store ($n snapshots), outputs, saved plan or remote commands"
# the scan itself finds a secret where there is one
printf 'x %s y\n' "$kr_db_password" >"$work/probe"
grep -aqF -f "$work/secrets" "$work/probe" || fail "the scan cannot find a secret"
