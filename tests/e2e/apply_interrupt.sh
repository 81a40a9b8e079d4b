#!/bin/sh
# Interrupting apply. SIGTERM: the host whose script is running finishes it, no other host starts,
# the lock is released, the journal says what did not run, exit non-zero; the next apply finishes.
# kill -9 in the middle of a host's script: no duplicate containers; once the lock it left is
# released (as `kamal lock release` would), plan shows what remains and apply finishes it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
. "$(dirname "$0")/apply_lib.sh"
apply_setup
# one host at a time, so an interruption leaves a host not started
printf 'sshkit:\n  max_concurrent_starts: 1\n' >>"$proj/config/deploy.yml"

krec apply --app-version v1 --auto-approve || { show_out; fail "v1 apply failed"; }

# wait until some host runs an apply script (its marker is in the exec log), then signal
signal_mid_apply() {
	s1=$(bed_execs 1) s2=$(bed_execs 2)
	(cd "$proj" && exec "$KREC" apply --app-version "$1" --auto-approve) >"$out" 2>&1 &
	pid=$!
	wait_for 30 sh -c "{ ls $KR_TESTBED_DIR/h1/exec.d | sort | tail -n +$((s1 + 1)) | sed 's|^|$KR_TESTBED_DIR/h1/exec.d/|';
		ls $KR_TESTBED_DIR/h2/exec.d | sort | tail -n +$((s2 + 1)) | sed 's|^|$KR_TESTBED_DIR/h2/exec.d/|'; } |
		xargs -r grep -l '@@KRA' | grep -q ." || fail "no apply script started"
	sleep 0.5
	kill "-$2" "$pid"
	status=0
	wait "$pid" || status=$?
}

# ---- SIGTERM while the hosts are read (nothing changed yet): exit at once, no lock taken
"$KR_TESTBED" delay 3000 >/dev/null
trap '"$KR_TESTBED" delay 0 >/dev/null; bed_reset 1 2; rm -rf "$proj"' EXIT
(cd "$proj" && exec "$KREC" apply --app-version v2 --auto-approve) >"$out" 2>&1 &
pid=$!
sleep 1
t0=$(date +%s%N)
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
ms=$((($(date +%s%N) - t0) / 1000000))
"$KR_TESTBED" delay 0 >/dev/null
[ "$status" -ne 0 ] || { show_out; fail "SIGTERM during observe exited 0"; }
[ "$ms" -lt 1500 ] || fail "SIGTERM during observe took $ms ms to exit"
grep -q 'before anything was changed' "$out" || { show_out; fail "no word on the early exit"; }
bed_ssh 1 test -d .kamal/lock-sample && fail "a lock was taken"
[ -z "$(cid 1 sample-web-v2)" ] || fail "something was deployed"
ok "SIGTERM while reading the hosts: exit $status in $ms ms, no lock, nothing changed"

# ---- SIGTERM
signal_mid_apply v2 TERM
[ "$status" -ne 0 ] || { show_out; fail "an interrupted apply exited 0"; }
grep -q 'terminated: finishing the actions in flight' "$out" || { show_out; fail "no word on the interruption"; }
bed_ssh 1 test -d .kamal/lock-sample && fail "the lock was not released after SIGTERM"
v2=$(names 1; names 2)
n2=$(printf '%s\n' "$v2" | grep -c -- '-v2$' || true)
[ "$n2" = 1 ] || { show_out; fail "want exactly one host on v2 after the interruption, have: $v2"; }
# the finished host is healthy on v2 with v1 stopped; the other still runs v1
for i in 1 2; do
	if names $i | grep -q -- '-v2$'; then
		c=$(names $i | grep -- '-v2$')
		[ "$(bed_docker $i inspect -f '{{.State.Status}}' "$c")" = running ] || fail "$c not running"
	fi
done
if command -v sqlite3 >/dev/null 2>&1; then
	sqlite3 "$proj/.kreconcile/state.db" "select result from journal" | grep -q 'interrupted' ||
		fail "the journal does not say what the interruption left undone"
fi
ok "SIGTERM: the running host finished (one host on v2), the other did not start, lock released, exit $status"

krec apply --app-version v2 --auto-approve || { show_out; fail "apply after SIGTERM did not finish"; }
grep -q 'Hosts match the configuration.' "$out" || { show_out; fail "hosts do not match after finishing"; }
ok "the next apply finished the other host"

# ---- kill -9 in the middle of a host's script
signal_mid_apply v3 KILL
# the host's script may go on without us (sshd does not stop it): never two of the new version
for i in 1 2; do
	n=$(bed_docker $i ps -a --filter label=service=sample --format '{{.Names}}' | grep -c -- '-v3$' || true)
	[ "$n" -le 1 ] || fail "host $i has $n v3 containers after kill -9"
done
# our lock outlives a killed apply, as Kamal's does; release it as `kamal lock release` would
bed_ssh 1 'if [ -d .kamal/lock-sample ]; then rm .kamal/lock-sample/details && rm -r .kamal/lock-sample; fi'
krec plan --app-version v3 --detailed-exitcode || [ $? -eq 2 ] || { show_out; fail "plan after kill -9 failed"; }
krec apply --app-version v3 --auto-approve || { show_out; fail "apply after kill -9 failed"; }
grep -q 'Hosts match the configuration.' "$out" || { show_out; fail "hosts do not match after kill -9 + apply"; }
for i in 1 2; do
	running=$(bed_docker $i ps --filter label=service=sample --filter label=role --format '{{.Names}}')
	case $running in *-v3) ;; *) fail "host $i runs: $running" ;; esac
	[ "$(bed_docker $i ps -a --filter label=service=sample --format '{{.Names}}' | grep -c -- '-v3$')" = 1 ] ||
		fail "host $i has more than one v3 container"
done
ok "kill -9 mid-apply: no duplicate containers; plan shows the rest and apply finishes it (one running app container per host, v3)"
