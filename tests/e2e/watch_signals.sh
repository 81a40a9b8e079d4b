#!/bin/sh
# kreconcile watch as a process: a second watcher on the same state database is refused with the
# first one's PID; SIGUSR1 reconciles at once; SIGTERM during an apply lets it finish, releases
# the deploy lock and exits 0; after kill -9 mid-apply the next watcher takes over the stale lock
# its predecessor left and converges.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
. "$(dirname "$0")/apply_lib.sh"
. "$(dirname "$0")/watch_lib.sh"
watch_setup
lock_held() { bed_ssh 1 test -d .kamal/lock-sample; }

a=$(git -C "$clone" rev-parse HEAD)
ci_image "$a" v1
watch_start --interval 2s --drift-interval 1h
wait_for 60 grep -q "commit $(echo $a | cut -c1-7) applied; hosts match" "$wlog" ||
	{ cat "$wlog" >&2; fail "startup deploy"; }

# ---- one watcher per state database
second=0
(cd "$proj" && "$KREC" watch --repo "$repo" --branch main) >"$proj/second" 2>&1 || second=$?
[ "$second" = 1 ] || fail "a second watcher exited $second"
grep -q "another watcher (PID $wpid) already watches" "$proj/second" || { cat "$proj/second" >&2; fail "no PID in the refusal"; }
ok "a second watcher is refused, naming PID $wpid"

# ---- SIGUSR1: a reconcile now (recorded as manual)
bed_docker 1 stop "sample-web-$a" >/dev/null
kill -USR1 "$wpid"
wait_for 30 running 1 "sample-web-$a" || { cat "$wlog" >&2; fail "SIGUSR1 did not reconcile"; }
wait_for 10 hist_has '"trigger":"manual"' || fail "no manual run in the history"
ok "SIGUSR1 reconciled at once (the stopped container runs again)"

# ---- SIGTERM in the middle of an apply
"$KR_TESTBED" delay 700 >/dev/null
b=$(commit "b")
ci_image "$b" v2
wait_for 60 lock_held || { cat "$wlog" >&2; fail "the apply of b never took the lock"; }
kill -TERM "$wpid"
wstatus=0
wait "$wpid" || wstatus=$?
wpid=
"$KR_TESTBED" delay 0 >/dev/null
[ "$wstatus" = 0 ] || { tail -20 "$wlog" >&2; fail "SIGTERM during apply: exit $wstatus"; }
lock_held && fail "the deploy lock is still held after SIGTERM"
grep -q 'watch: stopped' "$wlog" || fail "no word on stopping"
hist | grep -q '"finished_at": null' && fail "a run was left unfinished"
ok "SIGTERM during an apply: exit 0, lock released, every run finished"

# ---- kill -9 in the middle of an apply: the next watcher converges
watch_start --interval 2s --drift-interval 1h
"$KR_TESTBED" delay 700 >/dev/null
c=$(commit "c")
ci_image "$c" v3
wait_for 60 lock_held || { cat "$wlog" >&2; fail "the apply of c never took the lock"; }
kill -9 "$wpid"
wait "$wpid" 2>/dev/null || true
wpid=
"$KR_TESTBED" delay 0 >/dev/null
lock_held || fail "kill -9 left no lock (the test proves nothing)"
watch_start --interval 2s --drift-interval 1h
wait_for 90 grep -q "commit $(echo $c | cut -c1-7) applied; hosts match" "$wlog" ||
	{ tail -30 "$wlog" >&2; fail "the next watcher did not converge"; }
grep -q 'releasing a stale deploy lock' "$wlog" || fail "no word on the stale lock"
running 1 "sample-web-$c" || fail "c is not running"
n=$(names 1 | grep -c '^sample-web-' || true)
[ "$(bed_docker 1 ps --filter label=role=web -q | wc -l)" = 1 ] || fail "more than one web container runs"
lock_held && fail "the lock is held after converging"
ok "after kill -9 the next watcher released the stale lock and converged ($n web containers kept, 1 running)"
watch_stop
[ "$wstatus" = 0 ] || fail "exit $wstatus"

# ---- over the bed's sshd (git's own ssh), JSON log lines, SIGHUP
: >"$wlog"
export GIT_SSH_COMMAND="$KR_TESTBED_GIT_SSH_COMMAND"
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$proj" && exec "$KREC" watch --repo "ssh://root@$KR_TESTBED_HOST1$repo" --branch main \
	--interval 2s --drift-interval 1h --log-format json --listen "127.0.0.1:$port") >>"$wlog" 2>&1 &
wpid=$!
d=$(commit "d over ssh")
ci_image "$d" v1
wait_for 90 grep -q "commit $(echo $d | cut -c1-7) applied; hosts match" "$wlog" ||
	{ tail -20 "$wlog" >&2; fail "no deploy through git over ssh"; }
unset GIT_SSH_COMMAND
kill -HUP "$wpid"
wait_for 10 grep -q 'watch: settings: interval 2 s' "$wlog" || fail "SIGHUP did not read the settings again"
/usr/bin/python3 - "$wlog" <<'PY' || fail "the log is not one JSON object per line"
import json, sys
n = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert set(o) >= {"time", "level", "event", "message"}, o
    assert o["level"] in ("info", "error"), o
    n += 1
assert n > 5, n
PY
running 1 "sample-web-$d" || fail "d is not running"
ok "git over ssh (the bed's sshd), JSON log lines, SIGHUP re-read the settings"
watch_stop
[ "$wstatus" = 0 ] || fail "exit $wstatus"

# ---- notifications: a receiver on this machine gets each outcome as JSON with a Slack "text";
# a receiver that is down (port 9, discard: refused) is retried a bounded number of times and
# never holds the deploy back
: >"$wlog"
rport=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/bin/python3 - "$rport" "$proj/received" <<'PY' &
import http.server, sys
port, out = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(out, "ab") as f:
            f.write(body + b"\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
rpid=$!
trap 'kill "$rpid" 2>/dev/null; watch_kill; cp "$wlog" "${TMPDIR:-/tmp}/kr-$kr_test.log" 2>/dev/null; bed_reset 1 2; rm -rf "$proj"' EXIT
watch_start --interval 2s --drift-interval 1h --notify "http://127.0.0.1:$rport/hook" \
	--notify "http://127.0.0.1:9/down"
e=$(commit "e notified")
ci_image "$e" v2
wait_for 60 grep -q "commit $(echo $e | cut -c1-7) applied; hosts match" "$wlog" ||
	{ tail -20 "$wlog" >&2; fail "e not deployed with notifications on"; }
wait_for 20 grep -q "\"event\":\"applied\".*\"commit\":\"$e\"" "$proj/received" ||
	{ cat "$proj/received" >&2; fail "the receiver got no 'applied' event for e"; }
/usr/bin/python3 - "$proj/received" "$e" <<'PY' || fail "the event is not the documented JSON"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
e = [x for x in evs if x["event"] == "applied" and x["commit"] == sys.argv[2]][0]
assert e["format_version"] == "1.0" and e["branch"] == "main", e
assert "applied" in e["text"] and sys.argv[2][:12] in e["text"], e
PY
grep "\"event\":\"applied\".*\"commit\":\"$e\"" "$proj/received" | head -1 >"$proj/event.json"
python3 "$KR_SOURCE_DIR/tests/e2e/json_docs.py" "$KR_SOURCE_DIR/docs/json.md" notify "$proj/event.json" ||
	fail "the notification event differs from docs/json.md"
wait_for 20 grep -q 'notify http://127.0.0.1:9/...: .*(after 3 attempts)' "$wlog" ||
	{ tail -20 "$wlog" >&2; fail "no word on the receiver that is down"; }
ok "notifications: the receiver got the 'applied' event (JSON with text); a dead receiver was retried 3 times and logged"
watch_stop
[ "$wstatus" = 0 ] || fail "exit $wstatus"
kill "$rpid" 2>/dev/null || true
