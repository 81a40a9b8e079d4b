#!/bin/sh
# Containers, env files and a deploy lock made by hand exactly as Kamal 2 makes them appear in
# `kreconcile status` as they are, after a `refresh` that sent exactly one SSH exec to each host
# (counted in the bed's exec.log, independently of kreconcile); status itself sends none.
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
bed_ssh 1 docker stop sample-web-v1 >/dev/null
kamal_app 1 web v2
kamal_app 2 worker v2
kamal_db 2
# the worker's env file no longer holds what the configuration says
printf 'DATABASE_URL=postgres://old\n' | bed_ssh 2 'cat > .kamal/apps/sample/env/roles/worker.env'
# a deploy lock held on the primary role's first host, as `kamal lock acquire` leaves it
details='Locked by: Ada Lovelace at 2026-11-26T06:50:00Z
Version: v2
Message: e2e observe_status'
printf '%s' "$details" | base64 -w0 |
	bed_ssh 1 'mkdir -p .kamal/lock-sample && cat > .kamal/lock-sample/details'

b1=$(bed_execs 1) b2=$(bed_execs 2) b3=$(bed_execs 3)
"$KREC" refresh --app-version v2 2>"$work/err" || fail "refresh failed: $(cat "$work/err")"
[ $(($(bed_execs 1) - b1)) = 1 ] || fail "host 1: $(($(bed_execs 1) - b1)) SSH execs for one refresh"
[ $(($(bed_execs 2) - b2)) = 1 ] || fail "host 2: $(($(bed_execs 2) - b2)) SSH execs for one refresh"
[ "$(bed_execs 3)" = "$b3" ] || fail "host 3 is not configured but was contacted"
grep -q "^host $h1: observed (1 exec, " "$work/err" || fail "no progress line for $h1: $(cat "$work/err")"
grep -q "^host $h2: observed (1 exec, " "$work/err" || fail "no progress line for $h2"
ok "refresh: exactly 1 SSH exec on each host"

"$KREC" status --app-version v2 >"$work/status" || fail "status failed"
[ "$(bed_execs 1)" = $((b1 + 1)) ] && [ "$(bed_execs 2)" = $((b2 + 1)) ] ||
	fail "status contacted a host"
dv=$(bed_docker 1 version --format '{{.Server.Version}}')
sed 's/ (observed [0-9TZ:-]*, [^)]*)$//' "$work/status" >"$work/status.cut"
cat >"$work/expected" <<END
host $h1: reachable, docker $dv
  app web: v2 running (sample-web-v2); v1 exited
  env file .kamal/apps/sample/env/roles/web.env (role web): present
  deploy lock held: Locked by: Ada Lovelace at 2026-11-26T06:50:00Z
host $h2: reachable, docker $dv
  app worker: v2 running (sample-worker-v2)
  accessory db: running (sample-db, $KR_TESTBED_REGISTRY/postgres:15)
  env file .kamal/apps/sample/env/roles/worker.env (role worker): differs from the configuration
  env file .kamal/apps/sample/env/accessories/db.env (accessory db): present
END
diff -u "$work/expected" "$work/status.cut" >&2 || fail "status differs from what is on the hosts"
grep -q "^host $h1: .* (observed 20[0-9-]*T[0-9:]*Z, [0-9]*s ago)$" "$work/status" ||
	fail "no observed-at on host 1's line"
ok "status shows the Kamal-made containers, accessory, env files and lock"

"$KREC" status --json --app-version v2 >"$work/json" || fail "status --json failed"
for want in '"format_version": "1.0"' '"state": "differs"' '"held": true' \
	"\"container\": \"sample-web-v2\"" '"state": "exited"' "\"docker_version\": \"$dv\""; do
	grep -qF "$want" "$work/json" || fail "status --json lacks $want"
done
ok "status --json has format_version and the same facts"
