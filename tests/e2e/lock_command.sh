#!/bin/sh
# kreconcile lock status|release|acquire on Kamal's deploy lock (.kamal/lock-sample on host 1):
# a lock made by hand exactly as Kamal makes it is shown decoded, blocks apply, and `lock release`
# removes it (journaled, audited); `lock acquire -m` takes it so apply refuses; SSH execs counted;
# a lock without a message (Kamal strips its details) reads "message (none)".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
. "$(dirname "$0")/apply_lib.sh"
apply_setup

lockdir=.kamal/lock-sample
db="$proj/.kreconcile/state.db"
pwned=/tmp/kr-lock-pwned-$$

# ---- no lock: status says so, in one exec
before=$(bed_execs 1)
krec lock status || { show_out; fail "lock status failed without a lock"; }
[ "$(grep -v '^host ' "$out")" = "not locked" ] || { show_out; fail "status without a lock"; }
[ "$(execs_since 1 "$before")" = 1 ] || fail "lock status took $(execs_since 1 "$before") execs"
(cd "$proj" && "$KREC" --json lock status) >"$out" 2>/dev/null || { show_out; fail "status --json"; }
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["format_version"] == "1.0" and d["command"] == "status", d
assert d["locked"] is False and d["holder"] is None and d["lock"] == ".kamal/lock-sample", d' "$out" ||
	{ show_out; fail "status --json without a lock"; }
krec lock release || { show_out; fail "lock release without a lock failed"; }
grep -q '^not locked$' "$out" || { show_out; fail "release without a lock does not say 'not locked'"; }
ok "no lock: status and release say 'not locked' (exit 0), status in 1 exec, --json has format_version"

# ---- a lock made by hand as Kamal makes it: mkdir, base64 details (Ruby's encode64 wraps at 60)
details=$(printf "Locked by: Alice O'Hara at 2026-01-01T00:00:00Z\nVersion: v9\nMessage: hotfix; \$(touch $pwned) in progress" | base64 -w 60)
bed_ssh 1 "mkdir -p .kamal && mkdir $lockdir && echo '$details' > $lockdir/details"
krec lock status || { show_out; fail "lock status failed with a lock"; }
expect="locked by Alice O'Hara at 2026-01-01T00:00:00Z, version v9, message hotfix; \$(touch $pwned) in progress"
[ "$(grep -v '^host ' "$out")" = "$expect" ] || { show_out; fail "status does not show the decoded holder"; }
(cd "$proj" && "$KREC" --json lock status) >"$out" 2>/dev/null || { show_out; fail "status --json"; }
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
h = d["holder"]
assert d["locked"] is True and h["locked_by"] == "Alice O'"'"'Hara" and h["version"] == "v9", d
assert h["locked_at"] == "2026-01-01T00:00:00Z" and h["message"].startswith("hotfix; $(touch "), d
assert h["details"].startswith("Locked by: Alice"), d' "$out" || { show_out; fail "status --json with a lock"; }
ok "a lock made as Kamal makes it: status shows the decoded holder, text and --json"

# ---- apply refuses under it, with the holder's details
status=0
krec apply --app-version v1 --auto-approve || status=$?
[ "$status" -ne 0 ] || { show_out; fail "apply went ahead under someone else's lock"; }
grep -q "Locked by: Alice O'Hara" "$out" && grep -q 'hotfix' "$out" ||
	{ show_out; fail "apply's refusal does not show the holder"; }
[ -z "$(cid 1 sample-web-v1)" ] || fail "apply changed host 1 under the lock"
ok "apply refuses under the hand-made lock (exit $status) with the holder's details"

# ---- lock release: removes it, says whose it was, journaled and audited
before=$(bed_execs 1)
export KR_PERFORMER=Bob
krec lock release || { show_out; fail "lock release failed"; }
grep -q "^released the deploy lock '$lockdir' on '$KR_TESTBED_HOST1': it was locked by Alice O'Hara at 2026-01-01T00:00:00Z, version v9, message hotfix" "$out" ||
	{ show_out; fail "release does not say whose lock it was"; }
[ "$(execs_since 1 "$before")" = 2 ] || fail "lock release took $(execs_since 1 "$before") execs (read + release)"
bed_ssh 1 test -e $lockdir && fail "the lock is still there after release"
[ -e "$pwned" ] && { rm -f "$pwned"; fail "the holder's message reached a shell"; }
bed_ssh 1 test -e "$pwned" && fail "the holder's message reached the host's shell"
bed_ssh 1 cat .kamal/sample-audit.log | grep -q "\[Bob\] Released the deploy lock (locked by Alice O'Hara at" ||
	{ bed_ssh 1 cat .kamal/sample-audit.log >&2; fail "no audit line for the release"; }
if command -v sqlite3 >/dev/null 2>&1; then
	[ "$(sqlite3 "$db" "select result from journal where action = 'release' and address = '$KR_TESTBED_HOST1/lock/sample' order by id desc limit 1")" = ok ] ||
		fail "the release is not journaled"
	sqlite3 "$db" "select stderr_tail from journal where action = 'release' order by id desc limit 1" |
		grep -q "Locked by: Alice O'Hara" || fail "the journal does not say whose lock was released"
fi
krec lock status && [ "$(grep -v '^host ' "$out")" = "not locked" ] || { show_out; fail "status after release"; }
krec apply --app-version v1 --auto-approve || { show_out; fail "apply after release failed"; }
[ "$(app_get 1 sample-web-v1 /version)" = "v1 hello" ] || fail "v1 not deployed after the release"
ok "lock release removes it in 2 execs, says whose it was, audits and journals it; apply then works"

# ---- lock acquire -m: taken as Kamal takes it; apply refuses; acquire again refuses
KR_PERFORMER=Carol
krec --app-version v7 lock acquire -m test || { show_out; fail "lock acquire failed"; }
grep -q "^acquired the deploy lock '$lockdir'" "$out" || { show_out; fail "acquire output"; }
got=$(bed_ssh 1 "base64 -d < $lockdir/details")
printf '%s\n' "$got" | head -1 | grep -Eq '^Locked by: Carol at [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' &&
	[ "$(printf '%s\n' "$got" | sed -n 2,3p | tr '\n' '|')" = "Version: v7|Message: test|" ] ||
	fail "the lock's details are not Kamal's: $got"
status=0
krec apply --app-version v2 --auto-approve || status=$?
[ "$status" -ne 0 ] || { show_out; fail "apply went ahead under lock acquire's lock"; }
grep -q 'Locked by: Carol' "$out" && grep -q 'Message: test' "$out" || { show_out; fail "apply's refusal: holder"; }
[ -z "$(cid 1 sample-web-v2)" ] || fail "apply changed host 1 under the acquired lock"
status=0
krec lock acquire -m again || status=$?
[ "$status" = 1 ] || { show_out; fail "acquire of a held lock: exit $status, not 1"; }
grep -q 'locked by Carol at .*, version v7, message test' "$out" || { show_out; fail "acquire does not show the holder"; }
[ "$(bed_ssh 1 "base64 -d < $lockdir/details" | sed -n 3p)" = "Message: test" ] || fail "the held lock was changed"
ok "lock acquire -m test takes it (Kamal's details); apply refuses; a second acquire exits 1 with the holder"

krec lock release || { show_out; fail "second release failed"; }
grep -q 'it was locked by Carol at .*, version v7, message test' "$out" || { show_out; fail "second release output"; }
bed_ssh 1 test -e $lockdir && fail "the lock is still there after the second release"
krec apply --app-version v2 --auto-approve || { show_out; fail "apply after the second release failed"; }
[ "$(app_get 1 sample-web-v2 /version)" = "v2 hello" ] || fail "v2 not deployed after the second release"
ok "released again: apply deploys v2"

# ---- Kamal strips the details: a deploy without a message leaves "Message:" with nothing after it
details=$(printf 'Locked by: Dave at 2026-02-02T00:00:00Z\nVersion: v2\nMessage:' | base64 -w 60)
bed_ssh 1 "mkdir $lockdir && echo '$details' > $lockdir/details"
krec lock status || { show_out; fail "lock status failed"; }
[ "$(grep -v '^host ' "$out")" = "locked by Dave at 2026-02-02T00:00:00Z, version v2, message (none)" ] ||
	{ show_out; fail "status of a lock without a message"; }
krec lock release && grep -q 'it was locked by Dave' "$out" || { show_out; fail "release of a lock without a message"; }
bed_ssh 1 test -e $lockdir && fail "the lock without a message is still there"
ok "a lock without a message (Kamal's stripped 'Message:') reads 'message (none)' and is released"
