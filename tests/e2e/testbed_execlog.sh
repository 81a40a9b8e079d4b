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

"$KR_TESTBED" delay 400
t0=$(date +%s%N)
bed_ssh 1 true
t1=$(date +%s%N)
"$KR_TESTBED" delay 0
bed_ssh 1 true
t2=$(date +%s%N)
[ $(((t1 - t0) / 1000000)) -ge 400 ] || fail "delay 400: exec took $(((t1 - t0) / 1000000)) ms"
[ $(((t2 - t1) / 1000000)) -lt 400 ] || fail "delay 0: exec took $(((t2 - t1) / 1000000)) ms"
ok "delay 400 ms: $(((t1 - t0) / 1000000)) ms per exec; delay 0: $(((t2 - t1) / 1000000)) ms"
