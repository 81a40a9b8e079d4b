#!/bin/sh
# One SSH connection per host per apply: observe, deploy lock, the host's script, the second
# observe and the lock release all go as channels on the same connection. Counted independently
# of kreconcile, from each host's sshd log (LogLevel VERBOSE: one "Accepted publickey" line per
# connection) and exec.log (one record per exec): a version change makes exactly 1 connection
# per host with 5 execs on the lock host and 3 on the other; a no-op apply 1 connection and 1
# exec per host. A connection killed on the host while apply waits for the deploy lock is
# opened again once (said on stderr and in the journal) and the apply still succeeds.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
. "$(dirname "$0")/apply_lib.sh"
apply_setup

accepted() { grep -c 'Accepted publickey for root' "$KR_TESTBED_DIR/log/sshd-h$1.log" || true; }
# check_run WHAT CONNS1 EXECS1 CONNS2 EXECS2: since the marks a1 a2 e1 e2
check_run() {
	c1=$(($(accepted 1) - a1)) c2=$(($(accepted 2) - a2))
	x1=$(execs_since 1 "$e1") x2=$(execs_since 2 "$e2")
	[ "$c1" = "$2" ] && [ "$c2" = "$4" ] ||
		{ show_out; fail "$1: $c1 SSH connections to host 1, $c2 to host 2 (want $2 and $4)"; }
	[ "$x1" = "$3" ] && [ "$x2" = "$5" ] ||
		{ show_out; fail "$1: $x1 SSH execs on host 1, $x2 on host 2 (want $3 and $5)"; }
}
mark() { a1=$(accepted 1) a2=$(accepted 2) e1=$(bed_execs 1) e2=$(bed_execs 2); }

bed_ssh 1 true || fail "cannot reach host 1"
[ "$(accepted 1)" -gt 0 ] || skip "host 1's sshd log has no 'Accepted publickey' lines (LogLevel VERBOSE?)"

# ---- first apply from empty
mark
krec -v apply --app-version v1 --auto-approve || { show_out; fail "first apply failed"; }
check_run "first apply" 1 5 1 3
grep -qx "host $(bed_host 1): 5 SSH execs on 1 connection" "$out" &&
	grep -qx "host $(bed_host 2): 3 SSH execs on 1 connection" "$out" ||
	{ show_out; fail "kreconcile's own count differs from the bed's"; }
ok "first apply: 1 connection to each host; 5 execs on host 1 (the lock host), 3 on host 2"

# ---- a version change
mark
krec -v apply --app-version v2 --auto-approve || { show_out; fail "v2 apply failed"; }
grep -q 'Apply complete: 0 added, 2 changed, 0 destroyed.' "$out" || { show_out; fail "v2 summary"; }
check_run "version change" 1 5 1 3
ok "version change: 1 connection to each host; 5 execs on host 1 (the lock host), 3 on host 2"

# ---- nothing to do
mark
krec apply --app-version v2 --auto-approve || { show_out; fail "no-op apply failed"; }
grep -q 'No changes' "$out" || { show_out; fail "the no-op apply changed something"; }
check_run "no-op apply" 1 1 1 1
ok "no-op apply: 1 connection and 1 exec per host"

# ---- the connection to the lock host killed while apply waits for the lock
details=$(printf 'Locked by: Bob at 2026-01-01T00:00:00Z\nVersion: v0\nMessage: wait' | base64)
bed_ssh 1 "mkdir -p .kamal && mkdir .kamal/lock-sample && echo '$details' > .kamal/lock-sample/details"
mark
(cd "$proj" && exec "$KREC" -v apply --app-version v3 --auto-approve --lock-wait 30) >"$out" 2>&1 &
kpid=$!
# the first attempt at the lock (held) is in the exec log: the connection is open and idle
wait_for 30 sh -c "ls '$KR_TESTBED_DIR/h1/exec.d' | sort | tail -n +$((e1 + 1)) |
	while read -r f; do cat '$KR_TESTBED_DIR/h1/exec.d/'\$f; echo; done | grep -q 'KRL held'" ||
	{ kill "$kpid"; show_out; fail "apply never tried the lock"; }
sleep 0.5
sshd1=$(cat "$KR_TESTBED_DIR/h1/sshd.pid")
sessions=$(pgrep -P "$sshd1" || true)
[ "$(echo "$sessions" | wc -w)" = 1 ] ||
	{ kill "$kpid"; fail "want exactly kreconcile's session open on host 1, found: $sessions"; }
kill "$sessions"
bed_ssh 1 'rm .kamal/lock-sample/details && rm -r .kamal/lock-sample'
status=0
wait "$kpid" || status=$?
[ "$status" = 0 ] || { show_out; fail "apply failed after its connection was killed (exit $status)"; }
# the bed_ssh that released the lock by hand made one connection of its own
c1=$(($(accepted 1) - a1 - 1)) c2=$(($(accepted 2) - a2))
[ "$c1" = 2 ] && [ "$c2" = 1 ] || { show_out; fail "after a kill: $c1 connections to host 1, $c2 to host 2 (want 2 and 1)"; }
grep -qx "host $(bed_host 1): [0-9]* SSH execs on 2 connections" "$out" || { show_out; fail "kreconcile does not count 2 connections to host 1"; }
grep -q 'host .*: connection lost (.*); reconnecting' "$out" || { show_out; fail "the reconnect was not said"; }
[ "$(app_get 1 sample-web-v3 /version)" = "v3 hello" ] || fail "v3 not deployed after the reconnect"
bed_ssh 1 test -d .kamal/lock-sample && fail "our lock was left behind"
if command -v sqlite3 >/dev/null 2>&1; then
	sqlite3 "$proj/.kreconcile/state.db" "select address from journal where action = 'reconnect'" |
		grep -q '/connection$' || fail "the reconnect is not in the journal"
fi
ok "a connection killed while waiting for the lock: reconnected once (said and journaled), v3 applied"
