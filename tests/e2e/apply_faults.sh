#!/bin/sh
# Faults the engine handles (issue 9 items 1 and 3):
# - two applies at once with --lock-wait, an env change and a new version pending: the second
#   reads the hosts and plans again inside the lock, so exactly one new container runs and no
#   renamed leftover of the first apply's container is left running beside it;
# - a frozen dockerd (SIGSTOP) on one host: plan and apply give up on it after the configured
#   deadline (x-kreconcile.timeouts) with a clear message, the other host is read, and the deploy
#   lock is released.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
. "$(dirname "$0")/apply_lib.sh"
apply_setup
dockerd_pid=$(cut -d' ' -f1 "$KR_TESTBED_DIR/pids/h1")
trap 'kill -CONT "$dockerd_pid" 2>/dev/null; bed_reset 1 2; rm -rf "$proj"' EXIT
lock_held() { bed_ssh 1 test -d .kamal/lock-sample; }

krec apply --app-version v1 --auto-approve || { show_out; fail "v1 apply failed"; }

# ---- two applies at once, the second waits for the lock
sed -i 's/SAMPLE_MESSAGE: .*/SAMPLE_MESSAGE: concurrent/' "$proj/config/deploy.yml"
(cd "$proj" && "$KREC" apply --app-version v3 --auto-approve --lock-wait 60) >"$proj/a1" 2>&1 &
p1=$!
(cd "$proj" && "$KREC" apply --app-version v3 --auto-approve --lock-wait 60) >"$proj/a2" 2>&1 &
p2=$!
s1=0 s2=0
wait "$p1" || s1=$?
wait "$p2" || s2=$?
[ "$s1" = 0 ] && [ "$s2" = 0 ] || { cat "$proj/a1" "$proj/a2" >&2; fail "concurrent applies exited $s1 and $s2"; }
grep -q 'planned again\|No changes' "$proj/a1" "$proj/a2" ||
	{ cat "$proj/a1" "$proj/a2" >&2; fail "neither apply re-planned after waiting"; }
for i in 1 2; do
	role=web
	[ "$i" = 2 ] && role=worker
	run=$(bed_docker "$i" ps --filter "label=role=$role" --format '{{.Names}}')
	[ "$run" = "sample-$role-v3" ] || fail "host $i runs '$(echo $run)', want exactly sample-$role-v3"
done
lock_held && fail "the lock is still held"
ok "two applies with --lock-wait: the waiting one planned again; one v3 container per role, nothing renamed left running"

# ---- a frozen dockerd on host 1
printf 'x-kreconcile:\n  known_hosts: %s\n  timeouts:\n    observe: 4\n    apply: 20\n' \
	"$KR_TESTBED_KNOWN_HOSTS" >"$proj/tail.yml"
sed -i '/^x-kreconcile:$/,$d' "$proj/config/deploy.yml"
cat "$proj/tail.yml" >>"$proj/config/deploy.yml"
kill -STOP "$dockerd_pid"
t0=$(date +%s)
status=0
krec plan --app-version v3 || status=$?
dt=$(($(date +%s) - t0))
[ "$status" = 3 ] || { show_out; fail "plan with a frozen dockerd exited $status, want 3 (some hosts failed)"; }
grep -q "no answer from '$KR_TESTBED_HOST1' within 4 s" "$out" || { show_out; fail "no word on the deadline"; }
[ "$dt" -lt 30 ] || fail "plan took $dt s with a 4 s deadline"
grep -q "host $KR_TESTBED_HOST2: observed" "$out" || { show_out; fail "host 2 was not read"; }
ok "plan: the frozen host gave up after the deadline ($dt s in all), the other was read, exit 3"

sed -i 's/SAMPLE_MESSAGE: .*/SAMPLE_MESSAGE: frozen/' "$proj/config/deploy.yml"
status=0
krec apply --app-version v3 --auto-approve || status=$?
[ "$status" = 3 ] || { show_out; fail "apply with a frozen dockerd exited $status, want 3"; }
lock_held && { show_out; fail "the lock was left held"; }
ok "apply: the frozen host failed alone, host 2 was applied, the lock released (exit 3)"
kill -CONT "$dockerd_pid"
krec apply --app-version v3 --auto-approve || { show_out; fail "apply after thawing did not finish"; }
grep -q 'Hosts match the configuration.' "$out" || { show_out; fail "hosts do not match after thawing"; }
ok "once dockerd runs again, apply converges"
