#!/bin/sh
# Every SSH exec on a host leaves exactly one record in its exec.log (commands with newlines
# included, the command kept byte for byte), and `testbed delay MS` delays each exec.
. "$(dirname "$0")/lib.sh"
trap '"$KR_TESTBED" delay 0' EXIT
before=$(bed_execs 1)
bed_ssh 1 true
cmd='printf "%s\n" one
echo two'
[ "$(bed_ssh 1 "$cmd")" = "one
two" ] || fail "multi-line command output"
bed_ssh 1 'exit 3' && fail "exit status not passed through"
after=$(bed_execs 1)
[ "$after" = $((before + 3)) ] || fail "3 execs made $((after - before)) records"
last=$(tail -n 2 "$KR_TESTBED_DIR/h1/exec.log" | head -n 1)
set -- $last
[ "$(cat "$KR_TESTBED_DIR/h1/exec.d/$1.$2")" = "$cmd" ] || fail "recorded command differs"
[ "$3" = "$(printf '%s' "$cmd" | wc -c)" ] || fail "recorded length $3"
ok "3 execs, 3 records, command kept"

# ms CMD...: milliseconds CMD takes.
ms() {
	t0=$(date +%s%N)
	"$@"
	echo $((($(date +%s%N) - t0) / 1000000))
}
"$KR_TESTBED" delay 1000
slow=$(ms bed_ssh 1 true)
"$KR_TESTBED" delay 0
[ ! -e "$KR_TESTBED_DIR/delay_ms" ] || fail "delay 0 left $KR_TESTBED_DIR/delay_ms"
fast=$(ms bed_ssh 1 true)
[ "$slow" -ge 1000 ] || fail "delay 1000: exec took $slow ms"
[ "$fast" -lt "$slow" ] || fail "delay 0: exec took $fast ms, with delay $slow ms"
ok "delay 1000 ms: $slow ms per exec; delay 0: $fast ms"
